//! Building an [`HttpClient`].

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT};
use url::Url;

use super::client::{HttpClient, Inner};
use super::{
    Auth, CredentialProvider, HttpError, Pacer, RetryClassifier, RetryPolicy, StaticToken,
};

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default `User-Agent`: `soc2-evidence/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("soc2-evidence/", env!("CARGO_PKG_VERSION"));

/// Configures an [`HttpClient`]; made by [`HttpClient::builder`].
///
/// Defaults: no credentials, a 30 s per-request timeout, [`RetryPolicy::default`],
/// `User-Agent: soc2-evidence/<version>`, `Accept: application/json`.
///
/// ```
/// use std::time::Duration;
/// use soc2_evidence_core::http::{Auth, HttpClient, RetryPolicy, Secret};
/// let github = HttpClient::builder("https://ghe.example.com/api/v3")
///     .auth(Auth::Bearer(Secret::new("ghp_example")))
///     .header("Accept", "application/vnd.github+json")
///     .header("X-GitHub-Api-Version", "2022-11-28")
///     .timeout(Duration::from_secs(20))
///     .retry(RetryPolicy { max_retries: 3, ..RetryPolicy::default() })
///     .build()
///     .unwrap();
/// assert_eq!(github.url("/repos/o/r").unwrap().as_str(), "https://ghe.example.com/api/v3/repos/o/r");
/// assert!(!format!("{github:?}").contains("ghp_example"));
/// ```
#[must_use]
pub struct HttpClientBuilder {
    base_url: String,
    credentials: Option<Arc<dyn CredentialProvider>>,
    /// A fixed credential that cannot be a header, reported by `build`.
    credentials_error: Option<HttpError>,
    timeout: Duration,
    retry: RetryPolicy,
    user_agent: String,
    headers: Vec<(String, String)>,
    classifiers: Vec<Box<dyn RetryClassifier>>,
    pacer: Option<Arc<Pacer>>,
}

impl std::fmt::Debug for HttpClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientBuilder")
            .field("base_url", &self.base_url)
            .field("credentials", &self.credentials)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("retry_classifiers", &self.classifiers.len())
            .field("pacer", &self.pacer.as_ref().map(|p| p.max_concurrency()))
            .finish_non_exhaustive()
    }
}

impl HttpClientBuilder {
    pub(crate) fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.to_string(),
            credentials: None,
            credentials_error: None,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            headers: Vec::new(),
            classifiers: Vec::new(),
            pacer: None,
        }
    }

    /// Authenticates with a fixed credential (a [`StaticToken`]); [`Auth::None`] removes any
    /// credentials. Credentials that cannot be sent as a header make
    /// [`build`](Self::build) fail.
    pub fn auth(mut self, auth: Auth) -> Self {
        let token = StaticToken::from_auth(&auth);
        self.credentials_error = token.as_ref().and_then(|t| t.validate().err());
        self.credentials = token.map(|t| Arc::new(t) as Arc<dyn CredentialProvider>);
        self
    }

    /// Authenticates with credentials that `provider` supplies per request and may renew,
    /// such as a [`GithubAppToken`](super::GithubAppToken); replaces [`auth`](Self::auth).
    /// Pass an `Arc` to share one provider (and its cached token) between clients.
    ///
    /// ```
    /// use soc2_evidence_core::http::{HttpClient, Secret, StaticToken};
    /// let client = HttpClient::builder("https://api.example.com")
    ///     .credentials(StaticToken::header("token", Secret::new("token abc123")))
    ///     .build()
    ///     .unwrap();
    /// assert!(!format!("{client:?}").contains("abc123"));
    /// ```
    pub fn credentials(mut self, provider: impl CredentialProvider + 'static) -> Self {
        self.credentials = Some(Arc::new(provider));
        self.credentials_error = None;
        self
    }

    /// Per-request timeout (each attempt; the retry budget bounds the total).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Adds a [`RetryClassifier`]: a vendor's rules for which responses to retry and when.
    /// Classifiers are asked in the order they were added; the first with an opinion wins,
    /// and the generic HTTP rules apply when none has one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use soc2_evidence_core::http::{HttpClient, HttpResponse, RetryDecision};
    /// // A service that answers 409 while an export is still being prepared.
    /// let client = HttpClient::builder("https://export.example.com")
    ///     .retry_classifier(|r: &HttpResponse| match r.status() {
    ///         409 => RetryDecision::RetryAfter(Duration::from_secs(5)),
    ///         _ => RetryDecision::Default,
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// ```
    pub fn retry_classifier(mut self, classifier: impl RetryClassifier + 'static) -> Self {
        self.classifiers.push(Box::new(classifier));
        self
    }

    /// Paces every request through `pacer`: each attempt waits for a permit, and each
    /// response's rate-limit headers steer how many may run at once. Share one pacer between
    /// clients that draw on one rate-limit bucket; see also
    /// [`HttpClient::with_pacer`] for a paced copy of a client that already exists.
    pub fn pacer(mut self, pacer: Arc<Pacer>) -> Self {
        self.pacer = Some(pacer);
        self
    }

    /// Replaces the `User-Agent`.
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.user_agent = user_agent.to_string();
        self
    }

    /// Adds a header sent with every request (replacing a default of the same name, such as
    /// `Accept`). Values are treated as sensitive and never logged. Invalid names or values
    /// make [`build`](Self::build) fail.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Builds the client. Fails when the base URL is not an absolute `http(s)` URL, a header is
    /// invalid or the TLS stack cannot start.
    pub fn build(self) -> Result<HttpClient, HttpError> {
        let base = parse_base(&self.base_url)?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in &self.headers {
            let n =
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| HttpError::InvalidConfig {
                    message: format!("invalid header name {name:?}"),
                })?;
            let mut v = HeaderValue::from_str(value).map_err(|_| HttpError::InvalidConfig {
                message: format!("invalid value for header {name:?}"),
            })?;
            v.set_sensitive(true);
            headers.insert(n, v);
        }
        if let Some(e) = self.credentials_error {
            return Err(e);
        }
        let http = reqwest::Client::builder()
            .user_agent(self.user_agent.as_str())
            .default_headers(headers)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| HttpError::InvalidConfig {
                message: format!("could not start the HTTP client: {}", e.without_url()),
            })?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                http,
                base,
                credentials: self.credentials,
                bare: std::sync::OnceLock::new(),
                timeout: self.timeout,
                retry: self.retry,
                classifiers: self.classifiers.into(),
                pacer: self.pacer,
            }),
        })
    }
}

fn parse_base(raw: &str) -> Result<Url, HttpError> {
    let invalid = |message: &str| HttpError::InvalidUrl {
        url: super::client::strip_query(raw),
        message: message.to_string(),
    };
    let url = Url::parse(raw.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid("the base URL must be an absolute http(s) URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("the base URL must not have a query or fragment"));
    }
    Ok(url)
}
