//! Where collectors write records: JSON Lines files in the run directory, streamed to disk.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::evidence::{Evidence, RecordRef};
use crate::fsutil::write_atomic;
use crate::progress::Progress;
use crate::provenance::Provenance;

/// Why a record could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// Population names become file names, so they are restricted.
    #[error("population name {0:?} is not allowed: use lower-case letters, digits, `_` and `-`")]
    BadPopulationName(String),
    /// A record could not be serialised.
    #[error("population {population:?}: record could not be serialised: {message}")]
    Serialize {
        /// The population.
        population: String,
        /// serde's message.
        message: String,
    },
    /// A file could not be written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The object-safe sink a [`crate::Collector`] writes into. Use [`EvidenceSinkExt::emit`] for
/// typed records.
pub trait EvidenceSink: Send {
    /// Appends one record, serialised as a single-line JSON object, to `population`.
    fn append_json(&mut self, population: &str, json: &[u8]) -> Result<(), SinkError>;
    /// Stores the provenance of a population (a later call replaces an earlier one).
    fn provenance(&mut self, provenance: Provenance) -> Result<(), SinkError>;
}

/// Typed helpers over any [`EvidenceSink`].
pub trait EvidenceSinkExt: EvidenceSink {
    /// Writes a typed record, wrapped in its envelope, to `population`.
    fn emit<E: Evidence>(&mut self, population: &str, record: &E) -> Result<(), SinkError> {
        let subject = record.subject_id();
        let envelope = RecordRef {
            kind: E::KIND,
            schema_version: E::SCHEMA_VERSION,
            subject_id: &subject,
            data: record,
        };
        with_buffer(population, &envelope, |json| {
            self.append_json(population, json)
        })
    }

    /// Writes a record whose kind is only known at run time (e.g. from an external command).
    fn emit_dynamic(
        &mut self,
        population: &str,
        kind: &str,
        schema_version: u32,
        subject_id: &str,
        data: &serde_json::Value,
    ) -> Result<(), SinkError> {
        let envelope = RecordRef {
            kind,
            schema_version,
            subject_id,
            data,
        };
        with_buffer(population, &envelope, |json| {
            self.append_json(population, json)
        })
    }
}

impl<S: EvidenceSink + ?Sized> EvidenceSinkExt for S {}

thread_local! {
    // One reusable serialisation buffer per thread: emitting a record allocates nothing once
    // the buffer has grown to the largest record.
    static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn with_buffer<T: Serialize>(
    population: &str,
    value: &T,
    write: impl FnOnce(&[u8]) -> Result<(), SinkError>,
) -> Result<(), SinkError> {
    BUFFER.with(|cell| {
        // A sink that re-enters emit from inside append_json would find the buffer borrowed;
        // fall back to a fresh one rather than panic.
        let mut fresh = Vec::new();
        let mut guard = cell.try_borrow_mut().ok();
        let buf = match guard.as_deref_mut() {
            Some(b) => b,
            None => &mut fresh,
        };
        buf.clear();
        serde_json::to_writer(&mut *buf, value).map_err(|e| SinkError::Serialize {
            population: population.to_string(),
            message: e.to_string(),
        })?;
        write(buf)
    })
}

/// Checks a population name: it becomes a file name, so only `[a-z0-9_-]` are allowed.
pub fn validate_population_name(name: &str) -> Result<(), SinkError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(SinkError::BadPopulationName(name.to_string()))
    }
}

/// Suffix of a population file while it is being written, and after a failed collection.
pub const PARTIAL_SUFFIX: &str = ".jsonl.partial";

struct PopulationFile {
    partial: PathBuf,
    writer: BufWriter<File>,
    written: u64,
}

/// What a collector left in the run directory.
#[derive(Debug, Clone, Default)]
pub struct SinkOutcome {
    /// Records written per population.
    pub records: BTreeMap<String, u64>,
    /// Files written, relative to the run directory.
    pub files: Vec<String>,
}

/// A sink that streams each population of one collector to
/// `<run dir>/<collector>/<population>.jsonl`, and its provenance to `provenance.json`.
///
/// Records go to `<population>.jsonl.partial` while collection runs; [`JsonlSink::finish`]
/// renames them to `.jsonl` only when the collector succeeded. A failed or interrupted
/// collector leaves its `.partial` files (nothing collected is lost) and they are never
/// presented as complete. Memory use is one write buffer per population, whatever the count.
pub struct JsonlSink {
    dir: PathBuf,
    collector: String,
    files: BTreeMap<String, PopulationFile>,
    provenance: BTreeMap<String, Provenance>,
    progress: Option<Arc<dyn Progress>>,
}

