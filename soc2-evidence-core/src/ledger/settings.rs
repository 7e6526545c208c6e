//! The `[ledger]` section of `soc2.toml`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Default for `[ledger] max_gap_days`.
pub const DEFAULT_MAX_GAP_DAYS: u32 = 7;

fn default_max_gap() -> u32 {
    DEFAULT_MAX_GAP_DAYS
}

/// `[ledger]`: how a ledger is collected and judged.
///
/// ```toml
/// [ledger]
/// start = "2026-01-01"     # the first run's window starts here (or pass --since)
/// max_gap_days = 7         # ledger.coverage fails when successful runs are further apart
/// object_lock_days = 400   # S3 only: each run bundle kept under COMPLIANCE retention
/// ```
///
/// ```
/// use soc2_evidence_core::ledger::LedgerSettings;
/// let s = LedgerSettings::from_toml(toml::from_str("start = 2026-01-01\nmax_gap_days = 3").unwrap()).unwrap();
/// assert_eq!(s.max_gap_days, 3);
/// assert_eq!(s.start.unwrap().to_string(), "2026-01-01");
/// assert!(LedgerSettings::from_toml(toml::from_str("max_gap_days = 0").unwrap()).is_err());
/// assert!(LedgerSettings::from_toml(toml::from_str("max_gap = 3").unwrap()).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerSettings {
    /// Where the first run's window starts when `--since` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    /// The longest allowed time between successful runs of a collector.
    #[serde(default = "default_max_gap")]
    pub max_gap_days: u32,
    /// When set, each run bundle is written under S3 Object Lock retention (COMPLIANCE mode)
    /// for this many days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_lock_days: Option<u32>,
}

impl Default for LedgerSettings {
    fn default() -> Self {
        Self {
            start: None,
            max_gap_days: DEFAULT_MAX_GAP_DAYS,
            object_lock_days: None,
        }
    }
}

impl LedgerSettings {
    /// Parses and validates the section; the message names the key.
    pub fn from_toml(value: toml::Value) -> Result<Self, String> {
        let toml::Value::Table(mut table) = value else {
            return Err("[ledger] must be a table".into());
        };
        // A TOML date literal (start = 2026-01-01) and a string both work.
        if let Some(toml::Value::Datetime(d)) = table.get("start") {
            let s = d.to_string();
            table.insert("start".into(), toml::Value::String(s));
        }
        let s: Self = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| format!("[ledger]: {}", e.message()))?;
        s.validate()?;
        Ok(s)
    }

    /// Checks the values are usable.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_gap_days == 0 {
            return Err("[ledger] max_gap_days must be at least 1".into());
        }
        if self.object_lock_days == Some(0) {
            return Err(
                "[ledger] object_lock_days must be at least 1 (leave it out for no retention)"
                    .into(),
            );
        }
        Ok(())
    }
}
