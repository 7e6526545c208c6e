//! borg 1.2/1.4: `create --json` (one pretty-printed object per run), `list --json` (the
//! archives in the repository) and `--log-json` stderr lines, possibly captured together.
//!
//! Dates in `create`/`list` output are local times without a zone and are placed in the
//! configured zone. The return code comes from `--show-rc` (`terminating with warning status,
//! rc 1`, as a log message or plain text): rc 1 means the archive was created with warnings
//! (`partial`), rc 2 and above is a failure. Without an rc, warnings logged during the run make
//! it `partial`. A failed run has no archive; it is dated by its log messages' epoch times.

use std::io::Read;

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

use super::{FileContext, Lines, ParseError, Parsed};
use crate::backups::records::{shorten, BackupJob, JobStatus};
use crate::backups::time;

const TOOL: &str = "borg";

#[derive(Deserialize)]
struct Stats {
    #[serde(default)]
    original_size: Option<u64>,
}

#[derive(Deserialize)]
struct Archive {
    id: String,
    #[serde(default)]
    name: Option<String>,
    start: String,
    #[serde(default)]
    end: Option<String>,
    #[serde(default)]
    stats: Option<Stats>,
}

#[derive(Deserialize)]
struct Create {
    archive: Archive,
}

#[derive(Deserialize)]
struct List {
    archives: Vec<Archive>,
}

#[derive(Deserialize)]
struct LogMessage {
    #[serde(default)]
    time: Option<f64>,
    #[serde(default)]
    levelname: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Default)]
struct Run {
    started: Option<DateTime<FixedOffset>>,
    first_line: u64,
    warnings: Vec<String>,
    errors: Vec<String>,
}

