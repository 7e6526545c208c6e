//! Authentication schemes.

use reqwest::header::{HeaderValue, AUTHORIZATION};

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
        let raw = match self {
            Auth::None => return Ok(None),
            Auth::Bearer(t) => format!("Bearer {}", t.expose()),
            Auth::Ssws(t) => format!("SSWS {}", t.expose()),
            Auth::Basic { username, password } => {
                let pair = format!("{username}:{}", password.expose());
                format!("Basic {}", base64(pair.as_bytes()))
            }
        };
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

/// Standard base64 with padding (RFC 4648), enough for HTTP Basic credentials.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

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
            format!("Basic {}", base64(b"a@b.c:tok"))
        );
        let v = Auth::Ssws(Secret::new("t"))
            .header_value()
            .unwrap()
            .unwrap();
        assert_eq!(v.to_str().unwrap(), "SSWS t");
        assert!(Auth::None.header_value().unwrap().is_none());
    }
}
