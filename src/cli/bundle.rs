//! `soc2-evidence bundle` and `soc2-evidence verify`.

use std::path::Path;
use std::sync::Arc;

use crate::diff::diff_runs;
use crate::report::{write_report, PreviousBundle, ReportOptions};
use crate::sample::RunSource;
use crate::timestamp::HttpTsa;
use soc2_bundle::timestamp::Timestamper;
use soc2_bundle::{
    allowed_signers_line, build_bundle, sha256_file, verify_bundle, BundleMetadata, BundleOptions,
    BundleSummary, SigningKey, TrustedKey, VerifyOptions, VerifyReport,
};
use soc2_evidence_core::{EvidenceStore, RunStatus};

use super::keys::load_signing_key;
use super::{CliError, EXIT_FAILED, EXIT_OK};

/// Writes the report into the run directory and builds the signed bundle.
pub fn bundle_run(
    dir: &Path,
    key: &SigningKey,
    out: &Path,
    previous: Option<&Path>,
    tsa: Option<&HttpTsa>,
) -> Result<BundleSummary, CliError> {
    let previous = previous.map(|p| previous_bundle(p, dir)).transpose()?;
    let digest = previous.as_ref().map(|p| p.sha256.clone());
    bundle_inner(dir, key, out, digest, previous, tsa)
}

/// The previous bundle's digest and what changed since it (the report's changes section).
fn previous_bundle(prev: &Path, dir: &Path) -> Result<PreviousBundle, CliError> {
    let sha256 = sha256_file(prev).map_err(|e| CliError::Other(e.to_string()))?;
    let old =
        RunSource::open(prev).map_err(|e| CliError::Other(format!("the previous bundle: {e}")))?;
    let new = RunSource::open(dir).map_err(|e| CliError::Other(e.to_string()))?;
    let mut diff = diff_runs(&old, &new)
        .map_err(|e| CliError::Other(format!("comparing with the previous bundle: {e}")))?;
    // Paths of this machine would make the bundle depend on where it was built.
    let name = prev
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    diff.old = name.clone().into();
    diff.new = "this bundle".into();
    Ok(PreviousBundle { name, sha256, diff })
}

/// [`bundle_run`] with the previous bundle given by its digest (a ledger run's chain link).
/// A period assembled from a ledger names every run bundle it was made from in bag-info.txt.
pub fn bundle_run_chained(
    dir: &Path,
    key: &SigningKey,
    out: &Path,
    previous_bundle_sha256: Option<String>,
    tsa: Option<&HttpTsa>,
) -> Result<BundleSummary, CliError> {
    bundle_inner(dir, key, out, previous_bundle_sha256, None, tsa)
}

