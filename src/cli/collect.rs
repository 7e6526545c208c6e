//! `soc2-evidence collect`.

use std::path::Path;

use soc2_collectors::Config;
use soc2_evidence_core::{AuditPeriod, CancellationToken, Runner};

use super::progress::TerminalProgress;
use super::summary;
use super::{CliError, EXIT_FAILED, EXIT_OK};

/// Collects into `out`; exit 0 only when every collector succeeded.
pub async fn run(
    config_path: &Path,
    period: &str,
    out: &Path,
    json: bool,
    quiet: bool,
) -> Result<u8, CliError> {
    let period: AuditPeriod = period.parse()?;
    let config = Config::load(config_path)?;
    // Build collectors (and so read every secret) before anything runs: a missing token is a
    // config error, not a half-finished run.
    let collectors = config.collectors()?;
    if collectors.is_empty() {
        return Err(CliError::Other(format!(
            "{}: no collector is configured (add an [okta], [github], [jira], [[backups.source]] or [[command]] section)",
            config_path.display()
        )));
    }
    let mut runner = Runner::new().checks(config.checks());
    if !config.organization.name.is_empty() {
        runner = runner.organization(config.organization.name.clone());
    }
    for c in collectors {
        runner = runner.collector(c);
    }
    let progress = TerminalProgress::new(quiet || json);
    let cancel = CancellationToken::new();
    spawn_ctrl_c(cancel.clone());
    let manifest = runner
        .progress(progress.clone())
        .cancel_token(cancel)
        .run(period, out)
        .await;
    progress.clear();
    let manifest = manifest?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&manifest).map_err(|e| CliError::Other(e.to_string()))?
        );
    } else if !quiet {
        summary::print_run(&manifest, out);
    }
    for c in manifest.collectors.iter().filter(|c| c.error.is_some()) {
        eprintln!(
            "error: collector {:?} failed: {}",
            c.name,
            c.error.as_deref().unwrap_or_default()
        );
    }
    Ok(if manifest.all_collectors_ok() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

/// The first Ctrl-C cancels the run gracefully (run.json says `interrupted`); a second one
/// exits at once, which still leaves run.json saying `running`, never `complete`.
fn spawn_ctrl_c(cancel: CancellationToken) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: stopping collectors (press Ctrl-C again to exit at once)");
            cancel.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
}
