//! RFC 3161 time-stamps against a local TSA answered by `openssl ts -reply` (skipped without
//! openssl): the token is stored and verifies, by us and by `openssl ts -verify`; a token
//! over other data, from another TSA, or missing is rejected and named; a TSA that fails
//! leaves nothing at the destination.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::process::Command;
use std::sync::Arc;

use soc2_bundle::bagit::{TAGMANIFEST, TIMESTAMP};
use soc2_bundle::timestamp::{self, TimestampError, Timestamper};
use soc2_bundle::{
    build_bundle, verify_bundle, BundleError, BundleOptions, Problem, SigningKey, VerifyOptions,
};
use soc2_sample::tsa::LocalTsa;

/// The test's TSA client: hands the query straight to `openssl ts -reply`.
struct Direct(Arc<LocalTsa>);

impl Timestamper for Direct {
    fn timestamp(&self, query: &[u8]) -> Result<Vec<u8>, TimestampError> {
        self.0
            .reply(query)
            .map_err(|detail| TimestampError::Unreachable {
                url: "local".into(),
                detail,
            })
    }
}

/// A TSA that answers with a token it made for other data.
struct Replaying(Vec<u8>);

impl Timestamper for Replaying {
    fn timestamp(&self, _query: &[u8]) -> Result<Vec<u8>, TimestampError> {
        Ok(self.0.clone())
    }
}

fn opts(t: impl Timestamper + 'static) -> BundleOptions {
    BundleOptions {
        timestamper: Some(Arc::new(t)),
        ..BundleOptions::default()
    }
}

fn verify_with_ca(
    zip: &std::path::Path,
    trust: &soc2_bundle::TrustedKey,
    ca: &std::path::Path,
) -> soc2_bundle::VerifyReport {
    let opts = VerifyOptions {
        tsa_ca: Some(ca.to_path_buf()),
        ..VerifyOptions::default()
    };
    verify_bundle(zip, trust, &opts).unwrap()
}

fn entry(zip: &std::path::Path, suffix: &str) -> Option<Vec<u8>> {
    common::read_entries(zip)
        .into_iter()
        .find(|(n, _)| n.ends_with(suffix))
        .map(|(_, c)| c)
}

#[test]
fn a_time_stamped_bundle_verifies_and_names_its_time() {
    let Some(tsa) = LocalTsa::start("Test TSA") else {
        return;
    };
    let tsa = Arc::new(tsa);
    let t = tempfile::tempdir().unwrap();
    let run = common::make_run_dir(t.path());
    let key = SigningKey::generate();
    let out = t.path().join("ev.zip");
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    build_bundle(
        &run,
        &key,
        &common::meta(),
        &out,
        &opts(Direct(tsa.clone())),
    )
    .unwrap();
    let after = chrono::Utc::now() + chrono::Duration::seconds(5);
    let token = entry(&out, TIMESTAMP).expect("the token is stored");
    let tagmanifest = entry(&out, TAGMANIFEST).unwrap();

    let ca = fs::read(tsa.ca_pem()).unwrap();
    let info = timestamp::verify_token(&token, &tagmanifest, &ca).unwrap();
    assert!(info.gen_time > before && info.gen_time < after, "{info:?}");
    assert!(
        info.tsa.as_deref().unwrap().contains("Test TSA"),
        "{info:?}"
    );

    let trust = key.trusted_key();
    let verified = verify_with_ca(&out, &trust, &tsa.ca_pem());
    assert!(verified.is_ok(), "{verified}");
    assert!(verified.timestamp_trusted);
    assert_eq!(verified.timestamp.as_ref().unwrap().gen_time, info.gen_time);
    assert!(verified.to_string().contains("time-stamped"), "{verified}");

    // Without the CA the token is read but not trusted, and the report says so.
    let unchecked = verify_bundle(&out, &trust, &VerifyOptions::default()).unwrap();
    assert!(unchecked.is_ok(), "{unchecked}");
    assert!(!unchecked.timestamp_trusted);
    assert!(
        unchecked.to_string().contains("NOT verified"),
        "{unchecked}"
    );

    // The README's stock recipe, on the unzipped bag.
    if let Some([openssl, unzip]) = soc2_sample::stock_tools::find([
        soc2_sample::stock_tools::StockTool::Openssl,
        soc2_sample::stock_tools::StockTool::Unzip,
    ]) {
        let x = t.path().join("x");
        let o = Command::new(unzip)
            .arg("-q")
            .arg(&out)
            .arg("-d")
            .arg(&x)
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        let bag = fs::read_dir(&x).unwrap().next().unwrap().unwrap().path();
        if let Err(said) = soc2_sample::tsa::openssl_ts_verify(&openssl, &bag, &tsa.ca_pem()) {
            panic!("openssl ts -verify: {said}");
        }
    }
}

