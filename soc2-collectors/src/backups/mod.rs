//! The backup-log collector: backup and restore evidence from the files backup tools write,
//! and the availability checks over it (A1.2, A1.3, CC7.5).
//!
//! Auditors test availability by asking for backup logs across the period and proof that a
//! restore was tested. This collector reads the logs and exports teams already have —
//! restic, borg, AWS Backup, pgBackRest, or anything else converted to a small JSON Lines
//! format — normalises them, and finds the days without a backup.
//!
//! **Continuous collection.** The configured sources are *state*, listed on every run;
//! backup and restore jobs are *events*, identified by source and job id and placed in time
//! by their start. An incremental run reads the jobs of
//! [`CollectContext::period`](soc2_evidence_core::CollectContext::period), its window from the
//! previous successful run's time less a day of overlap, widened as for any period (two days
//! before it, and `recovery_hours` plus two days after it, so a job straddling an edge is
//! seen); the jobs read twice are deduplicated by id.
//!
//! # Configuration
//!
//! ```toml
//! [backups]
//! recovery_hours = 24            # optional: failed runs must be followed by a success within
//!
//! [[backups.source]]
//! name = "db-01"                 # the subject prefix in findings
//! format = "restic"              # restic | borg | aws-backup | pgbackrest | jsonl
//! path = "logs/db-01/*"          # glob, relative to the config file's directory
//! schedule = "daily"             # daily (default) | weekly
//! timezone = "Europe/Berlin"     # for timestamps without an offset (default UTC)
//! require_restore_tests = false  # this source needs its own restore test each quarter
//! resources = ["main"]           # aws-backup / pgbackrest: only these ARNs or stanzas
//! ```
//!
//! A source whose files cover several resources (an AWS Backup export of the whole account,
//! a pgBackRest `info` with several stanzas) is judged per resource, with subjects
//! `<source>/<resource>/<day>`; a listed resource the files never mention fails daily
//! coverage rather than being skipped.
//!
//! Several `[[backups]]` entries, each with a `name` and its own `[[backups.source]]`
//! entries after it, are separate instances writing `<name>/`; the findings of a named
//! instance carry its name (`eu:db-01/2026-03-04`).
//!
//! # Output
//!
//! In the instance's directory (`backups/`, or `<name>/`):
//!
//! - `jobs.jsonl` ([`JOBS`], events) — `backup.job`: one backup run or snapshot per line
//!   (source, tool, id, started, finished, local date, status `succeeded | partial | failed |
//!   running`, the tool's own status, size, message, and the `file:line`s it was read from).
//!   A snapshot list and run logs describing the same run (same snapshot/archive/job id) are
//!   merged; where they disagree on its times the job lists the `conflicts` and checks report
//!   an `error` for it. `resource` names the AWS resource or pgBackRest stanza.
//! - `restores.jsonl` ([`RESTORES`], events) — `backup.restore`: restore jobs and tests with
//!   their validation.
//! - `sources.jsonl` ([`SOURCES`], state) — `backup.source`: each source's settings, the
//!   files read with SHA-256, byte, line and skipped-line counts, and whether it failed.
//! - `provenance.json` — every file read (`read` endpoints, digest in the parameters),
//!   lines read and skipped, merges and anything dropped.
//!
//! # Robustness
//!
//! Lines that are not JSON (warnings, shell noise) are skipped and counted. A file that cannot
//! be parsed (a line that starts like JSON but is not, a cut-off document, JSON of another
//! tool) fails its *source* with the file and line; nothing of that source is written. The
//! other sources are still read, written and judged; the collector then ends with
//! `CollectError::PartlyFailed` naming the source, so `collect` exits non-zero and `run.json`
//! says what failed, the provenance of jobs and restores says `"complete": false` (the
//! sources population is complete: it describes the failed source too), and every check
//! reports an `error` finding for the failed source instead of judging it. Files are
//! streamed line by line; only multi-line JSON documents (a snapshot list, an AWS export) are
//! held whole, up to 256 MiB.
//!
//! # Example
//!
//! ```
//! use soc2_collectors::backups::{formats, time};
//! let tz = time::parse_zone("UTC").unwrap();
//! let ctx = formats::FileContext {
//!     source: "db-01".into(), tz, file: "run.log".into(), fallback_time: None,
//! };
//! let log = concat!(
//!     "{\"message_type\":\"status\",\"percent_done\":0.5}\n",
//!     "Warning: at least one source file could not be read\n",
//!     "{\"message_type\":\"summary\",\"snapshot_id\":\"4f2e\",",
//!     "\"backup_start\":\"2026-03-04T02:00:00+01:00\"}\n",
//! );
//! let mut lines = formats::Lines::new(log.as_bytes());
//! let parsed = formats::restic::parse(&mut lines, &ctx).unwrap();
//! assert_eq!(parsed.jobs[0].status, soc2_collectors::backups::JobStatus::Partial);
//! assert_eq!(parsed.jobs[0].local_date.to_string(), "2026-03-04");
//! ```
//!
//! See `README.md` in this directory for the JSON Lines format and how to export Velero or a
//! cron script into it.

mod checks;
mod collector;
mod config;
pub mod formats;
mod module;
mod records;
pub mod time;

pub use checks::{
    checks, checks_for, CheckScope, CompletedCleanly, DailyCoverage, RecoveryAfterFailure,
    RestoreTested,
};
pub use collector::{merge_same_runs, read_source, BackupsCollector, SameRun, SourceOutcome};
pub use config::{BackupsConfig, Format, Schedule, SourceConfig};
pub use module::BackupsModule;
pub use records::{
    shorten, BackupJob, BackupSource, JobStatus, Resource, RestoreJob, SourceFile, JOBS,
    ORGANIZATION, RESTORES, SOURCE, SOURCES,
};

/// The module's type: the config section and the default instance name.
pub const TYPE: &str = "backups";
