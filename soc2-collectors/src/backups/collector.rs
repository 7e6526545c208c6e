//! Reading every source's files and writing the normalised populations.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::{
    AuditPeriod, CollectContext, CollectError, Collector, Evidence, EvidenceSink, EvidenceSinkExt,
    ProvenanceRecorder,
};

use super::config::{BackupsConfig, Format, SourceConfig};
use super::formats::{self, FileContext, Lines, ParseError, Parsed};
use super::records::{
    BackupJob, BackupSource, JobStatus, RestoreJob, SourceFile, COLLECTOR, JOBS, RESTORES, SOURCES,
};
use super::time;

/// Reads backup and restore logs from files (see the [module docs](super)).
#[derive(Debug, Clone)]
pub struct BackupsCollector {
    config: BackupsConfig,
    base_dir: PathBuf,
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
    /// Builds the collector; relative globs are resolved against `base_dir` (the config
    /// file's directory). Invalid names, zones or globs are reported here.
    pub fn new(config: BackupsConfig, base_dir: &Path) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            config,
            base_dir: base_dir.to_path_buf(),
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

/// Reads one source: expands its glob and parses every file. Blocking; run it off the async
/// runtime.
pub fn read_source(
    cfg: &SourceConfig,
    base_dir: &Path,
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
        },
        jobs: Vec::new(),
        restores: Vec::new(),
        notes: Vec::new(),
        received: Vec::new(),
        failure: None,
    };
    match read_files(cfg, base_dir, &mut out) {
        Ok((jobs, restores)) => {
            let (jobs, merged) = merge_jobs(jobs);
            if merged > 0 {
                out.notes.push(format!(
                    "{}: {merged} backup record(s) described a run already read from another \
                     file (same id) and were merged into it",
                    cfg.name
                ));
            }
            let (restores, _) = merge_restores(restores);
            let in_window = |t: &DateTime<chrono::FixedOffset>| {
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

fn read_files(
    cfg: &SourceConfig,
    base_dir: &Path,
    out: &mut SourceOutcome,
) -> Result<Records, (String, String)> {
    let tz = time::parse_zone(&cfg.timezone).map_err(|m| (cfg.name.clone(), m))?;
    let pattern = if Path::new(&cfg.path).is_absolute() {
        cfg.path.clone()
    } else {
        let base = glob::Pattern::escape(&base_dir.display().to_string());
        format!("{base}/{}", cfg.path)
    };
    let paths = glob::glob(&pattern).map_err(|e| (pattern.clone(), format!("bad glob: {e}")))?;
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
            pattern,
            format!("no files match the path of backup source {:?}", cfg.name),
        ));
    }
    let (mut jobs, mut restores) = (Vec::new(), Vec::new());
    for path in files {
        let shown = path.display().to_string();
        let (parsed, stats) = read_file(cfg, &path, &shown, tz).map_err(|e| {
            let at = if e.line > 0 {
                format!("{shown}:{}", e.line)
            } else {
                shown.clone()
            };
            (
                at,
                format!("{} ({} output)", e.message, cfg.format.as_str()),
            )
        })?;
        out.received.push((
            shown.clone(),
            parsed.jobs.len() as u64,
            parsed.restores.len() as u64,
        ));
        out.notes.extend(parsed.notes);
        out.record.files.push(SourceFile {
            path: shown,
            sha256: stats.sha256,
            bytes: stats.bytes,
            lines: stats.lines,
            skipped_lines: stats.skipped,
        });
        jobs.extend(parsed.jobs);
        restores.extend(parsed.restores);
    }
    Ok((jobs, restores))
}

