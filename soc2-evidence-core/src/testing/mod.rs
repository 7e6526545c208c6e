//! The collector conformance suite: one set of behaviour tests that every collector module —
//! ours and a plugin's — must pass (feature `testing`).
//!
//! Give it the registry, the module's type, a function that writes the module's config
//! section for a fixture (a local server speaking the real API, or files), and the secrets
//! the config names. It then checks, through the same runner the CLI uses:
//!
//! - **happy path**: the collector succeeds; every declared population has a `.jsonl` file
//!   whose lines are of the declared kind; provenance is complete and `records_written`
//!   equals the lines in the file;
//! - **injected failures** (HTTP modules, through a fault-injecting proxy in front of the
//!   fixture): a 500, a 401, a hang and a truncated body half-way through collection, and a
//!   cancellation; afterwards only `.partial` files exist, every provenance entry says
//!   `complete: false`, and the error names the endpoint that failed;
//! - **secrets**: the secrets' values (canaries) appear nowhere in the run directory or in
//!   the logs written at TRACE level;
//! - **reproducible checks**: re-running the checks from the saved effective config gives
//!   `findings.jsonl` byte for byte;
//! - **check ids and criteria**: every check id is `<type>.<control>` and its criteria are in
//!   the catalogue;
//! - **verdict rule**: on empty populations every check emits `not_applicable` and never
//!   `pass`; on empty populations marked incomplete, and on missing or partial ones, every
//!   check emits `error` and never `pass`; and over the happy run with every population
//!   marked incomplete, no check says `pass`.
//!
//! ```no_run
//! # async fn demo(registry: soc2_evidence_core::Registry, server_url: String) {
//! use soc2_evidence_core::testing::Conformance;
//! let report = Conformance::new(registry, "okta", "2026-01-01..2026-06-30")
//!     .http_upstream(&server_url)
//!     .secret("OKTA_API_TOKEN", "canary-token-1234")
//!     .config(|env| format!(
//!         "[okta]\nbase_url = {:?}\ntoken_env = \"OKTA_API_TOKEN\"\ntimeout_secs = {}\n",
//!         env.base_url, env.timeout_secs
//!     ))
//!     .run()
//!     .await;
//! report.assert_ok();
//! # }
//! ```

mod logs;
mod proxy;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::collector::{CollectContext, CollectError, Collector};
use crate::finding::{Finding, FindingStatus};
use crate::module::{
    BuiltInstance, InstanceId, MapSecrets, Registry, RunConfig, EFFECTIVE_CONFIG_FILE,
};
use crate::period::AuditPeriod;
use crate::population::PopulationSpec;
use crate::runner::{run_checks, Runner};
use crate::sink::EvidenceSink;
use crate::store::EvidenceStore;

pub use proxy::Fault;

/// What the config function gets: where the fixture is and how long a request may take.
#[derive(Debug, Clone)]
pub struct FixtureEnv {
    /// The URL the collector must use: the fault-injecting proxy in front of the fixture
    /// server (empty for modules without an HTTP upstream).
    pub base_url: String,
    /// Per-request timeout to configure, in seconds (short, so a hang is detected quickly).
    pub timeout_secs: u64,
    /// A scratch directory for fixture files.
    pub work_dir: PathBuf,
}

type ConfigFn = Box<dyn Fn(&FixtureEnv) -> String + Send + Sync>;

/// The conformance suite for one module type. See the [module docs](self).
pub struct Conformance {
    registry: Registry,
    type_name: String,
    period: String,
    config: Option<ConfigFn>,
    upstream: Option<String>,
    secrets: Vec<(String, String)>,
}

/// What the suite found: every problem, and what it checked.
#[derive(Debug, Default, Clone)]
pub struct ConformanceReport {
    /// Each violation, in words.
    pub problems: Vec<String>,
    /// Each scenario that ran, in words.
    pub scenarios: Vec<String>,
}

impl ConformanceReport {
    /// Panics listing every problem, or returns when there is none.
    pub fn assert_ok(&self) {
        if !self.problems.is_empty() {
            let mut msg = format!("{} conformance problem(s):\n", self.problems.len());
            for p in &self.problems {
                let _ = writeln!(msg, "  - {p}");
            }
            let _ = writeln!(msg, "scenarios: {}", self.scenarios.join("; "));
            panic!("{msg}");
        }
    }
}

