//! `put_new` with retention must fail loudly, naming the key, when the object was written but
//! the store did not lock it. moto accepts every PutObjectRetention, so a scripted S3 plays a
//! store that refuses the call or ignores it.
#![cfg(feature = "s3")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use chrono::Utc;
use soc2_ledger::{LedgerError, LedgerStorage, S3Storage};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const OBJECT: &str = "/ledger-bucket/p/runs/000001.zip";

/// A bucket with Object Lock on that accepts the create of OBJECT as version "v1".
async fn lock_bucket() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/ledger-bucket"))
        .and(query_param("object-lock", ""))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>\
             </ObjectLockConfiguration>",
        ))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(OBJECT))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"abc\"")
                .insert_header("x-amz-version-id", "v1"),
        )
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

fn storage(server: &MockServer) -> S3Storage {
    S3Storage::from_env_with(
        "ledger-bucket/p",
        [
            ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "scripted-secret".to_string()),
            ("AWS_ENDPOINT_URL", server.uri()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
        ],
    )
    .unwrap()
}

fn assert_not_locked(result: Result<(), LedgerError>, why: &str) {
    let err = result.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LedgerError::Storage { .. }), "{err:?}");
    assert!(
        text.starts_with(
            "s3://ledger-bucket/p: runs/000001.zip: the object was written but is NOT locked"
        ),
        "{text}"
    );
    assert!(text.contains(why), "{text}");
    assert!(!text.contains("scripted-secret"), "{text}");
}

#[tokio::test]
async fn a_refused_retention_call_fails_saying_the_object_is_not_locked() {
    let server = lock_bucket().await;
    Mock::given(method("PUT"))
        .and(path(OBJECT))
        .and(query_param("retention", ""))
        .and(query_param("versionId", "v1"))
        .respond_with(ResponseTemplate::new(403).set_body_string(
            "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
        ))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    let until = Utc::now() + chrono::Duration::days(7);
    let result = storage(&server)
        .put_new("runs/000001.zip", Bytes::from_static(b"x"), Some(until))
        .await;
    assert_not_locked(
        result,
        "PutObjectRetention failed: HTTP 403 Forbidden, AccessDenied: Access Denied",
    );

    // The call was signed and carried the body S3 requires, with its Content-MD5.
    let requests = server.received_requests().await.unwrap();
    let retention = requests
        .iter()
        .find(|r| r.url.query().is_some_and(|q| q.contains("retention")))
        .unwrap();
    let auth = retention
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/"),
        "{auth}"
    );
    assert!(auth.contains("content-md5"), "{auth}");
    assert!(retention.headers.get("content-md5").is_some());
    let body = String::from_utf8_lossy(&retention.body);
    assert!(body.contains("<Mode>COMPLIANCE</Mode>"), "{body}");
    assert!(
        body.contains(&format!(
            "<RetainUntilDate>{}</RetainUntilDate>",
            until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        )),
        "{body}"
    );
}

#[tokio::test]
async fn a_store_that_accepts_retention_but_keeps_no_lock_is_caught() {
    let server = lock_bucket().await;
    Mock::given(method("PUT"))
        .and(path(OBJECT))
        .and(query_param("retention", ""))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(1)
        .mount(&server)
        .await;
    // HEAD of the version shows no lock headers.
    Mock::given(method("HEAD"))
        .and(path(OBJECT))
        .and(query_param("versionId", "v1"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let until = Utc::now() + chrono::Duration::days(7);
    let result = storage(&server)
        .put_new("runs/000001.zip", Bytes::from_static(b"x"), Some(until))
        .await;
    assert_not_locked(result, "mode none, retain-until none");
}

#[tokio::test]
async fn an_unversioned_write_cannot_be_locked() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/ledger-bucket"))
        .and(query_param("object-lock", ""))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>\
             </ObjectLockConfiguration>",
        ))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(OBJECT))
        .respond_with(ResponseTemplate::new(200).insert_header("etag", "\"abc\""))
        .mount(&server)
        .await;
    let until = Utc::now() + chrono::Duration::days(7);
    let result = storage(&server)
        .put_new("runs/000001.zip", Bytes::from_static(b"x"), Some(until))
        .await;
    assert_not_locked(result, "no version id");
}
