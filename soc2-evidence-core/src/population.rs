//! Populations as typed, named constants: what a collector module declares it writes.
//!
//! A [`Population<E>`] is a `const` in the module that owns it — its file name, record kind,
//! schema version, criteria, source system and whether it is *state* or *events*. The sink
//! opens populations by these constants (so provenance labels cannot drift from the records),
//! and checks, including another module's cross-collector checks, read them back through an
//! instance-bound [`PopulationRef`] instead of hand-written directory and file names.

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::evidence::Evidence;
use crate::finding::EvidenceRef;

/// Whether a population is a snapshot of current state or a stream of events.
///
/// State (users, factors, branch rules, backup sources) is only visible as it is at
/// collection time, so continuous collection snapshots it on every run; events (System Log,
/// merged PRs, backup jobs) carry their own time and are fetched from a high-water mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PopulationMode {
    /// A snapshot of what exists at collection time.
    State,
    /// Time-stamped events within the period.
    Events,
}

impl fmt::Display for PopulationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PopulationMode::State => "state",
            PopulationMode::Events => "events",
        })
    }
}

/// The run-time description of one population: everything the sink needs to label its
/// provenance. Typed modules get one from [`Population::spec`]; modules whose populations are
/// only known from configuration (the external command collector) build it directly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopulationSpec {
    /// File stem inside the instance directory (`users` for `okta/users.jsonl`).
    pub name: String,
    /// Record kind (`okta.user`).
    pub kind: String,
    /// Schema version of the record kind.
    pub schema_version: u32,
    /// Criteria the population supports.
    pub criteria: Vec<String>,
    /// Source system, for provenance ("Okta Management API").
    pub source: String,
    /// State or events.
    pub mode: PopulationMode,
}

/// A population of records of kind `E`, declared once as a constant by its module.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use soc2_evidence_core::{Evidence, Population};
///
/// #[derive(Serialize, Deserialize)]
/// struct Laptop { serial: String }
/// impl Evidence for Laptop {
///     const KIND: &'static str = "mdm.laptop";
///     const SCHEMA_VERSION: u32 = 1;
///     const CRITERIA: &'static [&'static str] = &["CC6.1"];
///     fn subject_id(&self) -> String { self.serial.clone() }
/// }
///
/// const LAPTOPS: Population<Laptop> = Population::state("laptops", "MDM API");
/// assert_eq!(LAPTOPS.at("mdm").file(), "mdm/laptops.jsonl");
/// assert_eq!(LAPTOPS.spec().kind, "mdm.laptop");
/// ```
pub struct Population<E> {
    name: &'static str,
    source: &'static str,
    mode: PopulationMode,
    _records: PhantomData<fn() -> E>,
}

// Manual impls: a derive would demand `E: Clone`, which record types need not be.
impl<E> Clone for Population<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for Population<E> {}

impl<E> fmt::Debug for Population<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Population")
            .field("name", &self.name)
            .field("source", &self.source)
            .field("mode", &self.mode)
            .finish()
    }
}

impl<E: Evidence> Population<E> {
    /// A population of current state, snapshotted at collection time.
    pub const fn state(name: &'static str, source: &'static str) -> Self {
        Self::new(name, source, PopulationMode::State)
    }

    /// A population of time-stamped events.
    pub const fn events(name: &'static str, source: &'static str) -> Self {
        Self::new(name, source, PopulationMode::Events)
    }

    /// A population with an explicit mode.
    pub const fn new(name: &'static str, source: &'static str, mode: PopulationMode) -> Self {
        Self {
            name,
            source,
            mode,
            _records: PhantomData,
        }
    }

    /// The file stem.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The source system.
    pub const fn source(&self) -> &'static str {
        self.source
    }

    /// State or events.
    pub const fn mode(&self) -> PopulationMode {
        self.mode
    }

    /// The record kind, from `E`.
    pub const fn kind(&self) -> &'static str {
        E::KIND
    }

    /// The run-time description the sink labels provenance with.
    pub fn spec(&self) -> PopulationSpec {
        PopulationSpec {
            name: self.name.to_string(),
            kind: E::KIND.to_string(),
            schema_version: E::SCHEMA_VERSION,
            criteria: E::CRITERIA.iter().map(|c| c.to_string()).collect(),
            source: self.source.to_string(),
            mode: self.mode,
        }
    }

    /// This population as written by one collector instance (`okta`, or `eu` for an
    /// `[[okta]]` entry named `eu`).
    pub fn at(&self, instance: &str) -> PopulationRef<E> {
        PopulationRef {
            instance: instance.to_string(),
            population: *self,
        }
    }
}

/// A typed handle to one instance's population in a run directory: what checks read
/// through [`EvidenceStore::records`](crate::EvidenceStore::records) and point evidence at.
pub struct PopulationRef<E> {
    instance: String,
    population: Population<E>,
}

impl<E> Clone for PopulationRef<E> {
    fn clone(&self) -> Self {
        Self {
            instance: self.instance.clone(),
            population: self.population,
        }
    }
}

impl<E> fmt::Debug for PopulationRef<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.instance, self.population.name)
    }
}

impl<E: Evidence> PopulationRef<E> {
    /// The instance (directory) name.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The population's file stem.
    pub fn name(&self) -> &'static str {
        self.population.name
    }

    /// The population constant this handle is bound from.
    pub fn population(&self) -> Population<E> {
        self.population
    }

    /// The file, relative to the run directory: `<instance>/<population>.jsonl`.
    pub fn file(&self) -> String {
        format!("{}/{}.jsonl", self.instance, self.population.name)
    }

    /// An evidence reference to one record of this population.
    pub fn evidence(&self, subject_id: impl Into<String>) -> EvidenceRef {
        EvidenceRef::record(self.file(), subject_id)
    }

    /// An evidence reference to the whole file.
    pub fn evidence_file(&self) -> EvidenceRef {
        EvidenceRef::file(self.file())
    }
}
