//! `sample` through the binary: the same sample from a run directory and from its bundle,
//! re-derived by the README's shell loop (sha256sum, sort), and an unknown population named.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::process::Command;

use common::{bin, ok, text};
use soc2_sample::stock_tools::{find, StockTool};

#[test]
fn a_sample_is_the_same_from_the_run_the_bundle_and_the_shell() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    common::laptops_config(
        d,
        r#"for i in 01 02 03 04 05 06 07 08 09 10 11 12; do printf '{"serial":"H%s","owner":"u%s@acme.example"}\n' "$i" "$i"; done"#,
        "",
    );
    common::collect_run(d, "run");
    ok(bin()
        .current_dir(d)
        .args(["-q", "bundle", "run", "--key", "key", "-o", "ev.zip"]));

    let args = [
        "--population",
        "laptops/records",
        "--size",
        "3",
        "--seed",
        "fy 2026",
        "--json",
    ];
    let from_dir: serde_json::Value = serde_json::from_str(&ok(bin()
        .current_dir(d)
        .arg("sample")
        .arg("run")
        .args(args)))
    .unwrap();
    let from_zip: serde_json::Value = serde_json::from_str(&ok(bin()
        .current_dir(d)
        .arg("sample")
        .arg("ev.zip")
        .args(args)))
    .unwrap();
    assert_eq!(from_dir, from_zip);
    let jsonl = fs::read_to_string(d.join("run/laptops/records.jsonl")).unwrap();
    let lines = jsonl.lines().filter(|l| !l.trim().is_empty()).count() as u64;
    assert_eq!(from_dir["count"], lines);
    assert!(lines > 2, "the sample must be a real choice");
    let picked: Vec<&str> = from_dir["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject_id"].as_str().unwrap())
        .collect();
    assert_eq!(picked.len(), 3);

    // The CSV starts with rank,key,subject_id.
    ok(bin().current_dir(d).args([
        "-q",
        "sample",
        "ev.zip",
        "--population",
        "laptops/records",
        "--frequency",
        "quarterly",
        "--seed",
        "fy 2026",
        "-o",
        "s.csv",
    ]));
    let csv = fs::read_to_string(d.join("s.csv")).unwrap();
    assert!(csv.starts_with("rank,key,subject_id,"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "quarterly means 2: {csv}");

    // The auditor's loop, with stock tools only (the ids are taken out here, where the README
    // uses jq).
    if let Some([_sha]) = find([StockTool::Sha256sum]) {
        let ids: Vec<String> = jsonl
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["subject_id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        fs::write(d.join("ids.txt"), ids.join("\n") + "\n").unwrap();
        let o = Command::new("sh")
            .current_dir(d)
            .arg("-c")
            .arg(r#"while IFS= read -r id; do printf '%s %s\n' "$(printf '%s' "$SEED:$id" | sha256sum | cut -d' ' -f1)" "$id"; done < ids.txt | sort -s -k1,1 | head -n 3 | cut -d' ' -f2-"#)
            .env("SEED", "fy 2026")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let shell: Vec<String> = String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(shell, picked);
    }

    // An unknown population is a usage error that lists what the run has.
    let unknown = bin()
        .current_dir(d)
        .args([
            "sample",
            "run",
            "--population",
            "laptops/nope",
            "--size",
            "1",
            "--seed",
            "s",
        ])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("laptops/records"),
        "{}",
        text(&unknown)
    );
}
