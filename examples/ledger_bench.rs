//! Continuous-collection benchmark (issue 13): what a daily ledger run costs against a full
//! one-shot collection of the same organisation, and what `period` costs over a whole ledger.
//!
//! ```text
//! cargo run --release --example ledger_bench
//! BENCH_USERS=300 BENCH_PRS=200 BENCH_DAYS=10 cargo run --release --example ledger_bench
//! ```
//!
//! Environment: `BENCH_USERS` (10000 Okta users), `BENCH_PRS` (5000 merged PRs a quarter),
//! `BENCH_DAYS` (180 daily runs), `BENCH_CHANGE_PERMILLE` (10: 1% of users change a day),
//! `BENCH_LATENCY_MS` (0: loopback, no added delay; request counts are the portable cost).
//!
//! What it does, all at the one scale the environment gives:
//! 1. Grows the sample organisation: a synthetic Okta org (every user with push and WebAuthn
//!    factors, 1 in 500 a SUPER_ADMIN, a 5-member admin group) and one GitHub repository that
//!    gets its day's share of merged PRs (3 reviews each). Each day 1% of users change:
//!    `lastUpdated` and `lastLogin` move, a TOTP factor is added (or, if the user has one,
//!    removed), and the System Log records the change and a sign-in. The synthetic org's own
//!    fixed March/May events are dropped, so the only changes are these.
//! 2. Seals one ledger run a day at 23:00 UTC (the clock is overridden and moved forward a
//!    day at a time), the first from the period start, every later one continuing the
//!    previous day's. The GitHub fake is restarted each day with the PRs merged by then, so
//!    no PR is visible before it was merged.
//! 3. After the last daily run, a full one-shot collection of the same org (the whole period
//!    in one run, no ledger) on the same servers: requests per source and wall time, and the
//!    ratio to the last daily run (which continued a run made a day earlier).
//! 4. `soc2-evidence period` over all the runs, in a child process: this example re-run
//!    with an environment variable that makes it call `cli::main_with` over the built-in
//!    registry (exactly what `src/main.rs` does), so its peak RSS is its own and not the
//!    fake servers' or the simulation's. The child writes its VmHWM after the command
//!    returns, so the peak is exact.
//!
//! Figures are printed, never asserted; the program exits non-zero only when the pipeline
//! fails: a collector fails, `period` exits non-zero, or the assembled period does not hold
//! exactly the merged PRs and runs the simulation made.
//!
//! Measured at full size (defaults; release build, 2-core VM, loopback fakes with no added
//! latency, one run of 22 minutes, of which 17 building the 180-run ledger):
//!
//! ```text
//! full one-shot collection (2026-01-01..2026-06-29): 20,449 requests (okta 20,099, github 350),
//!                                                    collection 27.5 s, end to end 28.3 s
//! daily run 180 (previous run a day earlier):          598 requests (okta 588, github 10),
//!                                                    collection 2.4 s, end to end 3.3 s
//! ratio: 2.92% of the requests (okta 2.93%, github 2.86%); 8.6% of the collection time
//! daily runs 2..180: 156 ordinary at 598 requests (2.93%); 23 Okta full-refresh days
//!   (full_refresh_days = 7) at 20,074 (98.2%); mean over all 3,101 a day (15.2%)
//! ledger: 180 runs, 505 MB on disk
//! period over 180 runs, before verdicts were merged as they stream (commit e7e6220):
//!   293.7 s, peak RSS 3,303 MiB, 2.44 million findings held  (targets < 30 s, < 200 MB: MISSED)
//! period over 180 runs, after:
//!   298.6 s, peak RSS 118.0 MiB  (memory target met; time target MISSED)
//!   populations: users 27,900 versions, factors 65,800, system_log 36,000,
//!   pull_requests 9,890, commits 14,808 (both equal to the one-shot's)
//!   findings: 57,812 pass, 9,901 fail, 9,900 error, 1 n/a
//! ```
//!
//! The period assembles its populations in seconds (the files are written within the first
//! minute); the rest of the time goes to judging every check that reads state at every epoch
//! the state changed at, which with 1% of users changing a day is every epoch. Meeting 30 s
//! needs checks that can be judged for the changed subjects only.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Days, NaiveDate, SecondsFormat, Utc};
use serde_json::{json, Value};
use soc2_evidence::bundle::SigningKey;
use soc2_evidence::cli::ledger::collect_run;
use soc2_evidence::core::{
    clock, AuditPeriod, CancellationToken, MapSecrets, NoProgress, RunConfig, RunManifest, Runner,
};
use soc2_evidence::ledger::open_storage;
use soc2_sample::github::{
    sha, Account, GithubModel, GithubServer, PullModel, RepoModel, ReviewModel,
};
use soc2_sample::okta::{self as okta_sample, OktaOrg, OktaServer};

