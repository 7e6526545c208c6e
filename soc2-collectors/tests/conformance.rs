//! Every built-in collector module through the conformance suite, each against its own
//! fixture: the sample fake servers for the HTTP collectors, recorded files for backups.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(unused_imports)] // each test needs only its own collector's feature

use std::path::Path;

use soc2_evidence_core::testing::Conformance;

/// Every test binary pins the same instant, 2026-07-01T00:00:00Z (the demo's replay time), at
/// the start of every test: the tests share one process clock, which can be pinned only
/// before it is first read, and retention windows (Okta's 90-day System Log) depend on it.
#[allow(dead_code)]
fn pin_clock() {
    soc2_evidence_core::clock::set_override("2026-07-01T00:00:00Z".parse().unwrap())
        .expect("every test pins the same instant");
}

#[cfg(feature = "github")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_github_module_passes_the_conformance_suite() {
    pin_clock();
    use soc2_sample::github::{self as sample, GithubServer, ServerOptions};
    let server = GithubServer::start(sample::sample_model(), ServerOptions::default()).await;
    Conformance::new(
        soc2_collectors::registry(),
        "github",
        "2026-01-01..2026-06-30",
    )
    .http_upstream(&server.api_url())
    .secret("GITHUB_TOKEN", sample::TOKEN)
    .config(|env| {
        format!(
            "[github]\napi_url = {:?}\nrepos = [\"acme/api\", \"acme/web\"]\ntimeout_secs = {}\n",
            env.base_url, env.timeout_secs
        )
    })
    .run()
    .await
    .assert_ok();
}

#[cfg(feature = "backups")]
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

#[cfg(feature = "backups")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backups_module_passes_the_conformance_suite() {
    pin_clock();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/backups");
    Conformance::new(soc2_collectors::registry(), "backups", "2026-03-01..2026-03-31")
        .config(move |env| {
            copy_dir(&fixtures.join("pgbackrest/pg-main"), &env.work_dir.join("pg"));
            copy_dir(&fixtures.join("jsonl/k8s-velero"), &env.work_dir.join("velero"));
            "[backups]\n[[backups.source]]\nname = \"pg-main\"\nformat = \"pgbackrest\"\npath = \"pg/*.json\"\n[[backups.source]]\nname = \"k8s-velero\"\nformat = \"jsonl\"\npath = \"velero/*.jsonl\"\nrequire_restore_tests = true\n".to_string()
        })
        .run()
        .await
        .assert_ok();
}

#[cfg(feature = "okta")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_okta_module_passes_the_conformance_suite() {
    pin_clock();
    let server = soc2_sample::okta::start().await;
    Conformance::new(
        soc2_collectors::registry(),
        "okta",
        "2026-01-01..2026-06-30",
    )
    .http_upstream(&server.base_url())
    .secret("OKTA_API_TOKEN", server.token())
    .config(|env| {
        format!(
            "[okta]\nbase_url = {:?}\ntoken_env = \"OKTA_API_TOKEN\"\ntimeout_secs = {}\n",
            env.base_url, env.timeout_secs
        )
    })
    .run()
    .await
    .assert_ok();
}

#[cfg(feature = "jira")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jira_module_passes_the_conformance_suite() {
    pin_clock();
    let server = soc2_sample::jira::start().await;
    Conformance::new(soc2_collectors::registry(), "jira", "2026-01-01..2026-06-30")
        .http_upstream(&server.base_url())
        .secret("JIRA_EMAIL", server.email())
        .secret("JIRA_API_TOKEN", server.token())
        .config(|env| {
            format!(
                "[jira]\nbase_url = {:?}\njql = {:?}\nemail_env = \"JIRA_EMAIL\"\ntoken_env = \"JIRA_API_TOKEN\"\ntimeout_secs = {}\n",
                env.base_url,
                soc2_sample::jira::JQL,
                env.timeout_secs
            )
        })
        .run()
        .await
        .assert_ok();
}
