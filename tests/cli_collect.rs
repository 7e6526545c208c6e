//! End to end: drive the `soc2-evidence` binary through collect and check with command
//! collectors written as shell scripts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{bin, script, text};

use std::fs;

const CONFIG: &str = r#"
[organization]
name = "Acme Corp"

[[command]]
name = "laptops"
program = "./laptops.sh"
kind = "mdm.laptop"
population = "laptops"
subject_field = "serial"
criteria = ["CC6.1"]
"#;

#[test]
fn collect_then_check_with_a_command_collector() {
    let tmp = tempfile::tempdir().unwrap();
    script(
        tmp.path(),
        "laptops.sh",
        r#"echo '{"serial":"C02X","encrypted":true}'
echo '{"serial":"C03Y","encrypted":false}'"#,
    );
    fs::write(tmp.path().join("soc2.toml"), CONFIG).unwrap();
    let out = tmp.path().join("run");
    let o = bin()
        .current_dir(tmp.path())
        .args([
            "collect",
            "--config",
            "soc2.toml",
            "--period",
            "2026-01-01..2026-06-30",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("laptops"), "{stdout}");
    let run: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["status"], "complete");
    assert_eq!(run["organization"], "Acme Corp");
    assert_eq!(run["period"]["start"], "2026-01-01");
    assert_eq!(run["collectors"][0]["records"]["laptops"], 2);
    assert!(out.join("findings.jsonl").exists());
    assert_eq!(
        fs::read_to_string(out.join("laptops/laptops.jsonl"))
            .unwrap()
            .lines()
            .count(),
        2
    );

    let o = bin().args(["check", "--json"]).arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let counts: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(counts["fail"], 0);
}

#[test]
fn a_failed_collector_exits_non_zero_naming_it_and_keeps_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    script(tmp.path(), "laptops.sh", r#"echo '{"serial":"C02X"}'"#);
    script(tmp.path(), "broken.sh", "echo 'token expired' >&2; exit 4");
    let config = format!(
        "{CONFIG}\n[[command]]\nname = \"hr\"\nprogram = \"./broken.sh\"\nkind = \"hr.employee\"\n"
    );
    fs::write(tmp.path().join("soc2.toml"), config).unwrap();
    let out = tmp.path().join("run");
    let o = bin()
        .current_dir(tmp.path())
        .args([
            "collect",
            "-c",
            "soc2.toml",
            "-p",
            "2026-01-01..2026-06-30",
            "-o",
            "run",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("\"hr\"") && stderr.contains("token expired"),
        "{stderr}"
    );
    let run: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["status"], "complete");
    assert_eq!(run["collectors"][1]["status"], "failed");
    assert!(out.join("laptops/laptops.jsonl").exists());
}

#[test]
fn bad_config_and_bad_period_are_usage_errors_that_say_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("typo.toml"),
        "[organization]\nnmae = \"Acme\"\n",
    )
    .unwrap();
    let o = bin()
        .current_dir(tmp.path())
        .args([
            "collect",
            "-c",
            "typo.toml",
            "-p",
            "2026-01-01..2026-06-30",
            "-o",
            "run",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("nmae"),
        "{}",
        text(&o)
    );
    assert!(
        !tmp.path().join("run").exists(),
        "nothing written for an invalid config"
    );

    fs::write(tmp.path().join("soc2.toml"), CONFIG).unwrap();
    let o = bin()
        .current_dir(tmp.path())
        .args([
            "collect",
            "-c",
            "soc2.toml",
            "-p",
            "2026-07-01..2026-06-30",
            "-o",
            "run",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("2026-07-01..2026-06-30"),
        "{}",
        text(&o)
    );

    let o = bin().args(["check"]).arg(tmp.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("run.json"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_missing_secret_names_its_environment_variable_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("soc2.toml"),
        "[organization]\nname = \"Acme\"\n[okta]\nbase_url = \"https://acme.okta.com\"\ntoken_env = \"SOC2_TEST_UNSET_OKTA_TOKEN\"\n",
    )
    .unwrap();
    let o = bin()
        .current_dir(tmp.path())
        .env_remove("SOC2_TEST_UNSET_OKTA_TOKEN")
        .args([
            "collect",
            "-c",
            "soc2.toml",
            "-p",
            "2026-01-01..2026-06-30",
            "-o",
            "run",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("SOC2_TEST_UNSET_OKTA_TOKEN"), "{stderr}");
    assert!(stderr.contains("[okta]"), "{stderr}");
    assert!(
        !tmp.path().join("run").exists(),
        "nothing runs without the secret"
    );
}

/// `check DIR` without a config rebuilds the checks from the run's saved effective config,
/// thresholds included, and reproduces findings.jsonl byte for byte; a malformed clock
/// override is a usage error.
#[test]
fn check_reproduces_findings_made_with_non_default_thresholds() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    soc2_sample::backups::write_logs(&logs).unwrap();
    // A one-hour recovery window instead of the default: a different verdict than the default.
    let config = soc2_sample::backups::config_toml(&logs)
        .replace("recovery_hours = 24", "recovery_hours = 1");
    fs::write(tmp.path().join("soc2.toml"), &config).unwrap();
    let out = tmp.path().join("run");
    let o = bin()
        .current_dir(tmp.path())
        .args([
            "collect",
            "--config",
            "soc2.toml",
            "--period",
            "2026-01-01..2026-06-30",
        ])
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let saved = fs::read_to_string(out.join("config.json")).unwrap();
    assert!(saved.contains("\"recovery_hours\": 1"), "{saved}");
    let before = fs::read(out.join("findings.jsonl")).unwrap();
    // Overwrite the findings with nothing, so the comparison cannot pass by accident.
    fs::write(out.join("findings.jsonl"), "").unwrap();
    let o = bin()
        .arg("check")
        .arg(&out)
        .arg("--quiet")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(fs::read(out.join("findings.jsonl")).unwrap(), before);

    // The defaults, through --config of the file without the override, judge differently.
    fs::write(
        tmp.path().join("default.toml"),
        config.replace("recovery_hours = 1", "recovery_hours = 24"),
    )
    .unwrap();
    let o = bin()
        .arg("check")
        .arg(&out)
        .arg("--config")
        .arg(tmp.path().join("default.toml"))
        .arg("--quiet")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_ne!(
        fs::read(out.join("findings.jsonl")).unwrap(),
        before,
        "the threshold matters"
    );

    let o = bin()
        .env("SOC2_EVIDENCE_NOW", "last tuesday")
        .arg("check")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("SOC2_EVIDENCE_NOW"), "{}", text(&o));
}
