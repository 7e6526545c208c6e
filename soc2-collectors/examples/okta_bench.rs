//! Okta collector benchmark: a synthetic org (10,000 users by default) behind a local fake
//! Okta that delays every response by 20 ms, collected end to end through the runner.
//!
//! ```text
//! cargo run --release -p soc2-collectors --example okta_bench
//! BENCH_USERS=500 BENCH_LATENCY_MS=5 cargo run -p soc2-collectors --example okta_bench
//! ```
//!
//! Environment: `BENCH_USERS` (10000), `BENCH_LATENCY_MS` (20), `BENCH_CONCURRENCY` (the
//! collector's default). The fake server runs in a child process (this same program with
//! `OKTA_BENCH_SERVE=1`), so the peak RSS printed is the collector's and the runner's alone;
//! the server's own peak is printed separately.
//!
//! "One request at a time" is estimated as requests × latency: a lower bound for a sequential
//! collector, so the speed-up printed is, if anything, an understatement.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use soc2_collectors::okta::{checks, OktaCheckSettings, OktaCollector, OktaSettings};
use soc2_evidence_core::http::Secret;
use soc2_evidence_core::Runner;
use soc2_sample::okta as sample;

mod common;

use common::{announce_and_wait, env_num, peak_rss_mib, ServerProcess};

/// Child mode: serve the synthetic org until stdin closes, then report requests and RSS.
async fn serve(users: usize, latency: Duration) {
    let server = sample::serve(
        sample::synthetic(users),
        sample::ServerOptions {
            latency,
            // Generous limits: the benchmark measures throughput, not throttling.
            rate_limit: 1_000_000,
            record_requests: false,
            ..sample::ServerOptions::default()
        },
    )
    .await;
    announce_and_wait(&server.base_url()).await;
    println!("REQUESTS {}", server.requests());
    println!("RSS {:.1}", peak_rss_mib());
}

#[tokio::main]
async fn main() {
    let users = env_num("BENCH_USERS", 10_000) as usize;
    let latency = Duration::from_millis(env_num("BENCH_LATENCY_MS", 20));
    if std::env::var_os("OKTA_BENCH_SERVE").is_some() {
        serve(users, latency).await;
        return;
    }

    let server = ServerProcess::spawn("OKTA_BENCH_SERVE");
    let base = server.base_url.clone();

    let mut settings = OktaSettings::new(&base, Secret::new(sample::TOKEN));
    settings.concurrency = env_num("BENCH_CONCURRENCY", settings.concurrency as u64) as usize;
    let concurrency = settings.concurrency;
    let collector = OktaCollector::new(settings).unwrap();
    let rss_before = peak_rss_mib();

    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let started = Instant::now();
    let manifest = Runner::new()
        .collector(Box::new(collector))
        .checks(checks("okta", &OktaCheckSettings::default()))
        .run("2026-01-01..2026-06-30".parse().unwrap(), &run_dir)
        .await
        .unwrap();
    let total = started.elapsed();
    let c = &manifest.collectors[0];
    assert!(c.error.is_none(), "collector failed: {:?}", c.error);
    let collect = (c.finished_at - c.started_at).to_std().unwrap_or_default();

    let report = server.finish();
    let field = |name: &str| report.field(name);
    let requests: u64 = field("REQUESTS ").parse().unwrap_or(0);
    let sequential = latency * requests as u32;

    println!(
        "okta_bench: {users} users, {} ms latency per request, concurrency {concurrency}",
        latency.as_millis()
    );
    println!("  records:            {:?}", c.records);
    println!("  requests made:      {requests}");
    println!("  collection wall:    {:.2} s", collect.as_secs_f64());
    println!(
        "  run wall (+checks): {:.2} s ({} findings)",
        total.as_secs_f64(),
        manifest.findings.total()
    );
    println!(
        "  one at a time:      >= {:.1} s (requests x latency); speed-up >= {:.1}x",
        sequential.as_secs_f64(),
        sequential.as_secs_f64() / collect.as_secs_f64()
    );
    println!(
        "  peak RSS collector: {:.1} MiB (before the run: {rss_before:.1} MiB)",
        peak_rss_mib()
    );
    println!(
        "  peak RSS server:    {} MiB (separate process)",
        field("RSS ")
    );
}