impl Conformance {
    /// The suite for instances of `type_name` in configs built by [`Conformance::config`],
    /// collected over `period` (`START..END`).
    pub fn new(registry: Registry, type_name: &str, period: &str) -> Self {
        Self {
            registry,
            type_name: type_name.to_string(),
            period: period.to_string(),
            config: None,
            upstream: None,
            secrets: Vec::new(),
        }
    }

    /// The module talks HTTP to this fixture server; the suite puts its proxy in front and
    /// injects failures there.
    pub fn http_upstream(mut self, url: &str) -> Self {
        self.upstream = Some(url.trim_end_matches('/').to_string());
        self
    }

    /// A secret the config names; its value is a canary that must never be written out.
    pub fn secret(mut self, var: &str, value: &str) -> Self {
        self.secrets.push((var.to_string(), value.to_string()));
        self
    }

    /// The function writing the whole config text (it may hold other modules' sections a
    /// cross-collector check needs).
    pub fn config(mut self, f: impl Fn(&FixtureEnv) -> String + Send + Sync + 'static) -> Self {
        self.config = Some(Box::new(f));
        self
    }

    fn secrets(&self) -> MapSecrets {
        self.secrets
            .iter()
            .fold(MapSecrets::default(), |s, (k, v)| s.with(k, v))
    }

    /// Runs every scenario and returns what it found.
    pub async fn run(self) -> ConformanceReport {
        let mut report = ConformanceReport::default();
        if let Err(e) = self.run_all(&mut report).await {
            report.problems.push(e);
        }
        report
    }

