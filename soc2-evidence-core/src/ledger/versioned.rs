//! Judging a check over an assembled period: once per epoch at which the state it reads
//! changed, with the verdicts merged into intervals.
//!
//! A check that reads only event populations is judged once. One that reads state (users,
//! factors, branch rules) is judged at the first epoch and at every epoch where a version of
//! what it read began or ended. Per subject, consecutive epochs with the same verdict merge,
//! keeping the latest epoch's summary (wording that follows the collection time, "retained
//! since ...", would otherwise split one verdict into many); a subject whose verdict never
//! changed keeps one finding, and one whose verdict changed gets one finding per interval,
//! saying when: "observed from 2026-02-03 02:00 UTC until 2026-02-17 02:00 UTC: 00u1 has no
//! MFA factor".

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::records::LedgerPeriod;
use crate::store::EvidenceStore;
use crate::{Check, Finding};

/// Judges `check` over every epoch its state changed at. `judge` is the runner's single
/// evaluation (verdict rule included), returning findings and the populations read.
pub(crate) fn judge_over_epochs(
    store: &EvidenceStore,
    period: &LedgerPeriod,
    check: &dyn Check,
    judge: impl Fn(&EvidenceStore, &dyn Check) -> (Vec<Finding>, Vec<(String, String)>),
) -> Vec<Finding> {
    let Some(last) = period.epochs.last().copied() else {
        store.set_epoch(None);
        return judge(store, check).0;
    };
    store.set_epoch(Some(last.seq));
    let (at_last, reads) = judge(store, check);
    let mut points = BTreeSet::new();
    for (instance, population) in &reads {
        match store.change_points(instance, population) {
            Ok(Some(p)) => points.extend(p),
            Ok(None) => {}
            // The finding the check gave at the last epoch already names an unreadable file.
            Err(e) => tracing::warn!(error = %e, "version sidecar unreadable"),
        }
    }
    // Each change point maps to the first epoch at or after it.
    let mut epochs: BTreeSet<usize> = BTreeSet::new();
    if !points.is_empty() {
        epochs.insert(0);
        for p in points {
            if let Some(i) = period.epochs.iter().position(|e| e.seq >= p) {
                epochs.insert(i);
            }
        }
    }
    epochs.insert(period.epochs.len() - 1);
    if epochs.len() == 1 {
        store.set_epoch(None);
        return at_last;
    }
    let order: Vec<usize> = epochs.into_iter().collect();
    let mut per_epoch: Vec<Vec<Finding>> = Vec::with_capacity(order.len());
    for &i in &order[..order.len() - 1] {
        store.set_epoch(Some(period.epochs[i].seq));
        per_epoch.push(judge(store, check).0);
    }
    per_epoch.push(at_last);
    store.set_epoch(None);
    let times: Vec<DateTime<Utc>> = order.iter().map(|&i| period.epochs[i].at).collect();
    merge(&per_epoch, &times)
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Merges findings judged at successive epochs (`times[i]` for `per_epoch[i]`).
fn merge(per_epoch: &[Vec<Finding>], times: &[DateTime<Utc>]) -> Vec<Finding> {
    // Key: subject and its occurrence within one epoch's findings, in first-seen order.
    let mut order: Vec<(String, usize)> = Vec::new();
    let mut cells: BTreeMap<(String, usize), Vec<Option<&Finding>>> = BTreeMap::new();
    for (e, findings) in per_epoch.iter().enumerate() {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for f in findings {
            let n = seen.entry(&f.subject_id).or_default();
            let key = (f.subject_id.clone(), *n);
            *n += 1;
            let row = cells.entry(key.clone()).or_insert_with(|| {
                order.push(key);
                vec![None; per_epoch.len()]
            });
            row[e] = Some(f);
        }
    }
    let mut out = Vec::new();
    for key in order {
        let row = &cells[&key];
        // Runs of consecutive epochs with the same verdict; the latest summary speaks.
        let mut groups: Vec<(usize, usize, &Finding)> = Vec::new();
        for (e, cell) in row.iter().enumerate() {
            let Some(f) = cell else { continue };
            match groups.last_mut() {
                Some((_, end, g)) if *end + 1 == e && g.status == f.status => {
                    *end = e;
                    *g = f;
                }
                _ => groups.push((e, e, f)),
            }
        }
        if let [(0, end, f)] = groups.as_slice() {
            if *end == row.len() - 1 {
                out.push((*f).clone());
                continue;
            }
        }
        for (start, end, f) in groups {
            let mut f = f.clone();
            let until = match times.get(end + 1) {
                Some(t) => format!("until {}", when(*t)),
                None => "to the period's last observation".to_string(),
            };
            f.summary = format!(
                "observed from {} {until}: {}",
                when(times[start]),
                f.summary
            );
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FindingStatus;

    fn f(subject: &str, status: FindingStatus, summary: &str) -> Finding {
        Finding::new("okta.mfa_enrolled", &["CC6.1"], status, subject, summary)
    }

    #[test]
    fn a_verdict_whose_wording_follows_the_clock_stays_one_finding() {
        let t = |d: u32| {
            format!("2026-03-{d:02}T02:00:00Z")
                .parse::<DateTime<Utc>>()
                .unwrap()
        };
        let per_epoch = vec![
            vec![f(
                "acme/api#1",
                FindingStatus::Pass,
                "inside the history (from 2026-02-01)",
            )],
            vec![f(
                "acme/api#1",
                FindingStatus::Pass,
                "inside the history (from 2026-02-08)",
            )],
        ];
        let out = merge(&per_epoch, &[t(1), t(8)]);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].summary, "inside the history (from 2026-02-08)",
            "the latest wording"
        );
    }

    #[test]
    fn unchanged_verdicts_stay_whole_and_changed_ones_get_intervals() {
        let t = |d: u32| {
            format!("2026-02-{d:02}T02:00:00Z")
                .parse::<DateTime<Utc>>()
                .unwrap()
        };
        let times = [t(1), t(3), t(17)];
        let per_epoch = vec![
            vec![
                f("00u1", FindingStatus::Pass, "has MFA"),
                f("00u2", FindingStatus::Pass, "has MFA"),
            ],
            vec![
                f("00u1", FindingStatus::Fail, "no MFA factor"),
                f("00u2", FindingStatus::Pass, "has MFA"),
            ],
            vec![
                f("00u1", FindingStatus::Pass, "has MFA"),
                f("00u2", FindingStatus::Pass, "has MFA"),
                f("00u3", FindingStatus::Pass, "has MFA"),
            ],
        ];
        let out = merge(&per_epoch, &times);
        let summaries: Vec<(&str, FindingStatus, &str)> = out
            .iter()
            .map(|f| (f.subject_id.as_str(), f.status, f.summary.as_str()))
            .collect();
        assert_eq!(
            summaries,
            vec![
                (
                    "00u1",
                    FindingStatus::Pass,
                    "observed from 2026-02-01 02:00 UTC until 2026-02-03 02:00 UTC: has MFA"
                ),
                (
                    "00u1",
                    FindingStatus::Fail,
                    "observed from 2026-02-03 02:00 UTC until 2026-02-17 02:00 UTC: no MFA factor"
                ),
                (
                    "00u1",
                    FindingStatus::Pass,
                    "observed from 2026-02-17 02:00 UTC to the period's last observation: has MFA"
                ),
                ("00u2", FindingStatus::Pass, "has MFA"),
                (
                    "00u3",
                    FindingStatus::Pass,
                    "observed from 2026-02-17 02:00 UTC to the period's last observation: has MFA"
                ),
            ]
        );
    }
}
