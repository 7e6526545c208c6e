//! Control tests over the stored backup populations.
//!
//! | check | subject | criteria |
//! |---|---|---|
//! | `backups.daily_coverage` | `<source>/<YYYY-MM-DD>` (weekly: `<source>/<YYYY>-W<ww>`) | A1.2 |
//! | `backups.completed_cleanly` | `<source>/<run id>`, or `<source>` when all were clean | A1.2 |
//! | `backups.recovery_after_failure` | `<source>/<run id>`, or `<source>` when none failed | A1.2, CC7.5 |
//! | `backups.restore_tested` | `<source>/<YYYY>-Q<n>` or `organization/<YYYY>-Q<n>` | A1.3 |
//!
//! The checks read `backups/sources.jsonl` for each source's schedule, so `soc2-evidence
//! check DIR` gives the same findings without the config file (with the default recovery
//! window unless one is given).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use soc2_evidence_core::{Check, CheckError, EvidenceRef, EvidenceStore, Finding, FindingStatus};

use super::records::{
    BackupJob, BackupSource, JobStatus, RestoreJob, COLLECTOR, JOBS, ORGANIZATION, RESTORES,
    SOURCES,
};
use super::time::{iso_week_label, quarter_label};

/// Settings for the checks (from `[backups]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckSettings {
    /// Hours within which a failed run must be followed by a successful one.
    pub recovery_hours: u32,
}

impl Default for CheckSettings {
    fn default() -> Self {
        Self { recovery_hours: 24 }
    }
}

/// All backup checks with the given settings.
pub fn checks(settings: CheckSettings) -> Vec<Box<dyn Check>> {
    vec![
        Box::new(DailyCoverage),
        Box::new(CompletedCleanly),
        Box::new(RecoveryAfterFailure {
            hours: settings.recovery_hours,
        }),
        Box::new(RestoreTested),
    ]
}

fn jobs_file() -> String {
    EvidenceStore::population_file(COLLECTOR, JOBS)
}

fn restores_file() -> String {
    EvidenceStore::population_file(COLLECTOR, RESTORES)
}

fn read_all_sources(store: &EvidenceStore) -> Result<Vec<BackupSource>, CheckError> {
    Ok(store
        .read::<BackupSource>(COLLECTOR, SOURCES)?
        .map(|r| r.map(|r| r.data))
        .collect::<Result<_, _>>()?)
}

/// The sources that were read; a source whose files could not be parsed wrote nothing, so it
/// is judged only through [`failed_sources`].
fn read_sources(store: &EvidenceStore) -> Result<Vec<BackupSource>, CheckError> {
    Ok(read_all_sources(store)?
        .into_iter()
        .filter(|s| s.status != "failed")
        .collect())
}

/// One `error` finding per source that could not be read: its control cannot be judged, and
/// saying so beats a silent pass or a misleading "no backup" failure.
fn failed_sources(store: &EvidenceStore, check: &dyn Check) -> Result<Vec<Finding>, CheckError> {
    Ok(read_all_sources(store)?
        .into_iter()
        .filter(|s| s.status == "failed")
        .map(|s| {
            let why = s.error.as_deref().unwrap_or("its logs could not be parsed");
            Finding::new(
                check.id(),
                check.criteria(),
                FindingStatus::Error,
                &s.name,
                format!(
                    "backup source {} could not be read, so it was not judged: {why}",
                    s.name
                ),
            )
            .with_evidence(EvidenceRef::record(
                EvidenceStore::population_file(COLLECTOR, SOURCES),
                &s.name,
            ))
        })
        .collect())
}

fn read_jobs(store: &EvidenceStore) -> Result<BTreeMap<String, Vec<BackupJob>>, CheckError> {
    let mut by_source: BTreeMap<String, Vec<BackupJob>> = BTreeMap::new();
    for r in store.read::<BackupJob>(COLLECTOR, JOBS)? {
        let j = r?.data;
        by_source.entry(j.source.clone()).or_default().push(j);
    }
    for jobs in by_source.values_mut() {
        jobs.sort_by_key(|j| j.started);
    }
    Ok(by_source)
}

