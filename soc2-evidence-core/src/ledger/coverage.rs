//! `ledger.coverage`: were the collectors run often enough, and do their event windows leave
//! no hole, over the assembled period?

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::records::{LedgerCollection, COLLECTIONS, LEDGER_INSTANCE};
use crate::{Check, CheckError, EvidenceRef, EvidenceStore, Finding, FindingStatus};

/// The check id.
pub const COVERAGE_CHECK_ID: &str = "ledger.coverage";
// CC4.1: the entity selects, develops and performs ongoing evaluations to ascertain whether
// the components of internal control are present and functioning. Continuous collection is
// that ongoing evaluation; a gap in it is a gap in monitoring.
const CRITERIA: &[&str] = &["CC4.1"];
const SHOWN: usize = 5;

type Span = (DateTime<Utc>, DateTime<Utc>);

/// One finding per collector instance: `fail` when successive successful runs are more than
/// `max_gap_days` apart (or the period starts or ends further from one), or when an event
/// population's windows leave a hole the source no longer holds; `pass` otherwise. A failed
/// run followed in time by a catch-up run leaves no hole: the catch-up reads from where the
/// last successful run ended.
#[derive(Debug, Clone)]
pub struct CoverageCheck {
    max_gap_days: u32,
}

impl CoverageCheck {
    /// The check with `[ledger] max_gap_days`.
    pub fn new(max_gap_days: u32) -> Self {
        Self { max_gap_days }
    }
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn listed(items: &[String]) -> String {
    let mut s = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if items.len() > SHOWN {
        s.push_str(&format!("; and {} more", items.len() - SHOWN));
    }
    s
}

impl Check for CoverageCheck {
    fn id(&self) -> &str {
        COVERAGE_CHECK_ID
    }

    fn criteria(&self) -> &[&'static str] {
        CRITERIA
    }

    fn description(&self) -> &str {
        "Every collector ran successfully at least every max_gap_days over the period, and its event windows cover the period without a hole"
    }

    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let file = COLLECTIONS.at(LEDGER_INSTANCE).file();
        let records = store.records_all(&COLLECTIONS.at(LEDGER_INSTANCE))?;
        let period = *store.period();
        let Some(latest) = records.iter().map(|r| r.collected_at).max() else {
            return Ok(vec![Finding::new(
                COVERAGE_CHECK_ID,
                CRITERIA,
                FindingStatus::Fail,
                "ledger",
                format!("no ledger run collected anything in {period}"),
            )
            .with_evidence(EvidenceRef::file(&file))]);
        };
        let start = period.start_utc();
        let end = period.end_exclusive_utc().min(latest);
        let max_gap = Duration::days(i64::from(self.max_gap_days));
        // Schedulers start a little late now and then; an hour of slack keeps a weekly cron
        // job that ran at 02:00:07 from failing a 7-day limit.
        let slack = Duration::hours(1);
        let mut by_instance: BTreeMap<&str, Vec<&LedgerCollection>> = BTreeMap::new();
        for r in &records {
            by_instance.entry(&r.instance).or_default().push(r);
        }
        let mut findings = Vec::new();
        for (instance, mut runs) in by_instance {
            runs.sort_by_key(|r| (r.collected_at, r.seq));
            let ok: Vec<&LedgerCollection> =
                runs.iter().copied().filter(|r| r.status == "ok").collect();
            let finding = |status, summary: String| {
                Finding::new(COVERAGE_CHECK_ID, CRITERIA, status, instance, summary)
                    .with_evidence(EvidenceRef::file(&file))
            };
            if ok.is_empty() {
                let last_error = runs
                    .iter()
                    .rev()
                    .find_map(|r| r.error.as_deref())
                    .unwrap_or("no error recorded");
                findings.push(finding(
                    FindingStatus::Fail,
                    format!(
                        "no successful run of {instance} in {period}: {} attempted, none succeeded (last error: {last_error})",
                        runs.len()
                    ),
                ));
                continue;
            }
            let mut problems = Vec::new();
            // Gaps between successful observations, and from the period's edges to them.
            let mut points = vec![start];
            points.extend(ok.iter().map(|r| r.collected_at.clamp(start, end)));
            points.push(end);
            let mut max_seen = Duration::zero();
            for w in points.windows(2) {
                let gap = w[1] - w[0];
                max_seen = max_seen.max(gap);
                if gap > max_gap + slack {
                    let failed: Vec<String> = runs
                        .iter()
                        .filter(|r| {
                            r.status != "ok" && r.collected_at > w[0] && r.collected_at < w[1]
                        })
                        .map(|r| format!("run {} {}", r.seq, r.status))
                        .collect();
                    problems.push(format!(
                        "no successful run from {} to {} ({:.1} days; at most {} allowed){}",
                        day(w[0]),
                        day(w[1]),
                        gap.num_minutes() as f64 / 1440.0,
                        self.max_gap_days,
                        if failed.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", failed.join(", "))
                        }
                    ));
                }
            }
            // Holes in each event population's windows.
            let mut populations: BTreeMap<&str, Vec<Span>> = BTreeMap::new();
            let mut reasons: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for r in &ok {
                for w in &r.events {
                    let spans = populations.entry(&w.population).or_default();
                    match &w.incomplete {
                        None => spans.push((w.from, w.until)),
                        Some(why) => reasons
                            .entry(&w.population)
                            .or_default()
                            .push(format!("run {} incomplete: {why}", r.seq)),
                    }
                    if let Some(why) = &w.retention {
                        reasons
                            .entry(&w.population)
                            .or_default()
                            .push(format!("run {}: {why}", r.seq));
                    }
                }
            }
            for (population, mut spans) in populations {
                spans.sort();
                let mut cursor = start;
                let mut holes = Vec::new();
                for (from, until) in spans {
                    if from > cursor {
                        holes.push((cursor, from.min(end)));
                    }
                    cursor = cursor.max(until);
                    if cursor >= end {
                        break;
                    }
                }
                if cursor < end {
                    holes.push((cursor, end));
                }
                holes.retain(|(a, b)| a < b);
                if !holes.is_empty() {
                    let why = reasons
                        .get(population)
                        .map(|r| format!(" ({})", listed(r)))
                        .unwrap_or_default();
                    problems.push(format!(
                        "{instance}/{population} holds no evidence for {}{why}",
                        holes
                            .iter()
                            .map(|(a, b)| format!("{} .. {}", day(*a), day(*b)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            if problems.is_empty() {
                findings.push(finding(
                    FindingStatus::Pass,
                    format!(
                        "{} successful run(s) of {instance} over {period}, at most {:.1} days apart (at most {} allowed); its event windows cover the period without a hole",
                        ok.len(),
                        max_seen.num_minutes() as f64 / 1440.0,
                        self.max_gap_days
                    ),
                ));
            } else {
                findings.push(finding(
                    FindingStatus::Fail,
                    format!("{}: {}", instance, listed(&problems)),
                ));
            }
        }
        Ok(findings)
    }
}
