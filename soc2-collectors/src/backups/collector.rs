//! Reading every source's files and writing the normalised populations.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::{DateTime, Duration, FixedOffset, Utc};
use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::{
    AuditPeriod, BuildContext, CollectContext, CollectError, Collector, EvidenceSink,
    EvidenceSinkExt, ProvenanceRecorder,
};

use super::config::{BackupsConfig, Format, SourceConfig};
use super::formats::{self, FileContext, Lines, ParseError, Parsed};
use super::records::{
    BackupJob, BackupSource, JobStatus, Resource, RestoreJob, SourceFile, JOBS, RESTORES, SOURCES,
};
use super::time;

/// Reads backup and restore logs from files (see the [module docs](super)).
#[derive(Debug, Clone)]
pub struct BackupsCollector {
    name: String,
    config: BackupsConfig,
    /// Each source's file glob, resolved against the config file's directory, in
    /// `config.source` order.
    patterns: Vec<String>,
}

/// Everything read for one source.
#[derive(Debug)]
pub struct SourceOutcome {
    /// The source record (files, counts, status).
    pub record: BackupSource,
    /// Its merged backup runs, sorted by start.
    pub jobs: Vec<BackupJob>,
    /// Its restores, sorted by start.
    pub restores: Vec<RestoreJob>,
    /// Remarks for provenance.
    pub notes: Vec<String>,
    /// Backup records received per file, before merging.
    pub received: Vec<(String, u64, u64)>,
    /// Where and why the source failed.
    pub failure: Option<(String, String)>,
}

impl BackupsCollector {
    /// Builds the collector for the instance `ctx` names; relative globs are resolved
    /// against the config file's directory. Invalid names, zones or globs are reported here.
    pub fn new(config: BackupsConfig, ctx: &BuildContext<'_>) -> Result<Self, ConfigError> {
        config.validate(ctx)?;
        let patterns = config.source.iter().map(|s| s.pattern(ctx)).collect();
        Ok(Self {
            name: ctx.instance().to_string(),
            config,
            patterns,
        })
    }

    /// The time range of runs kept: the period, a day either side (zones), and after its end
    /// enough time to see whether a failure on its last day was recovered.
    fn window(&self, period: &AuditPeriod) -> (DateTime<Utc>, DateTime<Utc>) {
        let after = Duration::hours(i64::from(self.config.recovery_hours) + 48);
        (
            period.start_utc() - Duration::days(2),
            period.end_exclusive_utc() + after,
        )
    }
}

