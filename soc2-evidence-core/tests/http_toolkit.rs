//! Retry, rate-limit and error behaviour of the HTTP toolkit against a local wiremock server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use soc2_evidence_core::http::{
    Auth, HttpClient, HttpError, HttpResponse, RetryClassifier, RetryDecision, RetryPolicy, Secret,
};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        max_elapsed: Duration::from_secs(10),
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_server_wait: Duration::from_secs(3),
    }
}

fn client(server: &MockServer, policy: RetryPolicy) -> HttpClient {
    HttpClient::builder(&server.uri())
        .auth(Auth::Bearer(Secret::new("test-token")))
        .timeout(Duration::from_secs(5))
        .retry(policy)
        .build()
        .unwrap()
}

fn epoch_in(secs: u64) -> String {
    (chrono::Utc::now().timestamp() + secs as i64).to_string()
}

#[tokio::test]
async fn retry_after_429_then_200() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .expect(1)
        .mount(&server)
        .await;
    let start = Instant::now();
    let resp = client(&server, fast_policy()).get("/x", &[]).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "honoured Retry-After"
    );
}

#[tokio::test]
async fn server_errors_twice_then_success() {
    let server = MockServer::start().await;
    Mock::given(path("/flaky"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/flaky"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"ok":true}"#))
        .expect(1)
        .mount(&server)
        .await;
    let resp = client(&server, fast_policy())
        .get("/flaky", &[])
        .await
        .unwrap();
    let v: serde_json::Value = resp.json().unwrap();
    assert_eq!(v["ok"], true);
}

#[tokio::test]
async fn bad_gateway_and_gateway_timeout_are_retried_but_500_is_not() {
    let server = MockServer::start().await;
    Mock::given(path("/gw"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/gw"))
        .respond_with(ResponseTemplate::new(504))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/gw"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(path("/boom"))
        .respond_with(ResponseTemplate::new(500).set_body_string("internal"))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, fast_policy());
    assert_eq!(c.get("/gw", &[]).await.unwrap().status(), 200);
    match c.get("/boom", &[]).await.unwrap_err() {
        HttpError::Server {
            status,
            attempts,
            excerpt,
            ..
        } => assert_eq!((status, attempts, excerpt.as_str()), (500, 1, "internal")),
        e => panic!("unexpected {e:?}"),
    }
}

#[tokio::test]
async fn unauthenticated_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/me"))
        .respond_with(ResponseTemplate::new(401).set_body_string(r#"{"errorCode":"E0000011"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server, fast_policy())
        .get("/me", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::Unauthenticated { .. }), "{err:?}");
    assert_eq!(err.status(), Some(401));
    assert!(err.endpoint().unwrap().starts_with("GET http://127.0.0.1"));
    assert!(err.to_string().contains("E0000011"));
}

#[tokio::test]
async fn not_found_and_bad_request_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/gone"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/bad"))
        .respond_with(ResponseTemplate::new(400).set_body_string("bad jql"))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, fast_policy());
    let err = c.get("/gone", &[]).await.unwrap_err();
    assert!(matches!(err, HttpError::NotFound { .. }), "{err:?}");
    let err = c.get("/bad", &[]).await.unwrap_err();
    assert!(
        matches!(err, HttpError::Status { status: 400, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn forbidden_without_rate_limit_sign_is_permission_denied_at_once() {
    let server = MockServer::start().await;
    Mock::given(path("/admin"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "4999")
                .insert_header("x-ratelimit-reset", epoch_in(1).as_str())
                .set_body_string(r#"{"message":"Resource not accessible by integration"}"#),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server, fast_policy())
        .get("/admin", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::PermissionDenied { .. }), "{err:?}");
    assert!(err.to_string().contains("not accessible"));
}

#[tokio::test]
async fn jira_429_with_empty_body_and_no_hint_backs_off() {
    let server = MockServer::start().await;
    Mock::given(path("/rest/api/3/myself"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/rest/api/3/myself"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    let resp = client(&server, fast_policy())
        .get("/rest/api/3/myself", &[])
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn forbidden_with_retry_after_is_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/busy"))
        .respond_with(ResponseTemplate::new(403).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/busy"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let start = Instant::now();
    let resp = client(&server, fast_policy())
        .get("/busy", &[])
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(start.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn retry_after_as_an_http_date() {
    let server = MockServer::start().await;
    let at = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", at.as_str()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let start = Instant::now();
    client(&server, fast_policy()).get("/x", &[]).await.unwrap();
    // The date has whole seconds: at least one of the two seconds is waited.
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn vendor_headers_mean_nothing_without_a_classifier() {
    let server = MockServer::start().await;
    Mock::given(path("/repos/o/r"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", epoch_in(1).as_str())
                .set_body_string(r#"{"message":"API rate limit exceeded"}"#),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server, fast_policy())
        .get("/repos/o/r", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::PermissionDenied { .. }), "{err:?}");
}

/// Google APIs say "per-user quota exceeded" with a 403 and a reason in the body.
fn google_quota(resp: &HttpResponse) -> RetryDecision {
    #[derive(serde::Deserialize)]
    struct Body {
        error: Inner,
    }
    #[derive(serde::Deserialize)]
    struct Inner {
        #[serde(default)]
        errors: Vec<Reason>,
    }
    #[derive(serde::Deserialize)]
    struct Reason {
        reason: String,
    }
    if resp.status() != 403 {
        return RetryDecision::Default;
    }
    match resp.json::<Body>() {
        Ok(b)
            if b.error.errors.iter().any(|e| {
                e.reason == "userRateLimitExceeded" || e.reason == "rateLimitExceeded"
            }) =>
        {
            RetryDecision::Backoff
        }
        _ => RetryDecision::Default,
    }
}

#[tokio::test]
async fn a_custom_classifier_retries_google_quota_403s_but_not_real_ones() {
    let server = MockServer::start().await;
    Mock::given(path("/admin/directory/v1/users"))
        .respond_with(ResponseTemplate::new(403).set_body_string(
            r#"{"error":{"code":403,"message":"Quota exceeded","errors":[{"reason":"userRateLimitExceeded"}]}}"#,
        ))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/admin/directory/v1/users"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"users":[]}"#))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/admin/directory/v1/groups"))
        .respond_with(ResponseTemplate::new(403).set_body_string(
            r#"{"error":{"code":403,"message":"Not Authorized","errors":[{"reason":"forbidden"}]}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let c = HttpClient::builder(&server.uri())
        .retry(fast_policy())
        .retry_classifier(google_quota)
        .build()
        .unwrap();
    let resp = c.get("/admin/directory/v1/users", &[]).await.unwrap();
    assert_eq!(resp.status(), 200);
    let err = c.get("/admin/directory/v1/groups", &[]).await.unwrap_err();
    assert!(matches!(err, HttpError::PermissionDenied { .. }), "{err:?}");
}

#[derive(Debug)]
struct Fixed(u16, RetryDecision);

impl RetryClassifier for Fixed {
    fn classify(&self, resp: &HttpResponse) -> RetryDecision {
        if resp.status() == self.0 {
            self.1
        } else {
            RetryDecision::Default
        }
    }
}

#[tokio::test]
async fn classifiers_can_stop_retries_and_the_first_opinion_wins() {
    let server = MockServer::start().await;
    Mock::given(path("/maintenance"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down for good"))
        .expect(1)
        .mount(&server)
        .await;
    let c = HttpClient::builder(&server.uri())
        .retry(fast_policy())
        .retry_classifier(Fixed(503, RetryDecision::DoNotRetry))
        .retry_classifier(Fixed(503, RetryDecision::Backoff))
        .build()
        .unwrap();
    match c.get("/maintenance", &[]).await.unwrap_err() {
        HttpError::Server {
            status: 503,
            attempts: 1,
            ..
        } => {}
        e => panic!("unexpected {e:?}"),
    }
}

#[tokio::test]
async fn a_throttled_200_is_retried_and_reported_as_rate_limited() {
    let server = MockServer::start().await;
    Mock::given(path("/graphql"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(r#"{"errors":[{"type":"THROTTLED"}]}"#),
        )
        .expect(3)
        .mount(&server)
        .await;
    let throttled = |r: &HttpResponse| {
        if String::from_utf8_lossy(r.body()).contains("THROTTLED") {
            RetryDecision::RetryAfter(Duration::from_millis(20))
        } else {
            RetryDecision::Default
        }
    };
    let c = HttpClient::builder(&server.uri())
        .retry(RetryPolicy {
            max_retries: 2,
            ..fast_policy()
        })
        .retry_classifier(throttled)
        .build()
        .unwrap();
    let err = c
        .post_json(
            "/graphql",
            &serde_json::json!({"query": "{ viewer { login } }"}),
        )
        .await
        .unwrap_err();
    match err {
        HttpError::RateLimited {
            attempts,
            retry_after,
            ..
        } => {
            assert_eq!(attempts, 3);
            assert_eq!(retry_after, Some(Duration::from_millis(20)));
        }
        e => panic!("unexpected {e:?}"),
    }
}

#[tokio::test]
async fn a_wait_beyond_the_time_budget_fails_with_rate_limited_without_sleeping() {
    let server = MockServer::start().await;
    Mock::given(path("/search"))
        .respond_with(ResponseTemplate::new(403).set_body_string("slow down"))
        .expect(1)
        .mount(&server)
        .await;
    let policy = RetryPolicy {
        max_elapsed: Duration::from_secs(2),
        max_server_wait: Duration::from_secs(120),
        ..fast_policy()
    };
    let c = HttpClient::builder(&server.uri())
        .retry(policy)
        .retry_classifier(Fixed(
            403,
            RetryDecision::RetryAfter(Duration::from_secs(60)),
        ))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = c.get("/search", &[]).await.unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1), "did not sleep");
    match err {
        HttpError::RateLimited {
            attempts,
            retry_after,
            ..
        } => {
            assert_eq!(attempts, 1);
            assert_eq!(retry_after, Some(Duration::from_secs(60)));
        }
        e => panic!("unexpected {e:?}"),
    }
}

#[tokio::test]
async fn total_time_bound_stops_retrying() {
    let server = MockServer::start().await;
    Mock::given(path("/down"))
        .respond_with(ResponseTemplate::new(503).set_body_string("maintenance"))
        .mount(&server)
        .await;
    let policy = RetryPolicy {
        max_retries: 1000,
        max_elapsed: Duration::from_millis(400),
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        max_server_wait: Duration::from_secs(1),
    };
    let start = Instant::now();
    let err = client(&server, policy).get("/down", &[]).await.unwrap_err();
    let took = start.elapsed();
    assert!(took < Duration::from_millis(1000), "took {took:?}");
    match err {
        HttpError::Server {
            status, attempts, ..
        } => {
            assert_eq!(status, 503);
            assert!(attempts > 1 && attempts < 1000, "attempts {attempts}");
        }
        e => panic!("unexpected {e:?}"),
    }
}

#[tokio::test]
async fn retry_count_bound_stops_retrying() {
    let server = MockServer::start().await;
    Mock::given(path("/down"))
        .respond_with(ResponseTemplate::new(429))
        .expect(3)
        .mount(&server)
        .await;
    let policy = RetryPolicy {
        max_retries: 2,
        ..fast_policy()
    };
    let err = client(&server, policy).get("/down", &[]).await.unwrap_err();
    assert!(
        matches!(err, HttpError::RateLimited { attempts: 3, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn service_unavailable_honours_retry_after() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "30"))
        .expect(1)
        .mount(&server)
        .await;
    // 30 s asked, budget 2 s: fail at once instead of sleeping past the budget.
    let policy = RetryPolicy {
        max_elapsed: Duration::from_secs(2),
        max_server_wait: Duration::from_secs(60),
        ..fast_policy()
    };
    let start = Instant::now();
    let err = client(&server, policy).get("/x", &[]).await.unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(
            err,
            HttpError::Server {
                status: 503,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn transport_errors_are_retried_then_reported() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = HttpClient::builder(&format!("http://127.0.0.1:{port}"))
        .retry(RetryPolicy {
            max_retries: 2,
            ..fast_policy()
        })
        .build()
        .unwrap();
    let err = c
        .get("/x", &[("access_token", "hunter2-secret")])
        .await
        .unwrap_err();
    match &err {
        HttpError::Transport { attempts, .. } => assert_eq!(*attempts, 3),
        e => panic!("unexpected {e:?}"),
    }
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("hunter2-secret"), "{shown}");
    assert!(shown.contains("access_token=[redacted]"), "{shown}");
}

#[tokio::test]
async fn per_request_timeout_is_a_transport_error() {
    let server = MockServer::start().await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(500)))
        .expect(2)
        .mount(&server)
        .await;
    let c = HttpClient::builder(&server.uri())
        .timeout(Duration::from_millis(100))
        .retry(RetryPolicy {
            max_retries: 1,
            ..fast_policy()
        })
        .build()
        .unwrap();
    let err = c.get("/slow", &[]).await.unwrap_err();
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[tokio::test]
async fn base_path_is_kept_and_auth_headers_are_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repos/o/r"))
        .and(query_param("per_page", "100"))
        .and(header("authorization", "Bearer test-token"))
        .and(header("accept", "application/vnd.github+json"))
        .and(header(
            "user-agent",
            soc2_evidence_core::http::DEFAULT_USER_AGENT,
        ))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .and(header("authorization", "SSWS okta-tok"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/search/jql"))
        // base64("me@example.com:jira-tok")
        .and(header(
            "authorization",
            "Basic bWVAZXhhbXBsZS5jb206amlyYS10b2s=",
        ))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"issues":[]}"#))
        .expect(1)
        .mount(&server)
        .await;

    let gh = HttpClient::builder(&format!("{}/api/v3", server.uri()))
        .auth(Auth::Bearer(Secret::new("test-token")))
        .header("Accept", "application/vnd.github+json")
        .build()
        .unwrap();
    assert_eq!(gh.url("/repos/o/r").unwrap().path(), "/api/v3/repos/o/r");
    gh.get("/repos/o/r", &[("per_page", "100")]).await.unwrap();

    let okta = HttpClient::builder(&server.uri())
        .auth(Auth::Ssws(Secret::new("okta-tok")))
        .build()
        .unwrap();
    okta.get("api/v1/users", &[]).await.unwrap();

    let jira = HttpClient::builder(&format!("{}/", server.uri()))
        .auth(Auth::Basic {
            username: "me@example.com".into(),
            password: Secret::new("jira-tok"),
        })
        .build()
        .unwrap();
    jira.post_json(
        "/rest/api/3/search/jql",
        &serde_json::json!({"jql": "project = X"}),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn malformed_json_gives_decode_error_naming_the_endpoint() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/users"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[{\"id\": \"00u1\",\n oops}]"))
        .mount(&server)
        .await;
    let resp = client(&server, fast_policy())
        .get("/api/v1/users", &[("limit", "2"), ("token", "qsecret")])
        .await
        .unwrap();
    let err = resp.json::<Vec<serde_json::Value>>().unwrap_err();
    match &err {
        HttpError::Decode {
            endpoint,
            message,
            excerpt,
        } => {
            assert!(endpoint.starts_with("GET http://127.0.0.1"), "{endpoint}");
            assert!(
                endpoint.contains("/api/v1/users?limit=2&token=[redacted]"),
                "{endpoint}"
            );
            assert!(message.contains("line 2"), "{message}");
            assert_eq!(excerpt, "[{\"id\": \"00u1\",  oops}]");
        }
        e => panic!("unexpected {e:?}"),
    }
    assert!(!err.to_string().contains("qsecret"));
}

#[test]
fn invalid_configuration_is_reported() {
    assert!(matches!(
        HttpClient::builder("not a url").build().unwrap_err(),
        HttpError::InvalidUrl { .. }
    ));
    assert!(matches!(
        HttpClient::builder("ftp://example.com")
            .build()
            .unwrap_err(),
        HttpError::InvalidUrl { .. }
    ));
    assert!(matches!(
        HttpClient::builder("https://example.com")
            .header("bad header", "x")
            .build()
            .unwrap_err(),
        HttpError::InvalidConfig { .. }
    ));
    let err = HttpClient::builder("https://example.com")
        .auth(Auth::Bearer(Secret::new("line\nbreak-token")))
        .build()
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("break-token"));
}
