//! The runner: runs collectors concurrently, isolates their failures, runs checks, and writes
//! `run.json` and `findings.jsonl`.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::FutureExt;
use tokio_util::sync::CancellationToken;

use crate::check::Check;
use crate::collector::{CollectContext, CollectError, Collector, PreviousRun};
use crate::config::ConfigError;
use crate::finding::{Finding, FindingCounts, FindingStatus};
use crate::fsutil::write_atomic;
use crate::module::{
    BuiltInstance, InstanceChecks, InstanceId, RunConfig, SecretSource, EFFECTIVE_CONFIG_FILE,
};
use crate::period::AuditPeriod;
use crate::progress::{NoProgress, Progress};
use crate::run_manifest::{CollectorRun, CollectorStatus, RunManifest, RunStatus};
use crate::sink::CollectEnd;
use crate::sink::JsonlSink;
use crate::store::EvidenceStore;

/// Why a run could not be carried out at all (a collector failing is *not* one of these: it
/// is recorded in `run.json`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The output directory exists and is not empty.
    #[error("output directory {} is not empty: choose a new directory so no earlier evidence is overwritten", .0.display())]
    OutputNotEmpty(PathBuf),
    /// Two collectors share a name (and so a directory).
    #[error("two collectors are both named {0:?}: names must be unique")]
    DuplicateCollector(String),
    /// A file in the run directory could not be written or read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The run was cancelled; `run.json` says `interrupted`.
    #[error("run interrupted; {} records it as interrupted and incomplete", .0.display())]
    Interrupted(PathBuf),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs a set of collectors and checks over one audit period into one run directory.
///
/// ```no_run
/// # use soc2_evidence_core::*;
/// # async fn demo(collector: Box<dyn Collector>) -> Result<(), RunError> {
/// let manifest = Runner::new()
///     .organization("Acme Corp")
///     .collector(collector)
///     .run("2026-01-01..2026-06-30".parse().unwrap(), "evidence".as_ref())
///     .await?;
/// println!("{} findings failed", manifest.findings.fail);
/// # Ok(()) }
/// ```
pub struct Runner {
    collectors: Vec<BuiltInstance>,
    checks: Vec<InstanceChecks>,
    effective_config: Option<Vec<u8>>,
    organization: Option<String>,
    progress: Arc<dyn Progress>,
    cancel: CancellationToken,
    // Incremental (ledger) runs: a window and the previous run per instance.
    windows: std::collections::BTreeMap<String, (AuditPeriod, Option<PreviousRun>)>,
}

impl Default for Runner {
    fn default() -> Self {
        Self::new()
    }
}

impl Runner {
    /// An empty runner.
    pub fn new() -> Self {
        Self {
            collectors: Vec::new(),
            checks: Vec::new(),
            effective_config: None,
            organization: None,
            progress: Arc::new(NoProgress),
            cancel: CancellationToken::new(),
            windows: Default::default(),
        }
    }

    /// A runner for every instance of a parsed config: collectors built (secrets read from
    /// `secrets` before anything runs), their checks, the organisation, and the effective
    /// config to save as `config.json`.
    pub fn from_config(
        config: &RunConfig,
        secrets: &dyn SecretSource,
    ) -> Result<Self, ConfigError> {
        let mut runner = Self::new();
        runner.collectors = config.build(secrets)?;
        runner.checks = config.checks();
        runner.effective_config = Some(config.effective_json()?);
        runner.organization = config.organization.clone();
        Ok(runner)
    }

    /// Adds a bare collector, outside any module: any population it opens is accepted, and
    /// its type is its name.
    pub fn collector(mut self, collector: Box<dyn Collector>) -> Self {
        let id = InstanceId {
            type_name: collector.collector_type().to_string(),
            name: collector.name().to_string(),
        };
        self.collectors.push(BuiltInstance {
            id,
            version: env!("CARGO_PKG_VERSION").to_string(),
            populations: Vec::new(),
            collector,
        });
        self
    }

    /// Adds a collector instance built by a module.
    pub fn instance(mut self, instance: BuiltInstance) -> Self {
        self.collectors.push(instance);
        self
    }

    /// Adds a check that belongs to no instance, run after collection.
    pub fn check(self, check: Box<dyn Check>) -> Self {
        self.checks(std::iter::once(check))
    }

    /// Adds several checks that belong to no instance.
    pub fn checks(mut self, checks: impl IntoIterator<Item = Box<dyn Check>>) -> Self {
        self.checks.push(InstanceChecks {
            id: InstanceId {
                type_name: String::new(),
                name: String::new(),
            },
            checks: checks.into_iter().collect(),
        });
        self
    }

    /// Adds an instance's checks; their findings' subjects get the instance prefix.
    pub fn instance_checks(mut self, checks: InstanceChecks) -> Self {
        self.checks.push(checks);
        self
    }

    /// Sets the organisation recorded in `run.json`.
    pub fn organization(mut self, name: impl Into<String>) -> Self {
        self.organization = Some(name.into());
        self
    }

