//! GitHub App installation tokens against a local wiremock server, with an RSA key made for
//! the test and JWTs checked by an RSA implementation other than the one that signed them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{SecondsFormat, Utc};
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::EncodePrivateKey;
use rsa::signature::Verifier;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use soc2_evidence_core::http::{GithubAppToken, HttpClient, HttpError, RetryPolicy, Secret};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const APP_ID: &str = "12345";
const INSTALLATION: u64 = 42;
const TOKEN_PATH: &str = "/api/v3/app/installations/42/access_tokens";

/// A throwaway 2048-bit key, made once per test binary.
fn key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap())
}

/// The key as GitHub hands it out: PKCS#1 PEM.
fn pkcs1_pem() -> Secret {
    Secret::new(key().to_pkcs1_pem(LineEnding::LF).unwrap().as_str())
}

fn provider() -> GithubAppToken {
    GithubAppToken::new(APP_ID, INSTALLATION, &pkcs1_pem()).unwrap()
}

fn client(server: &MockServer, provider: impl Into<Arc<GithubAppToken>>) -> HttpClient {
    HttpClient::builder(&format!("{}/api/v3", server.uri()))
        .header("Accept", "application/vnd.github+json")
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            ..RetryPolicy::default()
        })
        .credentials(provider.into())
        .build()
        .unwrap()
}

fn token_response(token: &str, expires_in: chrono::Duration) -> ResponseTemplate {
    let expires_at = (Utc::now() + expires_in).to_rfc3339_opts(SecondsFormat::Secs, true);
    ResponseTemplate::new(201).set_body_json(json!({
        "token": token,
        "expires_at": expires_at,
        "permissions": {"contents": "read", "pull_requests": "read"},
        "repository_selection": "all",
    }))
}

/// Splits `Bearer h.c.s`, checks the signature with the `rsa` crate, returns header and
/// claims.
fn verified_jwt(req: &Request) -> (Value, Value, String) {
    verified_bearer(req.headers.get("authorization").unwrap().to_str().unwrap())
}

fn verified_bearer(auth: &str) -> (Value, Value, String) {
    let jwt = auth.strip_prefix("Bearer ").unwrap().to_string();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let decode = |p: &str| URL_SAFE_NO_PAD.decode(p).unwrap();
    let signature = Signature::try_from(decode(parts[2]).as_slice()).unwrap();
    VerifyingKey::<rsa::sha2::Sha256>::new(key().to_public_key())
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("the JWT verifies with the app's public key");
    let header = serde_json::from_slice(&decode(parts[0])).unwrap();
    let claims = serde_json::from_slice(&decode(parts[1])).unwrap();
    (header, claims, jwt)
}

async fn token_requests(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == TOKEN_PATH)
        .collect()
}

