//! The HTTP client: URL building, authentication, and the retry loop.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use reqwest::header::AUTHORIZATION;
use reqwest::Method;
use url::Url;

use super::builder::HttpClientBuilder;
use super::credentials::header_value;
use super::rate_limit::parse_retry_after;
use super::redact::{excerpt, redact_url};
use super::response::{endpoint_label, HttpResponse};
use super::{
    CredentialContext, CredentialProvider, HttpError, Pacer, RetryClassifier, RetryDecision,
    RetryPolicy, Secret,
};

/// An HTTP client for one source system: a base URL, authentication, a timeout and a retry
/// policy. Cheap to clone (the state is shared), `Send` and `Sync`.
///
/// Credentials come from a [`CredentialProvider`](super::CredentialProvider) (a fixed
/// [`Auth`](super::Auth) is one), asked before every attempt; after a 401 a provider that can
/// renew them gets one retry with fresh ones. They are sent only to the base URL's origin
/// (scheme, host and port): an absolute URL on another host, such as a foreign pagination
/// link, is requested without them.
///
/// Every request is retried per its [`RetryPolicy`] on 429, 502, 503, 504, transport errors
/// and a 403 that carries `Retry-After`, honouring `Retry-After` (seconds or an HTTP date);
/// 400, 401, 404 and a plain 403 fail at once with a typed [`HttpError`] naming the endpoint.
/// Vendors' own signals (GitHub's `x-ratelimit-*`, Okta's `X-Rate-Limit-Reset`, errors inside
/// a 200 body) are taught to a client with [`RetryClassifier`]s.
///
/// ```no_run
/// use soc2_evidence_core::http::{Auth, HttpClient, Secret};
/// use soc2_evidence_core::ProvenanceRecorder;
/// # async fn demo() -> Result<(), soc2_evidence_core::http::HttpError> {
/// let okta = HttpClient::builder("https://example.okta.com")
///     .auth(Auth::Ssws(Secret::from_env("OKTA_API_TOKEN").unwrap()))
///     .build()?;
/// let mut rec = ProvenanceRecorder::new("users", "okta.user", "Okta Management API", "okta", "0.1.0");
/// let resp = okta.get_recorded(&mut rec, "/api/v1/users", &[("limit", "200")]).await?;
/// let users: Vec<serde_json::Value> = resp.json()?;
/// rec.received("/api/v1/users", users.len() as u64);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HttpClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base: Url,
    pub(crate) credentials: Option<Arc<dyn CredentialProvider>>,
    /// This client without credentials or pacer, made on first use, for providers' token
    /// exchanges.
    pub(crate) bare: OnceLock<HttpClient>,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) classifiers: Arc<[Box<dyn RetryClassifier>]>,
    pub(crate) pacer: Option<Arc<Pacer>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("base_url", &redact_url(&self.inner.base))
            .field("credentials", &self.inner.credentials)
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .field("retry_classifiers", &self.inner.classifiers.len())
            .field(
                "pacer",
                &self.inner.pacer.as_ref().map(|p| p.max_concurrency()),
            )
            .finish_non_exhaustive()
    }
}

/// One request as the retry loop repeats it.
struct Request<'a> {
    method: Method,
    method_str: &'static str,
    url: Url,
    endpoint: String,
    body: Option<Vec<u8>>,
    /// Sent instead of the client's credentials (a provider's token exchange).
    authorization: Option<&'a Secret>,
}

/// What one attempt produced, before deciding whether to retry.
enum Outcome {
    Done(HttpResponse),
    Fail(HttpError),
    /// Worth retrying: the error to return if we give up, and the wait the server asked for.
    Retry {
        error: HttpError,
        server_wait: Option<Duration>,
        why: String,
    },
}

impl HttpClient {
    /// Starts configuring a client for the API at `base_url` (e.g. `https://example.okta.com`
    /// or `https://ghe.example.com/api/v3`). The URL is checked by
    /// [`HttpClientBuilder::build`].
    pub fn builder(base_url: &str) -> HttpClientBuilder {
        HttpClientBuilder::new(base_url)
    }

