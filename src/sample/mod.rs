//! Reproducible samples from a full population: anyone holding the run (or the bundle) and
//! the seed re-derives the same sample, with nothing but `sha256sum` and `sort`.
//!
//! Each record's key is the lowercase hex SHA-256 of the UTF-8 bytes `SEED:SUBJECT_ID`.
//! Records are sorted by key, ascending (records with the same subject id, such as one
//! user's MFA factors, share a key and keep their order in the file), and the first N are
//! the sample. The size is given, or comes from the [`Frequency`] table.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! # soc2_evidence::sample::write_example_run(dir.path()).unwrap();
//! use soc2_evidence::sample::{draw_sample, RunSource, SampleSize};
//! let run = RunSource::open(dir.path()).unwrap();
//! let sample = draw_sample(&run, "hr/people", SampleSize::Exact(2), "fy2026").unwrap();
//! assert_eq!(sample.count, 3);
//! assert_eq!(sample.sample.len(), 2);
//! assert!(sample.sample[0].key < sample.sample[1].key);
//! // The same seed gives the same sample; the key is re-derivable by hand.
//! let again = draw_sample(&run, "hr/people", SampleSize::Exact(2), "fy2026").unwrap();
//! assert_eq!(sample.sample, again.sample);
//! assert_eq!(sample.sample[0].key, soc2_evidence::sample::sample_key("fy2026", &sample.sample[0].subject_id));
//! ```

mod frequency;
mod source;

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use frequency::Frequency;
pub use source::{PopulationFile, RunSource};

use crate::report::{csv_cell, population_columns, population_row, ReportError};

/// Why a sample could not be drawn or written.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// The source is not a readable run directory or bundle, or a bundle file does not
    /// match its manifest.
    #[error("{}: {message}", .path.display())]
    Source {
        /// The run directory or bundle.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The run has no such population.
    #[error("{}: no population {population:?}; the run has: {}", .source_path.display(), .available.join(", "))]
    UnknownPopulation {
        /// The population asked for.
        population: String,
        /// The run directory or bundle.
        source_path: PathBuf,
        /// Every `collector/population` it has.
        available: Vec<String>,
    },
    /// A record of the population is not valid JSON or has no `subject_id`.
    #[error("{population}.jsonl:{line}: {message}")]
    Malformed {
        /// The population.
        population: String,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The sample size is zero.
    #[error("the sample size must be at least 1")]
    ZeroSize,
}

impl From<ReportError> for SampleError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Io { path, source } => SampleError::Io { path, source },
            other => SampleError::Source {
                path: PathBuf::new(),
                message: other.to_string(),
            },
        }
    }
}

/// How many records to sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleSize {
    /// Exactly this many (or the whole population when it is smaller).
    Exact(usize),
    /// The size of this row of the frequency table.
    Frequency(Frequency),
}

impl SampleSize {
    /// The number of records asked for.
    pub fn size(self) -> usize {
        match self {
            SampleSize::Exact(n) => n,
            SampleSize::Frequency(f) => f.sample_size(),
        }
    }
}

/// One sampled record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampledRecord {
    /// Its place in the sample, from 1.
    pub rank: usize,
    /// `sha256(SEED:SUBJECT_ID)`, lowercase hex.
    pub key: String,
    /// The record's subject id.
    pub subject_id: String,
    /// Its 1-based line in the population file.
    pub line: u64,
    /// The whole record, as in the population file.
    pub record: serde_json::Value,
}

/// A drawn sample, with what an auditor needs to re-derive it.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// The seed.
    pub seed: String,
    /// The size asked for.
    pub size: usize,
    /// The population, `collector/population`.
    pub population: String,
    /// SHA-256 of the population's JSON Lines file.
    pub population_sha256: String,
    /// Records in the population file.
    pub count: u64,
    /// The frequency-table row the size came from, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency: Option<String>,
    /// The sample, by rank.
    pub sample: Vec<SampledRecord>,
}

/// The sort key of a record: lowercase hex SHA-256 of the UTF-8 bytes `seed + ":" + subject_id`.
///
/// ```
/// // printf '%s' 'seed:alice' | sha256sum
/// assert_eq!(
///     soc2_evidence::sample::sample_key("seed", "alice"),
///     "ce09330d4ed06f89e9f1d33563666952082cc2470290f326b09d7aed0ec4e474"
/// );
/// ```
pub fn sample_key(seed: &str, subject_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update(b":");
    h.update(subject_id.as_bytes());
    hex::encode(h.finalize())
}

