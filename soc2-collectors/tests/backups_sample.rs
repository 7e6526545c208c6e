//! The demo's sample backup logs, through the real collector and checks: exactly the planted
//! failures fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use soc2_evidence_core::{EnvSecrets, Finding, FindingStatus, Runner};

#[tokio::test]
async fn sample_backup_logs_fail_exactly_where_planted() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    assert!(soc2_sample::backups::write_logs(&logs).unwrap() > 180);
    let config = soc2_collectors::registry()
        .parse_config(
            &soc2_sample::backups::config_toml(&logs),
            "sample",
            tmp.path(),
        )
        .unwrap();
    let out = tmp.path().join("run");
    let m = Runner::from_config(&config, &EnvSecrets)
        .unwrap()
        .run("2026-01-01..2026-06-30".parse().unwrap(), &out)
        .await
        .unwrap();
    assert!(m.all_collectors_ok(), "{:?}", m.collectors);
    let findings: Vec<Finding> = std::fs::read_to_string(out.join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let failing: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| f.status != FindingStatus::Pass && f.status != FindingStatus::NotApplicable)
        .map(|f| (f.check_id.as_str(), f.subject_id.as_str()))
        .collect();
    for p in soc2_sample::backups::planted() {
        assert!(
            failing.iter().any(|(c, s)| p.matches(c, s)),
            "planted failure {p:?} not found in {failing:?}"
        );
    }
    assert_eq!(
        failing.len(),
        soc2_sample::backups::planted().len(),
        "{failing:?}"
    );
    // The failed night recovered and both quarters had a successful restore test.
    assert!(findings
        .iter()
        .any(|f| f.check_id == "backups.recovery_after_failure"
            && f.status == FindingStatus::Pass
            && f.subject_id.starts_with("db-01")));
    let restores: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.check_id == "backups.restore_tested")
        .collect();
    assert_eq!(restores.len(), 2, "{restores:?}");
    assert!(restores.iter().all(|f| f.status == FindingStatus::Pass));
}
