//! `collect --ledger`, `ledger list|verify|rotate-key` and `period`: continuous collection.

use std::path::Path;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use soc2_bundle::{SigningKey, TrustedKey};
use soc2_evidence_core::{
    AuditPeriod, CancellationToken, EnvSecrets, Progress, Registry, RunConfig, Runner, SecretSource,
};
use soc2_ledger::{
    append_run, assemble_period, list_runs, open_storage, plan_run, verify_ledger, KeyRotation,
    LedgerError, LedgerStorage, PeriodOutcome, RUN_RECORD_FILE,
};

use super::bundle::bundle_run_chained;
use super::keys::load_signing_key;
use super::progress::TerminalProgress;
use super::{CliError, EXIT_FAILED, EXIT_OK};

fn parse_date(flag: &str, s: &str) -> Result<NaiveDate, CliError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|e| CliError::Usage(format!("{flag} {s:?}: {e}; use YYYY-MM-DD")))
}

fn json_out<T: serde::Serialize>(value: &T) -> Result<(), CliError> {
    println!(
        "{}",
        serde_json::to_string_pretty(value).map_err(|e| CliError::Other(e.to_string()))?
    );
    Ok(())
}

fn tmp() -> Result<tempfile::TempDir, CliError> {
    tempfile::tempdir().map_err(|e| CliError::Other(format!("creating a temporary directory: {e}")))
}

/// One incremental run, sealed into a ledger.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SealedRun {
    /// The ledger.
    pub ledger: String,
    /// The run's sequence number.
    pub seq: u64,
    /// SHA-256 of its bundle.
    pub sha256: String,
    /// SHA-256 of the run it chains to.
    pub previous_sha256: Option<String>,
    /// Its `run.json`.
    pub run: soc2_evidence_core::RunManifest,
}

