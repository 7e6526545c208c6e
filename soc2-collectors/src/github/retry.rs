//! GitHub's rate-limit signals, taught to the HTTP toolkit as a [`RetryClassifier`].

use std::time::Duration;

use serde::Deserialize;
use soc2_evidence_core::http::{HttpResponse, RateLimitHeaders, RetryClassifier, RetryDecision};

/// The wait for a secondary rate limit that names no time: GitHub asks for at least a minute.
/// The client's `max_server_wait` still caps it.
pub const SECONDARY_LIMIT_MIN_WAIT: Duration = Duration::from_secs(60);

/// GitHub's rate limits, as its REST and GraphQL APIs signal them:
///
/// - **primary** (403 or 429 with `x-ratelimit-remaining: 0`): wait until `x-ratelimit-reset`;
/// - **secondary** (403 or 429 saying "secondary rate limit"): wait `retry-after` when given,
///   else until the reset when the window is used up, else at least
///   [`SECONDARY_LIMIT_MIN_WAIT`];
/// - **GraphQL** (200 whose `errors` have `type: RATE_LIMITED`, which no status shows): wait
///   `retry-after`, else until the reset, else a minute.
///
/// Any other 403 is left alone, so it fails at once as a missing permission.
///
/// ```
/// use soc2_collectors::github::GithubRetry;
/// use soc2_evidence_core::http::{HttpResponse, RetryClassifier, RetryDecision};
/// let url = url::Url::parse("https://api.github.com/graphql").unwrap();
/// let limited = HttpResponse::from_parts(
///     "POST", url.clone(), 200, Default::default(),
///     r#"{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded"}]}"#,
/// );
/// assert_eq!(GithubRetry.classify(&limited), RetryDecision::RetryAfter(std::time::Duration::from_secs(60)));
/// let fine = HttpResponse::from_parts("POST", url, 200, Default::default(), r#"{"data":{}}"#);
/// assert_eq!(GithubRetry.classify(&fine), RetryDecision::Default);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct GithubRetry;

impl RetryClassifier for GithubRetry {
    fn classify(&self, resp: &HttpResponse) -> RetryDecision {
        let info = || RateLimitHeaders::GITHUB.read(resp.headers());
        match resp.status() {
            403 | 429 => {
                let info = info();
                if let Some(wait) = info.retry_after {
                    return RetryDecision::RetryAfter(wait);
                }
                if info.exhausted() {
                    // A reset already past (a skewed clock) gives zero: backoff instead.
                    return info
                        .until_reset()
                        .map_or(RetryDecision::Backoff, RetryDecision::RetryAfter);
                }
                if mentions_secondary_limit(resp.body()) {
                    return RetryDecision::RetryAfter(SECONDARY_LIMIT_MIN_WAIT);
                }
                RetryDecision::Default
            }
            200 if is_graphql(resp) && graphql_rate_limited(resp.body()) => {
                let info = info();
                RetryDecision::RetryAfter(
                    info.retry_after
                        .or_else(|| info.until_reset())
                        .unwrap_or(SECONDARY_LIMIT_MIN_WAIT),
                )
            }
            _ => RetryDecision::Default,
        }
    }
}

/// "You have exceeded a secondary rate limit", in the first few KiB of the body.
fn mentions_secondary_limit(body: &[u8]) -> bool {
    let head = &body[..body.len().min(4096)];
    String::from_utf8_lossy(head)
        .to_ascii_lowercase()
        .contains("secondary rate limit")
}

/// `POST …/graphql` (github.com) or `…/api/graphql` (GitHub Enterprise Server).
fn is_graphql(resp: &HttpResponse) -> bool {
    resp.method() == "POST"
        && resp
            .url()
            .path()
            .trim_end_matches('/')
            .ends_with("/graphql")
}

#[derive(Deserialize)]
struct ErrorsOnly {
    #[serde(default)]
    errors: Vec<GqlError>,
}

