//! The backup-log collector end to end: realistic files of every format, configured as a
//! user writes `soc2.toml`, through the registry and the runner, then every check shown
//! passing and failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use soc2_collectors::backups::{self, BackupsCollector, BackupsConfig};
use soc2_evidence_core::{
    BuildContext, CollectorStatus, ConfigError, EnvSecrets, EvidenceStore, Finding, FindingStatus,
    InstanceId, MapSecrets, RunConfig, Runner,
};

const PERIOD: &str = "2026-03-01..2026-03-31";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/backups")
}

const GOOD: &str = r#"
[organization]
name = "Acme"

[backups]
recovery_hours = 24

[[backups.source]]
name = "db-01"
format = "restic"
path = "restic/db-01/*"
timezone = "Europe/Berlin"
require_restore_tests = true

[[backups.source]]
name = "files-01"
format = "borg"
path = "borg/files-01/*"
schedule = "weekly"
timezone = "Europe/Berlin"

[[backups.source]]
name = "rds-prod"
format = "aws-backup"
path = "aws/rds-prod/*.json"

[[backups.source]]
name = "pg-main"
format = "pgbackrest"
path = "pgbackrest/pg-main/info-*.json"

[[backups.source]]
name = "k8s-velero"
format = "jsonl"
path = "jsonl/k8s-velero/*.jsonl"
"#;

/// Parses config text as if the file sat in `base` (relative globs resolve there).
fn parse_in(text: &str, base: &Path) -> Result<RunConfig, ConfigError> {
    soc2_collectors::registry().parse_config(text, "soc2.toml", base)
}

fn parse(text: &str) -> Result<RunConfig, ConfigError> {
    parse_in(text, &fixtures())
}

fn config(text: &str) -> RunConfig {
    parse(text).unwrap()
}

async fn run_in(config: &RunConfig, period: &str, out: &Path) -> soc2_evidence_core::RunManifest {
    Runner::from_config(config, &EnvSecrets)
        .unwrap()
        .run(period.parse().unwrap(), out)
        .await
        .unwrap()
}

async fn run(config: &RunConfig, out: &Path) -> soc2_evidence_core::RunManifest {
    run_in(config, PERIOD, out).await
}

fn all_findings(out: &Path) -> Vec<Finding> {
    fs::read_to_string(out.join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn findings(out: &Path) -> BTreeMap<(String, String), Finding> {
    fs::read_to_string(out.join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let f: Finding = serde_json::from_str(l).unwrap();
            ((f.check_id.clone(), f.subject_id.clone()), f)
        })
        .collect()
}

fn get<'a>(f: &'a BTreeMap<(String, String), Finding>, check: &str, subject: &str) -> &'a Finding {
    f.get(&(format!("backups.{check}"), subject.to_string()))
        .unwrap_or_else(|| panic!("no finding {check} {subject}"))
}

fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_month_of_logs_from_every_tool() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let cfg = config(GOOD);
    let m = run(&cfg, &out).await;
    let c = &m.collectors[0];
    assert_eq!(c.status, CollectorStatus::Ok, "{:?}", c.error);
    assert_eq!(c.collector_type, "backups");

    let jobs = jsonl(&out.join("backups/jobs.jsonl"));
    let of = |s: &str| jobs.iter().filter(|j| j["data"]["source"] == s).count();
    // restic: 30 daily runs (12 March missing) + the failed run on the 5th; the snapshot list
    // repeats 20..31 March and is merged, not counted twice.
    assert_eq!(of("db-01"), 31);
    let merged = jobs
        .iter()
        .find(|j| j["data"]["source"] == "db-01" && j["data"]["local_date"] == "2026-03-25")
        .unwrap();
    assert_eq!(merged["data"]["origins"].as_array().unwrap().len(), 2);
    assert_eq!(merged["data"]["tool_status"], "summary + snapshot");
    // borg: 5 archives (create + list merged) and the failed run.
    assert_eq!(of("files-01"), 6);
    // AWS: 31 jobs; the raw-API page repeats a week with epoch dates and is merged.
    assert_eq!(of("rds-prod"), 31);
    // pgBackRest: two overlapping info exports, 31 backups.
    assert_eq!(of("pg-main"), 31);
    assert_eq!(of("k8s-velero"), 32);
    assert_eq!(jobs[0]["kind"], "backup.job");

    let restores = jsonl(&out.join("backups/restores.jsonl"));
    assert_eq!(restores.len(), 4);
    let sources = jsonl(&out.join("backups/sources.jsonl"));
    assert_eq!(sources.len(), 5);
    let db01 = &sources[0]["data"];
    assert_eq!(db01["status"], "ok");
    assert_eq!(db01["files"].as_array().unwrap().len(), 32);
    assert_eq!(db01["files"][0]["sha256"].as_str().unwrap().len(), 64);
    assert!(
        db01["files"][0]["skipped_lines"].as_u64().unwrap() >= 2,
        "shell noise counted"
    );

    let prov: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("backups/provenance.json")).unwrap()).unwrap();
    let jobs_prov = &prov["populations"][0];
    assert_eq!(jobs_prov["population"], "jobs");
    assert_eq!(jobs_prov["endpoints"][0]["method"], "read");
    assert_eq!(
        jobs_prov["endpoints"][0]["parameters"]["sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    let notes = jobs_prov["notes"].to_string();
    assert!(notes.contains("merged"), "{notes}");
    assert!(notes.contains("NextToken"), "{notes}");
    assert!(notes.contains("non-JSON line(s) skipped"), "{notes}");

    let f = findings(&out);
    // Daily coverage: the missing day fails; the DST change and local dates are right.
    let missing = get(&f, "daily_coverage", "db-01/2026-03-12");
    assert_eq!(missing.status, FindingStatus::Fail);
    assert!(
        missing.summary.contains("no backup run"),
        "{}",
        missing.summary
    );
    for day in ["01", "05", "20", "29", "30", "31"] {
        let ok = get(&f, "daily_coverage", &format!("db-01/2026-03-{day}"));
        assert_eq!(ok.status, FindingStatus::Pass, "{}", ok.summary);
    }
    // 00:30 local on 31 March is 22:30 UTC on the 30th: it counts for the 31st.
    assert!(get(&f, "daily_coverage", "db-01/2026-03-31")
        .summary
        .contains("2026-03-31T00:30:02.000000123+02:00"));
    // Weekly borg source: the last ISO week of March has no archive; the DST-gap run counts.
    assert_eq!(
        get(&f, "daily_coverage", "files-01/2026-W14").status,
        FindingStatus::Fail
    );
    let w13 = get(&f, "daily_coverage", "files-01/2026-W13");
    assert_eq!(w13.status, FindingStatus::Pass, "{}", w13.summary);
    assert!(w13.summary.contains("03:30:00+02:00"), "{}", w13.summary);
    // AWS: the EXPIRED job leaves 14 March uncovered; PARTIAL still covers the 21st.
    assert_eq!(
        get(&f, "daily_coverage", "rds-prod/2026-03-14").status,
        FindingStatus::Fail
    );
    assert!(get(&f, "daily_coverage", "rds-prod/2026-03-14")
        .summary
        .contains("EXPIRED"));
    assert_eq!(
        get(&f, "daily_coverage", "rds-prod/2026-03-21").status,
        FindingStatus::Pass
    );
    assert_eq!(
        get(&f, "daily_coverage", "pg-main/2026-03-18").status,
        FindingStatus::Pass
    );
    assert_eq!(
        get(&f, "daily_coverage", "k8s-velero/2026-03-22").status,
        FindingStatus::Pass
    );

    // Completed cleanly: partial runs are named; a clean source passes.
    let partial: Vec<&Finding> = f
        .values()
        .filter(|x| x.check_id == "backups.completed_cleanly" && x.status == FindingStatus::Fail)
        .collect();
    let names: Vec<&str> = partial.iter().map(|x| x.subject_id.as_str()).collect();
    assert_eq!(partial.len(), 4, "{names:?}");
    assert!(partial
        .iter()
        .any(|x| x.subject_id.starts_with("db-01/") && x.summary.contains("permission denied")));
    assert!(partial
        .iter()
        .any(|x| x.subject_id.starts_with("files-01/") && x.summary.contains("rc 1")));
    assert!(partial
        .iter()
        .any(|x| x.subject_id.starts_with("pg-main/main/20260301")
            || x.summary.contains("error=true")));
    assert!(partial.iter().any(|x| x.summary.contains("PARTIAL")));
    assert_eq!(
        get(&f, "completed_cleanly", "k8s-velero").status,
        FindingStatus::Pass
    );

    // Recovery: restic failure recovered the same morning; borg's failure waited a week.
    let rec: Vec<&Finding> = f
        .values()
        .filter(|x| x.check_id == "backups.recovery_after_failure")
        .collect();
    let restic_fail = rec
        .iter()
        .find(|x| x.subject_id.starts_with("db-01/run@"))
        .unwrap();
    assert_eq!(
        restic_fail.status,
        FindingStatus::Pass,
        "{}",
        restic_fail.summary
    );
    assert!(
        restic_fail.summary.contains("exit 1"),
        "{}",
        restic_fail.summary
    );
    let borg_fail = rec
        .iter()
        .find(|x| x.subject_id.starts_with("files-01/run@"))
        .unwrap();
    assert_eq!(
        borg_fail.status,
        FindingStatus::Fail,
        "{}",
        borg_fail.summary
    );
    assert!(borg_fail.summary.contains("lock"), "{}", borg_fail.summary);
    assert_eq!(
        get(&f, "recovery_after_failure", "pg-main").status,
        FindingStatus::Pass
    );
    let aws = rec
        .iter()
        .find(|x| x.subject_id.starts_with("rds-prod/"))
        .unwrap();
    // The daily job after the EXPIRED one finished 24.3 hours later: too late.
    assert_eq!(aws.status, FindingStatus::Fail, "{}", aws.summary);
    assert!(
        aws.summary.contains("after the 24-hour window"),
        "{}",
        aws.summary
    );
    assert_eq!(aws.criteria, vec!["A1.2", "CC7.5"]);

    // Restore tests: AWS failed validation then succeeded; Velero's only restore failed;
    // the organisation-wide DR exercise passed; db-01 requires its own and has none.
    let rds = get(&f, "restore_tested", "rds-prod/2026-Q1");
    assert_eq!(rds.status, FindingStatus::Pass, "{}", rds.summary);
    assert!(rds.summary.contains("1 other restore"), "{}", rds.summary);
    assert_eq!(rds.criteria, vec!["A1.3"]);
    let velero = get(&f, "restore_tested", "k8s-velero/2026-Q1");
    assert_eq!(velero.status, FindingStatus::Fail, "{}", velero.summary);
    assert_eq!(
        get(&f, "restore_tested", "organization/2026-Q1").status,
        FindingStatus::Pass
    );
    let db = get(&f, "restore_tested", "db-01/2026-Q1");
    assert_eq!(db.status, FindingStatus::Fail);
    assert!(db.summary.contains("no restore test"), "{}", db.summary);

    // `check DIR` without the config gives the same findings, from the saved config.json.
    let store = EvidenceStore::open(&out).unwrap();
    let saved = soc2_collectors::registry().load_effective(&out).unwrap();
    let again = soc2_evidence_core::run_checks(&store, &saved.checks());
    assert_eq!(again.len(), f.len());
    assert_eq!(again, all_findings(&out));
}

#[tokio::test]
async fn a_corrupt_file_fails_its_source_and_keeps_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let cfg = config(
        r#"
[[backups.source]]
name = "db-02"
format = "restic"
path = "restic/db-02/*.log"

[[backups.source]]
name = "pg-main"
format = "pgbackrest"
path = "pgbackrest/pg-main/*.json"
"#,
    );
    let m = run(&cfg, &out).await;
    let c = &m.collectors[0];
    assert_eq!(c.status, CollectorStatus::Failed);
    let err = c.error.as_deref().unwrap();
    assert!(err.contains("db-02"), "{err}");
    assert!(err.contains("backup-2026-03-02.log:3"), "{err}");
    assert!(err.contains("not valid JSON"), "{err}");
    // The collector failed (exit 1 from `collect`), but it vouches for what it wrote: the
    // other source was read whole, so its records are complete files.
    assert!(!out.join("backups/jobs.jsonl.partial").exists());
    let kept = fs::read_to_string(out.join("backups/jobs.jsonl")).unwrap();
    assert_eq!(kept.lines().count(), 31, "pg-main's records are kept");
    assert!(
        !kept.contains("db-02"),
        "nothing of the failed source is written"
    );
    let sources = jsonl(&out.join("backups/sources.jsonl"));
    assert_eq!(sources[0]["data"]["status"], "failed");
    let prov = fs::read_to_string(out.join("backups/provenance.json")).unwrap();
    assert!(prov.contains("FAILED"), "{prov}");
    let prov: serde_json::Value = serde_json::from_str(&prov).unwrap();
    assert_eq!(
        prov["populations"][0]["complete"], false,
        "provenance says a part is missing"
    );
    assert_eq!(prov["populations"][1]["complete"], false);
    // Every source is described, the failed one included, so that population is whole.
    assert_eq!(prov["populations"][2]["population"], "sources");
    assert_eq!(prov["populations"][2]["complete"], true);
    assert!(prov["populations"][0]["notes"]
        .to_string()
        .contains("backup-2026-03-02.log:3"));
    // The failed source is an error for every check, never a pass or a "no backup" failure;
    // the other source is judged as usual.
    let f = findings(&out);
    let failed_source: Vec<&Finding> = f.values().filter(|x| x.subject_id == "db-02").collect();
    assert_eq!(failed_source.len(), 4, "{failed_source:?}");
    assert!(
        failed_source
            .iter()
            .all(|x| x.status == FindingStatus::Error
                && x.summary.contains("backup-2026-03-02.log:3"))
    );
    assert!(!f.values().any(|x| x.subject_id.starts_with("db-02/")));
    assert!(f
        .values()
        .any(|x| x.subject_id.starts_with("pg-main") && x.status == FindingStatus::Pass));
}

