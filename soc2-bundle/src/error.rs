//! The one error type at the crate boundary.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while building a bundle, handling keys, or opening a bundle
/// for verification.
///
/// Content problems found *inside* a bundle during verification are not errors: they are
/// collected in a [`VerifyReport`](crate::VerifyReport). Messages never contain key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The run directory has no `run.json`.
    #[error(
        "{path}: run.json is missing; refusing to bundle a directory that is not a finished run"
    )]
    RunJsonMissing {
        /// The expected location of `run.json`.
        path: PathBuf,
    },
    /// `run.json` is not valid JSON or has no string `status` field.
    #[error("{path}: run.json is not valid: {detail}")]
    RunJsonInvalid {
        /// The `run.json` path.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// `run.json` says the run has not completed (a crashed or still running run).
    #[error(
        "{path}: run status is {status:?}, not \"complete\"; refusing to bundle an unfinished run"
    )]
    RunIncomplete {
        /// The `run.json` path.
        path: PathBuf,
        /// The status found.
        status: String,
    },
    /// A symbolic link was found in the run directory.
    #[error("{path}: symbolic links are not allowed in a run directory")]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// Something other than a regular file or a directory was found in the run directory.
    #[error("{path}: not a regular file or directory")]
    NotARegularFile {
        /// The offending path.
        path: PathBuf,
    },
    /// A payload file name cannot be represented safely in a BagIt manifest.
    #[error("{path}: unsupported file name: {reason}")]
    InvalidPayloadName {
        /// The offending path.
        path: PathBuf,
        /// Why it is refused (e.g. "contains '%'").
        reason: String,
    },
    /// A file changed size while it was being bundled.
    #[error("{path}: file changed while it was being bundled (expected {expected} bytes, read {actual})")]
    FileChanged {
        /// The file.
        path: PathBuf,
        /// Size when the directory was listed.
        expected: u64,
        /// Bytes actually read.
        actual: u64,
    },
    /// The output path lies inside the run directory being bundled.
    #[error("{path}: the bundle must not be written inside the run directory it bundles")]
    OutputInsideRunDir {
        /// The requested output path.
        path: PathBuf,
    },
    /// Bundle metadata is unusable (e.g. a newline in the organisation name).
    #[error("invalid bundle metadata: {0}")]
    InvalidMetadata(String),
    /// Writing the zip archive failed.
    #[error("{path}: writing the zip archive failed: {detail}")]
    Zip {
        /// The archive (temporary) path.
        path: PathBuf,
        /// Error from the zip writer.
        detail: String,
    },
    /// A key file could not be parsed.
    #[error("{path}: not a usable OpenSSH key: {detail}")]
    KeyFormat {
        /// The key file.
        path: PathBuf,
        /// What went wrong (never key material).
        detail: String,
    },
    /// The private key is encrypted and no passphrase was given.
    #[error("{path}: the private key is passphrase-protected; a passphrase is required")]
    PassphraseRequired {
        /// The key file.
        path: PathBuf,
    },
    /// The passphrase did not decrypt the private key.
    #[error("{path}: could not decrypt the private key (wrong passphrase?)")]
    WrongPassphrase {
        /// The key file.
        path: PathBuf,
    },
    /// The key is not Ed25519.
    #[error("{path}: unsupported key algorithm {algorithm}; only ssh-ed25519 keys are supported")]
    UnsupportedKeyAlgorithm {
        /// The key file.
        path: PathBuf,
        /// The algorithm found.
        algorithm: String,
    },
    /// Refusing to overwrite an existing key file.
    #[error("{path}: already exists; refusing to overwrite a key")]
    KeyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// A trusted-key file held no usable key.
    #[error("{path}: no ssh-ed25519 key usable for the soc2-evidence namespace found")]
    NoTrustedKey {
        /// The `.pub` or `allowed_signers` file.
        path: PathBuf,
    },
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// The time-stamp authority failed or refused; no bundle was written.
    #[error("{0}; no bundle was written")]
    Timestamp(#[from] crate::timestamp::TimestampError),
}

impl BundleError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
