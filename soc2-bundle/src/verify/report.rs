//! The typed verification report.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One thing wrong with a bundle. Every variant that concerns an archive entry names it
/// (`entry`, the full name inside the zip, lossily decoded if not UTF-8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Problem {
    /// The file is not a readable zip archive.
    NotAZip {
        /// What is wrong.
        detail: String,
    },
    /// More entries than [`Limits::max_entries`](crate::Limits::max_entries).
    TooManyEntries {
        /// Entries declared.
        count: u64,
        /// The limit.
        limit: u64,
    },
    /// Declared uncompressed total above [`Limits::max_total_uncompressed`](crate::Limits).
    TooLarge {
        /// Declared total.
        total: u64,
        /// The limit.
        limit: u64,
    },
    /// An entry's compression ratio exceeds the limit (a zip bomb).
    CompressionRatio {
        /// The entry.
        entry: String,
        /// Declared ratio (uncompressed / compressed).
        ratio: u64,
        /// The limit.
        limit: u64,
    },
    /// An absolute path (`/x`, `C:x`).
    AbsolutePath {
        /// The entry.
        entry: String,
    },
    /// A `..` (or `.` or empty) path component.
    ParentTraversal {
        /// The entry.
        entry: String,
    },
    /// A backslash in a name.
    Backslash {
        /// The entry.
        entry: String,
    },
    /// A name that is not UTF-8.
    NonUtf8Name {
        /// The entry, lossily decoded.
        entry: String,
    },
    /// The same name appears twice.
    DuplicateEntry {
        /// The entry.
        entry: String,
    },
    /// A symbolic link entry.
    Symlink {
        /// The entry.
        entry: String,
    },
    /// An encrypted entry.
    Encrypted {
        /// The entry.
        entry: String,
    },
    /// A compression method other than Stored (0) or Deflated (8).
    UnsupportedCompression {
        /// The entry.
        entry: String,
        /// The method number.
        method: u16,
    },
    /// The entry decompresses to a different size than declared.
    SizeMismatch {
        /// The entry.
        entry: String,
        /// Declared size.
        declared: u64,
        /// Actual size (or declared + 1 when reading stopped at the limit).
        actual: u64,
    },
    /// The entry's data is damaged (bad header, deflate stream or CRC-32).
    CorruptEntry {
        /// The entry.
        entry: String,
        /// What is wrong.
        detail: String,
    },
    /// An entry outside the bag's single top-level folder.
    OutsideRoot {
        /// The entry.
        entry: String,
    },
    /// A file the manifests or the bag layout require is not in the archive.
    MissingFile {
        /// The entry.
        entry: String,
    },
    /// A file not covered by any manifest, or not part of the bag layout.
    ExtraFile {
        /// The entry.
        entry: String,
    },
    /// A file's SHA-256 differs from its manifest line.
    DigestMismatch {
        /// The entry.
        entry: String,
        /// Digest in the manifest.
        expected: String,
        /// Digest of the content.
        actual: String,
    },
    /// A tag file is larger than [`Limits::max_tag_file_bytes`](crate::Limits).
    TagFileTooLarge {
        /// The entry.
        entry: String,
        /// Its declared size.
        size: u64,
    },
    /// A manifest line is malformed.
    ManifestSyntax {
        /// The manifest entry.
        entry: String,
        /// 1-based line number (0 when the whole file is unreadable).
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// `bagit.txt` is not the expected declaration.
    BagitTxt {
        /// What is wrong.
        detail: String,
    },
    /// `bag-info.txt` does not parse or lacks a required field.
    BagInfo {
        /// What is wrong.
        detail: String,
    },
    /// `Payload-Oxum` disagrees with the payload.
    PayloadOxum {
        /// The declared `octets.count`.
        declared: String,
        /// The actual `octets.count`.
        actual: String,
    },
    /// The signature file is not a valid SSHSIG or does not verify.
    BadSignature {
        /// What is wrong.
        detail: String,
    },
    /// The signature was made in another namespace than `soc2-evidence`.
    WrongNamespace {
        /// The namespace found.
        namespace: String,
    },
    /// The signature is by a key that is not the pinned one.
    UntrustedSigner {
        /// The signing key's fingerprint.
        fingerprint: String,
    },
    /// `bag-info.txt`'s signer fingerprint is not the key that signed.
    FingerprintMismatch {
        /// The fingerprint in `bag-info.txt`.
        declared: String,
        /// The fingerprint of the signing key.
        signer: String,
    },
    /// A previous bundle was given but `bag-info.txt` has no chain link.
    ChainLinkMissing {
        /// SHA-256 of the previous bundle.
        expected: String,
    },
    /// A trusted TSA CA was given, but the bundle has no time-stamp token.
    TimestampMissing,
    /// The time-stamp token does not prove the tag manifest's time (wrong data, signer, chain
    /// or key usage; or malformed).
    Timestamp {
        /// What is wrong.
        detail: String,
    },
    /// The chain link does not match the previous bundle.
    ChainMismatch {
        /// The digest in `bag-info.txt`.
        declared: String,
        /// SHA-256 of the previous bundle given.
        actual: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotAZip { detail } => write!(f, "not a readable zip archive: {detail}"),
            Problem::TooManyEntries { count, limit } => {
                write!(f, "archive has {count} entries, more than the limit of {limit}")
            }
            Problem::TooLarge { total, limit } => write!(
                f,
                "archive declares {total} uncompressed bytes, more than the limit of {limit}"
            ),
            Problem::CompressionRatio { entry, ratio, limit } => write!(
                f,
                "{entry}: compression ratio {ratio}:1 exceeds the limit of {limit}:1"
            ),
            Problem::AbsolutePath { entry } => write!(f, "{entry}: absolute path"),
            Problem::ParentTraversal { entry } => {
                write!(f, "{entry}: '..', '.' or empty path component")
            }
            Problem::Backslash { entry } => write!(f, "{entry}: backslash in name"),
            Problem::NonUtf8Name { entry } => write!(f, "{entry}: name is not UTF-8"),
            Problem::DuplicateEntry { entry } => write!(f, "{entry}: duplicate entry"),
            Problem::Symlink { entry } => write!(f, "{entry}: symbolic link"),
            Problem::Encrypted { entry } => write!(f, "{entry}: encrypted entry"),
            Problem::UnsupportedCompression { entry, method } => write!(
                f,
                "{entry}: compression method {method} (only Stored and Deflated are allowed)"
            ),
            Problem::SizeMismatch {
                entry,
                declared,
                actual,
            } => write!(
                f,
                "{entry}: declared {declared} bytes but holds {actual}{}",
                if actual > declared { " or more" } else { "" }
            ),
            Problem::CorruptEntry { entry, detail } => write!(f, "{entry}: corrupt: {detail}"),
            Problem::OutsideRoot { entry } => {
                write!(f, "{entry}: outside the bundle's top-level folder")
            }
            Problem::MissingFile { entry } => write!(f, "{entry}: missing"),
            Problem::ExtraFile { entry } => {
                write!(f, "{entry}: extra file not covered by the manifests")
            }
            Problem::DigestMismatch {
                entry,
                expected,
                actual,
            } => write!(
                f,
                "{entry}: SHA-256 mismatch (manifest {expected}, content {actual})"
            ),
            Problem::TagFileTooLarge { entry, size } => {
                write!(f, "{entry}: tag file of {size} bytes exceeds the limit")
            }
            Problem::ManifestSyntax {
                entry,
                line,
                detail,
            } => write!(f, "{entry}:{line}: {detail}"),
            Problem::BagitTxt { detail } => write!(f, "bagit.txt: {detail}"),
            Problem::BagInfo { detail } => write!(f, "bag-info.txt: {detail}"),
            Problem::PayloadOxum { declared, actual } => write!(
                f,
                "bag-info.txt: Payload-Oxum is {declared} but the payload is {actual}"
            ),
            Problem::BadSignature { detail } => write!(f, "signature: {detail}"),
            Problem::WrongNamespace { namespace } => write!(
                f,
                "signature: made in namespace {namespace:?}, not \"soc2-evidence\""
            ),
            Problem::UntrustedSigner { fingerprint } => write!(
                f,
                "signature: signed by {fingerprint}, which is not the pinned key"
            ),
            Problem::FingerprintMismatch { declared, signer } => write!(
                f,
                "bag-info.txt: signer fingerprint {declared} but signed by {signer}"
            ),
            Problem::TimestampMissing => write!(
                f,
                "{}: missing, but a trusted time-stamp CA was given",
                crate::bagit::TIMESTAMP
            ),
            Problem::Timestamp { detail } => {
                write!(f, "{}: {detail}", crate::bagit::TIMESTAMP)
            }
            Problem::ChainLinkMissing { expected } => write!(
                f,
                "bag-info.txt: no Previous-Bundle-SHA256 (expected {expected})"
            ),
            Problem::ChainMismatch { declared, actual } => write!(
                f,
                "bag-info.txt: Previous-Bundle-SHA256 is {declared} but the previous bundle's SHA-256 is {actual}"
            ),
        }
    }
}

