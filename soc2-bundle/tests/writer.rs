//! Writer behaviour: reproducibility, archive shape, refusals, atomic output, chaining.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;

use soc2_bundle::{
    build_bundle, verify_bundle, BundleError, BundleOptions, Compression, Problem, SigningKey,
    VerifyOptions,
};

#[test]
fn reproducible_byte_for_byte() {
    let t = tempfile::tempdir().unwrap();
    let run = common::make_run_dir(t.path());
    let key = SigningKey::generate();
    let a = t.path().join("a.zip");
    let b = t.path().join("b.zip");
    let sa = build_bundle(&run, &key, &common::meta(), &a, &BundleOptions::default()).unwrap();
    let sb = build_bundle(&run, &key, &common::meta(), &b, &BundleOptions::default()).unwrap();
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    assert_eq!(sa.sha256, sb.sha256);
    assert_eq!(sa.sha256, soc2_bundle::sha256_file(&a).unwrap());
    assert_eq!(sa.files, 7);
    // Stored works too and verifies.
    let c = t.path().join("c.zip");
    let opts = BundleOptions {
        compression: Compression::Stored,
        ..BundleOptions::default()
    };
    build_bundle(&run, &key, &common::meta(), &c, &opts).unwrap();
    assert!(
        verify_bundle(&c, &key.trusted_key(), &VerifyOptions::default())
            .unwrap()
            .is_ok()
    );
}

#[test]
fn archive_shape() {
    let t = tempfile::tempdir().unwrap();
    let (_, zip, s) = common::build(t.path());
    let mut a = zip::ZipArchive::new(fs::File::open(&zip).unwrap()).unwrap();
    let mut data_names = Vec::new();
    for i in 0..a.len() {
        let f = a.by_index_raw(i).unwrap();
        assert!(f.name().starts_with(&format!("{}/", s.root)));
        assert_eq!(f.unix_mode().unwrap() & 0o777, 0o644, "{}", f.name());
        assert!(matches!(
            f.compression(),
            zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated
        ));
        let dt = f.last_modified().unwrap();
        assert_eq!((dt.year(), dt.month(), dt.day()), (1980, 1, 1));
        if f.name().contains("/data/") {
            data_names.push(f.name().to_string());
        }
    }
    let mut sorted = data_names.clone();
    sorted.sort();
    assert_eq!(data_names, sorted);
    let info = common::read_entries(&zip)
        .into_iter()
        .find(|(n, _)| n.ends_with("/bag-info.txt"))
        .unwrap()
        .1;
    let info = String::from_utf8(info).unwrap();
    for label in [
        "Source-Organization: Acme Corp",
        "Bagging-Date: 2026-07-01",
        "Payload-Oxum: ",
        "Audit-Period-Start: 2026-01-01",
        "Audit-Period-End: 2026-06-30",
        "Collected-At: 2026-07-01T08:00:00Z",
        "Signer-Key-Fingerprint: SHA256:",
    ] {
        assert!(info.contains(label), "{label} in {info}");
    }
}

