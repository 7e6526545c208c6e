//! The external command collector, end to end through the runner, with real processes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use soc2_collectors::command::{CommandCollector, CommandConfig};
use soc2_evidence_core::{CollectorStatus, RunStatus, Runner};

fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    path.display().to_string()
}

fn config(name: &str, program: String) -> CommandConfig {
    CommandConfig {
        name: name.into(),
        program,
        args: vec!["--flag".into()],
        kind: "mdm.laptop".into(),
        population: "laptops".into(),
        subject_field: "serial".into(),
        criteria: vec!["CC6.1".into()],
        timeout_secs: 5,
    }
}

async fn run(cfg: CommandConfig, out: &Path) -> soc2_evidence_core::RunManifest {
    let collector = CommandCollector::new(cfg, Path::new(".")).unwrap();
    Runner::new()
        .collector(Box::new(collector))
        .run("2026-01-01..2026-06-30".parse().unwrap(), out)
        .await
        .unwrap()
}

#[tokio::test]
async fn good_program_becomes_records_with_provenance() {
    let tmp = tempfile::tempdir().unwrap();
    let prog = script(
        tmp.path(),
        "ok.sh",
        r#"echo "{\"serial\":\"C02X\",\"args\":\"$*\",\"start\":\"$SOC2_PERIOD_START\"}"
echo ""
echo '{"serial":"C03Y","encrypted":false}'"#,
    );
    let out = tmp.path().join("run");
    let m = run(config("laptops", prog), &out).await;
    assert_eq!(m.status, RunStatus::Complete);
    assert_eq!(
        m.collectors[0].status,
        CollectorStatus::Ok,
        "{:?}",
        m.collectors[0].error
    );
    assert_eq!(m.collectors[0].collector_type, "command");
    let text = fs::read_to_string(out.join("laptops/laptops.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["kind"], "mdm.laptop");
    assert_eq!(lines[0]["subject_id"], "C02X");
    assert_eq!(lines[0]["data"]["args"], "--flag 2026-01-01 2026-06-30");
    assert_eq!(lines[0]["data"]["start"], "2026-01-01");
    let prov: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("laptops/provenance.json")).unwrap()).unwrap();
    let p = &prov["populations"][0];
    assert_eq!(p["records_received"], 2);
    assert_eq!(p["records_written"], 2);
    assert_eq!(p["endpoints"][0]["method"], "exec");
    assert_eq!(p["endpoints"][0]["parameters"]["arg1"], "--flag");
    assert_eq!(p["response_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(p["complete"], true);
}

#[tokio::test]
async fn bad_line_is_reported_with_its_number_and_earlier_records_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let prog = script(
        tmp.path(),
        "bad.sh",
        r#"echo '{"serial":"A"}'
echo 'Warning: not json'
echo '{"serial":"B"}'"#,
    );
    let out = tmp.path().join("run");
    let m = run(config("laptops", prog), &out).await;
    let c = &m.collectors[0];
    assert_eq!(c.status, CollectorStatus::Failed);
    let err = c.error.as_deref().unwrap();
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("not valid JSON"), "{err}");
    assert!(
        !out.join("laptops/laptops.jsonl").exists(),
        "never presented as complete"
    );
    let kept = fs::read_to_string(out.join("laptops/laptops.jsonl.partial")).unwrap();
    assert_eq!(
        kept.lines().count(),
        1,
        "the record before the bad line is kept"
    );
}

#[tokio::test]
async fn non_zero_exit_fails_with_status_and_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let prog = script(
        tmp.path(),
        "fail.sh",
        r#"echo '{"serial":"A"}'
echo 'MDM API returned 500' >&2
exit 3"#,
    );
    let out = tmp.path().join("run");
    let m = run(config("laptops", prog), &out).await;
    let err = m.collectors[0].error.as_deref().unwrap();
    assert_eq!(m.collectors[0].status, CollectorStatus::Failed);
    assert!(err.contains("exit status: 3"), "{err}");
    assert!(err.contains("MDM API returned 500"), "{err}");
}

#[tokio::test]
async fn timeout_kills_the_program_and_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let prog = script(
        tmp.path(),
        "slow.sh",
        "echo '{\"serial\":\"A\"}'\nexec sleep 30",
    );
    let out = tmp.path().join("run");
    let mut cfg = config("laptops", prog);
    cfg.timeout_secs = 1;
    let started = std::time::Instant::now();
    let m = run(cfg, &out).await;
    assert!(
        started.elapsed().as_secs() < 20,
        "the timeout stopped the wait"
    );
    let err = m.collectors[0].error.as_deref().unwrap();
    assert!(err.contains("timed out after 1s"), "{err}");
}

#[tokio::test]
async fn missing_subject_field_names_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let prog = script(tmp.path(), "nosubj.sh", r#"echo '{"id":"A"}'"#);
    let out = tmp.path().join("run");
    let m = run(config("laptops", prog), &out).await;
    let err = m.collectors[0].error.as_deref().unwrap();
    assert!(err.contains("\"serial\""), "{err}");
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn invalid_config_values_are_named() {
    let mut cfg = config("Laptops!", "x".into());
    let err = CommandCollector::new(cfg.clone(), Path::new(".")).unwrap_err();
    assert!(err.to_string().contains("name"), "{err}");
    cfg.name = "laptops".into();
    cfg.criteria = vec!["CC99.1".into()];
    let err = CommandCollector::new(cfg.clone(), Path::new(".")).unwrap_err();
    assert!(err.to_string().contains("CC99.1"), "{err}");
    cfg.criteria = vec![];
    cfg.kind = "Laptop".into();
    let err = CommandCollector::new(cfg, Path::new(".")).unwrap_err();
    assert!(err.to_string().contains("kind"), "{err}");
}