    async fn run_all(&self, report: &mut ConformanceReport) -> Result<(), String> {
        let period: AuditPeriod = self
            .period
            .parse()
            .map_err(|e| format!("period {:?}: {e}", self.period))?;
        let work = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let proxy = match &self.upstream {
            Some(up) => Some(proxy::Proxy::start(up).await?),
            None => None,
        };
        let env = FixtureEnv {
            base_url: proxy.as_ref().map(|p| p.url()).unwrap_or_default(),
            timeout_secs: 2,
            work_dir: work.path().join("fixture"),
        };
        std::fs::create_dir_all(&env.work_dir).map_err(|e| e.to_string())?;
        let make = self
            .config
            .as_ref()
            .ok_or("Conformance::config was not given")?;
        let text = make(&env);
        let config = self
            .registry
            .parse_config(&text, "conformance config", &env.work_dir)
            .map_err(|e| format!("config does not parse: {e}"))?;
        let targets: Vec<InstanceId> = config
            .instance_ids()
            .into_iter()
            .filter(|i| i.type_name == self.type_name)
            .collect();
        if targets.is_empty() {
            return Err(format!(
                "the config has no instance of type {:?}",
                self.type_name
            ));
        }

        // Happy path.
        let happy = work.path().join("happy");
        let logs = logs::Capture::default();
        let runner = Runner::from_config(&config, &self.secrets())
            .map_err(|e| format!("collectors do not build: {e}"))?;
        let manifest = logs
            .around(runner.run(period, &happy))
            .await
            .map_err(|e| format!("happy path: {e}"))?;
        let requests = proxy.as_ref().map(|p| p.requests()).unwrap_or(0);
        report.scenarios.push(format!(
            "happy path ({} instance(s), {requests} request(s))",
            targets.len()
        ));
        for c in &manifest.collectors {
            if c.error.is_some() {
                report.problems.push(format!(
                    "happy path: collector {:?} failed: {}",
                    c.name,
                    c.error.as_deref().unwrap_or_default()
                ));
            }
        }
        for t in &targets {
            let populations = instance(&config, t)?.populations();
            check_complete_populations(&happy, t, &populations, &mut report.problems);
        }
        self.check_canaries(&happy, &logs.text(), "happy path", &mut report.problems);
        check_reproducible(&self.registry, &happy, &mut report.problems);
        check_ids(&config, &targets, &mut report.problems);
        report
            .scenarios
            .push("checks on the happy run marked incomplete".to_string());
        check_no_pass_when_incomplete(&config, &happy, &targets, &mut report.problems);

        // The verdict rule on empty and on missing populations.
        for scenario in Synthetic::ALL {
            let dir = work.path().join(scenario.label.replace(' ', "-"));
            report
                .scenarios
                .push(format!("checks on {}", scenario.label));
            report
                .problems
                .extend(synthetic_verdicts(&config, &targets, period, &dir, scenario).await?);
        }

        // Injected failures.
        let faults: Vec<Fault> = if proxy.is_some() {
            vec![
                Fault::Status(500),
                Fault::Status(401),
                Fault::Hang,
                Fault::TruncatedBody,
            ]
        } else {
            Vec::new()
        };
        let at = (requests / 2).max(1);
        for fault in faults {
            let Some(p) = &proxy else { break };
            let dir = work.path().join(format!("fault-{}", fault.slug()));
            let label = format!("{} at request {at}", fault.describe());
            p.arm(fault, at);
            let logs = logs::Capture::default();
            let runner =
                Runner::from_config(&config, &self.secrets()).map_err(|e| e.to_string())?;
            let outcome = logs.around(runner.run(period, &dir)).await;
            let faulted = p.disarm();
            report.scenarios.push(label.clone());
            let Some(endpoint) = faulted else {
                report.problems.push(format!(
                    "{label}: the collector made fewer than {at} requests this time"
                ));
                continue;
            };
            match outcome {
                Ok(m) => {
                    for t in &targets {
                        let run = m.collector(&t.name);
                        match run.and_then(|c| c.error.clone()) {
                            None => report.problems.push(format!(
                                "{label}: collector {:?} did not fail",
                                t.name
                            )),
                            Some(err) if !err.contains(&endpoint) => report.problems.push(format!(
                                "{label}: the error of {:?} does not name the endpoint {endpoint}: {err}",
                                t.name
                            )),
                            Some(_) => {}
                        }
                        let populations = instance(&config, t)?.populations();
                        check_only_partial(&dir, t, &populations, &label, &mut report.problems);
                    }
                }
                Err(e) => report
                    .problems
                    .push(format!("{label}: the run itself failed: {e}")),
            }
            self.check_canaries(&dir, &logs.text(), &label, &mut report.problems);
        }

        // Cancellation: half-way through for HTTP modules, before the start otherwise.
        let cancel = CancellationToken::new();
        let dir = work.path().join("cancelled");
        let label = match &proxy {
            Some(p) => {
                p.arm(Fault::Cancel(cancel.clone()), at);
                format!("cancellation at request {at}")
            }
            None => {
                cancel.cancel();
                "cancellation before the start".to_string()
            }
        };
        let runner = Runner::from_config(&config, &self.secrets())
            .map_err(|e| e.to_string())?
            .cancel_token(cancel);
        let outcome = runner.run(period, &dir).await;
        if let Some(p) = &proxy {
            p.disarm();
        }
        report.scenarios.push(label.clone());
        if outcome.is_ok() {
            report
                .problems
                .push(format!("{label}: the run was not reported as interrupted"));
        }
        for t in &targets {
            let populations = instance(&config, t)?.populations();
            check_only_partial(&dir, t, &populations, &label, &mut report.problems);
        }
        Ok(())
    }

    fn check_canaries(&self, dir: &Path, logs: &str, label: &str, problems: &mut Vec<String>) {
        for (var, value) in &self.secrets {
            if value.len() < 6 {
                problems.push(format!(
                    "secret {var}: use a canary of at least 6 characters so the search means something"
                ));
                continue;
            }
            for file in files_under(dir) {
                if let Ok(bytes) = std::fs::read(&file) {
                    if contains(&bytes, value.as_bytes()) {
                        problems.push(format!(
                            "{label}: the value of {var} appears in {}",
                            file.display()
                        ));
                    }
                }
            }
            if logs.contains(value.as_str()) {
                problems.push(format!("{label}: the value of {var} appears in the logs"));
            }
        }
    }
}

