//! The external command collector, end to end through the runner, with real processes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use soc2_evidence_core::{CollectorStatus, ConfigError, EnvSecrets, RunConfig, RunStatus, Runner};

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

/// A `[[command]]` section as a user writes it; `extra` overrides or adds keys.
fn config(name: &str, program: String) -> String {
    config_with(
        name,
        &program,
        "timeout_secs = 5\ncriteria = [\"CC6.1\"]\nkind = \"mdm.laptop\"",
    )
}

fn config_with(name: &str, program: &str, extra: &str) -> String {
    format!(
        "[[command]]\nname = {name:?}\nprogram = {program:?}\nargs = [\"--flag\"]\npopulation = \"laptops\"\nsubject_field = \"serial\"\n{extra}\n"
    )
}

fn parse(toml: &str) -> Result<RunConfig, ConfigError> {
    soc2_collectors::registry().parse_config(toml, "soc2.toml", Path::new("."))
}

async fn run(toml: String, out: &Path) -> soc2_evidence_core::RunManifest {
    Runner::from_config(&parse(&toml).unwrap(), &EnvSecrets)
        .unwrap()
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
    let cfg = config_with("laptops", &prog, "timeout_secs = 1\nkind = \"mdm.laptop\"");
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
    let err = parse(&config("Laptops!", "x".into())).unwrap_err();
    assert!(err.to_string().contains("name"), "{err}");
    let err = parse(&config_with(
        "laptops",
        "x",
        "kind = \"mdm.laptop\"\ncriteria = [\"CC99.1\"]",
    ))
    .unwrap_err();
    assert!(err.to_string().contains("CC99.1"), "{err}");
    let err = parse(&config_with("laptops", "x", "kind = \"Laptop\"")).unwrap_err();
    assert!(err.to_string().contains("kind"), "{err}");
    let err = parse(&config_with(
        "laptops",
        "x",
        "kind = \"mdm.laptop\"\nkidn = 1",
    ))
    .unwrap_err();
    assert!(err.to_string().contains("kidn"), "{err}");
}

#[test]
fn two_unnamed_instances_are_refused_and_names_are_kept() {
    let two = "[[command]]\nprogram = \"a\"\nkind = \"x.y\"\n[[command]]\nprogram = \"b\"\nkind = \"x.y\"\n";
    let err = parse(two).unwrap_err();
    assert!(err.to_string().contains("own `name`"), "{err}");
    let one = parse("[command]\nprogram = \"a\"\nkind = \"x.y\"\n").unwrap();
    assert_eq!(
        one.instances[0].name(),
        "command",
        "a single table keeps the type's name"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_module_passes_the_conformance_suite() {
    soc2_evidence_core::testing::Conformance::new(
        soc2_collectors::registry(),
        "command",
        "2026-01-01..2026-06-30",
    )
    .config(|env| {
        let prog = script(
            &env.work_dir,
            "laptops.sh",
            r#"echo '{"serial":"C02X","encrypted":true}'
echo '{"serial":"C03Y","encrypted":false}'"#,
        );
        config("laptops", prog)
    })
    .run()
    .await
    .assert_ok();
}
