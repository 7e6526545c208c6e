//! `soc2-evidence collect`.

use std::path::Path;

use soc2_evidence_core::{AuditPeriod, CancellationToken, EnvSecrets, Registry, Runner};

use super::progress::TerminalProgress;
use super::summary;
use super::CliError;

/// Collects into `out`; exit 0 only when every collector succeeded.
pub async fn run(
    registry: &Registry,
    config_path: &Path,
    period: &str,
    out: &Path,
    json: bool,
    quiet: bool,
) -> Result<u8, CliError> {
    let period: AuditPeriod = period.parse()?;
    let config = registry.load_config(config_path)?;
    if config.instances.is_empty() {
        return Err(CliError::Config(soc2_evidence_core::ConfigError::Parse {
            path: config_path.display().to_string(),
            message: format!(
                "no collector is configured (add a section for one of: {})",
                registry.types().join(", ")
            ),
        }));
    }
    // Build collectors (and so read every secret) before anything runs: a missing token is a
    // config error, not a half-finished run.
    let runner = Runner::from_config(&config, &EnvSecrets)?;
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
    Ok(summary::failed_collectors_exit(&manifest, ""))
}

/// The first Ctrl-C cancels the run gracefully (run.json says `interrupted`); a second one
/// exits at once, which still leaves run.json saying `running`, never `complete`.
pub(crate) fn spawn_ctrl_c(cancel: CancellationToken) {
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