/// Draws the sample of `population` (`collector/population`) from `run`.
///
/// Memory holds one key per record, not the records; the sampled records are read in a
/// second pass over the file.
pub fn draw_sample(
    run: &RunSource,
    population: &str,
    size: SampleSize,
    seed: &str,
) -> Result<Sample, SampleError> {
    let n = size.size();
    if n == 0 {
        return Err(SampleError::ZeroSize);
    }
    let file = run.population(population)?;
    let malformed = |line: u64, message: String| SampleError::Malformed {
        population: population.to_string(),
        line,
        message,
    };
    // (key, line): a stable order for records sharing a subject id.
    let mut keys: Vec<(String, u64, String)> = Vec::new();
    for item in lines(&file.path)? {
        let (line, text) = item?;
        let subject = subject_of(&text).map_err(|m| malformed(line, m))?;
        keys.push((sample_key(seed, &subject), line, subject));
    }
    let count = keys.len() as u64;
    keys.sort();
    keys.truncate(n);
    let mut wanted: Vec<(u64, usize)> = keys.iter().enumerate().map(|(i, k)| (k.1, i)).collect();
    wanted.sort();
    let mut records: Vec<Option<serde_json::Value>> = vec![None; keys.len()];
    let mut next = wanted.iter().peekable();
    for item in lines(&file.path)? {
        let Some(&&(want, rank)) = next.peek() else {
            break;
        };
        let (line, text) = item?;
        if line == want {
            records[rank] =
                Some(serde_json::from_str(&text).map_err(|e| malformed(line, e.to_string()))?);
            next.next();
        }
    }
    let sample = keys
        .into_iter()
        .zip(records)
        .enumerate()
        .map(|(i, ((key, line, subject_id), record))| {
            let record = record
                .ok_or_else(|| malformed(line, "the file changed while it was read".to_string()))?;
            Ok(SampledRecord {
                rank: i + 1,
                key,
                subject_id,
                line,
                record,
            })
        })
        .collect::<Result<Vec<_>, SampleError>>()?;
    Ok(Sample {
        seed: seed.to_string(),
        size: n,
        population: population.to_string(),
        population_sha256: file.sha256.clone(),
        count,
        frequency: match size {
            SampleSize::Frequency(f) => Some(f.row()),
            SampleSize::Exact(_) => None,
        },
        sample,
    })
}

/// Writes `sample` as CSV to `out`: `rank,key,subject_id`, then the population's own CSV
/// columns (those of `report/<collector>/<population>.csv`).
///
/// The columns are read from the population file of `run`, so pass the run the sample was
/// drawn from.
pub fn write_sample_csv(
    run: &RunSource,
    sample: &Sample,
    out: &mut dyn Write,
) -> Result<(), SampleError> {
    let file = run.population(&sample.population)?;
    let columns = population_columns(&file.path)?;
    let header: Vec<String> = ["rank", "key", "subject_id"]
        .iter()
        .map(|s| s.to_string())
        .chain(columns.iter().map(|c| csv_cell(c)))
        .collect();
    let io = |source| SampleError::Io {
        path: PathBuf::from("<sample csv>"),
        source,
    };
    write!(out, "{}\r\n", header.join(",")).map_err(io)?;
    for r in &sample.sample {
        let mut cells = vec![r.rank.to_string(), r.key.clone()];
        cells.extend(population_row(&r.record, &columns));
        write!(out, "{}\r\n", cells.join(",")).map_err(io)?;
    }
    Ok(())
}

/// The non-blank lines of a file, numbered from 1, streamed.
pub(crate) fn lines(
    path: &Path,
) -> Result<impl Iterator<Item = Result<(u64, String), SampleError>> + '_, SampleError> {
    let io = move |source| SampleError::Io {
        path: path.to_path_buf(),
        source,
    };
    let reader = BufReader::new(File::open(path).map_err(io)?);
    Ok(reader
        .lines()
        .enumerate()
        .filter_map(move |(i, line)| match line {
            Err(e) => Some(Err(io(e))),
            Ok(l) if l.trim().is_empty() => None,
            Ok(l) => Some(Ok((i as u64 + 1, l))),
        }))
}

fn subject_of(line: &str) -> Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Subject {
        subject_id: String,
    }
    serde_json::from_str::<Subject>(line)
        .map(|s| s.subject_id)
        .map_err(|e| e.to_string())
}

