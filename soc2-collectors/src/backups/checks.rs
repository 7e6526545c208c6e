//! Control tests over the stored backup populations.
//!
//! | check | subject | criteria |
//! |---|---|---|
//! | `backups.daily_coverage` | `<source>/<YYYY-MM-DD>` (weekly: `<source>/<YYYY>-W<ww>`) | A1.2 |
//! | `backups.completed_cleanly` | `<source>/<run id>`, or `<source>` when all were clean | A1.2 |
//! | `backups.recovery_after_failure` | `<source>/<run id>`, or `<source>` when none failed | A1.2, CC7.5 |
//! | `backups.restore_tested` | `<source>/<YYYY>-Q<n>` or `organization/<YYYY>-Q<n>` | A1.3 |
//!
//! Each check is built for one instance and reads that instance's populations; the recovery
//! window comes from its config, which `soc2-evidence check DIR` reads back from the run's
//! `config.json`. The scope is the configured sources: one that could not be read gets an
//! `error` finding from every check, and one the evidence holds no record of is
//! `not_applicable` for every check, with the reason. A source with no backup in the period
//! fails daily coverage, and is `not_applicable` — with that reason — for the checks that
//! judge runs (clean completion, recovery): "0 of 0 runs were clean" proves nothing.
//!
//! A source whose files cover several resources (AWS resources, pgBackRest stanzas) is
//! judged per resource: `<source>` in the subjects above becomes `<source>/<resource>`, and
//! one resource's run never covers another's day. A run whose merged records disagree on its
//! times is never passed: it gets an `error` naming the conflict.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate, Utc};
use soc2_evidence_core::{Check, CheckError, EvidenceStore, Finding, FindingStatus, Population};

use super::config::{BackupsConfig, Format};
use super::records::{
    BackupJob, BackupSource, JobStatus, Resource, RestoreJob, JOBS, ORGANIZATION, RESTORES, SOURCES,
};
use super::time::{iso_week_label, quarter_label};

/// The checks of one instance, with the recovery window from its config.
pub fn checks(instance: &str, config: &BackupsConfig) -> Vec<Box<dyn Check>> {
    let scope = CheckScope::new(instance, config);
    vec![
        Box::new(DailyCoverage::new(scope.clone())),
        Box::new(CompletedCleanly::new(scope.clone())),
        Box::new(RecoveryAfterFailure::new(
            scope.clone(),
            config.recovery_hours,
        )),
        Box::new(RestoreTested::new(scope)),
    ]
}

/// What an instance was asked to read: its name and its configured sources, so a check can
/// give every source a verdict — including one the evidence holds no record of.
#[derive(Debug, Clone)]
pub struct CheckScope {
    instance: String,
    sources: Vec<String>,
    jobs_pop: Population<BackupJob>,
    restores_pop: Population<RestoreJob>,
    sources_pop: Population<BackupSource>,
}

impl CheckScope {
    /// The scope of instance `instance` configured by `config`.
    pub fn new(instance: &str, config: &BackupsConfig) -> Self {
        Self {
            instance: instance.to_string(),
            sources: config.source.iter().map(|s| s.name.clone()).collect(),
            jobs_pop: JOBS,
            restores_pop: RESTORES,
            sources_pop: SOURCES,
        }
    }

    /// The scope of another collector that writes backup records under its own population
    /// names (the AWS collector's `backup_jobs`, `restore_jobs` and `backup_sources`): every
    /// source recorded there is judged.
    pub fn with_populations(
        instance: &str,
        jobs: Population<BackupJob>,
        restores: Population<RestoreJob>,
        sources: Population<BackupSource>,
    ) -> Self {
        Self {
            instance: instance.to_string(),
            sources: Vec::new(),
            jobs_pop: jobs,
            restores_pop: restores,
            sources_pop: sources,
        }
    }
}

