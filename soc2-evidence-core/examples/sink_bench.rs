//! Benchmark: stream N records (default 1,000,000) through the JSON Lines sink and print
//! records/s and peak RSS. Target on a 2-core machine: >= 300,000 records/s, peak RSS < 50 MB.
//!
//! `cargo run --release -p soc2-evidence-core --example sink_bench [N]`

use std::time::Instant;

use serde::{Deserialize, Serialize};
use soc2_evidence_core::{CollectEnd, Evidence, EvidenceSinkExt, JsonlSink, Population};

/// A record shaped like an Okta user: a dozen fields, ~400 bytes of JSON.
#[derive(Serialize, Deserialize)]
struct User {
    id: String,
    status: String,
    created: String,
    activated: Option<String>,
    status_changed: String,
    last_login: Option<String>,
    password_changed: String,
    login: String,
    email: String,
    department: String,
    manager: String,
    termination_date: Option<String>,
}

impl Evidence for User {
    const KIND: &'static str = "bench.user";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.1"];
    fn subject_id(&self) -> String {
        self.id.clone()
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

const USERS: Population<User> = Population::state("users", "benchmark");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let mut sink = JsonlSink::create(dir.path(), "bench", "1")?.declare(vec![USERS.spec()]);
    let mut users = sink.open(&USERS)?;
    for i in 0..n {
        let user = User {
            id: format!("00u{i:017}"),
            status: (if i % 50 == 0 {
                "DEPROVISIONED"
            } else {
                "ACTIVE"
            })
            .to_string(),
            created: ("2024-03-01T10:00:00.000Z").to_string(),
            activated: Some("2024-03-01T10:05:00.000Z".to_string()),
            status_changed: ("2024-03-01T10:05:00.000Z").to_string(),
            last_login: if i % 7 == 0 {
                None
            } else {
                Some("2026-05-30T08:12:44.000Z".to_string())
            },
            password_changed: ("2026-01-12T09:00:00.000Z").to_string(),
            login: format!("user{i}@example.com"),
            email: format!("user{i}@example.com"),
            department: ("Engineering").to_string(),
            manager: format!("manager{}@example.com", i % 100),
            termination_date: None,
        };
        users.emit(&user)?;
    }
    users.provenance().received("/bench", n);
    users.finish()?;
    let outcome = sink.finish(CollectEnd::Complete)?;
    let secs = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(dir.path().join("bench/users.jsonl"))?.len();
    println!("records written:  {}", outcome.records["users"]);
    println!("file size:        {:.1} MB", bytes as f64 / 1e6);
    println!("wall time:        {secs:.2} s");
    println!("throughput:       {:.0} records/s", n as f64 / secs);
    println!("peak RSS:         {:.1} MB", peak_rss_mb());
    Ok(())
}
