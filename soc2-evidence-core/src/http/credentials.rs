//! Credential providers: where a client's `Authorization` header comes from.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::header::HeaderValue;
use zeroize::Zeroizing;

use super::{Auth, HttpClient, HttpError, Secret};

/// Supplies the `Authorization` header of a client's requests, and renews it when the server
/// rejects it. Set with
/// [`HttpClientBuilder::credentials`](super::HttpClientBuilder::credentials);
/// [`HttpClientBuilder::auth`](super::HttpClientBuilder::auth) wraps a fixed [`Auth`] in a
/// [`StaticToken`].
///
/// The client asks for the header before **every attempt** (a retry after a long wait may
/// need a fresh token), so [`authorization`](Self::authorization) should answer from a cache
/// and only occasionally do real work. Credentials go only to the client's base-URL origin.
///
/// On a 401 the client calls [`invalidate`](Self::invalidate) with the header it sent and, if
/// that returns `true`, retries the request once at once with a newly asked-for header —
/// outside the retry policy's count, since it is a renewal rather than a failure. A second 401
/// is final.
///
/// Whatever a provider returns or keeps must stay out of `Debug` output, errors and logs.
///
/// ```
/// use std::sync::Mutex;
/// use soc2_evidence_core::async_trait;
/// use soc2_evidence_core::http::{CredentialContext, CredentialProvider, HttpClient, HttpError, Secret};
///
/// /// A token some other part of the program rotates.
/// #[derive(Debug)]
/// struct Rotating(Mutex<Secret>);
///
/// #[async_trait]
/// impl CredentialProvider for Rotating {
///     async fn authorization(&self, _ctx: &CredentialContext<'_>) -> Result<Secret, HttpError> {
///         let token = self.0.lock().unwrap_or_else(|p| p.into_inner());
///         Ok(Secret::new(format!("Bearer {}", token.expose())))
///     }
///     fn scheme(&self) -> &str {
///         "bearer"
///     }
/// }
///
/// let client = HttpClient::builder("https://api.example.com")
///     .credentials(Rotating(Mutex::new(Secret::new("t-1"))))
///     .build()
///     .unwrap();
/// # let _ = client;
/// ```
#[async_trait]
pub trait CredentialProvider: Send + Sync + fmt::Debug {
    /// The complete `Authorization` header value for the next request (e.g.
    /// `Bearer ghs_…`). Errors fail the request without retries.
    async fn authorization(&self, ctx: &CredentialContext<'_>) -> Result<Secret, HttpError>;

    /// The server answered 401 to `rejected` (a value [`authorization`](Self::authorization)
    /// returned): forget it if it is still cached. Returns whether asking again may give a
    /// different, working header — worth one retry. Many requests can be rejected at once, so
    /// compare with the cache rather than clear it blindly. The default, for credentials that
    /// cannot change, is `false`.
    fn invalidate(&self, rejected: &Secret) -> bool {
        let _ = rejected;
        false
    }

    /// The scheme's name for messages and diagnostics (`bearer`, `github-app`, …).
    fn scheme(&self) -> &str;
}

#[async_trait]
impl<P: CredentialProvider + ?Sized> CredentialProvider for Arc<P> {
    async fn authorization(&self, ctx: &CredentialContext<'_>) -> Result<Secret, HttpError> {
        (**self).authorization(ctx).await
    }

    fn invalidate(&self, rejected: &Secret) -> bool {
        (**self).invalidate(rejected)
    }

    fn scheme(&self) -> &str {
        (**self).scheme()
    }
}

/// What a [`CredentialProvider`] may use to obtain credentials.
#[derive(Debug, Clone, Copy)]
pub struct CredentialContext<'a> {
    client: &'a HttpClient,
}

impl<'a> CredentialContext<'a> {
    pub(crate) fn new(client: &'a HttpClient) -> Self {
        Self { client }
    }

    /// The requesting client without its credentials or pacer — same base URL, headers,
    /// timeout, retry policy and classifiers — for token exchanges, typically with
    /// [`HttpClient::post_json_authorized`].
    pub fn client(&self) -> &'a HttpClient {
        self.client
    }
}

