//! The Jira collector as a module: `[jira]`, or one `[[jira]]` entry per site or project.

use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::{BuildContext, Check, CheckContext, Collector, Module, PopulationSpec};

use super::config::JiraConfig;
use super::records::CHANGE_TICKETS;

/// The module's type: the config section, the default instance name and the check-id prefix.
pub(crate) const TYPE: &str = "jira";

/// The `jira` module: change tickets with their status history and remote links from one
/// Jira Cloud site per instance, with the change-management checks over them.
///
/// ```
/// let config = soc2_collectors::registry()
///     .parse_config(
///         "[jira]\nbase_url = \"https://acme.atlassian.net\"\njql = \"project = CHG\"\n",
///         "soc2.toml",
///         ".".as_ref(),
///     )
///     .unwrap();
/// assert_eq!(config.instances[0].name(), "jira");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct JiraModule;

impl Module for JiraModule {
    type Config = JiraConfig;
    const TYPE: &'static str = TYPE;

    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    fn populations(&self, _: &JiraConfig) -> Vec<PopulationSpec> {
        vec![CHANGE_TICKETS.spec()]
    }

    fn validate(&self, config: &JiraConfig, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        config.validate(ctx)
    }

    fn collector(
        &self,
        config: &JiraConfig,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn Collector>, ConfigError> {
        Ok(Box::new(config.collector(ctx)?))
    }

    fn checks(&self, config: &JiraConfig, ctx: &CheckContext<'_>) -> Vec<Box<dyn Check>> {
        config.checks(ctx.instance(), ctx.instances_of("github"))
    }
}
