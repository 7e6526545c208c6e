//! Authentication schemes.

use super::Secret;

/// How requests authenticate with a fixed credential; the builder's
/// [`auth`](super::HttpClientBuilder::auth) turns it into a [`StaticToken`](super::StaticToken).
/// Credentials that change (a GitHub App's installation tokens) come from a
/// [`CredentialProvider`](super::CredentialProvider) instead. `Debug` never shows a secret:
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
}
