//! Reading a run directory back: `run.json`, populations and provenance.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::evidence::{DynamicRecord, Evidence, Record};
use crate::ledger::{LedgerPeriod, VersionSpan, PERIOD_FILE, VERSIONS_DIR};
use crate::provenance::Coverage;
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
    // Populations read since the last `take_reads`: the runner holds every check's findings
    // to the completeness of what it read (see `Completeness`).
    reads: Arc<Mutex<Vec<(String, String)>>>,
    // An assembled ledger period: its runs and epochs, and the epoch state is read at.
    ledger: Option<Arc<LedgerPeriod>>,
    epoch: Arc<Mutex<Option<u64>>>,
}

/// Whether a population establishes what it holds for the whole audit period.
///
/// The runner enforces the verdict rule with it: a check's `pass` and `not_applicable`
/// findings become `error` when any population the check read is incomplete without a
/// known window, since the missing part could hold the gap. A population incomplete only
/// through a retention window ([`Coverage`]) is left to the check, which judges each subject
/// by its time with [`Completeness::why_not`].
///
/// ```
/// use soc2_evidence_core::{Completeness, Coverage};
/// let whole = Completeness::whole("okta/users.jsonl");
/// assert!(whole.covers("2020-01-01T00:00:00Z".parse().unwrap()));
/// let log = Completeness::windowed("okta/system_log.jsonl", Coverage::new(
///     "2026-04-02T00:00:00Z".parse().unwrap(),
///     "2026-07-01T00:00:00Z".parse().unwrap(),
///     "Okta keeps 90 days of System Log",
/// ));
/// assert!(!log.covers("2026-02-01T00:00:00Z".parse().unwrap()));
/// assert!(log.why_not("2026-02-01T00:00:00Z".parse().unwrap()).unwrap().contains("90 days"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completeness {
    /// The population file, `<instance>/<population>.jsonl`.
    pub file: String,
    /// Whether the collector vouched for the population as whole.
    pub complete: bool,
    /// The window it covers when a retention limit cut it short.
    pub coverage: Option<Coverage>,
    /// Why it is incomplete, in words (empty when complete).
    pub reason: String,
    /// The scopes (subject-id prefixes) it lacks when only part is missing; empty when the
    /// gap is unbounded.
    pub scopes: Vec<String>,
}

