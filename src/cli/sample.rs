//! `soc2-evidence sample SRC --population C/P (--size N | --frequency F) --seed S`.

use std::io::Write;
use std::path::Path;

use crate::sample::{draw_sample, write_sample_csv, RunSource, Sample, SampleSize};

use super::{CliError, EXIT_OK};

/// Draws the sample and prints it (a table), writes it as CSV (`out`), or prints it as JSON.
pub fn run(
    src: &Path,
    population: &str,
    size: SampleSize,
    seed: &str,
    out: Option<&Path>,
    json: bool,
    quiet: bool,
) -> Result<u8, CliError> {
    let fail = |e: crate::sample::SampleError| match e {
        crate::sample::SampleError::UnknownPopulation { .. }
        | crate::sample::SampleError::ZeroSize => CliError::Usage(e.to_string()),
        other => CliError::Other(other.to_string()),
    };
    let run = RunSource::open(src).map_err(fail)?;
    let sample = draw_sample(&run, population, size, seed).map_err(fail)?;
    if let Some(out) = out {
        let mut bytes = Vec::new();
        write_sample_csv(&run, &sample, &mut bytes).map_err(fail)?;
        soc2_evidence_core::write_atomic(out, &bytes)
            .map_err(|e| CliError::Other(format!("{}: {e}", out.display())))?;
    }
    if json {
        let value = serde_json::json!({
            "seed": sample.seed,
            "size": sample.size,
            "population": sample.population,
            "population_sha256": sample.population_sha256,
            "count": sample.count,
            "frequency": sample.frequency,
            "sample": sample.sample,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&value).map_err(|e| CliError::Other(e.to_string()))?
        );
    } else if !quiet {
        print_summary(&sample, out);
    }
    Ok(EXIT_OK)
}

fn print_summary(sample: &Sample, out: Option<&Path>) {
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    let _ = writeln!(
        w,
        "{}: {} record(s), sha256 {}",
        sample.population, sample.count, sample.population_sha256
    );
    if let Some(row) = &sample.frequency {
        let _ = writeln!(w, "size from the frequency table: {row}");
    }
    if (sample.count as usize) < sample.size {
        let _ = writeln!(
            w,
            "the population has fewer records than the sample size {}: every record is in the sample",
            sample.size
        );
    }
    let _ = writeln!(
        w,
        "seed {:?}: {} record(s), ranked by sha256(seed:subject_id)",
        sample.seed,
        sample.sample.len()
    );
    match out {
        Some(out) => {
            let _ = writeln!(w, "wrote {}", out.display());
        }
        None => {
            for r in &sample.sample {
                let _ = writeln!(w, "{:>4}  {}  {}", r.rank, r.key, r.subject_id);
            }
        }
    }
}
