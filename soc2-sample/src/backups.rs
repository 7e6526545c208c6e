//! Sample backup logs for Acme Corp, written in the real tools' formats: restic `backup --json`
//! run logs for the database host `db-01` (one file per nightly run, local time in
//! Europe/Berlin across the March DST change), and Velero backups and restore tests exported
//! to the generic JSON Lines format for the Kubernetes cluster.
//!
//! Planted for the demo period 2026-01-01..2026-06-30:
//! - no backup of `db-01` on 2026-03-14 (daily coverage fails);
//! - `db-01` failed at 00:30 on 2026-04-20 (repository unreachable) and was re-run at 09:15;
//! - `db-01`'s run on 2026-05-05 created a snapshot but could not read a file (partial);
//! - the Q2 restore test first failed validation, then succeeded a week later.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use chrono::{Datelike, Days, NaiveDate};

use crate::Planted;

/// The planted failures, for the demo and tests to assert.
pub fn planted() -> Vec<Planted> {
    vec![
        Planted::prefix(
            "backups.daily_coverage",
            "db-01/2026-03-14",
            "no backup ran on 2026-03-14",
        ),
        Planted::prefix(
            "backups.completed_cleanly",
            "db-01/",
            "the 2026-05-05 run could not read one file (restic exit 3)",
        ),
    ]
}

/// The `[backups]` configuration for the files [`write_logs`] writes into `dir`.
pub fn config_toml(dir: &Path) -> String {
    format!(
        "[backups]\nrecovery_hours = 24\n\n\
         [[backups.source]]\nname = \"db-01\"\nformat = \"restic\"\npath = \"{}/restic/db-01/*.log\"\nschedule = \"daily\"\ntimezone = \"Europe/Berlin\"\n\n\
         [[backups.source]]\nname = \"k8s-prod\"\nformat = \"jsonl\"\npath = \"{}/velero/*.jsonl\"\nschedule = \"daily\"\n",
        dir.display(),
        dir.display()
    )
}

