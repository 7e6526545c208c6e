//! pgBackRest `info --output=json`: an array of stanzas, each listing its backups with epoch
//! start/stop times (shown in the configured zone). A backup with `"error": true` recorded
//! errors (e.g. page checksum failures) and is `partial`. pgBackRest only lists backups that
//! exist, so failed attempts are not visible here; collect an `info` export regularly (every
//! day) and keep the files: the same backup in several exports is counted once.

use std::io::Read;

use serde::Deserialize;

use super::{FileContext, Lines, ParseError, Parsed};
use crate::backups::records::{BackupJob, JobStatus};
use crate::backups::time;

const TOOL: &str = "pgbackrest";

#[derive(Deserialize)]
struct Status {
    code: i64,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct Timestamp {
    start: f64,
    #[serde(default)]
    stop: Option<f64>,
}

#[derive(Deserialize)]
struct Info {
    #[serde(default)]
    size: Option<u64>,
}

#[derive(Deserialize)]
struct Backup {
    label: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    timestamp: Timestamp,
    #[serde(default)]
    info: Option<Info>,
    #[serde(default)]
    error: Option<bool>,
}

#[derive(Deserialize)]
struct Stanza {
    name: String,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    backup: Vec<Backup>,
}

/// Parses one pgBackRest info export.
pub fn parse<R: Read>(lines: &mut Lines<R>, ctx: &FileContext) -> Result<Parsed, ParseError> {
    let mut out = Parsed::default();
    while lines.advance()? {
        let Some(doc) = lines.document()? else {
            continue;
        };
        let stanzas: Vec<Stanza> = doc.parse("pgBackRest info --output=json array of stanzas")?;
        for s in stanzas {
            if let Some(st) = s.status.as_ref().filter(|st| st.code != 0) {
                out.notes.push(format!(
                    "{}: stanza {} reported status {} ({})",
                    ctx.at(doc.line),
                    s.name,
                    st.code,
                    st.message
                ));
            }
            for b in s.backup {
                let started = time::from_epoch(b.timestamp.start, ctx.tz).ok_or_else(|| {
                    ParseError::at(doc.line, format!("backup {} has a bad start time", b.label))
                })?;
                let error = b.error.unwrap_or(false);
                out.jobs.push(BackupJob {
                    source: ctx.source.clone(),
                    tool: TOOL.into(),
                    id: format!("{}/{}", s.name, b.label),
                    local_date: started.date_naive(),
                    started,
                    finished: b.timestamp.stop.and_then(|t| time::from_epoch(t, ctx.tz)),
                    status: if error {
                        JobStatus::Partial
                    } else {
                        JobStatus::Succeeded
                    },
                    tool_status: if error { "error=true" } else { "ok" }.into(),
                    size: b.info.and_then(|i| i.size),
                    target: Some(format!(
                        "stanza {} ({} backup)",
                        s.name,
                        b.kind.as_deref().unwrap_or("?")
                    )),
                    message: error.then(|| {
                        "pgBackRest recorded errors during this backup (e.g. page checksum \
                         failures)"
                            .to_string()
                    }),
                    origins: vec![ctx.at(doc.line)],
                    estimated_time: false,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_backups_and_error_flag() {
        let ctx = FileContext {
            source: "pg".into(),
            tz: time::parse_zone("UTC").unwrap(),
            file: "i.json".into(),
            fallback_time: None,
        };
        let text = r#"[{"name":"main","status":{"code":0,"message":"ok"},"backup":[
 {"label":"20260304-020000F","type":"full","timestamp":{"start":1772589600,"stop":1772590200},"info":{"size":1000},"error":false},
 {"label":"20260304-020000F_20260305-020000I","type":"incr","timestamp":{"start":1772676000,"stop":1772676100},"error":true}]},
 {"name":"old","status":{"code":2,"message":"no valid backups"},"backup":[]}]
"#;
        let mut lines = Lines::new(text.as_bytes());
        let p = parse(&mut lines, &ctx).unwrap();
        assert_eq!(p.jobs.len(), 2);
        assert_eq!(p.jobs[0].status, JobStatus::Succeeded);
        assert_eq!(p.jobs[1].status, JobStatus::Partial);
        assert_eq!(p.jobs[0].id, "main/20260304-020000F");
        assert_eq!(p.notes.len(), 1);
    }
}
