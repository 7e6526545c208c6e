//! A fully read HTTP response.

use bytes::Bytes;
use reqwest::header::HeaderMap;
use url::Url;

use super::redact::{excerpt, redact_url};
use super::{parse_link_header, HttpError, Link, RateLimitInfo};

/// A response whose body has been read in full. The client returns only successful (2xx)
/// ones; [`RetryClassifier`](super::RetryClassifier)s see every attempt's.
///
/// Its `Debug` shows the status, the redacted URL and the body length — never headers or the
/// body, so it is safe to log.
///
/// ```no_run
/// # async fn demo(client: soc2_evidence_core::http::HttpClient) -> Result<(), soc2_evidence_core::http::HttpError> {
/// let resp = client.get("/api/v1/users", &[("limit", "200")]).await?;
/// let users: Vec<serde_json::Value> = resp.json()?;
/// if let Some(next) = resp.next_link() {
///     println!("{} users on this page, more at {next}", users.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) url: Url,
    pub(crate) body: Bytes,
    pub(crate) method: &'static str,
    pub(crate) endpoint: String,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("endpoint", &self.endpoint)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl HttpResponse {
    /// A response put together from its parts, for testing a
    /// [`RetryClassifier`](super::RetryClassifier) without a server.
    ///
    /// ```
    /// use soc2_evidence_core::http::{HeaderMap, HttpResponse};
    /// let mut headers = HeaderMap::new();
    /// headers.insert("retry-after", "7".parse().unwrap());
    /// let url = url::Url::parse("https://api.example.com/x?token=t").unwrap();
    /// let resp = HttpResponse::from_parts("GET", url, 429, headers, "slow down");
    /// assert_eq!((resp.status(), resp.header("Retry-After")), (429, Some("7")));
    /// assert_eq!(resp.endpoint(), "GET https://api.example.com/x?token=[redacted]");
    /// ```
    pub fn from_parts(
        method: &'static str,
        url: Url,
        status: u16,
        headers: HeaderMap,
        body: impl Into<Bytes>,
    ) -> Self {
        Self {
            status,
            endpoint: endpoint_label(method, &url),
            headers,
            url,
            body: body.into(),
            method,
        }
    }

    /// HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The final URL (after redirects). It may carry query secrets: use
    /// [`redact_url`](super::redact_url) before printing it.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The HTTP method of the request (`GET`, `POST`).
    pub fn method(&self) -> &str {
        self.method
    }

    /// `METHOD URL` with secrets redacted, as used in errors and logs.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The raw body, exactly as received.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The raw body as shared bytes (cheap to clone).
    pub fn bytes(&self) -> Bytes {
        self.body.clone()
    }

    /// Every header of the response.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of header `name` (case-insensitive), if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of header `name`, in order — needed when a header is sent on several lines
    /// (Okta sends one `Link` line per link).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// Decodes the body as JSON. On failure gives [`HttpError::Decode`] naming the endpoint,
    /// with serde's message (line and column) and the start of the body.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|e| HttpError::Decode {
            endpoint: self.endpoint.clone(),
            message: e.to_string(),
            excerpt: excerpt(&self.body),
        })
    }

    /// Every link from **all** `Link` header lines, relative targets resolved against
    /// [`url`](Self::url).
    pub fn links(&self) -> Vec<Link> {
        self.header_all("link")
            .into_iter()
            .flat_map(|v| parse_link_header(v, &self.url))
            .collect()
    }

    /// The target of the first `rel="next"` link, if any.
    pub fn next_link(&self) -> Option<Url> {
        self.links()
            .into_iter()
            .find(|l| l.has_rel("next"))
            .map(|l| l.url)
    }

    /// The rate-limit headers of this response.
    pub fn rate_limit(&self) -> RateLimitInfo {
        RateLimitInfo::from_headers(&self.headers)
    }

    /// The query parameters of the request URL, secret-looking values redacted (for provenance).
    pub(crate) fn redacted_params(&self) -> Vec<(String, String)> {
        self.url
            .query_pairs()
            .map(|(k, v)| {
                let v = super::redact::redact_param_value(&k, &v).to_string();
                (k.into_owned(), v)
            })
            .collect()
    }

    /// Records this response as one page into `rec` under `endpoint` (a path without query,
    /// or a label such as `/api/v1/users?filter=DEPROVISIONED`), with the request's query
    /// parameters (secret-looking values redacted) and the raw body. For pages fetched
    /// ahead of time, before the recorder is at hand; otherwise the `*_recorded` requests and
    /// the pagers do it.
    pub fn record(&self, rec: &mut crate::ProvenanceRecorder, endpoint: &str) {
        let params = self.redacted_params();
        let refs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        rec.page(self.method, endpoint, &refs, &self.body);
    }
}

/// `METHOD URL` with secrets redacted.
pub(crate) fn endpoint_label(method: &str, url: &Url) -> String {
    format!("{method} {}", redact_url(url))
}
