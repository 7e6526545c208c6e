//! The collectors that ship with soc2-evidence, each behind a cargo feature, and the
//! configuration file that selects them.
//!
//! Every collector module has the same shape — `config.rs` (its `[section]`), its API calls or
//! parsers, `records.rs` (the evidence kinds it emits) and `checks.rs` (the control tests over
//! those records) — so learning one teaches all. Shared mechanics (HTTP, pagination,
//! provenance, sinks) live in `soc2-evidence-core`.
//!
//! ```
//! use soc2_collectors::Config;
//! let config = Config::parse(r#"
//!     [organization]
//!     name = "Acme Corp"
//!
//!     [[command]]
//!     name = "laptops"
//!     program = "echo"
//!     args = ['{"subject_id":"C02X","encrypted":true}']
//!     kind = "mdm.laptop"
//! "#, "soc2.toml").unwrap();
//! assert_eq!(config.collectors().unwrap().len(), 1);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "backups")]
pub mod backups;
#[cfg(feature = "command")]
pub mod command;
mod config;
#[cfg(feature = "github")]
pub mod github;
#[cfg(feature = "jira")]
pub mod jira;
#[cfg(feature = "okta")]
pub mod okta;

pub use config::{default_checks_for, Config, OrganizationConfig};
