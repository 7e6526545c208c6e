//! pgBackRest `info --output=json`: an array of stanzas, each listing its backups with epoch
//! start/stop times (shown in the configured zone). A backup with `"error": true` recorded
//! errors (e.g. page checksum failures) and is `partial`. pgBackRest only lists backups that
//! exist, so failed attempts are not visible here; collect an `info` export regularly (every
//! day) and keep the files: the same backup in several exports is counted once.
//!
//! Every stanza is a resource of the source, judged on its own, including one without
//! backups; its status (`2 no valid backups`, `4 different across repos`, a held backup lock)
//! is kept on the source record and named in findings. A backup's `database.repo-key` names
//! the repository it is in.

use std::io::Read;

use serde::Deserialize;

use super::{FileContext, Lines, ParseError, Parsed};
use crate::backups::records::{BackupJob, JobStatus, Resource};
use crate::backups::time;

const TOOL: &str = "pgbackrest";

#[derive(Deserialize)]
struct Status {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    lock: Option<Lock>,
}

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    backup: Option<Held>,
}

#[derive(Deserialize)]
struct Held {
    #[serde(default)]
    held: bool,
}

/// One repository of a stanza (pgBackRest ≥ 2.33 reads several: `repo1`, `repo2`).
#[derive(Deserialize)]
struct Repo {
    key: u64,
    #[serde(default)]
    status: Option<RepoStatus>,
}

#[derive(Deserialize)]
struct RepoStatus {
    code: i64,
    #[serde(default)]
    message: String,
}

/// The database and repository a backup belongs to.
#[derive(Deserialize)]
struct BackupDatabase {
    #[serde(rename = "repo-key", default)]
    repo_key: Option<u64>,
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
    #[serde(default)]
    database: Option<BackupDatabase>,
}

#[derive(Deserialize)]
struct Stanza {
    name: String,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    backup: Vec<Backup>,
    #[serde(default)]
    repo: Vec<Repo>,
}

/// Stanza status codes for which pgBackRest could not read the stanza's backup list
/// (`src/command/info/info.c`): 1 missing stanza path, 3 missing stanza data, 99 other. An
/// empty list then says nothing about whether backups exist. Code 2 ("no valid backups") is a
/// list read and found empty; 4 ("different across repos") and 5 ("database mismatch across
/// repos") still list what each repository holds.
const UNREADABLE: [i64; 3] = [1, 3, 99];

/// The stanza's status as one line: the overall code and message, each repository's status
/// when they differ, and a running backup.
fn describe_status(s: &Stanza) -> Option<String> {
    let st = s.status.as_ref()?;
    let held = st
        .lock
        .as_ref()
        .and_then(|l| l.backup.as_ref())
        .is_some_and(|b| b.held);
    if st.code == 0 && !held {
        return None;
    }
    let mut text = format!("pgBackRest status {}: {}", st.code, st.message);
    let repos: Vec<String> = s
        .repo
        .iter()
        .filter_map(|r| {
            let rs = r.status.as_ref()?;
            Some(format!("repo{} {} ({})", r.key, rs.code, rs.message))
        })
        .collect();
    if st.code != 0 && repos.len() > 1 {
        text.push_str(&format!("; {}", repos.join(", ")));
    }
    if held {
        text.push_str("; a backup or expire was running when this was exported (lock held)");
    }
    Some(text)
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
            let status = describe_status(&s);
            if let Some(text) = &status {
                out.notes
                    .push(format!("{}: stanza {}: {text}", ctx.at(doc.line), s.name));
            }
            out.resources.push(Resource {
                id: s.name.clone(),
                name: None,
                seen: true,
                jobs: 0,
                status,
                unreadable: s
                    .status
                    .as_ref()
                    .is_some_and(|st| UNREADABLE.contains(&st.code)),
            });
            for b in s.backup {
                let repo = b
                    .database
                    .as_ref()
                    .and_then(|d| d.repo_key)
                    .map(|k| format!(", repo{k}"))
                    .unwrap_or_default();
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
                        "stanza {} ({} backup{repo})",
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
                    resource: Some(s.name.clone()),
                    conflicts: Vec::new(),
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
        assert_eq!(p.jobs[0].resource.as_deref(), Some("main"));
        let old = &p.resources[1];
        assert_eq!(old.id, "old");
        assert_eq!(
            old.status.as_deref(),
            Some("pgBackRest status 2: no valid backups")
        );
        assert!(!old.unreadable);
    }
}