/// A fixed `Authorization` header: what [`Auth`] describes, as a [`CredentialProvider`].
/// It cannot be renewed, so a 401 is final.
///
/// ```
/// use soc2_evidence_core::http::{Auth, HttpClient, Secret, StaticToken};
/// let t = StaticToken::basic("me@example.com", &Secret::new("jira-token"));
/// assert_eq!(format!("{t:?}"), r#"StaticToken { scheme: "basic", value: [redacted] }"#);
/// let same = StaticToken::from_auth(&Auth::Basic {
///     username: "me@example.com".into(),
///     password: Secret::new("jira-token"),
/// });
/// assert!(same.is_some() && StaticToken::from_auth(&Auth::None).is_none());
/// let jira = HttpClient::builder("https://acme.atlassian.net").credentials(t).build().unwrap();
/// # let _ = jira;
/// ```
#[derive(Clone)]
pub struct StaticToken {
    scheme: String,
    value: Secret,
}

impl StaticToken {
    /// `Authorization: Bearer <token>`.
    pub fn bearer(token: &Secret) -> Self {
        Self::header("bearer", Secret::new(format!("Bearer {}", token.expose())))
    }

    /// `Authorization: SSWS <token>` (Okta API tokens).
    pub fn ssws(token: &Secret) -> Self {
        Self::header("ssws", Secret::new(format!("SSWS {}", token.expose())))
    }

    /// `Authorization: Basic base64(username:password)`.
    pub fn basic(username: &str, password: &Secret) -> Self {
        Self::header("basic", basic_value(username, password))
    }

    /// Any other scheme: `value` is the complete header value (e.g. `token abc…`), `scheme`
    /// its name for messages.
    pub fn header(scheme: &str, value: Secret) -> Self {
        Self {
            scheme: scheme.to_string(),
            value,
        }
    }

    /// The header an [`Auth`] describes; `None` for [`Auth::None`].
    pub fn from_auth(auth: &Auth) -> Option<Self> {
        match auth {
            Auth::None => None,
            Auth::Bearer(t) => Some(Self::bearer(t)),
            Auth::Ssws(t) => Some(Self::ssws(t)),
            Auth::Basic { username, password } => Some(Self::basic(username, password)),
        }
    }

    /// Checks that the value can be sent as a header, so a bad token (a pasted line break)
    /// fails when the client is built rather than on its first request.
    pub(crate) fn validate(&self) -> Result<(), HttpError> {
        header_value(&self.value, &self.scheme).map(|_| ())
    }
}

/// `Basic base64(username:password)`; every intermediate copy is wiped when dropped.
fn basic_value(username: &str, password: &Secret) -> Secret {
    let pair = Zeroizing::new(format!("{username}:{}", password.expose()));
    let encoded = Zeroizing::new(STANDARD.encode(pair.as_bytes()));
    Secret::new(format!("Basic {}", encoded.as_str()))
}

/// A credential as a header value, marked sensitive so the HTTP stack never prints it.
pub(crate) fn header_value(value: &Secret, scheme: &str) -> Result<HeaderValue, HttpError> {
    let mut v = HeaderValue::from_str(value.expose()).map_err(|_| HttpError::InvalidConfig {
        message: format!(
            "the {scheme} credentials contain characters not allowed in an HTTP header"
        ),
    })?;
    v.set_sensitive(true);
    Ok(v)
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticToken")
            .field("scheme", &self.scheme)
            .field("value", &self.value)
            .finish()
    }
}

#[async_trait]
impl CredentialProvider for StaticToken {
    async fn authorization(&self, _ctx: &CredentialContext<'_>) -> Result<Secret, HttpError> {
        Ok(self.value.clone())
    }

    fn scheme(&self) -> &str {
        &self.scheme
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_and_sensitivity() {
        let basic = StaticToken::basic("a@b.c", &Secret::new("tok"));
        // base64("a@b.c:tok")
        assert_eq!(basic.value.expose(), "Basic YUBiLmM6dG9r");
        let v = header_value(&basic.value, "basic").unwrap();
        assert!(v.is_sensitive());
        assert_eq!(
            StaticToken::ssws(&Secret::new("t")).value.expose(),
            "SSWS t"
        );
        assert_eq!(
            StaticToken::bearer(&Secret::new("t")).value.expose(),
            "Bearer t"
        );
        assert!(StaticToken::bearer(&Secret::new("a\nb"))
            .validate()
            .is_err());
    }
}
