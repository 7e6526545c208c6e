//! Rate-limit headers of Okta, GitHub and Jira, read into one shape.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use reqwest::header::HeaderMap;

/// What a response said about rate limiting.
///
/// Read from `X-Rate-Limit-Limit/-Remaining/-Reset` (Okta, reset in epoch seconds),
/// `x-ratelimit-limit/-remaining/-reset` (GitHub, epoch seconds), `X-RateLimit-*` (Jira, whose
/// reset is ISO 8601 such as `2026-03-12T10:05Z`) and `Retry-After` (seconds or an HTTP date).
///
/// ```
/// use soc2_evidence_core::http::RateLimitInfo;
/// let mut h = reqwest::header::HeaderMap::new();
/// h.insert("x-rate-limit-remaining", "0".parse().unwrap());
/// h.insert("x-rate-limit-reset", "1767225600".parse().unwrap());
/// h.insert("retry-after", "7".parse().unwrap());
/// let info = RateLimitInfo::from_headers(&h);
/// assert_eq!(info.remaining, Some(0));
/// assert_eq!(info.reset.unwrap().to_rfc3339(), "2026-01-01T00:00:00+00:00");
/// assert_eq!(info.retry_after, Some(std::time::Duration::from_secs(7)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitInfo {
    /// Requests allowed in the current window.
    pub limit: Option<u64>,
    /// Requests left in the current window.
    pub remaining: Option<u64>,
    /// When the window resets.
    pub reset: Option<DateTime<Utc>>,
    /// How long the server asked us to wait (`Retry-After`), measured from when the headers
    /// were read; an HTTP date in the past gives zero.
    pub retry_after: Option<Duration>,
}

/// Which headers carry a vendor's rate-limit window, for a
/// [`RetryClassifier`](super::RetryClassifier) that should read one vendor's headers and no
/// other's. Names are matched case-insensitively. A reset may be epoch seconds
/// or ISO 8601 (Jira's `2026-03-12T10:05Z`); `Retry-After` is always read too.
///
/// ```
/// use soc2_evidence_core::http::RateLimitHeaders;
/// let mut h = reqwest::header::HeaderMap::new();
/// h.insert("X-Rate-Limit-Remaining", "12".parse().unwrap());
/// h.insert("x-ratelimit-remaining", "4999".parse().unwrap());
/// assert_eq!(RateLimitHeaders::OKTA.read(&h).remaining, Some(12));
/// assert_eq!(RateLimitHeaders::GITHUB.read(&h).remaining, Some(4999));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// Requests allowed in the window.
    pub limit: &'static str,
    /// Requests left in the window.
    pub remaining: &'static str,
    /// When the window resets.
    pub reset: &'static str,
}

impl RateLimitHeaders {
    /// Okta: `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining`, `X-Rate-Limit-Reset` (epoch s).
    pub const OKTA: Self = Self {
        limit: "x-rate-limit-limit",
        remaining: "x-rate-limit-remaining",
        reset: "x-rate-limit-reset",
    };
    /// GitHub: `x-ratelimit-limit`, `x-ratelimit-remaining`, `x-ratelimit-reset` (epoch s).
    pub const GITHUB: Self = Self {
        limit: "x-ratelimit-limit",
        remaining: "x-ratelimit-remaining",
        reset: "x-ratelimit-reset",
    };
    /// Jira Cloud: `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset`
    /// (ISO 8601) — GitHub's names, another reset format.
    pub const JIRA: Self = Self::GITHUB;

    /// Reads these headers (and `Retry-After`) from a response's headers.
    pub fn read(&self, headers: &HeaderMap) -> RateLimitInfo {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        RateLimitInfo {
            limit: get(self.limit).and_then(|v| v.parse().ok()),
            remaining: get(self.remaining).and_then(|v| v.parse().ok()),
            reset: get(self.reset).and_then(parse_reset),
            retry_after: get("retry-after").and_then(parse_retry_after),
        }
    }
}

impl RateLimitInfo {
    /// Reads the rate-limit headers of a response, whichever vendor's family they are
    /// (Okta's first); [`RateLimitHeaders::read`] reads one family only.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let get = |names: &[&str]| {
            names.iter().find_map(|n| {
                headers
                    .get(*n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
            })
        };
        Self {
            limit: get(&["x-rate-limit-limit", "x-ratelimit-limit"]).and_then(|v| v.parse().ok()),
            remaining: get(&["x-rate-limit-remaining", "x-ratelimit-remaining"])
                .and_then(|v| v.parse().ok()),
            reset: get(&["x-rate-limit-reset", "x-ratelimit-reset"]).and_then(parse_reset),
            retry_after: get(&["retry-after"]).and_then(parse_retry_after),
        }
    }

    /// Whether the window is used up (`remaining` is 0).
    pub fn exhausted(&self) -> bool {
        self.remaining == Some(0)
    }

    /// Time from now until `reset`, zero when it has passed; `None` without a reset.
    pub fn until_reset(&self) -> Option<Duration> {
        self.reset
            .map(|r| (r - Utc::now()).to_std().unwrap_or(Duration::ZERO))
    }
}

/// Parses a reset header: epoch seconds (Okta, GitHub; fractions allowed) or ISO 8601 (Jira,
/// `yyyy-MM-ddTHH:mmZ`, also with seconds or an offset).
pub(crate) fn parse_reset(value: &str) -> Option<DateTime<Utc>> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<i64>() {
        return Utc.timestamp_opt(secs, 0).single();
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Utc.timestamp_opt(secs.floor() as i64, 0).single();
        }
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(v) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%MZ",
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%dT%H:%M:%S%.fZ",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(v, fmt) {
            return Some(n.and_utc());
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(v, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    None
}

/// Parses `Retry-After`: delay seconds or an HTTP date (past dates give zero).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_formats() {
        let epoch = parse_reset("1767225600").unwrap();
        assert_eq!(epoch.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert_eq!(parse_reset("2026-01-01T00:00Z"), Some(epoch));
        assert_eq!(parse_reset("2026-01-01T00:00:00Z"), Some(epoch));
        assert_eq!(parse_reset("2026-01-01T01:00:00+01:00"), Some(epoch));
        assert_eq!(parse_reset("2026-01-01T00:00:00.000Z"), Some(epoch));
        assert_eq!(parse_reset("1767225600.5"), Some(epoch));
        assert_eq!(parse_reset("soon"), None);
    }

    #[test]
    fn retry_after_formats() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let d = parse_retry_after(&later).unwrap();
        assert!(d <= Duration::from_secs(30) && d >= Duration::from_secs(28));
        assert_eq!(parse_retry_after("later"), None);
    }

    #[test]
    fn header_families() {
        let mut h = HeaderMap::new();
        h.insert("X-RateLimit-Limit", "100".parse().unwrap());
        h.insert("X-RateLimit-Remaining", "3".parse().unwrap());
        h.insert("X-RateLimit-Reset", "2026-03-12T10:05Z".parse().unwrap());
        let i = RateLimitInfo::from_headers(&h);
        assert_eq!((i.limit, i.remaining), (Some(100), Some(3)));
        assert_eq!(i.reset.unwrap().to_rfc3339(), "2026-03-12T10:05:00+00:00");
        assert!(!i.exhausted());
        assert_eq!(i.retry_after, None);
        assert_eq!(
            RateLimitInfo::from_headers(&HeaderMap::new()),
            RateLimitInfo::default()
        );
    }
}
