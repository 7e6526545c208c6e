//! Okta's rate-limit signal, taught to the HTTP toolkit as a [`RetryClassifier`].

use soc2_evidence_core::http::{HttpResponse, RateLimitHeaders, RetryClassifier, RetryDecision};

/// Okta's 429: it usually comes without `Retry-After`, but `X-Rate-Limit-Reset` (epoch
/// seconds) says when the window reopens, so wait until then rather than guess with backoff.
/// A `Retry-After`, when Okta does send one, is honoured by the toolkit as usual.
///
/// ```
/// use soc2_collectors::okta::OktaRetry;
/// use soc2_evidence_core::http::{HeaderMap, HttpResponse, RetryClassifier, RetryDecision};
/// let mut h = HeaderMap::new();
/// h.insert("X-Rate-Limit-Remaining", "0".parse().unwrap());
/// h.insert("X-Rate-Limit-Reset", (chrono::Utc::now().timestamp() + 30).to_string().parse().unwrap());
/// let url = url::Url::parse("https://acme.okta.com/api/v1/users").unwrap();
/// let r = HttpResponse::from_parts("GET", url, 429, h, r#"{"errorCode":"E0000047"}"#);
/// assert!(matches!(OktaRetry.classify(&r), RetryDecision::RetryAfter(w) if w.as_secs() >= 28));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct OktaRetry;

impl RetryClassifier for OktaRetry {
    fn classify(&self, resp: &HttpResponse) -> RetryDecision {
        if resp.status() != 429 {
            return RetryDecision::Default;
        }
        let info = RateLimitHeaders::OKTA.read(resp.headers());
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

    fn resp(status: u16, headers: &[(&'static str, String)]) -> HttpResponse {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, v.parse().unwrap());
        }
        let url = url::Url::parse("https://acme.okta.com/api/v1/users").unwrap();
        HttpResponse::from_parts("GET", url, status, map, "")
    }

    #[test]
    fn waits_until_the_epoch_reset_unless_told_otherwise() {
        let reset = (Utc::now().timestamp() + 5).to_string();
        match OktaRetry.classify(&resp(429, &[("x-rate-limit-reset", reset.clone())])) {
            RetryDecision::RetryAfter(w) => {
                assert!(w <= Duration::from_secs(5) && w >= Duration::from_secs(3))
            }
            d => panic!("unexpected {d:?}"),
        }
        // A reset already past gives zero, which the toolkit turns into backoff.
        let past = (Utc::now().timestamp() - 5).to_string();
        assert_eq!(
            OktaRetry.classify(&resp(429, &[("x-rate-limit-reset", past)])),
            RetryDecision::RetryAfter(Duration::ZERO)
        );
        // Retry-After, no reset, or another status: the toolkit's rules.
        let both = [
            ("x-rate-limit-reset", reset.clone()),
            ("retry-after", "2".to_string()),
        ];
        assert_eq!(
            OktaRetry.classify(&resp(429, &both)),
            RetryDecision::Default
        );
        assert_eq!(OktaRetry.classify(&resp(429, &[])), RetryDecision::Default);
        assert_eq!(
            OktaRetry.classify(&resp(403, &[("x-rate-limit-reset", reset)])),
            RetryDecision::Default
        );
    }
}
