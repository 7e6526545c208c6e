//! GitHub App installation tokens: a JWT signed with the app's private key, exchanged for a
//! token that lasts an hour, renewed before it runs out.

use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::PrivateKeyDer;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::credentials::header_value;
use super::{CredentialContext, CredentialProvider, HttpError, Secret};

/// GitHub recommends back-dating `iat` a minute against clock drift.
const JWT_BACKDATE_SECS: i64 = 60;
/// `exp` may be at most 10 minutes ahead; nine leaves room for a slow clock.
const JWT_LIFETIME_SECS: i64 = 9 * 60;
/// However short-lived a token GitHub hands out, it is kept this long, so a skewed clock
/// cannot turn every request into a token exchange.
const MIN_CACHE: chrono::Duration = chrono::Duration::seconds(1);

/// Authenticates as a GitHub App installation: signs a JWT (RS256; `iat` a minute back,
/// `exp` nine minutes ahead, `iss` the app's ID) with the app's private key, exchanges it at
/// `POST /app/installations/{installation_id}/access_tokens` on the client's base URL
/// (`https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server), and
/// sends `Authorization: Bearer <installation token>`.
///
/// The token is cached and replaced [`DEFAULT_REFRESH_BEFORE`](Self::DEFAULT_REFRESH_BEFORE) (five minutes) before its
/// `expires_at`, or after half its life when it is shorter; concurrent requests share one
/// exchange. A 401 on a request (the installation token revoked) drops the cached token and
/// the request is retried once with a new one. Neither the key, the JWT nor the token is ever
/// in `Debug` output, errors or logs.
///
/// The key is the PEM file GitHub gives out (`-----BEGIN RSA PRIVATE KEY-----`, PKCS#1) or
/// its PKCS#8 form (`-----BEGIN PRIVATE KEY-----`); one pasted into an environment variable
/// with literal `\n` for its line breaks is accepted too.
///
/// ```no_run
/// use soc2_evidence_core::http::{GithubAppToken, HttpClient, Secret};
/// # fn demo() -> Result<(), soc2_evidence_core::http::HttpError> {
/// let key = Secret::from_env("GITHUB_APP_PRIVATE_KEY").expect("GITHUB_APP_PRIVATE_KEY is set");
/// let github = HttpClient::builder("https://api.github.com")
///     .header("Accept", "application/vnd.github+json")
///     .credentials(GithubAppToken::new("123456", 7890123, &key)?)
///     .build()?;
/// # let _ = github; Ok(()) }
/// ```
pub struct GithubAppToken {
    app_id: String,
    installation_id: u64,
    key: RsaKeyPair,
    rng: SystemRandom,
    refresh_before: Duration,
    cached: Mutex<Option<Installation>>,
    /// Held while exchanging, so concurrent callers wait for one exchange instead of each
    /// making their own.
    exchanging: tokio::sync::Mutex<()>,
}

/// A cached installation token.
struct Installation {
    /// `Bearer <token>`.
    header: Secret,
    expires_at: DateTime<Utc>,
    refresh_at: DateTime<Utc>,
}

impl fmt::Debug for GithubAppToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubAppToken")
            .field("app_id", &self.app_id)
            .field("installation_id", &self.installation_id)
            .field("key", &"[redacted]")
            .field("token_expires_at", &self.expires_at())
            .finish_non_exhaustive()
    }
}

/// `POST /app/installations/{id}/access_tokens` → `201 {"token", "expires_at", …}`.
#[derive(Deserialize)]
struct TokenResponse {
    token: String,
    expires_at: DateTime<Utc>,
}

impl GithubAppToken {
    /// How long before its `expires_at` an installation token is replaced, by default.
    pub const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

    /// A provider for installation `installation_id` of the app `app_id` (its numeric app ID
    /// or its client ID, either works as the JWT issuer). Fails when the key is not an RSA
    /// private key in PEM; the message never quotes the key.
    pub fn new(
        app_id: impl Into<String>,
        installation_id: u64,
        private_key_pem: &Secret,
    ) -> Result<Self, HttpError> {
        let app_id = app_id.into();
        if app_id.trim().is_empty() {
            return Err(HttpError::InvalidConfig {
                message: "the GitHub App ID is empty".into(),
            });
        }
        Ok(Self {
            key: parse_key(private_key_pem)?,
            app_id,
            installation_id,
            rng: SystemRandom::new(),
            refresh_before: Self::DEFAULT_REFRESH_BEFORE,
            cached: Mutex::new(None),
            exchanging: tokio::sync::Mutex::new(()),
        })
    }

    /// Replaces tokens this long before they expire instead of [`DEFAULT_REFRESH_BEFORE`](Self::DEFAULT_REFRESH_BEFORE).
    #[must_use]
    pub fn refresh_before(mut self, margin: Duration) -> Self {
        self.refresh_before = margin;
        self
    }

    /// The app's ID, as the JWT's `iss`.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The installation tokens are for.
    pub fn installation_id(&self) -> u64 {
        self.installation_id
    }