#[test]
fn config_errors_are_named() {
    let err = parse(
        "[[backups.source]]\nname = \"a\"\nformat = \"restic\"\npath = \"x\"\nschedul = \"daily\"\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("schedul"), "{err}");
    let err = parse("[backups]\nrecovery_hour = 3\n").unwrap_err();
    assert!(err.to_string().contains("recovery_hour"), "{err}");
    let err =
        parse("[[backups.source]]\nname = \"a\"\nformat = \"tar\"\npath = \"x\"\n").unwrap_err();
    assert!(err.to_string().contains("tar"), "{err}");
    // Zones are checked when the config is read, before anything runs.
    let err = parse(
        "[[backups.source]]\nname = \"a\"\nformat = \"borg\"\npath = \"x\"\ntimezone = \"Europe/Gotham\"\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("Europe/Gotham"), "{err}");
    assert!(err.to_string().contains("source \"a\" timezone"), "{err}");
    let dup: BackupsConfig = toml::from_str(
        "[[source]]\nname = \"a\"\nformat = \"borg\"\npath = \"x\"\n[[source]]\nname = \"a\"\nformat = \"borg\"\npath = \"y\"\n",
    )
    .unwrap();
    let id = InstanceId {
        type_name: "backups".into(),
        name: "backups".into(),
    };
    let secrets = MapSecrets::default();
    let ctx = BuildContext::new(&id, Path::new("."), &secrets);
    assert!(BackupsCollector::new(dup.clone(), &ctx).is_err());
    assert_eq!(config(GOOD).checks()[0].checks.len(), 4);
    assert_eq!(backups::checks("backups", &dup).len(), 4);
}

#[tokio::test]
async fn a_glob_matching_nothing_fails_the_source() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let cfg =
        config("[[backups.source]]\nname = \"x\"\nformat = \"jsonl\"\npath = \"nothing/*\"\n");
    let m = run(&cfg, &out).await;
    let err = m.collectors[0].error.as_deref().unwrap();
    assert!(err.contains("no files match"), "{err}");
}

#[tokio::test]
async fn two_instances_write_their_own_directories_and_the_named_one_prefixes_subjects() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let cfg = config(
        r#"
[[backups]]
name = "backups"

[[backups.source]]
name = "pg-main"
format = "pgbackrest"
path = "pgbackrest/pg-main/info-*.json"

[[backups]]
name = "eu"
recovery_hours = 48

[[backups.source]]
name = "k8s-velero"
format = "jsonl"
path = "jsonl/k8s-velero/*.jsonl"
"#,
    );
    let m = run(&cfg, &out).await;
    let names: Vec<&str> = m.collectors.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["backups", "eu"]);
    for c in &m.collectors {
        assert_eq!(c.status, CollectorStatus::Ok, "{}: {:?}", c.name, c.error);
        assert_eq!(c.collector_type, "backups");
    }
    assert_eq!(jsonl(&out.join("backups/jobs.jsonl")).len(), 31);
    assert_eq!(jsonl(&out.join("eu/jobs.jsonl")).len(), 32);
    assert_eq!(
        jsonl(&out.join("eu/sources.jsonl"))[0]["subject_id"],
        "k8s-velero"
    );

    let findings = all_findings(&out);
    for f in &findings {
        let eu = f.subject_id.starts_with("eu:");
        let velero = f.subject_id.contains("k8s-velero");
        // The default-named instance's organisation-wide restore subjects are unprefixed.
        assert!(
            eu == velero || f.subject_id.starts_with("eu:organization"),
            "{}",
            f.subject_id
        );
        for e in &f.evidence {
            assert_eq!(e.file.starts_with("eu/"), eu, "{} {}", f.subject_id, e.file);
        }
    }
    let day = findings
        .iter()
        .find(|f| {
            f.check_id == "backups.daily_coverage" && f.subject_id == "eu:k8s-velero/2026-03-22"
        })
        .unwrap();
    assert_eq!(day.status, FindingStatus::Pass);
    assert!(findings
        .iter()
        .any(|f| f.check_id == "backups.daily_coverage" && f.subject_id == "pg-main/2026-03-18"));

    // Each instance keeps its own recovery window in the saved config, and `check DIR`
    // rebuilds both from it.
    let saved = fs::read_to_string(out.join("config.json")).unwrap();
    assert!(saved.contains("\"recovery_hours\": 48"), "{saved}");
    let store = EvidenceStore::open(&out).unwrap();
    let again = soc2_evidence_core::run_checks(
        &store,
        &soc2_collectors::registry()
            .load_effective(&out)
            .unwrap()
            .checks(),
    );
    assert_eq!(again, findings);
}