/// The four backups checks over `scope`, failed runs to be followed by a success within
/// `recovery_hours`.
pub fn checks_for(scope: CheckScope, recovery_hours: u32) -> Vec<Box<dyn Check>> {
    vec![
        Box::new(DailyCoverage::new(scope.clone())),
        Box::new(CompletedCleanly::new(scope.clone())),
        Box::new(RecoveryAfterFailure::new(scope.clone(), recovery_hours)),
        Box::new(RestoreTested::new(scope)),
    ]
}

/// `backup.source` records of one instance, split by outcome.
struct Sources {
    /// Sources that were read: judged.
    read: Vec<BackupSource>,
    /// Sources whose files could not be parsed: they wrote no jobs or restores, so they are
    /// reported as errors, never judged.
    failed: Vec<BackupSource>,
    /// Configured sources with no record at all: nothing of them is in the evidence.
    missing: Vec<String>,
}

impl Sources {
    fn load(store: &EvidenceStore, scope: &CheckScope) -> Result<Self, CheckError> {
        let (failed, read): (Vec<BackupSource>, Vec<BackupSource>) = store
            .records_all(&scope.sources_pop.at(&scope.instance))?
            .into_iter()
            .partition(|s| s.status == "failed");
        let recorded: BTreeSet<&str> = read
            .iter()
            .chain(&failed)
            .map(|s| s.name.as_str())
            .collect();
        let missing = scope
            .sources
            .iter()
            .filter(|s| !recorded.contains(s.as_str()))
            .cloned()
            .collect();
        Ok(Self {
            read,
            failed,
            missing,
        })
    }

    /// The findings for the sources that are not judged: one `error` per source that could
    /// not be read (its control cannot be judged, and saying so beats a silent pass or a
    /// misleading "no backup" failure), and one `not_applicable` per configured source the
    /// evidence does not describe.
    fn unjudged(&self, check: &dyn Check, scope: &CheckScope) -> Vec<Finding> {
        let sources = scope.sources_pop.at(&scope.instance);
        let errors = self.failed.iter().map(|s| {
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
            .with_evidence(sources.evidence(&s.name))
        });
        let missing = self.missing.iter().map(|name| {
            Finding::new(
                check.id(),
                check.criteria(),
                FindingStatus::NotApplicable,
                name,
                format!(
                    "backup source {name} has no record in the collected sources, so nothing \
                     of it is in the evidence to judge"
                ),
            )
            .with_evidence(sources.evidence_file())
        });
        errors.chain(missing).collect()
    }
}

/// One instance's backup runs by source, each source's sorted by start.
fn read_jobs(
    store: &EvidenceStore,
    scope: &CheckScope,
) -> Result<BTreeMap<String, Vec<BackupJob>>, CheckError> {
    let mut by_source: BTreeMap<String, Vec<BackupJob>> = BTreeMap::new();
    for r in store.records(&scope.jobs_pop.at(&scope.instance))? {
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

fn job_subject(j: &BackupJob) -> String {
    format!("{}/{}", j.source, j.id)
}

fn in_period(store: &EvidenceStore, d: NaiveDate) -> bool {
    store.period().contains_date(d)
}

/// What a check judges: a source, or — when its files cover several resources (AWS
/// resources, pgBackRest stanzas) — each resource of it, so one resource's backup never covers
/// another's missing day.
struct Unit<'a> {
    source: &'a BackupSource,
    /// The resource judged, or the source's only resource (for its status), if any.
    resource: Option<&'a Resource>,
    /// The subject prefix: `db-01`, or `aws-prod/<ResourceArn>` for one of several resources.
    label: String,
}

impl<'a> Unit<'a> {
    /// The units of a source: one per resource when it covers several, else the source.
    fn of(source: &'a BackupSource) -> Vec<Unit<'a>> {
        if source.per_resource() {
            source
                .resources
                .iter()
                .map(|r| Unit {
                    source,
                    resource: Some(r),
                    label: format!("{}/{}", source.name, r.id),
                })
                .collect()
        } else {
            vec![Unit {
                source,
                resource: source.resources.first(),
                label: source.name.clone(),
            }]
        }
    }

    /// This unit's runs, sorted by start.
    fn runs<'j>(&self, jobs: &'j BTreeMap<String, Vec<BackupJob>>) -> Vec<&'j BackupJob> {
        let per_resource = self.source.per_resource();
        jobs.get(&self.source.name)
            .into_iter()
            .flatten()
            .filter(|j| {
                !per_resource || j.resource.as_deref() == self.resource.map(|r| r.id.as_str())
            })
            .collect()
    }

    /// This unit's runs counted for a day of the period.
    fn runs_in_period<'j>(
        &self,
        store: &EvidenceStore,
        jobs: &'j BTreeMap<String, Vec<BackupJob>>,
    ) -> Vec<&'j BackupJob> {
        self.runs(jobs)
            .into_iter()
            .filter(|j| in_period(store, j.local_date))
            .collect()
    }

    /// What the tool said about the resource, for the summary of a finding about absence:
    /// `; resource … is listed in resources but …`, `; pgBackRest status 2: no valid backups`.
    fn context(&self) -> String {
        match self.resource {
            Some(r) if !r.seen => format!(
                "; resource {} is listed in `resources` but no file read mentions it",
                r.id
            ),
            Some(Resource {
                status: Some(st), ..
            }) => format!("; {st}"),
            _ => String::new(),
        }
    }

    /// Whether the tool could not read this resource's backups, so absence proves nothing.
    fn unreadable(&self) -> bool {
        self.resource.is_some_and(|r| r.unreadable)
    }
}

