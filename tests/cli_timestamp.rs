//! RFC 3161 time-stamps through the binary, against a local TSA over HTTP (`openssl ts
//! -reply` behind it; skipped without openssl): `bundle --tsa-url` and `[bundle] tsa_url`,
//! `verify --tsa-ca`, and a TSA that fails leaving nothing behind.
#![allow(clippy::unwrap_used)]

mod common;

use common::{bin, ok, text};
use soc2_sample::tsa::{Behaviour, LocalTsa};
use std::fs;
use std::path::Path;

fn setup(d: &Path, extra: &str) {
    common::laptops_config(d, HOSTS, extra);
    common::collect_run(d, "run");
}

const HOSTS: &str = r#"printf '{"serial":"H1"}\n{"serial":"H2"}\n'"#;

#[test]
fn bundle_time_stamps_and_verify_checks_the_token() {
    let (Some(tsa), Some(other)) = (LocalTsa::start("CLI TSA"), LocalTsa::start("Stranger TSA"))
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    setup(d, "");
    let out = ok(bin()
        .current_dir(d)
        .args(["bundle", "run", "--key", "key", "-o", "ev.zip", "--tsa-url"])
        .arg(tsa.url()));
    assert!(
        out.contains("time-stamp:") && out.contains("CLI TSA"),
        "{out}"
    );
    assert!(
        out.contains("openssl ts -verify"),
        "the openssl recipe is printed: {out}"
    );
    assert_eq!(tsa.answered(), 1);

    let v = ok(bin()
        .current_dir(d)
        .args(["verify", "ev.zip", "--pubkey", "key.pub", "--tsa-ca"])
        .arg(tsa.ca_pem()));
    assert!(
        v.contains("time-stamped") && v.contains("verified against the trusted TSA CA"),
        "{v}"
    );

    // Another TSA's CA: refused, and the problem named.
    let o = bin()
        .current_dir(d)
        .args(["verify", "ev.zip", "--pubkey", "key.pub", "--tsa-ca"])
        .arg(other.ca_pem())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("does not chain to the trusted CA"),
        "{}",
        text(&o)
    );

    // A bundle without a token, when the auditor asks for one.
    ok(bin()
        .current_dir(d)
        .args(["-q", "bundle", "run", "--key", "key", "-o", "plain.zip"]));
    let o = bin()
        .current_dir(d)
        .args(["verify", "plain.zip", "--pubkey", "key.pub", "--tsa-ca"])
        .arg(tsa.ca_pem())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("tagmanifest-sha256.txt.tsr: missing"),
        "{}",
        text(&o)
    );
}

#[test]
fn the_config_names_the_tsa_and_a_failing_tsa_writes_nothing() {
    let (Some(tsa), Some(down)) = (
        LocalTsa::start("Config TSA"),
        LocalTsa::start_with("Down TSA", Behaviour::Unavailable),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    setup(d, &format!("[bundle]\ntsa_url = \"{}\"\n", tsa.url()));
    let out = ok(bin()
        .current_dir(d)
        .args(["bundle", "run", "--key", "key", "-o", "ev.zip"]));
    assert!(
        out.contains("Config TSA"),
        "[bundle] tsa_url is used: {out}"
    );

    let o = bin()
        .current_dir(d)
        .args([
            "bundle",
            "run",
            "--key",
            "key",
            "-o",
            "down.zip",
            "--tsa-url",
        ])
        .arg(down.url())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("HTTP 503") && text(&o).contains("no bundle was written"),
        "{}",
        text(&o)
    );
    let left: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("down.zip"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // A URL that is not http(s) is a usage error before anything runs.
    let o = bin()
        .current_dir(d)
        .args([
            "bundle",
            "run",
            "--key",
            "key",
            "-o",
            "x.zip",
            "--tsa-url",
            "ftp://tsa.example/",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn ledger_runs_are_time_stamped_and_the_period_uses_the_token_times() {
    let (Some(tsa), Some(other)) = (
        LocalTsa::start("Ledger TSA"),
        LocalTsa::start("Stranger TSA"),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    common::laptops_config(
        d,
        HOSTS,
        &format!("[bundle]\ntsa_url = \"{}\"\n", tsa.url()),
    );
    // Real time, no clock override: a time-stamp proves the real time, so a replayed clock
    // would put the runs outside any period that its token times are in.
    let today = chrono::Utc::now().date_naive();
    let since = today - chrono::Days::new(3);
    for _ in 0..2 {
        ok(bin()
            .current_dir(d)
            .env_remove("SOC2_EVIDENCE_NOW")
            .args([
                "-q",
                "collect",
                "-c",
                "soc2.toml",
                "--ledger",
                "L",
                "--key",
                "key",
                "--since",
            ])
            .arg(since.to_string()));
    }
    assert_eq!(tsa.answered(), 2, "each run bundle is time-stamped");

    let v = bin()
        .current_dir(d)
        .args(["ledger", "verify", "L", "--pubkey", "key.pub", "--tsa-ca"])
        .arg(tsa.ca_pem())
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", text(&v));

    let range = format!("{since}..{}", today + chrono::Days::new(1));
    let p = ok(bin()
        .current_dir(d)
        .args([
            "period", "--ledger", "L", "--period", &range, "--out", "P", "--pubkey", "key.pub",
            "--tsa-ca",
        ])
        .arg(tsa.ca_pem()));
    assert!(p.contains("RFC 3161 time-stamps of 2 of 2 run(s)"), "{p}");
    let desc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.join("P/ledger/period.json")).unwrap()).unwrap();
    for run in desc["runs"].as_array().unwrap() {
        assert_eq!(run["timestamp_verified"], true, "{run}");
        assert_eq!(run["collected_at"], run["timestamped_at"], "{run}");
    }
    ok(bin()
        .current_dir(d)
        .args(["-q", "bundle", "P", "--key", "key", "-o", "period.zip"]));
    let html = fs::read_to_string(d.join("P/report/index.html")).unwrap();
    assert!(html.contains("Ledger runs") && html.contains("RFC 3161 time-stamp (verified)"));

    // Without the CA the period says its times are the machine's clock.
    let p = ok(bin().current_dir(d).args([
        "period", "--ledger", "L", "--period", &range, "--out", "P2", "--pubkey", "key.pub",
    ]));
    assert!(p.contains("the collecting machine's clock"), "{p}");

    // Another TSA's CA: the runs do not verify and nothing is assembled.
    let o = bin()
        .current_dir(d)
        .args([
            "period", "--ledger", "L", "--period", &range, "--out", "P3", "--pubkey", "key.pub",
            "--tsa-ca",
        ])
        .arg(other.ca_pem())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("does not chain"), "{}", text(&o));
    assert!(!d.join("P3/run.json").exists());
}
