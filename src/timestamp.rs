//! Trusted time-stamps from an RFC 3161 time-stamp authority over HTTP, for `bundle --tsa-url`
//! and `[bundle] tsa_url`. The protocol and the token checks live in
//! [`soc2_bundle::timestamp`]; this is the HTTP client.
//!
//! ```no_run
//! use soc2_evidence::bundle::timestamp::{request, verify_token, Timestamper};
//! use soc2_evidence::timestamp::HttpTsa;
//! let tsa = HttpTsa::new("https://freetsa.org/tsr").unwrap();
//! let query = request(b"the data");
//! let response = tsa.timestamp(&query.der).unwrap();
//! let ca = std::fs::read("freetsa-cacert.pem").unwrap();
//! let token = verify_token(&response, b"the data", &ca).unwrap();
//! println!("existed at {}", token.gen_time);
//! ```
//!
//! Some public TSAs: DigiCert (`http://timestamp.digicert.com`), Sectigo
//! (`http://timestamp.sectigo.com`), GlobalSign
//! (`http://timestamp.globalsign.com/tsa/r6advanced1`), FreeTSA (`https://freetsa.org/tsr`).
//! Fetch the CA certificate from the TSA's own site, not from the token.

use std::time::Duration;

use soc2_bundle::timestamp::{TimestampError, Timestamper};

/// How long one request may take before the TSA counts as unreachable.
const TIMEOUT: Duration = Duration::from_secs(30);

/// An RFC 3161 TSA reached by `POST` of `application/timestamp-query`.
#[derive(Clone)]
pub struct HttpTsa {
    url: url::Url,
}

impl std::fmt::Debug for HttpTsa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTsa")
            .field("url", &self.display_url())
            .finish()
    }
}

impl HttpTsa {
    /// A client for the TSA at `url` (http or https).
    pub fn new(url: &str) -> Result<HttpTsa, TimestampError> {
        let bad = |detail: String| TimestampError::Unreachable {
            url: redact(url),
            detail,
        };
        let parsed = url::Url::parse(url).map_err(|e| bad(format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad(
                "RFC 3161 over HTTP needs an http:// or https:// URL".into()
            ));
        }
        Ok(HttpTsa { url: parsed })
    }

    /// The URL without any password it holds, for messages.
    pub fn display_url(&self) -> String {
        redact(self.url.as_str())
    }

    async fn post(&self, query: Vec<u8>) -> Result<Vec<u8>, TimestampError> {
        let fail = |detail: String| TimestampError::Unreachable {
            url: self.display_url(),
            detail,
        };
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let response = client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/timestamp-query")
            .header(reqwest::header::ACCEPT, "application/timestamp-reply")
            .body(query)
            .send()
            .await
            .map_err(|e| fail(e.without_url().to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(fail(format!("HTTP {status}")));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| fail(e.without_url().to_string()))?;
        Ok(body.to_vec())
    }
}

impl Timestamper for HttpTsa {
    fn timestamp(&self, query: &[u8]) -> Result<Vec<u8>, TimestampError> {
        // Bundling is synchronous and may run inside or outside a runtime; a thread of its own
        // with a small runtime works in both.
        let query = query.to_vec();
        std::thread::scope(|s| {
            s.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| TimestampError::Unreachable {
                        url: self.display_url(),
                        detail: format!("could not start an async runtime: {e}"),
                    })?;
                rt.block_on(self.post(query))
            })
            .join()
            .unwrap_or_else(|_| {
                Err(TimestampError::Unreachable {
                    url: self.display_url(),
                    detail: "the request thread panicked".into(),
                })
            })
        })
    }
}

/// `url` with its password, if any, replaced by `***`.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => url.split('@').next_back().unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_the_url_never_shows() {
        let tsa = HttpTsa::new("https://user:s3cret@tsa.example/tsr").unwrap();
        assert!(!format!("{tsa:?}").contains("s3cret"));
        assert!(!tsa.display_url().contains("s3cret"));
        let err = HttpTsa::new("ftp://user:s3cret@tsa.example/").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn an_unreachable_tsa_is_named() {
        // Port 9 (discard) on loopback: nothing listens there.
        let tsa = HttpTsa::new("http://127.0.0.1:9/tsr").unwrap();
        let err = tsa.timestamp(b"q").unwrap_err();
        assert!(err.to_string().contains("127.0.0.1:9"), "{err}");
    }
}