fn describe(j: &BackupJob) -> String {
    let mut s = format!(
        "run {} started {} ({}, {})",
        j.id,
        j.started.to_rfc3339(),
        status_word(j.status),
        j.tool_status
    );
    if let Some(m) = &j.message {
        s.push_str(&format!(": {m}"));
    }
    s
}

fn status_word(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Succeeded => "succeeded",
        JobStatus::Partial => "completed with warnings",
        JobStatus::Failed => "failed",
        JobStatus::Running => "still running",
    }
}

/// `backups.daily_coverage`: each day (or ISO week) of the period has a backup that produced
/// a restorable result.
#[derive(Debug, Clone, Copy)]
pub struct DailyCoverage;

impl Check for DailyCoverage {
    fn id(&self) -> &str {
        "backups.daily_coverage"
    }
    fn criteria(&self) -> &[&'static str] {
        &["A1.2"]
    }
    fn description(&self) -> &str {
        "Every day (or week, for weekly sources) of the period has at least one backup that \
         produced a restorable result, counted on the run's local date."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let period = *store.period();
        let jobs = read_jobs(store)?;
        let mut out = failed_sources(store, self)?;
        for source in read_sources(store)? {
            let weekly = source.schedule == "weekly";
            let bucket = |d: NaiveDate| {
                if weekly {
                    iso_week_label(d)
                } else {
                    d.to_string()
                }
            };
            let mut slots: BTreeMap<String, Vec<&BackupJob>> = BTreeMap::new();
            for d in period.dates() {
                slots.entry(bucket(d)).or_default();
            }
            let empty = Vec::new();
            for j in jobs.get(&source.name).unwrap_or(&empty) {
                if let Some(v) = slots.get_mut(&bucket(j.local_date)) {
                    v.push(j);
                }
            }
            let unit = if weekly { "week" } else { "day" };
            for (slot, runs) in slots {
                let subject = format!("{}/{slot}", source.name);
                let good: Vec<&&BackupJob> =
                    runs.iter().filter(|j| j.status.restorable()).collect();
                let finding = if let Some(first) = good.first() {
                    let clean = good
                        .iter()
                        .filter(|j| j.status == JobStatus::Succeeded)
                        .count();
                    Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Pass,
                        &subject,
                        format!(
                            "{} has {} restorable backup(s) in {unit} {slot} ({clean} without \
                             warnings), the first {}",
                            source.name,
                            good.len(),
                            describe(first)
                        ),
                    )
                    .with_evidence(EvidenceRef::record(jobs_file(), first_subject(first)))
                } else if runs.is_empty() {
                    Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Fail,
                        &subject,
                        format!("{} has no backup run at all in {unit} {slot}", source.name),
                    )
                    .with_evidence(EvidenceRef::file(jobs_file()))
                } else {
                    let mut f = Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Fail,
                        &subject,
                        format!(
                            "{} has no restorable backup in {unit} {slot}: {} run(s), none \
                             succeeded; {}",
                            source.name,
                            runs.len(),
                            describe(runs[0])
                        ),
                    );
                    for r in &runs {
                        f = f.with_evidence(EvidenceRef::record(jobs_file(), first_subject(r)));
                    }
                    f
                };
                out.push(finding);
            }
        }
        Ok(out)
    }
}

fn first_subject(j: &BackupJob) -> String {
    format!("{}/{}", j.source, j.id)
}

fn in_period(store: &EvidenceStore, d: NaiveDate) -> bool {
    store.period().contains_date(d)
}

/// `backups.completed_cleanly`: runs that produced a backup with warnings are named.
#[derive(Debug, Clone, Copy)]
pub struct CompletedCleanly;