    /// When the cached installation token expires, if there is one.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.lock().as_ref().map(|i| i.expires_at)
    }

    /// A freshly signed app JWT (for endpoints that authenticate as the app itself, such as
    /// `GET /app/installations`): `header.claims.signature`, valid for about ten minutes.
    pub fn app_jwt(&self) -> Result<Secret, HttpError> {
        let now = Utc::now().timestamp();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::json!({
            "iat": now - JWT_BACKDATE_SECS,
            "exp": now + JWT_LIFETIME_SECS,
            "iss": self.app_id,
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &self.rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| HttpError::InvalidConfig {
                message: format!("could not sign a JWT for GitHub App {}", self.app_id),
            })?;
        Ok(Secret::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(&signature)
        )))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Installation>> {
        // A panic elsewhere cannot leave a half-written token behind (the value is replaced
        // whole), so a poisoned lock is still good.
        self.cached.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cached_header(&self) -> Option<Secret> {
        let now = Utc::now();
        self.lock()
            .as_ref()
            .filter(|i| now < i.refresh_at)
            .map(|i| i.header.clone())
    }

    /// Trades a new JWT for an installation token.
    async fn exchange(&self, ctx: &CredentialContext<'_>) -> Result<Installation, HttpError> {
        let failed = |cause: HttpError| HttpError::Credentials {
            message: format!(
                "GitHub App {} could not get a token for installation {}",
                self.app_id, self.installation_id
            ),
            cause: Box::new(cause),
        };
        let jwt = self.app_jwt()?;
        let bearer = Secret::new(format!("Bearer {}", jwt.expose()));
        let path = format!("/app/installations/{}/access_tokens", self.installation_id);
        let resp = ctx
            .client()
            .post_json_authorized(&path, &serde_json::json!({}), &bearer)
            .await
            .map_err(failed)?;
        // serde's messages quote the values they choke on, and this body holds the token:
        // say only where it went wrong.
        let decode = |message: String| {
            failed(HttpError::Decode {
                endpoint: resp.endpoint().to_string(),
                message,
                excerpt: String::new(),
            })
        };
        let wire: TokenResponse = serde_json::from_slice(resp.body()).map_err(|e| {
            decode(format!(
                "expected {{\"token\", \"expires_at\"}}; {:?} error at line {}, column {}",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        let token = Secret::new(wire.token);
        if token.expose().trim().is_empty() {
            return Err(decode("the token is empty".into()));
        }
        let header = Secret::new(format!("Bearer {}", token.expose()));
        header_value(&header, "github-app").map_err(failed)?;
        let now = Utc::now();
        let margin = chrono::Duration::from_std(self.refresh_before)
            .unwrap_or(chrono::Duration::MAX)
            .min((wire.expires_at - now) / 2);
        let refresh_at = (wire.expires_at - margin).max(now + MIN_CACHE);
        tracing::debug!(
            app_id = %self.app_id,
            installation_id = self.installation_id,
            expires_at = %wire.expires_at,
            "obtained a GitHub App installation token"
        );
        Ok(Installation {
            header,
            expires_at: wire.expires_at,
            refresh_at,
        })
    }
}

#[async_trait]
impl CredentialProvider for GithubAppToken {
    async fn authorization(&self, ctx: &CredentialContext<'_>) -> Result<Secret, HttpError> {
        if let Some(header) = self.cached_header() {
            return Ok(header);
        }
        let _turn = self.exchanging.lock().await;
        // Whoever held the lock before us has probably just refreshed it.
        if let Some(header) = self.cached_header() {
            return Ok(header);
        }
        let fresh = self.exchange(ctx).await?;
        let header = fresh.header.clone();
        *self.lock() = Some(fresh);
        Ok(header)
    }

    fn invalidate(&self, rejected: &Secret) -> bool {
        let mut cached = self.lock();
        // Many requests can fail with one revoked token; only the first drops it, the rest
        // retry with whatever replaced it.
        if cached.as_ref().is_some_and(|i| i.header == *rejected) {
            *cached = None;
        }
        true
    }

    fn scheme(&self) -> &str {
        "github-app"
    }
}

/// Reads an RSA private key from PEM (PKCS#1 or PKCS#8) without ever quoting it.
fn parse_key(pem_text: &Secret) -> Result<RsaKeyPair, HttpError> {
    let invalid = |why: &str| HttpError::InvalidConfig {
        message: format!("the GitHub App private key {why}"),
    };
    let text = pem_text.expose();
    // A key pasted into an environment variable often arrives with literal `\n`s.
    let unescaped;
    let bytes = if !text.contains('\n') && text.contains("\\n") {
        unescaped = Zeroizing::new(text.replace("\\n", "\n"));
        unescaped.as_bytes()
    } else {
        text.as_bytes()
    };
    let der = PrivateKeyDer::from_pem_slice(bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => {
            invalid("has no PEM private key (-----BEGIN RSA PRIVATE KEY-----)")
        }
        _ => invalid("is not valid PEM"),
    })?;
    let pair = match &der {
        PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
        PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
        _ => return Err(invalid("is not an RSA key (GitHub App keys are RSA)")),
    };
    pair.map_err(|e| invalid(&format!("is not a usable RSA key ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_keys_are_refused_without_quoting_them() {
        for (pem, why) in [
            ("not a key at all", "no PEM private key"),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END RSA PRIVATE KEY-----\n",
                "not a usable RSA key",
            ),
            (
                "-----BEGIN RSA PRIVATE KEY-----\n!!!!secret-key-material!!!!\n-----END RSA PRIVATE KEY-----\n",
                "not valid PEM",
            ),
        ] {
            let err = GithubAppToken::new("1", 2, &Secret::new(pem)).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(shown.contains(why), "{shown}");
            assert!(!shown.contains("secret-key-material"), "{shown}");
            assert!(!shown.contains("c2VjcmV0"), "{shown}");
        }
        let err = GithubAppToken::new(" ", 2, &Secret::new("x")).unwrap_err();
        assert!(err.to_string().contains("App ID is empty"));
    }
}
