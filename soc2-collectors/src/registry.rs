//! The built-in modules, as one registry.

use soc2_evidence_core::Registry;

/// Every built-in collector module this build was compiled with (each is a cargo feature).
///
/// A plugin adds its own module next to these and hands the registry to the CLI:
/// `soc2_evidence::cli::main_with(soc2_collectors::registry().with(MyModule))`.
///
/// ```
/// let registry = soc2_collectors::registry();
/// assert!(registry.types().contains(&"command"));
/// ```
pub fn registry() -> Registry {
    let registry = Registry::new();
    #[cfg(feature = "command")]
    let registry = registry.with(crate::command::CommandModule);
    #[cfg(feature = "backups")]
    let registry = registry.with(crate::backups::BackupsModule);
    #[cfg(feature = "okta")]
    let registry = registry.with(crate::okta::OktaModule);
    #[cfg(feature = "github")]
    let registry = registry.with(crate::github::GithubModule);
    #[cfg(feature = "jira")]
    let registry = registry.with(crate::jira::JiraModule);
    #[cfg(feature = "aws")]
    let registry = registry.with(crate::aws::AwsModule);
    #[cfg(all(feature = "github", feature = "jira"))]
    let registry = registry.with_cross_checks(crate::change::NAMESPACE, crate::change::checks);
    // One line per module; adding a collector means adding its folder and its line here.
    registry
}