    /// Reports progress to `progress`.
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = progress;
        self
    }

    /// Makes instance `name` read `window` instead of the run's period, with its previous
    /// ledger run: an incremental run that continues the collector from where it stopped.
    /// `run.json` records the window.
    pub fn window(
        mut self,
        name: &str,
        window: AuditPeriod,
        previous: Option<PreviousRun>,
    ) -> Self {
        self.windows.insert(name.to_string(), (window, previous));
        self
    }

    /// Uses `cancel` to stop the run (e.g. on Ctrl-C).
    pub fn cancel_token(mut self, cancel: CancellationToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// Runs every collector concurrently into `out`, then every check, and returns the final
    /// manifest. `out` must not exist or be empty.
    ///
    /// `run.json` is written first with status `running` and replaced atomically at the end,
    /// so a crash or Ctrl-C never leaves a directory that claims to be complete.
    pub async fn run(&self, period: AuditPeriod, out: &Path) -> Result<RunManifest, RunError> {
        let mut names: Vec<&str> = self.collectors.iter().map(|c| c.id.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(RunError::DuplicateCollector(w[0].to_string()));
        }
        prepare_out_dir(out)?;

        let mut manifest = RunManifest::start(period, self.organization.clone());
        write_manifest(out, &manifest)?;
        if let Some(config) = &self.effective_config {
            let path = out.join(EFFECTIVE_CONFIG_FILE);
            write_atomic(&path, config).map_err(io_err(&path))?;
        }

        let ctx = CollectContext::new(period)
            .with_cancel(self.cancel.clone())
            .with_progress(self.progress.clone());
        let runs = futures::future::join_all(self.collectors.iter().map(|c| {
            let window = self.windows.get(&c.id.name);
            let ctx = match window {
                Some((w, prev)) => ctx.incremental(*w, prev.clone()),
                None => ctx.clone(),
            };
            async move {
                let mut run = run_collector(c, &ctx, out).await;
                run.window = window.map(|(w, _)| *w);
                run
            }
        }))
        .await;
        manifest.collectors = runs;

        if self.cancel.is_cancelled() {
            manifest.status = RunStatus::Interrupted;
            manifest.finished_at = Some(crate::clock::now());
            write_manifest(out, &manifest)?;
            return Err(RunError::Interrupted(out.join("run.json")));
        }

        let store = EvidenceStore::with_manifest(out, manifest.clone());
        manifest.findings = write_findings(&store, &self.checks)?;
        manifest.status = RunStatus::Complete;
        manifest.finished_at = Some(crate::clock::now());
        write_manifest(out, &manifest)?;
        Ok(manifest)
    }
}

fn prepare_out_dir(out: &Path) -> Result<(), RunError> {
    if out.exists() {
        let mut entries = fs::read_dir(out).map_err(io_err(out))?;
        if entries.next().is_some() {
            return Err(RunError::OutputNotEmpty(out.to_path_buf()));
        }
    } else {
        fs::create_dir_all(out).map_err(io_err(out))?;
    }
    Ok(())
}

fn write_manifest(out: &Path, manifest: &RunManifest) -> Result<(), RunError> {
    let path = out.join("run.json");
    let mut bytes = serde_json::to_vec_pretty(manifest).map_err(|e| RunError::Io {
        path: path.clone(),
        source: std::io::Error::other(e),
    })?;
    bytes.push(b'\n');
    write_atomic(&path, &bytes).map_err(io_err(&path))
}

