//! Jira Cloud's rate-limit signal, taught to the HTTP toolkit as a [`RetryClassifier`].

use soc2_evidence_core::http::{HttpResponse, RateLimitHeaders, RetryClassifier, RetryDecision};

/// Jira Cloud's 429 (and some 503s): `Retry-After` when present, which the toolkit honours
/// anyway; otherwise `X-RateLimit-Reset` (ISO 8601, `2026-03-12T10:05Z`) when Jira sends it;
/// otherwise exponential backoff, as Atlassian advises for the 429s that carry no hint.
///
/// ```
/// use soc2_collectors::jira::JiraRetry;
/// use soc2_evidence_core::http::{HeaderMap, HttpResponse, RetryClassifier, RetryDecision};
/// let url = url::Url::parse("https://acme.atlassian.net/rest/api/3/search/jql").unwrap();
/// let bare = HttpResponse::from_parts("GET", url, 429, HeaderMap::new(), "");
/// assert_eq!(JiraRetry.classify(&bare), RetryDecision::Default); // backoff
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct JiraRetry;

impl RetryClassifier for JiraRetry {
    fn classify(&self, resp: &HttpResponse) -> RetryDecision {
        if !matches!(resp.status(), 429 | 503) {
            return RetryDecision::Default;
        }
        let info = RateLimitHeaders::JIRA.read(resp.headers());
        match (info.retry_after, info.until_reset()) {
            (None, Some(wait)) => RetryDecision::RetryAfter(wait),
            _ => RetryDecision::Default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use soc2_evidence_core::http::HeaderMap;
    use std::time::Duration;

    #[test]
    fn an_iso_reset_is_waited_for_when_there_is_no_retry_after() {
        let reset = (Utc::now() + chrono::Duration::seconds(90))
            .format("%Y-%m-%dT%H:%MZ")
            .to_string();
        let mut h = HeaderMap::new();
        h.insert("X-RateLimit-Reset", reset.parse().unwrap());
        let url = url::Url::parse("https://acme.atlassian.net/rest/api/3/myself").unwrap();
        let r = HttpResponse::from_parts("GET", url.clone(), 429, h.clone(), "");
        // Minute granularity: somewhere in the next 90 s.
        assert!(
            matches!(JiraRetry.classify(&r), RetryDecision::RetryAfter(w) if w <= Duration::from_secs(90))
        );
        h.insert("Retry-After", "1".parse().unwrap());
        let r = HttpResponse::from_parts("GET", url, 429, h, "");
        assert_eq!(JiraRetry.classify(&r), RetryDecision::Default);
    }
}
