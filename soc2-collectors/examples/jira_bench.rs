//! Jira collector benchmark: a generated site (10,000 change tickets by default, 10 % with a
//! truncated embedded changelog of 150 histories) behind a local fake Jira that delays every
//! response by 20 ms, collected end to end through the runner with both checks.
//!
//! ```text
//! cargo run --release -p soc2-collectors --example jira_bench
//! BENCH_TICKETS=500 BENCH_LATENCY_MS=2 cargo run -p soc2-collectors --example jira_bench
//! ```
//!
//! Environment: `BENCH_TICKETS` (10000), `BENCH_LATENCY_MS` (20), `BENCH_CONCURRENCY` (the
//! collector's default, 8), `BENCH_REMOTE_LINKS` (`done`, or `all` / `none`). The fake server
//! runs in a child process (this program with `JIRA_BENCH_SERVE=1`), so the peak RSS printed
//! is the collector's and the runner's alone; the server's own peak is printed separately.
//!
//! The issue's request budget, `tickets / 100 + truncated tickets × changelog pages`, covers
//! search and changelog requests; remote-link requests (one per done ticket, because Jira
//! search cannot return remote links) are counted and printed separately.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use soc2_collectors::jira::{
    ApprovedBeforeImplementation, JiraAuth, JiraCollector, JiraSettings, LinkedToCode,
    RemoteLinkMode,
};
use soc2_evidence_core::http::Secret;
use soc2_evidence_core::{Check, Runner};
use soc2_sample::jira::{self as sample, BenchOptions};

mod common;

use common::{announce_and_wait, env_num, peak_rss_mib, ServerProcess};

fn options() -> BenchOptions {
    BenchOptions {
        tickets: env_num("BENCH_TICKETS", 10_000) as usize,
        latency: Duration::from_millis(env_num("BENCH_LATENCY_MS", 20)),
        ..BenchOptions::default()
    }
}

/// Child mode: serve the generated site until stdin closes, then report requests and RSS.
async fn serve() {
    let server = sample::start_bench(options()).await;
    announce_and_wait(&server.base_url()).await;
    let (search, changelog, links) = server.requests();
    println!("SEARCH {search}");
    println!("CHANGELOG {changelog}");
    println!("REMOTELINK {links}");
    println!("RSS {:.1}", peak_rss_mib());
}

#[tokio::main]
async fn main() {
    if std::env::var_os("JIRA_BENCH_SERVE").is_some() {
        serve().await;
        return;
    }
    let o = options();

    let server = ServerProcess::spawn("JIRA_BENCH_SERVE");
    let base = server.base_url.clone();

    let mut settings = JiraSettings::new(
        &base,
        JiraAuth::Basic {
            email: "bench@acme.example".into(),
            token: Secret::new("bench-token"),
        },
        "project = BENCH",
    );
    settings.concurrency = env_num("BENCH_CONCURRENCY", settings.concurrency as u64) as usize;
    settings.remote_links = match std::env::var("BENCH_REMOTE_LINKS").as_deref() {
        Ok("all") => RemoteLinkMode::All,
        Ok("none") => RemoteLinkMode::None,
        _ => RemoteLinkMode::Done,
    };
    let concurrency = settings.concurrency;
    let collector = JiraCollector::new(settings).unwrap();
    let checks: Vec<Box<dyn Check>> = vec![
        Box::new(ApprovedBeforeImplementation::default()),
        Box::new(LinkedToCode::default()),
    ];
    let rss_before = peak_rss_mib();

    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let started = Instant::now();
    let manifest = Runner::new()
        .collector(Box::new(collector))
        .checks(checks)
        .run("2026-01-01..2026-06-30".parse().unwrap(), &run_dir)
        .await
        .unwrap();
    let total = started.elapsed();
    let c = &manifest.collectors[0];
    assert!(c.error.is_none(), "collector failed: {:?}", c.error);
    let collect = (c.finished_at - c.started_at).to_std().unwrap_or_default();

    let report = server.finish();
    let field = |name: &str| report.field(name);
    let num = |name: &str| field(name).parse::<u64>().unwrap_or(0);
    let (search, changelog, links) = (num("SEARCH "), num("CHANGELOG "), num("REMOTELINK "));

    let tickets = o.tickets as u64;
    let truncated = (0..o.tickets)
        .filter(|i| i % o.truncated_every == 0)
        .count() as u64;
    let pages_per_truncated = o.truncated_histories.div_ceil(100) as u64;
    let budget = tickets.div_ceil(100) + truncated * pages_per_truncated;
    let requests = search + changelog + links;
    let sequential = o.latency * requests as u32;

    println!(
        "jira_bench: {tickets} tickets ({truncated} with truncated changelogs of {} histories), \
         {} ms latency per request, concurrency {concurrency}",
        o.truncated_histories,
        o.latency.as_millis()
    );
    println!("  records:              {:?}", c.records);
    println!(
        "  search + changelog:   {} requests ({search} search pages, {changelog} changelog pages); \
         budget tickets/100 + truncated x pages = {budget} -> {}",
        search + changelog,
        if search + changelog <= budget { "within budget" } else { "OVER BUDGET" }
    );
    println!("  remote links:         {links} requests (one per done ticket, outside the budget)");
    println!("  requests made:        {requests} in total");
    println!("  collection wall:      {:.2} s", collect.as_secs_f64());
    println!(
        "  run wall (+checks):   {:.2} s ({} findings: {} pass, {} fail)",
        total.as_secs_f64(),
        manifest.findings.total(),
        manifest.findings.pass,
        manifest.findings.fail
    );
    println!(
        "  one at a time:        >= {:.1} s (requests x latency); speed-up >= {:.1}x",
        sequential.as_secs_f64(),
        sequential.as_secs_f64() / collect.as_secs_f64().max(1e-9)
    );
    println!(
        "  peak RSS collector:   {:.1} MiB (before the run: {rss_before:.1} MiB)",
        peak_rss_mib()
    );
    println!(
        "  peak RSS server:      {} MiB (separate process)",
        field("RSS ")
    );
    assert!(
        search + changelog <= budget,
        "search + changelog requests exceed the budget"
    );
}
