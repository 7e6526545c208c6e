//! Typed HTTP errors. Every variant names the endpoint (method and URL without secrets).

use std::time::Duration;

/// What went wrong talking to a source system.
///
/// `endpoint` is always `METHOD URL` with secret-looking query values replaced by
/// `[redacted]`; no variant ever carries a token. Body excerpts are short (at most a few
/// hundred bytes) so that an error message stays readable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// 401: the credentials were rejected.
    #[error("{endpoint}: 401 Unauthorized: the API token was rejected (check that it is valid and not expired){}", fmt_excerpt(.excerpt))]
    Unauthenticated {
        /// The endpoint.
        endpoint: String,
        /// Start of the response body.
        excerpt: String,
    },
    /// 403 without any sign of rate limiting: the token lacks a permission or scope.
    #[error("{endpoint}: 403 Forbidden: the token lacks permission for this endpoint{}", fmt_excerpt(.excerpt))]
    PermissionDenied {
        /// The endpoint.
        endpoint: String,
        /// Start of the response body.
        excerpt: String,
    },
    /// 404.
    #[error("{endpoint}: 404 Not Found{}", fmt_excerpt(.excerpt))]
    NotFound {
        /// The endpoint.
        endpoint: String,
        /// Start of the response body.
        excerpt: String,
    },
    /// Still rate limited when the retry budget (count or total time) ran out.
    #[error("{endpoint}: rate limited after {attempts} attempt(s){}", .retry_after.map(|d| format!("; the server asked to wait {}s more", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// The endpoint.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// How long the server last asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// A 5xx status, after retries where the status is retryable.
    #[error("{endpoint}: server error {status} after {attempts} attempt(s){}", fmt_excerpt(.excerpt))]
    Server {
        /// The endpoint.
        endpoint: String,
        /// HTTP status code.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// Start of the response body.
        excerpt: String,
    },
    /// Any other unexpected status (400, 409, 410, …); not retried.
    #[error("{endpoint}: unexpected status {status}{}", fmt_excerpt(.excerpt))]
    Status {
        /// The endpoint.
        endpoint: String,
        /// HTTP status code.
        status: u16,
        /// Start of the response body.
        excerpt: String,
    },
    /// Connection, TLS or timeout failure, after retries.
    #[error("{endpoint}: transport error after {attempts} attempt(s): {message}")]
    Transport {
        /// The endpoint.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// What the transport reported (never includes headers).
        message: String,
    },
    /// The body could not be decoded as the expected shape.
    #[error("{endpoint}: could not decode the response: {message}{}", fmt_excerpt(.excerpt))]
    Decode {
        /// The endpoint.
        endpoint: String,
        /// The decoder's message (with line/column for JSON).
        message: String,
        /// Start of the response body.
        excerpt: String,
    },
    /// A [`CredentialProvider`](super::CredentialProvider) could not obtain credentials,
    /// e.g. a GitHub App's installation-token request failed. Never carries the credential.
    #[error("{message}: {cause}")]
    Credentials {
        /// What was being obtained, from whom (no secret).
        message: String,
        /// The failure underneath (the token endpoint's error, say).
        cause: Box<HttpError>,
    },
    /// The client was configured with something unusable (a header name or value, credentials
    /// with characters not allowed in a header, a TLS setup failure).
    #[error("invalid HTTP client configuration: {message}")]
    InvalidConfig {
        /// What is wrong (never includes a secret).
        message: String,
    },
    /// A URL could not be built from the base URL and path.
    #[error("invalid URL {url:?}: {message}")]
    InvalidUrl {
        /// The URL or path as given.
        url: String,
        /// Why it is invalid.
        message: String,
    },
}

impl HttpError {
    /// The HTTP status behind this error, when there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Unauthenticated { .. } => Some(401),
            HttpError::PermissionDenied { .. } => Some(403),
            HttpError::NotFound { .. } => Some(404),
            HttpError::RateLimited { .. } => Some(429),
            HttpError::Server { status, .. } | HttpError::Status { status, .. } => Some(*status),
            HttpError::Credentials { cause, .. } => cause.status(),
            _ => None,
        }
    }

    /// The endpoint (`METHOD URL`, secrets redacted) the error is about, when known.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            HttpError::Unauthenticated { endpoint, .. }
            | HttpError::PermissionDenied { endpoint, .. }
            | HttpError::NotFound { endpoint, .. }
            | HttpError::RateLimited { endpoint, .. }
            | HttpError::Server { endpoint, .. }
            | HttpError::Status { endpoint, .. }
            | HttpError::Transport { endpoint, .. }
            | HttpError::Decode { endpoint, .. } => Some(endpoint),
            HttpError::Credentials { cause, .. } => cause.endpoint(),
            HttpError::InvalidUrl { .. } | HttpError::InvalidConfig { .. } => None,
        }
    }
}

fn fmt_excerpt(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(" (response began: {excerpt})")
    }
}
