//! The verdict rule on synthetic runs, shared by the collector tests: every declared
//! population written empty, or the collector failing before finishing any, and then each
//! check of the module judged over that.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::Path;

use soc2_evidence_core::{
    async_trait, BuiltInstance, CollectContext, CollectError, Collector, EvidenceSink,
    EvidenceStore, Finding, FindingStatus, PopulationSpec, RunConfig, Runner,
};

/// Writes every declared population empty, or fails before finishing any.
struct Synthetic {
    name: String,
    populations: Vec<PopulationSpec>,
    fail: bool,
}

#[async_trait]
impl Collector for Synthetic {
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
        if self.fail {
            return Err(CollectError::Source("failed on purpose".into()));
        }
        for w in open {
            w.finish()?;
        }
        Ok(())
    }
}

/// Runs `config`'s checks over synthetic populations (empty, or missing when `fail`) and
/// returns each check's findings, by check id.
pub async fn synthetic_verdicts(
    config: &RunConfig,
    period: &str,
    dir: &Path,
    fail: bool,
) -> Vec<(String, Vec<Finding>)> {
    let mut runner = Runner::new();
    for i in &config.instances {
        runner = runner.instance(BuiltInstance {
            id: i.id().clone(),
            version: i.version().to_string(),
            populations: i.populations(),
            collector: Box::new(Synthetic {
                name: i.name().to_string(),
                populations: i.populations(),
                fail,
            }),
        });
    }
    for checks in config.checks() {
        runner = runner.instance_checks(checks);
    }
    runner.run(period.parse().unwrap(), dir).await.unwrap();
    let store = EvidenceStore::open(dir).unwrap();
    let mut out = Vec::new();
    for group in config.checks() {
        for check in &group.checks {
            let findings = match check.run(&store) {
                Ok(f) => f,
                Err(e) => vec![Finding::new(
                    check.id(),
                    check.criteria(),
                    FindingStatus::Error,
                    "*",
                    format!("check could not run: {e}"),
                )],
            };
            out.push((check.id().to_string(), findings));
        }
    }
    out
}

/// Asserts the verdict rule: on empty populations every check says `not_applicable` at least
/// once and never `pass`; on missing ones, `error` and never `pass`.
pub async fn assert_verdict_rule(config: &RunConfig, period: &str, dir: &Path) {
    for fail in [false, true] {
        let wanted = if fail {
            FindingStatus::Error
        } else {
            FindingStatus::NotApplicable
        };
        let sub = dir.join(if fail { "missing" } else { "empty" });
        for (check, findings) in synthetic_verdicts(config, period, &sub, fail).await {
            assert!(
                !findings.is_empty(),
                "{check}: silence on {wanted:?} populations"
            );
            assert!(
                findings.iter().all(|f| f.status != FindingStatus::Pass),
                "{check}: pass on synthetic populations: {findings:?}"
            );
            assert!(
                findings.iter().any(|f| f.status == wanted),
                "{check}: no {wanted} finding: {findings:?}"
            );
        }
    }
}