#[tokio::test]
async fn a_source_without_backups_in_the_period_is_not_applicable_where_runs_are_judged() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("logs")).unwrap();
    // `quiet` ran only long before the period; `broken` ran in it, but every run failed.
    fs::write(
        tmp.path().join("logs/quiet.jsonl"),
        "{\"kind\":\"backup\",\"id\":\"old\",\"started\":\"2025-06-01T02:00:00Z\",\"status\":\"succeeded\"}\n",
    )
    .unwrap();
    fs::write(
        tmp.path().join("logs/broken.jsonl"),
        "{\"kind\":\"backup\",\"id\":\"b1\",\"started\":\"2026-03-03T02:00:00Z\",\"status\":\"failed\",\"message\":\"disk full\"}\n",
    )
    .unwrap();
    let cfg = parse_in(
        "[[backups.source]]\nname = \"quiet\"\nformat = \"jsonl\"\npath = \"logs/quiet.jsonl\"\n\
         [[backups.source]]\nname = \"broken\"\nformat = \"jsonl\"\npath = \"logs/broken.jsonl\"\n",
        tmp.path(),
    )
    .unwrap();
    let out = tmp.path().join("run");
    let m = run(&cfg, &out).await;
    assert_eq!(
        m.collectors[0].status,
        CollectorStatus::Ok,
        "{:?}",
        m.collectors[0].error
    );
    let f = findings(&out);

    // Where the scope is runs, no run means nothing to judge: one not_applicable per source,
    // with the reason — never "all 0 backups were clean".
    for check in ["completed_cleanly", "recovery_after_failure"] {
        let quiet = get(&f, check, "quiet");
        assert_eq!(quiet.status, FindingStatus::NotApplicable, "{check}");
        assert!(
            quiet.summary.contains("no backups in the period"),
            "{}",
            quiet.summary
        );
        let only: Vec<&Finding> = f
            .values()
            .filter(|x| {
                x.check_id == format!("backups.{check}") && x.subject_id.starts_with("quiet")
            })
            .collect();
        assert_eq!(only.len(), 1, "{check}: {only:?}");
    }
    let broken = get(&f, "completed_cleanly", "broken");
    assert_eq!(broken.status, FindingStatus::NotApplicable);
    assert!(
        broken.summary.contains("no backup completed"),
        "{}",
        broken.summary
    );
    assert_eq!(
        get(&f, "recovery_after_failure", "broken/b1").status,
        FindingStatus::Fail
    );
    // Where the scope is the period's days and quarters, a missing backup or restore test is
    // the exception itself: every day fails, and so does the quarter.
    let quiet_days: Vec<&Finding> = f
        .values()
        .filter(|x| x.check_id == "backups.daily_coverage" && x.subject_id.starts_with("quiet/"))
        .collect();
    assert_eq!(quiet_days.len(), 31);
    assert!(quiet_days.iter().all(|x| x.status == FindingStatus::Fail));
    assert_eq!(
        get(&f, "restore_tested", "organization/2026-Q1").status,
        FindingStatus::Fail
    );
}