/// Reads one source: expands `pattern` (its glob, resolved: see [`SourceConfig::pattern`])
/// and parses every file. Blocking; run it off the async runtime.
pub fn read_source(
    cfg: &SourceConfig,
    pattern: &str,
    window: (DateTime<Utc>, DateTime<Utc>),
) -> SourceOutcome {
    let mut out = SourceOutcome {
        record: BackupSource {
            name: cfg.name.clone(),
            format: cfg.format.as_str().into(),
            schedule: cfg.schedule.as_str().into(),
            timezone: cfg.timezone.clone(),
            path: cfg.path.clone(),
            require_restore_tests: cfg.require_restore_tests,
            files: Vec::new(),
            jobs: 0,
            restores: 0,
            status: "ok".into(),
            error: None,
            resources: Vec::new(),
            resources_filter: cfg.resources.clone(),
        },
        jobs: Vec::new(),
        restores: Vec::new(),
        notes: Vec::new(),
        received: Vec::new(),
        failure: None,
    };
    match read_files(cfg, pattern, &mut out) {
        Ok((jobs, restores)) => {
            let (jobs, merged) = merge_same_runs(jobs);
            if merged > 0 {
                out.notes.push(format!(
                    "{}: {merged} backup record(s) described a run already read from another \
                     file (same id) and were merged into it",
                    cfg.name
                ));
            }
            let (restores, _) = merge_same_runs(restores);
            let in_window = |t: &DateTime<FixedOffset>| {
                let u = t.with_timezone(&Utc);
                u >= window.0 && u < window.1
            };
            let before = (jobs.len(), restores.len());
            out.jobs = jobs.into_iter().filter(|j| in_window(&j.started)).collect();
            out.restores = restores
                .into_iter()
                .filter(|r| in_window(&r.started))
                .collect();
            let dropped = (before.0 - out.jobs.len(), before.1 - out.restores.len());
            if dropped != (0, 0) {
                out.notes.push(format!(
                    "{}: {} backup run(s) and {} restore(s) outside {} .. {} were not kept",
                    cfg.name,
                    dropped.0,
                    dropped.1,
                    window.0.to_rfc3339(),
                    window.1.to_rfc3339()
                ));
            }
            out.jobs.sort_by_key(|j| j.started);
            out.restores.sort_by_key(|r| r.started);
            settle_resources(cfg, &mut out);
            let conflicting: Vec<String> = out
                .jobs
                .iter()
                .filter(|j| !j.conflicts.is_empty())
                .map(|j| format!("run {}: {}", j.id, j.conflicts.join("; ")))
                .collect();
            if !conflicting.is_empty() {
                out.notes.push(format!(
                    "{}: CONFLICT: {} run(s) are described differently by two records (the \
                     first record's values were kept, and checks report an error for them): {}",
                    cfg.name,
                    conflicting.len(),
                    conflicting.join(" | ")
                ));
            }
            out.record.jobs = out.jobs.len() as u64;
            out.record.restores = out.restores.len() as u64;
        }
        Err((location, message)) => {
            out.record.status = "failed".into();
            out.record.error = Some(format!("{location}: {message}"));
            out.notes.push(format!(
                "source {} FAILED and none of its records were written: {location}: {message}",
                cfg.name
            ));
            out.failure = Some((location, message));
        }
    }
    out
}

type Records = (Vec<BackupJob>, Vec<RestoreJob>);

/// Builds the source's resource list from what the files said about resources and the jobs
/// kept, applies the `resources` filter to both, and adds each listed resource the files never
/// mention (so it is judged, not forgotten).
fn settle_resources(cfg: &SourceConfig, out: &mut SourceOutcome) {
    let mut by_id: BTreeMap<String, Resource> = BTreeMap::new();
    // Later files are later exports: their status is the current one.
    for r in std::mem::take(&mut out.record.resources) {
        by_id.insert(r.id.clone(), r);
    }
    for j in &out.jobs {
        let Some(id) = &j.resource else { continue };
        let r = by_id.entry(id.clone()).or_insert_with(|| Resource {
            id: id.clone(),
            name: None,
            seen: true,
            jobs: 0,
            status: None,
            unreadable: false,
        });
        r.jobs += 1;
        if r.name.is_none() && j.target.as_deref() != Some(id.as_str()) {
            r.name = j.target.clone();
        }
    }
    if !cfg.resources.is_empty() {
        let listed: BTreeSet<&str> = cfg.resources.iter().map(String::as_str).collect();
        let before = out.jobs.len();
        out.jobs
            .retain(|j| j.resource.as_deref().is_some_and(|r| listed.contains(r)));
        let unlisted: Vec<String> = by_id
            .keys()
            .filter(|id| !listed.contains(id.as_str()))
            .cloned()
            .collect();
        if !unlisted.is_empty() {
            out.notes.push(format!(
                "{}: {} backup run(s) of {} resource(s) not listed in `resources` were not kept: \
                 {}",
                cfg.name,
                before - out.jobs.len(),
                unlisted.len(),
                unlisted.join(", ")
            ));
        }
        by_id.retain(|id, _| listed.contains(id.as_str()));
        for id in &cfg.resources {
            if !by_id.contains_key(id) {
                out.notes.push(format!(
                    "{}: resource {id} is listed in `resources` but no file read mentions it",
                    cfg.name
                ));
                by_id.insert(
                    id.clone(),
                    Resource {
                        id: id.clone(),
                        name: None,
                        seen: false,
                        jobs: 0,
                        status: None,
                        unreadable: false,
                    },
                );
            }
        }
    }
    out.record.resources = by_id.into_values().collect();
}