/// The one `not_applicable` finding for a unit with no backup run in the period.
fn no_backups(check: &dyn Check, scope: &CheckScope, unit: &Unit<'_>) -> Finding {
    Finding::new(
        check.id(),
        check.criteria(),
        FindingStatus::NotApplicable,
        &unit.label,
        format!("{}: no backups in the period{}", unit.label, unit.context()),
    )
    .with_evidence(scope.jobs_pop.at(&scope.instance).evidence_file())
}

/// The `error` finding for a run whose merged records disagree: the check cannot tell which
/// to believe, so it neither passes nor fails the run.
fn conflicting(check: &dyn Check, scope: &CheckScope, unit: &Unit<'_>, j: &BackupJob) -> Finding {
    Finding::new(
        check.id(),
        check.criteria(),
        FindingStatus::Error,
        job_subject(j),
        format!(
            "{} {}: its records disagree ({}), so it cannot be judged; fix or remove the \
             wrong export",
            unit.label,
            describe(j),
            j.conflicts.join("; ")
        ),
    )
    .with_evidence(scope.jobs_pop.at(&scope.instance).evidence(job_subject(j)))
}

/// `backups.daily_coverage`: each day (or ISO week) of the period has a backup that produced
/// a restorable result.
#[derive(Debug, Clone)]
pub struct DailyCoverage {
    scope: CheckScope,
}

