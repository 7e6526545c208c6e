//! The AWS collector as a module: `[aws]`, or one `[[aws]]` entry per account.

use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::{BuildContext, Check, CheckContext, Collector, Module, PopulationSpec};

use super::checks::checks;
use super::config::AwsConfig;
use super::records::{
    ACCOUNT, BACKUP_JOBS, BACKUP_SOURCES, BUCKETS, DB_INSTANCES, IAM_USERS, KMS_KEYS,
    PASSWORD_POLICY, READ_ERRORS, RESTORE_JOBS, SECURITY_GROUPS, TRAILS,
};

/// The module's type: the config section, the default instance name and the check-id prefix.
pub(crate) const TYPE: &str = "aws";

/// The `aws` module: identities, logging, encryption, network exposure and AWS Backup jobs
/// of one AWS account per instance, with the `aws.*` checks and the `backups.*` checks over
/// its AWS Backup jobs.
///
/// ```
/// let config = soc2_collectors::registry()
///     .parse_config(
///         "[aws]\nregions = [\"eu-west-1\", \"us-east-1\"]\nmax_key_age_days = 60\n",
///         "soc2.toml",
///         ".".as_ref(),
///     )
///     .unwrap();
/// assert_eq!(config.instances[0].name(), "aws");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AwsModule;

impl Module for AwsModule {
    type Config = AwsConfig;
    const TYPE: &'static str = TYPE;

    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    fn populations(&self, config: &AwsConfig) -> Vec<PopulationSpec> {
        let mut out = vec![
            ACCOUNT.spec(),
            IAM_USERS.spec(),
            PASSWORD_POLICY.spec(),
            TRAILS.spec(),
            BUCKETS.spec(),
            DB_INSTANCES.spec(),
            KMS_KEYS.spec(),
            SECURITY_GROUPS.spec(),
            READ_ERRORS.spec(),
        ];
        if config.aws_backup {
            out.extend([
                BACKUP_JOBS.spec(),
                RESTORE_JOBS.spec(),
                BACKUP_SOURCES.spec(),
            ]);
        }
        out
    }

    fn validate(&self, config: &AwsConfig, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        config.validate(ctx)
    }

    fn collector(
        &self,
        config: &AwsConfig,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn Collector>, ConfigError> {
        Ok(Box::new(config.build(ctx)?))
    }

    fn checks(&self, config: &AwsConfig, ctx: &CheckContext<'_>) -> Vec<Box<dyn Check>> {
        checks(ctx.instance(), &config.check_settings())
    }
}
