//! The GitHub collector as a module: `[github]`, or several `[[github]]` entries with names.

use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::{BuildContext, Check, CheckContext, Collector, Module, PopulationSpec};

use super::collector::GithubCollector;
use super::config::GithubConfig;
use super::records::{BRANCH_RULES, COMMITS, PULL_REQUESTS, RULE_SUITES};

/// The `github` module: merged pull requests and branch rules (CC8.1).
#[derive(Debug, Clone, Copy, Default)]
pub struct GithubModule;

impl Module for GithubModule {
    type Config = GithubConfig;
    const TYPE: &'static str = super::TYPE;

    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    fn populations(&self, _: &GithubConfig) -> Vec<PopulationSpec> {
        vec![
            PULL_REQUESTS.spec(),
            COMMITS.spec(),
            BRANCH_RULES.spec(),
            RULE_SUITES.spec(),
        ]
    }

    fn validate(&self, config: &GithubConfig, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        config.validate(ctx)
    }

    fn collector(
        &self,
        config: &GithubConfig,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn Collector>, ConfigError> {
        Ok(Box::new(GithubCollector::new(config.settings(ctx)?, ctx)?))
    }

    fn checks(&self, config: &GithubConfig, ctx: &CheckContext<'_>) -> Vec<Box<dyn Check>> {
        super::checks::checks(ctx.instance(), config)
    }
}