#[tokio::test]
async fn a_failure_whose_recovery_window_outlasts_collection_is_not_judged_yet() {
    let tmp = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now();
    let failed = now - chrono::Duration::hours(2);
    fs::write(
        tmp.path().join("run.jsonl"),
        format!(
            "{{\"kind\":\"backup\",\"id\":\"late\",\"started\":\"{}\",\"status\":\"failed\"}}\n",
            failed.to_rfc3339()
        ),
    )
    .unwrap();
    let cfg = parse_in(
        "[[backups.source]]\nname = \"db\"\nformat = \"jsonl\"\npath = \"run.jsonl\"\n",
        tmp.path(),
    )
    .unwrap();
    let out = tmp.path().join("run");
    let start = failed.date_naive() - chrono::Days::new(1);
    let period = format!("{start}..{}", failed.date_naive());
    run_in(&cfg, &period, &out).await;
    let f = findings(&out);
    let late = get(&f, "recovery_after_failure", "db/late");
    assert_eq!(late.status, FindingStatus::Error, "{}", late.summary);
    assert!(
        late.summary
            .contains("had not ended when the logs were collected"),
        "{}",
        late.summary
    );
}

#[tokio::test]
async fn organisation_restores_are_not_failed_when_a_json_lines_source_could_not_be_read() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("dr.jsonl"),
        "{\"kind\":\"restore\",\"id\":\"dr\",\"started\":\"2026-03-26T14:00:00Z\",\"status\":\"succeeded\"}\n{\"kind\":\n",
    )
    .unwrap();
    let cfg = parse_in(
        "[[backups.source]]\nname = \"dr\"\nformat = \"jsonl\"\npath = \"dr.jsonl\"\n\
         [[backups.source]]\nname = \"pg-main\"\nformat = \"pgbackrest\"\npath = \"pg/*.json\"\n",
        tmp.path(),
    )
    .unwrap();
    fs::create_dir_all(tmp.path().join("pg")).unwrap();
    for entry in fs::read_dir(fixtures().join("pgbackrest/pg-main")).unwrap() {
        let p = entry.unwrap().path();
        fs::copy(&p, tmp.path().join("pg").join(p.file_name().unwrap())).unwrap();
    }
    let out = tmp.path().join("run");
    let m = run(&cfg, &out).await;
    assert_eq!(m.collectors[0].status, CollectorStatus::Failed);
    let f = findings(&out);
    assert_eq!(get(&f, "restore_tested", "dr").status, FindingStatus::Error);
    let org = get(&f, "restore_tested", "organization/2026-Q1");
    assert_eq!(org.status, FindingStatus::Error, "{}", org.summary);
    assert!(
        org.summary.contains("dr could not be read"),
        "{}",
        org.summary
    );
}

