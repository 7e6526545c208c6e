//! S3 ledgers against moto's server mode (the AWS emulator), started on 127.0.0.1 per test.
//! Without moto these print "skipped: moto not installed" and pass, unless
//! SOC2_REQUIRE_STOCK_TOOLS=1.
#![cfg(feature = "s3")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, SubsecRound, Utc};
use soc2_ledger::{LedgerError, LedgerStorage, S3Storage};
use soc2_sample::moto::{self, Moto};

fn storage(moto: &Moto, location: &str) -> S3Storage {
    S3Storage::from_env_with(location, moto.aws_env()).unwrap()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn round_trip_under_a_nested_prefix_and_no_replace() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("ledger-plain", false).unwrap();
    let s = storage(&moto, "ledger-plain/team/soc2/");
    assert_eq!(s.location(), "s3://ledger-plain/team/soc2");
    assert!(s.list("runs/").await.unwrap().is_empty());
    assert!(s.get("runs/000001.zip").await.unwrap().is_none());

    for (key, body) in [
        ("runs/000002.zip", "two"),
        ("runs/000001.zip", "one"),
        ("keys/000001.json", "key"),
    ] {
        s.put_new(key, Bytes::from(body), None).await.unwrap();
    }
    assert_eq!(
        s.list("runs/").await.unwrap(),
        vec!["runs/000001.zip", "runs/000002.zip"]
    );
    assert_eq!(s.list("keys").await.unwrap(), vec!["keys/000001.json"]);
    assert_eq!(s.get("runs/000001.zip").await.unwrap().unwrap(), "one");

    // The objects are under the prefix in the bucket, and only there.
    let (status, _, _) = moto
        .request("HEAD", "/ledger-plain/team/soc2/runs/000001.zip", &[])
        .unwrap();
    assert_eq!(status, 200);
    let root = storage(&moto, "ledger-plain");
    assert!(root.get("runs/000001.zip").await.unwrap().is_none());
    assert_eq!(
        root.get("team/soc2/runs/000002.zip")
            .await
            .unwrap()
            .unwrap(),
        "two"
    );

    let again = s
        .put_new("runs/000001.zip", Bytes::from_static(b"other"), None)
        .await;
    match again {
        Err(LedgerError::AlreadyExists { location, key }) => {
            assert_eq!(location, "s3://ledger-plain/team/soc2");
            assert_eq!(key, "runs/000001.zip");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.get("runs/000001.zip").await.unwrap().unwrap(), "one");

    // The S3 lock holds nothing: the conditional write above is the fork guard.
    let first = s.lock("run 1").await.unwrap();
    let second = s.lock("run 2").await.unwrap();
    drop((first, second));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_key_have_exactly_one_winner() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("ledger-race", false).unwrap();
    for round in 0..3 {
        let key = format!("runs/{round:06}.zip");
        let racers = (0..8).map(|i| {
            // One client each, as separate processes would have.
            let s = storage(&moto, "ledger-race/p");
            let key = key.clone();
            tokio::spawn(async move {
                let body = Bytes::from(format!("racer {i}"));
                (i, s.put_new(&key, body, None).await)
            })
        });
        let results = futures_join(racers.collect()).await;
        let winners: Vec<usize> = results
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        for (_, r) in &results {
            assert!(
                matches!(r, Ok(()) | Err(LedgerError::AlreadyExists { .. })),
                "{r:?}"
            );
        }
        let stored = storage(&moto, "ledger-race/p")
            .get(&key)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored, format!("racer {}", winners[0]));
    }
}

async fn futures_join<T: Send + 'static>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn retention_puts_the_object_under_compliance_lock() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("ledger-worm", true).unwrap();
    let s = storage(&moto, "ledger-worm/prod");
    let until: DateTime<Utc> = (Utc::now() + chrono::Duration::days(1)).trunc_subsecs(0);
    s.put_new(
        "runs/000001.zip",
        Bytes::from_static(b"sealed"),
        Some(until),
    )
    .await
    .unwrap();

    let object = "/ledger-worm/prod/runs/000001.zip";
    let (status, headers, _) = moto.request("HEAD", object, &[]).unwrap();
    assert_eq!(status, 200);
    let version = header(&headers, "x-amz-version-id")
        .expect("an Object Lock bucket versions its objects")
        .to_string();

    // GetObjectRetention. moto 5.2 does not implement it and answers with the object and its
    // lock headers instead (what HeadObject also returns); AWS answers with a Retention document.
    let (status, headers, body) = moto
        .request(
            "GET",
            &format!("{object}?retention&versionId={version}"),
            &[],
        )
        .unwrap();
    assert_eq!(status, 200);
    let body = String::from_utf8_lossy(&body).into_owned();
    let (mode, date) = if body.contains("<Retention") {
        let tag = |t: &str| {
            let start = body.find(&format!("<{t}>")).unwrap() + t.len() + 2;
            body[start..start + body[start..].find('<').unwrap()].to_string()
        };
        (tag("Mode"), tag("RetainUntilDate"))
    } else {
        assert_eq!(
            body, "sealed",
            "neither a Retention document nor the object"
        );
        (
            header(&headers, "x-amz-object-lock-mode")
                .unwrap_or("none")
                .to_string(),
            header(&headers, "x-amz-object-lock-retain-until-date")
                .unwrap_or("none")
                .to_string(),
        )
    };
    assert_eq!(mode, "COMPLIANCE");
    let date = DateTime::parse_from_rfc3339(&date).unwrap();
    assert_eq!(date.with_timezone(&Utc).trunc_subsecs(0), until);

    // WORM: the version cannot be deleted, and the key cannot be written again.
    let (status, _, body) = moto
        .request("DELETE", &format!("{object}?versionId={version}"), &[])
        .unwrap();
    assert!(
        !(200..300).contains(&status),
        "deleting a locked version succeeded: {status} {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(s.get("runs/000001.zip").await.unwrap().unwrap(), "sealed");
    let again = s
        .put_new("runs/000001.zip", Bytes::from_static(b"x"), Some(until))
        .await;
    assert!(
        matches!(again, Err(LedgerError::AlreadyExists { .. })),
        "{again:?}"
    );

    // An unlocked object in the same bucket can be deleted: the refusal above is the lock.
    s.put_new("keys/000001.json", Bytes::from_static(b"k"), None)
        .await
        .unwrap();
    let (_, headers, _) = moto
        .request("HEAD", "/ledger-worm/prod/keys/000001.json", &[])
        .unwrap();
    let v = header(&headers, "x-amz-version-id").unwrap().to_string();
    let (status, _, _) = moto
        .request(
            "DELETE",
            &format!("/ledger-worm/prod/keys/000001.json?versionId={v}"),
            &[],
        )
        .unwrap();
    assert_eq!(status, 204);
}

