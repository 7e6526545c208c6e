//! AWS Backup: `aws backup list-backup-jobs` and `list-restore-jobs` output (`{"BackupJobs":
//! [...]}` / `{"RestoreJobs": [...]}`, or bare arrays or one job per line), told apart by
//! content. Dates may be ISO 8601 strings (the CLI) or epoch seconds (the raw API); AWS
//! reports UTC, so every time is shown in the configured zone, which decides the local date.
//!
//! States: `COMPLETED` → succeeded, `PARTIAL` → partial, `FAILED`/`ABORTED`/`EXPIRED` →
//! failed, `CREATED`/`PENDING`/`RUNNING`/`ABORTING` → running; anything else is a failure.
//! Restore `ValidationStatus` other than `SUCCESSFUL` means the restore does not prove
//! recoverability. A job that stays `CREATED` or `PENDING` never ran: it is no completion.
//!
//! One export covers every protected resource of the account; each backup job counts for its
//! `ResourceArn` (the resource), and each resource is judged on its own. Restore jobs name
//! the recovery point, not the source resource, and are judged per configured source.

use std::io::Read;

use serde_json::Value;

use super::{text, FileContext, Lines, ParseError, Parsed};
use crate::backups::records::{shorten, BackupJob, JobStatus, RestoreJob};
use crate::backups::time;

const TOOL: &str = "aws-backup";

/// Parses one AWS Backup export.
pub fn parse<R: Read>(lines: &mut Lines<R>, ctx: &FileContext) -> Result<Parsed, ParseError> {
    let mut out = Parsed::default();
    while lines.advance()? {
        let Some(doc) = lines.document()? else {
            continue;
        };
        let value: Value = doc.parse("AWS Backup JSON document")?;
        if value.get("NextToken").and_then(Value::as_str).is_some() {
            out.notes.push(format!(
                "{}: the export has a NextToken, so it may be one page of several",
                ctx.at(doc.line)
            ));
        }
        let items: Vec<&Value> = match &value {
            Value::Array(a) => a.iter().collect(),
            Value::Object(o) => match (o.get("BackupJobs"), o.get("RestoreJobs")) {
                (Some(Value::Array(a)), _) | (None, Some(Value::Array(a))) => a.iter().collect(),
                _ if o.contains_key("BackupJobId") || o.contains_key("RestoreJobId") => {
                    vec![&value]
                }
                _ => {
                    return Err(ParseError::at(
                        doc.line,
                        "JSON without BackupJobs, RestoreJobs or a job id: not AWS Backup output",
                    ))
                }
            },
            _ => return Err(ParseError::at(doc.line, "expected a JSON object or array")),
        };
        for item in items {
            if item.get("BackupJobId").is_some() {
                out.jobs.push(backup_job(item, ctx, doc.line)?);
            } else if item.get("RestoreJobId").is_some() {
                out.restores.push(restore_job(item, ctx, doc.line)?);
            } else {
                return Err(ParseError::at(
                    doc.line,
                    "an entry has neither BackupJobId nor RestoreJobId",
                ));
            }
        }
    }
    Ok(out)
}

fn date(
    item: &Value,
    key: &str,
    ctx: &FileContext,
    line: u64,
) -> Result<Option<chrono::DateTime<chrono::FixedOffset>>, ParseError> {
    match item.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => time::parse_value(v, ctx.tz)
            .map(|t| Some(t.with_timezone(&ctx.tz).fixed_offset()))
            .ok_or_else(|| ParseError::at(line, format!("{key} {v} is not a date"))),
    }
}

/// The normalised outcome of an AWS Backup job state (also used by the AWS collector).
pub(crate) fn status(state: &str) -> JobStatus {
    match state {
        "COMPLETED" => JobStatus::Succeeded,
        "PARTIAL" => JobStatus::Partial,
        "CREATED" | "PENDING" | "RUNNING" | "ABORTING" => JobStatus::Running,
        _ => JobStatus::Failed,
    }
}

