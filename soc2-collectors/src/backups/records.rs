//! The evidence kinds the backup collector writes — `backup.job`, `backup.restore` and
//! `backup.source` — and the populations that hold them in the instance's directory
//! (`backups/` for `[backups]`, `<name>/` for a named `[[backups]]`).

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use soc2_evidence_core::{Evidence, Population};

/// Source system of every backup population: the files backup tools wrote.
pub const SOURCE: &str = "backup tool logs and exports (files)";

/// Backup runs and snapshots: events, each dated by its own start (`jobs.jsonl`).
pub const JOBS: Population<BackupJob> = Population::events("jobs", SOURCE);
/// Restore jobs and restore tests: events (`restores.jsonl`).
pub const RESTORES: Population<RestoreJob> = Population::events("restores", SOURCE);
/// Each configured source as collected — its settings, the files read, whether it failed:
/// state (`sources.jsonl`). The checks read each source's schedule and outcome from here.
pub const SOURCES: Population<BackupSource> = Population::state("sources", SOURCE);
/// Subject prefix of restore tests not tied to one source.
pub const ORGANIZATION: &str = "organization";

/// The normalised outcome of a backup run or a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Finished without errors or warnings.
    Succeeded,
    /// Produced a usable result with warnings (restic exit 3, borg rc 1, pgBackRest
    /// `error: true`, AWS `PARTIAL`, Velero `PartiallyFailed`).
    Partial,
    /// Failed, aborted or expired: no usable result.
    Failed,
    /// Not finished when the log was exported (AWS `RUNNING`, `PENDING` …).
    Running,
}

impl JobStatus {
    /// Whether the run produced something that can be restored.
    pub fn restorable(self) -> bool {
        matches!(self, JobStatus::Succeeded | JobStatus::Partial)
    }

    /// The worse of two statuses, used when two descriptions of one run are merged.
    pub fn worse(self, other: JobStatus) -> JobStatus {
        self.max(other)
    }
}

/// One backup run or snapshot, normalised across tools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupJob {
    /// The configured source name (`[[backups.source]] name`).
    pub source: String,
    /// The tool that wrote the log: `restic`, `borg`, `aws-backup`, `pgbackrest`, `jsonl`.
    pub tool: String,
    /// The tool's id for the run (snapshot id, archive id, backup job id, backup label), or
    /// `run@<file>:<line>` when the tool gives none (a failed restic run).
    pub id: String,
    /// When the run started, with the offset of the local time it ran in.
    pub started: DateTime<FixedOffset>,
    /// When it finished, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<DateTime<FixedOffset>>,
    /// The local calendar date of `started`: the day the run counts for.
    pub local_date: NaiveDate,
    /// Normalised outcome.
    pub status: JobStatus,
    /// The outcome in the tool's own words (`summary`, `exit 1`, `rc 1`, `PARTIAL`, `error=true`).
    pub tool_status: String,
    /// Bytes backed up (processed / original size), if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// What was backed up: paths, archive name, resource, stanza.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The tool's message (errors, warnings), shortened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Where the run was read, as `file:line`; more than one when several logs describe it.
    pub origins: Vec<String>,
    /// True when the log held no time for the run and `started` was taken from the file name
    /// or the file's modification time (see `message`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub estimated_time: bool,
    /// The protected resource, for tools whose files cover several: the AWS `ResourceArn`, the
    /// pgBackRest stanza. `None` for tools that back up one thing per source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Where records of this run that were merged disagree (`started 02:00:00 (list.json:3)
    /// vs 02:00:07 (info.json:2)`). The first record's values are kept; a check that would
    /// judge this run reports an `error` naming the conflict instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
}

impl Evidence for BackupJob {
    const KIND: &'static str = "backup.job";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["A1.2", "CC7.5"];
    fn subject_id(&self) -> String {
        format!("{}/{}", self.source, self.id)
    }
}