impl Completeness {
    /// A complete population.
    pub fn whole(file: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            complete: true,
            coverage: None,
            reason: String::new(),
            scopes: Vec::new(),
        }
    }

    /// A population cut short by a retention window.
    pub fn windowed(file: impl Into<String>, coverage: Coverage) -> Self {
        let reason = coverage.reason.clone();
        Self {
            file: file.into(),
            complete: false,
            coverage: Some(coverage),
            reason,
            scopes: Vec::new(),
        }
    }

    /// An incomplete population with no known window.
    pub fn partial(file: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            complete: false,
            coverage: None,
            reason: reason.into(),
            scopes: Vec::new(),
        }
    }

    /// Whether the gap reaches the finding about `subject`: always for an unbounded gap and
    /// for the whole-scope subject `*`; else when the subject is one of the missing scopes or
    /// lies under one (`db-02`, `db-02/2026-03-02`, `db-02:job`).
    pub fn affects(&self, subject: &str) -> bool {
        if self.complete || self.coverage.is_some() {
            return false;
        }
        if self.scopes.is_empty() || subject == "*" {
            return true;
        }
        self.scopes.iter().any(|s| {
            subject == s
                || subject
                    .strip_prefix(s.as_str())
                    .is_some_and(|rest| rest.starts_with(['/', ':', '#', '@']))
        })
    }

    /// Whether the population can establish facts about instant `t`.
    pub fn covers(&self, t: DateTime<Utc>) -> bool {
        self.why_not(t).is_none()
    }

    /// Why facts about instant `t` cannot be established from this population, or `None`
    /// when they can.
    pub fn why_not(&self, t: DateTime<Utc>) -> Option<String> {
        if self.complete {
            return None;
        }
        match &self.coverage {
            Some(c) => c.why_not(t),
            None => Some(self.incomplete_reason()),
        }
    }

    /// "population X is incomplete: why", for a finding's summary.
    pub fn incomplete_reason(&self) -> String {
        if self.reason.is_empty() {
            format!("{} is incomplete", self.file)
        } else {
            format!("{} is incomplete ({})", self.file, self.reason)
        }
    }
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
        let ledger_path = dir.join(PERIOD_FILE);
        let ledger = match std::fs::read(&ledger_path) {
            Ok(bytes) => Some(Arc::new(
                serde_json::from_slice::<LedgerPeriod>(&bytes).map_err(|e| {
                    StoreError::Malformed {
                        path: ledger_path.clone(),
                        line: e.line() as u64,
                        message: e.to_string(),
                    }
                })?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(StoreError::Io {
                    path: ledger_path,
                    source,
                })
            }
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
            reads: Arc::default(),
            ledger,
            epoch: Arc::default(),
        })
    }

    /// The ledger runs and epochs, when this directory is a period assembled from a ledger.
    pub fn ledger_period(&self) -> Option<&LedgerPeriod> {
        self.ledger.as_deref()
    }

    /// Reads state populations as they stood at ledger epoch `seq` (the run that observed
    /// them), or every observed version with `None`. Only an assembled period has versions;
    /// elsewhere this changes nothing. The runner sets it while it judges each epoch, and
    /// [`Self::collected_at`] follows it.
    pub fn set_epoch(&self, seq: Option<u64>) {
        *self.epoch.lock().unwrap_or_else(PoisonError::into_inner) = seq;
    }

    /// The epoch set by [`Self::set_epoch`].
    pub fn epoch(&self) -> Option<u64> {
        *self.epoch.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn versions_path(&self, collector: &str, population: &str) -> PathBuf {
        self.dir
            .join(VERSIONS_DIR)
            .join(collector)
            .join(format!("{population}.jsonl"))
    }

    fn version_filter(
        &self,
        collector: &str,
        population: &str,
    ) -> Result<Option<VersionFilter>, StoreError> {
        let Some(epoch) = self.epoch().filter(|_| self.ledger.is_some()) else {
            return Ok(None);
        };
        let path = self.versions_path(collector, population);
        match File::open(&path) {
            Ok(f) => Ok(Some(VersionFilter {
                path,
                lines: BufReader::new(f),
                line: 0,
                buf: String::new(),
                epoch,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }

    /// The ledger runs at which a state population's content changed (a version began, or
    /// ended), or `None` when the population has no versions (events, or not a period).
    pub fn change_points(
        &self,
        collector: &str,
        population: &str,
    ) -> Result<Option<std::collections::BTreeSet<u64>>, StoreError> {
        if self.ledger.is_none() {
            return Ok(None);
        }
        let path = self.versions_path(collector, population);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        let mut points = std::collections::BTreeSet::new();
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let span: VersionSpan =
                serde_json::from_str(&line).map_err(|e| StoreError::Malformed {
                    path: path.clone(),
                    line: i as u64 + 1,
                    message: e.to_string(),
                })?;
            points.insert(span.first_seq);
            points.insert(span.until_seq + 1);
        }
        Ok(Some(points))
    }

    /// Opens a store over a directory and an in-memory manifest (used by the runner before
    /// `run.json` is final).
    pub fn with_manifest(dir: &Path, manifest: RunManifest) -> Self {
        Self {
            dir: dir.to_path_buf(),
            manifest,
            reads: Arc::default(),
            ledger: None,
            epoch: Arc::default(),
        }
    }

    fn note_read(&self, collector: &str, population: &str) {
        let mut reads = self.reads.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (collector.to_string(), population.to_string());
        if !reads.contains(&key) {
            reads.push(key);
        }
    }

    /// The populations read (as `(instance, population)`) since the last call, in order.
    pub fn take_reads(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.reads.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// How complete one instance's population is, from its provenance entry.
    pub fn completeness<E: Evidence>(
        &self,
        population: &crate::population::PopulationRef<E>,
    ) -> Completeness {
        self.completeness_of(population.instance(), population.name())
    }

    /// How complete `<collector>/<population>.jsonl` is. A population without a readable
    /// provenance entry is incomplete: nothing vouches for it.
    pub fn completeness_of(&self, collector: &str, population: &str) -> Completeness {
        let file = Self::population_file(collector, population);
        let prov = match self.provenance(collector) {
            Ok(p) => p,
            Err(e) => return Completeness::partial(file, format!("no provenance: {e}")),
        };
        let entry = prov["populations"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["population"] == population));
        let Some(entry) = entry else {
            return Completeness::partial(file, "no provenance entry");
        };
        if entry["complete"] == true {
            return Completeness::whole(file);
        }
        if let Some(c) = entry
            .get("covers")
            .and_then(|c| serde_json::from_value::<Coverage>(c.clone()).ok())
        {
            return Completeness::windowed(file, c);
        }
        let reason = entry["notes"]
            .as_array()
            .and_then(|n| n.last())
            .and_then(|n| n.as_str())
            .map(str::to_string)
            .or_else(|| {
                self.manifest
                    .collector(collector)
                    .and_then(|c| c.error.clone())
            })
            .unwrap_or_else(|| "the collector did not vouch for it".to_string());
        let mut c = Completeness::partial(file, reason);
        c.scopes = entry["incomplete_scopes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        c
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
        // At a ledger epoch, "now" is when that run observed the state being judged.
        if let (Some(seq), Some(ledger)) = (self.epoch(), &self.ledger) {
            if let Some(e) = ledger.epochs.iter().find(|e| e.seq == seq) {
                return e.at;
            }
        }
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
        self.note_read(collector, population);
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
            filter: self.version_filter(collector, population)?,
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
        self.note_read(collector, population);
        let path = self.dir.join(Self::population_file(collector, population));
        let file = File::open(&path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        let reader = BufReader::new(file);
        let mut filter = self.version_filter(collector, population)?;
        Ok(reader
            .lines()
            .enumerate()
            .filter(|(_, line)| !matches!(line, Ok(l) if l.trim().is_empty()))
            .map(move |(i, line)| {
                let line = line.map_err(|source| StoreError::Io {
                    path: path.clone(),
                    source,
                })?;
                let record: DynamicRecord =
                    serde_json::from_str(&line).map_err(|e| StoreError::Malformed {
                        path: path.clone(),
                        line: i as u64 + 1,
                        message: e.to_string(),
                    })?;
                let keep = match &mut filter {
                    Some(f) => f.keep(&record.subject_id)?,
                    None => true,
                };
                Ok(keep.then_some(record))
            })
            .filter_map(Result::transpose))
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
    filter: Option<VersionFilter>,
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
            // At an epoch, versions that do not hold are skipped before they are parsed:
            // most lines of a long period's state are other epochs' versions.
            let span = match &mut self.filter {
                Some(filter) => match filter.next_span(text) {
                    Ok(span) if !span.holds_at(filter.epoch) => continue,
                    Ok(span) => Some(span),
                    Err(e) => return Some(Err(e)),
                },
                None => None,
            };
            let parsed: Result<Record<E>, _> = serde_json::from_str(text);
            if let (Ok(r), Some(span), Some(filter)) = (&parsed, &span, &self.filter) {
                if r.subject_id != span.subject_id {
                    return Some(Err(filter.mismatch(&span.subject_id, &r.subject_id)));
                }
            }
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

/// Walks a version sidecar beside its population, one span per record line, keeping the
/// records that held at one epoch.
struct VersionFilter {
    path: PathBuf,
    lines: BufReader<File>,
    line: u64,
    buf: String,
    epoch: u64,
}

impl VersionFilter {
    fn keep(&mut self, subject: &str) -> Result<bool, StoreError> {
        let span = self.next_span(subject)?;
        if span.subject_id != subject {
            return Err(self.mismatch(&span.subject_id, subject));
        }
        Ok(span.holds_at(self.epoch))
    }

    fn mismatch(&self, span: &str, record: &str) -> StoreError {
        StoreError::Malformed {
            path: self.path.clone(),
            line: self.line,
            message: format!(
                "span for {span:?} where the population has {record:?}: the sidecar does not match its population"
            ),
        }
    }

    /// The span of the next record, whose line is `line` (its subject must appear in it).
    fn next_span(&mut self, line: &str) -> Result<VersionSpan, StoreError> {
        loop {
            self.buf.clear();
            let n = self
                .lines
                .read_line(&mut self.buf)
                .map_err(|source| StoreError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            self.line += 1;
            if n == 0 {
                return Err(StoreError::Malformed {
                    path: self.path.clone(),
                    line: self.line,
                    message: "ends before the population does".to_string(),
                });
            }
            if self.buf.trim().is_empty() {
                continue;
            }
            let span: VersionSpan =
                serde_json::from_str(self.buf.trim_end()).map_err(|e| StoreError::Malformed {
                    path: self.path.clone(),
                    line: self.line,
                    message: e.to_string(),
                })?;
            if !line.contains(span.subject_id.as_str()) {
                return Err(self.mismatch(&span.subject_id, line));
            }
            return Ok(span);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scoped_gap_reaches_only_its_scopes_and_the_whole() {
        let mut c = Completeness::partial("backups/jobs.jsonl", "db-02 unreadable");
        assert!(
            c.affects("pg-main/2026-03-02"),
            "an unbounded gap reaches all"
        );
        c.scopes = vec!["db-02".into()];
        for hit in ["db-02", "db-02/2026-03-02", "db-02:x", "*"] {
            assert!(c.affects(hit), "{hit}");
        }
        for miss in ["db-021", "pg-main", "pg-main/db-02"] {
            assert!(!c.affects(miss), "{miss}");
        }
        assert!(!Completeness::whole("a/b.jsonl").affects("x"));
    }
}