/// One kind of synthetic run the verdict rule is judged on.
#[derive(Debug, Clone, Copy)]
struct Synthetic {
    label: &'static str,
    /// How the synthetic collectors end.
    end: SyntheticEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SyntheticEnd {
    /// Every population written empty and vouched for: nothing in scope.
    Empty,
    /// Every population written empty but marked incomplete: nothing can be established.
    IncompleteEmpty,
    /// The collectors fail before finishing any population.
    Fail,
}

impl Synthetic {
    const EMPTY: Synthetic = Synthetic {
        label: "empty populations",
        end: SyntheticEnd::Empty,
    };
    const INCOMPLETE: Synthetic = Synthetic {
        label: "incomplete empty populations",
        end: SyntheticEnd::IncompleteEmpty,
    };
    const MISSING: Synthetic = Synthetic {
        label: "missing populations",
        end: SyntheticEnd::Fail,
    };
    const ALL: [Synthetic; 3] = [Self::EMPTY, Self::INCOMPLETE, Self::MISSING];
}

/// Asserts the verdict rule for every check of `config`'s instances: over a run where every
/// declared population is empty, each check emits at least one `not_applicable` and never
/// `pass`; over one where every population is empty but marked incomplete, and over one
/// where the collectors failed before finishing any, at least one `error` and never `pass`.
/// `dir` must not exist or be empty.
///
/// ```no_run
/// # async fn demo(config: soc2_evidence_core::RunConfig) {
/// soc2_evidence_core::testing::assert_verdict_rule(&config, "2026-01-01..2026-06-30", "t".as_ref()).await;
/// # }
/// ```
pub async fn assert_verdict_rule(config: &RunConfig, period: &str, dir: &Path) {
    let period: AuditPeriod = match period.parse() {
        Ok(p) => p,
        Err(e) => panic!("period {period:?}: {e}"),
    };
    // Every check group, the registry's cross-module ones included.
    let ids: Vec<InstanceId> = config.checks().into_iter().map(|g| g.id).collect();
    let mut problems = Vec::new();
    for scenario in Synthetic::ALL {
        let sub = dir.join(scenario.label.replace(' ', "-"));
        match synthetic_verdicts(config, &ids, period, &sub, scenario).await {
            Ok(p) => problems.extend(p),
            Err(e) => problems.push(e),
        }
    }
    if !problems.is_empty() {
        panic!(
            "the verdict rule is broken:\n  - {}",
            problems.join("\n  - ")
        );
    }
}

/// Runs the checks of `targets` over one synthetic run and returns the rule's violations.
async fn synthetic_verdicts(
    config: &RunConfig,
    targets: &[InstanceId],
    period: AuditPeriod,
    dir: &Path,
    scenario: Synthetic,
) -> Result<Vec<String>, String> {
    let label = scenario.label;
    let mut runner = Runner::new();
    for i in &config.instances {
        runner = runner.instance(BuiltInstance {
            id: i.id().clone(),
            version: i.version().to_string(),
            populations: i.populations(),
            collector: Box::new(SyntheticCollector {
                name: i.name().to_string(),
                populations: i.populations(),
                end: scenario.end,
            }),
        });
    }
    runner
        .run(period, dir)
        .await
        .map_err(|e| format!("{label}: {e}"))?;
    let store = EvidenceStore::open(dir).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    for group in config.checks().iter().filter(|g| targets.contains(&g.id)) {
        for check in &group.checks {
            let findings = crate::runner::run_check(&store, check.as_ref());
            judge_synthetic(check.id(), label, scenario.end, &findings, &mut problems);
        }
    }
    Ok(problems)
}

fn judge_synthetic(
    check: &str,
    label: &str,
    end: SyntheticEnd,
    findings: &[Finding],
    problems: &mut Vec<String>,
) {
    if findings.is_empty() {
        problems.push(format!(
            "{check} on {label}: no finding at all (silence is never a verdict)"
        ));
        return;
    }
    if let Some(p) = findings.iter().find(|f| f.status == FindingStatus::Pass) {
        problems.push(format!(
            "{check} on {label}: `pass` for {:?} ({})",
            p.subject_id, p.summary
        ));
    }
    let wanted = if end == SyntheticEnd::Empty {
        FindingStatus::NotApplicable
    } else {
        FindingStatus::Error
    };
    if !findings.iter().any(|f| f.status == wanted) {
        let got: Vec<String> = findings
            .iter()
            .map(|f| format!("{} {}", f.status, f.subject_id))
            .collect();
        problems.push(format!(
            "{check} on {label}: expected at least one `{wanted}` finding, got {}",
            got.join(", ")
        ));
    }
}

/// A collector that writes every declared population empty (vouched for or not), or fails
/// before finishing any.
struct SyntheticCollector {
    name: String,
    populations: Vec<PopulationSpec>,
    end: SyntheticEnd,
}

#[async_trait]
impl Collector for SyntheticCollector {
    fn name(&self) -> &str {
        &self.name
    }
    async fn collect(
        &self,
        _: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let mut open = Vec::new();
        for p in &self.populations {
            open.push(sink.open_raw(p)?);
        }
        match self.end {
            SyntheticEnd::Fail => {
                return Err(CollectError::Source(
                    "conformance: collection failed on purpose".into(),
                ))
            }
            SyntheticEnd::Empty => {
                for w in open {
                    w.finish()?;
                }
            }
            SyntheticEnd::IncompleteEmpty => {
                for w in open {
                    w.finish_incomplete("conformance: marked incomplete on purpose")?;
                }
            }
        }
        Ok(())
    }
}

fn instance<'a>(
    config: &'a RunConfig,
    id: &InstanceId,
) -> Result<&'a crate::module::ConfiguredInstance, String> {
    config
        .instances
        .iter()
        .find(|i| i.id() == id)
        .ok_or_else(|| format!("instance {id:?} vanished"))
}

