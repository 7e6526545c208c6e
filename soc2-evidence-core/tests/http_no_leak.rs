//! A token must never appear in logs (at TRACE), errors or `Debug` output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use soc2_evidence_core::http::{Auth, GithubAppToken, HttpClient, RetryPolicy, Secret};
use soc2_evidence_core::ProvenanceRecorder;
use wiremock::matchers::{header, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "tok-3f9a1c77-NEVER-PRINT";
const INSTALLATION_TOKEN: &str = "ghs_inst4ll4t10n-NEVER-PRINT";
const SECOND_TOKEN: &str = "ghs_s3c0nd-NEVER-PRINT";

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn token_never_appears_in_logs_errors_or_debug() {
    let logs = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(path("/ok"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/ok"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .mount(&server)
        .await;
    Mock::given(path("/denied"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(path("/forbidden"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    Mock::given(path("/limited"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .mount(&server)
        .await;
    Mock::given(path("/garbage"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{not json"))
        .mount(&server)
        .await;

    let policy = RetryPolicy {
        max_retries: 2,
        initial_backoff: Duration::from_millis(5),
        ..RetryPolicy::default()
    };
    let auths = [
        Auth::Bearer(Secret::new(TOKEN)),
        Auth::Ssws(Secret::new(TOKEN)),
        Auth::Basic {
            username: "auditor@example.com".into(),
            password: Secret::new(TOKEN),
        },
    ];
    let mut shown = String::new();
    for auth in auths {
        shown += &format!("{auth:?}");
        let builder = HttpClient::builder(&server.uri())
            .auth(auth.clone())
            .header("X-Api-Key", TOKEN)
            .retry(policy.clone());
        shown += &format!("{builder:?}");
        let c = builder.build().unwrap();
        shown += &format!("{c:?}");

        let mut rec = ProvenanceRecorder::new("p", "k", "s", "c", "1");
        let resp = c
            .get_recorded(&mut rec, "/ok", &[("access_token", TOKEN), ("limit", "1")])
            .await
            .unwrap();
        shown += &format!("{resp:?} {:?}", rec.finish(true));
        for p in ["/denied", "/forbidden", "/limited"] {
            let err = c.get(p, &[("token", TOKEN)]).await.unwrap_err();
            shown += &format!("{err} {err:?}");
        }
        let err = c
            .get("/garbage", &[("client_secret", TOKEN)])
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .unwrap_err();
        shown += &format!("{err} {err:?}");
    }
    // A transport error with the token in the query and in user info.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = HttpClient::builder(&format!("http://127.0.0.1:{port}"))
        .auth(Auth::Bearer(Secret::new(TOKEN)))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c
        .get(
            &format!("http://user:{TOKEN}@127.0.0.1:{port}/x"),
            &[("password", TOKEN)],
        )
        .await
        .unwrap_err();
    shown += &format!("{err} {err:?}");

    // A GitHub App: its key, the JWTs it signs and the installation tokens it receives.
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let pem = key.to_pkcs1_pem(LineEnding::LF).unwrap();
    let key_line = pem.lines().nth(1).unwrap().to_string();
    let app_server = MockServer::start().await;
    let token_path = "/app/installations/42/access_tokens";
    let expires = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    for token in [INSTALLATION_TOKEN, SECOND_TOKEN] {
        Mock::given(path(token_path))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(serde_json::json!({"token": token, "expires_at": expires})),
            )
            .up_to_n_times(1)
            .mount(&app_server)
            .await;
    }
    // Then an unreadable answer that still holds a token.
    Mock::given(path(token_path))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_string(format!(r#"{{"token":"{TOKEN}","expires_at":17}}"#)),
        )
        .mount(&app_server)
        .await;
    Mock::given(path("/user"))
        .and(header(
            "authorization",
            format!("Bearer {INSTALLATION_TOKEN}").as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(401).set_body_string(r#"{"message":"Bad credentials"}"#),
        )
        .mount(&app_server)
        .await;
    Mock::given(path("/user"))
        .and(header(
            "authorization",
            format!("Bearer {SECOND_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&app_server)
        .await;
    let app =
        std::sync::Arc::new(GithubAppToken::new("12345", 42, &Secret::new(pem.as_str())).unwrap());
    let builder = HttpClient::builder(&app_server.uri())
        .credentials(std::sync::Arc::clone(&app))
        .retry(RetryPolicy::none());
    shown += &format!("{builder:?}");
    let c = builder.build().unwrap();
    // 401 with the first token, renewed, then fine with the second.
    let resp = c.get("/user", &[]).await.unwrap();
    shown += &format!("{resp:?} {app:?} {c:?} {:?}", app.app_jwt().map(|_| "jwt"));
    // A fresh provider whose exchange gets the unreadable answer.
    let broken = GithubAppToken::new("12345", 42, &Secret::new(pem.as_str())).unwrap();
    let c = HttpClient::builder(&app_server.uri())
        .credentials(broken)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c.get("/user", &[]).await.unwrap_err();
    shown += &format!("{err} {err:?} {c:?}");
    let jwts: Vec<String> = app_server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == token_path)
        .map(|r| {
            let auth = r.headers.get("authorization").unwrap().to_str().unwrap();
            auth.strip_prefix("Bearer ").unwrap().to_string()
        })
        .collect();
    assert_eq!(jwts.len(), 3, "two exchanges and a broken one");

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("http response"),
        "requests were logged: {logs}"
    );
    assert!(
        logs.contains("renewed credentials"),
        "the renewal was logged: {logs}"
    );
    for secret in [INSTALLATION_TOKEN, SECOND_TOKEN, key_line.as_str()]
        .into_iter()
        .chain(jwts.iter().map(String::as_str))
        .chain(jwts.iter().filter_map(|j| j.rsplit('.').next()))
    {
        assert!(!logs.contains(secret), "{secret} in logs:\n{logs}");
        assert!(
            !shown.contains(secret),
            "{secret} in errors or Debug:\n{shown}"
        );
    }
    assert!(logs.contains("retrying"), "retries were logged: {logs}");
    assert!(!logs.contains(TOKEN), "token in logs:\n{logs}");
    assert!(!shown.contains(TOKEN), "token in errors or Debug:\n{shown}");
    assert!(shown.contains("[redacted]"));
}