#[tokio::test]
async fn the_verdict_rule_holds_on_empty_and_on_missing_populations() {
    let tmp = tempfile::tempdir().unwrap();
    soc2_evidence_core::testing::assert_verdict_rule(&config(GOOD), PERIOD, tmp.path()).await;
}

// ---------------------------------------------------------------------------------------------
// Issue 12: real-world shapes (tests/fixtures/backups/multi). Each of these failed before the
// collector judged resources on their own, read restic 0.9's race, paired borg's stdout and
// stderr and flagged conflicting records.

/// The records of a population file, without their envelopes.
fn data(path: &Path) -> Vec<serde_json::Value> {
    jsonl(path).into_iter().map(|j| j["data"].clone()).collect()
}

const MULTI_PERIOD: &str = "2026-03-12..2026-03-15";
const ACCT: &str = "111122223333";

fn arn(kind: &str) -> String {
    match kind {
        "rds" => format!("arn:aws:rds:eu-west-1:{ACCT}:db:orders"),
        "efs" => {
            format!("arn:aws:elasticfilesystem:eu-west-1:{ACCT}:file-system/fs-0a1b2c3d4e5f67890")
        }
        "ec2" => format!("arn:aws:ec2:eu-west-1:{ACCT}:instance/i-0123456789abcdef0"),
        "ddb" => format!("arn:aws:dynamodb:eu-west-1:{ACCT}:table/sessions"),
        other => format!("arn:aws:rds:eu-west-1:{ACCT}:db:{other}"),
    }
}

async fn run_multi(
    source: &str,
    period: &str,
) -> (tempfile::TempDir, BTreeMap<(String, String), Finding>) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let cfg = config(&format!(
        "[organization]\nname = \"Acme\"\n\n[backups]\n{source}"
    ));
    run_in(&cfg, period, &out).await;
    let f = findings(&out);
    (tmp, f)
}

