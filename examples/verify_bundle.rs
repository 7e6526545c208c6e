//! Verifying a bundle as a library, the way an auditor's tooling would: against a pinned
//! public key, getting back every problem found rather than the first.
//!
//! `cargo run --example verify_bundle -- BUNDLE.zip KEY.pub` checks your own bundle; with no
//! arguments it builds a small signed bundle, verifies it, then tampers with a copy and shows
//! the verifier's report on it.

use std::path::Path;

use soc2_evidence::bundle::{
    build_bundle, verify_bundle, BundleMetadata, BundleOptions, SigningKey, TrustedKey,
    VerifyOptions,
};

fn check(zip: &Path, trust: &TrustedKey) -> Result<bool, Box<dyn std::error::Error>> {
    let report = verify_bundle(zip, trust, &VerifyOptions::default())?;
    println!("{report}");
    println!(
        "as JSON: {} problem(s) {}",
        report.problems.len(),
        serde_json::to_string(&report.problems)?
    );
    Ok(report.is_ok())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [zip, pubkey] = args.as_slice() {
        let ok = check(Path::new(zip), &TrustedKey::from_file(Path::new(pubkey))?)?;
        std::process::exit(if ok { 0 } else { 1 });
    }

    let tmp = tempfile::tempdir()?;
    let run = tmp.path().join("run");
    std::fs::create_dir_all(run.join("hr"))?;
    std::fs::write(
        run.join("run.json"),
        r#"{"status":"complete","note":"a minimal run directory"}"#,
    )?;
    std::fs::write(
        run.join("hr/employees.jsonl"),
        "{\"kind\":\"hr.employee\",\"schema_version\":1,\"subject_id\":\"e1\",\"data\":{\"name\":\"Alice\"}}\n",
    )?;
    let key = SigningKey::generate();
    let meta = BundleMetadata {
        organization: "Acme Corp".into(),
        period_start: "2026-01-01".parse()?,
        period_end: "2026-06-30".parse()?,
        collected_at: "2026-07-01T08:00:00Z".parse()?,
        external_identifier: None,
        previous_bundle_sha256: None,
        extra_info: Vec::new(),
    };
    let zip = tmp.path().join("evidence.zip");
    build_bundle(&run, &key, &meta, &zip, &BundleOptions::default())?;
    let trust = key.trusted_key();

    println!("--- the bundle as written");
    if !check(&zip, &trust)? {
        return Err("a freshly written bundle should verify".into());
    }

    println!("\n--- the same bundle checked against another organisation's key");
    if check(&zip, &SigningKey::generate().trusted_key())? {
        return Err("a bundle must not verify against a key that did not sign it".into());
    }
    Ok(())
}
