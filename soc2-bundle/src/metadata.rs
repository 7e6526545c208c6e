//! What the caller tells the writer about the bundle, and what the writer reports back.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::bagit::slug;

/// Metadata recorded in `bag-info.txt`. Nothing in a bundle comes from the clock: the same
/// run directory, metadata and key always produce the same bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleMetadata {
    /// The organisation whose evidence this is (`Source-Organization`).
    pub organization: String,
    /// First day of the audit period (inclusive).
    pub period_start: NaiveDate,
    /// Last day of the audit period (inclusive).
    pub period_end: NaiveDate,
    /// When the evidence was collected (`Collected-At`; its date is also the `Bagging-Date`).
    /// Take it from the run (e.g. `run.json`'s finish time), not from the clock.
    pub collected_at: DateTime<Utc>,
    /// `External-Identifier`; defaults to the bundle id (the top-level folder name).
    pub external_identifier: Option<String>,
    /// SHA-256 (lowercase hex) of the previous bundle's zip file, chaining bundles together.
    pub previous_bundle_sha256: Option<String>,
    /// More `bag-info.txt` lines, after the standard ones: a period assembled from a ledger
    /// names every run bundle it was made from (`Ledger-Run: 000001 sha256:...`). Labels and
    /// values must be single lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_info: Vec<(String, String)>,
}

impl BundleMetadata {
    /// The bundle id and top-level folder name: `soc2-evidence-<org-slug>-<start>-<end>`.
    pub fn bundle_id(&self) -> String {
        format!(
            "soc2-evidence-{}-{}-{}",
            slug(&self.organization),
            self.period_start.format("%Y-%m-%d"),
            self.period_end.format("%Y-%m-%d")
        )
    }
}

/// How entries are compressed. Only methods every stock tool reads are offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Compression {
    /// No compression: fastest to write and to verify, largest archive.
    Stored,
    /// Deflate at the given level (1 = fastest ... 9 = smallest).
    Deflated {
        /// Compression level, 1..=9.
        level: u8,
    },
}

/// Writer settings.
#[derive(Clone)]
pub struct BundleOptions {
    /// Entry compression. Default: Deflate level 1 (see the crate docs for the measurements).
    pub compression: Compression,
    /// Where to get an RFC 3161 time-stamp over the tag manifest, stored as
    /// `signatures/tagmanifest-sha256.txt.tsr`. When it fails, no bundle is written.
    pub timestamper: Option<std::sync::Arc<dyn crate::timestamp::Timestamper>>,
}

impl std::fmt::Debug for BundleOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleOptions")
            .field("compression", &self.compression)
            .field("timestamper", &self.timestamper.as_ref().map(|_| "set"))
            .finish()
    }
}

impl Default for BundleOptions {
    fn default() -> Self {
        Self {
            compression: Compression::Deflated { level: 1 },
            timestamper: None,
        }
    }
}

/// What [`build_bundle`](crate::build_bundle) wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleSummary {
    /// Where the zip is.
    pub path: PathBuf,
    /// SHA-256 of the zip file (lowercase hex): the next bundle's chain link.
    pub sha256: String,
    /// The single top-level folder inside the zip (also the bundle id).
    pub root: String,
    /// Number of payload files.
    pub files: u64,
    /// Total payload bytes.
    pub payload_bytes: u64,
    /// Signer key fingerprint, `SHA256:...`.
    pub fingerprint: String,
    /// The RFC 3161 time-stamp stored with it, when a time-stamper was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<crate::timestamp::TokenInfo>,
}