/// The rc in a `--show-rc` line: `terminating with warning status, rc 1`.
fn return_code(message: &str) -> Option<i64> {
    let rest = message.split("terminating with").nth(1)?;
    let rc = rest.split("rc ").nth(1)?;
    let digits: String = rc.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Parses one borg file on its own (see [`Session`] for a run split over two files).
pub fn parse<R: Read>(lines: &mut Lines<R>, ctx: &FileContext) -> Result<Parsed, ParseError> {
    let mut session = Session::default();
    session.read(lines, ctx)?;
    session.finish(ctx, lines.line_no())
}

/// The state of one borg run read from one or more files: `borg create --json` prints the
/// archive on stdout and `--log-json` writes warnings and the return code to stderr, so a run
/// captured into `create-2026-04-29.json` and `create-2026-04-29.stderr.jsonl` is one job.
/// Read the stdout file first (the collector orders each group so), then the stderr file:
/// the return code that follows the archive applies to it.
#[derive(Default)]
pub struct Session {
    out: Parsed,
    run: Run,
    last_archive: Option<usize>,
}

impl Session {
    /// Backup records read so far.
    pub fn jobs_read(&self) -> usize {
        self.out.jobs.len()
    }

    /// Reads one file of the run.
    pub fn read<R: Read>(
        &mut self,
        lines: &mut Lines<R>,
        ctx: &FileContext,
    ) -> Result<(), ParseError> {
        let Session {
            out,
            run,
            last_archive,
        } = self;
        while lines.advance()? {
            let line_no = lines.line_no();
            let Some(doc) = lines.document()? else {
                let text = String::from_utf8_lossy(lines.line()).to_string();
                if let Some(rc) = return_code(&text) {
                    finish_run(out, run, last_archive, rc, None, ctx, line_no)?;
                }
                continue;
            };
            let value: serde_json::Value = doc.parse("borg JSON document")?;
            if value.get("archive").is_some() {
                let c: Create = serde_json::from_value(value).map_err(|e| {
                    ParseError::at(doc.line, format!("bad borg create --json: {e}"))
                })?;
                let mut job = archive_job(c.archive, ctx, doc.line)?;
                job.tool_status = "create".into();
                let noted: Vec<&String> = run.errors.iter().chain(&run.warnings).collect();
                if !noted.is_empty() {
                    job.status = JobStatus::Partial;
                    job.tool_status = "create with warnings".into();
                    job.message = Some(shorten(&format!(
                        "{} warning(s) logged: {}",
                        noted.len(),
                        noted[0]
                    )));
                }
                out.jobs.push(job);
                *last_archive = Some(out.jobs.len() - 1);
                *run = Run::default();
            } else if let Some(list) = value.get("archives") {
                if !list.is_array() {
                    return Err(ParseError::at(
                        doc.line,
                        "borg list/info --json: archives is not a list",
                    ));
                }
                let l: List = serde_json::from_value(value).map_err(|e| {
                    ParseError::at(doc.line, format!("bad borg list/info --json: {e}"))
                })?;
                for a in l.archives {
                    let mut job = archive_job(a, ctx, doc.line)?;
                    job.tool_status = "archive".into();
                    out.jobs.push(job);
                }
            } else if value.get("type").and_then(|t| t.as_str()) == Some("log_message") {
                let m: LogMessage = serde_json::from_value(value)
                    .map_err(|e| ParseError::at(doc.line, format!("bad borg log message: {e}")))?;
                let text = m.message.unwrap_or_default();
                let at = m.time.and_then(|t| time::from_epoch(t, ctx.tz));
                if let Some(rc) = return_code(&text) {
                    finish_run(out, run, last_archive, rc, at, ctx, doc.line)?;
                    continue;
                }
                if run.started.is_none() {
                    run.started = at;
                    run.first_line = doc.line;
                }
                match m.levelname.as_deref() {
                    Some("WARNING") => run.warnings.push(text),
                    Some("ERROR" | "CRITICAL") => run.errors.push(text),
                    _ => {}
                }
            } else if value.get("type").is_some() {
                // Progress and file-status messages.
            } else {
                return Err(ParseError::at(
                    doc.line,
                    "JSON without archive, archives or type: not borg --json output",
                ));
            }
        }
        Ok(())
    }

    /// Ends the run after its last file (`line` is that file's last line).
    pub fn finish(mut self, ctx: &FileContext, line: u64) -> Result<Parsed, ParseError> {
        let logged = !self.run.errors.is_empty() || !self.run.warnings.is_empty();
        match self.last_archive {
            // Warnings or errors in the stderr of a run whose archive was created, and no
            // return code: the archive exists, with warnings.
            Some(i) if logged => {
                let job = &mut self.out.jobs[i];
                job.status = job.status.worse(JobStatus::Partial);
                job.tool_status = "create with warnings".into();
                note_logged(job, &self.run, ctx, line);
            }
            Some(_) => {}
            None if !self.run.errors.is_empty() => {
                // Errors logged, and neither an archive nor a return code: the run did not
                // finish.
                finish_run(&mut self.out, &mut self.run, &mut None, 2, None, ctx, line)?;
            }
            None => {}
        }
        Ok(self.out)
    }
}

/// Adds what the stderr of a run logged to its archive's record.
fn note_logged(job: &mut BackupJob, run: &Run, ctx: &FileContext, line: u64) {
    let noted: Vec<&String> = run.errors.iter().chain(&run.warnings).collect();
    if let (None, Some(first)) = (&job.message, noted.first()) {
        job.message = Some(shorten(&format!(
            "{} warning(s) logged: {first}",
            noted.len()
        )));
    }
    let origin = ctx.at(line);
    if !job.origins.contains(&origin) {
        job.origins.push(origin);
    }
}

fn finish_run(
    out: &mut Parsed,
    run: &mut Run,
    last_archive: &mut Option<usize>,
    rc: i64,
    at: Option<DateTime<FixedOffset>>,
    ctx: &FileContext,
    line: u64,
) -> Result<(), ParseError> {
    if let Some(i) = last_archive.take() {
        let job = &mut out.jobs[i];
        let here = format!("{}:", ctx.file);
        if !job.origins.iter().any(|o| o.starts_with(&here)) {
            // The return code came from another file of the run (its stderr).
            note_logged(job, run, ctx, line);
        }
        job.tool_status = format!("rc {rc}");
        job.status = match rc {
            0 => job.status,
            1 => job.status.worse(JobStatus::Partial),
            _ => JobStatus::Failed,
        };
        if rc == 1 && job.message.is_none() {
            job.message = Some("borg returned rc 1: the archive was created with warnings".into());
        }
    } else if rc != 0 {
        let started = run
            .started
            .or(at)
            .or_else(|| ctx.fallback_time.as_ref().map(|f| f.0))
            .ok_or_else(|| ParseError::at(line, "failed borg run with no time"))?;
        let first = run
            .errors
            .first()
            .or(run.warnings.first())
            .cloned()
            .unwrap_or_else(|| format!("borg returned rc {rc}"));
        out.jobs.push(BackupJob {
            source: ctx.source.clone(),
            tool: TOOL.into(),
            id: format!(
                "run@{}",
                ctx.at(if run.first_line > 0 {
                    run.first_line
                } else {
                    line
                })
            ),
            local_date: started.date_naive(),
            started,
            finished: at,
            status: if rc == 1 {
                JobStatus::Partial
            } else {
                JobStatus::Failed
            },
            tool_status: format!("rc {rc}"),
            size: None,
            target: None,
            message: Some(shorten(&first)),
            origins: vec![ctx.at(line)],
            estimated_time: run.started.is_none() && at.is_none(),
            resource: None,
            conflicts: Vec::new(),
        });
    }
    *run = Run::default();
    Ok(())
}

fn archive_job(a: Archive, ctx: &FileContext, line: u64) -> Result<BackupJob, ParseError> {
    let started = time::parse_text(&a.start, ctx.tz).ok_or_else(|| {
        ParseError::at(
            line,
            format!("archive {} start {:?} is not a time", a.id, a.start),
        )
    })?;
    let finished = a.end.as_deref().and_then(|t| time::parse_text(t, ctx.tz));
    Ok(BackupJob {
        source: ctx.source.clone(),
        tool: TOOL.into(),
        id: a.id,
        local_date: started.date_naive(),
        started,
        finished,
        status: JobStatus::Succeeded,
        tool_status: String::new(),
        size: a.stats.and_then(|s| s.original_size),
        target: a.name,
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

    #[test]
    fn create_with_warning_rc_and_failed_run() {
        let tz = time::parse_zone("Europe/Berlin").unwrap();
        let ctx = FileContext {
            source: "files".into(),
            tz,
            file: "b.log".into(),
            fallback_time: None,
        };
        let text = r#"{"type": "log_message", "time": 1772586000.1, "levelname": "WARNING", "name": "borg.archiver", "message": "/srv/x: file changed while we backed it up"}
{
    "archive": {
        "id": "a1",
        "name": "host-2026-03-04",
        "start": "2026-03-04T02:00:00.000000",
        "end": "2026-03-04T02:10:00.000000",
        "stats": {"original_size": 100, "nfiles": 3}
    }
}
{"type": "log_message", "time": 1772586700.0, "levelname": "WARNING", "name": "borg.archiver", "message": "terminating with warning status, rc 1"}
{"type": "log_message", "time": 1772672400.0, "levelname": "ERROR", "name": "borg.archiver", "message": "Failed to create/acquire the lock"}
terminating with error status, rc 2
"#;
        let mut lines = Lines::new(text.as_bytes());
        let p = parse(&mut lines, &ctx).unwrap();
        assert_eq!(p.jobs.len(), 2);
        assert_eq!(p.jobs[0].status, JobStatus::Partial);
        assert_eq!(p.jobs[0].tool_status, "rc 1");
        assert_eq!(p.jobs[0].started.to_rfc3339(), "2026-03-04T02:00:00+01:00");
        assert_eq!(p.jobs[1].status, JobStatus::Failed);
        assert_eq!(p.jobs[1].local_date.to_string(), "2026-03-05");
        assert!(p.jobs[1].message.as_deref().unwrap().contains("lock"));
    }
}
