//! The files an assembled period holds about the ledger runs it was made from.
//!
//! ```text
//! DIR/ledger/period.json                   the runs (seq, bundle SHA-256, time), the epochs
//! DIR/ledger/collections.jsonl             one record per run and collector: status, window
//! DIR/ledger/provenance.json
//! DIR/ledger/versions/<inst>/<pop>.jsonl   for each state population, one line per record
//!                                          line of <inst>/<pop>.jsonl: when that version was
//!                                          observed
//! ```

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{Evidence, Population};

/// The directory (and reserved instance name) of the ledger's own files.
pub const LEDGER_DIR: &str = "ledger";
/// The instance name `ledger.coverage` reads its population from.
pub const LEDGER_INSTANCE: &str = "ledger";
/// The period descriptor, relative to the run directory.
pub const PERIOD_FILE: &str = "ledger/period.json";
/// Where version sidecars live, relative to the run directory.
pub const VERSIONS_DIR: &str = "ledger/versions";
/// Format tag of [`PERIOD_FILE`].
pub const PERIOD_FORMAT: &str = "soc2-evidence.ledger-period/1";

/// Every ledger run and collector that went into an assembled period.
pub const COLLECTIONS: Population<LedgerCollection> =
    Population::events("collections", "soc2-evidence ledger");

/// One collector's part in one ledger run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerCollection {
    /// The run's sequence number.
    pub seq: u64,
    /// SHA-256 (hex) of the run's bundle zip.
    pub bundle_sha256: String,
    /// The collector instance.
    pub instance: String,
    /// Its type.
    #[serde(rename = "type")]
    pub collector_type: String,
    /// `ok`, `failed` or `cancelled`.
    pub status: String,
    /// The error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the run collected.
    pub collected_at: DateTime<Utc>,
    /// The first day of the window the collector read.
    pub window_start: NaiveDate,
    /// The last day of the window the collector read.
    pub window_end: NaiveDate,
    /// What each event population of a successful collection covers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventWindow>,
}

/// The span of time one run's event population establishes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventWindow {
    /// Population name.
    pub population: String,
    /// The earliest instant it covers: the window's start, or later when the source no
    /// longer held that far back.
    pub from: DateTime<Utc>,
    /// The latest instant it covers (the collection time).
    pub until: DateTime<Utc>,
    /// `None` when the population is whole within its span; otherwise why it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    /// Why `from` is later than the window's start, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<String>,
}

impl Evidence for LedgerCollection {
    const KIND: &'static str = "ledger.collection";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC4.1"];
    fn subject_id(&self) -> String {
        format!("{:06}/{}", self.seq, self.instance)
    }
}

/// `ledger/period.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerPeriod {
    /// Always [`PERIOD_FORMAT`].
    pub format: String,
    /// Where the ledger was read from.
    pub ledger: String,
    /// Every run bundle the period was assembled from, in order.
    pub runs: Vec<PeriodRun>,
    /// The instants at which state was observed: checks are judged at each.
    pub epochs: Vec<PeriodEpoch>,
    /// `[ledger] max_gap_days` used for `ledger.coverage`.
    pub max_gap_days: u32,
}

/// One run bundle of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodRun {
    /// Sequence number.
    pub seq: u64,
    /// SHA-256 (hex) of its zip.
    pub sha256: String,
    /// When it collected, as proven: its RFC 3161 time-stamp's time when that was verified
    /// against a trusted TSA CA (`timestamp_verified`), else the collecting machine's clock.
    pub collected_at: DateTime<Utc>,
    /// Fingerprint of the key that signed it.
    pub signer: String,
    /// The collecting machine's clock when it collected (its run record).
    #[serde(default = "epoch")]
    pub clock_at: DateTime<Utc>,
    /// The time its RFC 3161 time-stamp gives, when its bundle carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamped_at: Option<DateTime<Utc>>,
    /// Whether that time-stamp was verified against a trusted TSA CA (`period --tsa-ca`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub timestamp_verified: bool,
}

fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

/// One observation instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodEpoch {
    /// The run that observed it.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
}

/// When one version of a state record was observed (a line of a version sidecar).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionSpan {
    /// The record's subject.
    pub subject_id: String,
    /// The first run that observed this version.
    pub first_seq: u64,
    /// The last run that observed it.
    pub last_seq: u64,
    /// The last run before its collector observed something else (another version, or the
    /// record gone): the state stands, as far as the evidence shows, until then.
    pub until_seq: u64,
    /// When it was first observed.
    pub from: DateTime<Utc>,
    /// When it was last observed.
    pub last_seen: DateTime<Utc>,
}

impl VersionSpan {
    /// Whether this version is the state at epoch `seq`.
    pub fn holds_at(&self, seq: u64) -> bool {
        self.first_seq <= seq && seq <= self.until_seq
    }
}
