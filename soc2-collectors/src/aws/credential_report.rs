//! The IAM credential report: one CSV with every user's password, MFA and access key state,
//! fetched in about three calls (`GenerateCredentialReport` until it is complete, then
//! `GetCredentialReport`) instead of three or more calls per user.
//!
//! The report is a snapshot: AWS regenerates it only when the last one is older than four
//! hours, so each user read from it records the report's `GeneratedTime`. A user the report
//! does not hold (created since), or holds under another ARN or creation time (deleted and
//! re-created since), is read per user instead; so is everyone when the report cannot be
//! had or read.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::api::{CallError, Page, Tap};
use super::records::AccessKey;

/// How long to wait for AWS to finish generating the report, in all.
const GENERATION_WAIT: Duration = Duration::from_secs(60);

/// One user's row of the report.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    pub arn: String,
    pub created: Option<DateTime<Utc>>,
    pub password_enabled: bool,
    pub mfa_active: bool,
    /// The report's `access_key_1` and `access_key_2` slots that hold a key.
    pub keys: Vec<AccessKey>,
}

/// A parsed report: rows by user name, and rows that could not be read.
#[derive(Debug, Default)]
pub(super) struct Report {
    pub generated: Option<DateTime<Utc>>,
    pub rows: HashMap<String, Row>,
    /// Users whose row could not be read, with the reason; they are read per user.
    pub unreadable: Vec<String>,
}

/// The report's value for "nothing here": `N/A`, `no_information`, `not_supported`.
fn absent(v: &str) -> bool {
    matches!(v, "" | "N/A" | "no_information" | "not_supported")
}

fn time(column: &str, v: &str) -> Result<Option<DateTime<Utc>>, String> {
    if absent(v) {
        return Ok(None);
    }
    DateTime::parse_from_rfc3339(v)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| format!("{column} is {v:?}, not an ISO 8601 time"))
}

fn flag(column: &str, v: &str) -> Result<bool, String> {
    // AWS's documentation shows TRUE/FALSE, the report itself lower case.
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{column} is {v:?}, not true or false")),
    }
}

fn text(v: &str) -> Option<String> {
    (!absent(v)).then(|| v.to_string())
}

/// Parses the report's CSV. A missing column fails the whole report (its layout is not the
/// one this reads); a row with a bad value is listed in `unreadable`.
pub(super) fn parse(csv_bytes: &[u8], generated: Option<DateTime<Utc>>) -> Result<Report, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv_bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("credential report header: {e}"))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("credential report has no column {name:?}"))
    };
    let user = column("user")?;
    let arn = column("arn")?;
    let created = column("user_creation_time")?;
    let password = column("password_enabled")?;
    let mfa = column("mfa_active")?;
    let mut slots = Vec::new();
    for n in [1, 2] {
        let c = |f: &str| column(&format!("access_key_{n}_{f}"));
        slots.push((
            n,
            c("active")?,
            c("last_rotated")?,
            c("last_used_date")?,
            c("last_used_region")?,
            c("last_used_service")?,
        ));
    }
    let mut report = Report {
        generated,
        ..Report::default()
    };
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("credential report line {}: {e}", i + 2))?;
        let get = |c: usize| record.get(c).unwrap_or("");
        let name = get(user).to_string();
        // The root user's row: the account summary already speaks for root.
        if name == "<root_account>" || name.is_empty() {
            continue;
        }
        let row = (|| -> Result<Row, String> {
            let mut keys = Vec::new();
            for &(n, active, rotated, used, region, service) in &slots {
                let created = time(&format!("access_key_{n}_last_rotated"), get(rotated))?;
                let on = flag(&format!("access_key_{n}_active"), get(active))?;
                // An empty slot: never a key there (an inactive key keeps its date).
                if !on && created.is_none() {
                    continue;
                }
                keys.push(AccessKey {
                    access_key_id: format!("access_key_{n}"),
                    status: if on { "Active" } else { "Inactive" }.into(),
                    created,
                    last_used: time(&format!("access_key_{n}_last_used_date"), get(used))?,
                    last_used_service: text(get(service)),
                    last_used_region: text(get(region)),
                });
            }
            Ok(Row {
                arn: get(arn).to_string(),
                created: time("user_creation_time", get(created))?,
                password_enabled: flag("password_enabled", get(password))?,
                mfa_active: flag("mfa_active", get(mfa))?,
                keys,
            })
        })();
        match row {
            Ok(r) => {
                report.rows.insert(name, r);
            }
            Err(why) => report.unreadable.push(format!("{name}: {why}")),
        }
    }
    Ok(report)
}

/// Whether `row` describes the user ListUsers returned: same ARN and, when both are known,
/// the same creation time to the second (a user deleted and re-created keeps name and ARN).
pub(super) fn matches(row: &Row, arn: &str, created: Option<DateTime<Utc>>) -> bool {
    row.arn == arn
        && match (row.created, created) {
            (Some(a), Some(b)) => (a - b).num_seconds().abs() <= 1,
            _ => true,
        }
}

