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

use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    // Streamed: only the open interval of each subject is held, never every epoch's
    // findings (180 daily epochs of 10,000 users would be millions).
    let mut merger = Merger::default();
    for (n, &i) in order[..order.len() - 1].iter().enumerate() {
        store.set_epoch(Some(period.epochs[i].seq));
        merger.push(n, judge(store, check).0);
    }
    merger.push(order.len() - 1, at_last);
    store.set_epoch(None);
    let times: Vec<DateTime<Utc>> = order.iter().map(|&i| period.epochs[i].at).collect();
    merger.finish(&times)
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A subject and its occurrence among one epoch's findings.
type Key = (String, usize);

/// Merges findings judged at successive epochs into intervals, one epoch at a time.
#[derive(Default)]
struct Merger {
    // Keys in first-seen order, and each key's rank in it.
    rank: HashMap<Key, usize>,
    // Per key: the interval still open (first epoch, last epoch, latest finding).
    open: HashMap<Key, (usize, usize, Finding)>,
    closed: Vec<(usize, usize, usize, Finding)>,
    epochs: usize,
}

impl Merger {
    /// Adds the findings of epoch `e` (epochs come in order, 0, 1, 2, ...).
    fn push(&mut self, e: usize, findings: Vec<Finding>) {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for f in findings {
            let n = seen.entry(f.subject_id.clone()).or_default();
            let key = (f.subject_id.clone(), *n);
            *n += 1;
            let next = self.rank.len();
            let rank = *self.rank.entry(key.clone()).or_insert(next);
            match self.open.get_mut(&key) {
                // Same verdict, epoch after epoch: the interval grows; the latest wording
                // speaks for it.
                Some((_, end, g)) if *end + 1 == e && g.status == f.status => {
                    *end = e;
                    *g = f;
                }
                _ => {
                    if let Some((start, end, g)) = self.open.remove(&key) {
                        self.closed.push((rank, start, end, g));
                    }
                    self.open.insert(key, (e, e, f));
                }
            }
        }
        // Subjects absent from this epoch end their interval.
        let gone: Vec<Key> = self
            .open
            .iter()
            .filter(|(_, (_, end, _))| *end < e)
            .map(|(k, _)| k.clone())
            .collect();
        for key in gone {
            if let Some((start, end, g)) = self.open.remove(&key) {
                self.closed.push((self.rank[&key], start, end, g));
            }
        }
        self.epochs = e + 1;
    }

    /// The merged findings, subject by subject in first-seen order.
    fn finish(mut self, times: &[DateTime<Utc>]) -> Vec<Finding> {
        for (key, (start, end, g)) in std::mem::take(&mut self.open) {
            self.closed.push((self.rank[&key], start, end, g));
        }
        self.closed
            .sort_by_key(|(rank, start, _, _)| (*rank, *start));
        let mut per_key: BTreeMap<usize, usize> = BTreeMap::new();
        for (rank, ..) in &self.closed {
            *per_key.entry(*rank).or_default() += 1;
        }
        let last = self.epochs.saturating_sub(1);
        self.closed
            .into_iter()
            .map(|(rank, start, end, mut f)| {
                // A verdict that held at every epoch needs no interval.
                if per_key[&rank] == 1 && start == 0 && end == last {
                    return f;
                }
                let until = match times.get(end + 1) {
                    Some(t) => format!("until {}", when(*t)),
                    None => "to the period's last observation".to_string(),
                };
                f.summary = format!(
                    "observed from {} {until}: {}",
                    when(times[start]),
                    f.summary
                );
                f
            })
            .collect()
    }
}

/// Merges findings judged at successive epochs (`times[i]` for `per_epoch[i]`).
#[cfg(test)]
fn merge(per_epoch: &[Vec<Finding>], times: &[DateTime<Utc>]) -> Vec<Finding> {
    let mut m = Merger::default();
    for (e, findings) in per_epoch.iter().enumerate() {
        m.push(e, findings.clone());
    }
    m.finish(times)
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