    /// The base URL requests are made against.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The retry policy in use.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// A copy of this client whose requests go through `pacer` (replacing any pacer it had).
    /// Everything else — connections, credentials, classifiers — is shared, so it is cheap:
    /// make one per rate-limit bucket, such as Okta's per-endpoint-family limits.
    ///
    /// ```
    /// use soc2_evidence_core::http::{HttpClient, Pacer, RateLimitHeaders};
    /// let okta = HttpClient::builder("https://acme.okta.com").build().unwrap();
    /// let factors = okta.with_pacer(Pacer::new(16, RateLimitHeaders::OKTA));
    /// let roles = okta.with_pacer(Pacer::new(16, RateLimitHeaders::OKTA));
    /// assert_eq!(factors.base_url(), roles.base_url());
    /// ```
    pub fn with_pacer(&self, pacer: Arc<Pacer>) -> HttpClient {
        self.derive(self.inner.credentials.clone(), Some(pacer))
    }

    /// A copy sharing everything but credentials and pacer.
    fn derive(
        &self,
        credentials: Option<Arc<dyn CredentialProvider>>,
        pacer: Option<Arc<Pacer>>,
    ) -> HttpClient {
        let i = &self.inner;
        HttpClient {
            inner: Arc::new(Inner {
                http: i.http.clone(),
                base: i.base.clone(),
                credentials,
                bare: OnceLock::new(),
                timeout: i.timeout,
                retry: i.retry.clone(),
                classifiers: Arc::clone(&i.classifiers),
                pacer,
            }),
        }
    }

    /// This client without credentials or pacer.
    fn bare(&self) -> &HttpClient {
        self.inner.bare.get_or_init(|| self.derive(None, None))
    }

    /// Resolves a path or URL: an absolute `http(s)` URL (such as a pagination `next` link) is
    /// taken as given; anything else is appended to the base URL's path, so with base
    /// `https://host/api/v3`, `/repos/x` becomes `https://host/api/v3/repos/x`. A query in the
    /// path is kept.
    ///
    /// ```
    /// use soc2_evidence_core::http::HttpClient;
    /// let c = HttpClient::builder("https://jira.example.com/jira/").build().unwrap();
    /// assert_eq!(c.url("rest/api/3/myself").unwrap().as_str(), "https://jira.example.com/jira/rest/api/3/myself");
    /// assert_eq!(c.url("https://other.example/x?a=1").unwrap().as_str(), "https://other.example/x?a=1");
    /// ```
    pub fn url(&self, path_or_url: &str) -> Result<Url, HttpError> {
        let invalid = |e: url::ParseError| HttpError::InvalidUrl {
            url: strip_query(path_or_url),
            message: e.to_string(),
        };
        match Url::parse(path_or_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => return Ok(url),
            // Anything else — a path, or `name:value` that merely looks like a scheme — is
            // relative to the base URL.
            Ok(_) | Err(url::ParseError::RelativeUrlWithoutBase) => {}
            Err(e) => return Err(invalid(e)),
        }
        // Joining onto a base that ends in `/` appends instead of replacing its last segment;
        // the `./` keeps a first segment with a colon from being read as a scheme.
        let mut base = self.inner.base.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        base.join(&format!("./{}", path_or_url.trim_start_matches('/')))
            .map_err(invalid)
    }

