//! A token must never appear in logs (at TRACE), errors or `Debug` output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use soc2_evidence_core::http::{Auth, HttpClient, RetryPolicy, Secret};
use soc2_evidence_core::ProvenanceRecorder;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "tok-3f9a1c77-NEVER-PRINT";

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

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("http response"),
        "requests were logged: {logs}"
    );
    assert!(logs.contains("retrying"), "retries were logged: {logs}");
    assert!(!logs.contains(TOKEN), "token in logs:\n{logs}");
    assert!(!shown.contains(TOKEN), "token in errors or Debug:\n{shown}");
    assert!(shown.contains("[redacted]"));
}
