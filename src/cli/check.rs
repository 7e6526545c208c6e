//! `soc2-evidence check DIR`.

use std::path::Path;

use soc2_collectors::{default_checks_for, Config};
use soc2_evidence_core::{write_atomic, write_findings, Check, EvidenceStore, RunStatus};

use super::summary;
use super::{CliError, EXIT_OK};

/// Re-runs the checks over a run directory, rewrites `findings.jsonl` and the counts in
/// `run.json`.
pub fn run(dir: &Path, config: Option<&Path>, json: bool, quiet: bool) -> Result<u8, CliError> {
    let store = EvidenceStore::open(dir)?;
    if store.manifest().status != RunStatus::Complete {
        return Err(CliError::Other(format!(
            "{}: the run did not complete (run.json status is {:?}); collect again",
            dir.display(),
            store.manifest().status
        )));
    }
    let checks: Vec<Box<dyn Check>> = match config {
        Some(path) => Config::load(path)?.checks(),
        None => {
            let mut types: Vec<&str> = store
                .manifest()
                .collectors
                .iter()
                .map(|c| c.collector_type.as_str())
                .collect();
            types.sort_unstable();
            types.dedup();
            types.into_iter().flat_map(default_checks_for).collect()
        }
    };
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
        println!("ran {} check(s) over {}", checks.len(), dir.display());
        summary::print_findings(dir);
    }
    Ok(EXIT_OK)
}