impl DailyCoverage {
    /// The check over one instance's sources.
    pub fn new(scope: CheckScope) -> Self {
        Self { scope }
    }
}

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
        let sources = Sources::load(store, &self.scope)?;
        let jobs = read_jobs(store, &self.scope)?;
        let jobs_ref = self.scope.jobs_pop.at(&self.scope.instance);
        let mut out = sources.unjudged(self, &self.scope);
        for unit in sources.read.iter().flat_map(Unit::of) {
            let weekly = unit.source.schedule == "weekly";
            let bucket = |d: NaiveDate| {
                if weekly {
                    iso_week_label(d)
                } else {
                    d.to_string()
                }
            };
            // Every day of the period is a slot, so a source with no backup at all fails
            // every day: here absence is the exception tested, not an empty scope.
            let mut slots: BTreeMap<String, Vec<&BackupJob>> = BTreeMap::new();
            for d in period.dates() {
                slots.entry(bucket(d)).or_default();
            }
            for j in unit.runs(&jobs) {
                if let Some(v) = slots.get_mut(&bucket(j.local_date)) {
                    v.push(j);
                }
            }
            let unit_word = if weekly { "week" } else { "day" };
            let name = &unit.label;
            for (slot, runs) in slots {
                let subject = format!("{name}/{slot}");
                let good: Vec<&&BackupJob> =
                    runs.iter().filter(|j| j.status.restorable()).collect();
                let agreed = good.iter().find(|j| j.conflicts.is_empty());
                let finding = if let Some(first) = agreed {
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
                            "{name} has {} restorable backup(s) in {unit_word} {slot} ({clean} \
                             without warnings), the first {}",
                            good.len(),
                            describe(first)
                        ),
                    )
                    .with_evidence(jobs_ref.evidence(job_subject(first)))
                } else if let Some(first) = good.first() {
                    // Only runs whose records disagree would cover this slot.
                    Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Error,
                        &subject,
                        format!(
                            "{name}: the only restorable backup in {unit_word} {slot} is {}, \
                             whose records disagree ({}), so the {unit_word} cannot be shown \
                             covered",
                            describe(first),
                            first.conflicts.join("; ")
                        ),
                    )
                    .with_evidence(jobs_ref.evidence(job_subject(first)))
                } else if runs.is_empty() && unit.unreadable() {
                    Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Error,
                        &subject,
                        format!(
                            "{name}: no backup found in {unit_word} {slot}, but the tool could \
                             not read this resource's backups{}, so their absence is not shown",
                            unit.context()
                        ),
                    )
                    .with_evidence(
                        self.scope
                            .sources_pop
                            .at(&self.scope.instance)
                            .evidence(&unit.source.name),
                    )
                } else if runs.is_empty() {
                    Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Fail,
                        &subject,
                        format!(
                            "{name} has no backup run at all in {unit_word} {slot}{}",
                            unit.context()
                        ),
                    )
                    .with_evidence(jobs_ref.evidence_file())
                } else {
                    let mut f = Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Fail,
                        &subject,
                        format!(
                            "{name} has no restorable backup in {unit_word} {slot}: {} run(s), \
                             none succeeded; {}",
                            runs.len(),
                            describe(runs[0])
                        ),
                    );
                    for r in &runs {
                        f = f.with_evidence(jobs_ref.evidence(job_subject(r)));
                    }
                    f
                };
                out.push(finding);
            }
        }
        Ok(out)
    }
}

/// `backups.completed_cleanly`: runs that produced a backup with warnings are named. A source
/// with no completed backup in the period is `not_applicable`: there is nothing to judge.
#[derive(Debug, Clone)]
pub struct CompletedCleanly {
    scope: CheckScope,
}

impl CompletedCleanly {
    /// The check over one instance's sources.
    pub fn new(scope: CheckScope) -> Self {
        Self { scope }
    }
}

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
        let sources = Sources::load(store, &self.scope)?;
        let jobs = read_jobs(store, &self.scope)?;
        let jobs_ref = self.scope.jobs_pop.at(&self.scope.instance);
        let mut out = sources.unjudged(self, &self.scope);
        for unit in sources.read.iter().flat_map(Unit::of) {
            let name = &unit.label;
            let runs = unit.runs_in_period(store, &jobs);
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
                        job_subject(j),
                        format!(
                            "{name} {} produced a backup but with warnings or errors",
                            describe(j)
                        ),
                    )
                    .with_evidence(jobs_ref.evidence(job_subject(j))),
                );
            }
            // A clean run whose records disagree is not counted clean unseen.
            let disputed: Vec<&&BackupJob> = runs
                .iter()
                .filter(|j| j.status != JobStatus::Partial && !j.conflicts.is_empty())
                .collect();
            for j in &disputed {
                out.push(conflicting(self, &self.scope, &unit, j));
            }
            if !partial.is_empty() {
                continue;
            }
            let restorable = runs
                .iter()
                .filter(|j| j.status.restorable() && j.conflicts.is_empty())
                .count();
            let finding = match (runs.len(), restorable) {
                (0, _) => no_backups(self, &self.scope, &unit),
                (_, 0) if !disputed.is_empty() => continue,
                (n, 0) => Finding::new(
                    self.id(),
                    self.criteria(),
                    FindingStatus::NotApplicable,
                    name,
                    format!(
                        "{name}: no backup completed in the period ({n} run(s), all failed or \
                         still running), so there is no completed backup to judge"
                    ),
                )
                .with_evidence(jobs_ref.evidence_file()),
                _ => {
                    let mut summary = format!(
                        "all {restorable} backup(s) of {name} in the period completed without \
                         warnings"
                    );
                    if !disputed.is_empty() {
                        summary.push_str(&format!(
                            " ({} run(s) with conflicting records are reported as errors)",
                            disputed.len()
                        ));
                    }
                    Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Pass,
                        name,
                        summary,
                    )
                    .with_evidence(jobs_ref.evidence_file())
                }
            };
            out.push(finding);
        }
        Ok(out)
    }
}

