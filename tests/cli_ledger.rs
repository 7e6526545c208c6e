//! End to end: continuous collection. Several `collect --ledger` runs (each its own process,
//! its own `SOC2_EVIDENCE_NOW`) into one ledger, then `ledger list`, `ledger verify`,
//! `period`, `check` and `bundle` over it; and the ways a ledger must refuse: a corrupted,
//! missing, foreign or reordered run, a changed key, two runs at once, a killed run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{bin, script, text};

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// A state population (laptops; C03Y unencrypted while `$SOC2_EVIDENCE_NOW` is in
/// 2026-01-1x) and an event population (one event per window end day); `FAIL_ON` makes the
/// events script fail on that date.
fn command_setup(dir: &Path, extra_config: &str) {
    script(
        dir,
        "laptops.sh",
        r#"sleep "${SLOW:-0}"
case "$SOC2_EVIDENCE_NOW" in
  2026-01-1*) enc=false;;
  *) enc=true;;
esac
echo '{"serial":"C02X","encrypted":true}'
echo "{\"serial\":\"C03Y\",\"encrypted\":$enc}""#,
    );
    script(
        dir,
        "events.sh",
        r#"if [ -n "$FAIL_ON" ]; then case "$SOC2_EVIDENCE_NOW" in "$FAIL_ON"*) echo "source down" >&2; exit 1;; esac; fi
echo "{\"id\":\"ev-$1\",\"day\":\"$1\"}"
echo "{\"id\":\"ev-$2\",\"day\":\"$2\"}""#,
    );
    fs::write(
        dir.join("soc2.toml"),
        format!(
            r#"[organization]
name = "Acme Corp"
{extra_config}
[[command]]
name = "laptops"
program = "./laptops.sh"
kind = "mdm.laptop"
population = "laptops"
subject_field = "serial"
criteria = ["CC6.1"]

[[command]]
name = "events"
program = "./events.sh"
kind = "x.event"
population = "events"
mode = "events"
criteria = ["CC7.2"]
"#
        ),
    )
    .unwrap();
    keygen(dir, "k");
}

