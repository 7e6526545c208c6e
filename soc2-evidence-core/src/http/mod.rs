//! The HTTP toolkit that collectors (ours and plugin authors') build on.
//!
//! It gives every collector the same mechanics, so each one only has to know its API's
//! shapes: base-URL override, authentication, timeouts, bounded retries with jittered backoff
//! that honour `Retry-After` (and, through classifiers, vendor reset headers), `Link` and
//! cursor pagination, raw-body digests for provenance, secrets that never print, and typed
//! errors naming the endpoint.
//!
//! - [`HttpClient`] / [`HttpClientBuilder`]: base URL, credentials, timeout,
//!   [`RetryPolicy`], and [`RetryClassifier`]s that teach it a vendor's rate-limit signals.
//! - Credentials: a fixed [`Auth`] / [`StaticToken`], a [`GithubAppToken`] that mints and
//!   renews installation tokens, or any other [`CredentialProvider`].
//! - [`HttpResponse`]: status, headers, raw body, [`HttpResponse::json`],
//!   [`HttpResponse::links`], [`HttpResponse::rate_limit`].
//! - [`Pacer`]: opt-in concurrency that follows a vendor's rate-limit headers.
//! - [`LinkPager`] and [`CursorPager`]: pagination, recording each page into a
//!   [`ProvenanceRecorder`](crate::ProvenanceRecorder).
//! - [`HttpError`]: typed failures naming the endpoint (secrets redacted by [`redact_url`]).
//!
//! Logging goes through `tracing`: one `debug` event per request (method, redacted URL,
//! status, attempt) and a `warn` per retry with its wait. Headers and tokens are never logged.

mod auth;
mod builder;
mod classify;
mod client;
mod credentials;
mod error;
mod github_app;
mod link;
mod pacer;
mod pager;
mod rate_limit;
mod redact;
mod response;
mod retry;
mod secret;

pub use auth::Auth;
pub use builder::{HttpClientBuilder, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT};
pub use classify::{RetryClassifier, RetryDecision};
pub use client::HttpClient;
pub use credentials::{CredentialContext, CredentialProvider, StaticToken};
pub use error::HttpError;
pub use github_app::GithubAppToken;
pub use link::{parse_link_header, Link};
pub use pacer::{Pacer, PacerPermit, PacerStats};
pub use pager::{CursorPager, LinkPager};
pub use rate_limit::{RateLimitHeaders, RateLimitInfo};
pub use redact::redact_url;
/// Header types of the HTTP stack, as [`HttpResponse::headers`] and
/// [`HttpResponse::from_parts`] use them.
pub use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
pub use response::HttpResponse;
pub use retry::RetryPolicy;
pub use secret::Secret;
