//! The collectors that ship with soc2-evidence, each a [`Module`](soc2_evidence_core::Module)
//! behind a cargo feature, and the [`registry`] that holds them.
//!
//! Every collector folder has the same shape — `config.rs` (its `[section]`), its API calls or
//! parsers, `records.rs` (the evidence kinds and population constants), `collector.rs`,
//! `checks.rs` (the control tests over those populations) and `module.rs` (the module that
//! ties them together) — so learning one teaches all. Shared mechanics (HTTP, pagination,
//! provenance, sinks, config parsing) live in `soc2-evidence-core`.
//!
//! ```
//! let config = soc2_collectors::registry().parse_config(r#"
//!     [organization]
//!     name = "Acme Corp"
//!
//!     [[command]]
//!     name = "laptops"
//!     program = "echo"
//!     args = ['{"subject_id":"C02X","encrypted":true}']
//!     kind = "mdm.laptop"
//! "#, "soc2.toml", ".".as_ref()).unwrap();
//! assert_eq!(config.instances[0].name(), "laptops");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "backups")]
pub mod backups;
#[cfg(all(feature = "github", feature = "jira"))]
pub mod change;
#[cfg(feature = "command")]
pub mod command;
#[cfg(any(feature = "okta", feature = "jira"))]
mod concurrent;
#[cfg(feature = "github")]
pub mod github;
#[cfg(feature = "jira")]
pub mod jira;
#[cfg(feature = "okta")]
pub mod okta;

mod registry;

pub use registry::registry;
