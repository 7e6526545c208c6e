//! `diff` through the binary, over run directories and bundles, and the report's "changes
//! since the previous bundle" section from `bundle --previous`.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::io::Read;
use std::path::Path;

use common::{bin, ok, text};

fn collect(d: &Path, hosts: &str, out: &str) {
    fs::write(d.join("hosts.jsonl"), hosts).unwrap();
    common::collect_run(d, out);
}

fn zip_entry(zip: &Path, suffix: &str) -> Option<String> {
    let mut archive = zip::ZipArchive::new(fs::File::open(zip).unwrap()).unwrap();
    let name = archive
        .file_names()
        .find(|n| n.ends_with(suffix))?
        .to_string();
    let mut s = String::new();
    archive
        .by_name(&name)
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    Some(s)
}

#[test]
fn diff_lists_subject_changes_and_the_bundle_reports_them() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    common::laptops_config(d, "cat hosts.jsonl", "");
    collect(
        d,
        "{\"serial\":\"H1\",\"encrypted\":true}\n{\"serial\":\"H2\",\"encrypted\":true}\n{\"serial\":\"H3\",\"encrypted\":true}\n",
        "run1",
    );
    ok(bin()
        .current_dir(d)
        .args(["-q", "bundle", "run1", "--key", "key", "-o", "ev1.zip"]));
    // H1 unchanged (its keys reordered), H2 gone, H3 no longer encrypted, H4 new.
    collect(
        d,
        "{\"encrypted\":true,\"serial\":\"H1\"}\n{\"serial\":\"H3\",\"encrypted\":false}\n{\"serial\":\"H4\",\"encrypted\":true}\n",
        "run2",
    );

    // A run and its own bundle hold the same evidence: exit 0.
    let same = bin()
        .current_dir(d)
        .args(["diff", "run1", "ev1.zip"])
        .output()
        .unwrap();
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    assert!(text(&same).contains("no differences"), "{}", text(&same));

    let o = bin()
        .current_dir(d)
        .args(["diff", "ev1.zip", "run2", "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let pops = json["populations"].as_array().unwrap();
    assert_eq!(pops.len(), 1, "{json}");
    assert_eq!(pops[0]["population"], "laptops/records");
    assert_eq!(pops[0]["added"], serde_json::json!(["H4"]));
    assert_eq!(pops[0]["removed"], serde_json::json!(["H2"]));
    assert_eq!(pops[0]["changed"], serde_json::json!(["H3"]));

    let human = bin()
        .current_dir(d)
        .args(["diff", "run1", "run2"])
        .output()
        .unwrap();
    assert_eq!(human.status.code(), Some(1));
    let out = String::from_utf8(human.stdout).unwrap();
    assert!(
        out.contains("  + H4") && out.contains("  - H2") && out.contains("  ~ H3"),
        "{out}"
    );

    // Something that is not a run is a usage error, as in diff(1).
    let bad = bin()
        .current_dir(d)
        .args(["diff", "run1", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("nowhere"), "{}", text(&bad));

    // The next bundle names what changed since the previous one.
    ok(bin().current_dir(d).args([
        "-q",
        "bundle",
        "run2",
        "--key",
        "key",
        "-o",
        "ev2.zip",
        "--previous",
        "ev1.zip",
    ]));
    ok(bin().current_dir(d).args([
        "-q",
        "verify",
        "ev2.zip",
        "--pubkey",
        "key.pub",
        "--previous",
        "ev1.zip",
    ]));
    let html = zip_entry(&d.join("ev2.zip"), "data/report/index.html").unwrap();
    assert!(
        html.contains("Changes since the previous bundle"),
        "no section"
    );
    assert!(html.contains("ev1.zip"), "the previous bundle is named");
    let changes: serde_json::Value = serde_json::from_str(
        &zip_entry(
            &d.join("ev2.zip"),
            "data/report/changes-since-previous.json",
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(changes["populations"], json["populations"]);
    assert_eq!(
        changes["old"], "ev1.zip",
        "no path of the machine in the bundle"
    );
    // Without --previous there is no such section.
    let html1 = zip_entry(&d.join("ev1.zip"), "data/report/index.html").unwrap();
    assert!(!html1.contains("Changes since the previous bundle"));
    assert!(zip_entry(&d.join("ev1.zip"), "changes-since-previous.json").is_none());
}