/// The result of [`verify_bundle`](crate::verify_bundle): what was checked and every problem
/// found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// The bundle verified.
    pub bundle: PathBuf,
    /// The bag's top-level folder, if one could be determined.
    pub root: Option<String>,
    /// Number of entries in the archive.
    pub entries: u64,
    /// Payload files checked against the manifest.
    pub payload_files: u64,
    /// Payload bytes read.
    pub payload_bytes: u64,
    /// Fingerprint of the key that made a valid, trusted signature.
    pub signer_fingerprint: Option<String>,
    /// `bag-info.txt` fields, in order.
    pub bag_info: Vec<(String, String)>,
    /// Everything wrong, in the order found. Empty means the bundle verified.
    pub problems: Vec<Problem>,
    /// What the bundle's RFC 3161 time-stamp says, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<crate::timestamp::TokenInfo>,
    /// Whether that time-stamp was verified against a trusted TSA CA (`tsa_ca`); without one
    /// its time is only what the token claims.
    #[serde(default)]
    pub timestamp_trusted: bool,
}

impl VerifyReport {
    /// True when no problem was found: intact, complete, and signed by the pinned key.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_ok() {
            writeln!(
                f,
                "OK: {} — {} payload files, {} bytes, signed by {}",
                self.bundle.display(),
                self.payload_files,
                self.payload_bytes,
                self.signer_fingerprint.as_deref().unwrap_or("?")
            )?;
            if let Some(t) = &self.timestamp {
                writeln!(
                    f,
                    "time-stamped {} by {}{}",
                    t.gen_time
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    t.tsa.as_deref().unwrap_or("an unnamed TSA"),
                    if self.timestamp_trusted {
                        " (token verified against the trusted TSA CA)"
                    } else {
                        " (NOT verified: pass the TSA's CA certificate to check it)"
                    }
                )?;
            }
            Ok(())
        } else {
            writeln!(
                f,
                "FAILED: {} — {} problem(s):",
                self.bundle.display(),
                self.problems.len()
            )?;
            for p in &self.problems {
                writeln!(f, "  - {p}")?;
            }
            Ok(())
        }
    }
}
