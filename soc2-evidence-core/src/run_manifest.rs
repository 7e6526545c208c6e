//! `run.json`: the summary of one collection run (DESIGN §4, a contract).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::finding::FindingCounts;
use crate::period::AuditPeriod;

/// The format tag written into every `run.json`.
pub const RUN_FORMAT: &str = "soc2-evidence.run/1";

/// The state of a run. Only [`RunStatus::Complete`] means every collector was attempted to
/// the end and the findings were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Collection is under way, or the process died during it.
    Running,
    /// Every collector ran to an end (ok or failed) and checks were run.
    Complete,
    /// The run was cancelled (Ctrl-C) before it finished.
    Interrupted,
}

/// How one collector ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectorStatus {
    /// Collected everything.
    Ok,
    /// Failed; its error is recorded and its partial files kept as `.partial`.
    Failed,
    /// Stopped by cancellation.
    Cancelled,
}

/// One collector's entry in `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectorRun {
    /// Collector name (its directory).
    pub name: String,
    /// Collector type, e.g. `okta` or `command`.
    #[serde(rename = "type")]
    pub collector_type: String,
    /// How it ended.
    pub status: CollectorStatus,
    /// The error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Records written per population.
    pub records: BTreeMap<String, u64>,
    /// Files it wrote, relative to the run directory.
    pub files: Vec<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// The window this collector read when it differs from the run's period: an incremental
    /// ledger run continues each collector from where its last successful run ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<AuditPeriod>,
}

/// Name and version of the tool that produced a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Tool name.
    pub name: String,
    /// Tool version.
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        Self {
            name: "soc2-evidence".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// The contents of `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// Always [`RUN_FORMAT`].
    pub format: String,
    /// Whether the run finished.
    pub status: RunStatus,
    /// The tool that produced it.
    pub tool: ToolInfo,
    /// Organisation name from the config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The audit period.
    pub period: AuditPeriod,
    /// When the run started: the collection time checks judge against.
    pub started_at: DateTime<Utc>,
    /// Set when `SOC2_EVIDENCE_NOW` overrode the clock (tests and replays): the instant it
    /// set. Every time in the run is then relative to it, not the real time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_override: Option<DateTime<Utc>>,
    /// When it finished (absent while running).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Every collector and how it ended.
    pub collectors: Vec<CollectorRun>,
    /// Finding counts by status (zero until checks ran).
    pub findings: FindingCounts,
}

impl RunManifest {
    /// A manifest for a run that is starting now.
    pub fn start(period: AuditPeriod, organization: Option<String>) -> Self {
        Self {
            format: RUN_FORMAT.into(),
            status: RunStatus::Running,
            tool: ToolInfo::default(),
            organization,
            period,
            started_at: crate::clock::now(),
            clock_override: crate::clock::overridden(),
            finished_at: None,
            collectors: Vec::new(),
            findings: FindingCounts::default(),
        }
    }

    /// Whether every collector succeeded.
    pub fn all_collectors_ok(&self) -> bool {
        self.collectors
            .iter()
            .all(|c| c.status == CollectorStatus::Ok)
    }

    /// The entry for a collector by name.
    pub fn collector(&self, name: &str) -> Option<&CollectorRun> {
        self.collectors.iter().find(|c| c.name == name)
    }
}
