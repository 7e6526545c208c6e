//! The command collector as a module: `[[command]]` sections, one population each.

use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::{BuildContext, Check, CheckContext, Collector, Module, PopulationSpec};

use super::collector::CommandCollector;
use super::config::CommandConfig;

/// The `command` module: any program that prints one JSON object per line.
#[derive(Debug, Clone, Copy, Default)]
pub struct CommandModule;

impl Module for CommandModule {
    type Config = CommandConfig;
    const TYPE: &'static str = "command";

    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    fn populations(&self, config: &CommandConfig) -> Vec<PopulationSpec> {
        vec![config.population_spec()]
    }

    fn validate(&self, config: &CommandConfig, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        config.validate(ctx)
    }

    fn collector(
        &self,
        config: &CommandConfig,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn Collector>, ConfigError> {
        Ok(Box::new(CommandCollector::new(
            ctx.instance(),
            config.clone(),
            ctx.base_dir(),
        )?))
    }

    /// The records are whatever the program prints; the checks over them are the plugin
    /// author's, so the module itself has none.
    fn checks(&self, _: &CommandConfig, _: &CheckContext<'_>) -> Vec<Box<dyn Check>> {
        Vec::new()
    }
}
