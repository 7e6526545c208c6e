//! `[backups]` and its `[[backups.source]]` entries.

use std::path::Path;

use serde::{Deserialize, Serialize};
use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::BuildContext;

fn default_recovery_hours() -> u32 {
    24
}
fn default_timezone() -> String {
    "UTC".into()
}

/// Log formats the collector reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// restic `backup --json` run logs and `snapshots --json`.
    Restic,
    /// borg `create --json`, `list --json` and `--log-json` stderr.
    Borg,
    /// AWS Backup `list-backup-jobs` / `list-restore-jobs` JSON.
    AwsBackup,
    /// pgBackRest `info --output=json`.
    Pgbackrest,
    /// The generic JSON Lines format (one run per line).
    Jsonl,
}

impl Format {
    /// The name used in config and records.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Restic => "restic",
            Format::Borg => "borg",
            Format::AwsBackup => "aws-backup",
            Format::Pgbackrest => "pgbackrest",
            Format::Jsonl => "jsonl",
        }
    }
}

/// How often a source is expected to produce a backup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// At least one restorable backup every calendar day.
    #[default]
    Daily,
    /// At least one restorable backup every ISO week.
    Weekly,
}

impl Schedule {
    /// The name used in config and records.
    pub fn as_str(self) -> &'static str {
        match self {
            Schedule::Daily => "daily",
            Schedule::Weekly => "weekly",
        }
    }
}

/// One `[[backups.source]]`.
///
/// ```toml
/// [[backups.source]]
/// name = "db-01"               # subject prefix in findings
/// format = "restic"            # restic | borg | aws-backup | pgbackrest | jsonl
/// path = "logs/db-01/*"        # glob, relative to the config file's directory
/// schedule = "daily"           # daily (default) | weekly
/// timezone = "Europe/Berlin"   # for timestamps without an offset (default UTC)
/// require_restore_tests = true # this source needs its own restore test each quarter
/// resources = ["main"]         # aws-backup / pgbackrest: only these ARNs or stanzas
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Source name, the subject prefix in findings (`db-01/2026-03-04`).
    pub name: String,
    /// The tool whose output the files hold.
    pub format: Format,
    /// Glob of the files to read.
    pub path: String,
    /// Expected backup frequency.
    #[serde(default)]
    pub schedule: Schedule,
    /// IANA zone for timestamps that carry no offset.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Whether this source must show its own successful restore every quarter. Sources that
    /// report restores (AWS restore jobs, JSON Lines `kind = "restore"`) are checked per
    /// source anyway.
    #[serde(default)]
    pub require_restore_tests: bool,
    /// Only these resources of the files (AWS `ResourceArn`s, pgBackRest stanza names) are
    /// judged; empty means every resource found. A listed resource the files never mention
    /// fails daily coverage. Only for `aws-backup` and `pgbackrest`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
}

/// `[backups]`, or one `[[backups]]` entry (its `name` is the instance name, taken by the
/// framework; its `[[backups.source]]` entries follow it).
///
/// ```toml
/// [backups]
/// recovery_hours = 24          # a failed run must be followed by a success within this
///
/// [[backups.source]]
/// name = "db-01"
/// format = "restic"
/// path = "logs/db-01/*"
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupsConfig {
    /// The sources to read.
    #[serde(default)]
    pub source: Vec<SourceConfig>,
    /// Hours within which a failed run must be followed by a successful one.
    #[serde(default = "default_recovery_hours")]
    pub recovery_hours: u32,
}

impl SourceConfig {
    /// The glob of this source's files: `path` resolved against the config file's directory,
    /// with that directory escaped, so a `[`, `*` or `?` in it matches only itself.
    pub fn pattern(&self, ctx: &BuildContext<'_>) -> String {
        let resolved = ctx.resolve(&self.path);
        match resolved.strip_prefix(ctx.base_dir()) {
            Ok(rest) if !Path::new(&self.path).is_absolute() => {
                let base = glob::Pattern::escape(&ctx.base_dir().display().to_string());
                format!("{base}/{}", rest.display())
            }
            _ => resolved.display().to_string(),
        }
    }
}

impl BackupsConfig {
    /// Checks what serde cannot: names, zones, globs and the recovery window. Errors name
    /// the instance's section and, for a source, the source.
    pub fn validate(&self, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        if self.source.is_empty() {
            return Err(ctx.invalid("source", "no [[backups.source]] entries: add at least one"));
        }
        if self.recovery_hours == 0 {
            return Err(ctx.invalid("recovery_hours", "must be at least 1"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for s in &self.source {
            let invalid = |key: &str, message: String| {
                ctx.invalid(&format!("source {:?} {key}", s.name), message)
            };
            let name_ok = !s.name.is_empty()
                && s.name.len() <= 64
                && s.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !name_ok {
                return Err(invalid(
                    "name",
                    "use letters, digits, `-`, `_` and `.` (it prefixes finding subjects)".into(),
                ));
            }
            if s.name == super::records::ORGANIZATION {
                return Err(invalid(
                    "name",
                    "\"organization\" is reserved for organisation-wide restore tests".into(),
                ));
            }
            if !seen.insert(s.name.as_str()) {
                return Err(invalid("name", "is used by two sources".into()));
            }
            super::time::parse_zone(&s.timezone).map_err(|m| invalid("timezone", m))?;
            if s.path.trim().is_empty() {
                return Err(invalid("path", "is empty".into()));
            }
            glob::Pattern::new(&s.path)
                .map_err(|e| invalid("path", format!("not a valid glob: {e}")))?;
            if !s.resources.is_empty()
                && !matches!(s.format, Format::AwsBackup | Format::Pgbackrest)
            {
                return Err(invalid(
                    "resources",
                    format!(
                        "only aws-backup and pgbackrest files cover several resources; a {} \
                         source backs up one thing",
                        s.format.as_str()
                    ),
                ));
            }
            let mut listed = std::collections::BTreeSet::new();
            for r in &s.resources {
                if r.trim().is_empty() || !listed.insert(r.as_str()) {
                    return Err(invalid(
                        "resources",
                        format!("{r:?} is empty or listed twice"),
                    ));
                }
            }
        }
        Ok(())
    }
}