impl JsonlSink {
    /// Creates `<run_dir>/<collector>/` and a sink writing into it.
    pub fn create(run_dir: &Path, collector: &str) -> Result<Self, SinkError> {
        validate_population_name(collector)?;
        let dir = run_dir.join(collector);
        fs::create_dir_all(&dir).map_err(|source| SinkError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Self {
            dir,
            collector: collector.to_string(),
            files: BTreeMap::new(),
            provenance: BTreeMap::new(),
            progress: None,
        })
    }

    /// Reports record counts to `progress` as they are written.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = Some(progress);
        self
    }

    fn file(&mut self, population: &str) -> Result<&mut PopulationFile, SinkError> {
        if !self.files.contains_key(population) {
            validate_population_name(population)?;
            let partial = self.dir.join(format!("{population}{PARTIAL_SUFFIX}"));
            let file = File::create(&partial).map_err(|source| SinkError::Io {
                path: partial.clone(),
                source,
            })?;
            self.files.insert(
                population.to_string(),
                PopulationFile {
                    partial,
                    writer: BufWriter::with_capacity(256 * 1024, file),
                    written: 0,
                },
            );
        }
        self.files
            .get_mut(population)
            .ok_or_else(|| SinkError::BadPopulationName(population.to_string()))
    }

    /// Flushes every population to disk. When `success` is true the files are renamed to
    /// `.jsonl` and their provenance marked complete; otherwise they stay `.jsonl.partial` and
    /// provenance says `"complete": false`. `provenance.json` is written either way.
    pub fn finish(mut self, success: bool) -> Result<SinkOutcome, SinkError> {
        // A population that has provenance but no records is an empty population: a fact
        // worth a file (e.g. "no PRs merged in the period").
        let declared: Vec<String> = self.provenance.keys().cloned().collect();
        for population in declared {
            self.file(&population)?;
        }
        let mut outcome = SinkOutcome::default();
        let collector = self.collector.clone();
        for (population, mut pf) in std::mem::take(&mut self.files) {
            let io = |source| SinkError::Io {
                path: pf.partial.clone(),
                source,
            };
            pf.writer.flush().map_err(io)?;
            pf.writer.get_ref().sync_all().map_err(io)?;
            let name = if success {
                let done = self.dir.join(format!("{population}.jsonl"));
                fs::rename(&pf.partial, &done).map_err(|source| SinkError::Io {
                    path: done.clone(),
                    source,
                })?;
                format!("{collector}/{population}.jsonl")
            } else {
                format!("{collector}/{population}{PARTIAL_SUFFIX}")
            };
            outcome.files.push(name);
            outcome.records.insert(population.clone(), pf.written);
            if let Some(p) = self.provenance.get_mut(&population) {
                p.records_written = pf.written;
                p.complete = p.complete && success;
            }
        }
        let provenance: Vec<&Provenance> = self.provenance.values().collect();
        let doc = serde_json::json!({
            "collector": collector,
            "complete": success,
            "populations": provenance,
        });
        let path = self.dir.join("provenance.json");
        let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| SinkError::Serialize {
            population: "provenance".into(),
            message: e.to_string(),
        })?;
        write_atomic(&path, &bytes).map_err(|source| SinkError::Io {
            path: path.clone(),
            source,
        })?;
        outcome.files.push(format!("{collector}/provenance.json"));
        Ok(outcome)
    }
}

impl EvidenceSink for JsonlSink {
    fn append_json(&mut self, population: &str, json: &[u8]) -> Result<(), SinkError> {
        let collector = self.collector.clone();
        let progress = self.progress.clone();
        let pf = self.file(population)?;
        let io = |source| SinkError::Io {
            path: pf.partial.clone(),
            source,
        };
        pf.writer.write_all(json).map_err(io)?;
        pf.writer.write_all(b"\n").map_err(io)?;
        pf.written += 1;
        if pf.written % 1024 == 0 {
            if let Some(p) = progress {
                p.records(&collector, population, pf.written);
            }
        }
        Ok(())
    }