fn keygen(dir: &Path, name: &str) {
    let o = bin()
        .current_dir(dir)
        .args(["keygen", "--out", name, "-q"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

fn collect(dir: &Path, at: &str, key: &str, env: &[(&str, &str)]) -> Output {
    bin()
        .current_dir(dir)
        .env("SOC2_EVIDENCE_NOW", format!("{at}T02:00:00Z"))
        .envs(env.iter().copied())
        .args([
            "collect",
            "--config",
            "soc2.toml",
            "--ledger",
            "L",
            "--key",
            key,
            "--since",
            "2026-01-01",
            "-q",
        ])
        .output()
        .unwrap()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", text(&o));
    o
}

fn jsonl(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn findings(dir: &Path, check: &str) -> Vec<Value> {
    jsonl(&dir.join("findings.jsonl"))
        .into_iter()
        .filter(|f| f["check_id"] == check)
        .collect()
}

fn period(dir: &Path, out: &str, range: &str) -> Output {
    bin()
        .current_dir(dir)
        .args([
            "period", "--ledger", "L", "--period", range, "--out", out, "--pubkey", "k.pub", "-q",
        ])
        .output()
        .unwrap()
}

fn verify(dir: &Path, ledger: &str) -> Output {
    bin()
        .current_dir(dir)
        .args(["ledger", "verify", ledger, "--pubkey", "k.pub"])
        .output()
        .unwrap()
}

#[test]
fn runs_chain_and_a_period_keeps_every_version_of_state() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    command_setup(d, "");
    for day in [
        "2026-01-05",
        "2026-01-12",
        "2026-01-19",
        "2026-01-26",
        "2026-02-02",
    ] {
        ok(collect(d, day, "k", &[]));
    }
    let o = ok(verify(d, "L"));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("OK: 5 run(s) verified"),
        "{}",
        text(&o)
    );

    let o = ok(bin()
        .current_dir(d)
        .args(["ledger", "list", "L", "--json"])
        .output()
        .unwrap());
    let runs: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(runs.len(), 5);
    let laptops_window = |i: usize| {
        runs[i]["collectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "laptops")
            .map(|c| (c["window_start"].clone(), c["window_end"].clone()))
            .unwrap()
    };
    assert_eq!(
        laptops_window(0),
        (json!("2026-01-01"), json!("2026-01-05")),
        "--since"
    );
    assert_eq!(
        laptops_window(1),
        (json!("2026-01-04"), json!("2026-01-12")),
        "continues from run 1's day, a day's overlap"
    );

    let o = ok(period(d, "P", "2026-01-01..2026-01-31"));
    let p = d.join("P");
    // Events: the union, deduplicated (the overlap re-reads each window's first day).
    let events = jsonl(&p.join("events/events.jsonl"));
    let mut ids: Vec<&str> = events
        .iter()
        .map(|e| e["subject_id"].as_str().unwrap())
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "no duplicate subjects: {ids:?}");
    assert!(
        ids.contains(&"ev-2026-01-01") && ids.contains(&"ev-2026-02-02"),
        "{ids:?}"
    );
    // State: C03Y has two versions, with when each was observed.
    let laptops = jsonl(&p.join("laptops/laptops.jsonl"));
    let spans = jsonl(&p.join("ledger/versions/laptops/laptops.jsonl"));
    assert_eq!(laptops.len(), spans.len());
    let c03y: Vec<(&Value, &Value)> = laptops
        .iter()
        .zip(&spans)
        .filter(|(r, _)| r["subject_id"] == "C03Y")
        .collect();
    assert_eq!(
        c03y.len(),
        3,
        "encrypted, then not (runs 2-3), then again: {c03y:?}"
    );
    assert_eq!(c03y[1].0["data"]["encrypted"], false);
    assert_eq!(
        (
            c03y[1].1["first_seq"].as_u64(),
            c03y[1].1["last_seq"].as_u64()
        ),
        (Some(2), Some(3))
    );
    // Provenance names every contributing run bundle by digest.
    let prov: Value =
        serde_json::from_slice(&fs::read(p.join("events/provenance.json")).unwrap()).unwrap();
    let pop = &prov["populations"][0];
    assert_eq!(pop["complete"], true, "{pop}");
    let shas: Vec<&str> = pop["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["bundle_sha256"].as_str().unwrap())
        .collect();
    let listed: Vec<&str> = runs.iter().map(|r| r["sha256"].as_str().unwrap()).collect();
    assert_eq!(
        shas, listed,
        "all five runs, the one after the period included for its events"
    );
    // Weekly runs: coverage holds.
    for f in findings(&p, "ledger.coverage") {
        assert_eq!(f["status"], "pass", "{f}");
    }
    assert!(String::from_utf8_lossy(&o.stdout).is_empty() || o.status.success());

    // `check` reproduces the period's findings exactly, epochs and all.
    let before = fs::read(p.join("findings.jsonl")).unwrap();
    ok(bin()
        .current_dir(d)
        .args(["check", "P", "-q"])
        .output()
        .unwrap());
    assert_eq!(fs::read(p.join("findings.jsonl")).unwrap(), before);

    // The period bundle names every run bundle; it verifies like any bundle.
    ok(bin()
        .current_dir(d)
        .args(["bundle", "P", "--key", "k", "-o", "period.zip", "-q"])
        .output()
        .unwrap());
    ok(bin()
        .current_dir(d)
        .args(["verify", "period.zip", "--pubkey", "k.pub", "-q"])
        .output()
        .unwrap());
    let o = ok(bin()
        .current_dir(d)
        .args(["verify", "period.zip", "--pubkey", "k.pub", "--json"])
        .output()
        .unwrap());
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let info = report["bag_info"].to_string();
    for sha in &listed {
        assert!(info.contains(sha), "bag-info names run {sha}: {info}");
    }
}

#[test]
fn a_failed_run_keeps_its_mark_and_the_catch_up_leaves_no_hole() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    command_setup(d, "[ledger]\nmax_gap_days = 14\n");
    ok(collect(d, "2026-01-05", "k", &[]));
    let failed = collect(d, "2026-01-12", "k", &[("FAIL_ON", "2026-01-12")]);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("events"),
        "{}",
        text(&failed)
    );
    ok(collect(d, "2026-01-19", "k", &[]));
    let o = ok(bin()
        .current_dir(d)
        .args(["ledger", "list", "L", "--json"])
        .output()
        .unwrap());
    let runs: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(runs.len(), 3, "the failed run is sealed too, saying so");
    let events = |i: usize| {
        runs[i]["collectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "events")
            .cloned()
            .unwrap()
    };
    assert_eq!(events(1)["status"], "failed");
    assert_eq!(
        events(2)["window_start"],
        "2026-01-04",
        "continues from run 1, not the failed run 2"
    );
    ok(period(d, "P", "2026-01-01..2026-01-18"));
    let cov = findings(&d.join("P"), "ledger.coverage");
    let ev = cov.iter().find(|f| f["subject_id"] == "events").unwrap();
    assert_eq!(
        ev["status"], "pass",
        "14 days allowed, windows without a hole: {ev}"
    );

    // With the default 7 days, the same ledger's gap fails.
    let mut cfg: Value =
        serde_json::from_slice(&fs::read(d.join("P/config.json")).unwrap()).unwrap();
    cfg["ledger"]["max_gap_days"] = json!(7);
    fs::write(d.join("P/config.json"), serde_json::to_vec(&cfg).unwrap()).unwrap();
    ok(bin()
        .current_dir(d)
        .args(["check", "P", "-q"])
        .output()
        .unwrap());
    let cov = findings(&d.join("P"), "ledger.coverage");
    let ev = cov.iter().find(|f| f["subject_id"] == "events").unwrap();
    assert_eq!(ev["status"], "fail", "{ev}");
    let summary = ev["summary"].as_str().unwrap();
    assert!(
        summary.contains("no successful run from 2026-01-05") && summary.contains("run 2 failed"),
        "{summary}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn a_corrupted_missing_foreign_or_reordered_run_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    command_setup(d, "");
    for day in ["2026-01-05", "2026-01-12", "2026-01-19"] {
        ok(collect(d, day, "k", &[]));
    }
    ok(verify(d, "L"));
    let variant = |name: &str, damage: &dyn Fn(&Path)| -> String {
        let copy = d.join(name);
        copy_dir(&d.join("L"), &copy);
        damage(&copy);
        let o = verify(d, name);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o));
        let said = String::from_utf8_lossy(&o.stdout).to_string();
        let p = bin()
            .current_dir(d)
            .args([
                "period",
                "--ledger",
                name,
                "--period",
                "2026-01-01..2026-01-31",
                "--out",
                &format!("{name}-P"),
                "--pubkey",
                "k.pub",
                "-q",
            ])
            .output()
            .unwrap();
        assert_eq!(
            p.status.code(),
            Some(1),
            "{name}: period must refuse: {}",
            text(&p)
        );
        assert!(
            !d.join(format!("{name}-P/findings.jsonl")).exists(),
            "{name}: nothing assembled"
        );
        said
    };
    let said = variant("corrupt", &|l| {
        let f = l.join("runs/000002.zip");
        let mut b = fs::read(&f).unwrap();
        let mid = b.len() / 2;
        b[mid] ^= 0x55;
        fs::write(f, b).unwrap();
    });
    assert!(said.contains("run 2 (runs/000002.zip)"), "{said}");
    let said = variant("missing", &|l| {
        fs::remove_file(l.join("runs/000002.zip")).unwrap()
    });
    assert!(said.contains("run 2 is missing"), "{said}");
    let said = variant("foreign", &|l| {
        fs::write(l.join("runs/notes.txt"), "hello").unwrap()
    });
    assert!(said.contains("runs/notes.txt: a foreign object"), "{said}");
    let said = variant("reordered", &|l| {
        fs::rename(l.join("runs/000003.zip"), l.join("runs/000004.zip")).unwrap();
    });
    assert!(
        said.contains("run 3 is missing") && said.contains("says it is run 3"),
        "{said}"
    );
    // A bundle from another ledger, with another key, slipped in as run 4.
    let other = d.join("other");
    fs::create_dir_all(&other).unwrap();
    command_setup(&other, "");
    ok(collect(&other, "2026-01-26", "k", &[]));
    let said = variant("forged", &|l| {
        fs::copy(other.join("L/runs/000001.zip"), l.join("runs/000004.zip")).unwrap();
    });
    assert!(
        said.contains("run 4 (runs/000004.zip): does not verify"),
        "{said}"
    );
}

#[test]
fn a_new_key_needs_a_rotation_the_old_key_signs() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    command_setup(d, "");
    keygen(d, "k2");
    ok(collect(d, "2026-01-05", "k", &[]));
    let o = collect(d, "2026-01-12", "k2", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("rotate-key"),
        "{}",
        text(&o)
    );
    // The new key cannot rotate to itself.
    let o = bin()
        .current_dir(d)
        .args([
            "ledger",
            "rotate-key",
            "L",
            "--key",
            "k2",
            "--new-pubkey",
            "k2.pub",
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    ok(bin()
        .current_dir(d)
        .args([
            "ledger",
            "rotate-key",
            "L",
            "--key",
            "k",
            "--new-pubkey",
            "k2.pub",
            "-q",
        ])
        .output()
        .unwrap());
    ok(collect(d, "2026-01-12", "k2", &[]));
    let o = collect(d, "2026-01-19", "k", &[]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "the old key is retired: {}",
        text(&o)
    );
    let o = ok(verify(d, "L"));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("OK: 2 run(s) verified, chain linear and unbroken, 1 key rotation(s)"),
        "{}",
        text(&o)
    );
    // The new key alone is not the ledger's first key.
    let o = bin()
        .current_dir(d)
        .args(["ledger", "verify", "L", "--pubkey", "k2.pub"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn two_runs_at_once_never_fork_and_a_killed_run_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    command_setup(d, "");
    let spawn = |at: &str| {
        bin()
            .current_dir(d)
            .env("SOC2_EVIDENCE_NOW", format!("{at}T02:00:00Z"))
            .env("SLOW", "3")
            .args([
                "collect",
                "--config",
                "soc2.toml",
                "--ledger",
                "L",
                "--key",
                "k",
                "--since",
                "2026-01-01",
                "-q",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let first = spawn("2026-01-05");
    std::thread::sleep(Duration::from_millis(1000));
    let second = collect(d, "2026-01-05", "k", &[]);
    assert_ne!(second.status.code(), Some(0), "{}", text(&second));
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another run holds the ledger lock"),
        "{}",
        text(&second)
    );
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", text(&first));
    assert_eq!(fs::read_dir(d.join("L/runs")).unwrap().count(), 1);

    // Killed mid-collection: nothing sealed, the lock released, the next run fine.
    let mut victim = spawn("2026-01-12");
    std::thread::sleep(Duration::from_millis(1000));
    victim.kill().unwrap();
    let _ = victim.wait();
    assert_eq!(
        fs::read_dir(d.join("L/runs")).unwrap().count(),
        1,
        "no half-written run"
    );
    ok(verify(d, "L"));
    ok(collect(d, "2026-01-12", "k", &[]));
    assert!(d.join("L/runs/000002.zip").is_file());
}

fn okta_config(base_url: &str) -> String {
    format!(
        "[organization]\nname = \"Acme Corp\"\n\n[okta]\nbase_url = {base_url:?}\ntoken_env = \"T_OKTA\"\nfull_refresh_days = 30\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_period_says_when_a_user_had_no_mfa() {
    use soc2_sample::okta as sample;
    let tmp = tempfile::tempdir().unwrap();
    let d: PathBuf = tmp.path().to_path_buf();
    let org = sample::acme();
    // Someone who passes okta.mfa_enrolled: ACTIVE, with only ACTIVE factors.
    let user = org
        .users
        .iter()
        .find(|u| {
            u["status"] == "ACTIVE"
                && org
                    .factors
                    .get(u["id"].as_str().unwrap())
                    .is_some_and(|f| !f.is_empty() && f.iter().all(|f| f["status"] == "ACTIVE"))
        })
        .unwrap()
        .clone();
    let id = user["id"].as_str().unwrap().to_string();
    let login = user["profile"]["login"]
        .as_str()
        .unwrap_or("user")
        .to_string();
    let server = sample::serve(org.clone(), sample::ServerOptions::default()).await;
    fs::write(d.join("soc2.toml"), okta_config(&server.base_url())).unwrap();
    keygen(&d, "k");
    let token = server.token().to_string();
    let run = |at: &'static str| {
        let d = d.clone();
        let token = token.clone();
        tokio::task::spawn_blocking(move || collect(&d, at, "k", &[("T_OKTA", token.as_str())]))
    };
    ok(run("2026-02-02").await.unwrap());
    // Her factors are deleted on 2026-02-05 (the System Log says so) ...
    let party = |id: &str, login: &str| sample::party(id, "User", login, login);
    let mut without = org.clone();
    without.factors.insert(id.clone(), Vec::new());
    without.logs.push(sample::event(
        "a1b2c3d4-0000-4000-8000-000000000001",
        "2026-02-05T09:00:00.000Z",
        "user.mfa.factor.deactivate",
        "Reset factor for user",
        party(&id, &login),
        vec![party(&id, &login)],
        "SUCCESS",
        json!({}),
    ));
    server.set_org(without.clone());
    ok(run("2026-02-09").await.unwrap());
    ok(run("2026-02-16").await.unwrap());
    // ... and she enrols again on 2026-02-20.
    let mut again = without;
    again.factors.insert(id.clone(), org.factors[&id].clone());
    again.logs.push(sample::event(
        "a1b2c3d4-0000-4000-8000-000000000002",
        "2026-02-20T09:00:00.000Z",
        "user.mfa.factor.activate",
        "Activate factor for user",
        party(&id, &login),
        vec![party(&id, &login)],
        "SUCCESS",
        json!({}),
    ));
    server.set_org(again);
    ok(run("2026-02-23").await.unwrap());
    let d2 = d.clone();
    let o = tokio::task::spawn_blocking(move || period(&d2, "P", "2026-02-01..2026-02-28"))
        .await
        .unwrap();
    ok(o);
    let mine: Vec<Value> = findings(&d.join("P"), "okta.mfa_enrolled")
        .into_iter()
        .filter(|f| f["subject_id"] == id.as_str())
        .collect();
    let statuses: Vec<&str> = mine.iter().map(|f| f["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["pass", "fail", "pass"], "{mine:#?}");
    let gap = mine[1]["summary"].as_str().unwrap();
    assert!(
        gap.starts_with("observed from 2026-02-09 02:00 UTC until 2026-02-23 02:00 UTC:"),
        "{gap}"
    );
    // Users whose verdict never changed keep one finding.
    let all = findings(&d.join("P"), "okta.mfa_enrolled");
    let others = all
        .iter()
        .filter(|f| f["subject_id"] != id.as_str())
        .count();
    let users = org.users.iter().filter(|u| u["status"] == "ACTIVE").count();
    assert!(
        others < users * 2,
        "one finding per unchanged user: {others} for {users}"
    );
}

#[test]
fn an_s3_ledger_works_like_a_directory() {
    let Some(moto) = soc2_sample::moto::Moto::start() else {
        return;
    };
    moto.create_bucket("evidence", false).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    command_setup(d, "");
    let env = moto.aws_env();
    let s3 = |args: &[&str], at: Option<&str>| {
        let mut c = bin();
        c.current_dir(d)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if let Some(at) = at {
            c.env("SOC2_EVIDENCE_NOW", format!("{at}T02:00:00Z"));
        }
        c.args(args).output().unwrap()
    };
    let collect_args = [
        "collect",
        "--config",
        "soc2.toml",
        "--ledger",
        "s3://evidence/acme/ledger",
        "--key",
        "k",
        "--since",
        "2026-01-01",
        "-q",
    ];
    ok(s3(&collect_args, Some("2026-01-05")));
    ok(s3(&collect_args, Some("2026-01-12")));
    let o = ok(s3(
        &[
            "ledger",
            "verify",
            "s3://evidence/acme/ledger",
            "--pubkey",
            "k.pub",
        ],
        None,
    ));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("OK: 2 run(s) verified"),
        "{}",
        text(&o)
    );
    ok(s3(
        &[
            "period",
            "--ledger",
            "s3://evidence/acme/ledger",
            "--period",
            "2026-01-01..2026-01-10",
            "--out",
            "P",
            "--pubkey",
            "k.pub",
            "-q",
        ],
        None,
    ));
    assert!(d.join("P/ledger/period.json").is_file());
    let o = s3(
        &["ledger", "list", "s3://evidence/acme/ledger", "--json"],
        None,
    );
    let runs: Vec<Value> = serde_json::from_slice(&ok(o).stdout).unwrap();
    assert_eq!(runs.len(), 2);

    // [ledger] object_lock_days: each run bundle under COMPLIANCE retention (WORM).
    moto.create_bucket("worm", true).unwrap();
    let cfg = fs::read_to_string(d.join("soc2.toml")).unwrap();
    fs::write(
        d.join("worm.toml"),
        cfg.replacen(
            "[[command]]",
            "[ledger]\nobject_lock_days = 30\n\n[[command]]",
            1,
        ),
    )
    .unwrap();
    let worm = [
        "collect",
        "--config",
        "worm.toml",
        "--ledger",
        "s3://worm/ledger",
        "--key",
        "k",
        "--since",
        "2026-01-01",
        "-q",
    ];
    ok(s3(&worm, Some("2026-01-05")));
    let (status, headers, _) = moto
        .request("HEAD", "/worm/ledger/runs/000001.zip", &[])
        .unwrap();
    assert_eq!(status, 200);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(header("x-amz-object-lock-mode"), "COMPLIANCE");
    let until =
        chrono::DateTime::parse_from_rfc3339(&header("x-amz-object-lock-retain-until-date"))
            .unwrap();
    let days = (until.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!(
        (29..=30).contains(&days),
        "retained {days} days from the real clock, not the replayed one"
    );
    // A directory ledger cannot promise that, and says so.
    let o = bin()
        .current_dir(d)
        .env("SOC2_EVIDENCE_NOW", "2026-01-05T02:00:00Z")
        .args([
            "collect",
            "--config",
            "worm.toml",
            "--ledger",
            "dirledger",
            "--key",
            "k",
            "--since",
            "2026-01-01",
            "-q",
        ])
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("object_lock_days needs an s3:// ledger"),
        "{}",
        text(&o)
    );
    assert!(!d.join("dirledger/runs").exists(), "nothing written");
}
