//! soc2-evidence collects SOC 2 audit evidence from the systems a company already runs, tests
//! the controls that evidence speaks to, and hands the auditor one signed, hashed,
//! self-verifying archive.
//!
//! This facade re-exports the member crates:
//! - [`core`] (`soc2-evidence-core`): evidence records, provenance, audit periods, the Trust
//!   Services Criteria catalogue, checks, findings, the runner and the HTTP toolkit;
//! - [`collectors`] (`soc2-collectors`): the built-in collectors and the config file;
//! - [`bundle`] (`soc2-bundle`): the signed evidence archive, its writer and its verifier.
//!
//! [`cli::main_with`] runs the whole command-line tool over a [`core::Registry`] of
//! collector modules: the built-in ones from [`collectors::registry`], plus a plugin's own.
//!
//! ```
//! use soc2_evidence::core::{criteria, AuditPeriod};
//! let period: AuditPeriod = "2026-01-01..2026-06-30".parse().unwrap();
//! assert_eq!(period.days(), 181);
//! assert_eq!(criteria::lookup("CC8.1").unwrap().group, "Change Management");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cli;

pub use soc2_bundle as bundle;
pub use soc2_collectors as collectors;
pub use soc2_evidence_core as core;
pub use soc2_ledger as ledger;

pub mod diff;
pub mod report;
pub mod sample;
pub mod timestamp;
