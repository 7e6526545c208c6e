//! Where a ledger's objects live: a local directory (the default) or S3-compatible storage.
//!
//! A ledger is a handful of immutable objects under one root: `runs/000001.zip`,
//! `runs/000002.zip`, ... (the sealed run bundles) and `keys/000007.json` (key rotations).
//! Nothing is ever replaced or deleted, so the only write is [`LedgerStorage::put_new`],
//! which fails when the key exists: two runs racing for the same sequence number cannot
//! both land, and the chain cannot fork.

mod dir;
#[cfg(feature = "s3")]
mod s3;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};

pub use dir::DirStorage;
#[cfg(feature = "s3")]
pub use s3::S3Storage;

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
/// standard AWS environment, see [`S3Storage`]; needs the default `s3` feature) or a local
/// directory, created if missing.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let ledger = soc2_ledger::open_storage(dir.path().to_str().unwrap()).unwrap();
/// assert_eq!(ledger.location(), dir.path().display().to_string());
/// assert!(soc2_ledger::open_storage("ftp://x/y").is_err());
/// ```
pub fn open_storage(location: &str) -> Result<Box<dyn LedgerStorage>, LedgerError> {
    if let Some(bucket_and_prefix) = location.strip_prefix("s3://") {
        #[cfg(feature = "s3")]
        return Ok(Box::new(S3Storage::from_env(bucket_and_prefix)?));
        #[cfg(not(feature = "s3"))]
        return Err(LedgerError::Location {
            location: format!("s3://{bucket_and_prefix}"),
            message: "this build has no S3 support: build soc2-ledger with its `s3` feature".into(),
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