    fn url_with_query(&self, path_or_url: &str, query: &[(&str, &str)]) -> Result<Url, HttpError> {
        let mut url = self.url(path_or_url)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// `GET path_or_url` with `query` appended (percent-encoded), retried per the policy.
    pub async fn get(
        &self,
        path_or_url: &str,
        query: &[(&str, &str)],
    ) -> Result<HttpResponse, HttpError> {
        let url = self.url_with_query(path_or_url, query)?;
        self.execute(Method::GET, url, None, None).await
    }

    /// `POST path_or_url` with a JSON body (e.g. GraphQL, Jira search), retried per the policy.
    ///
    /// Meant for read-only queries sent as POST: it is retried like a GET, so do not use it
    /// for requests that change state on the server.
    pub async fn post_json(
        &self,
        path_or_url: &str,
        body: &serde_json::Value,
    ) -> Result<HttpResponse, HttpError> {
        self.post(path_or_url, body, None).await
    }

    /// Like [`post_json`](Self::post_json), with `authorization` as the whole `Authorization`
    /// header instead of the client's credentials (still only to the base URL's origin, and
    /// never renewed on a 401). For [`CredentialProvider`]s that trade one credential for
    /// another, such as a GitHub App's JWT for an installation token.
    ///
    /// ```no_run
    /// use soc2_evidence_core::http::{HttpClient, Secret};
    /// # async fn demo(github: HttpClient, jwt: Secret) -> Result<(), soc2_evidence_core::http::HttpError> {
    /// let bearer = Secret::new(format!("Bearer {}", jwt.expose()));
    /// let resp = github
    ///     .post_json_authorized("/app/installations/42/access_tokens", &serde_json::json!({}), &bearer)
    ///     .await?;
    /// # let _ = resp; Ok(()) }
    /// ```
    pub async fn post_json_authorized(
        &self,
        path_or_url: &str,
        body: &serde_json::Value,
        authorization: &Secret,
    ) -> Result<HttpResponse, HttpError> {
        self.post(path_or_url, body, Some(authorization)).await
    }

    async fn post(
        &self,
        path_or_url: &str,
        body: &serde_json::Value,
        authorization: Option<&Secret>,
    ) -> Result<HttpResponse, HttpError> {
        let url = self.url(path_or_url)?;
        let bytes = serde_json::to_vec(body).map_err(|e| HttpError::Decode {
            endpoint: endpoint_label("POST", &url),
            message: format!("could not encode the request body: {e}"),
            excerpt: String::new(),
        })?;
        self.execute(Method::POST, url, Some(bytes), authorization)
            .await
    }

    /// Like [`get`](Self::get), and records the page into `rec`: method, endpoint path (no
    /// query), the query parameters (secret-looking values redacted) and the raw body, which
    /// feeds the population's request counter and body digest.
    pub async fn get_recorded(
        &self,
        rec: &mut crate::ProvenanceRecorder,
        path_or_url: &str,
        query: &[(&str, &str)],
    ) -> Result<HttpResponse, HttpError> {
        let resp = self.get(path_or_url, query).await?;
        resp.record(rec, resp.url().path());
        Ok(resp)
    }

    /// Like [`post_json`](Self::post_json), and records the page into `rec` (see
    /// [`get_recorded`](Self::get_recorded)).
    pub async fn post_json_recorded(
        &self,
        rec: &mut crate::ProvenanceRecorder,
        path_or_url: &str,
        body: &serde_json::Value,
    ) -> Result<HttpResponse, HttpError> {
        let resp = self.post_json(path_or_url, body).await?;
        resp.record(rec, resp.url().path());
        Ok(resp)
    }

    /// Sends a request, retrying per the policy; `authorization` overrides the credentials.
    async fn execute(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        authorization: Option<&Secret>,
    ) -> Result<HttpResponse, HttpError> {
        let policy = &self.inner.retry;
        let method_str: &'static str = if method == Method::POST {
            "POST"
        } else {
            "GET"
        };
        let req = Request {
            method,
            method_str,
            endpoint: endpoint_label(method_str, &url),
            url,
            body,
            authorization,
        };
        let redacted = redact_url(&req.url);
        let started = Instant::now();
        let mut attempt: u32 = 0;
        let mut renewed = false;
        loop {
            attempt += 1;
            let (outcome, sent) = self.attempt(&req, attempt).await;
            let (error, server_wait, why) = match outcome {
                Outcome::Done(resp) => return Ok(resp),
                Outcome::Fail(e @ HttpError::Unauthenticated { .. }) => {
                    // Expired or revoked: one more try with credentials asked for afresh.
                    let provider = self.inner.credentials.as_ref();
                    match (provider, sent) {
                        (Some(p), Some(sent))
                            if !renewed && req.authorization.is_none() && p.invalidate(&sent) =>
                        {
                            renewed = true;
                            tracing::warn!(
                                method = method_str, url = %redacted, attempt,
                                scheme = p.scheme(),
                                "401 Unauthorized; retrying once with renewed credentials"
                            );
                            continue;
                        }
                        _ => return Err(e),
                    }
                }
                Outcome::Fail(e) => return Err(e),
                Outcome::Retry {
                    error,
                    server_wait,
                    why,
                } => (error, server_wait, why),
            };
            // The renewal after a 401 is not a failure retry: it does not use up the count.
            let retries = attempt - 1 - u32::from(renewed);
            if retries >= policy.max_retries {
                tracing::warn!(method = method_str, url = %redacted, attempt, "{why}; giving up: no retries left");
                return Err(error);
            }
            // A server-asked wait of zero (a reset already past, `Retry-After: 0`) falls back
            // to the exponential backoff so a skewed clock cannot make us hammer the server.
            let wait = match server_wait {
                Some(asked) if !asked.is_zero() => policy.server_wait(asked),
                _ => policy.backoff(retries + 1),
            };
            let elapsed = started.elapsed();
            if elapsed.saturating_add(wait) > policy.max_elapsed {
                tracing::warn!(
                    method = method_str, url = %redacted, attempt,
                    wait_ms = wait.as_millis() as u64,
                    "{why}; giving up: waiting would exceed the retry time budget"
                );
                return Err(error);
            }
            tracing::warn!(
                method = method_str, url = %redacted, attempt,
                wait_ms = wait.as_millis() as u64,
                "{why}; retrying after {:.1}s", wait.as_secs_f64()
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// The `Authorization` header for one attempt at `url`: the override, else the
    /// provider's, and nothing for a foreign origin.
    async fn credential_for(&self, req: &Request<'_>) -> Result<Option<Secret>, HttpError> {
        let inner = &self.inner;
        if req.url.origin() != inner.base.origin() {
            if req.authorization.is_some() || inner.credentials.is_some() {
                tracing::debug!(url = %redact_url(&req.url), "not sending credentials to a host other than the base URL's");
            }
            return Ok(None);
        }
        if let Some(explicit) = req.authorization {
            return Ok(Some(explicit.clone()));
        }
        match &inner.credentials {
            Some(p) => p
                .authorization(&CredentialContext::new(self.bare()))
                .await
                .map(Some),
            None => Ok(None),
        }
    }

    /// One attempt, classified, with the credential it sent (for a renewal after a 401).
    async fn attempt(&self, r: &Request<'_>, attempt: u32) -> (Outcome, Option<Secret>) {
        let inner = &self.inner;
        let (method_str, url, endpoint) = (r.method_str, &r.url, r.endpoint.as_str());
        let mut req = inner
            .http
            .request(r.method.clone(), url.clone())
            .timeout(inner.timeout);
        let credential = match self.credential_for(r).await {
            Ok(c) => c,
            Err(e) => return (Outcome::Fail(e), None),
        };
        if let Some(c) = &credential {
            let scheme = match (&r.authorization, &inner.credentials) {
                (None, Some(p)) => p.scheme(),
                _ => "explicit",
            };
            match header_value(c, scheme) {
                Ok(v) => req = req.header(AUTHORIZATION, v),
                Err(e) => return (Outcome::Fail(e), None),
            }
        }
        if let Some(b) = &r.body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.clone());
        }
        let transport = |e: reqwest::Error| {
            let message = transport_message(e);
            Outcome::Retry {
                why: format!("transport error: {message}"),
                error: HttpError::Transport {
                    endpoint: endpoint.to_string(),
                    attempts: attempt,
                    message,
                },
                server_wait: None,
            }
        };
        let permit = match &inner.pacer {
            Some(p) => Some(p.acquire().await),
            None => None,
        };
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(method = method_str, url = %redact_url(url), attempt, "request failed before a response");
                return (transport(e), credential);
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let final_url = resp.url().clone();
        tracing::debug!(method = method_str, url = %redact_url(url), status, attempt, "http response");
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return (transport(e), credential),
        };
        drop(permit);
        if let Some(p) = &inner.pacer {
            // Error statuses count too: a 429 says the most about the window.
            p.observe_headers(&headers);
        }
        let resp = HttpResponse {
            status,
            headers,
            url: final_url,
            body: bytes,
            method: method_str,
            endpoint: endpoint.to_string(),
        };
        let decision = inner
            .classifiers
            .iter()
            .map(|c| c.classify(&resp))
            .find(|d| *d != RetryDecision::Default)
            .unwrap_or(RetryDecision::Default);
        (classify(resp, decision, attempt), credential)
    }
}