/// Collects one incremental run of `config` into the ledger and seals it: each collector
/// continues from its last successful run, the run is bundled, signed with `key`, chained to
/// the previous run and written without replacing anything. An interrupted run seals
/// nothing; a run whose collectors failed is sealed and says so (their marks do not move).
pub async fn collect_run(
    config: &RunConfig,
    secrets: &dyn SecretSource,
    storage: &dyn LedgerStorage,
    key: &SigningKey,
    since: Option<NaiveDate>,
    progress: Arc<dyn Progress>,
    cancel: CancellationToken,
) -> Result<SealedRun, CliError> {
    let settings = config.ledger.clone().unwrap_or_default();
    if settings.object_lock_days.is_some() && !storage.location().starts_with("s3://") {
        return Err(CliError::Usage(format!(
            "{}: [ledger] object_lock_days needs an s3:// ledger with Object Lock; a directory cannot keep its files from being deleted",
            storage.location()
        )));
    }
    let tsa = config
        .bundle
        .as_ref()
        .and_then(|b| b.tsa_url.as_deref())
        .map(crate::timestamp::HttpTsa::new)
        .transpose()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    // Secrets are read before the ledger is touched: a missing token is a config error.
    let mut runner = Runner::from_config(config, secrets)?;
    let now = soc2_evidence_core::clock::now();
    let holder = format!(
        "soc2-evidence collect, pid {}, started {}",
        std::process::id(),
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let _lock = storage.lock(&holder).await?;
    let cache = tmp()?;
    let instances: Vec<String> = config
        .instances
        .iter()
        .map(|i| i.name().to_string())
        .collect();
    let plan = plan_run(
        storage,
        key,
        &instances,
        since,
        settings.start,
        now,
        cache.path(),
    )
    .await?;
    if since.is_some() && plan.seq > 1 {
        tracing::warn!(
            "--since is used only by a ledger's first run; run {} continues each collector from its last successful run",
            plan.seq
        );
    }
    for (name, (window, previous)) in &plan.windows {
        runner = runner.window(name, *window, previous.clone());
    }
    let run_dir = cache.path().join("run");
    let manifest = runner
        .progress(progress)
        .cancel_token(cancel)
        .run(plan.period, &run_dir)
        .await?;
    let record = plan.record(&manifest);
    let record_path = run_dir.join(RUN_RECORD_FILE);
    if let Some(p) = record_path.parent() {
        std::fs::create_dir_all(p).map_err(|e| CliError::Other(format!("{}: {e}", p.display())))?;
    }
    let mut bytes =
        serde_json::to_vec_pretty(&record).map_err(|e| CliError::Other(e.to_string()))?;
    bytes.push(b'\n');
    soc2_evidence_core::write_atomic(&record_path, &bytes)
        .map_err(|e| CliError::Other(format!("{}: {e}", record_path.display())))?;
    let zip = cache.path().join("run.zip");
    // A TSA that fails seals nothing: the run is not in the ledger, and the next run retries
    // the same windows.
    bundle_run_chained(
        &run_dir,
        key,
        &zip,
        plan.previous_sha256.clone(),
        tsa.as_ref(),
    )?;
    // Retention is a promise about real storage, so it counts from the real clock even when
    // SOC2_EVIDENCE_NOW replays another instant.
    let real_now = chrono::Utc::now();
    let retain_until = settings.object_lock_days.map(|d| {
        real_now
            .checked_add_days(Days::new(u64::from(d)))
            .unwrap_or(real_now)
    });
    let sha256 = append_run(storage, plan.seq, &zip, retain_until).await?;
    Ok(SealedRun {
        ledger: storage.location(),
        seq: plan.seq,
        sha256,
        previous_sha256: plan.previous_sha256,
        run: manifest,
    })
}

/// `collect --config F --ledger LEDGER --key KEY [--since DATE]`: one incremental run,
/// sealed as a signed bundle chained to the previous run. Exit 0 when every collector
/// succeeded, 1 when one failed (the run is still sealed, and says so), 2 for bad input.
pub async fn collect(
    registry: &Registry,
    config_path: &Path,
    ledger: &str,
    key_path: &Path,
    since: Option<&str>,
    json: bool,
    quiet: bool,
) -> Result<u8, CliError> {
    let since = since.map(|s| parse_date("--since", s)).transpose()?;
    let config = registry.load_config(config_path)?;
    if config.instances.is_empty() {
        return Err(CliError::Usage(format!(
            "{}: no collector is configured (add a section for one of: {})",
            config_path.display(),
            registry.types().join(", ")
        )));
    }
    let key = load_signing_key(key_path)?;
    let storage = open_storage(ledger)?;
    let progress = TerminalProgress::new(quiet || json);
    let cancel = CancellationToken::new();
    super::collect::spawn_ctrl_c(cancel.clone());
    let sealed = collect_run(
        &config,
        &EnvSecrets,
        &*storage,
        &key,
        since,
        progress.clone(),
        cancel,
    )
    .await;
    progress.clear();
    let sealed = sealed?;
    if json {
        json_out(&sealed)?;
    } else if !quiet {
        print_sealed(&sealed);
    }
    Ok(super::summary::failed_collectors_exit(
        &sealed.run,
        "; the sealed run says so, and its next run starts again from its last successful one",
    ))
}

/// Prints what a sealed run read.
pub fn print_sealed(sealed: &SealedRun) {
    let manifest = &sealed.run;
    println!(
        "run {} sealed into {} (sha256 {})",
        sealed.seq, sealed.ledger, sealed.sha256
    );
    for c in &manifest.collectors {
        let w = c.window.unwrap_or(manifest.period);
        let records: u64 = c.records.values().sum();
        println!(
            "  {:<12} {:<9} window {} .. {}  {records} records",
            c.name,
            format!("{:?}", c.status).to_lowercase(),
            w.start(),
            w.end()
        );
    }
    println!(
        "  findings over this run's window: {} pass, {} fail, {} error, {} n/a",
        manifest.findings.pass,
        manifest.findings.fail,
        manifest.findings.error,
        manifest.findings.not_applicable
    );
}

/// `ledger list LEDGER [--json]`.
pub async fn list(ledger: &str, json: bool) -> Result<u8, CliError> {
    let storage = open_storage(ledger)?;
    let runs = list_runs(&*storage).await?;
    if json {
        json_out(&runs)?;
        return Ok(EXIT_OK);
    }
    println!(
        "ledger {}: {} run(s) (listed, not verified: use `ledger verify`)",
        storage.location(),
        runs.len()
    );
    for r in &runs {
        let at = r
            .collected_at
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| "?".into());
        println!("run {:06}  {at}  sha256 {}", r.seq, &r.sha256[..16]);
        if let Some(why) = &r.unreadable {
            println!("  unreadable: {why}");
        }
        for c in &r.collectors {
            println!(
                "  {:<12} {:<9} {} .. {}{}",
                c.name,
                c.status,
                c.window_start,
                c.window_end,
                c.error
                    .as_deref()
                    .map(|e| format!("  ({e})"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(EXIT_OK)
}

/// `ledger verify LEDGER --pubkey KEY.pub`: exit 0 only when every run verifies and the
/// chain is linear and unbroken.
pub async fn verify(
    ledger: &str,
    pubkey: &Path,
    tsa_ca: Option<&Path>,
    json: bool,
    quiet: bool,
) -> Result<u8, CliError> {
    let trust = TrustedKey::from_file(pubkey).map_err(|e| CliError::Usage(e.to_string()))?;
    let storage = open_storage(ledger)?;
    let cache = tmp()?;
    let show = !quiet && !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (report, _) = verify_ledger(&*storage, &trust, cache.path(), tsa_ca, &|done, total| {
        if show {
            eprint!("\rverifying run {done}/{total}");
        }
    })
    .await?;
    if show {
        eprintln!();
    }
    if json {
        json_out(&report)?;
    } else if !quiet || !report.is_ok() {
        print!("{report}");
    }
    Ok(if report.is_ok() { EXIT_OK } else { EXIT_FAILED })
}

/// `ledger rotate-key LEDGER --key OLD --new-pubkey NEW.pub`: from the next run on, runs are
/// signed by the new key; the old key signs the record that says so.
pub async fn rotate_key(
    ledger: &str,
    old_key: &Path,
    new_pub: &Path,
    quiet: bool,
) -> Result<u8, CliError> {
    let old = load_signing_key(old_key)?;
    let new_line = std::fs::read_to_string(new_pub)
        .map_err(|e| CliError::Usage(format!("{}: {e}", new_pub.display())))?;
    let new_line = new_line
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string();
    let new_trust = TrustedKey::from_openssh(&new_line)
        .map_err(|e| CliError::Usage(format!("{}: {e}", new_pub.display())))?;
    let storage = open_storage(ledger)?;
    let _lock = storage.lock("soc2-evidence ledger rotate-key").await?;
    let runs = list_runs(&*storage).await?;
    let next = runs.iter().map(|r| r.seq).max().unwrap_or(0) + 1;
    // The old key must be the ledger's key now: planning the next run checks exactly that.
    let cache = tmp()?;
    if next > 1 {
        plan_run(
            &*storage,
            &old,
            &[],
            None,
            None,
            soc2_evidence_core::clock::now(),
            cache.path(),
        )
        .await?;
    }
    let rotation = KeyRotation::sign(next, &old, &new_line)?;
    let mut bytes =
        serde_json::to_vec_pretty(&rotation).map_err(|e| CliError::Other(e.to_string()))?;
    bytes.push(b'\n');
    storage
        .put_new(&soc2_ledger::rotation_key(next), bytes.into(), None)
        .await?;
    if !quiet {
        println!(
            "key rotation recorded: from run {next} on, {} signs the runs of {} (signed by {})",
            new_trust.fingerprints().join(", "),
            storage.location(),
            old.fingerprint()
        );
    }
    Ok(EXIT_OK)
}

/// `period --ledger LEDGER --period A..B --out DIR [--pubkey KEY.pub]`: exit 0 when the
/// period was assembled (findings may still fail), 1 when a run bundle or the chain fails
/// verification, 2 for bad arguments.
// One argument per flag of the command, as the other commands' functions take them.
#[allow(clippy::too_many_arguments)]
pub async fn period(
    registry: &Registry,
    ledger: &str,
    period: &str,
    out: &Path,
    pubkey: Option<&Path>,
    tsa_ca: Option<&Path>,
    json: bool,
    quiet: bool,
) -> Result<u8, CliError> {
    let period: AuditPeriod = period.parse()?;
    let trust = pubkey
        .map(|p| TrustedKey::from_file(p).map_err(|e| CliError::Usage(e.to_string())))
        .transpose()?;
    let storage = open_storage(ledger)?;
    let show = !quiet && !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let outcome = assemble_period(
        &*storage,
        trust.as_ref(),
        period,
        out,
        registry,
        tsa_ca,
        &|m| {
            if show {
                eprint!("\r\x1b[2K{m}");
            }
        },
    )
    .await;
    if show {
        eprintln!();
    }
    match outcome {
        Ok(PeriodOutcome::Broken(report)) => {
            if json {
                json_out(&report)?;
            } else {
                print!("{report}");
            }
            eprintln!("error: the ledger does not verify; nothing was assembled");
            Ok(EXIT_FAILED)
        }
        Ok(PeriodOutcome::Assembled(summary)) => {
            if json {
                json_out(&summary)?;
            } else if !quiet {
                println!(
                    "period {} assembled into {} from {} of {} run(s)",
                    summary.period,
                    summary.out.display(),
                    summary.runs_used,
                    summary.runs_in_ledger
                );
                if summary.runs_timestamped > 0 {
                    println!(
                        "  collection times: the RFC 3161 time-stamps of {} of {} run(s), verified against the TSA CA",
                        summary.runs_timestamped, summary.runs_used
                    );
                } else {
                    println!("  collection times: the collecting machine's clock (pass --tsa-ca to prove them with the runs' RFC 3161 time-stamps)");
                }
                if !summary.key_pinned {
                    println!("  signatures checked against the key of the ledger's first run (not pinned: pass --pubkey to pin it)");
                }
                for (pop, n) in &summary.populations {
                    let note = summary
                        .incomplete
                        .get(pop)
                        .map(|w| format!("  INCOMPLETE: {w}"))
                        .unwrap_or_default();
                    println!("  {pop:<40} {n:>8}{note}");
                }
                println!(
                    "  findings: {} pass, {} fail, {} error, {} n/a",
                    summary.findings.pass,
                    summary.findings.fail,
                    summary.findings.error,
                    summary.findings.not_applicable
                );
                println!(
                    "\nNext: soc2-evidence bundle {} --key KEY -o period.zip",
                    out.display()
                );
            }
            Ok(EXIT_OK)
        }
        Err(LedgerError::Verification { location, message }) => {
            eprintln!("error: {location}: {message}");
            Ok(EXIT_FAILED)
        }
        Err(e) => Err(e.into()),
    }
}
