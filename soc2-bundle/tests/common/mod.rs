//! Shared helpers for the integration tests: a small realistic run directory, metadata, and
//! archive rewriting for tamper tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use soc2_bundle::{BundleMetadata, BundleOptions, BundleSummary, Problem, SigningKey};
use zip::write::SimpleFileOptions;

/// Writes a small but realistic run directory under `dir/run` and returns its path.
pub fn make_run_dir(dir: &Path) -> PathBuf {
    let run = dir.join("run");
    for d in ["okta", "github", "report"] {
        fs::create_dir_all(run.join(d)).unwrap();
    }
    fs::write(
        run.join("run.json"),
        r#"{"status":"complete","period":{"start":"2026-01-01","end":"2026-06-30"},"started_at":"2026-07-01T07:55:00Z","finished_at":"2026-07-01T08:00:00Z","tool_version":"0.1.0","collectors":{"okta":{"status":"ok","records":3},"github":{"status":"ok","records":2}}}"#,
    )
    .unwrap();
    let mut users = String::new();
    for i in 0..3 {
        users.push_str(&format!(
            "{{\"id\":\"00u{i}\",\"login\":\"user{i}@acme.example\",\"status\":\"ACTIVE\",\"mfa\":[\"webauthn\"]}}\n"
        ));
    }
    fs::write(run.join("okta/users.jsonl"), users).unwrap();
    fs::write(
        run.join("okta/provenance.json"),
        r#"{"source":"okta","base_url":"https://acme.okta.com","endpoints":["/api/v1/users"],"pages":1,"reported":3,"received":3}"#,
    )
    .unwrap();
    fs::write(
        run.join("github/pull_requests.jsonl"),
        "{\"repo\":\"acme/api\",\"number\":1,\"approved_by\":\"bob\"}\n{\"repo\":\"acme/api\",\"number\":2,\"approved_by\":null}\n",
    )
    .unwrap();
    fs::write(
        run.join("findings.jsonl"),
        "{\"check_id\":\"github.pr_reviewed\",\"criteria\":[\"CC8.1\"],\"status\":\"fail\",\"subject_id\":\"acme/api#2\",\"summary\":\"merged without approval\"}\n",
    )
    .unwrap();
    fs::write(
        run.join("report/index.html"),
        "<!doctype html><title>Evidence</title>\n",
    )
    .unwrap();
    fs::write(
        run.join("report/Zugriffsübersicht 2026.csv"),
        "user,mfa\nuser0,webauthn\n",
    )
    .unwrap();
    run
}

/// Metadata used by the tests.
pub fn meta() -> BundleMetadata {
    BundleMetadata {
        organization: "Acme Corp".into(),
        period_start: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        period_end: chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        collected_at: "2026-07-01T08:00:00Z".parse().unwrap(),
        external_identifier: None,
        previous_bundle_sha256: None,
        extra_info: Vec::new(),
    }
}

/// Builds a bundle of a fresh run dir in `dir`; returns the key, the zip path and the summary.
pub fn build(dir: &Path) -> (SigningKey, PathBuf, BundleSummary) {
    let run = make_run_dir(dir);
    let key = SigningKey::generate();
    let out = dir.join("evidence.zip");
    let s = soc2_bundle::build_bundle(&run, &key, &meta(), &out, &BundleOptions::default())
        .expect("build");
    (key, out, s)
}

/// All entries of a zip as (name, content), in archive order.
pub fn read_entries(zip: &Path) -> Vec<(String, Vec<u8>)> {
    let mut a = zip::ZipArchive::new(fs::File::open(zip).unwrap()).unwrap();
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            (f.name().to_string(), v)
        })
        .collect()
}

/// Writes `entries` as a fresh Deflated zip.
pub fn write_entries(dst: &Path, entries: &[(String, Vec<u8>)]) {
    let mut w = zip::ZipWriter::new(fs::File::create(dst).unwrap());
    let o = SimpleFileOptions::default().unix_permissions(0o644);
    for (n, c) in entries {
        w.start_file(n.as_str(), o).unwrap();
        w.write_all(c).unwrap();
    }
    w.finish().unwrap();
}

/// Rewrites `src` into `dst`, letting `f` edit the entry list.
pub fn rewrite(src: &Path, dst: &Path, f: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) {
    let mut e = read_entries(src);
    f(&mut e);
    write_entries(dst, &e);
}

/// The kinds (serde tag) of the problems.
pub fn kinds(problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| {
            serde_json::to_value(p).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}