#[tokio::test]
async fn one_aws_resource_does_not_cover_another_resources_failed_day() {
    let (tmp, f) = run_multi(
        "[[backups.source]]\nname = \"aws-acct\"\nformat = \"aws-backup\"\npath = \"multi/aws/*.json\"\n",
        MULTI_PERIOD,
    )
    .await;
    let day = |r: &str, d: &str| {
        get(
            &f,
            "daily_coverage",
            &format!("aws-acct/{}/2026-03-{d}", arn(r)),
        )
    };
    // EFS failed on the 14th, the day RDS, EC2 and DynamoDB succeeded.
    assert_eq!(
        day("efs", "14").status,
        FindingStatus::Fail,
        "{:?}",
        day("efs", "14")
    );
    assert_eq!(day("rds", "14").status, FindingStatus::Pass);
    assert_eq!(day("ec2", "14").status, FindingStatus::Pass);
    // Jobs that stayed PENDING (EC2) or CREATED (DynamoDB) are not completions.
    for r in ["ec2", "ddb"] {
        let d = day(r, "15");
        assert_eq!(d.status, FindingStatus::Fail, "{d:?}");
        assert!(d.summary.contains("still running"), "{}", d.summary);
    }
    assert!(
        !f.keys().any(|(_, s)| s == "aws-acct/2026-03-14"),
        "a multi-resource source has no source-wide days"
    );
    // 4 resources × 4 days, each judged.
    let days = f
        .keys()
        .filter(|(c, _)| c == "backups.daily_coverage")
        .count();
    assert_eq!(days, 16);
    // The failed EFS run recovered the next day; the check names the resource.
    let rec: Vec<&Finding> = f
        .values()
        .filter(|x| x.check_id == "backups.recovery_after_failure" && x.summary.contains("fs-0a1b"))
        .collect();
    assert_eq!(rec.len(), 1, "{rec:?}");
    assert_eq!(rec[0].status, FindingStatus::Pass, "{:?}", rec[0]);
    assert_eq!(
        get(
            &f,
            "recovery_after_failure",
            &format!("aws-acct/{}", arn("rds"))
        )
        .status,
        FindingStatus::Pass
    );
    // Epoch floats from the raw API keep their milliseconds.
    let jobs = data(&tmp.path().join("run/backups/jobs.jsonl"));
    let ddb = jobs
        .iter()
        .find(|j| j["resource"] == arn("ddb").as_str())
        .unwrap();
    assert_eq!(ddb["started"], "2026-03-12T04:00:00.770Z", "{ddb}");
    let sources = data(&tmp.path().join("run/backups/sources.jsonl"));
    assert_eq!(sources[0]["resources"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn the_resources_filter_keeps_what_is_listed_and_reports_a_listed_resource_never_seen() {
    let (tmp, f) = run_multi(
        &format!(
            "[[backups.source]]\nname = \"aws-acct\"\nformat = \"aws-backup\"\npath = \"multi/aws/*.json\"\nresources = [\"{}\", \"{}\"]\n",
            arn("rds"),
            arn("billing")
        ),
        MULTI_PERIOD,
    )
    .await;
    let missing = get(
        &f,
        "daily_coverage",
        &format!("aws-acct/{}/2026-03-13", arn("billing")),
    );
    assert_eq!(missing.status, FindingStatus::Fail);
    assert!(
        missing.summary.contains("listed in `resources`"),
        "{}",
        missing.summary
    );
    let na = get(
        &f,
        "completed_cleanly",
        &format!("aws-acct/{}", arn("billing")),
    );
    assert_eq!(na.status, FindingStatus::NotApplicable);
    assert!(
        na.summary.contains("no backups in the period"),
        "{}",
        na.summary
    );
    assert_eq!(
        get(
            &f,
            "daily_coverage",
            &format!("aws-acct/{}/2026-03-14", arn("rds"))
        )
        .status,
        FindingStatus::Pass
    );
    assert!(
        !f.keys()
            .any(|(_, s)| s.contains("fs-0a1b") || s.contains("i-0123")),
        "unlisted resources are not judged"
    );
    let prov = fs::read_to_string(tmp.path().join("run/backups/provenance.json")).unwrap();
    assert!(
        prov.contains("not listed in `resources` were not kept"),
        "{prov}"
    );
    // The filter is for formats whose files cover several resources.
    let err = parse(
        "[backups]\n[[backups.source]]\nname = \"db\"\nformat = \"restic\"\npath = \"x/*\"\nresources = [\"a\"]\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("resources"), "{err}");
}

#[tokio::test]
async fn every_pgbackrest_stanza_is_judged_including_one_without_backups() {
    let (_tmp, f) = run_multi(
        "[[backups.source]]\nname = \"pg-multi\"\nformat = \"pgbackrest\"\npath = \"multi/pgbackrest/*.json\"\n",
        MULTI_PERIOD,
    )
    .await;
    for d in ["12", "13", "14", "15"] {
        let main = get(&f, "daily_coverage", &format!("pg-multi/main/2026-03-{d}"));
        assert_eq!(main.status, FindingStatus::Pass, "{main:?}");
        let none = get(
            &f,
            "daily_coverage",
            &format!("pg-multi/reporting/2026-03-{d}"),
        );
        assert_eq!(none.status, FindingStatus::Fail);
        assert!(
            none.summary.contains("status 2: no valid backups"),
            "{}",
            none.summary
        );
    }
    let na = get(&f, "completed_cleanly", "pg-multi/reporting");
    assert_eq!(na.status, FindingStatus::NotApplicable);
    assert!(na.summary.contains("no valid backups"), "{}", na.summary);
    assert_eq!(
        get(&f, "recovery_after_failure", "pg-multi/reporting").status,
        FindingStatus::NotApplicable
    );
    // The stanza whose repositories disagree has backups on the 12th and 13th only.
    let mixed = get(&f, "daily_coverage", "pg-multi/analytics/2026-03-14");
    assert_eq!(mixed.status, FindingStatus::Fail);
    assert!(
        mixed.summary.contains("different across repos"),
        "{}",
        mixed.summary
    );
    assert!(
        mixed.summary.contains("repo2 2 (no valid backups)"),
        "{}",
        mixed.summary
    );
    assert_eq!(
        get(&f, "daily_coverage", "pg-multi/analytics/2026-03-13").status,
        FindingStatus::Pass
    );
    assert!(!f.keys().any(|(_, s)| s == "pg-multi/2026-03-14"));
}

#[tokio::test]
async fn restic_09_double_summary_and_trailing_status_is_one_successful_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let cfg = config(
        "[backups]\n[[backups.source]]\nname = \"r09\"\nformat = \"restic\"\npath = \"multi/restic09/*.log\"\n",
    );
    run_in(&cfg, "2026-03-12..2026-03-13", &out).await;
    let f = findings(&out);
    let rec = get(&f, "recovery_after_failure", "r09");
    assert_eq!(rec.status, FindingStatus::Pass, "{rec:?}");
    assert_eq!(
        get(&f, "completed_cleanly", "r09").status,
        FindingStatus::Pass
    );
    let jobs = data(&out.join("backups/jobs.jsonl"));
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert!(jobs.iter().all(|j| j["status"] == "succeeded"));
}

#[tokio::test]
async fn a_borg_run_is_one_job_and_records_that_disagree_are_a_conflict_not_a_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let cfg = config(
        "[backups]\n[[backups.source]]\nname = \"files-02\"\nformat = \"borg\"\npath = \"multi/borg-pair/*\"\ntimezone = \"UTC\"\n",
    );
    run_in(&cfg, "2026-03-12..2026-03-13", &out).await;
    // As many jobs as `borg list` has archives: create's stdout and stderr are one run.
    let jobs = data(&out.join("backups/jobs.jsonl"));
    assert_eq!(jobs.len(), 2, "{jobs:#?}");
    let run13 = jobs
        .iter()
        .find(|j| j["local_date"] == "2026-03-13")
        .unwrap();
    assert_eq!(run13["status"], "partial", "{run13}");
    assert_eq!(run13["tool_status"], "rc 1 + archive");
    let origins = run13["origins"].to_string();
    assert!(
        origins.contains("create-2026-03-13.json") && origins.contains(".stderr.jsonl"),
        "{origins}"
    );
    assert!(
        run13["message"].as_str().unwrap().contains("file changed"),
        "{run13}"
    );
    // `list` and `info` disagree on the 12th's start: flagged in the record and provenance.
    let run12 = jobs
        .iter()
        .find(|j| j["local_date"] == "2026-03-12")
        .unwrap();
    let conflict = run12["conflicts"][0].as_str().unwrap();
    assert!(
        conflict.contains("started") && conflict.contains("info-files-02"),
        "{conflict}"
    );
    let prov = fs::read_to_string(out.join("backups/provenance.json")).unwrap();
    assert!(prov.contains("CONFLICT"), "{prov}");
    let f = findings(&out);
    let day12 = get(&f, "daily_coverage", "files-02/2026-03-12");
    assert_eq!(day12.status, FindingStatus::Error, "{day12:?}");
    assert!(day12.summary.contains("disagree"), "{}", day12.summary);
    assert_eq!(
        get(&f, "daily_coverage", "files-02/2026-03-13").status,
        FindingStatus::Pass
    );
    let id12 = run12["id"].as_str().unwrap();
    let clean12 = get(&f, "completed_cleanly", &format!("files-02/{id12}"));
    assert_eq!(clean12.status, FindingStatus::Error, "{clean12:?}");
    assert!(
        f.values()
            .all(|x| x.status != FindingStatus::Pass || !x.summary.contains(id12)),
        "no pass rests on the conflicting run"
    );
}

#[tokio::test]
async fn the_verdict_rule_holds_for_multi_resource_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(
        "[backups]\n[[backups.source]]\nname = \"aws-acct\"\nformat = \"aws-backup\"\npath = \"multi/aws/*.json\"\n[[backups.source]]\nname = \"pg-multi\"\nformat = \"pgbackrest\"\npath = \"multi/pgbackrest/*.json\"\n",
    );
    soc2_evidence_core::testing::assert_verdict_rule(&cfg, MULTI_PERIOD, tmp.path()).await;
}