/// Decides what a response means — success, a final error, or a retry with an optional
/// server-asked wait — from a classifier's decision, else from generic HTTP.
fn classify(resp: HttpResponse, decision: RetryDecision, attempts: u32) -> Outcome {
    let status = resp.status;
    match decision {
        RetryDecision::DoNotRetry => finish(resp, attempts),
        RetryDecision::RetryAfter(wait) => retry(resp, attempts, Some(wait)),
        RetryDecision::Backoff => retry(resp, attempts, None),
        RetryDecision::Default => {
            let retry_after = resp.header("retry-after").and_then(parse_retry_after);
            match status {
                429 | 502..=504 => retry(resp, attempts, retry_after),
                // A 403 asking to come back later is throttling (GitHub's secondary limit
                // says so this way), not a missing permission.
                403 if retry_after.is_some() => retry(resp, attempts, retry_after),
                _ => finish(resp, attempts),
            }
        }
    }
}

/// A retry, carrying the error to return if the budget runs out.
fn retry(resp: HttpResponse, attempts: u32, server_wait: Option<Duration>) -> Outcome {
    let status = resp.status;
    let (why, error) = match status {
        200..=299 | 403 | 429 => (
            format!("rate limited ({status})"),
            HttpError::RateLimited {
                endpoint: resp.endpoint,
                attempts,
                retry_after: server_wait,
            },
        ),
        500..=599 => (
            format!("server error {status}"),
            status_error(&resp, attempts),
        ),
        _ => (format!("status {status}"), status_error(&resp, attempts)),
    };
    Outcome::Retry {
        error,
        server_wait,
        why,
    }
}

