//! Continuous collection: an evidence ledger that covers a whole Type II period.
//!
//! A ledger is a chain of sealed runs in a directory or an S3 bucket. Each run is today's
//! signed bundle of one incremental collection, chained to the previous run's SHA-256.
//! `period` assembles any period's run directory from them.
//! See the README section "Continuous collection".
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! let storage = soc2_ledger::open_storage(dir.path().to_str().unwrap()).unwrap();
//! # let _ = storage;
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod archive;
mod error;
mod layout;
mod list;
mod period;
mod plan;
mod rotation;
pub mod storage;
mod verify;

pub use error::LedgerError;
pub use layout::{
    parse_run_key, rotation_key, run_key, Mark, RunRecord, KEYS_PREFIX, RUNS_PREFIX,
    RUN_RECORD_FILE, RUN_RECORD_FORMAT,
};
pub use list::{list_runs, CollectorListing, RunListing};
pub use period::{assemble_period, PeriodOutcome, PeriodSummary};
pub use plan::{append_run, plan_run, RunPlan, OVERLAP_DAYS};
pub use rotation::{key_in_force, load_rotations, KeyRotation, ROTATION_FORMAT};
#[cfg(feature = "s3")]
pub use storage::S3Storage;
pub use storage::{open_storage, DirStorage, LedgerLock, LedgerStorage};
pub use verify::{verify_ledger, LedgerReport, VerifiedRun};
