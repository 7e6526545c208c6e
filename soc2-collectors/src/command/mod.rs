//! The external command collector (DESIGN §8): evidence from any program in any language.
//!
//! The runner starts the configured program with the period's start and end dates
//! (`YYYY-MM-DD`) appended to its arguments and also in the environment variables
//! `SOC2_PERIOD_START` and `SOC2_PERIOD_END`. Every non-blank line the program prints on
//! stdout must be one JSON object; it becomes one record of the configured kind, with
//! provenance (program, arguments, exit status, SHA-256 of the output). A non-zero exit, a
//! line that is not a JSON object (reported with its line number), a missing subject field or
//! a timeout fails the collector; the lines already received are kept as a `.partial` file.
//!
//! **Continuous collection.** Whether the records are state or events is the config's to say:
//! `mode = "state"` (the default) snapshots the program's output on every run; `mode =
//! "events"` makes them events, deduplicated across runs by `subject_field`. On an
//! incremental run the dates the program receives are those of
//! [`CollectContext::period`](soc2_evidence_core::CollectContext::period), the window from the
//! previous successful run's time less a day of overlap to today, so an events program
//! should print what happened between them; the overlap is deduplicated by subject id.

mod collector;
mod config;
mod module;

pub use collector::CommandCollector;
pub use config::CommandConfig;
pub use module::CommandModule;
