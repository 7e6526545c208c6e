//! Object names in a ledger, and the record each run carries about its place in it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Where run bundles live.
pub const RUNS_PREFIX: &str = "runs/";
/// Where key rotations live.
pub const KEYS_PREFIX: &str = "keys/";
/// The run record inside a run directory (and so under `data/` in its bundle).
pub const RUN_RECORD_FILE: &str = "ledger/run.json";
/// Format tag of [`RunRecord`].
pub const RUN_RECORD_FORMAT: &str = "soc2-evidence.ledger-run/1";

/// The key of run `seq`: `runs/000042.zip`.
pub fn run_key(seq: u64) -> String {
    format!("{RUNS_PREFIX}{seq:06}.zip")
}

/// The sequence number in a run key, or `None` for anything else in `runs/`.
///
/// ```
/// assert_eq!(soc2_ledger::parse_run_key("runs/000042.zip"), Some(42));
/// assert_eq!(soc2_ledger::parse_run_key("runs/000042.zip.bak"), None);
/// assert_eq!(soc2_ledger::parse_run_key("runs/42.zip"), None);
/// ```
pub fn parse_run_key(key: &str) -> Option<u64> {
    let name = key.strip_prefix(RUNS_PREFIX)?.strip_suffix(".zip")?;
    if name.len() != 6 || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok().filter(|s| *s > 0)
}

/// The key of the rotation that takes effect at run `seq`: `keys/000042.json`.
pub fn rotation_key(seq: u64) -> String {
    format!("{KEYS_PREFIX}{seq:06}.json")
}

/// What a sealed run says about its place in the ledger (`ledger/run.json`, signed with
/// the rest of the bundle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Always [`RUN_RECORD_FORMAT`].
    pub format: String,
    /// This run's sequence number (1, 2, ...).
    pub seq: u64,
    /// SHA-256 of the previous run's bundle (none for the first run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_sha256: Option<String>,
    /// The ledger's first day: where a collector with no successful run yet starts.
    pub start: NaiveDate,
    /// When this run collected.
    pub collected_at: DateTime<Utc>,
    /// For every collector instance seen so far, its last successful run up to and
    /// including this one: where the next run continues from.
    pub marks: BTreeMap<String, Mark>,
}

/// Where one collector stands: its high-water mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// The last run in which it succeeded.
    pub seq: u64,
    /// When that run collected: the next run continues from here (less the overlap).
    pub at: DateTime<Utc>,
    /// The last day of the window it read.
    pub window_end: NaiveDate,
}