fn read_files(
    cfg: &SourceConfig,
    pattern: &str,
    out: &mut SourceOutcome,
) -> Result<Records, (String, String)> {
    let tz = time::parse_zone(&cfg.timezone).map_err(|m| (cfg.name.clone(), m))?;
    let paths = glob::glob(pattern).map_err(|e| (pattern.to_string(), format!("bad glob: {e}")))?;
    let mut files: Vec<PathBuf> = Vec::new();
    for p in paths {
        let p = p.map_err(|e| (e.path().display().to_string(), e.to_string()))?;
        if p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err((
            pattern.to_string(),
            format!("no files match the path of backup source {:?}", cfg.name),
        ));
    }
    if cfg.format == Format::Borg {
        // The files of one borg run (stdout before stderr) are read one after the other.
        files.sort_by_key(|p| {
            let name = file_name(p);
            (run_key(p), !name.ends_with(".json"), name)
        });
    }
    let (mut jobs, mut restores) = (Vec::new(), Vec::new());
    // The borg run being read: its key, its parser state, the last file's context and line,
    // and how many of its files were read.
    let mut borg: Option<(PathBuf, formats::borg::Session, FileContext, u64, usize)> = None;
    let fail = |shown: &str, e: ParseError| {
        let at = if e.line > 0 {
            format!("{shown}:{}", e.line)
        } else {
            shown.to_string()
        };
        (
            at,
            format!("{} ({} output)", e.message, cfg.format.as_str()),
        )
    };
    for path in files {
        let shown = path.display().to_string();
        if cfg.format == Format::Borg {
            let key = run_key(&path);
            if borg.as_ref().is_some_and(|b| b.0 != key) {
                if let Some(group) = borg.take() {
                    end_borg_run(group, out, &mut jobs).map_err(|(f, e)| fail(&f, e))?;
                }
            }
            let group = borg.get_or_insert_with(|| {
                (
                    key,
                    formats::borg::Session::default(),
                    FileContext {
                        source: cfg.name.clone(),
                        tz,
                        file: shown.clone(),
                        fallback_time: None,
                    },
                    0,
                    0,
                )
            });
            let before = group.1.jobs_read();
            let (ctx, stats) = read_borg_file(cfg, &path, &shown, tz, &mut group.1)
                .map_err(|e| fail(&shown, e))?;
            group.2 = ctx;
            group.3 = stats.lines;
            group.4 += 1;
            out.received
                .push((shown.clone(), (group.1.jobs_read() - before) as u64, 0));
            push_file(out, shown, stats);
            continue;
        }
        let (parsed, stats) = read_file(cfg, &path, &shown, tz).map_err(|e| fail(&shown, e))?;
        out.received.push((
            shown.clone(),
            parsed.jobs.len() as u64,
            parsed.restores.len() as u64,
        ));
        out.notes.extend(parsed.notes);
        out.record.resources.extend(parsed.resources);
        push_file(out, shown, stats);
        jobs.extend(parsed.jobs);
        restores.extend(parsed.restores);
    }
    if let Some(group) = borg.take() {
        end_borg_run(group, out, &mut jobs).map_err(|(f, e)| fail(&f, e))?;
    }
    Ok((jobs, restores))
}

