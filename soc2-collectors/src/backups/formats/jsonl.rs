//! The generic JSON Lines format: one run per line, for any tool without a dedicated parser.
//!
//! ```json
//! {"source":"k8s-prod","kind":"backup","id":"daily-20260304","started":"2026-03-04T02:00:00+01:00","finished":"2026-03-04T02:12:00+01:00","status":"succeeded","size":123456,"message":""}
//! {"kind":"restore","id":"dr-test-2026q1","started":"2026-03-10T09:00:00Z","status":"succeeded","validation":"successful"}
//! ```
//!
//! Required: `started`, `status`. Optional: `kind` (`backup`, the default, or `restore`),
//! `id` (default `<started>`), `finished`, `size` (bytes), `message`, `target`, `validation`
//! (restores), `source`. Times are RFC 3339, naive ISO 8601 (placed in the configured zone) or
//! epoch seconds. `status` (case-insensitive): `succeeded`/`success`/`completed`/`ok` →
//! succeeded; `partial`/`partiallyfailed`/`warning` → partial;
//! `failed`/`failure`/`error`/`aborted`/`expired`/`failedvalidation` → failed;
//! `running`/`inprogress`/`new`/`pending`/`finalizing`… → running. Velero phases map
//! directly (`Completed`, `PartiallyFailed`, `Failed`, `InProgress`). Every backup line counts
//! for the configured source; `source` is kept as the record's `target` when no `target` is
//! given. A restore line without `source` (or with `"source": null`) is an organisation-wide
//! restore test; with a `source` it counts for the configured source.

use std::io::Read;

use serde::Deserialize;

use super::{FileContext, Lines, ParseError, Parsed};
use crate::backups::records::{shorten, BackupJob, JobStatus, RestoreJob};
use crate::backups::time;

const TOOL: &str = "jsonl";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    id: Option<serde_json::Value>,
    started: serde_json::Value,
    #[serde(default)]
    finished: Option<serde_json::Value>,
    status: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    validation: Option<String>,
}

/// Maps a status word (ours or a Velero phase) to a normalised status.
pub fn status(word: &str) -> Option<JobStatus> {
    let w: String = word
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match w.as_str() {
        "succeeded" | "success" | "successful" | "completed" | "complete" | "ok" => {
            JobStatus::Succeeded
        }
        "partial" | "partiallyfailed" | "warning" | "warnings" => JobStatus::Partial,
        "failed" | "failure" | "error" | "aborted" | "expired" | "failedvalidation" => {
            JobStatus::Failed
        }
        "running"
        | "inprogress"
        | "new"
        | "pending"
        | "finalizing"
        | "finalizingpartiallyfailed"
        | "waitingforpluginoperations"
        | "waitingforpluginoperationspartiallyfailed" => JobStatus::Running,
        _ => return None,
    })
}

/// Parses one JSON Lines file.
pub fn parse<R: Read>(lines: &mut Lines<R>, ctx: &FileContext) -> Result<Parsed, ParseError> {
    let mut out = Parsed::default();
    while lines.advance()? {
        let Some(doc) = lines.document()? else {
            continue;
        };
        let l: Line = doc.parse("backup JSON Lines record")?;
        let at = doc.line;
        let started = time::parse_value(&l.started, ctx.tz)
            .ok_or_else(|| ParseError::at(at, format!("started {} is not a time", l.started)))?;
        let finished = match &l.finished {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(
                time::parse_value(v, ctx.tz)
                    .ok_or_else(|| ParseError::at(at, format!("finished {v} is not a time")))?,
            ),
        };
        let st = status(&l.status).ok_or_else(|| {
            ParseError::at(
                at,
                format!(
                    "status {:?} is not one of succeeded, partial, failed, running",
                    l.status
                ),
            )
        })?;
        let id =
            l.id.as_ref()
                .and_then(super::text)
                .unwrap_or_else(|| started.to_rfc3339());
        let message = l.message.filter(|m| !m.is_empty()).map(|m| shorten(&m));
        match l.kind.as_deref().unwrap_or("backup") {
            "backup" => out.jobs.push(BackupJob {
                source: ctx.source.clone(),
                tool: TOOL.into(),
                id,
                local_date: started.date_naive(),
                started,
                finished,
                status: st,
                tool_status: l.status,
                size: l.size,
                target: l.target.or(l.source),
                message,
                origins: vec![ctx.at(at)],
                estimated_time: false,
                resource: None,
                conflicts: Vec::new(),
            }),
            "restore" => {
                let validated = match &l.validation {
                    None => None,
                    Some(v) => Some(
                        status(v).ok_or_else(|| {
                            ParseError::at(at, format!("validation {v:?} is not a status word"))
                        })? == JobStatus::Succeeded,
                    ),
                };
                out.restores.push(RestoreJob {
                    source: l.source.as_ref().map(|_| ctx.source.clone()),
                    tool: TOOL.into(),
                    id,
                    local_date: started.date_naive(),
                    started,
                    finished,
                    status: st,
                    tool_status: l.status,
                    validation: l.validation,
                    validated,
                    target: l.target,
                    message,
                    origins: vec![ctx.at(at)],
                })
            }
            other => {
                return Err(ParseError::at(
                    at,
                    format!("kind {other:?} is neither \"backup\" nor \"restore\""),
                ))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_restores_and_velero_phases() {
        let ctx = FileContext {
            source: "k8s".into(),
            tz: time::parse_zone("UTC").unwrap(),
            file: "v.jsonl".into(),
            fallback_time: None,
        };
        let text = r#"{"source":"velero","id":"b1","started":"2026-03-04T02:00:00Z","status":"PartiallyFailed"}
+ echo done
{"kind":"restore","id":"r1","started":"2026-03-10 09:00:00","status":"Completed","validation":"failed"}
{"kind":"restore","source":"velero","id":"r2","started":1773133200,"status":"succeeded"}
"#;
        let mut lines = Lines::new(text.as_bytes());
        let p = parse(&mut lines, &ctx).unwrap();
        assert_eq!(p.jobs[0].status, JobStatus::Partial);
        assert_eq!(p.jobs[0].target.as_deref(), Some("velero"));
        assert_eq!(p.restores[0].source, None);
        assert_eq!(p.restores[0].validated, Some(false));
        assert_eq!(p.restores[1].source.as_deref(), Some("k8s"));
        assert_eq!(lines.finish().unwrap().skipped, 1);
        let mut lines = Lines::new(&b"{\"started\":\"x\",\"status\":\"ok\"}\n"[..]);
        assert!(parse(&mut lines, &ctx)
            .unwrap_err()
            .message
            .contains("not a time"));
    }
}
