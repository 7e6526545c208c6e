//! Human summaries of a run: collectors, and findings per criterion.

use std::collections::BTreeMap;
use std::path::Path;

use soc2_evidence_core::{CollectorStatus, Finding, FindingStatus, RunManifest};

/// How many failing subjects to list per criterion before "and N more".
const SUBJECTS_SHOWN: usize = 5;

/// Names every failed collector on stderr, followed by `then` (what happens next), and
/// returns `collect`'s exit status: 0 only when every collector succeeded.
pub fn failed_collectors_exit(manifest: &RunManifest, then: &str) -> u8 {
    for c in manifest.collectors.iter().filter(|c| c.error.is_some()) {
        eprintln!(
            "error: collector {:?} failed: {}{then}",
            c.name,
            c.error.as_deref().unwrap_or_default()
        );
    }
    if manifest.all_collectors_ok() {
        super::EXIT_OK
    } else {
        super::EXIT_FAILED
    }
}

/// Prints each collector's outcome and the findings per criterion.
pub fn print_run(manifest: &RunManifest, dir: &Path) {
    println!(
        "run {} for {} written to {}",
        match manifest.status {
            soc2_evidence_core::RunStatus::Complete => "complete",
            soc2_evidence_core::RunStatus::Running => "running",
            soc2_evidence_core::RunStatus::Interrupted => "interrupted",
        },
        manifest.period,
        dir.display()
    );
    println!("\ncollectors:");
    for c in &manifest.collectors {
        let records: u64 = c.records.values().sum();
        let status = match c.status {
            CollectorStatus::Ok => "ok",
            CollectorStatus::Failed => "FAILED",
            CollectorStatus::Cancelled => "cancelled",
        };
        println!("  {:<12} {:<9} {records:>8} records", c.name, status);
    }
    print_findings(dir);
}

/// Reads `findings.jsonl` and prints pass/fail counts and failing subjects per criterion.
pub fn print_findings(dir: &Path) {
    let text = match std::fs::read_to_string(dir.join("findings.jsonl")) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("warning: could not read findings.jsonl: {e}");
            return;
        }
    };
    let mut by_criterion: BTreeMap<String, (u64, u64, u64, Vec<String>)> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let f: Finding = match serde_json::from_str(line) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("warning: findings.jsonl:{}: {e}", i + 1);
                continue;
            }
        };
        for c in &f.criteria {
            let e = by_criterion.entry(c.clone()).or_default();
            match f.status {
                FindingStatus::Pass => e.0 += 1,
                FindingStatus::Fail => {
                    e.1 += 1;
                    e.3.push(format!("{} ({})", f.subject_id, f.check_id));
                }
                FindingStatus::Error => {
                    e.2 += 1;
                    e.3.push(format!("{} ({}: error)", f.subject_id, f.check_id));
                }
                FindingStatus::NotApplicable => {}
            }
        }
    }
    if by_criterion.is_empty() {
        println!("\nfindings: none (no checks apply to the configured collectors)");
        return;
    }
    println!("\nfindings by criterion:");
    for (criterion, (pass, fail, error, subjects)) in &by_criterion {
        let mut line = format!("  {criterion:<6} {pass:>5} pass {fail:>5} fail");
        if *error > 0 {
            line.push_str(&format!(" {error:>3} error"));
        }
        println!("{line}");
        for s in subjects.iter().take(SUBJECTS_SHOWN) {
            println!("           - {s}");
        }
        if subjects.len() > SUBJECTS_SHOWN {
            println!("           … and {} more", subjects.len() - SUBJECTS_SHOWN);
        }
    }
}