fn bundle_inner(
    dir: &Path,
    key: &SigningKey,
    out: &Path,
    previous_bundle_sha256: Option<String>,
    previous: Option<PreviousBundle>,
    tsa: Option<&HttpTsa>,
) -> Result<BundleSummary, CliError> {
    let store = EvidenceStore::open(dir)?;
    let manifest = store.manifest();
    if manifest.status != RunStatus::Complete {
        return Err(CliError::Other(format!(
            "{}: run.json says the run is {:?}, not complete; only a complete run can be bundled",
            dir.display(),
            manifest.status
        )));
    }
    write_report(
        dir,
        &ReportOptions {
            signer_fingerprint: Some(key.fingerprint()),
            previous,
        },
    )
    .map_err(|e| CliError::Other(format!("writing the report: {e}")))?;
    let extra_info = match store.ledger_period() {
        Some(p) => {
            let mut lines = vec![("Ledger-Location".to_string(), p.ledger.clone())];
            lines.extend(p.runs.iter().map(|r| {
                (
                    "Ledger-Run".to_string(),
                    format!(
                        "{:06} sha256:{} {}",
                        r.seq,
                        r.sha256,
                        r.collected_at
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                )
            }));
            lines
        }
        None => Vec::new(),
    };
    let meta = BundleMetadata {
        organization: manifest
            .organization
            .clone()
            .unwrap_or_else(|| "unnamed organisation".into()),
        period_start: manifest.period.start(),
        period_end: manifest.period.end(),
        // The run's own end time, not the clock: bundling the same run twice is reproducible.
        collected_at: manifest.finished_at.unwrap_or(manifest.started_at),
        external_identifier: None,
        previous_bundle_sha256,
        extra_info,
    };
    let options = BundleOptions {
        timestamper: tsa.map(|t| Arc::new(t.clone()) as Arc<dyn Timestamper>),
        ..BundleOptions::default()
    };
    build_bundle(dir, key, &meta, out, &options).map_err(|e| CliError::Other(e.to_string()))
}

/// The TSA to time-stamp a run's bundle with: `--tsa-url`, else the run's `[bundle] tsa_url`
/// (saved in its `config.json`).
pub fn tsa_for(dir: &Path, flag: Option<&str>) -> Result<Option<HttpTsa>, CliError> {
    let url = match flag {
        Some(u) => Some(u.to_string()),
        None => std::fs::read(dir.join(soc2_evidence_core::EFFECTIVE_CONFIG_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["bundle"]["tsa_url"].as_str().map(str::to_string)),
    };
    url.map(|u| HttpTsa::new(&u).map_err(|e| CliError::Usage(e.to_string())))
        .transpose()
}

/// `soc2-evidence bundle DIR --key KEY -o OUT [--previous PREV] [--tsa-url URL]`.
pub fn bundle(
    dir: &Path,
    key_path: &Path,
    out: &Path,
    previous: Option<&Path>,
    tsa_url: Option<&str>,
    json: bool,
    quiet: bool,
) -> Result<u8, CliError> {
    let key = load_signing_key(key_path)?;
    let tsa = tsa_for(dir, tsa_url)?;
    let summary = bundle_run(dir, &key, out, previous, tsa.as_ref())?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).map_err(|e| CliError::Other(e.to_string()))?
        );
    } else if !quiet {
        println!("bundle:      {}", summary.path.display());
        println!("sha256:      {}", summary.sha256);
        println!(
            "files:       {} ({} bytes of evidence)",
            summary.files, summary.payload_bytes
        );
        println!("signed by:   {}", summary.fingerprint);
        if let Some(t) = &summary.timestamp {
            println!(
                "time-stamp:  {} by {}",
                t.gen_time
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                t.tsa.as_deref().unwrap_or("the TSA")
            );
        }
        println!("\nThe auditor pins your key with this allowed_signers line:");
        println!("{}", allowed_signers_line("evidence@organisation", &key));
        print_stock_recipe(&summary);
    }
    Ok(EXIT_OK)
}

/// Prints the commands that check a bundle with stock tools only.
pub fn print_stock_recipe(summary: &BundleSummary) {
    println!("\nVerify by hand with stock tools:");
    println!(
        "  unzip -q {} && cd {}/",
        summary.path.display(),
        summary.root
    );
    println!(
        "  ssh-keygen -Y verify -f allowed_signers -I evidence@organisation -n soc2-evidence \\"
    );
    println!("    -s signatures/tagmanifest-sha256.txt.sshsig < tagmanifest-sha256.txt");
    println!("  sha256sum -c --strict tagmanifest-sha256.txt manifest-sha256.txt");
    if summary.timestamp.is_some() {
        println!("  openssl ts -verify -data tagmanifest-sha256.txt \\");
        println!("    -in signatures/tagmanifest-sha256.txt.tsr -CAfile TSA-CA.pem");
    }
}

/// Verifies a bundle and returns the report.
pub fn verify_file(
    zip: &Path,
    pubkey: &Path,
    previous: Option<&Path>,
    tsa_ca: Option<&Path>,
) -> Result<VerifyReport, CliError> {
    let trust = TrustedKey::from_file(pubkey).map_err(|e| CliError::Other(e.to_string()))?;
    let opts = VerifyOptions {
        previous: previous.map(Path::to_path_buf),
        tsa_ca: tsa_ca.map(Path::to_path_buf),
        ..VerifyOptions::default()
    };
    verify_bundle(zip, &trust, &opts).map_err(|e| CliError::Other(e.to_string()))
}

/// `soc2-evidence verify OUT.zip --pubkey KEY.pub [--previous PREV] [--tsa-ca CA.pem] [--json]`.
pub fn verify(
    zip: &Path,
    pubkey: &Path,
    previous: Option<&Path>,
    tsa_ca: Option<&Path>,
    json: bool,
    quiet: bool,
) -> Result<u8, CliError> {
    let report = verify_file(zip, pubkey, previous, tsa_ca)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| CliError::Other(e.to_string()))?
        );
    } else if !quiet || !report.is_ok() {
        println!("{report}");
    }
    Ok(if report.is_ok() { EXIT_OK } else { EXIT_FAILED })
}