type Res<T> = Result<T, Box<dyn Error>>;

/// The ledger's first day.
const START: (i32, u32, u32) = (2026, 1, 1);
/// Days in a quarter, for "PRs a quarter".
const QUARTER_DAYS: u64 = 91;
const REPO: &str = "acme/bench";

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn start_date() -> Res<NaiveDate> {
    NaiveDate::from_ymd_opt(START.0, START.1, START.2).ok_or_else(|| "bad start date".into())
}

/// Day `k` (1-based) of the simulation.
fn day(k: u64) -> Res<NaiveDate> {
    start_date()?
        .checked_add_days(Days::new(k - 1))
        .ok_or_else(|| format!("day {k} is out of range").into())
}

fn at_hour(d: NaiveDate, hour: u32, minute: u32) -> Res<DateTime<Utc>> {
    Ok(d.and_hms_opt(hour, minute, 0)
        .ok_or("bad time of day")?
        .and_utc())
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Peak RSS of a process in MiB, from `/proc/<pid>/status`.
fn vm_hwm_mib(pid: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

// ---------------------------------------------------------------------------------------------
// The organisation as it changes day by day.

struct Okta {
    org: OktaOrg,
    users: usize,
    permille: u64,
    /// Changes made so far: (users changed, factors added, factors removed).
    changed: (u64, u64, u64),
}

impl Okta {
    fn new(users: usize, permille: u64) -> Self {
        let mut org = okta_sample::synthetic(users);
        // The synthetic org's fixed events (two per user, in March and May) would name a
        // third of the org in MFA events on some days; the benchmark's changes are its own.
        org.logs.clear();
        Self {
            org,
            users,
            permille,
            changed: (0, 0, 0),
        }
    }

    /// Day `k`'s changes: `permille` of the users (a different slice each day) change a
    /// factor and sign in, between 01:00 and 21:00.
    fn change(&mut self, k: u64) -> Res<()> {
        let d = day(k)?;
        let n = self.users as u64;
        let count = (n * self.permille).div_ceil(1000).min(n);
        for j in 0..count {
            // Stride through the org so consecutive days touch different users.
            let i = ((k * count + j) * 7919 % n) as usize;
            let when = at_hour(d, 1, 0)? + chrono::Duration::minutes((j * 1200 / count) as i64);
            let id = format!("00u{i:017}");
            let email = format!("user{i}@example.test");
            let user = self
                .org
                .users
                .get_mut(i)
                .ok_or_else(|| format!("user {i} missing"))?;
            user["lastUpdated"] = json!(ts(when));
            user["lastLogin"] = json!(ts(when));
            let factors = self.org.factors.entry(id.clone()).or_default();
            let totp = factors
                .iter()
                .position(|f| f["factorType"] == "token:software:totp");
            let event_type = match totp {
                Some(p) => {
                    factors.remove(p);
                    self.changed.2 += 1;
                    "user.mfa.factor.deactivate"
                }
                None => {
                    factors.push(okta_sample::factor(
                        &format!("uft{k:04}{i:013}"),
                        &id,
                        "token:software:totp",
                        "ACTIVE",
                        &ts(when),
                    ));
                    self.changed.1 += 1;
                    "user.mfa.factor.activate"
                }
            };
            self.changed.0 += 1;
            let actor = okta_sample::party(&id, "User", &email, &format!("User {i}"));
            self.org.logs.push(okta_sample::event(
                &format!("{k:04x}{j:04x}-0001-11f0-9a6b-0242ac120002"),
                &ts(when),
                "user.session.start",
                "User login to Okta",
                actor.clone(),
                vec![],
                "SUCCESS",
                json!({}),
            ));
            self.org.logs.push(okta_sample::event(
                &format!("{k:04x}{j:04x}-0002-11f0-9a6b-0242ac120002"),
                &ts(when + chrono::Duration::minutes(1)),
                event_type,
                "Factor changed",
                actor.clone(),
                vec![actor],
                "SUCCESS",
                json!({}),
            ));
        }
        Ok(())
    }
}

/// Every merged PR of the simulation, in merge order: `per_quarter` a quarter, spread over
/// the days and over 01:00..21:00 of each.
fn all_pulls(per_quarter: u64, days: u64) -> Res<Vec<PullModel>> {
    let people = [
        "alice-acme",
        "bob-okafor",
        "carolschmidt",
        "devpatel",
        "erinw",
    ];
    let total = per_quarter * days / QUARTER_DAYS;
    let mut pulls = Vec::with_capacity(total as usize);
    for i in 0..total {
        let k = 1 + i * days / total.max(1);
        let first_of_day = ((k - 1) * total).div_ceil(days);
        let per_day = (k * total).div_ceil(days) - first_of_day;
        let minute = (i - first_of_day) * 1200 / per_day.max(1);
        let merged = at_hour(day(k)?, 1, 0)? + chrono::Duration::minutes(minute as i64);
        let author = people[(i % 5) as usize];
        let mut p = PullModel::merged(
            REPO,
            i + 1,
            &format!("Change {} to the billing service", i + 1),
            Account::user(author),
            "main",
            merged,
            Account::user(author),
        );
        let head = p.head_oid.clone();
        for (r, state) in ["COMMENTED", "CHANGES_REQUESTED", "APPROVED"]
            .into_iter()
            .enumerate()
        {
            p.reviews.push(ReviewModel {
                id: (i + 1) * 10 + r as u64,
                author: Account::user(people[((i + 1 + r as u64) % 5) as usize]),
                state,
                submitted_at: merged - chrono::Duration::hours(6 - 2 * r as i64),
                commit_oid: if r == 0 {
                    sha(&format!("{i}/first"))
                } else {
                    head.clone()
                },
                association: "MEMBER",
            });
        }
        pulls.push(p);
    }
    Ok(pulls)
}

fn github_model(pulls: &[PullModel]) -> GithubModel {
    GithubModel {
        org: "acme".into(),
        org_id: 1,
        repos: vec![RepoModel {
            id: 77,
            name: "bench".into(),
            default_branch: "main".into(),
            archived: false,
            pulls: pulls.to_vec(),
            protection: Some(json!({
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

fn config(okta: &OktaServer, github: &GithubServer, work: &Path) -> Res<RunConfig> {
    let text = format!(
        "[organization]\nname = \"Bench Corp\"\n\n\
         [okta]\nbase_url = {:?}\ntoken_env = \"BENCH_OKTA_TOKEN\"\n\n\
         [github]\napi_url = {:?}\nrepos = [{REPO:?}]\nbranch = \"main\"\ntoken_env = \"BENCH_GITHUB_TOKEN\"\n",
        okta.base_url(),
        github.api_url(),
    );
    Ok(soc2_evidence::collectors::registry().parse_config(&text, "ledger_bench", work)?)
}

fn secrets(okta: &OktaServer) -> MapSecrets {
    MapSecrets::default()
        .with("BENCH_OKTA_TOKEN", okta.token())
        .with("BENCH_GITHUB_TOKEN", soc2_sample::github::TOKEN)
}

/// What one collection cost.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    okta: u64,
    github: u64,
    /// The collectors' own time (the longest of them; they run concurrently).
    collect: Duration,
    /// End to end: for a ledger run, planning, collection, checks and sealing; for the
    /// one-shot, collection and checks.
    wall: Duration,
}

impl Cost {
    fn requests(&self) -> u64 {
        self.okta + self.github
    }
}

fn collect_time(m: &RunManifest) -> Duration {
    m.collectors
        .iter()
        .filter_map(|c| (c.finished_at - c.started_at).to_std().ok())
        .max()
        .unwrap_or_default()
}

fn failures(m: &RunManifest) -> Vec<String> {
    m.collectors
        .iter()
        .filter_map(|c| c.error.as_ref().map(|e| format!("{}: {e}", c.name)))
        .collect()
}

fn records(m: &RunManifest, collector: &str) -> String {
    m.collectors
        .iter()
        .find(|c| c.name == collector)
        .map(|c| {
            c.records
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn print_cost(label: &str, c: &Cost) {
    println!(
        "  {label:<28} {:>7} requests (okta {:>6}, github {:>5})  collection {:>6.2} s, end to end {:>6.2} s",
        c.requests(),
        c.okta,
        c.github,
        c.collect.as_secs_f64(),
        c.wall.as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// `period` as a child process.

/// Set in the child: run the CLI (`soc2-evidence` itself: `cli::main_with` over the built-in
/// collectors, as `src/main.rs` does) on this process's arguments.
const CLI_ENV: &str = "LEDGER_BENCH_CLI";
/// Where the child writes its own peak RSS (VmHWM, KiB) after the command returns.
const RSS_FILE_ENV: &str = "LEDGER_BENCH_RSS_FILE";

struct PeriodRun {
    wall: Duration,
    peak_mib: f64,
    summary: Value,
}

fn run_period(
    ledger: &Path,
    period: &AuditPeriod,
    out: &Path,
    pubkey: &Path,
    now: DateTime<Utc>,
) -> Res<PeriodRun> {
    let rss_file = out.with_extension("rss");
    let started = Instant::now();
    let child = Command::new(std::env::current_exe()?)
        .env(CLI_ENV, "1")
        .env(RSS_FILE_ENV, &rss_file)
        // The day after the period, as the demo replays its period.
        .env(clock::NOW_ENV, now.to_rfc3339())
        .arg("period")
        .arg("--ledger")
        .arg(ledger)
        .arg("--period")
        .arg(period.to_string())
        .arg("--out")
        .arg(out)
        .arg("--pubkey")
        .arg(pubkey)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let output = child.wait_with_output()?;
    let wall = started.elapsed();
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    if !output.status.success() {
        return Err(format!(
            "`soc2-evidence period` exited with {}:\n{text}",
            output.status
        )
        .into());
    }
    let peak_kib: f64 = std::fs::read_to_string(&rss_file)?.trim().parse()?;
    let summary: Value = serde_json::from_str(&text)
        .map_err(|e| format!("period --json printed something else ({e}):\n{text}"))?;
    Ok(PeriodRun {
        wall,
        peak_mib: peak_kib / 1024.0,
        summary,
    })
}
// ---------------------------------------------------------------------------------------------

fn main() -> std::process::ExitCode {
    if std::env::var_os(CLI_ENV).is_some() {
        let code = soc2_evidence::cli::main_with(soc2_evidence::collectors::registry());
        if let Some(path) = std::env::var_os(RSS_FILE_ENV) {
            let kib = vm_hwm_mib("self").map_or(0.0, |m| m * 1024.0);
            if let Err(e) = std::fs::write(&path, format!("{kib:.0}\n")) {
                eprintln!("error: writing the peak RSS: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
        return code;
    }
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Box::<dyn Error>::from)
        .and_then(|rt| rt.block_on(bench()));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ledger_bench failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn bench() -> Res<()> {
    let users = env_num("BENCH_USERS", 10_000).max(1) as usize;
    let prs = env_num("BENCH_PRS", 5_000).max(1);
    let days = env_num("BENCH_DAYS", 180).max(2);
    let permille = env_num("BENCH_CHANGE_PERMILLE", 10);
    let latency = Duration::from_millis(env_num("BENCH_LATENCY_MS", 0));
    let started = Instant::now();

    let first_run = at_hour(day(1)?, 23, 0)?;
    clock::set_override(first_run)?;

    let work = tempfile::tempdir()?;
    // BENCH_KEEP=1 keeps the ledger and the assembled period for a look afterwards.
    let (work, _guard) = if env_num("BENCH_KEEP", 0) == 1 {
        let kept = work.keep();
        println!(
            "BENCH_KEEP=1: the ledger and the period stay in {}",
            kept.display()
        );
        (Work(kept), None)
    } else {
        (Work(work.path().to_path_buf()), Some(work))
    };
    let ledger_dir = work.path().join("ledger");
    std::fs::create_dir_all(&ledger_dir)?;
    let storage = open_storage(ledger_dir.to_str().ok_or("non-UTF-8 temp path")?)?;
    let key = SigningKey::generate();
    let key_path = work.path().join("bench-key");
    key.write(&key_path)?;
    let pubkey = work.path().join("bench-key.pub");

    let mut okta = Okta::new(users, permille);
    let okta_server = okta_sample::serve(
        okta.org.clone(),
        okta_sample::ServerOptions {
            latency,
            rate_limit: 1_000_000,
            record_requests: false,
            ..okta_sample::ServerOptions::default()
        },
    )
    .await;
    let pulls = all_pulls(prs, days)?;
    let github_options = soc2_sample::github::ServerOptions {
        latency,
        ..soc2_sample::github::ServerOptions::default()
    };

    println!(
        "ledger_bench: {users} Okta users ({:.1}% change a day), {prs} merged PRs a quarter ({} over {days} days), {days} daily runs from {}; {} ms added latency per response",
        permille as f64 / 10.0,
        pulls.len(),
        start_date()?,
        latency.as_millis()
    );
    println!("  Jira is not part of this benchmark (its incremental cost is one JQL search of the window).");

    let mut daily: Vec<(u64, Cost)> = Vec::new();
    let mut last_github: Option<GithubServer> = None;
    for k in 1..=days {
        okta.change(k)?;
        okta_server.set_org(okta.org.clone());
        let run_at = at_hour(day(k)?, 23, 0)?;
        let merged_by_now = pulls
            .iter()
            .take_while(|p| p.merged_at.is_some_and(|m| m <= run_at))
            .count();
        let github = GithubServer::start(
            github_model(&pulls[..merged_by_now]),
            github_options.clone(),
        )
        .await;
        if k > 1 {
            clock::advance_to(run_at)?;
        }
        let cfg = config(&okta_server, &github, work.path())?;
        let okta_before = okta_server.requests();
        let t = Instant::now();
        let sealed = collect_run(
            &cfg,
            &secrets(&okta_server),
            &*storage,
            &key,
            (k == 1).then_some(start_date()?),
            Arc::new(NoProgress),
            CancellationToken::new(),
        )
        .await?;
        let wall = t.elapsed();
        let failed = failures(&sealed.run);
        if !failed.is_empty() {
            return Err(format!("run {k} ({}): {}", day(k)?, failed.join("; ")).into());
        }
        let cost = Cost {
            okta: okta_server.requests() - okta_before,
            github: github
                .stats()
                .requests
                .load(std::sync::atomic::Ordering::Relaxed),
            collect: collect_time(&sealed.run),
            wall,
        };
        if k == 1 || k == days || k % 30 == 0 {
            println!(
                "  run {k:>3} {}: {:>6} requests, {:>5.2} s  (okta: {}; github: {})",
                day(k)?,
                cost.requests(),
                wall.as_secs_f64(),
                records(&sealed.run, "okta"),
                records(&sealed.run, "github")
            );
        }
        daily.push((k, cost));
        last_github = Some(github);
    }
    let github = last_github.ok_or("no run was made")?;
    let ledger_built = started.elapsed();

    // The one-shot: the whole period in one collection, same org, same servers, no ledger.
    let period = AuditPeriod::new(start_date()?, day(days)?)?;
    let cfg = config(&okta_server, &github, work.path())?;
    let okta_before = okta_server.requests();
    let github_before = github
        .stats()
        .requests
        .load(std::sync::atomic::Ordering::Relaxed);
    let t = Instant::now();
    let manifest = Runner::from_config(&cfg, &secrets(&okta_server))?
        .run(period, &work.path().join("one-shot"))
        .await?;
    let full = Cost {
        okta: okta_server.requests() - okta_before,
        github: github
            .stats()
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)
            - github_before,
        collect: collect_time(&manifest),
        wall: t.elapsed(),
    };
    let failed = failures(&manifest);
    if !failed.is_empty() {
        return Err(format!("one-shot collection: {}", failed.join("; ")).into());
    }
    drop(github);

    // Daily runs 2..: every `full_refresh_days` (7) the Okta collector reads every user's
    // factors again; the other days it reads only the changed users'.
    let incremental: Vec<&Cost> = daily.iter().skip(1).map(|(_, c)| c).collect();
    let refresh_threshold = full.okta / 2;
    let (refresh, plain): (Vec<&Cost>, Vec<&Cost>) =
        incremental.iter().partition(|c| c.okta > refresh_threshold);
    let mean = |v: &[&Cost]| -> f64 {
        if v.is_empty() {
            0.0
        } else {
            v.iter().map(|c| c.requests() as f64).sum::<f64>() / v.len() as f64
        }
    };
    let last = daily.last().map(|(_, c)| *c).unwrap_or_default();
    let pct = |n: f64| 100.0 * n / full.requests().max(1) as f64;

    println!("\none daily run against a full one-shot collection of the same org ({period}):");
    print_cost("full one-shot collection", &full);
    print_cost(&format!("daily run {days} (prev. 1 day)"), &last);
    println!(
        "  ratio (requests)             {:.2}% of the full collection (target <= 10%): okta {:.2}%, github {:.2}%",
        pct(last.requests() as f64),
        100.0 * last.okta as f64 / full.okta.max(1) as f64,
        100.0 * last.github as f64 / full.github.max(1) as f64,
    );
    println!(
        "  ratio (collection time)      {:.2}%   (end to end {:.2}%)",
        100.0 * last.collect.as_secs_f64() / full.collect.as_secs_f64().max(1e-9),
        100.0 * last.wall.as_secs_f64() / full.wall.as_secs_f64().max(1e-9),
    );
    println!(
        "  daily runs 2..{days}: {} ordinary, mean {:.0} requests ({:.2}%); {} Okta full-refresh days (every full_refresh_days = 7), mean {:.0} requests ({:.2}%); over all of them {:.0} requests a day ({:.2}%)",
        plain.len(),
        mean(&plain),
        pct(mean(&plain)),
        refresh.len(),
        mean(&refresh),
        pct(mean(&refresh)),
        mean(&incremental),
        pct(mean(&incremental)),
    );
    println!(
        "  one-shot records: okta: {}; github: {}",
        records(&manifest, "okta"),
        records(&manifest, "github")
    );
    println!(
        "  the ledger of {days} runs took {:.1} s to build ({} bytes on disk)",
        ledger_built.as_secs_f64(),
        dir_bytes(&ledger_dir)
    );

    // `period` over every run.
    let out = work.path().join("period");
    let as_of = at_hour(day(days)?, 0, 0)? + chrono::Duration::days(1);
    let p = run_period(&ledger_dir, &period, &out, &pubkey, as_of)?;
    let pops: BTreeMap<String, u64> =
        serde_json::from_value(p.summary["populations"].clone()).unwrap_or_default();
    let runs_used = p.summary["runs_used"].as_u64().unwrap_or(0);
    println!(
        "\n`soc2-evidence period --period {period}` over {runs_used} daily runs (a child process):"
    );
    println!(
        "  wall {:.2} s (target < 30 s), peak RSS {:.1} MiB (target < 200 MB)",
        p.wall.as_secs_f64(),
        p.peak_mib
    );
    for (name, n) in &pops {
        println!("  {name:<40} {n:>8}");
    }
    let f = &p.summary["findings"];
    println!(
        "  findings: {} pass, {} fail, {} error, {} n/a; incomplete populations: {}",
        f["pass"], f["fail"], f["error"], f["not_applicable"], p.summary["incomplete"]
    );
    let (changed, added, removed) = okta.changed;
    println!(
        "  the simulation made {changed} user changes ({added} factors added, {removed} removed) and merged {} PRs",
        pulls.len()
    );

    let mut problems = Vec::new();
    if runs_used != days {
        problems.push(format!(
            "period used {runs_used} runs, the ledger has {days}"
        ));
    }
    let prs_assembled = pops.get("github/pull_requests.jsonl").copied().unwrap_or(0);
    if prs_assembled != pulls.len() as u64 {
        problems.push(format!(
            "period holds {prs_assembled} merged PRs, the simulation merged {}",
            pulls.len()
        ));
    }
    let oneshot_commits = manifest
        .collectors
        .iter()
        .find(|c| c.name == "github")
        .and_then(|c| c.records.get("commits"))
        .copied()
        .unwrap_or(0);
    let commits_assembled = pops.get("github/commits.jsonl").copied().unwrap_or(0);
    if commits_assembled != oneshot_commits {
        problems.push(format!(
            "period holds {commits_assembled} commits, the one-shot collection of the same period {oneshot_commits}"
        ));
    }
    println!(
        "\nledger_bench finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if !problems.is_empty() {
        return Err(problems.join("; ").into());
    }
    Ok(())
}

/// The benchmark's working directory (a tempdir, kept with BENCH_KEEP=1).
struct Work(PathBuf);

impl Work {
    fn path(&self) -> &Path {
        &self.0
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}
