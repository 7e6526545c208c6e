//! The one error type at the crate boundary.

use std::path::PathBuf;

/// Everything that can go wrong reading, writing or assembling a ledger. Each variant names
/// the ledger location and the object or file involved. Messages never hold credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// A local file or directory could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The storage backend (S3) failed.
    #[error("{location}: {key}: {message}")]
    Storage {
        /// The ledger location, e.g. `s3://bucket/prefix`.
        location: String,
        /// The object key.
        key: String,
        /// What the backend said.
        message: String,
    },
    /// An object that must never be replaced already exists: another run appended first.
    #[error("{location}: {key} already exists: another run appended to this ledger first; nothing was written, run again")]
    AlreadyExists {
        /// The ledger location.
        location: String,
        /// The object key.
        key: String,
    },
    /// Another process holds the ledger's lock.
    #[error("{location}: another run holds the ledger lock ({holder}); wait for it to finish, or remove {lock_file} only if no such process runs")]
    Locked {
        /// The ledger location.
        location: String,
        /// What the lock file says about its holder.
        holder: String,
        /// The lock file.
        lock_file: String,
    },
    /// The ledger location is not usable (a bad URL, an unsupported scheme).
    #[error("ledger {location:?}: {message}")]
    Location {
        /// What was given.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// An object in the ledger is not what it should be.
    #[error("{location}: {key}: {message}")]
    Malformed {
        /// The ledger location.
        location: String,
        /// The object key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The ledger (its chain, a bundle, a key) does not verify.
    #[error("{location}: {message}")]
    Verification {
        /// The ledger location.
        location: String,
        /// What failed, naming the run.
        message: String,
    },
    /// A signing key is not the ledger's key.
    #[error("{location}: {message}")]
    Key {
        /// The ledger location.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A bundle could not be built, read or verified.
    #[error(transparent)]
    Bundle(#[from] soc2_bundle::BundleError),
    /// Reading an assembled run directory failed.
    #[error(transparent)]
    Store(#[from] soc2_evidence_core::StoreError),
}

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> LedgerError + '_ {
    move |source| LedgerError::Io {
        path: path.to_path_buf(),
        source,
    }
}