fn provenance_by_population(
    dir: &Path,
    instance: &str,
) -> Result<BTreeMap<String, serde_json::Value>, String> {
    let path = dir.join(instance).join("provenance.json");
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = BTreeMap::new();
    for p in doc["populations"].as_array().into_iter().flatten() {
        if let Some(name) = p["population"].as_str() {
            out.insert(name.to_string(), p.clone());
        }
    }
    Ok(out)
}

fn check_complete_populations(
    dir: &Path,
    id: &InstanceId,
    populations: &[PopulationSpec],
    problems: &mut Vec<String>,
) {
    let prov = match provenance_by_population(dir, &id.name) {
        Ok(p) => p,
        Err(e) => {
            problems.push(format!("happy path: {e}"));
            return;
        }
    };
    for spec in populations {
        let at = format!("happy path: {}/{}", id.name, spec.name);
        let file = dir.join(&id.name).join(format!("{}.jsonl", spec.name));
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("{at}.jsonl: {e}"));
                continue;
            }
        };
        let mut lines = 0u64;
        for (n, line) in text.lines().enumerate() {
            lines += 1;
            match serde_json::from_str::<serde_json::Value>(line) {
                Ok(v) if v["kind"] == spec.kind.as_str() => {}
                Ok(v) => problems.push(format!(
                    "{at}.jsonl:{}: kind {}, declared {:?}",
                    n + 1,
                    v["kind"],
                    spec.kind
                )),
                Err(e) => problems.push(format!("{at}.jsonl:{}: {e}", n + 1)),
            }
        }
        let Some(p) = prov.get(&spec.name) else {
            problems.push(format!("{at}: no provenance entry"));
            continue;
        };
        // A population cut short by the source's retention names the window it covers; that
        // is honest, not a failure of the collector.
        if p["complete"] != true && p.get("covers").is_none_or(|c| c.is_null()) {
            problems.push(format!("{at}: provenance says complete: {}", p["complete"]));
        }
        if p["kind"] != spec.kind.as_str() {
            problems.push(format!(
                "{at}: provenance kind {}, declared {:?}",
                p["kind"], spec.kind
            ));
        }
        if p["records_written"].as_u64() != Some(lines) {
            problems.push(format!(
                "{at}: provenance records_written {} but the file has {lines} line(s)",
                p["records_written"]
            ));
        }
    }
}

