//! Where a ledger's objects live: a local directory (the default) or S3-compatible storage.
//!
//! A ledger is a handful of immutable objects under one root: `runs/000001.zip`,
//! `runs/000002.zip`, ... (the sealed run bundles) and `keys/000007.json` (key rotations).
//! Nothing is ever replaced or deleted, so the only write is [`LedgerStorage::put_new`],
//! which fails when the key exists: two runs racing for the same sequence number cannot
//! both land, and the chain cannot fork.

mod dir;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};

pub use dir::DirStorage;

use crate::LedgerError;

/// The objects of one ledger.
#[async_trait]
pub trait LedgerStorage: Send + Sync + std::fmt::Debug {
    /// Where the ledger is, for messages: a path or `s3://bucket/prefix`.
    fn location(&self) -> String;

    /// Every key under `prefix` (`"runs/"`), relative to the ledger root, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, LedgerError>;

    /// The whole object at `key`, or `None` when there is none.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, LedgerError>;

    /// Writes `body` at `key` only if nothing is there yet, atomically: readers see the whole
    /// object or none. Fails with [`LedgerError::AlreadyExists`] when the key exists.
    /// `retain_until` asks the store to keep the object immutable until then (S3 Object Lock
    /// in COMPLIANCE mode); a store that cannot must fail rather than ignore it.
    async fn put_new(
        &self,
        key: &str,
        body: Bytes,
        retain_until: Option<DateTime<Utc>>,
    ) -> Result<(), LedgerError>;

    /// Takes the ledger's writer lock for one run, or fails with [`LedgerError::Locked`]
    /// naming its holder. `holder` describes this process. The lock is released when the
    /// returned guard is dropped, and by the OS or store if the process dies.
    async fn lock(&self, holder: &str) -> Result<Box<dyn LedgerLock>, LedgerError>;
}

/// A held ledger lock; dropping it releases the lock.
pub trait LedgerLock: Send + Sync {}

/// Opens the ledger at `location`: `s3://bucket/prefix` (credentials and endpoint from the
/// standard AWS environment) or a local directory, created if missing.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let ledger = soc2_ledger::open_storage(dir.path().to_str().unwrap()).unwrap();
/// assert_eq!(ledger.location(), dir.path().display().to_string());
/// assert!(soc2_ledger::open_storage("ftp://x/y").is_err());
/// ```
pub fn open_storage(location: &str) -> Result<Box<dyn LedgerStorage>, LedgerError> {
    if location.starts_with("s3://") {
        return Err(LedgerError::Location {
            location: location.to_string(),
            message: "S3 ledgers are not supported by this build yet".into(),
        });
    }
    if let Some((scheme, _)) = location.split_once("://") {
        return Err(LedgerError::Location {
            location: location.to_string(),
            message: format!(
                "unsupported scheme {scheme:?}: use a local directory or s3://bucket/prefix"
            ),
        });
    }
    Ok(Box::new(DirStorage::open(location.as_ref())?))
}
