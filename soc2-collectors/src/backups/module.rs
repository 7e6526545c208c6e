//! The backup-log collector as a module: `[backups]` with its `[[backups.source]]` entries,
//! or several `[[backups]]` entries with names.

use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::{BuildContext, Check, CheckContext, Collector, Module, PopulationSpec};

use super::collector::BackupsCollector;
use super::config::BackupsConfig;
use super::records::{JOBS, RESTORES, SOURCES};

/// The `backups` module: backup and restore evidence from backup tools' logs (A1.2, A1.3,
/// CC7.5).
#[derive(Debug, Clone, Copy, Default)]
pub struct BackupsModule;

impl Module for BackupsModule {
    type Config = BackupsConfig;
    const TYPE: &'static str = super::TYPE;

    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    fn populations(&self, _: &BackupsConfig) -> Vec<PopulationSpec> {
        vec![JOBS.spec(), RESTORES.spec(), SOURCES.spec()]
    }

    fn validate(&self, config: &BackupsConfig, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        config.validate(ctx)
    }

    fn collector(
        &self,
        config: &BackupsConfig,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn Collector>, ConfigError> {
        Ok(Box::new(BackupsCollector::new(config.clone(), ctx)?))
    }

    fn checks(&self, config: &BackupsConfig, ctx: &CheckContext<'_>) -> Vec<Box<dyn Check>> {
        super::checks::checks(ctx.instance(), config)
    }
}