/// Marks every population of `targets` in a copy of the happy run incomplete (no window)
/// and asserts that no check of theirs then says `pass`.
fn check_no_pass_when_incomplete(
    config: &RunConfig,
    happy: &Path,
    targets: &[InstanceId],
    problems: &mut Vec<String>,
) {
    let label = "happy run marked incomplete";
    let copy = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return problems.push(format!("{label}: temp dir: {e}")),
    };
    for file in files_under(happy) {
        let Ok(rel) = file.strip_prefix(happy) else {
            continue;
        };
        let to = copy.path().join(rel);
        let copied = to
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::copy(&file, &to).map(|_| ()));
        if let Err(e) = copied {
            return problems.push(format!("{label}: copying {}: {e}", file.display()));
        }
    }
    for t in targets {
        let path = copy.path().join(&t.name).join("provenance.json");
        let marked = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| {
                serde_json::from_slice::<serde_json::Value>(&b).map_err(|e| e.to_string())
            })
            .and_then(|mut prov| {
                if let Some(ps) = prov["populations"].as_array_mut() {
                    for p in ps {
                        p["complete"] = false.into();
                        if let Some(o) = p.as_object_mut() {
                            o.remove("covers");
                        }
                        p["notes"] = serde_json::json!(["conformance: marked incomplete"]);
                    }
                }
                prov["complete"] = false.into();
                serde_json::to_vec(&prov).map_err(|e| e.to_string())
            })
            .and_then(|b| std::fs::write(&path, b).map_err(|e| e.to_string()));
        if let Err(e) = marked {
            return problems.push(format!("{label}: {}: {e}", path.display()));
        }
    }
    let store = match EvidenceStore::open(copy.path()) {
        Ok(s) => s,
        Err(e) => return problems.push(format!("{label}: {e}")),
    };
    for group in config.checks().iter().filter(|g| targets.contains(&g.id)) {
        for check in &group.checks {
            let findings = crate::runner::run_check(&store, check.as_ref());
            if let Some(p) = findings.iter().find(|f| f.status == FindingStatus::Pass) {
                problems.push(format!(
                    "{} on the {label}: `pass` for {:?} ({})",
                    check.id(),
                    p.subject_id,
                    p.summary
                ));
            }
        }
    }
}

fn check_only_partial(
    dir: &Path,
    id: &InstanceId,
    populations: &[PopulationSpec],
    label: &str,
    problems: &mut Vec<String>,
) {
    for file in files_under(&dir.join(&id.name)) {
        let name = file.to_string_lossy();
        if name.ends_with(".jsonl") {
            problems.push(format!(
                "{label}: {} is presented as complete",
                file.display()
            ));
        }
    }
    let prov = match provenance_by_population(dir, &id.name) {
        Ok(p) => p,
        Err(e) => {
            problems.push(format!("{label}: {e}"));
            return;
        }
    };
    for spec in populations {
        match prov.get(&spec.name) {
            None => problems.push(format!(
                "{label}: {}/{} has no provenance entry",
                id.name, spec.name
            )),
            Some(p) if p["complete"] != false => problems.push(format!(
                "{label}: {}/{} provenance says complete: {}",
                id.name, spec.name, p["complete"]
            )),
            Some(p) if p["notes"].as_array().is_none_or(|n| n.is_empty()) => {
                problems.push(format!(
                    "{label}: {}/{} is incomplete but provenance gives no reason",
                    id.name, spec.name
                ))
            }
            Some(_) => {}
        }
    }
}

fn check_reproducible(registry: &Registry, dir: &Path, problems: &mut Vec<String>) {
    let before = match std::fs::read(dir.join("findings.jsonl")) {
        Ok(b) => b,
        Err(e) => {
            problems.push(format!("happy path: findings.jsonl: {e}"));
            return;
        }
    };
    let config = match registry.load_effective(dir) {
        Ok(c) => c,
        Err(e) => {
            problems.push(format!("check DIR: {EFFECTIVE_CONFIG_FILE}: {e}"));
            return;
        }
    };
    let store = match EvidenceStore::open(dir) {
        Ok(s) => s,
        Err(e) => {
            problems.push(format!("check DIR: {e}"));
            return;
        }
    };
    let mut again = Vec::new();
    for f in run_checks(&store, &config.checks()) {
        if let Ok(line) = serde_json::to_vec(&f) {
            again.extend_from_slice(&line);
            again.push(b'\n');
        }
    }
    if again != before {
        problems.push(
            "check DIR: re-running the checks from the saved config does not reproduce findings.jsonl byte for byte"
                .into(),
        );
    }
}

fn check_ids(config: &RunConfig, targets: &[InstanceId], problems: &mut Vec<String>) {
    for group in config.checks().iter().filter(|g| targets.contains(&g.id)) {
        let prefix = format!("{}.", group.id.type_name);
        for check in &group.checks {
            if !check.id().starts_with(&prefix) || check.id().len() == prefix.len() {
                problems.push(format!(
                    "check id {:?} is not namespaced as {prefix}<control>",
                    check.id()
                ));
            }
            if check.criteria().is_empty() {
                problems.push(format!("check {:?} names no criterion", check.id()));
            }
            for c in check.criteria() {
                if crate::criteria::lookup(c).is_err() {
                    problems.push(format!(
                        "check {:?}: criterion {c:?} is not in the catalogue",
                        check.id()
                    ));
                }
            }
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
