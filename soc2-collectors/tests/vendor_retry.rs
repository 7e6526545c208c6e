//! The vendors' rate-limit rules, as the collectors' retry classifiers teach them to the HTTP
//! toolkit, against a local wiremock server.
#![cfg(all(feature = "github", feature = "okta", feature = "jira"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use soc2_collectors::github::GithubRetry;
use soc2_collectors::jira::JiraRetry;
use soc2_collectors::okta::OktaRetry;
use soc2_evidence_core::http::{HttpClient, HttpError, RetryClassifier, RetryPolicy};
use wiremock::matchers::{method, path};
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

fn client(
    server: &MockServer,
    policy: RetryPolicy,
    classifier: impl RetryClassifier + 'static,
) -> HttpClient {
    HttpClient::builder(&server.uri())
        .timeout(Duration::from_secs(5))
        .retry(policy)
        .retry_classifier(classifier)
        .build()
        .unwrap()
}

fn epoch_in(secs: i64) -> String {
    (chrono::Utc::now().timestamp() + secs).to_string()
}

/// `first` once, then 200.
async fn once_then_ok(server: &MockServer, p: &str, first: ResponseTemplate) {
    Mock::given(path(p))
        .respond_with(first)
        .up_to_n_times(1)
        .expect(1)
        .mount(server)
        .await;
    Mock::given(path(p))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn github_primary_limit_403_waits_for_reset() {
    let server = MockServer::start().await;
    let reset = chrono::Utc::now().timestamp() + 1;
    once_then_ok(
        &server,
        "/repos/o/r",
        ResponseTemplate::new(403)
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", reset.to_string().as_str())
            .set_body_string(r#"{"message":"API rate limit exceeded"}"#),
    )
    .await;
    let resp = client(&server, fast_policy(), GithubRetry)
        .get("/repos/o/r", &[])
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        chrono::Utc::now().timestamp() >= reset,
        "waited for the reset"
    );
}

#[tokio::test]
async fn github_plain_403_is_permission_denied_at_once() {
    let server = MockServer::start().await;
    Mock::given(path("/repos/o/r/rulesets"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "4999")
                .insert_header("x-ratelimit-reset", epoch_in(1).as_str())
                .set_body_string(r#"{"message":"Resource not accessible by integration"}"#),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server, fast_policy(), GithubRetry)
        .get("/repos/o/r/rulesets", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::PermissionDenied { .. }), "{err:?}");
}

#[tokio::test]
async fn github_secondary_limit_without_hint_waits_the_capped_minimum() {
    let server = MockServer::start().await;
    once_then_ok(
        &server,
        "/search",
        ResponseTemplate::new(403).set_body_string(
            r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#,
        ),
    )
    .await;
    // The 60 s minimum is capped by max_server_wait (50 ms here).
    let policy = RetryPolicy {
        max_server_wait: Duration::from_millis(50),
        ..fast_policy()
    };
    let resp = client(&server, policy, GithubRetry)
        .get("/search", &[])
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn github_secondary_limit_beyond_the_budget_fails_without_sleeping() {
    let server = MockServer::start().await;
    Mock::given(path("/search"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_string(r#"{"message":"You have exceeded a secondary rate limit."}"#),
        )
        .expect(1)
        .mount(&server)
        .await;
    let policy = RetryPolicy {
        max_elapsed: Duration::from_secs(2),
        max_server_wait: Duration::from_secs(120),
        ..fast_policy()
    };
    let start = Instant::now();
    let err = client(&server, policy, GithubRetry)
        .get("/search", &[])
        .await
        .unwrap_err();
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
async fn github_graphql_rate_limited_200_is_retried_by_the_client() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("retry-after", "1")
                .set_body_string(
                    r#"{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for user ID 1."}]}"#,
                ),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"data":{"viewer":{}}}"#))
        .expect(1)
        .mount(&server)
        .await;
    let start = Instant::now();
    let resp = client(&server, fast_policy(), GithubRetry)
        .post_json(
            "/graphql",
            &serde_json::json!({"query": "{ viewer { login } }"}),
        )
        .await
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "retry-after honoured"
    );
    assert!(String::from_utf8_lossy(resp.body()).contains("viewer"));
}

#[tokio::test]
async fn okta_429_waits_until_epoch_reset() {
    let server = MockServer::start().await;
    let reset = chrono::Utc::now().timestamp() + 1;
    once_then_ok(
        &server,
        "/api/v1/users",
        ResponseTemplate::new(429)
            .insert_header("X-Rate-Limit-Limit", "600")
            .insert_header("X-Rate-Limit-Remaining", "0")
            .insert_header("X-Rate-Limit-Reset", reset.to_string().as_str())
            .set_body_string(
                r#"{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests."}"#,
            ),
    )
    .await;
    let resp = client(&server, fast_policy(), OktaRetry)
        .get("/api/v1/users", &[])
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        chrono::Utc::now().timestamp() >= reset,
        "the retry waited until the reset second"
    );
}

#[tokio::test]
async fn jira_429_with_an_iso_reset_and_no_retry_after_waits_for_it() {
    let server = MockServer::start().await;
    // Jira's reset has minute granularity; one a minute back is already past, which falls
    // back to the (fast) exponential backoff instead of waiting.
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1))
        .format("%Y-%m-%dT%H:%MZ")
        .to_string();
    once_then_ok(
        &server,
        "/rest/api/3/myself",
        ResponseTemplate::new(429).insert_header("X-RateLimit-Reset", past.as_str()),
    )
    .await;
    let start = Instant::now();
    client(&server, fast_policy(), JiraRetry)
        .get("/rest/api/3/myself", &[])
        .await
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(1));
}
