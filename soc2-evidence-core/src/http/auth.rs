//! Authentication schemes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::header::{HeaderValue, AUTHORIZATION};
use zeroize::Zeroizing;

use super::{HttpError, Secret};

/// How requests authenticate. `Debug` never shows a secret:
///
/// ```
/// use soc2_evidence_core::http::{Auth, Secret};
/// let a = Auth::Ssws(Secret::new("00okta-token"));
/// assert_eq!(format!("{a:?}"), "Ssws([redacted])");
/// let b = Auth::Basic { username: "me@example.com".into(), password: Secret::new("jira-token") };
/// assert!(!format!("{b:?}").contains("jira-token"));
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Auth {
    /// No `Authorization` header.
    #[default]
    None,
    /// `Authorization: Bearer <token>` (GitHub, Okta OAuth access tokens, Jira OAuth).
    Bearer(Secret),
    /// `Authorization: SSWS <token>` (Okta API tokens).
    Ssws(Secret),
    /// `Authorization: Basic base64(username:password)` (Jira Cloud: email and API token).
    Basic {
        /// User name (for Jira Cloud, the account e-mail).
        username: String,
        /// Password or API token.
        password: Secret,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer([redacted])"),
            Auth::Ssws(_) => f.write_str("Ssws([redacted])"),
            Auth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"[redacted]")
                .finish(),
        }
    }
}

impl Auth {
    /// The scheme's name, for logs and diagnostics (`none`, `bearer`, `ssws`, `basic`).
    pub fn scheme(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Bearer(_) => "bearer",
            Auth::Ssws(_) => "ssws",
            Auth::Basic { .. } => "basic",
        }
    }

    /// The `Authorization` header value, marked sensitive so the HTTP stack never prints it.
    pub(crate) fn header_value(&self) -> Result<Option<HeaderValue>, HttpError> {
        // Every intermediate copy of the credentials is wiped when dropped.
        let raw = Zeroizing::new(match self {
            Auth::None => return Ok(None),
            Auth::Bearer(t) => format!("Bearer {}", t.expose()),
            Auth::Ssws(t) => format!("SSWS {}", t.expose()),
            Auth::Basic { username, password } => {
                let pair = Zeroizing::new(format!("{username}:{}", password.expose()));
                let encoded = Zeroizing::new(STANDARD.encode(pair.as_bytes()));
                format!("Basic {}", encoded.as_str())
            }
        });
        let mut value = HeaderValue::from_str(&raw).map_err(|_| HttpError::InvalidConfig {
            message: format!(
                "the {} credentials contain characters not allowed in an HTTP header",
                self.scheme()
            ),
        })?;
        value.set_sensitive(true);
        Ok(Some(value))
    }

    /// Adds the `Authorization` header to a request.
    pub(crate) fn apply(
        &self,
        req: reqwest::RequestBuilder,
        value: Option<&HeaderValue>,
    ) -> reqwest::RequestBuilder {
        match value {
            Some(v) => req.header(AUTHORIZATION, v.clone()),
            None => req,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_sensitive() {
        let v = Auth::Basic {
            username: "a@b.c".into(),
            password: Secret::new("tok"),
        }
        .header_value()
        .unwrap()
        .unwrap();
        assert!(v.is_sensitive());
        assert_eq!(
            v.to_str().unwrap(),
            "Basic YUBiLmM6dG9r" // base64("a@b.c:tok")
        );
        let v = Auth::Ssws(Secret::new("t"))
            .header_value()
            .unwrap()
            .unwrap();
        assert_eq!(v.to_str().unwrap(), "SSWS t");
        assert!(Auth::None.header_value().unwrap().is_none());
    }
}