impl Check for CompletedCleanly {
    fn id(&self) -> &str {
        "backups.completed_cleanly"
    }
    fn criteria(&self) -> &[&'static str] {
        &["A1.2"]
    }
    fn description(&self) -> &str {
        "Backups complete without warnings: a run that produced a backup with errors (restic \
         exit 3, borg rc 1, pgBackRest error, AWS PARTIAL) is an exception."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let jobs = read_jobs(store)?;
        let mut out = failed_sources(store, self)?;
        for source in read_sources(store)? {
            let empty = Vec::new();
            let runs: Vec<&BackupJob> = jobs
                .get(&source.name)
                .unwrap_or(&empty)
                .iter()
                .filter(|j| in_period(store, j.local_date))
                .collect();
            let partial: Vec<&&BackupJob> = runs
                .iter()
                .filter(|j| j.status == JobStatus::Partial)
                .collect();
            for j in &partial {
                out.push(
                    Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Fail,
                        first_subject(j),
                        format!(
                            "{} {} produced a backup but with warnings or errors",
                            source.name,
                            describe(j)
                        ),
                    )
                    .with_evidence(EvidenceRef::record(jobs_file(), first_subject(j))),
                );
            }
            if partial.is_empty() {
                let restorable = runs.iter().filter(|j| j.status.restorable()).count();
                out.push(
                    Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Pass,
                        &source.name,
                        format!(
                            "all {restorable} backup(s) of {} in the period completed without \
                             warnings",
                            source.name
                        ),
                    )
                    .with_evidence(EvidenceRef::file(jobs_file())),
                );
            }
        }
        Ok(out)
    }
}

/// `backups.recovery_after_failure`: every failed, aborted or expired run is followed by a
/// successful one within N hours.
#[derive(Debug, Clone, Copy)]
pub struct RecoveryAfterFailure {
    /// The window in hours, measured from the failed run's end (or start, when its end is
    /// unknown) to the successful run's end (or start).
    pub hours: u32,
}

impl Check for RecoveryAfterFailure {
    fn id(&self) -> &str {
        "backups.recovery_after_failure"
    }
    fn criteria(&self) -> &[&'static str] {
        &["A1.2", "CC7.5"]
    }
    fn description(&self) -> &str {
        "Every failed, aborted or expired backup run is followed by a successful run of the \
         same source within the recovery window."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let jobs = read_jobs(store)?;
        let window = Duration::hours(i64::from(self.hours));
        let mut out = failed_sources(store, self)?;
        for source in read_sources(store)? {
            let empty = Vec::new();
            let runs = jobs.get(&source.name).unwrap_or(&empty);
            let mut failed = 0;
            for j in runs
                .iter()
                .filter(|j| j.status == JobStatus::Failed && in_period(store, j.local_date))
            {
                failed += 1;
                let failed_at = j.finished.unwrap_or(j.started);
                let recovery = runs
                    .iter()
                    .find(|s| s.status == JobStatus::Succeeded && s.started > j.started);
                let subject = first_subject(j);
                let f = match recovery {
                    Some(s) if s.finished.unwrap_or(s.started) - failed_at <= window => {
                        let gap = s.finished.unwrap_or(s.started) - failed_at;
                        Finding::new(
                            self.id(),
                            self.criteria(),
                            FindingStatus::Pass,
                            &subject,
                            format!(
                                "{} {} was followed by successful run {} {:.1} hours later \
                                 (within {} hours)",
                                source.name,
                                describe(j),
                                s.id,
                                gap.num_minutes() as f64 / 60.0,
                                self.hours
                            ),
                        )
                        .with_evidence(EvidenceRef::record(jobs_file(), first_subject(s)))
                    }
                    Some(s) => Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Fail,
                        &subject,
                        format!(
                            "{} {}; the next successful run, {}, came {:.1} hours later, after \
                             the {}-hour window",
                            source.name,
                            describe(j),
                            s.id,
                            (s.finished.unwrap_or(s.started) - failed_at).num_minutes() as f64
                                / 60.0,
                            self.hours
                        ),
                    ),
                    None => Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Fail,
                        &subject,
                        format!(
                            "{} {}; no successful run follows it in the logs",
                            source.name,
                            describe(j)
                        ),
                    ),
                };
                out.push(f.with_evidence(EvidenceRef::record(jobs_file(), subject)));
            }
            if failed == 0 {
                out.push(
                    Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Pass,
                        &source.name,
                        format!("{} had no failed backup runs in the period", source.name),
                    )
                    .with_evidence(EvidenceRef::file(jobs_file())),
                );
            }
        }
        Ok(out)
    }
}

