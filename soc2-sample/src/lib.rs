//! The built-in sample organisation, "Acme Corp", and local servers that answer like Okta,
//! GitHub and Jira for it — real API shapes, multi-page pagination and one rate-limit
//! response each — plus sample backup logs in the real tools' formats.
//!
//! `soc2-evidence demo` runs the whole pipeline against these, offline; the collectors' tests
//! use the same servers, so the demo and the tests exercise one set of fixtures.
//! Servers bind 127.0.0.1 on ephemeral ports and never touch the network.
//!
//! The end-to-end tests also find the stock tools they check bundles with through
//! [`stock_tools`], so a machine without them skips those parts instead of failing, and
//! start a local AWS emulator with [`moto`] and a local RFC 3161 time-stamp authority with
//! [`tsa`].
//!
//! ```
//! let people = soc2_sample::people::PEOPLE;
//! assert!(people.iter().any(|p| p.github == "alice-acme"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod backups;
pub mod github;
pub mod jira;
pub mod moto;
pub mod okta;
pub mod people;
mod planted;
pub mod stock_tools;
pub mod tsa;

pub use planted::Planted;