/// `backups.recovery_after_failure`: every failed, aborted or expired run is followed by a
/// successful one within N hours.
#[derive(Debug, Clone)]
pub struct RecoveryAfterFailure {
    scope: CheckScope,
    /// The window in hours, measured from the failed run's end (or start, when its end is
    /// unknown) to the successful run's end (or start).
    hours: u32,
}

impl RecoveryAfterFailure {
    /// The check over one instance's sources with a recovery window of `hours`.
    pub fn new(scope: CheckScope, hours: u32) -> Self {
        Self { scope, hours }
    }

    /// The recovery window in hours.
    pub fn hours(&self) -> u32 {
        self.hours
    }
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
        let sources = Sources::load(store, &self.scope)?;
        let jobs = read_jobs(store, &self.scope)?;
        let jobs_ref = self.scope.jobs_pop.at(&self.scope.instance);
        let window = Duration::hours(i64::from(self.hours));
        let collected_at = store.collected_at();
        let mut out = sources.unjudged(self, &self.scope);
        for unit in sources.read.iter().flat_map(Unit::of) {
            let name = &unit.label;
            let runs = unit.runs(&jobs);
            let in_period_runs = unit.runs_in_period(store, &jobs);
            let mut failed = 0;
            for j in in_period_runs
                .iter()
                .filter(|j| j.status == JobStatus::Failed)
            {
                failed += 1;
                let failed_at = j.finished.unwrap_or(j.started);
                let recovery = runs
                    .iter()
                    .find(|s| s.status == JobStatus::Succeeded && s.started > j.started);
                let subject = job_subject(j);
                let f = match recovery {
                    _ if !j.conflicts.is_empty() => {
                        out.push(conflicting(self, &self.scope, &unit, j));
                        continue;
                    }
                    Some(s) if !s.conflicts.is_empty() => Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Error,
                        &subject,
                        format!(
                            "{name} {}; the next successful run, {}, has records that disagree \
                             ({}), so the recovery time cannot be shown",
                            describe(j),
                            s.id,
                            s.conflicts.join("; ")
                        ),
                    ),
                    Some(s) if s.finished.unwrap_or(s.started) - failed_at <= window => {
                        let gap = s.finished.unwrap_or(s.started) - failed_at;
                        Finding::new(
                            self.id(),
                            self.criteria(),
                            FindingStatus::Pass,
                            &subject,
                            format!(
                                "{name} {} was followed by successful run {} {:.1} hours later \
                                 (within {} hours)",
                                describe(j),
                                s.id,
                                gap.num_minutes() as f64 / 60.0,
                                self.hours
                            ),
                        )
                        .with_evidence(jobs_ref.evidence(job_subject(s)))
                    }
                    Some(s) => Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Fail,
                        &subject,
                        format!(
                            "{name} {}; the next successful run, {}, came {:.1} hours later, \
                             after the {}-hour window",
                            describe(j),
                            s.id,
                            (s.finished.unwrap_or(s.started) - failed_at).num_minutes() as f64
                                / 60.0,
                            self.hours
                        ),
                    ),
                    // The logs were read before the window closed: a recovery may still come,
                    // so the run is neither recovered nor unrecovered yet.
                    None if failed_at.with_timezone(&Utc) + window > collected_at => Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Error,
                        &subject,
                        format!(
                            "{name} {}; no successful run follows it in the logs, but its \
                             {}-hour recovery window had not ended when the logs were \
                             collected ({}): collect again to judge it",
                            describe(j),
                            self.hours,
                            collected_at.to_rfc3339()
                        ),
                    ),
                    None => Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Fail,
                        &subject,
                        format!(
                            "{name} {}; no successful run follows it in the logs",
                            describe(j)
                        ),
                    ),
                };
                out.push(f.with_evidence(jobs_ref.evidence(subject)));
            }
            if failed > 0 {
                continue;
            }
            out.push(if in_period_runs.is_empty() {
                no_backups(self, &self.scope, &unit)
            } else {
                Finding::new(
                    self.id(),
                    self.criteria(),
                    FindingStatus::Pass,
                    name,
                    format!(
                        "{name} had no failed backup runs in the period ({} run(s))",
                        in_period_runs.len()
                    ),
                )
                .with_evidence(jobs_ref.evidence_file())
            });
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
/// tied to a source at all. Every quarter in scope is a subject, so a missing restore test is
/// a failure, never an empty scope.
#[derive(Debug, Clone)]
pub struct RestoreTested {
    scope: CheckScope,
}