/// A deterministic 64-hex-digit id (restic snapshot ids are SHA-256 hex).
fn hex_id(seed: &str) -> String {
    let mut out = String::new();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for round in 0..4u8 {
        for b in seed.bytes().chain([round]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

/// Berlin's UTC offset on a date (CET, CEST from 2026-03-29).
fn berlin_offset(d: NaiveDate) -> &'static str {
    let dst_start = NaiveDate::from_ymd_opt(2026, 3, 29);
    let dst_end = NaiveDate::from_ymd_opt(2026, 10, 25);
    if Some(d) >= dst_start && Some(d) < dst_end {
        "+02:00"
    } else {
        "+01:00"
    }
}

fn restic_run(d: NaiveDate, partial: bool) -> String {
    let off = berlin_offset(d);
    let mut s = String::from(
        "+ restic -r s3:s3.eu-central-1.amazonaws.com/acme-backups/db-01 backup --json /var/lib/postgresql\n",
    );
    for (i, pct) in [(1, 0.25), (2, 0.5), (3, 0.75)] {
        s.push_str(&format!(
            "{{\"message_type\":\"status\",\"seconds_elapsed\":{i},\"percent_done\":{pct},\"total_files\":1203,\"files_done\":{},\"total_bytes\":524288000,\"bytes_done\":{}}}\n",
            i * 300,
            (524_288_000.0 * pct) as u64
        ));
    }
    if partial {
        s.push_str("{\"message_type\":\"error\",\"error\":{\"message\":\"open /var/lib/postgresql/16/main/pg_wal/000000010000000A00000042: permission denied\"},\"during\":\"archival\",\"item\":\"/var/lib/postgresql/16/main/pg_wal/000000010000000A00000042\"}\n");
        s.push_str("Warning: at least one source file could not be read\n");
    }
    let changed = 10 + d.ordinal() % 20;
    s.push_str(&format!(
        "{{\"message_type\":\"summary\",\"files_new\":2,\"files_changed\":{changed},\"files_unmodified\":{},\"dirs_new\":0,\"dirs_changed\":3,\"dirs_unmodified\":212,\"data_blobs\":31,\"tree_blobs\":4,\"data_added\":{},\"data_added_packed\":{},\"total_files_processed\":1203,\"total_bytes_processed\":524288000,\"total_duration\":191.0,\"backup_start\":\"{d}T00:30:02.000000123{off}\",\"backup_end\":\"{d}T00:33:13.000000123{off}\",\"snapshot_id\":\"{}\"}}\n",
        1201 - changed,
        48_000_000 + u64::from(d.ordinal()) * 1000,
        20_000_000 + u64::from(d.ordinal()) * 500,
        hex_id(&d.to_string())
    ));
    s
}

fn restic_failure(d: NaiveDate) -> String {
    format!(
        "+ restic -r s3:s3.eu-central-1.amazonaws.com/acme-backups/db-01 backup --json /var/lib/postgresql\n\
         {{\"message_type\":\"exit_error\",\"code\":1,\"message\":\"Fatal: unable to open repository at s3:s3.eu-central-1.amazonaws.com/acme-backups/db-01: Get \\\"https://s3.eu-central-1.amazonaws.com/acme-backups/db-01/config\\\": dial tcp: i/o timeout ({d})\"}}\n"
    )
}

/// Writes the sample logs for 2026-01-01..2026-06-30 into `dir` and returns the number of
/// files written.
pub fn write_logs(dir: &Path) -> io::Result<usize> {
    let restic = dir.join("restic/db-01");
    let velero = dir.join("velero");
    fs::create_dir_all(&restic)?;
    fs::create_dir_all(&velero)?;
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).ok_or_else(|| io::Error::other("date"))?;
    let end = NaiveDate::from_ymd_opt(2026, 6, 30).ok_or_else(|| io::Error::other("date"))?;
    let missing = NaiveDate::from_ymd_opt(2026, 3, 14);
    let failed = NaiveDate::from_ymd_opt(2026, 4, 20);
    let partial = NaiveDate::from_ymd_opt(2026, 5, 5);
    let mut files = 0;
    let mut velero_lines = String::new();
    let mut d = start;
    while d <= end {
        if Some(d) != missing {
            if Some(d) == failed {
                // The nightly run failed; on-call re-ran it by hand that morning.
                fs::write(
                    restic.join(format!("backup-{d}T003000.log")),
                    restic_failure(d),
                )?;
                let rerun = restic_run(d, false)
                    .replace("T00:30:02", "T09:15:02")
                    .replace("T00:33:13", "T09:18:13");
                fs::write(restic.join(format!("backup-{d}T091500.log")), rerun)?;
                files += 2;
            } else {
                fs::write(
                    restic.join(format!("backup-{d}.log")),
                    restic_run(d, Some(d) == partial),
                )?;
                files += 1;
            }
        }
        let compact = d.format("%Y%m%d");
        velero_lines.push_str(&format!(
            "{{\"source\":\"default\",\"kind\":\"backup\",\"id\":\"daily-{compact}020000\",\"started\":\"{d}T02:00:00Z\",\"finished\":\"{d}T02:06:41Z\",\"status\":\"Completed\",\"size\":{},\"message\":\"errors=0 warnings=0\"}}\n",
            7_340_032_000u64 + u64::from(d.ordinal()) * 1_048_576
        ));
        d = d
            .checked_add_days(Days::new(1))
            .ok_or_else(|| io::Error::other("date overflow"))?;
    }
    fs::write(velero.join("velero-backups-2026-06-30.jsonl"), velero_lines)?;
    let mut restores = fs::File::create(velero.join("restore-tests-2026.jsonl"))?;
    for line in [
        r#"{"kind":"restore","id":"dr-exercise-2026q1","started":"2026-03-26T13:00:00Z","finished":"2026-03-26T14:12:00Z","status":"Completed","validation":"successful","message":"restored daily-20260325020000 into namespace dr-test; smoke tests passed"}"#,
        r#"{"kind":"restore","id":"dr-exercise-2026q2-a","started":"2026-06-10T13:00:00Z","finished":"2026-06-10T13:40:00Z","status":"Completed","validation":"failed","message":"restored daily-20260609020000; payments-api failed its health check"}"#,
        r#"{"kind":"restore","id":"dr-exercise-2026q2-b","started":"2026-06-17T13:00:00Z","finished":"2026-06-17T14:05:00Z","status":"Completed","validation":"successful","message":"restored daily-20260616020000 into namespace dr-test; smoke tests passed"}"#,
    ] {
        writeln!(restores, "{line}")?;
    }
    files += 2;
    Ok(files)
}
