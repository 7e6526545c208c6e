//! Concurrency that follows a vendor's rate-limit headers, so a burst of requests slows down
//! *before* the window is used up instead of collecting 429s after it.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{RateLimitHeaders, RateLimitInfo};

/// The longest the pacer waits for a window to reset (a wrong clock must not stall a run).
const MAX_PAUSE: Duration = Duration::from_secs(120);

#[derive(Debug)]
struct State {
    allowed: usize,
    in_flight: usize,
    paused_until: Option<Instant>,
    lowest_allowed: usize,
    pauses: u64,
}

/// Adaptive concurrency for one rate-limit bucket (Okta keeps one per endpoint family,
/// GitHub one per resource), opted into with
/// [`HttpClientBuilder::pacer`](super::HttpClientBuilder::pacer) or
/// [`HttpClient::with_pacer`](super::HttpClient::with_pacer).
///
/// Each request takes a permit, and every response's remaining count (read from the
/// [`RateLimitHeaders`] the pacer was made with) resizes how many permits exist: full
/// concurrency while plenty remains, about half the headroom when it runs low, and, once only
/// a small reserve is left (5 % of the limit, at least 2, kept for the org's other API
/// clients), no new request until the reset plus jitter (at most two minutes). The retry on
/// 429 stays as the safety net.
///
/// ```
/// use std::sync::Arc;
/// use soc2_evidence_core::http::{HttpClient, Pacer, RateLimitHeaders};
/// let factors = Pacer::new(16, RateLimitHeaders::OKTA);
/// let okta = HttpClient::builder("https://acme.okta.com")
///     .pacer(Arc::clone(&factors))
///     .build()
///     .unwrap();
/// // ... run up to 16 requests at a time through `okta`; afterwards:
/// let stats = factors.stats();
/// assert_eq!((stats.lowest_allowed, stats.pauses), (16, 0));
/// # let _ = okta;
/// ```
#[derive(Debug)]
pub struct Pacer {
    max: usize,
    headers: RateLimitHeaders,
    state: Mutex<State>,
    notify: Notify,
}

/// A permission to have one request in flight; released on drop.
#[must_use = "the request may start only while the permit is held"]
#[derive(Debug)]
pub struct PacerPermit {
    pacer: Arc<Pacer>,
}

impl Drop for PacerPermit {
    fn drop(&mut self) {
        {
            let mut s = self.pacer.lock();
            s.in_flight = s.in_flight.saturating_sub(1);
        }
        self.pacer.notify.notify_waiters();
    }
}

/// What a pacer did, for provenance notes ("slowed to 3 of 16, paused twice") and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PacerStats {
    /// The lowest concurrency it allowed.
    pub lowest_allowed: usize,
    /// How many times it paused for a window reset.
    pub pauses: u64,
}

