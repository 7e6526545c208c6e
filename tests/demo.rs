//! End to end: `soc2-evidence demo` from a clean temporary directory. Its bundle is checked by
//! our verifier and by stock tools (`ssh-keygen -Y verify`, `sha256sum -c`), every planted
//! failure shows up as a failing finding, and the auditor's report renders in headless
//! Chromium with the failing subjects and no external resources. A machine without a stock tool
//! skips its part (`soc2_sample::stock_tools`).
#![cfg(feature = "demo")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use soc2_evidence::bundle::{verify_bundle, TrustedKey, VerifyOptions};
use soc2_evidence::core::{Finding, FindingStatus};
use soc2_sample::stock_tools::{self, StockTool};

fn run_demo(dir: &Path) -> (String, PathBuf) {
    let out = Command::new(env!("CARGO_BIN_EXE_soc2-evidence"))
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .args(["demo", "--out", "demo-out"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "demo failed: {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (stdout, dir.join("demo-out"))
}

#[test]
fn demo_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let (stdout, out) = run_demo(tmp.path());
    let zip = out.join("soc2-evidence-acme-demo.zip");
    assert!(stdout.contains(&zip.file_name().unwrap().to_string_lossy().to_string()));
    assert!(stdout.contains("verified: OK"), "{stdout}");
    assert!(
        stdout.contains("ssh-keygen -Y verify"),
        "the stock-tool recipe is printed"
    );

    // Every planted failure is a failing finding; nothing the sample marks as sound fails.
    let findings: Vec<Finding> = fs::read_to_string(out.join("run/findings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let failing: BTreeSet<(String, String)> = findings
        .iter()
        .filter(|f| f.status == FindingStatus::Fail)
        .map(|f| (f.check_id.clone(), f.subject_id.clone()))
        .collect();
    let mut planted: Vec<(String, String)> = Vec::new();
    planted.extend(
        soc2_sample::okta::acme_failures()
            .into_iter()
            .map(|p| (p.check_id.to_string(), p.subject_id.into_owned())),
    );
    planted.extend(
        soc2_sample::github::PLANTED
            .iter()
            .map(|p| (p.check_id.to_string(), p.subject_id.to_string())),
    );
    planted.extend(
        soc2_sample::jira::PLANTED
            .iter()
            .map(|p| (p.check_id.to_string(), p.subject_id.to_string())),
    );
    for (check, subject) in &planted {
        assert!(
            failing.contains(&(check.clone(), subject.clone())),
            "{check} {subject} should fail; failing: {failing:?}"
        );
    }
    for p in soc2_sample::backups::planted() {
        assert!(
            failing.iter().any(|(c, s)| p.matches(c, s)),
            "{p:?} should fail"
        );
    }
    // The only errors are what the sources no longer hold at 2026-07-01: GitHub keeps about a
    // month of rule suites, so older merges cannot be judged for bypasses.
    let errors: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.status == FindingStatus::Error)
        .collect();
    assert!(!errors.is_empty(), "the rule-suite window shows as errors");
    for e in &errors {
        assert!(
            e.check_id == "github.merged_under_bypass" && e.summary.contains("cannot establish"),
            "unexpected error: {e:?}"
        );
    }
    // Across systems: every merged PR names a change ticket in its branch except the two
    // planted ones.
    for f in findings
        .iter()
        .filter(|f| f.check_id == "change.pr_has_ticket")
    {
        let planted = soc2_sample::github::TICKETLESS.contains(&f.subject_id.as_str());
        let want = if planted {
            FindingStatus::Fail
        } else {
            FindingStatus::Pass
        };
        assert_eq!(f.status, want, "{f:?}");
    }
    // jira.linked_to_code accepts a PR naming the ticket in its branch (CHG-109's branches).
    assert!(
        findings.iter().any(|f| f.check_id == "jira.linked_to_code"
            && f.subject_id == "CHG-109"
            && f.status == FindingStatus::Pass
            && f.summary.contains("named by merged pull request")),
        "CHG-109 is tied to code by key"
    );
    for key in soc2_sample::jira::MUST_PASS {
        assert!(!failing.iter().any(|(_, s)| s == key), "{key} must pass");
    }
    // Each of the headline failures is printed in the summary.
    for s in [
        "00u1dev0000000000004",
        "acme/api#101",
        "CHG-104",
        "db-01/2026-03-14",
    ] {
        assert!(
            stdout.contains(s),
            "{s} missing from the summary:\n{stdout}"
        );
    }

    // Our verifier.
    let trust = TrustedKey::from_file(&out.join("demo-signing-key.pub")).unwrap();
    let report = verify_bundle(&zip, &trust, &VerifyOptions::default()).unwrap();
    assert!(report.is_ok(), "{report}");

    // Continuous collection: 25 weekly runs (one Monday missed), the period assembled.
    assert_eq!(fs::read_dir(out.join("ledger/runs")).unwrap().count(), 25);
    let period: Vec<Finding> = fs::read_to_string(out.join("period/findings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let coverage: Vec<&Finding> = period
        .iter()
        .filter(|f| f.check_id == "ledger.coverage")
        .collect();
    assert_eq!(coverage.len(), 4, "one per collector: {coverage:?}");
    for f in &coverage {
        assert_eq!(f.status, FindingStatus::Fail, "{f:?}");
        assert!(
            f.summary
                .contains("no successful run from 2026-04-06 02:00 UTC to 2026-04-20 02:00 UTC"),
            "{f:?}"
        );
    }
    let (alice, _) = soc2_sample::okta::steady_mfa_user(&soc2_sample::okta::acme()).unwrap();
    let gap: Vec<(FindingStatus, &str)> = period
        .iter()
        .filter(|f| f.check_id == "okta.mfa_enrolled" && f.subject_id == alice)
        .map(|f| (f.status, f.summary.as_str()))
        .collect();
    assert_eq!(gap.len(), 3, "{gap:?}");
    assert_eq!(gap[1].0, FindingStatus::Fail);
    assert!(
        gap[1]
            .1
            .starts_with("observed from 2026-02-09 02:00 UTC until 2026-02-23 02:00 UTC"),
        "{gap:?}"
    );
    // What a one-shot collection could not establish (rule suites beyond GitHub's month),
    // the weekly runs held.
    let bypass_errors = period
        .iter()
        .filter(|f| f.check_id == "github.merged_under_bypass" && f.status == FindingStatus::Error)
        .count();
    assert_eq!(
        bypass_errors, 0,
        "the ledger holds every rule suite of the period"
    );
    let period_zip = out.join("soc2-evidence-acme-period.zip");
    let report = verify_bundle(&period_zip, &trust, &VerifyOptions::default()).unwrap();
    assert!(report.is_ok(), "{report}");
    let runs = report
        .bag_info
        .iter()
        .filter(|(k, _)| k == "Ledger-Run")
        .count();
    assert_eq!(runs, 25, "the period bundle names every run bundle");
    assert!(
        stdout.contains("an MFA gap only continuous collection sees"),
        "{stdout}"
    );

    // Stock tools.
    if let Some([unzip, ssh_keygen, sha256sum]) =
        stock_tools::find([StockTool::Unzip, StockTool::SshKeygen, StockTool::Sha256sum])
    {
        let st = Command::new(unzip)
            .current_dir(&out)
            .args(["-q", "-o"])
            .arg(&zip)
            .status()
            .unwrap();
        assert!(st.success());
        let bag = out.join("soc2-evidence-acme-corp-2026-01-01-2026-06-30");
        let sig = Command::new(ssh_keygen)
            .current_dir(&bag)
            .args([
                "-Y",
                "verify",
                "-f",
                "../allowed_signers",
                "-I",
                "evidence@acme.example",
                "-n",
                "soc2-evidence",
                "-s",
                "signatures/tagmanifest-sha256.txt.sshsig",
            ])
            .stdin(fs::File::open(bag.join("tagmanifest-sha256.txt")).unwrap())
            .output()
            .unwrap();
        assert!(
            sig.status.success(),
            "{}",
            String::from_utf8_lossy(&sig.stderr)
        );
        let sums = Command::new(sha256sum)
            .current_dir(&bag)
            .args([
                "-c",
                "--strict",
                "--quiet",
                "tagmanifest-sha256.txt",
                "manifest-sha256.txt",
            ])
            .output()
            .unwrap();
        assert!(
            sums.status.success(),
            "{}",
            String::from_utf8_lossy(&sums.stdout)
        );
    }

    check_oscal(&out.join("run"), &findings);

    // The bundle is time-stamped by the demo's local TSA, and the stock openssl recipe the demo
    // prints proves it.
    if let Some([openssl, unzip]) = stock_tools::find([StockTool::Openssl, StockTool::Unzip]) {
        assert!(stdout.contains("stamped:  20"), "{stdout}");
        assert!(
            stdout.contains("openssl ts -verify -data tagmanifest-sha256.txt"),
            "{stdout}"
        );
        let x = tempfile::tempdir().unwrap();
        let st = Command::new(unzip)
            .arg("-q")
            .arg(&zip)
            .arg("-d")
            .arg(x.path())
            .status()
            .unwrap();
        assert!(st.success());
        let bag = x
            .path()
            .join("soc2-evidence-acme-corp-2026-01-01-2026-06-30");
        if let Err(said) =
            soc2_sample::tsa::openssl_ts_verify(&openssl, &bag, &out.join("demo-tsa-ca.pem"))
        {
            panic!("openssl ts -verify: {said}");
        }
        let trust = TrustedKey::from_file(&out.join("demo-signing-key.pub")).unwrap();
        let r = verify_bundle(
            &zip,
            &trust,
            &VerifyOptions {
                tsa_ca: Some(out.join("demo-tsa-ca.pem")),
                ..VerifyOptions::default()
            },
        )
        .unwrap();
        assert!(r.is_ok() && r.timestamp_trusted, "{r}");
    }

    // The report in a real browser.
    let index = out.join("run/report/index.html");
    let html = fs::read_to_string(&index).unwrap();
    for needle in ["<script", "<link", "<iframe", "<img", "@import", "url("] {
        assert!(
            !html.contains(needle),
            "the report must not load anything: found {needle}"
        );
    }
    if let Some([chromium]) = stock_tools::find([StockTool::Chromium]) {
        let profile = tempfile::tempdir().unwrap();
        let dom = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("file://{}", index.display()))
            .output()
            .unwrap();
        let dom = String::from_utf8_lossy(&dom.stdout);
        assert!(
            dom.contains("SOC 2 evidence: Acme Corp"),
            "rendered DOM: {}",
            &dom[..dom.len().min(500)]
        );
        for s in [
            "00u1dev0000000000004",
            "acme/web#51",
            "CHG-107",
            "db-01/2026-03-14",
        ] {
            assert!(dom.contains(s), "{s} not rendered");
        }
        assert!(!dom.contains("<script"), "no script in the rendered page");
    }
}

/// The OSCAL Assessment Results document says what findings.jsonl says: one finding per fail or
/// error, targeting its first criterion, and one observation per population; trestle (the
/// OSCAL SDK) accepts it.
fn check_oscal(run: &Path, findings: &[Finding]) {
    let path = run.join("report/oscal/assessment-results.json");
    let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let result = &doc["assessment-results"]["results"][0];
    let prop = |f: &serde_json::Value, name: &str| -> String {
        f["props"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["value"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let mut from_oscal: Vec<(String, String, String, String)> = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                prop(f, "check-id"),
                prop(f, "subject-id"),
                prop(f, "status"),
                f["target"]["target-id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut from_jsonl: Vec<(String, String, String, String)> = findings
        .iter()
        .filter(|f| matches!(f.status, FindingStatus::Fail | FindingStatus::Error))
        .map(|f| {
            (
                f.check_id.clone(),
                f.subject_id.clone(),
                f.status.to_string(),
                f.criteria[0].clone(),
            )
        })
        .collect();
    from_oscal.sort();
    from_jsonl.sort();
    assert!(from_jsonl.len() > 10, "the demo has failures to report");
    assert_eq!(from_oscal, from_jsonl);
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    let populations: BTreeSet<String> = manifest["collectors"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            let name = c["name"].as_str().unwrap().to_string();
            c["records"]
                .as_object()
                .unwrap()
                .keys()
                .map(move |p| format!("{name}/{p}"))
                .collect::<Vec<_>>()
        })
        .collect();
    let observed: BTreeSet<String> = result["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(observed, populations);

    if let Some([trestle]) = stock_tools::find([StockTool::Trestle]) {
        let ws = tempfile::tempdir().unwrap();
        let init = Command::new(&trestle)
            .current_dir(ws.path())
            .arg("init")
            .output()
            .unwrap();
        assert!(init.status.success(), "trestle init: {init:?}");
        let dir = ws.path().join("assessment-results/demo");
        fs::create_dir_all(&dir).unwrap();
        fs::copy(&path, dir.join("assessment-results.json")).unwrap();
        let v = Command::new(&trestle)
            .current_dir(ws.path())
            .args([
                "validate",
                "-f",
                "assessment-results/demo/assessment-results.json",
            ])
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&v.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
        assert!(
            v.status.success() && said.contains("VALID"),
            "trestle validate (compliance-trestle 3.x reads OSCAL 1.1): {said}"
        );
    }
}