/// Writes a tiny run directory with one population, `hr/people` (three people), for the
/// examples in these docs.
#[doc(hidden)]
pub fn write_example_run(dir: &Path) -> std::io::Result<()> {
    use soc2_evidence_core::{AuditPeriod, CollectorRun, CollectorStatus, RunManifest};
    let period: AuditPeriod = "2026-01-01..2026-06-30"
        .parse()
        .map_err(|e| std::io::Error::other(format!("{e}")))?;
    let mut manifest = RunManifest::start(period, None);
    let t = chrono::Utc::now();
    manifest.collectors.push(CollectorRun {
        name: "hr".into(),
        collector_type: "command".into(),
        status: CollectorStatus::Ok,
        error: None,
        records: [("people".to_string(), 3u64)].into_iter().collect(),
        files: vec!["hr/people.jsonl".into()],
        started_at: t,
        finished_at: t,
        window: None,
    });
    std::fs::create_dir_all(dir.join("hr"))?;
    let mut w = BufWriter::new(File::create(dir.join("hr/people.jsonl"))?);
    for who in ["alice", "bob", "carol"] {
        writeln!(
            w,
            r#"{{"kind":"hr.person","schema_version":1,"subject_id":"{who}","data":{{"name":"{who}"}}}}"#
        )?;
    }
    w.flush()?;
    std::fs::write(
        dir.join("findings.jsonl"),
        concat!(
            r#"{"check_id":"hr.onboarded","criteria":["CC1.4"],"status":"pass","subject_id":"alice","summary":"alice was onboarded"}"#,
            "\n"
        ),
    )?;
    let json = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("run.json"), json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(lines: &[&str]) -> (tempfile::TempDir, RunSource) {
        let dir = tempfile::tempdir().unwrap();
        write_example_run(dir.path()).unwrap();
        std::fs::write(dir.path().join("hr/people.jsonl"), lines.join("\n") + "\n").unwrap();
        let run = RunSource::open(dir.path()).unwrap();
        (dir, run)
    }

    fn person(id: &str, n: u32) -> String {
        format!(r#"{{"kind":"k","schema_version":1,"subject_id":"{id}","data":{{"n":{n}}}}}"#)
    }

    #[test]
    fn ranks_by_the_key_an_auditor_can_recompute() {
        let ids: Vec<String> = (0..40).map(|i| format!("u{i}")).collect();
        let lines: Vec<String> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| person(id, i as u32))
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let (_d, run) = run_with(&refs);
        let s = draw_sample(&run, "hr/people", SampleSize::Exact(7), "audit-2026").unwrap();
        let mut expected: Vec<(String, String)> = ids
            .iter()
            .map(|id| (sample_key("audit-2026", id), id.clone()))
            .collect();
        expected.sort();
        let got: Vec<(String, String)> = s
            .sample
            .iter()
            .map(|r| (r.key.clone(), r.subject_id.clone()))
            .collect();
        assert_eq!(got, expected[..7].to_vec());
        assert_eq!(s.count, 40);
        assert_eq!(
            s.sample[0].record["subject_id"],
            s.sample[0].subject_id.as_str()
        );
        let other = draw_sample(&run, "hr/people", SampleSize::Exact(7), "audit-2027").unwrap();
        assert_ne!(s.sample, other.sample, "another seed, another sample");
    }

    #[test]
    fn a_small_population_is_sampled_whole_and_shared_subjects_keep_file_order() {
        let lines = [person("a", 1), person("a", 2), person("b", 3)];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let (_d, run) = run_with(&refs);
        let s = draw_sample(
            &run,
            "hr/people",
            SampleSize::Frequency(Frequency::Daily),
            "s",
        )
        .unwrap();
        assert_eq!(s.sample.len(), 3);
        assert_eq!(s.size, 20);
        let a: Vec<u64> = s
            .sample
            .iter()
            .filter(|r| r.subject_id == "a")
            .map(|r| r.line)
            .collect();
        assert_eq!(a, [1, 2]);
        assert!(s.frequency.unwrap().contains("daily"));
    }

    #[test]
    fn bad_input_is_named() {
        let (_d, run) = run_with(&[&person("a", 1), "{not json"]);
        let err = draw_sample(&run, "hr/people", SampleSize::Exact(1), "s").unwrap_err();
        assert!(err.to_string().starts_with("hr/people.jsonl:2:"), "{err}");
        let err = draw_sample(&run, "hr/nobody", SampleSize::Exact(1), "s").unwrap_err();
        assert!(err.to_string().contains("the run has: hr/people"), "{err}");
        assert!(matches!(
            draw_sample(&run, "hr/people", SampleSize::Exact(0), "s"),
            Err(SampleError::ZeroSize)
        ));
    }

    #[test]
    fn csv_starts_with_rank_key_subject() {
        let (_d, run) = run_with(&[&person("a", 1), &person("b", 2)]);
        let s = draw_sample(&run, "hr/people", SampleSize::Exact(2), "s").unwrap();
        let mut out = Vec::new();
        write_sample_csv(&run, &s, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut rows = text.split("\r\n");
        assert_eq!(rows.next().unwrap(), "rank,key,subject_id,n");
        let first = rows.next().unwrap();
        assert!(first.starts_with(&format!(
            "1,{},{},",
            s.sample[0].key, s.sample[0].subject_id
        )));
    }
}
