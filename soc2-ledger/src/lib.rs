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

mod error;
pub mod storage;

pub use error::LedgerError;
#[cfg(feature = "s3")]
pub use storage::S3Storage;
pub use storage::{open_storage, DirStorage, LedgerLock, LedgerStorage};
