//! restic: `backup --json` run logs (JSON Lines, possibly with stderr and shell noise mixed
//! in) and `snapshots --json` (a JSON array).
//!
//! A run ends with a `summary` line (a snapshot was created) or an `exit_error` line. A run
//! whose log also holds `error` lines, the `Warning: at least one source file could not be
//! read` line, or an `exit_error` with code 3 created a snapshot with warnings: `partial`.
//! Any other exit code is a failure. restic prints no time for failed runs; their time is
//! taken from the file name or, failing that, the file's modification time (the record's
//! message says which). `status` lines — almost all of a run log — are skipped by a prefix
//! test before any JSON parsing.

use std::io::Read;

use serde::Deserialize;

use super::{FileContext, Lines, ParseError, Parsed};
use crate::backups::records::{shorten, BackupJob, JobStatus};
use crate::backups::time;

const TOOL: &str = "restic";

#[derive(Deserialize)]
struct Summary {
    #[serde(default)]
    snapshot_id: Option<String>,
    #[serde(default)]
    backup_start: Option<String>,
    #[serde(default)]
    backup_end: Option<String>,
    #[serde(default)]
    total_bytes_processed: Option<u64>,
    #[serde(default)]
    dry_run: bool,
}

#[derive(Deserialize)]
struct Snapshot {
    time: String,
    id: String,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    summary: Option<Summary>,
}

