//! Where collectors write records: one writer per population, streamed to disk, and the
//! provenance of every population written by the framework, whatever the collector did.
//!
//! A collector opens each population it declared with [`EvidenceSinkExt::open`] and gets a
//! [`PopulationWriter`] whose [`ProvenanceRecorder`] already knows the kind, criteria,
//! source, collector instance and version. Calling [`PopulationWriter::finish`] says the
//! population is whole. A writer dropped unfinished (the collector returned an error, was
//! cancelled, or panicked) is recorded as incomplete with the reason, and a declared
//! population never opened gets a provenance entry that says so. The sink's own `finish`
//! (called by the runner) decides what becomes `.jsonl` and what stays `.jsonl.partial`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use crate::evidence::{Evidence, RecordRef};
use crate::fsutil::write_atomic;
use crate::population::{Population, PopulationSpec};
use crate::progress::Progress;
use crate::provenance::{Provenance, ProvenanceRecorder};

/// Why a record could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// Population names become file names, so they are restricted.
    #[error("population name {0:?} is not allowed: use lower-case letters, digits, `_` and `-`")]
    BadPopulationName(String),
    /// The collector opened a population its module does not declare.
    #[error("collector {collector:?} opened population {population:?}, which its module does not declare (declared: {declared})")]
    Undeclared {
        /// The collector instance.
        collector: String,
        /// The population.
        population: String,
        /// The declared populations, comma-separated.
        declared: String,
    },
    /// A population was opened twice in one run.
    #[error("collector {collector:?} opened population {population:?} twice")]
    AlreadyOpen {
        /// The collector instance.
        collector: String,
        /// The population.
        population: String,
    },
    /// A record's kind differs from its population's.
    #[error("population {population:?} holds {expected:?} records, not {found:?}")]
    WrongKind {
        /// The population.
        population: String,
        /// The declared kind.
        expected: String,
        /// The kind written.
        found: String,
    },
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

/// The object-safe sink a [`crate::Collector`] writes into. Collectors use
/// [`EvidenceSinkExt::open`] with their population constants; [`EvidenceSink::open_raw`]
/// serves populations known only at run time (an external command's).
pub trait EvidenceSink: Send {
    /// Opens a population for writing.
    fn open_raw(&mut self, spec: &PopulationSpec) -> Result<RawPopulationWriter, SinkError>;
}