/// `backups.restore_tested`: each calendar quarter overlapping the period has a successful
/// (and, where reported, validated) restore.
///
/// Restores tied to a source are checked per source, for every source that reports restores
/// or sets `require_restore_tests`. Restores not tied to a source (JSON Lines restores without
/// `source`) are checked organisation-wide, as is the whole organisation when no restore is
/// tied to a source at all.
#[derive(Debug, Clone, Copy)]
pub struct RestoreTested;

impl Check for RestoreTested {
    fn id(&self) -> &str {
        "backups.restore_tested"
    }
    fn criteria(&self) -> &[&'static str] {
        &["A1.3"]
    }
    fn description(&self) -> &str {
        "Each calendar quarter of the period has at least one successful restore test, with a \
         successful validation where the tool reports one."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let period = *store.period();
        let quarters: BTreeSet<String> = period.dates().map(quarter_label).collect();
        let mut by_scope: BTreeMap<String, Vec<RestoreJob>> = BTreeMap::new();
        for r in store.read::<RestoreJob>(COLLECTOR, RESTORES)? {
            let r = r?.data;
            let scope = r.source.clone().unwrap_or_else(|| ORGANIZATION.to_string());
            by_scope.entry(scope).or_default().push(r);
        }
        let mut scopes: BTreeSet<String> = by_scope.keys().cloned().collect();
        for s in read_sources(store)? {
            if s.require_restore_tests {
                scopes.insert(s.name);
            }
        }
        if scopes.is_empty() {
            scopes.insert(ORGANIZATION.to_string());
        }
        let mut out = failed_sources(store, self)?;
        let empty = Vec::new();
        for scope in scopes {
            let restores = by_scope.get(&scope).unwrap_or(&empty);
            for q in &quarters {
                let subject = format!("{scope}/{q}");
                let in_q: Vec<&RestoreJob> = restores
                    .iter()
                    .filter(|r| &quarter_label(r.local_date) == q)
                    .collect();
                let good = in_q.iter().find(|r| r.proves_restore());
                let bad = in_q.len() - usize::from(good.is_some());
                let f = match good {
                    Some(r) => {
                        let validation = match &r.validation {
                            Some(v) => format!(", validation {v}"),
                            None => String::new(),
                        };
                        let others = in_q.iter().filter(|x| !x.proves_restore()).count();
                        let mut summary = format!(
                            "{scope}: restore {} on {} succeeded{validation}",
                            r.id, r.local_date
                        );
                        if others > 0 {
                            summary.push_str(&format!(
                                "; {others} other restore(s) in {q} failed or were not validated"
                            ));
                        }
                        Finding::new(
                            self.id(),
                            self.criteria(),
                            FindingStatus::Pass,
                            &subject,
                            summary,
                        )
                        .with_evidence(EvidenceRef::record(
                            restores_file(),
                            format!("{scope}/{}", r.id),
                        ))
                    }
                    None if in_q.is_empty() => Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Fail,
                        &subject,
                        format!("{scope}: no restore test found in {q}"),
                    )
                    .with_evidence(EvidenceRef::file(restores_file())),
                    None => {
                        let r = in_q[0];
                        let why = if r.status != JobStatus::Succeeded {
                            format!("{} ({})", status_word(r.status), r.tool_status)
                        } else {
                            format!(
                                "restored but validation is {}",
                                r.validation.as_deref().unwrap_or("unknown")
                            )
                        };
                        Finding::new(
                            self.id(),
                            self.criteria(),
                            FindingStatus::Fail,
                            &subject,
                            format!(
                                "{scope}: {bad} restore(s) in {q}, none successful; restore {} on \
                                 {}: {why}",
                                r.id, r.local_date
                            ),
                        )
                        .with_evidence(EvidenceRef::record(
                            restores_file(),
                            format!("{scope}/{}", r.id),
                        ))
                    }
                };
                out.push(f);
            }
        }
        Ok(out)
    }
}
