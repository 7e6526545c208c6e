//! The Okta collector as a module: `[okta]`, or one `[[okta]]` entry per org.

use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::{BuildContext, Check, CheckContext, Collector, Module, PopulationSpec};

use super::checks::checks;
use super::config::OktaConfig;
use super::records::{ADMIN_ROLES, FACTORS, POLICIES, SYSTEM_LOG, USERS};

/// The module's type: the config section, the default instance name and the check-id prefix.
pub(crate) const TYPE: &str = "okta";

/// The `okta` module: identities, MFA factors, admin roles, System Log and policies of one
/// Okta org per instance, with the CC6.1–CC6.3 checks over them.
///
/// ```
/// let config = soc2_collectors::registry()
///     .parse_config(
///         "[[okta]]\nname = \"eu\"\nbase_url = \"https://acme-eu.okta.com\"\n\
///          [[okta]]\nname = \"us\"\nbase_url = \"https://acme.okta.com\"\ndormant_days = 60\n",
///         "soc2.toml",
///         ".".as_ref(),
///     )
///     .unwrap();
/// let names: Vec<&str> = config.instances.iter().map(|i| i.name()).collect();
/// assert_eq!(names, ["eu", "us"]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct OktaModule;

impl Module for OktaModule {
    type Config = OktaConfig;
    const TYPE: &'static str = TYPE;

    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    fn populations(&self, _: &OktaConfig) -> Vec<PopulationSpec> {
        vec![
            USERS.spec(),
            FACTORS.spec(),
            ADMIN_ROLES.spec(),
            SYSTEM_LOG.spec(),
            POLICIES.spec(),
        ]
    }

    fn validate(&self, config: &OktaConfig, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        config.validate(ctx)
    }

    fn collector(
        &self,
        config: &OktaConfig,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn Collector>, ConfigError> {
        Ok(Box::new(config.build(ctx)?))
    }

    fn checks(&self, config: &OktaConfig, ctx: &CheckContext<'_>) -> Vec<Box<dyn Check>> {
        checks(ctx.instance(), &config.check_settings())
    }
}
