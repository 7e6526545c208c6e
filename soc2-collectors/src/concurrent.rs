//! Reporting failures of requests that run concurrently (Okta's per-user calls, Jira's
//! per-ticket calls).
//!
//! When several requests in flight fail at once, which one the collector sees first depends
//! on timing, and reporting only that one can name a different endpoint from run to run, or
//! not the one that broke first. So a collector stops starting new requests at the first
//! failure, waits for those in flight, and reports the failure of the request it *sent*
//! first, naming every other endpoint that failed alongside it.

use soc2_evidence_core::http::HttpError;
use soc2_evidence_core::CollectError;

/// At most this many other failed endpoints are listed in the message.
const MAX_LISTED: usize = 64;

/// The error for a batch of failed requests, each with its send order: the first sent,
/// passed through `explain`, and the endpoints of the others. `None` when nothing failed.
pub(crate) fn first_failure(
    mut failures: Vec<(usize, HttpError)>,
    explain: impl Fn(HttpError) -> CollectError,
) -> Option<CollectError> {
    failures.sort_by_key(|(order, _)| *order);
    let mut rest = failures.into_iter().map(|(_, e)| e);
    let first = rest.next()?;
    let first_endpoint = first.endpoint().map(str::to_string);
    let mut others: Vec<String> = Vec::new();
    for e in rest {
        let endpoint = e.endpoint().unwrap_or("?").to_string();
        if Some(&endpoint) != first_endpoint.as_ref() && !others.contains(&endpoint) {
            others.push(endpoint);
        }
    }
    let first = explain(first);
    if others.is_empty() {
        return Some(first);
    }
    let n = others.len();
    let mut listed = others
        .into_iter()
        .take(MAX_LISTED)
        .collect::<Vec<_>>()
        .join(", ");
    if n > MAX_LISTED {
        listed.push_str(&format!(" and {} more", n - MAX_LISTED));
    }
    Some(CollectError::Source(format!(
        "{first}; {n} other request(s) in flight at the same time failed too: {listed}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(path: &str) -> HttpError {
        HttpError::Server {
            endpoint: format!("GET http://x{path}"),
            status: 500,
            attempts: 1,
            excerpt: String::new(),
        }
    }

    #[test]
    fn the_first_sent_leads_and_the_others_are_named() {
        assert!(first_failure(Vec::new(), CollectError::Http).is_none());
        let one = first_failure(vec![(3, server_error("/a"))], CollectError::Http).unwrap();
        assert!(
            matches!(one, CollectError::Http(_)),
            "a lone failure keeps its type"
        );
        let many = first_failure(
            vec![
                (7, server_error("/late")),
                (2, server_error("/first")),
                (5, server_error("/late")),
            ],
            CollectError::Http,
        )
        .unwrap()
        .to_string();
        assert!(
            many.starts_with("GET http://x/first: server error 500"),
            "{many}"
        );
        assert!(many.contains("1 other request(s)"), "{many}");
        assert!(many.ends_with("GET http://x/late"), "{many}");
    }
}