fn push_file(out: &mut SourceOutcome, path: String, stats: formats::FileStats) {
    out.record.files.push(SourceFile {
        path,
        sha256: stats.sha256,
        bytes: stats.bytes,
        lines: stats.lines,
        skipped_lines: stats.skipped,
    });
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// The run a borg file belongs to: its directory and its name up to the first `.`, so
/// `create-2026-04-29.json` (stdout) and `create-2026-04-29.stderr.jsonl` (or `.log`) are
/// one run.
fn run_key(p: &Path) -> PathBuf {
    let name = file_name(p);
    let stem = name.split('.').next().unwrap_or_default();
    p.with_file_name(stem)
}

/// Ends a borg run read from one or more files and keeps its jobs.
fn end_borg_run(
    (key, session, ctx, last_line, files): (
        PathBuf,
        formats::borg::Session,
        FileContext,
        u64,
        usize,
    ),
    out: &mut SourceOutcome,
    jobs: &mut Vec<BackupJob>,
) -> Result<(), (String, ParseError)> {
    let before = session.jobs_read();
    let parsed = session
        .finish(&ctx, last_line)
        .map_err(|e| (ctx.file.clone(), e))?;
    if let Some(last) = out.received.last_mut() {
        last.1 += (parsed.jobs.len() - before) as u64;
    }
    if files > 1 {
        out.notes.push(format!(
            "{}: {files} files named {}.* were read as the output of one borg run (stdout \
             and stderr), giving {} record(s)",
            ctx.source,
            key.display(),
            parsed.jobs.len()
        ));
    }
    out.notes.extend(parsed.notes);
    jobs.extend(parsed.jobs);
    Ok(())
}

/// Reads one file of a borg run into `session`.
fn read_borg_file(
    cfg: &SourceConfig,
    path: &Path,
    shown: &str,
    tz: chrono_tz::Tz,
    session: &mut formats::borg::Session,
) -> Result<(FileContext, formats::FileStats), ParseError> {
    let file = File::open(path).map_err(|e| ParseError::at(0, format!("cannot open: {e}")))?;
    let ctx = file_context(cfg, path, shown, tz, &file);
    let mut lines = Lines::new(file);
    session.read(&mut lines, &ctx)?;
    let stats = finish_lines(lines, cfg)?;
    Ok((ctx, stats))
}

/// What a parser is told about a file: its source, zone, name and a fallback time.
fn file_context(
    cfg: &SourceConfig,
    path: &Path,
    shown: &str,
    tz: chrono_tz::Tz,
    file: &File,
) -> FileContext {
    let name = path.file_name().map(|n| n.to_string_lossy().to_string());
    let fallback_time = name
        .as_deref()
        .and_then(|n| time::from_file_name(n, tz))
        .map(|t| (t, "the file name".to_string()))
        .or_else(|| {
            let modified = file.metadata().ok()?.modified().ok()?;
            let t = DateTime::<Utc>::from(modified)
                .with_timezone(&tz)
                .fixed_offset();
            Some((t, "the file's modification time".to_string()))
        });
    FileContext {
        source: cfg.name.clone(),
        tz,
        file: shown.to_string(),
        fallback_time,
    }
}

/// Reads a file to its end and checks that it held JSON at all.
fn finish_lines(lines: Lines<File>, cfg: &SourceConfig) -> Result<formats::FileStats, ParseError> {
    let stats = lines.finish()?;
    if stats.documents == 0 && stats.lines > 0 {
        return Err(ParseError::at(
            0,
            format!(
                "no JSON found in {} line(s): is this {} JSON output?",
                stats.lines,
                cfg.format.as_str()
            ),
        ));
    }
    Ok(stats)
}

fn read_file(
    cfg: &SourceConfig,
    path: &Path,
    shown: &str,
    tz: chrono_tz::Tz,
) -> Result<(Parsed, formats::FileStats), ParseError> {
    let file = File::open(path).map_err(|e| ParseError::at(0, format!("cannot open: {e}")))?;
    let ctx = file_context(cfg, path, shown, tz, &file);
    let mut lines = Lines::new(file);
    let parsed = match cfg.format {
        Format::Restic => formats::restic::parse(&mut lines, &ctx)?,
        Format::Borg => formats::borg::parse(&mut lines, &ctx)?,
        Format::AwsBackup => formats::aws::parse(&mut lines, &ctx)?,
        Format::Pgbackrest => formats::pgbackrest::parse(&mut lines, &ctx)?,
        Format::Jsonl => formats::jsonl::parse(&mut lines, &ctx)?,
    };
    let stats = finish_lines(lines, cfg)?;
    Ok((parsed, stats))
}

fn merge_status(a: (JobStatus, &str), b: (JobStatus, &str)) -> (JobStatus, String) {
    match (a.0, b.0) {
        (JobStatus::Running, _) => (b.0, b.1.to_string()),
        (_, JobStatus::Running) => (a.0, a.1.to_string()),
        _ if a.1 == b.1 => (a.0, a.1.to_string()),
        _ => (a.0.worse(b.0), format!("{} + {}", a.1, b.1)),
    }
}

/// A record that another export may describe again: a backup run or a restore, keyed by
/// the tool's id.
pub trait SameRun {
    /// The tool's id: two records with the same id describe the same run.
    fn run_id(&self) -> &str;
    /// Folds `other`, a second description of the same run, into `self`.
    fn absorb(&mut self, other: Self);
}

/// Appends the origins of `from` that `into` does not list yet.
fn add_origins(into: &mut Vec<String>, from: Vec<String>) {
    for o in from {
        if !into.contains(&o) {
            into.push(o);
        }
    }
}

impl SameRun for BackupJob {
    fn run_id(&self) -> &str {
        &self.id
    }

    fn absorb(&mut self, j: BackupJob) {
        // Two records read from the tool itself that place the run at different times are a
        // conflict to show, not a detail to smooth over (borg `list` and `info` of one
        // archive can disagree on `start`). Sub-second differences are precision.
        let at = |o: &[String]| o.join(", ");
        let differ = |a: DateTime<FixedOffset>, b: DateTime<FixedOffset>| {
            (a - b).num_milliseconds().abs() >= 1000
        };
        if !self.estimated_time && !j.estimated_time && differ(self.started, j.started) {
            self.conflicts.push(format!(
                "started {} ({}) vs {} ({})",
                self.started.to_rfc3339(),
                at(&self.origins),
                j.started.to_rfc3339(),
                at(&j.origins)
            ));
        }
        if let (Some(a), Some(b)) = (self.finished, j.finished) {
            if differ(a, b) {
                self.conflicts.push(format!(
                    "finished {} ({}) vs {} ({})",
                    a.to_rfc3339(),
                    at(&self.origins),
                    b.to_rfc3339(),
                    at(&j.origins)
                ));
            }
        }
        for c in j.conflicts {
            if !self.conflicts.contains(&c) {
                self.conflicts.push(c);
            }
        }
        let (status, tool_status) =
            merge_status((self.status, &self.tool_status), (j.status, &j.tool_status));
        self.status = status;
        self.tool_status = tool_status;
        // A time read from the log beats one guessed from a file name or mtime.
        if self.estimated_time && !j.estimated_time {
            self.started = j.started;
            self.local_date = j.local_date;
            self.estimated_time = false;
        }
        self.finished = self.finished.or(j.finished);
        self.size = self.size.or(j.size);
        self.target = self.target.take().or(j.target);
        self.message = self.message.take().or(j.message);
        add_origins(&mut self.origins, j.origins);
    }
}

impl SameRun for RestoreJob {
    fn run_id(&self) -> &str {
        &self.id
    }

    fn absorb(&mut self, r: RestoreJob) {
        let (status, tool_status) =
            merge_status((self.status, &self.tool_status), (r.status, &r.tool_status));
        // A running restore's validation is not yet known; the finished export's is.
        if self.status == JobStatus::Running && r.status != JobStatus::Running {
            self.validation = r.validation.clone();
            self.validated = r.validated;
        }
        self.status = status;
        self.tool_status = tool_status;
        self.finished = self.finished.or(r.finished);
        self.validation = self.validation.take().or(r.validation);
        self.validated = self.validated.or(r.validated);
        add_origins(&mut self.origins, r.origins);
    }
}

/// Merges records of the same run (same id): a restic snapshot list and the run log that
/// created it, one AWS job in two exports, one pgBackRest backup in daily `info` dumps.
/// Returns the runs, ordered by id, and how many records were merged away.
pub fn merge_same_runs<R: SameRun>(records: Vec<R>) -> (Vec<R>, usize) {
    let total = records.len();
    let mut by_id: BTreeMap<String, R> = BTreeMap::new();
    for r in records {
        match by_id.get_mut(r.run_id()) {
            Some(first) => first.absorb(r),
            None => {
                by_id.insert(r.run_id().to_string(), r);
            }
        }
    }
    let merged = total - by_id.len();
    (by_id.into_values().collect(), merged)
}

#[async_trait]
impl Collector for BackupsCollector {
    fn name(&self) -> &str {
        &self.name
    }

    fn collector_type(&self) -> &str {
        super::TYPE
    }

    async fn collect(
        &self,
        ctx: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let mut jobs = sink.open(&JOBS)?;
        let mut restores = sink.open(&RESTORES)?;
        let mut sources = sink.open(&SOURCES)?;
        let window = self.window(ctx.period());
        let mut failures = Vec::new();
        for (cfg, pattern) in self.config.source.iter().zip(&self.patterns) {
            ctx.check_cancelled()?;
            ctx.message(&format!("reading {} ({})", cfg.name, cfg.format.as_str()));
            let (c, p, w) = (cfg.clone(), pattern.clone(), window);
            let outcome = tokio::task::spawn_blocking(move || read_source(&c, &p, w))
                .await
                .map_err(|e| CollectError::Panicked(e.to_string()))?;
            // Every file read is an endpoint of all three populations: each of them was
            // derived from the same files.
            let recorders = [
                jobs.provenance(),
                restores.provenance(),
                sources.provenance(),
            ];
            record_source(recorders, cfg, &outcome);
            for (file, job_count, restore_count) in &outcome.received {
                jobs.provenance().received(file, *job_count);
                restores.provenance().received(file, *restore_count);
            }
            if let Some(f) = &outcome.failure {
                failures.push((cfg.name.clone(), f.clone()));
            } else {
                for j in &outcome.jobs {
                    jobs.emit(j)?;
                }
                for r in &outcome.restores {
                    restores.emit(r)?;
                }
            }
            sources.provenance().received("sources", 1);
            sources.emit(&outcome.record)?;
        }
        let note = "response_sha256 is the SHA-256 over the files' own SHA-256 digests, in the \
                    order read; each file's digest is in its endpoint's parameters";
        for rec in [
            jobs.provenance(),
            restores.provenance(),
            sources.provenance(),
        ] {
            rec.note(note);
        }
        let Some(((name, (location, message)), rest)) = failures.split_first() else {
            jobs.finish()?;
            restores.finish()?;
            sources.finish()?;
            return Ok(());
        };
        let mut why = format!("backup source {name:?}: {message}");
        for (n, (l, m)) in rest {
            why.push_str(&format!("; backup source {n:?} also failed: {l}: {m}"));
        }
        why.push_str(&format!(
            " (at {location}); the other sources were read and judged, and the failed \
             source's checks report errors"
        ));
        // Jobs and restores are whole files that lack the failed sources' records; the
        // sources population still describes every source, the failed ones included.
        let scopes: Vec<String> = std::iter::once(name)
            .chain(rest.iter().map(|(n, _)| n))
            .map(|n| n.to_string())
            .collect();
        jobs.finish_incomplete_for(&scopes, &why)?;
        restores.finish_incomplete_for(&scopes, &why)?;
        sources.finish()?;
        Err(CollectError::PartlyFailed(why))
    }
}

/// Records one source's files, counts and notes into each population's provenance.
fn record_source(
    recorders: [&mut ProvenanceRecorder; 3],
    cfg: &SourceConfig,
    outcome: &SourceOutcome,
) {
    let lines: u64 = outcome.record.files.iter().map(|f| f.lines).sum();
    let skipped: u64 = outcome.record.files.iter().map(|f| f.skipped_lines).sum();
    let summary = format!(
        "{}: {} file(s), {lines} line(s) read, {skipped} non-JSON line(s) skipped, {} \
         backup run(s) and {} restore(s) kept",
        cfg.name,
        outcome.record.files.len(),
        outcome.jobs.len(),
        outcome.restores.len()
    );
    for rec in recorders {
        for f in &outcome.record.files {
            let bytes = f.bytes.to_string();
            let lines = f.lines.to_string();
            let skipped = f.skipped_lines.to_string();
            let params = [
                ("source", cfg.name.as_str()),
                ("format", cfg.format.as_str()),
                ("sha256", f.sha256.as_str()),
                ("bytes", bytes.as_str()),
                ("lines", lines.as_str()),
                ("skipped_non_json_lines", skipped.as_str()),
            ];
            // The digest of each file stands in for its body: the files themselves can be
            // gigabytes, and their own SHA-256 is already in the parameters.
            let digest = hex::decode(&f.sha256).unwrap_or_default();
            rec.page("read", &f.path, &params, &digest);
        }
        rec.note(summary.clone());
        for n in &outcome.notes {
            rec.note(n.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn restore(status: JobStatus, validation: Option<&str>, origin: &str) -> RestoreJob {
        RestoreJob {
            source: Some("rds-prod".into()),
            tool: "aws-backup".into(),
            id: "r-1".into(),
            started: t("2026-03-10T10:00:00Z"),
            finished: None,
            local_date: t("2026-03-10T10:00:00Z").date_naive(),
            status,
            tool_status: format!("{status:?}").to_uppercase(),
            validation: validation.map(String::from),
            validated: validation.map(|v| v == "SUCCESSFUL"),
            target: None,
            message: None,
            origins: vec![origin.into()],
        }
    }

    #[test]
    fn one_restore_in_two_exports_is_merged_with_the_finished_validation() {
        let (merged, n) = merge_same_runs(vec![
            restore(JobStatus::Running, Some("VALIDATING"), "a.json:3"),
            restore(JobStatus::Succeeded, Some("SUCCESSFUL"), "b.json:7"),
        ]);
        assert_eq!(n, 1);
        assert_eq!(merged.len(), 1);
        let r = &merged[0];
        assert_eq!(r.status, JobStatus::Succeeded);
        assert_eq!(r.validation.as_deref(), Some("SUCCESSFUL"));
        assert_eq!(r.validated, Some(true));
        assert_eq!(r.origins, ["a.json:3", "b.json:7"]);
        assert!(r.proves_restore());
    }

    #[test]
    fn a_logged_time_replaces_an_estimated_one_and_the_worse_status_wins() {
        let job = |status, estimated, started: &str, origin: &str| BackupJob {
            source: "db-01".into(),
            tool: "restic".into(),
            id: "4f2e".into(),
            started: t(started),
            finished: None,
            local_date: t(started).date_naive(),
            status,
            tool_status: if estimated { "snapshot" } else { "summary" }.into(),
            size: None,
            target: None,
            message: None,
            origins: vec![origin.into()],
            estimated_time: estimated,
            resource: None,
            conflicts: Vec::new(),
        };
        let (merged, n) = merge_same_runs(vec![
            job(
                JobStatus::Succeeded,
                true,
                "2026-03-05T00:00:00+01:00",
                "snapshots.json:1",
            ),
            job(
                JobStatus::Partial,
                false,
                "2026-03-04T23:30:00+01:00",
                "run.log:9",
            ),
        ]);
        assert_eq!((merged.len(), n), (1, 1));
        let j = &merged[0];
        assert_eq!(j.status, JobStatus::Partial);
        assert_eq!(j.tool_status, "snapshot + summary");
        assert_eq!(j.local_date.to_string(), "2026-03-04");
        assert!(!j.estimated_time);
        assert_eq!(j.origins, ["snapshots.json:1", "run.log:9"]);
    }
}