impl RestoreTested {
    /// The check over one instance's sources.
    pub fn new(scope: CheckScope) -> Self {
        Self { scope }
    }
}

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
        let sources = Sources::load(store, &self.scope)?;
        let restores_ref = self.scope.restores_pop.at(&self.scope.instance);
        let quarters: BTreeSet<String> = period.dates().map(quarter_label).collect();
        let mut by_scope: BTreeMap<String, Vec<RestoreJob>> = BTreeMap::new();
        for r in store.records(&restores_ref)? {
            let r = r?.data;
            let scope = r.source.clone().unwrap_or_else(|| ORGANIZATION.to_string());
            by_scope.entry(scope).or_default().push(r);
        }
        let mut scopes: BTreeSet<String> = by_scope.keys().cloned().collect();
        for s in sources.read.iter().filter(|s| s.require_restore_tests) {
            scopes.insert(s.name.clone());
        }
        // The organisation-wide scope needs evidence to be judged on: with no source read
        // there is none, and the sources' own findings above say why.
        if scopes.is_empty() && !sources.read.is_empty() {
            scopes.insert(ORGANIZATION.to_string());
        }
        // Organisation-wide restore tests come from JSON Lines files; a JSON Lines source
        // that could not be read may have held one, so its absence proves nothing then.
        let unread_org_restores: Vec<&str> = sources
            .failed
            .iter()
            .filter(|s| s.format == Format::Jsonl.as_str())
            .map(|s| s.name.as_str())
            .collect();
        let mut out = sources.unjudged(self, &self.scope);
        for scope in scopes {
            let restores = by_scope.get(&scope).map(Vec::as_slice).unwrap_or_default();
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
                        .with_evidence(restores_ref.evidence(format!("{scope}/{}", r.id)))
                    }
                    None if in_q.is_empty()
                        && scope == ORGANIZATION
                        && !unread_org_restores.is_empty() =>
                    {
                        Finding::new(
                            self.id(),
                            self.criteria(),
                            FindingStatus::Error,
                            &subject,
                            format!(
                                "{scope}: no restore test found in {q} in the sources read, but \
                                 {} could not be read and may hold one",
                                unread_org_restores.join(", ")
                            ),
                        )
                        .with_evidence(restores_ref.evidence_file())
                    }
                    None if in_q.is_empty() => Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Fail,
                        &subject,
                        format!("{scope}: no restore test found in {q}"),
                    )
                    .with_evidence(restores_ref.evidence_file()),
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
                        .with_evidence(restores_ref.evidence(format!("{scope}/{}", r.id)))
                    }
                };
                out.push(f);
            }
        }
        Ok(out)
    }
}