/// One restore job or restore test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreJob {
    /// The configured source, or `None` for an organisation-wide restore test.
    #[serde(default)]
    pub source: Option<String>,
    /// The tool that wrote the log.
    pub tool: String,
    /// The tool's id for the restore.
    pub id: String,
    /// When the restore started.
    pub started: DateTime<FixedOffset>,
    /// When it finished, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<DateTime<FixedOffset>>,
    /// The local calendar date of `started`.
    pub local_date: NaiveDate,
    /// Normalised outcome of the restore itself.
    pub status: JobStatus,
    /// The outcome in the tool's own words.
    pub tool_status: String,
    /// The validation status the tool reported (AWS `ValidationStatus`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<String>,
    /// `Some(true)` when a reported validation succeeded, `Some(false)` when it did not (yet),
    /// `None` when the tool reports no validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validated: Option<bool>,
    /// What was restored (recovery point, resource, archive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The tool's message, shortened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Where the restore was read, as `file:line`.
    pub origins: Vec<String>,
}

impl RestoreJob {
    /// Whether this restore proves recoverability: it succeeded and any reported validation
    /// succeeded too.
    pub fn proves_restore(&self) -> bool {
        self.status == JobStatus::Succeeded && self.validated != Some(false)
    }
}

impl Evidence for RestoreJob {
    const KIND: &'static str = "backup.restore";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["A1.3"];
    fn subject_id(&self) -> String {
        let source = self.source.as_deref().unwrap_or(ORGANIZATION);
        format!("{source}/{}", self.id)
    }
}

/// One file read for a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// The file's path as read.
    pub path: String,
    /// SHA-256 of the file's bytes (hex).
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Lines skipped because they were not JSON (warnings, shell noise).
    pub skipped_lines: u64,
}

/// A configured source, as collected: its settings, the files read and the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupSource {
    /// The source name.
    pub name: String,
    /// Log format (`restic`, `borg`, `aws-backup`, `pgbackrest`, `jsonl`).
    pub format: String,
    /// `daily` or `weekly`.
    pub schedule: String,
    /// Zone used for timestamps without one.
    pub timezone: String,
    /// The configured glob.
    pub path: String,
    /// Whether this source must show its own restore test every quarter.
    #[serde(default)]
    pub require_restore_tests: bool,
    /// Files matched and read.
    pub files: Vec<SourceFile>,
    /// Backup runs written for this source.
    pub jobs: u64,
    /// Restores written for this source.
    pub restores: u64,
    /// `ok`, or `failed` when a file could not be parsed (then nothing of it is written).
    pub status: String,
    /// Why the source failed, naming the file and line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The resources the source's files cover, for tools whose files cover several (AWS
    /// Backup, pgBackRest; empty for the others): each is judged on its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// The configured `resources` filter (empty: every resource in the files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources_filter: Vec<String>,
}

impl BackupSource {
    /// Whether findings carry the resource in their subject (`db/<resource>/2026-03-14`):
    /// when the source covers more than one resource.
    pub fn per_resource(&self) -> bool {
        self.resources.len() > 1
    }
}

/// One protected resource of a source: an AWS resource (by ARN) or a pgBackRest stanza.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// The resource's id: the `ResourceArn`, the stanza name.
    pub id: String,
    /// A readable name, if the tool gives one (AWS `ResourceName` and `ResourceType`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether the files read mention it at all; `false` for a resource named only by the
    /// `resources` filter.
    pub seen: bool,
    /// Backup runs kept for it.
    pub jobs: u64,
    /// What the tool last said about it, when not plainly "ok" (pgBackRest `status 2: no valid
    /// backups`, `backup/expire running`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// True when the tool said it could not read the resource's backup list (pgBackRest
    /// status 1 missing stanza path, 3 missing stanza data, 99 other): then a day without a
    /// backup of it is not shown to have none.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreadable: bool,
}

impl Evidence for BackupSource {
    const KIND: &'static str = "backup.source";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["A1.2"];
    fn subject_id(&self) -> String {
        self.name.clone()
    }
}

/// Shortens a tool message for a record or a finding.
pub fn shorten(message: &str) -> String {
    const MAX: usize = 300;
    let m = message.trim();
    if m.len() <= MAX {
        return m.to_string();
    }
    let mut end = MAX;
    while !m.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &m[..end])
}