#[test]
fn tokens_over_other_data_or_from_another_tsa_are_rejected_and_named() {
    let (Some(tsa), Some(other)) = (LocalTsa::start("Test TSA"), LocalTsa::start("Other TSA"))
    else {
        return;
    };
    let tsa = Arc::new(tsa);
    let t = tempfile::tempdir().unwrap();
    let run = common::make_run_dir(t.path());
    let key = SigningKey::generate();
    let trust = key.trusted_key();
    let out = t.path().join("ev.zip");
    build_bundle(
        &run,
        &key,
        &common::meta(),
        &out,
        &opts(Direct(tsa.clone())),
    )
    .unwrap();
    let token = entry(&out, TIMESTAMP).unwrap();
    let tagmanifest = entry(&out, TAGMANIFEST).unwrap();

    // Signed by a TSA the auditor does not trust.
    let other_ca = fs::read(other.ca_pem()).unwrap();
    let err = timestamp::verify_token(&token, &tagmanifest, &other_ca).unwrap_err();
    assert!(matches!(err, TimestampError::Untrusted(_)), "{err}");
    let r = verify_with_ca(&out, &trust, &other.ca_pem());
    assert!(
        matches!(&r.problems[..], [Problem::Timestamp { detail }] if detail.contains("does not chain")),
        "{r}"
    );

    // Over other data: the token of another bundle put into this one.
    let ca = fs::read(tsa.ca_pem()).unwrap();
    let err = timestamp::verify_token(&token, b"other data", &ca).unwrap_err();
    assert!(matches!(err, TimestampError::WrongImprint { .. }), "{err}");
    let mut meta2 = common::meta();
    meta2.organization = "Other Corp".into();
    let out2 = t.path().join("ev2.zip");
    build_bundle(&run, &key, &meta2, &out2, &opts(Direct(tsa.clone()))).unwrap();
    let swapped = t.path().join("swapped.zip");
    common::rewrite(&out2, &swapped, |entries| {
        for (n, c) in entries.iter_mut() {
            if n.ends_with(TIMESTAMP) {
                *c = token.clone();
            }
        }
    });
    let r = verify_with_ca(&swapped, &trust, &tsa.ca_pem());
    assert!(
        matches!(&r.problems[..], [Problem::Timestamp { detail }] if detail.contains("over other data")),
        "{r}"
    );

    // A TSA that answers with that old token is caught while bundling (imprint and nonce).
    let out3 = t.path().join("ev3.zip");
    let err = build_bundle(&run, &key, &meta2, &out3, &opts(Replaying(token.clone()))).unwrap_err();
    assert!(matches!(err, BundleError::Timestamp(_)), "{err}");
    assert!(!out3.exists());

    // A tampered token's signature fails.
    let mut bad = token.clone();
    let at = bad.len() - 10;
    bad[at] ^= 0x01;
    let err = timestamp::verify_token(&bad, &tagmanifest, &ca).unwrap_err();
    assert!(
        matches!(
            err,
            TimestampError::BadSignature(_) | TimestampError::Malformed(_)
        ),
        "{err}"
    );

    // No token at all, when the auditor asks for one.
    let plain = t.path().join("plain.zip");
    build_bundle(
        &run,
        &key,
        &common::meta(),
        &plain,
        &BundleOptions::default(),
    )
    .unwrap();
    let r = verify_with_ca(&plain, &trust, &tsa.ca_pem());
    assert!(
        matches!(&r.problems[..], [Problem::TimestampMissing]),
        "{r}"
    );
}

#[test]
fn a_failing_tsa_leaves_nothing_at_the_destination() {
    struct Down;
    impl Timestamper for Down {
        fn timestamp(&self, _query: &[u8]) -> Result<Vec<u8>, TimestampError> {
            Err(TimestampError::Unreachable {
                url: "http://127.0.0.1:9/tsa".into(),
                detail: "connection refused".into(),
            })
        }
    }
    let t = tempfile::tempdir().unwrap();
    let run = common::make_run_dir(t.path());
    let key = SigningKey::generate();
    let out = t.path().join("ev.zip");
    let err = build_bundle(&run, &key, &common::meta(), &out, &opts(Down)).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("127.0.0.1:9") && text.contains("no bundle was written"),
        "{text}"
    );
    assert!(!out.exists());
    let left: Vec<_> = fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("ev.zip"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // Garbage instead of a TimeStampResp is refused the same way.
    let err = build_bundle(
        &run,
        &key,
        &common::meta(),
        &out,
        &opts(Replaying(b"<html>maintenance</html>".to_vec())),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not a valid RFC 3161"), "{err}");
    assert!(!out.exists());
}
