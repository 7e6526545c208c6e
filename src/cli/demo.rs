//! `soc2-evidence demo`: the whole job, offline, on the built-in sample organisation.
//!
//! Local servers on 127.0.0.1 answer like Okta, GitHub and Jira (real API shapes, several
//! pages, one rate-limit response each); sample backup logs are written in restic's and
//! Velero's formats. Every collector and check runs over 2026-01-01..2026-06-30, a demo key
//! signs the bundle, and the bundle is verified before the summary is printed.

use std::fs;
use std::path::Path;
use std::time::Instant;

use soc2_bundle::{allowed_signers_line, SigningKey};
use soc2_evidence_core::{AuditPeriod, CancellationToken, MapSecrets, Registry, Runner};

use super::bundle::{bundle_run, verify_file};
use super::progress::TerminalProgress;
use super::summary;
use super::{CliError, EXIT_FAILED, EXIT_OK};

/// Marks a directory as demo output, so a second `demo` may replace it.
const MARKER: &str = ".soc2-evidence-demo";
/// The demo's audit period: six months the sample organisation covers.
pub const DEMO_PERIOD: &str = "2026-01-01..2026-06-30";
/// The instant the demo treats as "now": the day after its period ends, so sources'
/// retention windows (Okta's 90 days of System Log, GitHub's month of rule suites) fall
/// where they would for a collection made then. `SOC2_EVIDENCE_NOW` still wins.
pub const DEMO_AS_OF: &str = "2026-07-01T00:00:00Z";
/// The principal in the demo's allowed_signers file.
const PRINCIPAL: &str = "evidence@acme.example";

fn other(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}

fn prepare(out: &Path) -> Result<(), CliError> {
    if out.exists() {
        let empty = fs::read_dir(out).map_err(other)?.next().is_none();
        if !empty && !out.join(MARKER).exists() {
            return Err(CliError::Other(format!(
                "{} exists and was not written by `soc2-evidence demo`: choose another --out",
                out.display()
            )));
        }
        fs::remove_dir_all(out).map_err(other)?;
    }
    fs::create_dir_all(out).map_err(other)?;
    fs::write(
        out.join(MARKER),
        "written by soc2-evidence demo; safe to delete\n",
    )
    .map_err(other)?;
    Ok(())
}

/// The demo's `soc2.toml`: the same config a user writes, pointing at the local servers.
/// Secrets are named, never written; the demo hands their values over in memory.
fn demo_config(
    okta: &str,
    github: &str,
    repos: &[String],
    jira: &str,
    jql: &str,
    logs: &Path,
) -> String {
    format!(
        "[organization]\nname = \"Acme Corp\"\n\n\
         [okta]\nbase_url = {okta:?}\ntoken_env = \"DEMO_OKTA_TOKEN\"\n\n\
         [github]\napi_url = {github:?}\nrepos = {repos:?}\ntoken_env = \"DEMO_GITHUB_TOKEN\"\n\n\
         [jira]\nbase_url = {jira:?}\njql = {jql:?}\nemail_env = \"DEMO_JIRA_EMAIL\"\ntoken_env = \"DEMO_JIRA_TOKEN\"\n\n\
         {}",
        soc2_sample::backups::config_toml(logs)
    )
}

/// Sets the clock to [`DEMO_AS_OF`]; the CLI calls it before anything reads the clock.
pub(crate) fn pin_clock() -> Result<(), CliError> {
    let as_of = soc2_evidence_core::clock::parse_override(DEMO_AS_OF).map_err(other)?;
    soc2_evidence_core::clock::set_override(as_of).map_err(other)
}

fn pin_clock_again() -> Result<(), CliError> {
    let as_of = soc2_evidence_core::clock::parse_override(DEMO_AS_OF).map_err(other)?;
    soc2_evidence_core::clock::advance_to(as_of).map_err(other)
}

