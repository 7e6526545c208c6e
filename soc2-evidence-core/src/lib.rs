//! The core of soc2-evidence: evidence records and their provenance, audit periods, the SOC 2
//! Trust Services Criteria catalogue, control checks and findings, the collection runner, and
//! the HTTP toolkit that collectors — ours and yours — build on.
//!
//! A [`Module`] is one collector type: its config section, its typed [`Population`]s, its
//! collector and its checks; a [`Registry`] of modules parses the config into named
//! instances. A collector talks to one system and streams typed records into an
//! [`EvidenceSink`], which writes every population's provenance itself; the
//! [`Runner`] runs collectors concurrently into a run directory (`run.json`,
//! `<collector>/<population>.jsonl`, `provenance.json`, `findings.jsonl`); [`Check`]s read the
//! stored records back through an [`EvidenceStore`] and produce [`Finding`]s.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use soc2_evidence_core::*;
//!
//! #[derive(Serialize, Deserialize)]
//! struct Server { host: String, patched: bool }
//! impl Evidence for Server {
//!     const KIND: &'static str = "inventory.server";
//!     const SCHEMA_VERSION: u32 = 1;
//!     const CRITERIA: &'static [&'static str] = &["CC7.1"];
//!     fn subject_id(&self) -> String { self.host.clone() }
//! }
//!
//! let period: AuditPeriod = "2026-01-01..2026-06-30".parse().unwrap();
//! assert_eq!(criteria::lookup("CC7.1").unwrap().group, "System Operations");
//!
//! const SERVERS: Population<Server> = Population::state("servers", "inventory");
//!
//! let mut sink = MemorySink::new("inventory");
//! let mut servers = sink.open(&SERVERS).unwrap();
//! servers.emit(&Server { host: "db-01".into(), patched: true }).unwrap();
//! servers.finish().unwrap();
//! assert_eq!(sink.population("servers")[0]["subject_id"], "db-01");
//! # let _ = period;
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bundle_settings;
mod check;
pub mod clock;
mod collector;
pub mod config;
pub mod criteria;
mod evidence;
mod finding;
mod fsutil;
pub mod http;
pub mod ledger;
mod module;
mod period;
mod population;
mod progress;
mod provenance;
mod run_manifest;
mod runner;
mod sink;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use async_trait::async_trait;
pub use bundle_settings::BundleSettings;
pub use check::{Check, CheckError};
pub use collector::{CollectContext, CollectError, Collector, PreviousRun};
pub use config::ConfigError;
pub use criteria::{Category, Criterion, UnknownCriterion};
pub use evidence::{DynamicRecord, Evidence, Record};
pub use finding::{EvidenceRef, Finding, FindingCounts, FindingStatus};
pub use fsutil::write_atomic;
pub use module::{
    BuildContext, BuiltInstance, CheckContext, ConfiguredInstance, CrossCheckFactory, DynModule,
    EnvSecrets, InstanceChecks, InstanceConfig, InstanceId, MapSecrets, Module, Registry,
    RunConfig, SecretSource, EFFECTIVE_CONFIG_FILE, EFFECTIVE_CONFIG_FORMAT,
};
pub use period::{AuditPeriod, PeriodError};
pub use population::{Population, PopulationMode, PopulationRef, PopulationSpec};
pub use progress::{NoProgress, Progress};
pub use provenance::{
    Coverage, EndpointProvenance, Provenance, ProvenanceRecorder, RunContribution,
};
pub use run_manifest::{
    CollectorRun, CollectorStatus, RunManifest, RunStatus, ToolInfo, RUN_FORMAT,
};
pub use runner::{run_check, run_checks, write_findings, RunError, Runner};
pub use sink::{
    validate_population_name, CollectEnd, EvidenceSink, EvidenceSinkExt, JsonlSink, MemorySink,
    PopulationWriter, RawPopulationWriter, SinkError, SinkOutcome, PARTIAL_SUFFIX,
};
pub use store::Completeness;
pub use store::{EvidenceStore, RecordIter, StoreError};
pub use tokio_util::sync::CancellationToken;