#[derive(Deserialize)]
struct GqlError {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// Whether a GraphQL body's `errors` say the points ran out (`RATE_LIMITED`, or the older
/// `RATE_LIMIT`). The body is parsed only when the word appears in it at all, so ordinary
/// pages cost one scan.
fn graphql_rate_limited(body: &[u8]) -> bool {
    const NEEDLE: &[u8] = b"RATE_LIMIT";
    if !body.windows(NEEDLE.len()).any(|w| w == NEEDLE) {
        return false;
    }
    serde_json::from_slice::<ErrorsOnly>(body).is_ok_and(|r| {
        r.errors
            .iter()
            .any(|e| matches!(e.kind.as_deref(), Some("RATE_LIMITED" | "RATE_LIMIT")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use soc2_evidence_core::http::{HeaderMap, HeaderName};

    fn resp(status: u16, headers: &[(&str, &str)], body: &str, path: &str) -> HttpResponse {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let url = url::Url::parse(&format!("https://api.github.com{path}")).unwrap();
        let method = if path.ends_with("graphql") {
            "POST"
        } else {
            "GET"
        };
        HttpResponse::from_parts(method, url, status, map, body.to_string())
    }

    fn wait_secs(d: RetryDecision) -> Option<u64> {
        match d {
            RetryDecision::RetryAfter(w) => Some((w.as_secs_f64()).round() as u64),
            _ => None,
        }
    }

    #[test]
    fn primary_limit_waits_until_reset() {
        let reset = (Utc::now().timestamp() + 10).to_string();
        let r = resp(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset),
            ],
            r#"{"message":"API rate limit exceeded"}"#,
            "/repos/o/r",
        );
        // The reset has whole seconds: 9–10 s from now.
        let w = wait_secs(GithubRetry.classify(&r)).unwrap();
        assert!((9..=10).contains(&w), "{w}");
        let r = resp(429, &[("x-ratelimit-remaining", "0")], "", "/repos/o/r");
        assert_eq!(GithubRetry.classify(&r), RetryDecision::Backoff);
    }

    #[test]
    fn secondary_limit_precedence() {
        let reset = (Utc::now().timestamp() + 10).to_string();
        let body = r#"{"message":"You have exceeded a secondary rate limit."}"#;
        // retry-after wins over everything.
        let r = resp(
            403,
            &[
                ("retry-after", "3"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset),
            ],
            body,
            "/search",
        );
        assert_eq!(wait_secs(GithubRetry.classify(&r)), Some(3));
        // Quota left and no hint: at least a minute.
        let r = resp(403, &[("x-ratelimit-remaining", "4100")], body, "/search");
        assert_eq!(wait_secs(GithubRetry.classify(&r)), Some(60));
    }

    #[test]
    fn a_plain_403_and_other_statuses_are_left_to_the_toolkit() {
        let r = resp(
            403,
            &[("x-ratelimit-remaining", "4999")],
            r#"{"message":"Resource not accessible by integration"}"#,
            "/repos/o/r/rulesets",
        );
        assert_eq!(GithubRetry.classify(&r), RetryDecision::Default);
        assert_eq!(
            GithubRetry.classify(&resp(503, &[], "", "/x")),
            RetryDecision::Default
        );
        // A REST body that happens to say RATE_LIMITED is data, not an error.
        let r = resp(
            200,
            &[],
            r#"[{"title":"RATE_LIMITED"}]"#,
            "/repos/o/r/pulls",
        );
        assert_eq!(GithubRetry.classify(&r), RetryDecision::Default);
    }

    #[test]
    fn graphql_rate_limited_in_a_200_body() {
        let limited = r#"{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for user ID 1."}]}"#;
        let r = resp(200, &[("retry-after", "1")], limited, "/graphql");
        assert_eq!(wait_secs(GithubRetry.classify(&r)), Some(1));
        let r = resp(
            200,
            &[],
            r#"{"errors":[{"type":"RATE_LIMIT"}]}"#,
            "/api/graphql",
        );
        assert_eq!(wait_secs(GithubRetry.classify(&r)), Some(60));
        // Other GraphQL errors, and data that mentions the word, are not throttling.
        let r = resp(
            200,
            &[],
            r#"{"errors":[{"type":"NOT_FOUND","message":"RATE_LIMIT"}]}"#,
            "/graphql",
        );
        assert_eq!(GithubRetry.classify(&r), RetryDecision::Default);
        let r = resp(200, &[], r#"{"data":{"t":"RATE_LIMITED"}}"#, "/graphql");
        assert_eq!(GithubRetry.classify(&r), RetryDecision::Default);
    }
}
