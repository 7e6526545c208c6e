//! Embedding the whole pipeline in your own program: collect with a collector built from a
//! config, run the checks, write the auditor's report, and build a signed bundle — all through
//! the library, no CLI.
//!
//! `cargo run --example embed_pipeline`

use soc2_evidence::bundle::{build_bundle, BundleMetadata, BundleOptions, SigningKey};
use soc2_evidence::core::{EnvSecrets, Runner};
use soc2_evidence::report::{write_report, ReportOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let work = tempfile::tempdir()?;

    // 1. Configure: here sample backup logs (restic and Velero formats) stand in for yours.
    let logs = work.path().join("logs");
    soc2_sample::backups::write_logs(&logs)?;
    let config = soc2_evidence::collectors::registry().parse_config(
        &format!(
            "[organization]\nname = \"Acme Corp\"\n\n{}",
            soc2_sample::backups::config_toml(&logs)
        ),
        "embedded config",
        work.path(),
    )?;

    // 2. Collect and check.
    let run_dir = work.path().join("run");
    // Secrets (none here) come from the environment; `MapSecrets` hands them over in memory.
    let manifest = Runner::from_config(&config, &EnvSecrets)?
        .run("2026-01-01..2026-06-30".parse()?, &run_dir)
        .await?;
    println!(
        "collected: {} collector(s), findings {} pass / {} fail",
        manifest.collectors.len(),
        manifest.findings.pass,
        manifest.findings.fail
    );

    // 3. Report and bundle. In production, load your key with SigningKey::load(path, passphrase).
    let key = SigningKey::generate();
    write_report(
        &run_dir,
        &ReportOptions {
            signer_fingerprint: Some(key.fingerprint()),
            previous: None,
        },
    )?;
    let meta = BundleMetadata {
        organization: "Acme Corp".into(),
        period_start: manifest.period.start(),
        period_end: manifest.period.end(),
        collected_at: manifest.finished_at.unwrap_or(manifest.started_at),
        external_identifier: None,
        previous_bundle_sha256: None,
        extra_info: Vec::new(),
    };
    let zip = work.path().join("evidence.zip");
    let summary = build_bundle(&run_dir, &key, &meta, &zip, &BundleOptions::default())?;
    println!(
        "bundle {} ({} files, sha256 {}) signed by {}",
        summary.root, summary.files, summary.sha256, summary.fingerprint
    );
    if !manifest.all_collectors_ok() || manifest.findings.fail == 0 {
        return Err(
            "expected every collector to succeed and the planted backup gaps to fail".into(),
        );
    }
    Ok(())
}