fn backup_job(item: &Value, ctx: &FileContext, line: u64) -> Result<BackupJob, ParseError> {
    let id = item.get("BackupJobId").and_then(text).unwrap_or_default();
    let started = date(item, "CreationDate", ctx, line)?
        .ok_or_else(|| ParseError::at(line, format!("backup job {id} has no CreationDate")))?;
    // Each job names the resource it protects; one export covers every resource of the
    // account, so the resource is what a job counts for.
    let resource = item
        .get("ResourceArn")
        .and_then(text)
        .or_else(|| item.get("ResourceName").and_then(text))
        .unwrap_or_else(|| "unknown-resource".to_string());
    let state = item
        .get("State")
        .and_then(Value::as_str)
        .unwrap_or("UNKNOWN");
    Ok(BackupJob {
        source: ctx.source.clone(),
        tool: TOOL.into(),
        local_date: started.date_naive(),
        finished: date(item, "CompletionDate", ctx, line)?,
        started,
        status: status(state),
        tool_status: state.to_string(),
        size: item.get("BackupSizeInBytes").and_then(Value::as_u64),
        target: item
            .get("ResourceName")
            .and_then(text)
            .or_else(|| item.get("ResourceArn").and_then(text)),
        message: item
            .get("StatusMessage")
            .and_then(text)
            .map(|m| shorten(&m)),
        origins: vec![ctx.at(line)],
        estimated_time: false,
        resource: Some(resource),
        conflicts: Vec::new(),
        id,
    })
}

fn restore_job(item: &Value, ctx: &FileContext, line: u64) -> Result<RestoreJob, ParseError> {
    let id = item.get("RestoreJobId").and_then(text).unwrap_or_default();
    let started = date(item, "CreationDate", ctx, line)?
        .ok_or_else(|| ParseError::at(line, format!("restore job {id} has no CreationDate")))?;
    let state = item
        .get("Status")
        .and_then(Value::as_str)
        .unwrap_or("UNKNOWN");
    let validation = item.get("ValidationStatus").and_then(text);
    let mut message = item.get("StatusMessage").and_then(text);
    if let Some(m) = item.get("ValidationStatusMessage").and_then(text) {
        message = Some(match message {
            Some(s) => format!("{s}; validation: {m}"),
            None => format!("validation: {m}"),
        });
    }
    Ok(RestoreJob {
        source: Some(ctx.source.clone()),
        tool: TOOL.into(),
        local_date: started.date_naive(),
        finished: date(item, "CompletionDate", ctx, line)?,
        started,
        status: status(state),
        tool_status: state.to_string(),
        validated: validation.as_deref().map(|v| v == "SUCCESSFUL"),
        validation,
        target: item
            .get("RecoveryPointArn")
            .and_then(text)
            .or_else(|| item.get("CreatedResourceArn").and_then(text)),
        message: message.map(|m| shorten(&m)),
        origins: vec![ctx.at(line)],
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_and_restore_jobs_with_iso_and_epoch_dates() {
        let ctx = FileContext {
            source: "rds".into(),
            tz: time::parse_zone("America/New_York").unwrap(),
            file: "a.json".into(),
            fallback_time: None,
        };
        let text = r#"{"BackupJobs": [
  {"BackupJobId": "j1", "CreationDate": "2026-03-04T03:00:00.000000+00:00", "State": "PARTIAL", "BackupSizeInBytes": 5},
  {"BackupJobId": "j2", "CreationDate": 1772596800.25, "State": "EXPIRED", "StatusMessage": "Backup job expired"}
], "NextToken": "abc"}
{"RestoreJobs": [{"RestoreJobId": "r1", "CreationDate": 1772596800.0, "Status": "COMPLETED", "ValidationStatus": "FAILED"}]}
"#;
        let mut lines = Lines::new(text.as_bytes());
        let p = parse(&mut lines, &ctx).unwrap();
        assert_eq!(p.jobs[0].status, JobStatus::Partial);
        assert_eq!(
            p.jobs[0].local_date.to_string(),
            "2026-03-03",
            "03:00 UTC is the evening before in New York"
        );
        assert_eq!(p.jobs[1].status, JobStatus::Failed);
        assert_eq!(p.restores[0].validated, Some(false));
        assert!(!p.restores[0].proves_restore());
        assert_eq!(p.notes.len(), 1);
        let mut lines = Lines::new(&b"{\"Jobs\": []}\n"[..]);
        assert!(parse(&mut lines, &ctx).is_err());
    }
}
