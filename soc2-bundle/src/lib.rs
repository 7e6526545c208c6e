//! The signed, hashed, self-verifying SOC 2 evidence archive.
//!
//! A bundle is a zip holding one [BagIt](https://www.rfc-editor.org/rfc/rfc8493) bag under a
//! single top-level folder `soc2-evidence-<org>-<start>-<end>/`: `bagit.txt`, `bag-info.txt`,
//! `manifest-sha256.txt` (in `sha256sum` format), `tagmanifest-sha256.txt`, the run directory
//! under `data/`, and `signatures/tagmanifest-sha256.txt.sshsig`, an OpenSSH SSHSIG (Ed25519,
//! SHA-512, namespace `soc2-evidence`) over the tag manifest. After `unzip`, stock tools check it:
//! `ssh-keygen -Y verify`, `sha256sum -c --strict` and `bagit.py --validate`;
//! [`verify_bundle`] does all of it at once without extracting anything.
//!
//! * [`build_bundle`] streams a finished run directory into a reproducible archive (same input,
//!   metadata and key give the same bytes), written to a temporary file and renamed into place.
//! * [`verify_bundle`] checks an archive against a pinned [`TrustedKey`] and returns a
//!   [`VerifyReport`] listing every [`Problem`] found.
//! * [`SigningKey`] generates, writes and loads OpenSSH Ed25519 keys (also `ssh-keygen` ones,
//!   passphrase-protected or not); [`allowed_signers_line`] renders the auditor's trust file.
//!
//! Default compression is Deflate level 1: on JSON evidence it is several times faster than
//! `zip`'s default level 6 while still shrinking the payload 3-5x (see
//! `examples/bundle_bench.rs`).
//!
//! ```
//! use soc2_bundle::*;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tmp = tempfile::tempdir()?;
//! let run = tmp.path().join("run");
//! std::fs::create_dir_all(run.join("okta"))?;
//! std::fs::write(run.join("run.json"), r#"{"status":"complete"}"#)?;
//! std::fs::write(run.join("okta/users.jsonl"), "{\"id\":\"00u1\"}\n")?;
//!
//! let key = SigningKey::generate();
//! let meta = BundleMetadata {
//!     organization: "Acme Corp".into(),
//!     period_start: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("date")?,
//!     period_end: chrono::NaiveDate::from_ymd_opt(2026, 6, 30).ok_or("date")?,
//!     collected_at: "2026-07-01T08:00:00Z".parse()?,
//!     external_identifier: None,
//!     previous_bundle_sha256: None,
//!     extra_info: Vec::new(),
//! };
//! let out = tmp.path().join("evidence.zip");
//! let summary = build_bundle(&run, &key, &meta, &out, &BundleOptions::default())?;
//! assert_eq!(summary.root, "soc2-evidence-acme-corp-2026-01-01-2026-06-30");
//!
//! let report = verify_bundle(&out, &key.trusted_key(), &VerifyOptions::default())?;
//! assert!(report.is_ok(), "{report}");
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bagit;
mod error;
mod hash;
mod keys;
mod metadata;
pub mod timestamp;
mod verify;
mod writer;

pub use error::BundleError;
pub use hash::sha256_file;
pub use keys::{allowed_signers_line, pub_path, SigningKey, TrustedKey, SIGNATURE_NAMESPACE};
pub use metadata::{BundleMetadata, BundleOptions, BundleSummary, Compression};
pub use verify::{verify_bundle, Limits, Problem, VerifyOptions, VerifyReport};
pub use writer::build_bundle;
