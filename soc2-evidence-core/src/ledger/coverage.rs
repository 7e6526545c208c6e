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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::EventWindow;
    use crate::{AuditPeriod, RunManifest};

    fn t(s: &str) -> DateTime<Utc> {
        format!("{s}T02:00:00Z").parse().unwrap()
    }

    fn run(
        seq: u64,
        instance: &str,
        at: &str,
        status: &str,
        events: Vec<EventWindow>,
    ) -> LedgerCollection {
        LedgerCollection {
            seq,
            bundle_sha256: format!("{seq:064}"),
            instance: instance.into(),
            collector_type: "okta".into(),
            status: status.into(),
            error: (status != "ok").then(|| "source down".into()),
            collected_at: t(at),
            window_start: t(at).date_naive(),
            window_end: t(at).date_naive(),
            events,
        }
    }

    fn window(from: &str, until: &str, retention: Option<&str>) -> EventWindow {
        EventWindow {
            population: "system_log".into(),
            // Windows start at midnight of their first day.
            from: format!("{from}T00:00:00Z").parse().unwrap(),
            until: t(until),
            incomplete: None,
            retention: retention.map(str::to_string),
        }
    }

    /// A period directory holding `records`, with the collections' provenance saying
    /// `complete` when given (none at all otherwise).
    fn period_dir(records: &[LedgerCollection], complete: Option<bool>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let period: AuditPeriod = "2026-01-01..2026-01-31".parse().unwrap();
        let manifest = RunManifest::start(period, None);
        std::fs::write(
            dir.path().join("run.json"),
            serde_json::to_vec(&manifest).unwrap(),
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("ledger")).unwrap();
        let lines: String = records
            .iter()
            .map(|r| {
                serde_json::json!({"kind": "ledger.collection", "schema_version": 1,
                    "subject_id": crate::Evidence::subject_id(r), "data": r})
                .to_string()
                    + "\n"
            })
            .collect();
        std::fs::write(dir.path().join("ledger/collections.jsonl"), lines).unwrap();
        if let Some(complete) = complete {
            let prov = serde_json::json!({"collector": "ledger", "complete": complete, "populations": [
                {"population": "collections", "complete": complete, "notes": ["run 3 unreadable"]}]});
            std::fs::write(dir.path().join("ledger/provenance.json"), prov.to_string()).unwrap();
        }
        dir
    }

    /// Through the runner, so the verdict rule applies.
    fn judge_by_runner(records: &[LedgerCollection], complete: bool) -> Vec<Finding> {
        let dir = period_dir(records, Some(complete));
        let store = EvidenceStore::open(dir.path()).unwrap();
        crate::run_check(&store, &CoverageCheck::new(7))
    }

    #[test]
    fn never_passes_over_an_incomplete_record_of_the_runs() {
        let records: Vec<LedgerCollection> = [
            "2026-01-01",
            "2026-01-08",
            "2026-01-15",
            "2026-01-22",
            "2026-01-29",
            "2026-02-05",
        ]
        .iter()
        .enumerate()
        .map(|(i, d)| run(i as u64 + 1, "okta", d, "ok", vec![]))
        .collect();
        let whole = judge_by_runner(&records, true);
        assert_eq!(whole[0].status, FindingStatus::Pass, "{}", whole[0].summary);
        let partial = judge_by_runner(&records, false);
        assert_eq!(
            partial[0].status,
            FindingStatus::Error,
            "{}",
            partial[0].summary
        );
        assert!(
            partial[0].summary.starts_with("cannot establish"),
            "{}",
            partial[0].summary
        );
    }

    fn judge(records: &[LedgerCollection], max_gap: u32) -> Vec<Finding> {
        let dir = period_dir(records, None);
        let store = EvidenceStore::open(dir.path()).unwrap();
        CoverageCheck::new(max_gap).run(&store).unwrap()
    }

    #[test]
    fn weekly_runs_pass_and_a_missed_week_fails_naming_the_failed_run() {
        let weekly = |skip: Option<&str>| -> Vec<LedgerCollection> {
            [
                "2026-01-01",
                "2026-01-08",
                "2026-01-15",
                "2026-01-22",
                "2026-01-29",
                "2026-02-05",
            ]
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let prev = if i == 0 { "2026-01-01" } else { d };
                let status = if Some(*d) == skip { "failed" } else { "ok" };
                run(i as u64 + 1, "okta", d, status, vec![window(prev, d, None)])
            })
            .collect()
        };
        let mut ok = weekly(None);
        // Each window starts where the previous successful run ended.
        for i in 1..ok.len() {
            let from = ok[i - 1].collected_at.format("%Y-%m-%d").to_string();
            let until = ok[i].collected_at.format("%Y-%m-%d").to_string();
            ok[i].events = vec![window(&from, &until, None)];
        }
        let f = judge(&ok, 7);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, FindingStatus::Pass, "{}", f[0].summary);

        let mut missed = ok.clone();
        missed[2].status = "failed".into();
        missed[2].events.clear();
        // The catch-up run reads from the last successful one: no hole, but a 14-day gap.
        missed[3].events = vec![window("2026-01-08", "2026-01-22", None)];
        let f = judge(&missed, 7);
        assert_eq!(f[0].status, FindingStatus::Fail);
        assert!(f[0].summary.contains("no successful run from 2026-01-08 02:00 UTC to 2026-01-22 02:00 UTC (14.0 days; at most 7 allowed) (run 3 failed)"), "{}", f[0].summary);
        assert!(
            !f[0].summary.contains("holds no evidence"),
            "{}",
            f[0].summary
        );
        assert_eq!(judge(&missed, 14)[0].status, FindingStatus::Pass);
    }

    #[test]
    fn a_window_the_source_no_longer_held_is_a_hole() {
        // The first run came late; the source kept only the last days before it.
        let records = vec![
            run(
                1,
                "okta",
                "2026-01-06",
                "ok",
                vec![window(
                    "2026-01-04",
                    "2026-01-06",
                    Some("Okta keeps 90 days of System Log"),
                )],
            ),
            run(
                2,
                "okta",
                "2026-01-12",
                "ok",
                vec![window("2026-01-05", "2026-01-12", None)],
            ),
        ];
        let f = judge(&records, 30);
        assert_eq!(f[0].status, FindingStatus::Fail);
        assert!(f[0].summary.contains("okta/system_log holds no evidence for 2026-01-01 00:00 UTC .. 2026-01-04 00:00 UTC"), "{}", f[0].summary);
        assert!(
            f[0].summary.contains("Okta keeps 90 days"),
            "{}",
            f[0].summary
        );
    }

    #[test]
    fn no_successful_run_fails_and_no_run_at_all_fails() {
        let f = judge(&[run(1, "okta", "2026-01-06", "failed", vec![])], 7);
        assert_eq!(f[0].status, FindingStatus::Fail);
        assert!(
            f[0].summary
                .contains("none succeeded (last error: source down)"),
            "{}",
            f[0].summary
        );
        let f = judge(&[], 7);
        assert_eq!(
            (f.len(), f[0].status),
            (1, FindingStatus::Fail),
            "never a vacuous pass"
        );
    }
}
