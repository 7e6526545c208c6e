//! What checks and the store need to know about ledgers (continuous collection): the
//! `[ledger]` settings, the records an assembled period holds about its runs, the versions of
//! state observed over the period, and the `ledger.coverage` check.
//!
//! The ledger itself (storage, chain, assembly) is the `soc2-ledger` crate; the formats live
//! here so `soc2-evidence check DIR` works on an assembled period like on any run directory.

mod coverage;
mod records;
mod settings;
pub(crate) mod versioned;

pub use coverage::{CoverageCheck, COVERAGE_CHECK_ID};
pub use records::{
    EventWindow, LedgerCollection, LedgerPeriod, PeriodEpoch, PeriodRun, VersionSpan, COLLECTIONS,
    LEDGER_DIR, LEDGER_INSTANCE, PERIOD_FILE, PERIOD_FORMAT, VERSIONS_DIR,
};
pub use settings::{LedgerSettings, DEFAULT_MAX_GAP_DAYS};
