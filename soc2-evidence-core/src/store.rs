//! Reading a run directory back: `run.json`, populations and provenance.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use crate::evidence::{DynamicRecord, Evidence, Record};
use crate::run_manifest::{CollectorStatus, RunManifest};

/// Why the run directory could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file is missing.
    #[error("{}: missing{}", .path.display(), .hint)]
    Missing {
        /// The file.
        path: PathBuf,
        /// Why it may be missing.
        hint: String,
    },
    /// A file could not be read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line or file is not what it should be.
    #[error("{}:{line}: {message}", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 for a whole-file problem).
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// Read access to a run directory for checks and reports.
#[derive(Debug, Clone)]
pub struct EvidenceStore {
    dir: PathBuf,
    manifest: RunManifest,
}

impl EvidenceStore {
    /// Opens a run directory by reading its `run.json`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join("run.json");
        let bytes = std::fs::read(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                StoreError::Missing {
                    path: path.clone(),
                    hint: " (is this a run directory written by `soc2-evidence collect`?)".into(),
                }
            } else {
                StoreError::Io {
                    path: path.clone(),
                    source,
                }
            }
        })?;
        let manifest = serde_json::from_slice(&bytes).map_err(|e| StoreError::Malformed {
            path: path.clone(),
            line: e.line() as u64,
            message: e.to_string(),
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    /// Opens a store over a directory and an in-memory manifest (used by the runner before
    /// `run.json` is final).
    pub fn with_manifest(dir: &Path, manifest: RunManifest) -> Self {
        Self {
            dir: dir.to_path_buf(),
            manifest,
        }
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The run's manifest.
    pub fn manifest(&self) -> &RunManifest {
        &self.manifest
    }

    /// The audit period.
    pub fn period(&self) -> &crate::AuditPeriod {
        &self.manifest.period
    }

    /// Path of a population file, relative form `<collector>/<population>.jsonl`.
    pub fn population_file(collector: &str, population: &str) -> String {
        format!("{collector}/{population}.jsonl")
    }

    /// When the evidence was collected: the run's recorded start. Checks judge "now"
    /// (dormancy, ages) against this, never against the clock at `check` time, so a re-run
    /// gives the same findings.
    pub fn collected_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.manifest.started_at
    }

    /// Streams the records of one instance's population through its typed handle.
    pub fn records<E: Evidence>(
        &self,
        population: &crate::population::PopulationRef<E>,
    ) -> Result<RecordIter<E>, StoreError> {
        self.read(population.instance(), population.name())
    }

    /// Reads one instance's population into memory (the records' data only).
    pub fn records_all<E: Evidence>(
        &self,
        population: &crate::population::PopulationRef<E>,
    ) -> Result<Vec<E>, StoreError> {
        self.records(population)?
            .map(|r| r.map(|r| r.data))
            .collect()
    }

    /// Whether the population was written whole (a `.jsonl` file exists).
    pub fn has<E: Evidence>(&self, population: &crate::population::PopulationRef<E>) -> bool {
        self.has_population(population.instance(), population.name())
    }

    /// Whether a complete population file exists.
    pub fn has_population(&self, collector: &str, population: &str) -> bool {
        self.dir
            .join(Self::population_file(collector, population))
            .is_file()
    }

    /// Streams the typed records of a complete population. A failed collector's `.partial`
    /// files are never read here: a check over incomplete evidence would be misleading.
    pub fn read<E: Evidence>(
        &self,
        collector: &str,
        population: &str,
    ) -> Result<RecordIter<E>, StoreError> {
        let path = self.dir.join(Self::population_file(collector, population));
        let file = File::open(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                let hint = match self.manifest.collector(collector) {
                    Some(c) if c.status != CollectorStatus::Ok => format!(
                        " (collector {collector:?} did not complete: {})",
                        c.error.as_deref().unwrap_or("cancelled")
                    ),
                    None => format!(" (collector {collector:?} did not run)"),
                    Some(_) => String::new(),
                };
                StoreError::Missing {
                    path: path.clone(),
                    hint,
                }
            } else {
                StoreError::Io {
                    path: path.clone(),
                    source,
                }
            }
        })?;
        Ok(RecordIter {
            path,
            lines: BufReader::with_capacity(256 * 1024, file),
            line: 0,
            buf: String::new(),
            kind: E::KIND,
            _t: PhantomData,
        })
    }

    /// Reads a whole population into memory.
    pub fn read_all<E: Evidence>(
        &self,
        collector: &str,
        population: &str,
    ) -> Result<Vec<Record<E>>, StoreError> {
        self.read(collector, population)?.collect()
    }

    /// Streams the records of a population as JSON values, whatever their kind.
    pub fn read_dynamic(
        &self,
        collector: &str,
        population: &str,
    ) -> Result<impl Iterator<Item = Result<DynamicRecord, StoreError>>, StoreError> {
        let path = self.dir.join(Self::population_file(collector, population));
        let file = File::open(&path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        let reader = BufReader::new(file);
        Ok(reader.lines().enumerate().map(move |(i, line)| {
            let line = line.map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
            serde_json::from_str(&line).map_err(|e| StoreError::Malformed {
                path: path.clone(),
                line: i as u64 + 1,
                message: e.to_string(),
            })
        }))
    }

    /// The parsed `<collector>/provenance.json`.
    pub fn provenance(&self, collector: &str) -> Result<serde_json::Value, StoreError> {
        let path = self.dir.join(collector).join("provenance.json");
        let bytes = std::fs::read(&path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Malformed {
            path,
            line: e.line() as u64,
            message: e.to_string(),
        })
    }
}

/// Streams typed records from a population file, naming file and line on any error.
pub struct RecordIter<E> {
    path: PathBuf,
    lines: BufReader<File>,
    line: u64,
    buf: String,
    kind: &'static str,
    _t: PhantomData<E>,
}

impl<E: Evidence> Iterator for RecordIter<E> {
    type Item = Result<Record<E>, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            match self.lines.read_line(&mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(source) => {
                    return Some(Err(StoreError::Io {
                        path: self.path.clone(),
                        source,
                    }))
                }
            }
            self.line += 1;
            let text = self.buf.trim_end();
            if text.is_empty() {
                continue;
            }
            let parsed: Result<Record<E>, _> = serde_json::from_str(text);
            return Some(match parsed {
                Ok(r) if r.kind != self.kind => Err(StoreError::Malformed {
                    path: self.path.clone(),
                    line: self.line,
                    message: format!("record kind {:?}, expected {:?}", r.kind, self.kind),
                }),
                Ok(r) => Ok(r),
                Err(e) => Err(StoreError::Malformed {
                    path: self.path.clone(),
                    line: self.line,
                    message: e.to_string(),
                }),
            });
        }
    }
}
