//! The retry-classifier hook: vendor rules for "is this response worth retrying, and when".

use std::time::Duration;

use super::HttpResponse;

/// What a [`RetryClassifier`] says about one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryDecision {
    /// No opinion: the next classifier, then the toolkit's generic rules, decide.
    Default,
    /// Final as it is: a 2xx is returned, any other status becomes its error at once.
    DoNotRetry,
    /// Retry after this wait, as if the server had sent it in `Retry-After`: it gets 0–10 %
    /// jitter and is capped by [`RetryPolicy::max_server_wait`](super::RetryPolicy). A zero
    /// wait (a reset already past) falls back to the exponential backoff.
    RetryAfter(Duration),
    /// Retry after the policy's jittered exponential backoff.
    Backoff,
}

/// A rule that recognises a vendor's way of saying "slow down" (or "this is final") in a
/// response, so the HTTP toolkit itself only has to know generic HTTP.
///
/// Classifiers are added with
/// [`HttpClientBuilder::retry_classifier`](super::HttpClientBuilder::retry_classifier) and are
/// asked in the order they were added about every response, successful or not; the first
/// answer other than [`RetryDecision::Default`] wins. Without an opinion the generic rules
/// apply: retry 429, 502, 503 and 504 (and a 403 carrying `Retry-After`), honouring
/// `Retry-After` in seconds or as an HTTP date; fail at once on anything else.
///
/// Retries a classifier asks for stay within the client's
/// [`RetryPolicy`](super::RetryPolicy) (count and total time). When they run out, the error
/// is [`HttpError::RateLimited`](super::HttpError::RateLimited) for a 2xx, 403 or 429,
/// [`HttpError::Server`](super::HttpError::Server) for a 5xx, and the status's usual error
/// otherwise.
///
/// Any `Fn(&HttpResponse) -> RetryDecision` is a classifier. Google APIs, for example, signal
/// per-user quotas with a 403 whose body names the reason:
///
/// ```
/// use soc2_evidence_core::http::{HttpClient, HttpResponse, RetryDecision};
///
/// fn google_quota(resp: &HttpResponse) -> RetryDecision {
///     let body = String::from_utf8_lossy(resp.body());
///     if resp.status() == 403
///         && (body.contains("userRateLimitExceeded") || body.contains("rateLimitExceeded"))
///     {
///         RetryDecision::Backoff
///     } else {
///         RetryDecision::Default
///     }
/// }
///
/// let client = HttpClient::builder("https://admin.googleapis.com")
///     .retry_classifier(google_quota)
///     .build()
///     .unwrap();
/// # let _ = client;
/// ```
pub trait RetryClassifier: Send + Sync {
    /// Classifies one response. It is called for every attempt, so keep it cheap: look at
    /// the status and headers first and at the body only when they make it worth it.
    fn classify(&self, response: &HttpResponse) -> RetryDecision;
}

impl<F> RetryClassifier for F
where
    F: Fn(&HttpResponse) -> RetryDecision + Send + Sync,
{
    fn classify(&self, response: &HttpResponse) -> RetryDecision {
        self(response)
    }
}