    fn provenance(&mut self, provenance: Provenance) -> Result<(), SinkError> {
        validate_population_name(&provenance.population)?;
        self.provenance
            .insert(provenance.population.clone(), provenance);
        Ok(())
    }
}

/// A sink that keeps records in memory: for tests and for plugin authors trying a collector.
#[derive(Debug, Default)]
pub struct MemorySink {
    /// Records per population, as JSON values.
    pub records: BTreeMap<String, Vec<serde_json::Value>>,
    /// Provenance per population.
    pub provenance: BTreeMap<String, Provenance>,
}

impl MemorySink {
    /// The records of one population (empty when none were written).
    pub fn population(&self, population: &str) -> &[serde_json::Value] {
        self.records
            .get(population)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

impl EvidenceSink for MemorySink {
    fn append_json(&mut self, population: &str, json: &[u8]) -> Result<(), SinkError> {
        validate_population_name(population)?;
        let value = serde_json::from_slice(json).map_err(|e| SinkError::Serialize {
            population: population.to_string(),
            message: e.to_string(),
        })?;
        self.records
            .entry(population.to_string())
            .or_default()
            .push(value);
        Ok(())
    }

    fn provenance(&mut self, provenance: Provenance) -> Result<(), SinkError> {
        validate_population_name(&provenance.population)?;
        self.provenance
            .insert(provenance.population.clone(), provenance);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::ProvenanceRecorder;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize)]
    struct User {
        id: String,
    }
    impl Evidence for User {
        const KIND: &'static str = "test.user";
        const SCHEMA_VERSION: u32 = 2;
        const CRITERIA: &'static [&'static str] = &["CC6.1"];
        fn subject_id(&self) -> String {
            self.id.clone()
        }
    }

    #[test]
    fn success_renames_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = JsonlSink::create(dir.path(), "okta").unwrap();
        for i in 0..3 {
            sink.emit(
                "users",
                &User {
                    id: format!("u{i}"),
                },
            )
            .unwrap();
        }
        let prov = ProvenanceRecorder::new("users", "test.user", "t", "okta", "1").finish(true);
        sink.provenance(prov).unwrap();
        let empty = ProvenanceRecorder::new("groups", "test.group", "t", "okta", "1").finish(true);
        sink.provenance(empty).unwrap();
        let out = sink.finish(true).unwrap();
        assert_eq!(out.records["users"], 3);
        assert_eq!(out.records["groups"], 0);
        let text = fs::read_to_string(dir.path().join("okta/users.jsonl")).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["kind"], "test.user");
        assert_eq!(first["schema_version"], 2);
        assert_eq!(first["subject_id"], "u0");
        assert_eq!(first["data"]["id"], "u0");
        assert!(dir.path().join("okta/groups.jsonl").exists());
        assert!(!dir.path().join("okta/users.jsonl.partial").exists());
        let prov: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.path().join("okta/provenance.json")).unwrap())
                .unwrap();
        assert_eq!(prov["complete"], true);
        assert_eq!(prov["populations"][1]["records_written"], 3);
    }

    #[test]
    fn failure_keeps_partial_files_marked_incomplete() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = JsonlSink::create(dir.path(), "okta").unwrap();
        sink.emit("users", &User { id: "u1".into() }).unwrap();
        sink.provenance(ProvenanceRecorder::new("users", "k", "s", "okta", "1").finish(true))
            .unwrap();
        let out = sink.finish(false).unwrap();
        assert_eq!(out.files[0], "okta/users.jsonl.partial");
        assert!(!dir.path().join("okta/users.jsonl").exists());
        let kept = fs::read_to_string(dir.path().join("okta/users.jsonl.partial")).unwrap();
        assert_eq!(kept.lines().count(), 1, "nothing collected is lost");
        let prov: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.path().join("okta/provenance.json")).unwrap())
                .unwrap();
        assert_eq!(prov["complete"], false);
        assert_eq!(prov["populations"][0]["complete"], false);
    }

    #[test]
    fn population_names_are_restricted() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = JsonlSink::create(dir.path(), "okta").unwrap();
        for bad in ["../x", "Users", "a/b", "", "x.y"] {
            assert!(matches!(
                sink.append_json(bad, b"{}"),
                Err(SinkError::BadPopulationName(_))
            ));
        }
        assert!(JsonlSink::create(dir.path(), "../escape").is_err());
    }
}
