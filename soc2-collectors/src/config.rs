//! The `soc2.toml` configuration file (DESIGN §5): one optional section per collector.
//!
//! A collector runs only when its section is present. Unknown keys are rejected with the
//! key's name and line, so a typo never silently disables a control test.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::{Check, Collector};

/// `[organization]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationConfig {
    /// The organisation's name, as it should appear in the bundle.
    pub name: String,
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[organization]`.
    #[serde(default)]
    pub organization: OrganizationConfig,
    /// `[[command]]` sections: external command collectors.
    #[cfg(feature = "command")]
    #[serde(default)]
    pub command: Vec<crate::command::CommandConfig>,
    /// `[backups]`: backup and restore logs.
    #[cfg(feature = "backups")]
    #[serde(default)]
    pub backups: Option<crate::backups::BackupsConfig>,
    /// `[okta]`: the Okta collector.
    #[cfg(feature = "okta")]
    #[serde(default)]
    pub okta: Option<crate::okta::OktaConfig>,
    /// `[github]`: pull requests and branch rules.
    #[cfg(feature = "github")]
    #[serde(default)]
    pub github: Option<crate::github::GithubConfig>,
    /// `[jira]`: change tickets from Jira Cloud.
    #[cfg(feature = "jira")]
    #[serde(default)]
    pub jira: Option<crate::jira::JiraConfig>,
    /// Directory relative paths in the file are resolved against (the file's own directory).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

impl Config {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let mut config = Self::parse(&text, &path.display().to_string())?;
        config.base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(config)
    }

    /// Parses config text; `origin` names the source in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        config.base_dir = PathBuf::from(".");
        Ok(config)
    }

    /// Resolves a path from the config against the config file's directory.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// Builds every configured collector. Secrets are read from the environment here, so a
    /// missing one is reported before anything runs.
    pub fn collectors(&self) -> Result<Vec<Box<dyn Collector>>, ConfigError> {
        #[allow(unused_mut)]
        let mut out: Vec<Box<dyn Collector>> = Vec::new();
        #[cfg(feature = "command")]
        for c in &self.command {
            out.push(Box::new(crate::command::CommandCollector::new(
                c.clone(),
                &self.base_dir,
            )?));
        }
        #[cfg(feature = "backups")]
        if let Some(b) = &self.backups {
            out.push(Box::new(crate::backups::BackupsCollector::new(
                b.clone(),
                &self.base_dir,
            )?));
        }
        #[cfg(feature = "okta")]
        if let Some(okta) = &self.okta {
            out.push(Box::new(okta.build()?));
        }
        #[cfg(feature = "github")]
        if let Some(g) = &self.github {
            out.push(Box::new(g.collector()?));
        }
        #[cfg(feature = "jira")]
        if let Some(j) = &self.jira {
            out.push(Box::new(j.collector()?));
        }
        Ok(out)
    }

    /// The checks for every configured collector.
    pub fn checks(&self) -> Vec<Box<dyn Check>> {
        #[allow(unused_mut)]
        let mut out: Vec<Box<dyn Check>> = Vec::new();
        // Each collector module appends its checks here, configured from its section.
        #[cfg(feature = "backups")]
        if let Some(b) = &self.backups {
            out.extend(crate::backups::checks(crate::backups::CheckSettings {
                recovery_hours: b.recovery_hours,
            }));
        }
        #[cfg(feature = "okta")]
        if let Some(okta) = &self.okta {
            out.extend(crate::okta::checks(&okta.check_settings()));
        }
        #[cfg(feature = "github")]
        if let Some(g) = &self.github {
            out.extend(crate::github::checks(g.review_required()));
        }
        #[cfg(feature = "jira")]
        if let Some(j) = &self.jira {
            out.extend(j.checks());
        }
        out
    }
}

/// The checks that apply to a collector type recorded in `run.json`, with default settings;
/// used by `soc2-evidence check DIR` when no config file is given.
pub fn default_checks_for(collector_type: &str) -> Vec<Box<dyn Check>> {
    #[allow(clippy::match_single_binding)]
    match collector_type {
        #[cfg(feature = "backups")]
        "backups" => crate::backups::checks(crate::backups::CheckSettings::default()),
        #[cfg(feature = "okta")]
        "okta" => crate::okta::checks(&crate::okta::OktaCheckSettings::default()),
        #[cfg(feature = "github")]
        "github" => crate::github::default_checks(),
        #[cfg(feature = "jira")]
        "jira" => vec![
            Box::new(crate::jira::ApprovedBeforeImplementation::default()),
            Box::new(crate::jira::LinkedToCode::default()),
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::parse(
            "[organization]\nname = \"Acme\"\nnmae = \"x\"\n",
            "soc2.toml",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("nmae"), "{msg}");
        assert!(msg.contains("soc2.toml"), "{msg}");

        let err = Config::parse("[oktaa]\nbase_url = \"x\"\n", "soc2.toml").unwrap_err();
        assert!(err.to_string().contains("oktaa"), "{err}");
    }

    #[test]
    fn empty_config_has_no_collectors() {
        let c = Config::parse("[organization]\nname = \"Acme\"\n", "t").unwrap();
        assert_eq!(c.organization.name, "Acme");
        assert!(c.collectors().unwrap().is_empty());
    }
}
