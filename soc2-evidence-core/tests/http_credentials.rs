//! Credential providers: asked per attempt, renewed once after a 401.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use soc2_evidence_core::async_trait;
use soc2_evidence_core::http::{
    CredentialContext, CredentialProvider, HttpClient, HttpError, RetryPolicy, Secret,
};
use wiremock::matchers::{header, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Hands out `Bearer t-<generation>`; `invalidate` moves to the next generation when it is
/// given the current one.
#[derive(Debug, Default)]
struct Rotating {
    generation: AtomicU32,
    asked: AtomicU32,
    invalidated: AtomicU32,
}

impl Rotating {
    fn current(&self) -> Secret {
        Secret::new(format!(
            "Bearer t-{}",
            self.generation.load(Ordering::SeqCst)
        ))
    }
}

#[async_trait]
impl CredentialProvider for Rotating {
    async fn authorization(&self, _ctx: &CredentialContext<'_>) -> Result<Secret, HttpError> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Ok(self.current())
    }

    fn invalidate(&self, rejected: &Secret) -> bool {
        self.invalidated.fetch_add(1, Ordering::SeqCst);
        if *rejected == self.current() {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        true
    }

    fn scheme(&self) -> &str {
        "rotating"
    }
}

#[tokio::test]
async fn a_rejected_credential_is_renewed_once_even_without_retries() {
    let server = MockServer::start().await;
    Mock::given(path("/me"))
        .and(header("authorization", "Bearer t-0"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/me"))
        .and(header("authorization", "Bearer t-1"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(2)
        .mount(&server)
        .await;
    let provider = Arc::new(Rotating::default());
    let c = HttpClient::builder(&server.uri())
        .credentials(Arc::clone(&provider))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert_eq!(c.get("/me", &[]).await.unwrap().status(), 200);
    assert_eq!(c.get("/me", &[]).await.unwrap().status(), 200);
    assert_eq!(
        provider.asked.load(Ordering::SeqCst),
        3,
        "asked per attempt"
    );
    assert_eq!(provider.invalidated.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_second_401_is_final() {
    let server = MockServer::start().await;
    Mock::given(path("/me"))
        .respond_with(ResponseTemplate::new(401).set_body_string("bad credentials"))
        .expect(2)
        .mount(&server)
        .await;
    let provider = Arc::new(Rotating::default());
    let c = HttpClient::builder(&server.uri())
        .credentials(Arc::clone(&provider))
        .build()
        .unwrap();
    let err = c.get("/me", &[]).await.unwrap_err();
    assert!(matches!(err, HttpError::Unauthenticated { .. }), "{err:?}");
    assert_eq!(provider.invalidated.load(Ordering::SeqCst), 1);
}

#[derive(Debug)]
struct Broken;

#[async_trait]
impl CredentialProvider for Broken {
    async fn authorization(&self, _ctx: &CredentialContext<'_>) -> Result<Secret, HttpError> {
        Err(HttpError::InvalidConfig {
            message: "the vault is sealed".into(),
        })
    }

    fn scheme(&self) -> &str {
        "vault"
    }
}

#[tokio::test]
async fn a_provider_error_fails_the_request_before_it_is_sent() {
    let server = MockServer::start().await;
    Mock::given(path("/me"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let c = HttpClient::builder(&server.uri())
        .credentials(Broken)
        .build()
        .unwrap();
    let err = c.get("/me", &[]).await.unwrap_err();
    assert!(err.to_string().contains("vault is sealed"), "{err}");
    // A foreign origin gets no credentials, so the provider is not even asked.
    let foreign = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&foreign)
        .await;
    c.get(&format!("{}/x", foreign.uri()), &[]).await.unwrap();
}

#[tokio::test]
async fn an_explicit_authorization_replaces_the_credentials_for_one_request() {
    let server = MockServer::start().await;
    Mock::given(path("/exchange"))
        .and(header("authorization", "Bearer jwt"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    let provider = Arc::new(Rotating::default());
    let c = HttpClient::builder(&server.uri())
        .credentials(Arc::clone(&provider))
        .build()
        .unwrap();
    let err = c
        .post_json_authorized(
            "/exchange",
            &serde_json::json!({}),
            &Secret::new("Bearer jwt"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::Unauthenticated { .. }), "{err:?}");
    assert_eq!(provider.asked.load(Ordering::SeqCst), 0);
    assert_eq!(
        provider.invalidated.load(Ordering::SeqCst),
        0,
        "not renewed"
    );
}