fn read_file(
    cfg: &SourceConfig,
    path: &Path,
    shown: &str,
    tz: chrono_tz::Tz,
) -> Result<(Parsed, formats::FileStats), ParseError> {
    let file = File::open(path).map_err(|e| ParseError::at(0, format!("cannot open: {e}")))?;
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
    let ctx = FileContext {
        source: cfg.name.clone(),
        tz,
        file: shown.to_string(),
        fallback_time,
    };
    let mut lines = Lines::new(file);
    let parsed = match cfg.format {
        Format::Restic => formats::restic::parse(&mut lines, &ctx)?,
        Format::Borg => formats::borg::parse(&mut lines, &ctx)?,
        Format::AwsBackup => formats::aws::parse(&mut lines, &ctx)?,
        Format::Pgbackrest => formats::pgbackrest::parse(&mut lines, &ctx)?,
        Format::Jsonl => formats::jsonl::parse(&mut lines, &ctx)?,
    };
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

/// Merges records of the same run (same id): a restic snapshot list and the run log that
/// created it, one AWS job in two exports, one pgBackRest backup in daily `info` dumps.
/// Returns the runs and how many records were merged away.
pub fn merge_jobs(jobs: Vec<BackupJob>) -> (Vec<BackupJob>, usize) {
    let total = jobs.len();
    let mut by_id: BTreeMap<String, BackupJob> = BTreeMap::new();
    for j in jobs {
        match by_id.get_mut(&j.id) {
            None => {
                by_id.insert(j.id.clone(), j);
            }
            Some(a) => {
                let (status, tool_status) =
                    merge_status((a.status, &a.tool_status), (j.status, &j.tool_status));
                a.status = status;
                a.tool_status = tool_status;
                if a.estimated_time && !j.estimated_time {
                    a.started = j.started;
                    a.local_date = j.local_date;
                    a.estimated_time = false;
                }
                a.finished = a.finished.or(j.finished);
                a.size = a.size.or(j.size);
                a.target = a.target.take().or(j.target);
                a.message = a.message.take().or(j.message);
                for o in j.origins {
                    if !a.origins.contains(&o) {
                        a.origins.push(o);
                    }
                }
            }
        }
    }
    let merged = total - by_id.len();
    (by_id.into_values().collect(), merged)
}

fn merge_restores(restores: Vec<RestoreJob>) -> (Vec<RestoreJob>, usize) {
    let total = restores.len();
    let mut by_id: BTreeMap<String, RestoreJob> = BTreeMap::new();
    for r in restores {
        match by_id.get_mut(&r.id) {
            None => {
                by_id.insert(r.id.clone(), r);
            }
            Some(a) => {
                let (status, tool_status) =
                    merge_status((a.status, &a.tool_status), (r.status, &r.tool_status));
                if a.status == JobStatus::Running && r.status != JobStatus::Running {
                    a.validation = r.validation.clone();
                    a.validated = r.validated;
                }
                a.status = status;
                a.tool_status = tool_status;
                a.finished = a.finished.or(r.finished);
                a.validation = a.validation.take().or(r.validation);
                a.validated = a.validated.or(r.validated);
                for o in r.origins {
                    if !a.origins.contains(&o) {
                        a.origins.push(o);
                    }
                }
            }
        }
    }
    let merged = total - by_id.len();
    (by_id.into_values().collect(), merged)
}

#[async_trait]
impl Collector for BackupsCollector {
    fn name(&self) -> &str {
        COLLECTOR
    }

    async fn collect(
        &self,
        ctx: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let version = env!("CARGO_PKG_VERSION");
        let source = "backup tool logs and exports (files)";
        let mut recs = [
            ProvenanceRecorder::new(JOBS, BackupJob::KIND, source, COLLECTOR, version),
            ProvenanceRecorder::new(RESTORES, RestoreJob::KIND, source, COLLECTOR, version),
            ProvenanceRecorder::new(SOURCES, BackupSource::KIND, source, COLLECTOR, version),
        ];
        recs[0].criteria(BackupJob::CRITERIA);
        recs[1].criteria(RestoreJob::CRITERIA);
        recs[2].criteria(BackupSource::CRITERIA);
        let window = self.window(ctx.period());
        let mut failures = Vec::new();
        for cfg in &self.config.source {
            ctx.check_cancelled()?;
            ctx.message(&format!("reading {} ({})", cfg.name, cfg.format.as_str()));
            let (c, base, w) = (cfg.clone(), self.base_dir.clone(), window);
            let outcome = tokio::task::spawn_blocking(move || read_source(&c, &base, w))
                .await
                .map_err(|e| CollectError::Panicked(e.to_string()))?;
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
                let digest = hex::decode(&f.sha256).unwrap_or_default();
                for r in recs.iter_mut() {
                    r.page("read", &f.path, &params, &digest);
                }
            }
            for (file, jobs, restores) in &outcome.received {
                recs[0].received(file, *jobs);
                recs[1].received(file, *restores);
            }
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
            for r in recs.iter_mut() {
                r.note(summary.clone());
                for n in &outcome.notes {
                    r.note(n.clone());
                }
            }
            if let Some(f) = &outcome.failure {
                failures.push((cfg.name.clone(), f.clone()));
            } else {
                for j in &outcome.jobs {
                    sink.emit(JOBS, j)?;
                }
                for r in &outcome.restores {
                    sink.emit(RESTORES, r)?;
                }
            }
            recs[2].received("sources", 1);
            sink.emit(SOURCES, &outcome.record)?;
        }
        let note = "response_sha256 is the SHA-256 over the files' own SHA-256 digests, in the \
                    order read; each file's digest is in its endpoint's parameters";
        let complete = failures.is_empty();
        for r in recs {
            let mut r = r;
            r.note(note);
            sink.provenance(r.finish(complete))?;
        }
        match failures.split_first() {
            None => Ok(()),
            Some(((name, (location, message)), rest)) => {
                let mut message = format!("backup source {name:?}: {message}");
                for (n, (l, m)) in rest {
                    message.push_str(&format!("; backup source {n:?} also failed: {l}: {m}"));
                }
                message.push_str(&format!(
                    " (at {location}); the other sources were read and judged, and the failed \
                     source's checks report errors"
                ));
                Err(CollectError::PartlyFailed(message))
            }
        }
    }
}