/// Asks for the report and reads it. `Err` says why it could not be had; the caller then
/// reads every user per user. Failures here never fail the collector: the per-user calls
/// are the evidence then, and their own failures are judged as usual.
pub(super) async fn fetch(
    iam: &aws_sdk_iam::Client,
    pages: &mut Vec<Page>,
) -> Result<Report, String> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(250);
    loop {
        let tap = Tap::default();
        let res = iam
            .generate_credential_report()
            .customize()
            .interceptor(tap.clone())
            .send()
            .await;
        pages.push(Page::new(
            "POST",
            "iam",
            "GenerateCredentialReport",
            None,
            &tap,
        ));
        let out =
            res.map_err(|e| CallError::from_sdk(&e).describe("iam:GenerateCredentialReport"))?;
        let state = out
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if state == "COMPLETE" {
            break;
        }
        if started.elapsed() + pause > GENERATION_WAIT {
            return Err(format!(
                "the credential report was still {state:?} after {} s",
                GENERATION_WAIT.as_secs()
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
    let tap = Tap::default();
    let res = iam
        .get_credential_report()
        .customize()
        .interceptor(tap.clone())
        .send()
        .await;
    pages.push(Page::new("POST", "iam", "GetCredentialReport", None, &tap));
    let out = res.map_err(|e| CallError::from_sdk(&e).describe("iam:GetCredentialReport"))?;
    if let Some(format) = out.report_format() {
        if format.as_str() != "text/csv" {
            return Err(format!(
                "the credential report is {:?}, not text/csv",
                format.as_str()
            ));
        }
    }
    let content = out
        .content()
        .ok_or("GetCredentialReport answered without Content")?;
    let generated = out.generated_time().and_then(super::collector::chrono_time);
    parse(content.as_ref(), generated)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,\
password_last_changed,password_next_rotation,mfa_active,access_key_1_active,\
access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,\
access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,\
access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,\
cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    #[test]
    fn rows_keys_and_the_root_row() {
        let csv = format!(
            "{HEADER}\n\
<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2026-05-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
alice,arn:aws:iam::123456789012:user/alice,2024-03-01T10:00:00+00:00,true,2026-06-01T08:00:00+00:00,2024-03-01T10:00:00+00:00,N/A,FALSE,true,2025-01-02T03:04:05+00:00,2026-06-20T00:00:00+00:00,eu-west-1,s3,false,2024-04-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\n\
\"bot,ops\",\"arn:aws:iam::123456789012:user/a,b/bot,ops\",2024-03-01T10:00:00+00:00,false,not_supported,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
broken,arn:aws:iam::123456789012:user/broken,yesterday,true,N/A,N/A,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        );
        let r = parse(csv.as_bytes(), None).unwrap();
        assert!(!r.rows.contains_key("<root_account>"));
        let alice = &r.rows["alice"];
        assert!(alice.password_enabled && !alice.mfa_active);
        assert_eq!(alice.keys.len(), 2);
        assert_eq!(alice.keys[0].access_key_id, "access_key_1");
        assert_eq!(alice.keys[0].status, "Active");
        assert_eq!(alice.keys[0].last_used_region.as_deref(), Some("eu-west-1"));
        assert_eq!(alice.keys[1].status, "Inactive");
        assert_eq!(alice.keys[1].last_used, None);
        // Quoted fields: IAM paths may hold commas.
        let bot = &r.rows["bot,ops"];
        assert_eq!(bot.arn, "arn:aws:iam::123456789012:user/a,b/bot,ops");
        assert!(bot.keys.is_empty() && !bot.password_enabled);
        assert_eq!(r.unreadable.len(), 1);
        assert!(r.unreadable[0].contains("broken") && r.unreadable[0].contains("yesterday"));
    }

    #[test]
    fn a_missing_column_rejects_the_report() {
        let err = parse(b"user,arn,user_creation_time\nalice,x,N/A\n", None).unwrap_err();
        assert!(err.contains("password_enabled"), "{err}");
    }

    #[test]
    fn a_recreated_user_does_not_match() {
        let row = Row {
            arn: "arn:aws:iam::1:user/a".into(),
            created: "2024-01-01T00:00:00Z".parse().ok(),
            password_enabled: true,
            mfa_active: true,
            keys: Vec::new(),
        };
        assert!(matches(
            &row,
            "arn:aws:iam::1:user/a",
            "2024-01-01T00:00:00.4Z".parse().ok()
        ));
        assert!(!matches(
            &row,
            "arn:aws:iam::1:user/a",
            "2025-01-01T00:00:00Z".parse().ok()
        ));
        assert!(!matches(&row, "arn:aws:iam::1:user/b", row.created));
    }
}
