//! The demo's continuous collection: weekly runs of the sample organisation into a ledger
//! (one week missed on purpose), then the period assembled, bundled and verified.
//!
//! One Okta user has her MFA factors reset on 2026-02-05 and enrols again on 2026-02-20. A
//! collection at the period's end cannot see it; the weekly runs do, and the period says when.

use std::path::Path;

use chrono::{DateTime, Days, NaiveDate, Utc};
use soc2_bundle::SigningKey;
use soc2_evidence_core::{CancellationToken, NoProgress, Registry, SecretSource};
use soc2_ledger::{assemble_period, DirStorage, PeriodOutcome, PeriodSummary};

use super::bundle::{bundle_run, verify_file};
use super::ledger::collect_run;
use super::CliError;

/// The first run of the demo's ledger.
pub const FIRST_RUN: &str = "2026-01-05";
/// The Monday the demo's scheduler "missed".
pub const MISSED_RUN: &str = "2026-04-13";
/// When the planted user's factors were reset, and when she enrolled again.
pub const MFA_RESET: (&str, &str) = ("2026-02-05T09:00:00.000Z", "2026-02-20T09:00:00.000Z");

fn other(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}

fn at_2am(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(2, 0, 0).unwrap_or_default().and_utc()
}

/// What the demo's ledger produced.
pub struct LedgerDemo {
    /// Runs sealed.
    pub runs: u64,
    /// The assembled period.
    pub summary: PeriodSummary,
    /// `ledger.coverage`'s failing summaries.
    pub coverage: Vec<String>,
    /// The planted user's `okta.mfa_enrolled` findings over the period.
    pub mfa: Vec<String>,
    /// The period bundle, and whether it verified.
    pub bundle: (std::path::PathBuf, bool),
}

/// Runs the weekly ledger of the sample period into `out/ledger`, assembles `out/period`
/// and bundles it. `okta` is the running sample server, whose org the runs change.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    registry: &Registry,
    config_text: &str,
    config_dir: &Path,
    secrets: &dyn SecretSource,
    okta: &soc2_sample::okta::OktaServer,
    key: &SigningKey,
    out: &Path,
    say: &dyn Fn(&str),
) -> Result<LedgerDemo, CliError> {
    let text = format!("{config_text}\n[ledger]\nstart = \"2026-01-01\"\n");
    let config = registry.parse_config(&text, "soc2.toml (ledger)", config_dir)?;
    let storage = DirStorage::open(&out.join("ledger"))?;
    let original = soc2_sample::okta::acme();
    let user = soc2_sample::okta::steady_mfa_user(&original)
        .ok_or_else(|| other("the sample org has no user with MFA"))?;
    let reset = soc2_sample::okta::with_factors_reset(&original, &user, MFA_RESET.0);
    let back = soc2_sample::okta::with_factors_back(&reset, &original, &user, MFA_RESET.1);
    let parse = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(other);
    let (first, missed, end) = (parse(FIRST_RUN)?, parse(MISSED_RUN)?, parse("2026-06-30")?);
    let reset_day = parse(&MFA_RESET.0[..10])?;
    let back_day = parse(&MFA_RESET.1[..10])?;
    say(&format!(
        "\ncontinuous collection: a run every Monday from {FIRST_RUN} into {} (the run of {MISSED_RUN} missed on purpose)…",
        out.join("ledger").display()
    ));
    let mut runs = 0;
    let mut day = first;
    while day <= end {
        if day != missed {
            soc2_evidence_core::clock::advance_to(at_2am(day)).map_err(other)?;
            okta.set_org(if day < reset_day {
                original.clone()
            } else if day < back_day {
                reset.clone()
            } else {
                back.clone()
            });
            let sealed = collect_run(
                &config,
                secrets,
                &storage,
                key,
                None,
                std::sync::Arc::new(NoProgress),
                CancellationToken::new(),
            )
            .await?;
            if !sealed.run.all_collectors_ok() {
                return Err(other(format!(
                    "ledger run {} of the demo failed",
                    sealed.seq
                )));
            }
            runs += 1;
        }
        day = day
            .checked_add_days(Days::new(7))
            .unwrap_or(end + Days::new(1));
    }
    say(&format!(
        "  {runs} runs sealed and chained; assembling 2026-01-01..2026-06-30…"
    ));
    let period_dir = out.join("period");
    let outcome = assemble_period(
        &storage,
        Some(&key.trusted_key()),
        "2026-01-01..2026-06-30".parse()?,
        &period_dir,
        registry,
        None,
        &|_| {},
    )
    .await?;
    let summary = match outcome {
        PeriodOutcome::Assembled(s) => s,
        PeriodOutcome::Broken(report) => {
            return Err(other(format!("the demo ledger does not verify: {report}")))
        }
    };
    let findings = std::fs::read_to_string(period_dir.join("findings.jsonl")).map_err(other)?;
    let mut coverage = Vec::new();
    let mut mfa = Vec::new();
    for line in findings.lines() {
        let f: serde_json::Value = serde_json::from_str(line).map_err(other)?;
        if f["check_id"] == "ledger.coverage" && f["status"] == "fail" {
            coverage.push(f["summary"].as_str().unwrap_or_default().to_string());
        }
        if f["check_id"] == "okta.mfa_enrolled" && f["subject_id"] == user.0.as_str() {
            mfa.push(format!(
                "{}: {}",
                f["status"].as_str().unwrap_or_default(),
                f["summary"].as_str().unwrap_or_default()
            ));
        }
    }
    let zip = out.join("soc2-evidence-acme-period.zip");
    bundle_run(&period_dir, key, &zip, None, None)?;
    let verified = verify_file(&zip, &out.join("demo-signing-key.pub"), None, None)?.is_ok();
    Ok(LedgerDemo {
        runs,
        summary,
        coverage,
        mfa,
        bundle: (zip, verified),
    })
}