#[tokio::test]
async fn retention_on_a_bucket_without_object_lock_fails_before_writing() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("ledger-nolock", false).unwrap();
    let s = storage(&moto, "ledger-nolock/a/b");
    let until = Utc::now() + chrono::Duration::days(30);
    let err = s
        .put_new("runs/000001.zip", Bytes::from_static(b"x"), Some(until))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LedgerError::Storage { .. }), "{err:?}");
    assert!(
        text.starts_with("s3://ledger-nolock/a/b: runs/000001.zip: "),
        "{text}"
    );
    assert!(
        text.contains("bucket ledger-nolock does not have Object Lock enabled"),
        "{text}"
    );
    assert!(text.contains("nothing was written"), "{text}");
    assert!(s.get("runs/000001.zip").await.unwrap().is_none());
}

#[tokio::test]
async fn wrong_credentials_are_reported_naming_the_location() {
    let Some(moto) = Moto::start_with_auth() else {
        return;
    };
    let s = storage(&moto, "ledger-auth/p");
    for result in [
        s.list("runs/").await.map(|_| ()),
        s.put_new("runs/000001.zip", Bytes::from_static(b"x"), None)
            .await,
    ] {
        let err = result.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LedgerError::Storage { .. }), "{err:?}");
        assert!(text.starts_with("s3://ledger-auth/p: runs/"), "{text}");
        assert!(
            text.contains("the credentials were refused: check AWS_ACCESS_KEY_ID"),
            "{text}"
        );
        assert!(text.contains("InvalidAccessKeyId"), "{text}");
        assert!(!text.contains("<Error>"), "{text}");
        assert!(!text.contains(moto::SECRET_ACCESS_KEY), "{text}");
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_quickly_naming_the_location() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = S3Storage::from_env_with(
        "ledger-gone/p",
        [
            ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", moto::SECRET_ACCESS_KEY),
            ("AWS_ENDPOINT_URL", &format!("http://127.0.0.1:{port}")),
            ("AWS_ALLOW_HTTP", "true"),
        ],
    )
    .unwrap();
    let started = Instant::now();
    let err = s
        .put_new("runs/000001.zip", Bytes::from_static(b"x"), None)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(30));
    let text = err.to_string();
    assert!(
        text.starts_with("s3://ledger-gone/p: runs/000001.zip: writing: "),
        "{text}"
    );
    assert!(!text.contains(moto::SECRET_ACCESS_KEY), "{text}");

    // Without AWS_ALLOW_HTTP a plain-http endpoint is refused rather than used.
    let https_only = S3Storage::from_env_with(
        "ledger-gone/p",
        [
            ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", moto::SECRET_ACCESS_KEY),
            ("AWS_ENDPOINT_URL", &format!("http://127.0.0.1:{port}")),
        ],
    )
    .unwrap();
    let text = https_only.list("runs/").await.unwrap_err().to_string();
    assert!(
        text.starts_with("s3://ledger-gone/p: runs/: listing: "),
        "{text}"
    );
}

#[test]
fn debug_shows_no_secret_and_open_storage_routes_s3() {
    let s = S3Storage::from_env_with(
        "ledger-debug/x",
        [
            ("AWS_ACCESS_KEY_ID", moto::ACCESS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", moto::SECRET_ACCESS_KEY),
            ("AWS_SESSION_TOKEN", "session-token-secret-value"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
        ],
    )
    .unwrap();
    let debug = format!("{s:?}");
    assert!(debug.contains("s3://ledger-debug/x"), "{debug}");
    assert!(debug.contains("http://127.0.0.1:1/ledger-debug"), "{debug}");
    assert!(!debug.contains(moto::SECRET_ACCESS_KEY), "{debug}");
    assert!(!debug.contains("session-token-secret-value"), "{debug}");

    let opened = soc2_ledger::open_storage("s3://ledger-debug/a/b").unwrap();
    assert_eq!(opened.location(), "s3://ledger-debug/a/b");
    assert!(format!("{opened:?}").starts_with("S3Storage"));
    assert!(soc2_ledger::open_storage("s3://No_Such/x").is_err());
}