fn print_ledger(l: &super::demo_ledger::LedgerDemo, out: &Path) {
    let s = &l.summary;
    println!(
        "\nledger:   {} ({} weekly runs, each a signed bundle chained to the one before)",
        out.join("ledger").display(),
        l.runs
    );
    println!(
        "period:   {} assembled from {} runs: {} pass, {} fail, {} error, {} n/a",
        s.out.display(),
        s.runs_used,
        s.findings.pass,
        s.findings.fail,
        s.findings.error,
        s.findings.not_applicable
    );
    for c in &l.coverage {
        println!("  ledger.coverage fail: {c}");
    }
    println!("  an MFA gap only continuous collection sees (okta.mfa_enrolled):");
    for m in &l.mfa {
        println!("    {m}");
    }
    println!(
        "  period bundle {} names all {} run bundles in bag-info.txt; verified: {}",
        l.bundle.0.display(),
        s.runs_used,
        if l.bundle.1 { "OK" } else { "FAILED" }
    );
    println!(
        "  (check the chain yourself: soc2-evidence ledger verify {} --pubkey {})",
        out.join("ledger").display(),
        out.join("demo-signing-key.pub").display()
    );
}

/// Runs the demo into `out`, with the collector modules in `registry`.
pub async fn run(registry: &Registry, out: &Path, quiet: bool) -> Result<u8, CliError> {
    let started = Instant::now();
    prepare(out)?;
    let period: AuditPeriod = DEMO_PERIOD.parse()?;
    let say = |s: &str| {
        if !quiet {
            println!("{s}");
        }
    };
    match pin_clock() {
        Ok(()) => say(&format!(
            "replaying the sample period as of {DEMO_AS_OF} (clock overridden; run.json and provenance say so)"
        )),
        Err(e) => say(&format!(
            "note: {e}; the sample's retention windows are judged against that clock"
        )),
    }

    say("starting local Okta, GitHub and Jira servers for the sample organisation (127.0.0.1 only)…");
    let okta = soc2_sample::okta::start().await;
    let github = soc2_sample::github::start().await;
    let jira = soc2_sample::jira::start().await;
    // The config names the logs by absolute path: relative ones would resolve against the
    // config file's own directory, which is already inside `out`.
    let logs = fs::canonicalize(out)
        .map_err(other)?
        .join("sample-backup-logs");
    soc2_sample::backups::write_logs(&logs).map_err(other)?;
    let config_text = demo_config(
        &okta.base_url(),
        &github.api_url(),
        &github.repos(),
        &jira.base_url(),
        soc2_sample::jira::JQL,
        &logs,
    );
    let config_path = out.join("soc2.toml");
    fs::write(&config_path, &config_text).map_err(other)?;
    let config = registry.load_config(&config_path)?;
    let secrets = MapSecrets::default()
        .with("DEMO_OKTA_TOKEN", okta.token())
        .with("DEMO_GITHUB_TOKEN", github.token())
        .with("DEMO_JIRA_EMAIL", jira.email())
        .with("DEMO_JIRA_TOKEN", jira.token());
    let runner = Runner::from_config(&config, &secrets)?;

    let run_dir = out.join("run");
    say(&format!(
        "collecting evidence for {period} into {}…",
        run_dir.display()
    ));
    let progress = TerminalProgress::new(quiet);
    let manifest = runner
        .progress(progress.clone())
        .cancel_token(CancellationToken::new())
        .run(period, &run_dir)
        .await;
    progress.clear();
    let manifest = manifest?;

    let key = SigningKey::generate();
    let key_path = out.join("demo-signing-key");
    key.write(&key_path).map_err(other)?;
    let allowed = out.join("allowed_signers");
    fs::write(
        &allowed,
        format!("{}\n", allowed_signers_line(PRINCIPAL, &key)),
    )
    .map_err(other)?;
    let zip = out.join("soc2-evidence-acme-demo.zip");
    // A local RFC 3161 TSA (openssl ts -reply behind HTTP) time-stamps the bundle, as a public
    // one would; without openssl the step is left out and the demo says so.
    let local_tsa = soc2_sample::tsa::LocalTsa::start("soc2-evidence demo TSA");
    let tsa_ca = out.join("demo-tsa-ca.pem");
    let tsa = match &local_tsa {
        Some(t) => {
            fs::copy(t.ca_pem(), &tsa_ca).map_err(other)?;
            Some(crate::timestamp::HttpTsa::new(&t.url()).map_err(other)?)
        }
        None => None,
    };
    let bundle = bundle_run(&run_dir, &key, &zip, None, tsa.as_ref())?;
    let report = verify_file(
        &zip,
        &out.join("demo-signing-key.pub"),
        None,
        tsa.as_ref().map(|_| tsa_ca.as_path()),
    )?;
    if !quiet {
        summary::print_run(&manifest, &run_dir);
    }

    // Continuous collection needs a clock it may move: the demo's own, not one the user set.
    let ledger = if soc2_evidence_core::clock::override_from_env()
        .ok()
        .flatten()
        .is_none()
    {
        let ledger = super::demo_ledger::run(
            registry,
            &config_text,
            out,
            &secrets,
            okta.server(),
            &key,
            out,
            &say,
        )
        .await?;
        let _ = pin_clock_again();
        Some(ledger)
    } else {
        say(&format!(
            "\n(continuous collection left out: {} fixes the clock, and the weekly runs need to move it)",
            soc2_evidence_core::clock::NOW_ENV
        ));
        None
    };

    if !quiet {
        if let Some(l) = &ledger {
            print_ledger(l, out);
        }
        println!("\nbundle:   {}", bundle.path.display());
        println!(
            "          {} files, {} bytes of evidence, sha256 {}",
            bundle.files, bundle.payload_bytes, bundle.sha256
        );
        println!(
            "signed:   {} (demo key {})",
            bundle.fingerprint,
            key_path.display()
        );
        println!(
            "verified: {}",
            if report.is_ok() {
                "OK — every file matches its manifest and the signature is the pinned key's"
            } else {
                "FAILED"
            }
        );
        match &report.timestamp {
            Some(t) => println!(
                "stamped:  {} by {} (RFC 3161; the TSA's real time, while the demo's clock is pinned)",
                t.gen_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                t.tsa.as_deref().unwrap_or("the demo TSA")
            ),
            None => println!("stamped:  no (the local time-stamp authority needs openssl; install it to see this step)"),
        }
        println!("report:   {}", run_dir.join("report/index.html").display());
        println!("\nVerify it yourself with stock tools:");
        println!(
            "  cd {} && unzip -q -o {} && cd {}/",
            out.display(),
            zip.file_name().and_then(|n| n.to_str()).unwrap_or_default(),
            bundle.root
        );
        println!("  ssh-keygen -Y verify -f ../allowed_signers -I {PRINCIPAL} -n soc2-evidence \\");
        println!("    -s signatures/tagmanifest-sha256.txt.sshsig < tagmanifest-sha256.txt");
        println!("  sha256sum -c --strict tagmanifest-sha256.txt manifest-sha256.txt");
        if report.timestamp.is_some() {
            println!("  openssl ts -verify -data tagmanifest-sha256.txt \\");
            println!("    -in signatures/tagmanifest-sha256.txt.tsr -CAfile ../demo-tsa-ca.pem");
            println!(
                "\n(or: soc2-evidence verify {} --pubkey {}.pub --tsa-ca {})",
                zip.display(),
                key_path.display(),
                tsa_ca.display()
            );
        } else {
            println!(
                "\n(or: soc2-evidence verify {} --pubkey {}.pub)",
                zip.display(),
                key_path.display()
            );
        }
        println!("\ndemo finished in {:.1}s", started.elapsed().as_secs_f64());
    }
    if !report.is_ok() {
        eprintln!("error: the demo bundle did not verify:\n{report}");
        return Ok(EXIT_FAILED);
    }
    if ledger.as_ref().is_some_and(|l| !l.bundle.1) {
        eprintln!("error: the demo's period bundle did not verify");
        return Ok(EXIT_FAILED);
    }
    if !manifest.all_collectors_ok() {
        for c in manifest.collectors.iter().filter(|c| c.error.is_some()) {
            eprintln!(
                "error: collector {:?} failed: {}",
                c.name,
                c.error.as_deref().unwrap_or_default()
            );
        }
        return Ok(EXIT_FAILED);
    }
    Ok(EXIT_OK)
}
