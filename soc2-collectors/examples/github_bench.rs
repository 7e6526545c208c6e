//! Benchmark: the GitHub collector against a local fake GitHub serving BENCH_PRS (default
//! 5,000) PRs merged in the period, 3 reviews each, with BENCH_LATENCY_MS (default 20 ms) added
//! to every response. Prints requests made, wall time and the collector's peak RSS.
//!
//! The fake server runs in a child process (this example re-executed with `--serve`), so the
//! peak RSS reported (VmHWM of this process) is the collector's and the runner's alone.
//!
//! ```text
//! cargo run --release -p soc2-collectors --example github_bench
//! BENCH_PRS=200 BENCH_LATENCY_MS=0 cargo run -p soc2-collectors --example github_bench
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use soc2_evidence_core::{MapSecrets, Runner};
use soc2_sample::github::{
    at, sha, Account, GithubModel, GithubServer, PullModel, RepoModel, ReviewModel, ServerOptions,
    TOKEN,
};

mod common;

use common::{env_num, proc_status_kib};

fn model(prs: u64) -> GithubModel {
    let people = [
        "alice-acme",
        "bob-okafor",
        "carolschmidt",
        "devpatel",
        "erinw",
    ];
    let period_secs: i64 = 181 * 24 * 3600 - 7200;
    let pulls = (0..prs)
        .map(|i| {
            let merged = at(2026, 1, 1, 1)
                + chrono::Duration::seconds(period_secs * i as i64 / prs.max(1) as i64);
            let author = people[(i % 5) as usize];
            let mut p = PullModel::merged(
                "acme/bench",
                i + 1,
                &format!("Change {} to the billing service", i + 1),
                Account::user(author),
                "main",
                merged,
                Account::user(author),
            );
            let head = p.head_oid.clone();
            for (k, state) in ["COMMENTED", "CHANGES_REQUESTED", "APPROVED"]
                .into_iter()
                .enumerate()
            {
                p.reviews.push(ReviewModel {
                    id: (i + 1) * 10 + k as u64,
                    author: Account::user(people[((i + 1 + k as u64) % 5) as usize]),
                    state,
                    submitted_at: merged - chrono::Duration::hours(6 - 2 * k as i64),
                    commit_oid: if k == 0 {
                        sha(&format!("{i}/first"))
                    } else {
                        head.clone()
                    },
                    association: "MEMBER",
                });
            }
            p
        })
        .collect();
    GithubModel {
        org: "acme".into(),
        org_id: 1,
        repos: vec![RepoModel {
            id: 77,
            name: "bench".into(),
            default_branch: "main".into(),
            archived: false,
            pulls,
            protection: Some(serde_json::json!({
                "required_pull_request_reviews": {"required_approving_review_count": 1, "dismiss_stale_reviews": true},
                "enforce_admins": {"enabled": true},
            })),
            rulesets: Vec::new(),
            rule_suites: Vec::new(),
            direct_pushes: Vec::new(),
            renamed_from: None,
        }],
    }
}

/// Child: serve the model until stdin closes, then print the request counters.
async fn serve() {
    let prs = env_num("BENCH_PRS", 5000);
    let latency = Duration::from_millis(env_num("BENCH_LATENCY_MS", 20));
    let server = GithubServer::start(
        model(prs),
        ServerOptions {
            latency,
            ..ServerOptions::default()
        },
    )
    .await;
    println!("{}", server.api_url());
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    // Blocks until the parent asks for the counters (or dies).
    let _ = tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line)).await;
    let s = server.stats();
    println!(
        "{} {} {}",
        s.requests.load(Ordering::Relaxed),
        s.graphql.load(Ordering::Relaxed),
        s.rest.load(Ordering::Relaxed)
    );
}

#[tokio::main]
async fn main() {
    if std::env::args().nth(1).as_deref() == Some("--serve") {
        serve().await;
        return;
    }
    let prs = env_num("BENCH_PRS", 5000);
    let latency = env_num("BENCH_LATENCY_MS", 20);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut api_url = String::new();
    out.read_line(&mut api_url).unwrap();
    let api_url = api_url.trim().to_string();

    let baseline_kb = proc_status_kib("VmRSS:").unwrap_or(0);
    // Configured as a user would: the section goes through the registry, the token through
    // a secret source instead of the environment.
    let config = soc2_collectors::registry()
        .parse_config(
            &format!(
                "[github]\napi_url = {api_url:?}\nrepos = [\"acme/bench\"]\nbranch = \"main\"\n"
            ),
            "github_bench",
            std::path::Path::new("."),
        )
        .unwrap();
    let runner =
        Runner::from_config(&config, &MapSecrets::default().with("GITHUB_TOKEN", TOKEN)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let started = Instant::now();
    let manifest = runner
        .run("2026-01-01..2026-06-30".parse().unwrap(), &run_dir)
        .await
        .unwrap();
    let wall = started.elapsed();
    let c = &manifest.collectors[0];
    assert!(c.error.is_none(), "{:?}", c.error);

    child.stdin.as_mut().unwrap().write_all(b"stats\n").unwrap();
    let mut counts = String::new();
    out.read_line(&mut counts).unwrap();
    let _ = child.wait();
    let n: Vec<u64> = counts
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let (total, graphql, rest) = (n[0], n[1], n[2]);
    let written = c.records.get("pull_requests").copied().unwrap_or(0);
    assert_eq!(written, prs, "every PR collected");

    println!("github_bench: {prs} merged PRs x 3 reviews, {latency} ms latency per response");
    println!(
        "  records written     : {written} pull requests, {} findings",
        manifest.findings.total()
    );
    println!("  requests            : {total} total = {graphql} GraphQL + {rest} REST");
    println!(
        "  GraphQL per 100 PRs : {:.2} (target <= 2)",
        graphql as f64 * 100.0 / prs.max(1) as f64
    );
    println!(
        "  wall time           : {:.2} s (collection and checks)",
        wall.as_secs_f64()
    );
    println!(
        "  peak RSS (VmHWM)    : {:.1} MB (collector process only; server in a child process; {:.1} MB resident before collection)",
        proc_status_kib("VmHWM:").unwrap_or(0) as f64 / 1024.0,
        baseline_kb as f64 / 1024.0
    );
}
