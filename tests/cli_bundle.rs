//! End to end: keygen, collect, bundle, verify through the binary, including rejection of a
//! tampered bundle and of the wrong key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_soc2-evidence"));
    c.env_remove("RUST_LOG")
        .env_remove("SOC2_EVIDENCE_KEY_PASSPHRASE");
    c
}

fn ok(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{:?}\n{}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn keygen_collect_bundle_verify_and_reject_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/scripts/laptops.sh");
    fs::write(
        d.join("soc2.toml"),
        format!("[organization]\nname = \"Acme Corp\"\n[[command]]\nname = \"laptops\"\nprogram = \"{script}\"\nkind = \"mdm.laptop\"\nsubject_field = \"serial\"\n"),
    )
    .unwrap();

    let out = ok(bin().current_dir(d).args(["keygen", "--out", "key"]));
    assert!(out.contains("SHA256:"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(d.join("key")).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // keygen never overwrites a key.
    assert!(!bin()
        .current_dir(d)
        .args(["keygen", "--out", "key"])
        .status()
        .unwrap()
        .success());

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
    let summary = ok(bin()
        .current_dir(d)
        .args(["bundle", "run", "--key", "key", "-o", "ev.zip", "--json"]));
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["sha256"].as_str().unwrap().len(), 64);
    assert!(
        d.join("run/report/index.html").exists(),
        "report written before bundling"
    );

    let report = ok(bin()
        .current_dir(d)
        .args(["verify", "ev.zip", "--pubkey", "key.pub", "--json"]));
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["problems"].as_array().unwrap().len(), 0);

    // Reproducible: bundling the same run again gives the same bytes.
    ok(bin()
        .current_dir(d)
        .args(["-q", "bundle", "run", "--key", "key", "-o", "ev2.zip"]));
    assert_eq!(
        fs::read(d.join("ev.zip")).unwrap(),
        fs::read(d.join("ev2.zip")).unwrap()
    );

    // A chained bundle verifies against its predecessor.
    ok(bin().current_dir(d).args([
        "-q",
        "bundle",
        "run",
        "--key",
        "key",
        "-o",
        "ev3.zip",
        "--previous",
        "ev.zip",
    ]));
    ok(bin().current_dir(d).args([
        "-q",
        "verify",
        "ev3.zip",
        "--pubkey",
        "key.pub",
        "--previous",
        "ev.zip",
    ]));

    // The wrong key is rejected with exit 1.
    ok(bin()
        .current_dir(d)
        .args(["-q", "keygen", "--out", "other"]));
    let o = bin()
        .current_dir(d)
        .args(["verify", "ev.zip", "--pubkey", "other.pub"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("not the pinned key"));

    // One flipped byte anywhere in the archive is rejected.
    let mut bytes = fs::read(d.join("ev.zip")).unwrap();
    // Entries are deflated, so flip a byte inside the first entry's compressed data.
    let pos = 30
        + u16::from_le_bytes([bytes[26], bytes[27]]) as usize
        + u16::from_le_bytes([bytes[28], bytes[29]]) as usize;
    bytes[pos] ^= 0x55;
    fs::write(d.join("tampered.zip"), bytes).unwrap();
    let o = bin()
        .current_dir(d)
        .args(["verify", "tampered.zip", "--pubkey", "key.pub"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // An incomplete run is never bundled.
    let run_json = d.join("run/run.json");
    let text = fs::read_to_string(&run_json)
        .unwrap()
        .replace("\"complete\"", "\"running\"");
    fs::write(&run_json, text).unwrap();
    let o = bin()
        .current_dir(d)
        .args(["bundle", "run", "--key", "key", "-o", "bad.zip"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(!d.join("bad.zip").exists());
}
