//! RFC 3161 time-stamps through the binary, against a local TSA over HTTP (`openssl ts
//! -reply` behind it; skipped without openssl): `bundle --tsa-url` and `[bundle] tsa_url`,
//! `verify --tsa-ca`, and a TSA that fails leaving nothing behind.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{bin, text};
use soc2_sample::tsa::{Behaviour, LocalTsa};

fn ok(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn setup(d: &Path, extra: &str) {
    common::script(
        d,
        "hosts.sh",
        r#"printf '{"serial":"H1"}\n{"serial":"H2"}\n'"#,
    );
    let script = d.join("hosts.sh");
    fs::write(
        d.join("soc2.toml"),
        format!("[organization]\nname = \"Acme Corp\"\n{extra}[[command]]\nname = \"laptops\"\nprogram = \"{}\"\nkind = \"mdm.laptop\"\nsubject_field = \"serial\"\n", script.display()),
    )
    .unwrap();
    ok(bin().current_dir(d).args(["-q", "keygen", "--out", "key"]));
    ok(bin().current_dir(d).args([
        "-q",
        "collect",
        "-c",
        "soc2.toml",
        "-p",
        "2026-01-01..2026-06-30",
        "-o",
        "run",
    ]));
}

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
