//! `soc2-evidence check DIR`.

use std::path::Path;

use soc2_evidence_core::{write_atomic, write_findings, EvidenceStore, Registry, RunStatus};

use super::summary;
use super::{CliError, EXIT_OK};

/// Re-runs the checks over a run directory, rewrites `findings.jsonl` and the counts in
/// `run.json`.
///
/// Without `config`, the checks are rebuilt from the run's saved effective config, so the
/// findings are the ones `collect` wrote, byte for byte.
pub fn run(
    registry: &Registry,
    dir: &Path,
    config: Option<&Path>,
    json: bool,
    quiet: bool,
) -> Result<u8, CliError> {
    let store = EvidenceStore::open(dir)?;
    if store.manifest().status != RunStatus::Complete {
        return Err(CliError::Other(format!(
            "{}: the run did not complete (run.json status is {:?}); collect again",
            dir.display(),
            store.manifest().status
        )));
    }
    let config = match config {
        Some(path) => registry.load_config(path)?,
        None => registry.load_effective(dir)?,
    };
    let checks = config.checks();
    let counts = write_findings(&store, &checks)?;
    let mut manifest = store.manifest().clone();
    manifest.findings = counts;
    let path = dir.join("run.json");
    let mut bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| CliError::Other(e.to_string()))?;
    bytes.push(b'\n');
    write_atomic(&path, &bytes).map_err(|e| CliError::Other(format!("{}: {e}", path.display())))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&counts).map_err(|e| CliError::Other(e.to_string()))?
        );
    } else if !quiet {
        let n: usize = checks.iter().map(|c| c.checks.len()).sum();
        println!("ran {n} check(s) over {}", dir.display());
        summary::print_findings(dir);
    }
    Ok(EXIT_OK)
}