/// The response as it stands: a 2xx is done, anything else is its status's error.
fn finish(resp: HttpResponse, attempts: u32) -> Outcome {
    if (200..=299).contains(&resp.status) {
        Outcome::Done(resp)
    } else {
        Outcome::Fail(status_error(&resp, attempts))
    }
}

/// The error a non-2xx status stands for.
fn status_error(resp: &HttpResponse, attempts: u32) -> HttpError {
    let endpoint = resp.endpoint.clone();
    let excerpt = excerpt(&resp.body);
    match resp.status {
        401 => HttpError::Unauthenticated { endpoint, excerpt },
        403 => HttpError::PermissionDenied { endpoint, excerpt },
        404 => HttpError::NotFound { endpoint, excerpt },
        429 => HttpError::RateLimited {
            endpoint,
            attempts,
            retry_after: resp.header("retry-after").and_then(parse_retry_after),
        },
        status @ 500..=599 => HttpError::Server {
            endpoint,
            status,
            attempts,
            excerpt,
        },
        status => HttpError::Status {
            endpoint,
            status,
            excerpt,
        },
    }
}

/// A URL-ish string safe to show when it could not be parsed: user info and query dropped.
pub(crate) fn strip_query(raw: &str) -> String {
    let mut out = match raw.split_once('?') {
        Some((head, _)) => format!("{head}?[query omitted]"),
        None => raw.to_string(),
    };
    if let Some(at) = out.find('@') {
        if let Some(scheme_end) = out.find("://") {
            if scheme_end < at {
                out.replace_range(scheme_end + 3..=at, "");
            }
        }
    }
    out
}

/// A transport error's message and causes, without the URL (which may hold a secret).
fn transport_message(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out: "
    } else if e.is_connect() {
        "could not connect: "
    } else {
        ""
    };
    let e = e.without_url();
    let mut msg = format!("{kind}{e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_query_hides_userinfo_and_query() {
        assert_eq!(
            strip_query("https://u:p@h/x?token=t"),
            "https://h/x?[query omitted]"
        );
        assert_eq!(strip_query("/a b"), "/a b");
        assert_eq!(strip_query("me@example.com"), "me@example.com");
    }

    #[test]
    fn paths_are_joined_below_the_base_path() {
        let c = |base: &str| HttpClient::builder(base).build().unwrap();
        let ghe = c("https://ghe.example.com/api/v3");
        assert_eq!(
            ghe.url("/repos/o/r?per_page=100").unwrap().as_str(),
            "https://ghe.example.com/api/v3/repos/o/r?per_page=100"
        );
        assert_eq!(
            ghe.url("rest:thing/x").unwrap().as_str(),
            "https://ghe.example.com/api/v3/rest:thing/x",
            "a colon in the first segment is not a scheme"
        );
        assert_eq!(
            c("http://127.0.0.1:8080").url("x").unwrap().as_str(),
            "http://127.0.0.1:8080/x"
        );
        assert_eq!(
            ghe.url("HTTPS://Other.example/n").unwrap().as_str(),
            "https://other.example/n"
        );
    }

    #[test]
    fn client_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<HttpClient>();
        assert_send_sync::<super::super::HttpResponse>();
    }
}