fn expect_refusal(setup: impl FnOnce(&std::path::Path), check: impl FnOnce(&BundleError)) {
    let t = tempfile::tempdir().unwrap();
    let run = common::make_run_dir(t.path());
    setup(&run);
    let out = t.path().join("out.zip");
    let err = build_bundle(
        &run,
        &SigningKey::generate(),
        &common::meta(),
        &out,
        &BundleOptions::default(),
    )
    .unwrap_err();
    check(&err);
    assert!(!err.to_string().is_empty());
    assert!(!out.exists(), "nothing at the destination after a refusal");
    let leftovers: Vec<_> = fs::read_dir(t.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary file left behind");
}

#[test]
fn refuses_unfinished_runs() {
    expect_refusal(
        |r| fs::remove_file(r.join("run.json")).unwrap(),
        |e| assert!(matches!(e, BundleError::RunJsonMissing { .. }), "{e}"),
    );
    expect_refusal(
        |r| fs::write(r.join("run.json"), r#"{"status":"running"}"#).unwrap(),
        |e| {
            assert!(
                matches!(e, BundleError::RunIncomplete { status, .. } if status == "running"),
                "{e}"
            )
        },
    );
    expect_refusal(
        |r| fs::write(r.join("run.json"), "{").unwrap(),
        |e| assert!(matches!(e, BundleError::RunJsonInvalid { .. }), "{e}"),
    );
}

#[test]
fn refuses_bad_names_and_symlinks() {
    for bad in ["a%20b.json", "a\nb.json", "a\rb.json", "a\\b.json"] {
        expect_refusal(
            |r| fs::write(r.join(bad), "x").unwrap(),
            |e| {
                assert!(
                    matches!(e, BundleError::InvalidPayloadName { path, .. } if path.ends_with(bad)),
                    "{e}"
                )
            },
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        expect_refusal(
            |r| fs::write(r.join(std::ffi::OsStr::from_bytes(b"bad\xff.json")), "x").unwrap(),
            |e| assert!(matches!(e, BundleError::InvalidPayloadName { .. }), "{e}"),
        );
        expect_refusal(
            |r| std::os::unix::fs::symlink("/etc/passwd", r.join("okta/link")).unwrap(),
            |e| {
                assert!(
                    matches!(e, BundleError::Symlink { path } if path.ends_with("okta/link")),
                    "{e}"
                )
            },
        );
    }
}

#[test]
fn refuses_output_inside_run_dir() {
    let t = tempfile::tempdir().unwrap();
    let run = common::make_run_dir(t.path());
    let out = run.join("evidence.zip");
    let err = build_bundle(
        &run,
        &SigningKey::generate(),
        &common::meta(),
        &out,
        &BundleOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, BundleError::OutputInsideRunDir { .. }),
        "{err}"
    );
}

#[test]
fn chain_link() {
    let t = tempfile::tempdir().unwrap();
    let (key, first, s1) = common::build(t.path());
    let mut meta = common::meta();
    meta.previous_bundle_sha256 = Some(s1.sha256.clone());
    let second = t.path().join("second.zip");
    build_bundle(
        &t.path().join("run"),
        &key,
        &meta,
        &second,
        &BundleOptions::default(),
    )
    .unwrap();
    let trust = key.trusted_key();
    let opts = VerifyOptions {
        previous: Some(first.clone()),
        ..Default::default()
    };
    assert!(verify_bundle(&second, &trust, &opts).unwrap().is_ok());

    // Wrong previous bundle: the link does not match.
    let opts = VerifyOptions {
        previous: Some(second.clone()),
        ..Default::default()
    };
    let r = verify_bundle(&second, &trust, &opts).unwrap();
    assert!(
        r.problems
            .iter()
            .any(|p| matches!(p, Problem::ChainMismatch { .. })),
        "{r}"
    );
    // First bundle has no link at all.
    let opts = VerifyOptions {
        previous: Some(second),
        ..Default::default()
    };
    let r = verify_bundle(&first, &trust, &opts).unwrap();
    assert!(
        r.problems
            .iter()
            .any(|p| matches!(p, Problem::ChainLinkMissing { .. })),
        "{r}"
    );

    let mut bad = common::meta();
    bad.previous_bundle_sha256 = Some("not-a-digest".into());
    let err = build_bundle(
        &t.path().join("run"),
        &key,
        &bad,
        &t.path().join("x.zip"),
        &BundleOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, BundleError::InvalidMetadata(_)));
}

/// ZIP64: a payload file past 4 GiB (sparse, so cheap to create) bundles and verifies.
/// Slow (writes ~4 GiB); run with `cargo test -p soc2-bundle --release -- --ignored zip64`.
#[test]
#[ignore = "writes more than 4 GiB"]
fn zip64_past_4_gib() {
    let t = tempfile::tempdir().unwrap();
    let run = common::make_run_dir(t.path());
    let big = fs::File::create(run.join("okta/big.jsonl")).unwrap();
    big.set_len((4 << 30) + 4096).unwrap();
    drop(big);
    let key = SigningKey::generate();
    let out = t.path().join("big.zip");
    let opts = BundleOptions {
        compression: Compression::Stored,
        ..BundleOptions::default()
    };
    let s = build_bundle(&run, &key, &common::meta(), &out, &opts).unwrap();
    assert!(fs::metadata(&out).unwrap().len() > 4 << 30);
    assert_eq!(s.files, 8);
    let r = verify_bundle(&out, &key.trusted_key(), &VerifyOptions::default()).unwrap();
    assert!(r.is_ok(), "{r}");
    assert_eq!(r.payload_bytes, s.payload_bytes);
}

/// An insider who edits bag-info.txt and re-signs with the real key still cannot make the
/// Payload-Oxum disagree with the payload unnoticed.
#[test]
fn payload_oxum_checked_even_when_resigned() {
    use sha2::Digest;
    let t = tempfile::tempdir().unwrap();
    let (key, zip, _) = common::build(t.path());
    let dst = t.path().join("oxum.zip");
    common::rewrite(&zip, &dst, |e| {
        let info = e
            .iter_mut()
            .find(|(n, _)| n.ends_with("/bag-info.txt"))
            .unwrap();
        let text = String::from_utf8(info.1.clone()).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("Payload-Oxum:"))
            .unwrap()
            .to_string();
        info.1 = text.replace(&line, "Payload-Oxum: 1.1").into_bytes();
        let digest = |name: &str, e: &[(String, Vec<u8>)]| {
            let c = &e.iter().find(|(n, _)| n.ends_with(name)).unwrap().1;
            hex::encode(sha2::Sha256::digest(c))
        };
        let tm = format!(
            "{}  bagit.txt\n{}  bag-info.txt\n{}  manifest-sha256.txt\n",
            digest("/bagit.txt", e),
            digest("/bag-info.txt", e),
            digest("/manifest-sha256.txt", e)
        );
        let sig = key.sign_armored(tm.as_bytes()).unwrap();
        e.iter_mut()
            .find(|(n, _)| n.ends_with("/tagmanifest-sha256.txt"))
            .unwrap()
            .1 = tm.into_bytes();
        e.iter_mut()
            .find(|(n, _)| n.ends_with(".sshsig"))
            .unwrap()
            .1 = sig.into_bytes();
    });
    let r = verify_bundle(&dst, &key.trusted_key(), &VerifyOptions::default()).unwrap();
    assert_eq!(common::kinds(&r.problems), vec!["payload_oxum"], "{r}");
}