async fn run_collector(instance: &BuiltInstance, ctx: &CollectContext, out: &Path) -> CollectorRun {
    let collector: &dyn Collector = instance.collector.as_ref();
    let name = instance.id.name.clone();
    let started_at = crate::clock::now();
    let ctx = ctx.for_collector(&name);
    ctx.progress().collector_started(&name);
    tracing::info!(collector = %name, "collector started");

    let result: Result<(crate::sink::SinkOutcome, Option<CollectError>), CollectError> = async {
        let mut sink =
            JsonlSink::create(out, &name, &instance.version)?.with_progress(ctx.progress().clone());
        if !instance.populations.is_empty() {
            sink = sink.declare(instance.populations.clone());
        }
        // A run cancelled before this collector started does not start it at all.
        let collected = if ctx.is_cancelled() {
            Err(CollectError::Cancelled)
        } else {
            tokio::select! {
                biased;
                _ = ctx.cancel_token().cancelled() => Err(CollectError::Cancelled),
                r = AssertUnwindSafe(collector.collect(&ctx, &mut sink)).catch_unwind() => match r {
                    Ok(r) => r,
                    Err(panic) => Err(CollectError::Panicked(panic_message(&panic))),
                },
            }
        };
        let mut error = collected.err();
        let reason = error.as_ref().map(|e| e.to_string()).unwrap_or_default();
        let end = match &error {
            None => CollectEnd::Complete,
            // A partly failed collector vouches for what it finished: kept whole.
            Some(CollectError::PartlyFailed(_)) => CollectEnd::PartlyFailed(&reason),
            Some(_) => CollectEnd::Failed(&reason),
        };
        let outcome = sink.finish(end)?;
        if error.is_none() && !outcome.unfinished.is_empty() {
            // A collector that says it succeeded but left a declared population unwritten
            // has not collected what its module promises.
            error = Some(CollectError::Source(format!(
                "the collector ended without finishing population(s) {}",
                outcome.unfinished.join(", ")
            )));
        }
        Ok((outcome, error))
    }
    .await;

    let (outcome, error) = match result {
        Ok(v) => v,
        Err(e) => (Default::default(), Some(e)),
    };
    let status = match &error {
        None => CollectorStatus::Ok,
        Some(CollectError::Cancelled) => CollectorStatus::Cancelled,
        Some(_) => CollectorStatus::Failed,
    };
    match &error {
        None => tracing::info!(collector = %name, "collector finished"),
        Some(e) => tracing::error!(collector = %name, error = %e, "collector failed"),
    }
    ctx.progress().collector_finished(&name, error.is_none());
    CollectorRun {
        name,
        collector_type: instance.id.type_name.clone(),
        status,
        error: error.map(|e| e.to_string()),
        records: outcome.records,
        files: outcome.files,
        started_at,
        finished_at: crate::clock::now(),
        window: None,
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// Runs every instance's checks over a run directory and returns their findings, in order.
/// A check that cannot run yields one `error` finding naming why, so it is never a silent
/// pass. Findings of an instance not named after its type get `<name>:` on their subject.
pub fn run_checks(store: &EvidenceStore, checks: &[InstanceChecks]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for group in checks {
        let prefix = group
            .id
            .subject_prefix()
            .filter(|_| !group.id.type_name.is_empty());
        for check in &group.checks {
            let mut produced = match store.ledger_period() {
                // An assembled period: judged at every epoch the state it read changed.
                Some(period) => crate::ledger::versioned::judge_over_epochs(
                    store,
                    period,
                    check.as_ref(),
                    judge_once,
                ),
                None => run_check(store, check.as_ref()),
            };
            if let Some(prefix) = &prefix {
                for f in &mut produced {
                    f.subject_id.insert_str(0, prefix);
                }
            }
            findings.append(&mut produced);
        }
    }
    findings
}

/// Runs one check; a check that cannot run gives one `error` finding saying why.
///
/// The verdict rule is enforced here, for every check, so no check can forget it: when a
/// population the check read is incomplete with no known window, its `pass` and
/// `not_applicable` findings become `error` naming the population, since the part that is
/// missing could hold the gap. `fail` stays: a gap shown is a gap. A check that emits nothing
/// at all gets one `error` finding: silence is never a verdict.
pub fn run_check(store: &EvidenceStore, check: &dyn Check) -> Vec<Finding> {
    judge_once(store, check).0
}

/// One evaluation with the verdict rule applied; also returns the populations read.
fn judge_once(store: &EvidenceStore, check: &dyn Check) -> (Vec<Finding>, Vec<(String, String)>) {
    store.take_reads();
    let mut findings = match check.run(store) {
        Ok(f) => f,
        Err(e) => vec![Finding::new(
            check.id(),
            check.criteria(),
            FindingStatus::Error,
            "*",
            format!("check could not run: {e}"),
        )],
    };
    let reads = store.take_reads();
    let gaps: Vec<crate::store::Completeness> = reads
        .iter()
        .map(|(instance, population)| store.completeness_of(instance, population))
        .filter(|c| !c.complete && c.coverage.is_none())
        .collect();
    for f in &mut findings {
        if !matches!(f.status, FindingStatus::Pass | FindingStatus::NotApplicable) {
            continue;
        }
        let why: Vec<String> = gaps
            .iter()
            .filter(|g| g.affects(&f.subject_id))
            .map(|g| g.incomplete_reason())
            .collect();
        if !why.is_empty() {
            f.summary = format!(
                "cannot establish: {}; the check alone said: {}",
                why.join("; "),
                f.summary
            );
            f.status = FindingStatus::Error;
        }
    }
    if findings.is_empty() {
        findings.push(Finding::new(
            check.id(),
            check.criteria(),
            FindingStatus::Error,
            "*",
            "the check produced no finding; silence is never a verdict",
        ));
    }
    (findings, reads)
}

/// Runs `checks` and writes `findings.jsonl` atomically into the store's directory.
pub fn write_findings(
    store: &EvidenceStore,
    checks: &[InstanceChecks],
) -> Result<FindingCounts, RunError> {
    let findings = run_checks(store, checks);
    let path = store.dir().join("findings.jsonl");
    let tmp = store.dir().join(".findings.jsonl.tmp");
    let mut counts = FindingCounts::default();
    {
        let file = File::create(&tmp).map_err(io_err(&tmp))?;
        let mut w = BufWriter::new(file);
        for f in &findings {
            counts.add(f.status);
            serde_json::to_writer(&mut w, f).map_err(|e| RunError::Io {
                path: tmp.clone(),
                source: std::io::Error::other(e),
            })?;
            w.write_all(b"\n").map_err(io_err(&tmp))?;
        }
        w.flush().map_err(io_err(&tmp))?;
        w.get_ref().sync_all().map_err(io_err(&tmp))?;
    }
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    Ok(counts)
}