/// Typed helpers over any [`EvidenceSink`].
pub trait EvidenceSinkExt: EvidenceSink {
    /// Opens a declared population of typed records.
    fn open<E: Evidence>(
        &mut self,
        population: &Population<E>,
    ) -> Result<PopulationWriter<E>, SinkError> {
        Ok(PopulationWriter {
            raw: self.open_raw(&population.spec())?,
            _records: PhantomData,
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
        // Re-entrant use would find the buffer borrowed; fall back to a fresh one rather
        // than panic.
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

/// Checks a population (or instance) name: it becomes a file name, so only `[a-z0-9_-]`.
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

/// Where one population's lines go.
enum Output {
    File {
        partial: PathBuf,
        writer: BufWriter<File>,
    },
    Memory(Vec<serde_json::Value>),
}

impl Output {
    fn write_line(&mut self, population: &str, json: &[u8]) -> Result<(), SinkError> {
        match self {
            Output::File { partial, writer } => {
                let io = |source| SinkError::Io {
                    path: partial.clone(),
                    source,
                };
                writer.write_all(json).map_err(io)?;
                writer.write_all(b"\n").map_err(io)
            }
            Output::Memory(lines) => {
                let value = serde_json::from_slice(json).map_err(|e| SinkError::Serialize {
                    population: population.to_string(),
                    message: e.to_string(),
                })?;
                lines.push(value);
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        if let Output::File { partial, writer } = self {
            let io = |source| SinkError::Io {
                path: partial.clone(),
                source,
            };
            writer.flush().map_err(io)?;
            writer.get_ref().sync_all().map_err(io)?;
        }
        Ok(())
    }
}

/// The state of one population inside the sink.
enum Entry {
    /// A writer is out.
    Open,
    /// The writer came back: finished by the collector, or dropped.
    Closed {
        provenance: Box<Provenance>,
        finished: bool,
        output: Output,
    },
}

/// What the writers and the sink share: a writer hands its output and provenance back here
/// when it is finished or dropped, so nothing depends on the collector cleaning up.
struct Shared {
    collector: String,
    version: String,
    /// `None`: any population may be opened (a bare collector without a module).
    declared: Option<Vec<PopulationSpec>>,
    entries: BTreeMap<String, Entry>,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A writer never panics while holding the lock; if a panic elsewhere poisoned it the
    // data is still consistent, and losing provenance would be worse.
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// A writer for one population whose kind is known at run time.
pub struct RawPopulationWriter {
    spec: PopulationSpec,
    recorder: Option<ProvenanceRecorder>,
    output: Option<Output>,
    written: u64,
    shared: Arc<Mutex<Shared>>,
    progress: Option<Arc<dyn Progress>>,
}

impl std::fmt::Debug for RawPopulationWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawPopulationWriter")
            .field("population", &self.spec.name)
            .field("written", &self.written)
            .finish()
    }
}

impl RawPopulationWriter {
    /// The population being written.
    pub fn spec(&self) -> &PopulationSpec {
        &self.spec
    }

    /// The provenance recorder: record pages, counts, notes and the base URL here.
    pub fn provenance(&mut self) -> &mut ProvenanceRecorder {
        // Only `close` takes the recorder, and it consumes or drops the writer.
        self.recorder
            .get_or_insert_with(|| ProvenanceRecorder::from_spec(&self.spec, "", ""))
    }

    /// Records written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes one record of the population's kind.
    pub fn emit_value<T: Serialize>(
        &mut self,
        subject_id: &str,
        data: &T,
    ) -> Result<(), SinkError> {
        let envelope = RecordRef {
            kind: &self.spec.kind,
            schema_version: self.spec.schema_version,
            subject_id,
            data,
        };
        let population = self.spec.name.clone();
        let out = self.output.as_mut();
        with_buffer(&population, &envelope, |json| match out {
            Some(o) => o.write_line(&population, json),
            None => Ok(()),
        })?;
        self.written += 1;
        if self.written % 1024 == 0 {
            if let Some(p) = &self.progress {
                p.records(
                    lock(&self.shared).collector.as_str(),
                    &population,
                    self.written,
                );
            }
        }
        Ok(())
    }

    /// The collector vouches that the population is whole. Returns the records written.
    pub fn finish(mut self) -> Result<u64, SinkError> {
        self.close(true, true, None)
    }

    /// The collector finished the population but knows it is not whole (say one source of
    /// several could not be read): provenance says `complete: false` with `why`.
    pub fn finish_incomplete(mut self, why: &str) -> Result<u64, SinkError> {
        self.close(true, false, Some(why))
    }

    /// Like [`finish_incomplete`](Self::finish_incomplete), but only `scopes` (subject-id
    /// prefixes, such as the backup sources that could not be read) are missing: checks
    /// keep their verdicts on every other subject.
    pub fn finish_incomplete_for(mut self, scopes: &[String], why: &str) -> Result<u64, SinkError> {
        if let Some(r) = self.recorder.as_mut() {
            r.incomplete_scopes(scopes);
        }
        self.close(true, false, Some(why))
    }

    fn close(&mut self, called: bool, complete: bool, why: Option<&str>) -> Result<u64, SinkError> {
        let (Some(recorder), Some(mut output)) = (self.recorder.take(), self.output.take()) else {
            return Ok(self.written);
        };
        let flushed = output.flush();
        let mut provenance = recorder.finish(complete);
        provenance.records_written = self.written;
        if let Some(why) = why {
            provenance.notes.push(why.to_string());
        }
        lock(&self.shared).entries.insert(
            self.spec.name.clone(),
            Entry::Closed {
                provenance: Box::new(provenance),
                // Whether the collector called `finish*` and the lines reached the disk;
                // `complete` in the provenance is the collector's own word on wholeness.
                finished: called && flushed.is_ok(),
                output,
            },
        );
        flushed.map(|()| self.written)
    }
}

impl Drop for RawPopulationWriter {
    fn drop(&mut self) {
        // Dropped without `finish`: the collector failed, was cancelled or panicked. The
        // records already written are kept and the population is marked unfinished.
        let _ = self.close(false, false, None);
    }
}

/// A writer for one population of typed records.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use soc2_evidence_core::*;
///
/// #[derive(Serialize, Deserialize)]
/// struct Server { host: String }
/// impl Evidence for Server {
///     const KIND: &'static str = "inventory.server";
///     const SCHEMA_VERSION: u32 = 1;
///     const CRITERIA: &'static [&'static str] = &["CC7.1"];
///     fn subject_id(&self) -> String { self.host.clone() }
/// }
/// const SERVERS: Population<Server> = Population::state("servers", "inventory");
///
/// let mut sink = MemorySink::new("inventory");
/// let mut servers = sink.open(&SERVERS).unwrap();
/// servers.provenance().page("GET", "/servers", &[], b"[]");
/// servers.emit(&Server { host: "db-01".into() }).unwrap();
/// servers.finish().unwrap();
/// assert_eq!(sink.population("servers")[0]["subject_id"], "db-01");
/// assert_eq!(sink.provenance_of("servers").unwrap().kind, "inventory.server");
/// ```
pub struct PopulationWriter<E> {
    raw: RawPopulationWriter,
    _records: PhantomData<fn(&E)>,
}

impl<E> std::fmt::Debug for PopulationWriter<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.raw.fmt(f)
    }
}

impl<E: Evidence> PopulationWriter<E> {
    /// Writes one record, wrapped in its envelope.
    pub fn emit(&mut self, record: &E) -> Result<(), SinkError> {
        self.raw.emit_value(&record.subject_id(), record)
    }

    /// The provenance recorder.
    pub fn provenance(&mut self) -> &mut ProvenanceRecorder {
        self.raw.provenance()
    }

    /// Records written so far.
    pub fn written(&self) -> u64 {
        self.raw.written()
    }

    /// The collector vouches that the population is whole.
    pub fn finish(self) -> Result<u64, SinkError> {
        self.raw.finish()
    }

    /// Finished, but known not to be whole; `why` goes into provenance.
    pub fn finish_incomplete(self, why: &str) -> Result<u64, SinkError> {
        self.raw.finish_incomplete(why)
    }

    /// The collector finished the population but `scopes` (subject-id prefixes) are
    /// missing from it; see [`RawPopulationWriter::finish_incomplete_for`].
    pub fn finish_incomplete_for(self, scopes: &[String], why: &str) -> Result<u64, SinkError> {
        self.raw.finish_incomplete_for(scopes, why)
    }
}

/// How a collector ended, as the runner tells the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectEnd<'a> {
    /// The collector returned `Ok`.
    Complete,
    /// Some independent parts failed; what the collector finished is kept whole.
    PartlyFailed(&'a str),
    /// The collector failed, was cancelled or panicked, for this reason.
    Failed(&'a str),
}

/// What a collector left in the run directory.
#[derive(Debug, Clone, Default)]
pub struct SinkOutcome {
    /// Records written per population.
    pub records: BTreeMap<String, u64>,
    /// Files written, relative to the run directory.
    pub files: Vec<String>,
    /// Populations that a collector reporting success left unfinished or never opened.
    /// The runner records the collector as failed when this is not empty.
    pub unfinished: Vec<String>,
}

/// The common core of the file and memory sinks.
struct SinkCore {
    shared: Arc<Mutex<Shared>>,
    progress: Option<Arc<dyn Progress>>,
}

impl SinkCore {
    fn new(collector: &str, version: &str) -> Self {
        Self {
            shared: Arc::new(Mutex::new(Shared {
                collector: collector.to_string(),
                version: version.to_string(),
                declared: None,
                entries: BTreeMap::new(),
            })),
            progress: None,
        }
    }

    fn open(
        &mut self,
        spec: &PopulationSpec,
        output: impl FnOnce() -> Result<Output, SinkError>,
    ) -> Result<RawPopulationWriter, SinkError> {
        validate_population_name(&spec.name)?;
        let mut shared = lock(&self.shared);
        if let Some(declared) = &shared.declared {
            match declared.iter().find(|d| d.name == spec.name) {
                Some(d) if d.kind != spec.kind => {
                    return Err(SinkError::WrongKind {
                        population: spec.name.clone(),
                        expected: d.kind.clone(),
                        found: spec.kind.clone(),
                    })
                }
                Some(_) => {}
                None => {
                    return Err(SinkError::Undeclared {
                        collector: shared.collector.clone(),
                        population: spec.name.clone(),
                        declared: declared
                            .iter()
                            .map(|d| d.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
                }
            }
        }
        if shared.entries.contains_key(&spec.name) {
            return Err(SinkError::AlreadyOpen {
                collector: shared.collector.clone(),
                population: spec.name.clone(),
            });
        }
        let output = output()?;
        shared.entries.insert(spec.name.clone(), Entry::Open);
        let recorder = ProvenanceRecorder::from_spec(spec, &shared.collector, &shared.version);
        drop(shared);
        Ok(RawPopulationWriter {
            spec: spec.clone(),
            recorder: Some(recorder),
            output: Some(output),
            written: 0,
            shared: self.shared.clone(),
            progress: self.progress.clone(),
        })
    }

    /// Settles every population: `finalize` gets each closed one with whether it is to be
    /// kept as complete, and returns the file name written.
    fn finish(
        &self,
        end: CollectEnd<'_>,
        mut finalize: impl FnMut(&str, Output, bool) -> Result<Option<String>, SinkError>,
    ) -> Result<(Vec<Provenance>, SinkOutcome), SinkError> {
        let mut shared = lock(&self.shared);
        let entries = std::mem::take(&mut shared.entries);
        let mut order: Vec<PopulationSpec> = shared.declared.clone().unwrap_or_default();
        let mut entries: BTreeMap<String, Entry> = entries;
        // Populations opened without a declaration (bare collectors) follow, by name.
        for name in entries.keys() {
            if !order.iter().any(|d| &d.name == name) {
                order.push(PopulationSpec {
                    name: name.clone(),
                    kind: String::new(),
                    schema_version: 0,
                    criteria: Vec::new(),
                    source: String::new(),
                    mode: crate::population::PopulationMode::State,
                });
            }
        }
        let mut outcome = SinkOutcome::default();
        let mut provenance = Vec::new();
        for spec in order {
            let (mut prov, keep) = match entries.remove(&spec.name) {
                Some(Entry::Closed {
                    mut provenance,
                    finished,
                    output,
                }) => {
                    let keep = match end {
                        CollectEnd::Complete | CollectEnd::PartlyFailed(_) => finished,
                        CollectEnd::Failed(_) => false,
                    };
                    if !finished {
                        let why = match end {
                            CollectEnd::Failed(reason) | CollectEnd::PartlyFailed(reason) => reason,
                            CollectEnd::Complete => "the collector returned without finishing it",
                        };
                        provenance
                            .notes
                            .push(format!("not finished: {why}; kept as {PARTIAL_SUFFIX}"));
                        if end == CollectEnd::Complete {
                            outcome.unfinished.push(spec.name.clone());
                        }
                    } else if let CollectEnd::Failed(reason) = end {
                        provenance.notes.push(format!(
                            "finished, but the collector then failed ({reason}); kept as {PARTIAL_SUFFIX}"
                        ));
                    }
                    outcome
                        .records
                        .insert(spec.name.clone(), provenance.records_written);
                    if let Some(file) = finalize(&spec.name, output, keep)? {
                        outcome.files.push(file);
                    }
                    (*provenance, keep)
                }
                Some(Entry::Open) => {
                    // Still held by the collector when it ended (leaked into a task).
                    let mut p =
                        ProvenanceRecorder::from_spec(&spec, &shared.collector, &shared.version)
                            .finish(false);
                    p.notes.push(
                        "still open when the collector ended; whatever reached the disk is kept as .jsonl.partial"
                            .into(),
                    );
                    if end == CollectEnd::Complete {
                        outcome.unfinished.push(spec.name.clone());
                    }
                    (p, false)
                }
                None => {
                    let mut p =
                        ProvenanceRecorder::from_spec(&spec, &shared.collector, &shared.version)
                            .finish(false);
                    let why = match end {
                        CollectEnd::Failed(reason) | CollectEnd::PartlyFailed(reason) => {
                            format!("never opened: the collector stopped first ({reason})")
                        }
                        CollectEnd::Complete => {
                            outcome.unfinished.push(spec.name.clone());
                            "never opened: the collector did not write this declared population"
                                .to_string()
                        }
                    };
                    p.notes.push(why);
                    (p, false)
                }
            };
            if !keep {
                prov.complete = false;
            }
            provenance.push(prov);
        }
        Ok((provenance, outcome))
    }
}

/// A sink that streams each population of one collector instance to
/// `<run dir>/<instance>/<population>.jsonl`, and its provenance to `provenance.json`.
///
/// Records go to `<population>.jsonl.partial` while collection runs; [`JsonlSink::finish`]
/// renames a population to `.jsonl` only when its writer was finished and the collector
/// succeeded (or partly failed). Everything else stays `.partial` with `complete: false`
/// and the reason in provenance: nothing collected is lost, and nothing unfinished is
/// presented as complete. Memory use is one write buffer per population.
pub struct JsonlSink {
    dir: PathBuf,
    collector: String,
    core: SinkCore,
}

impl JsonlSink {
    /// Creates `<run_dir>/<collector>/` and a sink writing into it, labelling provenance
    /// with the collector instance and `version`.
    pub fn create(run_dir: &Path, collector: &str, version: &str) -> Result<Self, SinkError> {
        validate_population_name(collector)?;
        let dir = run_dir.join(collector);
        fs::create_dir_all(&dir).map_err(|source| SinkError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Self {
            dir,
            collector: collector.to_string(),
            core: SinkCore::new(collector, version),
        })
    }

    /// Only these populations may be opened, and each gets a provenance entry.
    pub fn declare(self, populations: Vec<PopulationSpec>) -> Self {
        lock(&self.core.shared).declared = Some(populations);
        self
    }

    /// Reports record counts to `progress` as they are written.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.core.progress = Some(progress);
        self
    }

    /// Settles every population (see the type docs) and writes `provenance.json`.
    pub fn finish(self, end: CollectEnd<'_>) -> Result<SinkOutcome, SinkError> {
        let collector = self.collector.clone();
        let dir = self.dir.clone();
        let (provenance, mut outcome) = self.core.finish(end, |population, output, keep| {
            let Output::File { partial, writer } = output else {
                return Ok(None);
            };
            drop(writer);
            if keep {
                let done = dir.join(format!("{population}.jsonl"));
                fs::rename(&partial, &done).map_err(|source| SinkError::Io {
                    path: done.clone(),
                    source,
                })?;
                Ok(Some(format!("{collector}/{population}.jsonl")))
            } else {
                Ok(Some(format!("{collector}/{population}{PARTIAL_SUFFIX}")))
            }
        })?;
        let complete = end == CollectEnd::Complete && provenance.iter().all(|p| p.complete);
        let doc = serde_json::json!({
            "collector": collector,
            "complete": complete,
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
    fn open_raw(&mut self, spec: &PopulationSpec) -> Result<RawPopulationWriter, SinkError> {
        let partial = self.dir.join(format!("{}{PARTIAL_SUFFIX}", spec.name));
        self.core.open(spec, || {
            let file = File::create(&partial).map_err(|source| SinkError::Io {
                path: partial.clone(),
                source,
            })?;
            Ok(Output::File {
                partial,
                writer: BufWriter::with_capacity(256 * 1024, file),
            })
        })
    }
}

/// A sink that keeps records in memory: for tests and for plugin authors trying a collector.
pub struct MemorySink {
    core: SinkCore,
    records: BTreeMap<String, Vec<serde_json::Value>>,
    provenance: BTreeMap<String, Provenance>,
}

impl std::fmt::Debug for MemorySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySink").finish_non_exhaustive()
    }
}

impl Default for MemorySink {
    fn default() -> Self {
        Self::new("memory")
    }
}

impl MemorySink {
    /// A memory sink labelling provenance with `collector`.
    pub fn new(collector: &str) -> Self {
        Self {
            core: SinkCore::new(collector, env!("CARGO_PKG_VERSION")),
            records: BTreeMap::new(),
            provenance: BTreeMap::new(),
        }
    }

    /// Only these populations may be opened.
    pub fn declare(self, populations: Vec<PopulationSpec>) -> Self {
        lock(&self.core.shared).declared = Some(populations);
        self
    }

    /// Moves every closed population into view, as `JsonlSink::finish` would settle them.
    fn settle(&mut self) {
        let shared = lock(&self.core.shared);
        let closed: Vec<String> = shared
            .entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::Closed { .. }))
            .map(|(k, _)| k.clone())
            .collect();
        drop(shared);
        for name in closed {
            let entry = lock(&self.core.shared).entries.remove(&name);
            if let Some(Entry::Closed {
                provenance,
                output: Output::Memory(lines),
                ..
            }) = entry
            {
                self.records.insert(name.clone(), lines);
                self.provenance.insert(name, *provenance);
            }
        }
    }

    /// The records of one closed population (empty when none were written).
    pub fn population(&mut self, population: &str) -> Vec<serde_json::Value> {
        self.settle();
        self.records.get(population).cloned().unwrap_or_default()
    }

    /// The provenance of one closed population.
    pub fn provenance_of(&mut self, population: &str) -> Option<Provenance> {
        self.settle();
        self.provenance.get(population).cloned()
    }
}

impl EvidenceSink for MemorySink {
    fn open_raw(&mut self, spec: &PopulationSpec) -> Result<RawPopulationWriter, SinkError> {
        self.core.open(spec, || Ok(Output::Memory(Vec::new())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
    #[derive(Serialize, Deserialize)]
    struct Group {
        id: String,
    }
    impl Evidence for Group {
        const KIND: &'static str = "test.group";
        const SCHEMA_VERSION: u32 = 1;
        const CRITERIA: &'static [&'static str] = &["CC6.2"];
        fn subject_id(&self) -> String {
            self.id.clone()
        }
    }
    const USERS: Population<User> = Population::state("users", "test");
    const GROUPS: Population<Group> = Population::state("groups", "test");

    fn read_prov(dir: &Path) -> serde_json::Value {
        serde_json::from_slice(&fs::read(dir.join("okta/provenance.json")).unwrap()).unwrap()
    }

    fn sink(dir: &Path) -> JsonlSink {
        JsonlSink::create(dir, "okta", "9.9")
            .unwrap()
            .declare(vec![USERS.spec(), GROUPS.spec()])
    }

    #[test]
    fn finished_populations_are_renamed_labelled_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = sink(dir.path());
        let mut users = sink.open(&USERS).unwrap();
        for i in 0..3 {
            users
                .emit(&User {
                    id: format!("u{i}"),
                })
                .unwrap();
        }
        assert_eq!(users.finish().unwrap(), 3);
        sink.open(&GROUPS).unwrap().finish().unwrap();
        let out = sink.finish(CollectEnd::Complete).unwrap();
        assert!(out.unfinished.is_empty());
        assert_eq!(out.records["users"], 3);
        assert_eq!(out.records["groups"], 0);
        let text = fs::read_to_string(dir.path().join("okta/users.jsonl")).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["kind"], "test.user");
        assert_eq!(first["schema_version"], 2);
        assert_eq!(first["subject_id"], "u0");
        assert!(dir.path().join("okta/groups.jsonl").exists());
        let prov = read_prov(dir.path());
        assert_eq!(prov["complete"], true);
        let users = &prov["populations"][0];
        assert_eq!(users["population"], "users");
        assert_eq!(users["kind"], "test.user");
        assert_eq!(users["collector"], "okta");
        assert_eq!(users["collector_version"], "9.9");
        assert_eq!(users["criteria"][0], "CC6.1");
        assert_eq!(users["records_written"], 3);
        assert_eq!(users["complete"], true);
    }

    #[test]
    fn a_dropped_writer_and_an_unopened_population_are_incomplete_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = sink(dir.path());
        {
            let mut users = sink.open(&USERS).unwrap();
            users.emit(&User { id: "u1".into() }).unwrap();
            // dropped: the collector failed here
        }
        let out = sink
            .finish(CollectEnd::Failed("HTTP 500 from /api/v1/users"))
            .unwrap();
        assert_eq!(out.files[0], "okta/users.jsonl.partial");
        assert!(!dir.path().join("okta/users.jsonl").exists());
        let kept = fs::read_to_string(dir.path().join("okta/users.jsonl.partial")).unwrap();
        assert_eq!(kept.lines().count(), 1, "nothing collected is lost");
        let prov = read_prov(dir.path());
        assert_eq!(prov["complete"], false);
        let users = &prov["populations"][0];
        assert_eq!(users["complete"], false);
        assert_eq!(users["records_written"], 1);
        assert!(
            users["notes"][0].as_str().unwrap().contains("HTTP 500"),
            "{users}"
        );
        let groups = &prov["populations"][1];
        assert_eq!(groups["population"], "groups");
        assert_eq!(groups["complete"], false);
        assert!(groups["notes"][0]
            .as_str()
            .unwrap()
            .contains("never opened"));
    }

    #[test]
    fn success_with_an_unfinished_population_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = sink(dir.path());
        sink.open(&USERS).unwrap().finish().unwrap();
        drop(sink.open(&GROUPS).unwrap());
        let out = sink.finish(CollectEnd::Complete).unwrap();
        assert_eq!(out.unfinished, vec!["groups".to_string()]);
        assert!(dir.path().join("okta/users.jsonl").exists());
        assert!(dir.path().join("okta/groups.jsonl.partial").exists());
        assert_eq!(read_prov(dir.path())["complete"], false);
    }

    #[test]
    fn finished_but_marked_incomplete_is_kept_whole_when_partly_failed() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = sink(dir.path());
        sink.open(&USERS)
            .unwrap()
            .finish_incomplete("source b unreadable")
            .unwrap();
        sink.open(&GROUPS).unwrap().finish().unwrap();
        sink.finish(CollectEnd::PartlyFailed("source b unreadable"))
            .unwrap();
        assert!(dir.path().join("okta/groups.jsonl").exists());
        let prov = read_prov(dir.path());
        assert_eq!(prov["populations"][1]["complete"], true);
        assert_eq!(prov["populations"][0]["complete"], false);
        assert_eq!(prov["complete"], false);
    }

    #[test]
    fn undeclared_twice_opened_and_bad_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = JsonlSink::create(dir.path(), "okta", "1")
            .unwrap()
            .declare(vec![USERS.spec()]);
        assert!(matches!(
            sink.open(&GROUPS),
            Err(SinkError::Undeclared { .. })
        ));
        let _users = sink.open(&USERS).unwrap();
        assert!(matches!(
            sink.open(&USERS),
            Err(SinkError::AlreadyOpen { .. })
        ));
        let mut free = JsonlSink::create(dir.path(), "free", "1").unwrap();
        for bad in ["../x", "Users", "a/b", "", "x.y"] {
            let mut spec = USERS.spec();
            spec.name = bad.into();
            assert!(matches!(
                free.open_raw(&spec),
                Err(SinkError::BadPopulationName(_))
            ));
        }
        assert!(JsonlSink::create(dir.path(), "../escape", "1").is_err());
    }
}