#[tokio::test]
async fn one_exchange_serves_many_concurrent_requests_with_a_valid_jwt() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(token_response("ghs_first", chrono::Duration::hours(1)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/o/r"))
        .and(header("authorization", "Bearer ghs_first"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(20)
        .mount(&server)
        .await;
    let app = Arc::new(provider());
    let c = client(&server, Arc::clone(&app));
    let requests: Vec<_> = (0..20).map(|_| c.get("/repos/o/r", &[])).collect();
    for r in futures::future::join_all(requests).await {
        assert_eq!(r.unwrap().status(), 200);
    }
    assert!(app.expires_at().unwrap() > Utc::now() + chrono::Duration::minutes(59));

    let exchanges = token_requests(&server).await;
    assert_eq!(exchanges.len(), 1);
    let (header, claims, _) = verified_jwt(&exchanges[0]);
    assert_eq!(header, json!({"alg": "RS256", "typ": "JWT"}));
    assert_eq!(claims["iss"], APP_ID);
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    let now = Utc::now().timestamp();
    assert!((now - 70..=now - 55).contains(&iat), "iat {iat}, now {now}");
    assert!(
        exp - now <= 9 * 60 && exp - now > 8 * 60,
        "exp {exp}, now {now}"
    );
    assert!(exp - iat <= 10 * 60);
}

#[tokio::test]
async fn a_token_is_replaced_before_it_expires() {
    let server = MockServer::start().await;
    // Two seconds of life: kept for about half of it, then replaced.
    Mock::given(path(TOKEN_PATH))
        .respond_with(token_response("ghs_short", chrono::Duration::seconds(2)))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(token_response("ghs_long", chrono::Duration::hours(1)))
        .expect(1)
        .mount(&server)
        .await;
    for (token, n) in [("ghs_short", 2), ("ghs_long", 2)] {
        Mock::given(path("/api/v3/user"))
            .and(header("authorization", format!("Bearer {token}").as_str()))
            .respond_with(ResponseTemplate::new(200))
            .expect(n)
            .mount(&server)
            .await;
    }
    let c = client(&server, provider());
    c.get("/user", &[]).await.unwrap();
    c.get("/user", &[]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    c.get("/user", &[]).await.unwrap();
    c.get("/user", &[]).await.unwrap();
    assert_eq!(token_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_revoked_token_is_replaced_after_a_401() {
    let server = MockServer::start().await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(token_response("ghs_revoked", chrono::Duration::hours(1)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(token_response("ghs_new", chrono::Duration::hours(1)))
        .mount(&server)
        .await;
    Mock::given(path("/api/v3/user"))
        .and(header("authorization", "Bearer ghs_revoked"))
        .respond_with(
            ResponseTemplate::new(401).set_body_string(r#"{"message":"Bad credentials"}"#),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v3/user"))
        .and(header("authorization", "Bearer ghs_new"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, provider());
    assert_eq!(c.get("/user", &[]).await.unwrap().status(), 200);
    assert_eq!(token_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_failed_exchange_names_the_app_and_installation_never_the_jwt() {
    let server = MockServer::start().await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_string(
            r#"{"message":"'Expiration time' claim ('exp') is too far in the future"}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v3/user"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let err = client(&server, provider())
        .get("/user", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::Credentials { .. }), "{err:?}");
    assert_eq!(err.status(), Some(401));
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("GitHub App 12345"), "{shown}");
    assert!(shown.contains("installation 42"), "{shown}");
    assert!(shown.contains("too far in the future"), "{shown}");
    let (_, _, jwt) = verified_jwt(&token_requests(&server).await[0]);
    let signature = jwt.rsplit('.').next().unwrap();
    assert!(
        !shown.contains(&jwt) && !shown.contains(signature),
        "{shown}"
    );
}

#[tokio::test]
async fn an_unreadable_token_response_does_not_quote_the_token() {
    let server = MockServer::start().await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_string(r#"{"token":"ghs_do_not_print_me","expires_at":"soon"}"#),
        )
        .mount(&server)
        .await;
    let err = client(&server, provider())
        .get("/user", &[])
        .await
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("expected {\"token\", \"expires_at\"}"),
        "{shown}"
    );
    assert!(!shown.contains("ghs_do_not_print_me"), "{shown}");
}

#[test]
fn pkcs8_and_env_escaped_keys_sign_verifiable_jwts() {
    let pkcs8 = Secret::new(key().to_pkcs8_pem(LineEnding::LF).unwrap().as_str());
    let escaped = Secret::new(pkcs1_pem().expose().trim_end().replace('\n', "\\n"));
    for pem in [pkcs8, escaped] {
        let app = GithubAppToken::new("Iv1.abc", 7, &pem).unwrap();
        let jwt = app.app_jwt().unwrap();
        let (_, claims, _) = verified_bearer(&format!("Bearer {}", jwt.expose()));
        assert_eq!(claims["iss"], "Iv1.abc", "a client ID works as the issuer");
        assert!(!format!("{app:?}").contains(jwt.expose()));
    }
}
