//! Retry policy: bounded by count and total time, jittered exponential backoff, capped
//! server-asked waits.

use std::time::Duration;

/// When and how long to retry.
///
/// Retries happen on 429, 502, 503, 504, transport errors (connect, timeout, reset), a 403
/// that carries `Retry-After`, and whatever a client's
/// [`RetryClassifier`](super::RetryClassifier)s call retryable. A request is retried at most `max_retries` times
/// **and** never past `max_elapsed` since the first attempt: a wait that would end after the
/// budget is not slept, the last error is returned instead.
///
/// Without a server hint the wait is exponential (`initial_backoff · 2^n`, at most
/// `max_backoff`) with equal jitter (a random point in its upper half). A wait the server asked
/// for (`Retry-After`, or a classifier's wait such as "until the rate-limit reset") gets
/// 0–10 % positive jitter and is capped at `max_server_wait`.
///
/// ```
/// use std::time::Duration;
/// use soc2_evidence_core::http::RetryPolicy;
/// let fast = RetryPolicy {
///     max_retries: 3,
///     max_elapsed: Duration::from_secs(5),
///     initial_backoff: Duration::from_millis(10),
///     ..RetryPolicy::default()
/// };
/// assert_eq!(RetryPolicy::default().max_retries, 5);
/// assert_eq!(RetryPolicy::none().max_retries, 0);
/// # let _ = fast;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so at most `max_retries + 1` requests).
    pub max_retries: u32,
    /// Total time budget from the first attempt, including waits.
    pub max_elapsed: Duration,
    /// First backoff when the server gave no hint.
    pub initial_backoff: Duration,
    /// Largest backoff when the server gave no hint.
    pub max_backoff: Duration,
    /// Cap on a wait the server asked for (`Retry-After`, rate-limit reset).
    pub max_server_wait: Duration,
}

impl Default for RetryPolicy {
    /// 5 retries, 5 minutes in total, 500 ms initial backoff, 30 s largest backoff, server-asked
    /// waits capped at 120 s.
    fn default() -> Self {
        Self {
            max_retries: 5,
            max_elapsed: Duration::from_secs(300),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_server_wait: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The exponential backoff before retry number `retry` (1-based), with equal jitter.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(31);
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let half = base / 2;
        half + half.mul_f64(fastrand::f64())
    }

    /// A wait the server asked for, with 0–10 % positive jitter, capped at `max_server_wait`.
    pub(crate) fn server_wait(&self, asked: Duration) -> Duration {
        let jitter = asked.mul_f64(fastrand::f64() * 0.1);
        asked.saturating_add(jitter).min(self.max_server_wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let p = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let b1 = p.backoff(1);
            assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100));
            let b3 = p.backoff(3);
            assert!(b3 >= Duration::from_millis(200) && b3 <= Duration::from_millis(400));
            let b40 = p.backoff(40);
            assert!(b40 >= Duration::from_millis(500) && b40 <= Duration::from_millis(1000));
        }
    }

    #[test]
    fn server_wait_jitter_and_cap() {
        let p = RetryPolicy {
            max_server_wait: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let w = p.server_wait(Duration::from_secs(2));
            assert!(w >= Duration::from_secs(2) && w <= Duration::from_millis(2200));
        }
        assert_eq!(
            p.server_wait(Duration::from_secs(3600)),
            Duration::from_secs(10)
        );
        assert_eq!(p.server_wait(Duration::ZERO), Duration::ZERO);
    }
}