/// Whether a line is a progress line that never matters (checked before JSON parsing).
fn is_progress(line: &[u8]) -> bool {
    line.starts_with(br#"{"message_type":"status""#)
        || line.starts_with(br#"{"message_type":"verbose_status""#)
}

#[derive(Default)]
struct Run {
    errors: Vec<String>,
    warned: bool,
    active: bool,
    first_line: u64,
}

impl Run {
    /// A run whose first line is `line`.
    fn starting_at(line: u64) -> Self {
        Run {
            active: true,
            first_line: line,
            ..Run::default()
        }
    }
}

/// How many `status` lines after a `summary`, with nothing else after them, are still read as
/// progress output of the run that summary ended. restic 0.9.x writes its progress and its
/// summary from two goroutines (restic#2389, restic#2810): the summary can be printed twice
/// and a status line can follow it. A new run prints status lines ten or more times a second,
/// so a longer tail is a run of its own that ended without a summary.
const MAX_TRAILING_STATUS: u64 = 3;

/// Parses one restic file.
pub fn parse<R: Read>(lines: &mut Lines<R>, ctx: &FileContext) -> Result<Parsed, ParseError> {
    let mut out = Parsed::default();
    let mut run = Run::default();
    // Index of the last run that ended with a summary, while no new run has begun: a trailing
    // warning line, a repeated summary or `exit_error` code 3 belongs to it.
    let mut last_summary: Option<usize> = None;
    // Status lines read after that summary: (count, first line). They belong to it unless
    // another run's message follows them.
    let mut trailing = (0u64, 0u64);
    let (mut dry_runs, mut repeated) = (0u64, 0u64);
    let mut trailing_read = 0u64;
    while lines.advance()? {
        let line = lines.line();
        if is_progress(line) {
            lines.count_document();
            if last_summary.is_some() && !run.active {
                if trailing.0 == 0 {
                    trailing.1 = lines.line_no();
                }
                trailing.0 += 1;
                if trailing.0 > MAX_TRAILING_STATUS {
                    // Too much progress for a stray line: a new run has begun.
                    run = Run::starting_at(trailing.1);
                    last_summary = None;
                    trailing = (0, 0);
                }
                continue;
            }
            if !run.active {
                run = Run::starting_at(lines.line_no());
            }
            last_summary = None;
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if !line.starts_with(b"{") && !line.starts_with(b"[") {
            let warning = memchr::memmem::find(line, b"could not be read").is_some();
            lines.skip();
            if warning {
                match last_summary {
                    Some(i) => mark_partial(&mut out.jobs[i], "source files could not be read"),
                    None => run.warned = true,
                }
            }
            continue;
        }
        let Some(doc) = lines.document()? else {
            continue;
        };
        if doc.bytes.first() == Some(&b'[') {
            let snapshots: Vec<Snapshot> = doc.parse("restic snapshots --json array")?;
            for s in snapshots {
                out.jobs.push(snapshot_job(s, ctx, doc.line)?);
            }
            continue;
        }
        let value: serde_json::Value = doc.parse("restic JSON message")?;
        let kind = value
            .get("message_type")
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                ParseError::at(
                    doc.line,
                    "JSON object without a message_type: not restic --json output",
                )
            })?;
        // Another run's message after status lines that followed a summary: those status
        // lines were that run's start, unless this is the summary printed again.
        let opens_run = matches!(kind, "summary" | "error" | "exit_error");
        if opens_run && trailing.0 > 0 {
            let again = kind == "summary" && repeats(&value, last_summary.map(|i| &out.jobs[i]));
            if !again && kind != "exit_error" {
                run = Run::starting_at(trailing.1);
                last_summary = None;
            }
            trailing = (0, 0);
        }
        match kind {
            "summary" => {
                if !run.active && repeats(&value, last_summary.map(|i| &out.jobs[i])) {
                    repeated += 1;
                    if let Some(i) = last_summary {
                        out.jobs[i].origins.push(ctx.at(doc.line));
                    }
                    continue;
                }
                let s: Summary = serde_json::from_value(value)
                    .map_err(|e| ParseError::at(doc.line, format!("bad restic summary: {e}")))?;
                if s.dry_run {
                    dry_runs += 1;
                    run = Run::default();
                    continue;
                }
                let job = summary_job(s, &run, ctx, doc.line)?;
                out.jobs.push(job);
                last_summary = Some(out.jobs.len() - 1);
                run = Run::default();
            }
            "error" => {
                // restic ≥ 0.10 nests the message (`error.message`); 0.9.x wrote a string.
                let msg = value
                    .pointer("/error/message")
                    .or_else(|| value.get("error"))
                    .and_then(|v| v.as_str())
                    .unwrap_or("error");
                let item = value.get("item").and_then(|v| v.as_str()).unwrap_or("");
                if !run.active {
                    run.active = true;
                    run.first_line = doc.line;
                }
                last_summary = None;
                run.errors.push(format!("{item}: {msg}"));
            }
            "exit_error" => {
                let code = value.get("code").and_then(|v| v.as_i64()).unwrap_or(1);
                let msg = value
                    .get("message")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string();
                match (code, last_summary) {
                    (3, Some(i)) => {
                        mark_partial(&mut out.jobs[i], &msg);
                        out.jobs[i].tool_status = "exit 3".into();
                    }
                    _ => {
                        let first = if run.active { run.first_line } else { doc.line };
                        let mut job = failed_job(ctx, first, code, &msg, &run)?;
                        job.origins = vec![ctx.at(doc.line)];
                        out.jobs.push(job);
                    }
                }
                last_summary = None;
                run = Run::default();
            }
            // `verbose_status` (with --verbose) and message types of later versions carry
            // no outcome.
            _ => {}
        }
    }
    trailing_read += trailing.0;
    if run.active {
        let msg = "the log ends without a summary or exit_error: the run was interrupted or \
                   is still running";
        let mut job = failed_job(ctx, run.first_line, -1, msg, &run)?;
        job.tool_status = "no summary".into();
        out.jobs.push(job);
    }
    if dry_runs > 0 {
        out.notes.push(format!(
            "{}: {dry_runs} dry-run summaries ignored (no snapshot was created)",
            ctx.file
        ));
    }
    if repeated > 0 || trailing_read > 0 {
        out.notes.push(format!(
            "{}: {repeated} repeated summary line(s) and {trailing_read} status line(s) after \
             the last summary were read as part of the run that summary ended (restic 0.9.x \
             prints its summary and progress concurrently), not as further runs",
            ctx.file
        ));
    }
    Ok(out)
}

/// Whether `summary` repeats the summary of `previous`, the run just ended: the same snapshot
/// id, or neither names one.
fn repeats(summary: &serde_json::Value, previous: Option<&BackupJob>) -> bool {
    let Some(p) = previous else {
        return false;
    };
    match summary.get("snapshot_id").and_then(|v| v.as_str()) {
        Some(id) => p.id == id,
        None => p.id.starts_with("run@"),
    }
}

fn mark_partial(job: &mut BackupJob, why: &str) {
    job.status = job.status.worse(JobStatus::Partial);
    if job.message.is_none() && !why.is_empty() {
        job.message = Some(shorten(why));
    }
}

fn summary_job(
    s: Summary,
    run: &Run,
    ctx: &FileContext,
    line: u64,
) -> Result<BackupJob, ParseError> {
    let parse = |t: &Option<String>, what: &str| -> Result<_, ParseError> {
        match t {
            None => Ok(None),
            Some(t) => time::parse_text(t, ctx.tz)
                .map(Some)
                .ok_or_else(|| ParseError::at(line, format!("summary {what} {t:?} is not a time"))),
        }
    };
    let finished = parse(&s.backup_end, "backup_end")?;
    let mut estimated = false;
    let (started, mut message) = match parse(&s.backup_start, "backup_start")? {
        Some(t) => (t, None),
        None => {
            let (t, from) = ctx.fallback_time.clone().ok_or_else(|| {
                ParseError::at(line, "summary has no backup_start and no fallback time")
            })?;
            estimated = true;
            (
                t,
                Some(format!(
                    "no backup_start in the summary (restic < 0.17): time taken from {from}"
                )),
            )
        }
    };
    let partial = run.warned || !run.errors.is_empty();
    if partial {
        message = Some(shorten(&format!(
            "{} file(s) could not be read: {}",
            run.errors.len(),
            run.errors
                .first()
                .map(String::as_str)
                .unwrap_or("see the log")
        )));
    }
    let id = s
        .snapshot_id
        .clone()
        .unwrap_or_else(|| format!("run@{}", ctx.at(line)));
    Ok(BackupJob {
        source: ctx.source.clone(),
        tool: TOOL.into(),
        id,
        local_date: started.date_naive(),
        started,
        finished,
        status: if partial {
            JobStatus::Partial
        } else {
            JobStatus::Succeeded
        },
        tool_status: if partial {
            "summary with errors"
        } else {
            "summary"
        }
        .into(),
        size: s.total_bytes_processed,
        target: None,
        message,
        origins: vec![ctx.at(line)],
        estimated_time: estimated,
        resource: None,
        conflicts: Vec::new(),
    })
}

fn failed_job(
    ctx: &FileContext,
    line: u64,
    code: i64,
    msg: &str,
    run: &Run,
) -> Result<BackupJob, ParseError> {
    let (started, from) = ctx.fallback_time.clone().ok_or_else(|| {
        ParseError::at(line, "failed run, and no time in the file name or metadata")
    })?;
    let mut message = msg.to_string();
    if let Some(e) = run.errors.first() {
        message.push_str(&format!("; first error: {e}"));
    }
    message.push_str(&format!(
        " (restic logs no time for failed runs: time taken from {from})"
    ));
    let status = if code == 3 {
        JobStatus::Partial
    } else {
        JobStatus::Failed
    };
    Ok(BackupJob {
        source: ctx.source.clone(),
        tool: TOOL.into(),
        id: format!("run@{}", ctx.at(line)),
        local_date: started.date_naive(),
        started,
        finished: None,
        status,
        tool_status: format!("exit {code}"),
        size: None,
        target: None,
        message: Some(shorten(&message)),
        origins: vec![ctx.at(line)],
        estimated_time: true,
        resource: None,
        conflicts: Vec::new(),
    })
}

fn snapshot_job(s: Snapshot, ctx: &FileContext, line: u64) -> Result<BackupJob, ParseError> {
    let started = time::parse_text(&s.time, ctx.tz).ok_or_else(|| {
        ParseError::at(
            line,
            format!("snapshot {} time {:?} is not a time", s.id, s.time),
        )
    })?;
    let summary = s.summary.as_ref();
    let finished = summary
        .and_then(|x| x.backup_end.as_deref())
        .and_then(|t| time::parse_text(t, ctx.tz));
    let mut target = s.paths.join(", ");
    if let Some(h) = &s.hostname {
        target = format!("{h}:{target}");
    }
    Ok(BackupJob {
        source: ctx.source.clone(),
        tool: TOOL.into(),
        id: s.id,
        local_date: started.date_naive(),
        started,
        finished,
        status: JobStatus::Succeeded,
        tool_status: "snapshot".into(),
        size: summary.and_then(|x| x.total_bytes_processed),
        target: Some(target),
        message: None,
        origins: vec![ctx.at(line)],
        estimated_time: false,
        resource: None,
        conflicts: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> FileContext {
        let tz = time::parse_zone("UTC").unwrap();
        FileContext {
            source: "db".into(),
            tz,
            file: "r.log".into(),
            fallback_time: time::from_file_name("2026-03-04", tz)
                .map(|t| (t, "the file name".into())),
        }
    }

    fn run(text: &str) -> Result<Parsed, ParseError> {
        let mut lines = Lines::new(text.as_bytes());
        parse(&mut lines, &ctx())
    }

    #[test]
    fn summary_error_warning_and_exit_codes() {
        let p = run(concat!(
            "{\"message_type\":\"status\",\"percent_done\":0.5}\n",
            "{\"message_type\":\"summary\",\"snapshot_id\":\"aa\",\"backup_start\":\"2026-03-04T02:00:00+01:00\",\"backup_end\":\"2026-03-04T02:05:00+01:00\",\"total_bytes_processed\":10}\n",
            "{\"message_type\":\"status\",\"percent_done\":0.1}\n",
            "{\"message_type\":\"error\",\"error\":{\"message\":\"permission denied\"},\"during\":\"archival\",\"item\":\"/etc/shadow\"}\n",
            "{\"message_type\":\"summary\",\"snapshot_id\":\"bb\",\"backup_start\":\"2026-03-05T02:00:00+01:00\"}\n",
            "Warning: at least one source file could not be read\n",
            "{\"message_type\":\"exit_error\",\"code\":12,\"message\":\"Fatal: wrong password or no key found\"}\n",
        ))
        .unwrap();
        let s: Vec<_> = p.jobs.iter().map(|j| (j.id.as_str(), j.status)).collect();
        assert_eq!(s[0], ("aa", JobStatus::Succeeded));
        assert_eq!(s[1], ("bb", JobStatus::Partial));
        assert_eq!(s[2].1, JobStatus::Failed);
        assert_eq!(p.jobs[0].local_date.to_string(), "2026-03-04");
        assert_eq!(p.jobs[2].tool_status, "exit 12");
        assert!(p.jobs[2].message.as_deref().unwrap().contains("file name"));
    }

    /// restic 0.9.5/0.9.6 `backup --json` (restic#2389, restic#2810): no `backup_start` in the
    /// summary, the summary printed twice and a status line after it.
    const RESTIC_09_RACE: &str = concat!(
        "{\"message_type\":\"status\",\"percent_done\":0,\"total_files\":1,\"total_bytes\":9358}\n",
        "{\"message_type\":\"status\",\"percent_done\":0.5351128130287102,\"total_files\":428,\"files_done\":218,\"total_bytes\":2168012,\"bytes_done\":1160131,\"current_files\":[\"/pkg/a.go\"]}\n",
        "{\"message_type\":\"summary\",\"files_new\":0,\"files_changed\":0,\"files_unmodified\":49180,\"dirs_new\":0,\"dirs_changed\":2,\"dirs_unmodified\":0,\"data_blobs\":0,\"tree_blobs\":3,\"data_added\":1358,\"total_files_processed\":49180,\"total_bytes_processed\":121410184143,\"total_duration\":120.464916853,\"snapshot_id\":\"56ae882c\"}\n",
        "{\"message_type\":\"summary\",\"files_new\":0,\"files_changed\":0,\"files_unmodified\":49180,\"dirs_new\":0,\"dirs_changed\":2,\"dirs_unmodified\":0,\"data_blobs\":0,\"tree_blobs\":3,\"data_added\":1358,\"total_files_processed\":49180,\"total_bytes_processed\":121410184143,\"total_duration\":120.464916853,\"snapshot_id\":\"56ae882c\"}\n",
        "{\"message_type\":\"status\",\"seconds_elapsed\":120,\"percent_done\":1,\"total_files\":49180,\"files_done\":49180,\"total_bytes\":121410184143,\"bytes_done\":121410184143}\n",
    );

    #[test]
    fn a_repeated_summary_and_a_trailing_status_are_one_successful_run() {
        let p = run(RESTIC_09_RACE).unwrap();
        assert_eq!(p.jobs.len(), 1, "{:?}", p.jobs);
        let j = &p.jobs[0];
        assert_eq!(
            (j.id.as_str(), j.status),
            ("56ae882c", JobStatus::Succeeded)
        );
        assert_eq!(j.origins, ["r.log:3", "r.log:4"]);
        assert!(p.notes[0].contains("1 repeated summary"), "{:?}", p.notes);
        // The same shape followed by a run that really began and died is still two runs.
        let mut text = RESTIC_09_RACE.to_string();
        for _ in 0..5 {
            text.push_str("{\"message_type\":\"status\",\"percent_done\":0.01}\n");
        }
        let p = run(&text).unwrap();
        assert_eq!(p.jobs.len(), 2);
        assert_eq!(p.jobs[1].status, JobStatus::Failed);
        assert_eq!(p.jobs[1].id, "run@r.log:5");
        // A trailing status followed by an error opened the next run.
        let text = format!(
            "{RESTIC_09_RACE}{}",
            "{\"message_type\":\"error\",\"error\":\"lstat /x: permission denied\",\"during\":\"archival\",\"item\":\"/x\"}\n"
        );
        let p = run(&text).unwrap();
        assert_eq!(p.jobs.len(), 2);
        assert_eq!(p.jobs[0].status, JobStatus::Succeeded);
        assert!(p.jobs[1]
            .message
            .as_deref()
            .unwrap()
            .contains("permission denied"));
    }

    #[test]
    fn interrupted_runs_and_non_restic_json() {
        let p = run("{\"message_type\":\"status\",\"percent_done\":0.5}\n").unwrap();
        assert_eq!(p.jobs[0].status, JobStatus::Failed);
        let err = run("{\"foo\":1}\n").unwrap_err();
        assert_eq!(err.line, 1);
        let err = run("ok\n{\"message_type\":\"summary\",\"snapshot_id\":\n").unwrap_err();
        assert_eq!(err.line, 2, "{err:?}");
    }
}