impl Pacer {
    /// A pacer allowing at most `max_concurrency` requests in flight (at least 1), steered by
    /// the `headers` of each response.
    pub fn new(max_concurrency: usize, headers: RateLimitHeaders) -> Arc<Self> {
        let max = max_concurrency.max(1);
        Arc::new(Self {
            max,
            headers,
            state: Mutex::new(State {
                allowed: max,
                in_flight: 0,
                paused_until: None,
                lowest_allowed: max,
                pauses: 0,
            }),
            notify: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a few counters; a panic while holding the lock cannot leave it
        // inconsistent in a way that matters, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The most requests it lets run at once.
    pub fn max_concurrency(&self) -> usize {
        self.max
    }

    /// The headers it reads.
    pub fn headers(&self) -> RateLimitHeaders {
        self.headers
    }

    /// Waits until a request may start. A client with this pacer calls it for every attempt.
    pub async fn acquire(self: &Arc<Self>) -> PacerPermit {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let pause = {
                let mut s = self.lock();
                match s.paused_until {
                    Some(until) if Instant::now() < until => Some(until),
                    _ => {
                        s.paused_until = None;
                        if s.in_flight < s.allowed {
                            s.in_flight += 1;
                            return PacerPermit {
                                pacer: Arc::clone(self),
                            };
                        }
                        None
                    }
                }
            };
            match pause {
                Some(until) => tokio::time::sleep_until(until).await,
                None => notified.await,
            }
        }
    }

    /// Adjusts to a response's headers, read with the pacer's [`RateLimitHeaders`]. A client
    /// with this pacer calls it for every response, error statuses included.
    pub fn observe_headers(&self, headers: &HeaderMap) {
        self.observe(&self.headers.read(headers));
    }

    /// Adjusts to a response's rate-limit window. A response without a remaining count
    /// changes nothing.
    pub fn observe(&self, info: &RateLimitInfo) {
        let Some(remaining) = info.remaining else {
            return;
        };
        let limit = info.limit.unwrap_or(0);
        // Leave 5 % of the window (at least 2 requests) to the org's other API clients.
        let reserve = (limit / 20).max(2);
        let headroom = remaining.saturating_sub(reserve);
        let max = self.max as u64;
        let allowed = if headroom >= 2 * max {
            self.max
        } else {
            // Requests already in flight will each spend one; halving the headroom keeps them
            // from overshooting the reserve.
            (headroom / 2).clamp(1, max) as usize
        };
        {
            let mut s = self.lock();
            s.allowed = allowed;
            s.lowest_allowed = s.lowest_allowed.min(allowed);
            if remaining <= reserve {
                let wait = info.until_reset().unwrap_or(Duration::from_secs(1));
                let jitter = wait.mul_f64(fastrand::f64() * 0.1) + Duration::from_millis(50);
                let until = Instant::now() + (wait + jitter).min(MAX_PAUSE);
                if s.paused_until.is_none_or(|p| p < until) {
                    s.paused_until = Some(until);
                    s.pauses += 1;
                }
            }
        }
        self.notify.notify_waiters();
    }

    /// What it did so far.
    pub fn stats(&self) -> PacerStats {
        let s = self.lock();
        PacerStats {
            lowest_allowed: s.lowest_allowed,
            pauses: s.pauses,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn info(limit: u64, remaining: u64, reset_in_ms: i64) -> RateLimitInfo {
        RateLimitInfo {
            limit: Some(limit),
            remaining: Some(remaining),
            reset: Some(Utc::now() + chrono::Duration::milliseconds(reset_in_ms)),
            retry_after: None,
        }
    }

    #[tokio::test]
    async fn full_speed_while_plenty_remains() {
        let p = Pacer::new(8, RateLimitHeaders::OKTA);
        p.observe(&info(600, 500, 60_000));
        let permits: Vec<_> = futures::future::join_all((0..8).map(|_| p.acquire())).await;
        assert_eq!(permits.len(), 8);
        assert_eq!(p.stats().lowest_allowed, 8);
    }

    #[tokio::test]
    async fn narrows_as_the_window_runs_low() {
        let p = Pacer::new(8, RateLimitHeaders::OKTA);
        // limit 600: reserve 30; 40 remaining leaves headroom 10 → 5 at a time.
        p.observe(&info(600, 40, 60_000));
        let held: Vec<_> = futures::future::join_all((0..5).map(|_| p.acquire())).await;
        let sixth = tokio::time::timeout(Duration::from_millis(50), p.acquire()).await;
        assert!(sixth.is_err(), "a sixth request must wait");
        drop(held);
        let _ = tokio::time::timeout(Duration::from_millis(50), p.acquire())
            .await
            .expect("a permit frees up");
        assert_eq!(p.stats().lowest_allowed, 5);
    }

    #[tokio::test]
    async fn pauses_until_reset_when_only_the_reserve_is_left() {
        let p = Pacer::new(4, RateLimitHeaders::OKTA);
        p.observe(&info(600, 30, 300));
        let started = std::time::Instant::now();
        let _permit = p.acquire().await;
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(200), "waited {waited:?}");
        assert!(waited < Duration::from_secs(3), "waited {waited:?}");
        assert_eq!(p.stats().pauses, 1);
        // Fresh window: back to full speed.
        p.observe(&info(600, 599, 60_000));
        let all: Vec<_> = futures::future::join_all((0..3).map(|_| p.acquire())).await;
        assert_eq!(all.len(), 3);
    }

    #[tokio::test]
    async fn reads_only_its_own_vendors_headers() {
        let p = Pacer::new(8, RateLimitHeaders::GITHUB);
        let mut h = HeaderMap::new();
        h.insert("X-Rate-Limit-Limit", "600".parse().unwrap());
        h.insert("X-Rate-Limit-Remaining", "40".parse().unwrap());
        p.observe_headers(&h);
        assert_eq!(
            p.stats().lowest_allowed,
            8,
            "Okta's headers are not GitHub's"
        );
        h.insert("x-ratelimit-limit", "5000".parse().unwrap());
        h.insert("x-ratelimit-remaining", "260".parse().unwrap());
        p.observe_headers(&h);
        // reserve 250: headroom 10 → 5 at a time.
        assert_eq!(p.stats().lowest_allowed, 5);
    }

    #[tokio::test]
    async fn responses_without_headers_change_nothing() {
        let p = Pacer::new(3, RateLimitHeaders::OKTA);
        p.observe(&RateLimitInfo::default());
        assert_eq!(p.stats().lowest_allowed, 3);
    }
}
