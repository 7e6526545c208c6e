//! `soc2-evidence diff OLD NEW [--json]`.

use std::path::Path;

use crate::diff::{diff_runs, DiffError};
use crate::sample::{RunSource, SampleError};

use super::{CliError, EXIT_FAILED, EXIT_OK};

/// Compares the runs and prints the differences; exit 0 when there are none, 1 otherwise.
/// A side that is not a readable run is a usage error (2), as in diff(1).
pub fn run(old: &Path, new: &Path, json: bool, quiet: bool) -> Result<u8, CliError> {
    let usage = |e: SampleError| CliError::Usage(e.to_string());
    let a = RunSource::open(old).map_err(usage)?;
    let b = RunSource::open(new).map_err(usage)?;
    let diff = diff_runs(&a, &b).map_err(|e| match e {
        DiffError::Source(e) => usage(e),
        other => CliError::Usage(other.to_string()),
    })?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&diff).map_err(|e| CliError::Other(e.to_string()))?
        );
    } else if !quiet {
        println!("{diff}");
    }
    Ok(if diff.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}
