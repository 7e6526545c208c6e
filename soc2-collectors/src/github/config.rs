//! `[github]`: which GitHub, which repositories, which branch, which token.

use std::time::Duration;

use serde::Deserialize;
use soc2_evidence_core::config::{require_secret, ConfigError};
use soc2_evidence_core::http::{RetryPolicy, Secret};

use super::checks::ReviewRequiredSettings;
use super::collector::GithubCollector;

fn default_api_url() -> String {
    "https://api.github.com".into()
}

fn default_token_env() -> String {
    "GITHUB_TOKEN".into()
}

fn default_required_approvals() -> u32 {
    1
}

/// The `[github]` section.
///
/// ```toml
/// [github]
/// api_url = "https://api.github.com"   # or GitHub Enterprise Server: https://HOST/api/v3
/// repos = ["acme/api", "acme/web"]     # or: org = "acme" (every non-archived repository)
/// branch = "main"                      # optional; default: each repository's default branch
/// token_env = "GITHUB_TOKEN"           # env var holding the token (default GITHUB_TOKEN)
/// required_approvals = 1               # github.review_required threshold (default 1)
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubConfig {
    /// REST API base URL.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// Repositories, `owner/name`.
    #[serde(default)]
    pub repos: Vec<String>,
    /// An organisation whose non-archived repositories are all collected.
    pub org: Option<String>,
    /// The branch PRs merge into; default: each repository's default branch.
    pub branch: Option<String>,
    /// Environment variable holding the token.
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// Approvals `github.review_required` expects the branch to require.
    #[serde(default = "default_required_approvals")]
    pub required_approvals: u32,
}

impl GithubConfig {
    fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            section: "github".into(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// The repository scope, checked.
    pub fn scope(&self) -> Result<RepoScope, ConfigError> {
        let scope = match (&self.org, self.repos.is_empty()) {
            (Some(_), false) => {
                return Err(Self::invalid(
                    "repos",
                    "set either `repos` or `org`, not both",
                ))
            }
            (None, true) => {
                return Err(Self::invalid(
                    "repos",
                    "set `repos = [\"owner/name\", ...]` or `org = \"name\"`",
                ))
            }
            (Some(org), true) => RepoScope::Org(org.trim().to_string()),
            (None, false) => RepoScope::Repos(self.repos.clone()),
        };
        scope.validate().map_err(|(key, m)| Self::invalid(key, m))?;
        Ok(scope)
    }

    /// Settings for the collector, reading the token from `token_env`.
    pub fn settings(&self) -> Result<GithubSettings, ConfigError> {
        let scope = self.scope()?;
        if let Some(b) = &self.branch {
            if b.trim().is_empty() {
                return Err(Self::invalid("branch", "is empty"));
            }
        }
        let token = require_secret("github", &self.token_env, "GitHub token")?;
        let mut settings = GithubSettings::new(&self.api_url, token, scope);
        settings.branch = self.branch.clone();
        Ok(settings)
    }

    /// Builds the collector (reads the token).
    pub fn collector(&self) -> Result<GithubCollector, ConfigError> {
        GithubCollector::new(self.settings()?)
    }

    /// Settings of the `github.review_required` check.
    pub fn review_required(&self) -> ReviewRequiredSettings {
        ReviewRequiredSettings {
            min_approvals: self.required_approvals.max(1),
        }
    }
}

/// Which repositories to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoScope {
    /// These repositories, `owner/name`.
    Repos(Vec<String>),
    /// Every non-archived repository of this organisation.
    Org(String),
}

impl RepoScope {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        let ok_name = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        match self {
            RepoScope::Org(org) if !ok_name(org) => {
                Err(("org", format!("{org:?} is not an organisation login")))
            }
            RepoScope::Org(_) => Ok(()),
            RepoScope::Repos(repos) => {
                for r in repos {
                    match r.split_once('/') {
                        Some((o, n)) if ok_name(o) && ok_name(n) => {}
                        _ => {
                            return Err((
                                "repos",
                                format!("{r:?} is not of the form \"owner/name\""),
                            ))
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

/// Everything the collector needs, for library use without environment variables.
///
/// ```
/// use soc2_collectors::github::{GithubCollector, GithubSettings, RepoScope};
/// use soc2_evidence_core::http::Secret;
/// let settings = GithubSettings::new(
///     "https://ghe.example.com/api/v3",
///     Secret::new("ghp_example"),
///     RepoScope::Repos(vec!["acme/api".into()]),
/// );
/// let collector = GithubCollector::new(settings).unwrap();
/// assert!(!format!("{collector:?}").contains("ghp_example"));
/// ```
#[derive(Debug, Clone)]
pub struct GithubSettings {
    /// REST API base URL (`https://api.github.com` or `https://HOST/api/v3`).
    pub api_url: String,
    /// The token (classic or fine-grained PAT, or an App installation token).
    pub token: Secret,
    /// Which repositories.
    pub scope: RepoScope,
    /// Branch; `None` for each repository's default branch.
    pub branch: Option<String>,
    /// Pull requests per GraphQL page (1–100; default 50).
    pub page_size: u32,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries (rate limits, 5xx, transport errors).
    pub retry: RetryPolicy,
}

impl GithubSettings {
    /// Settings with defaults: default branch, 50 PRs per page, 30 s timeout, default retries.
    pub fn new(api_url: &str, token: Secret, scope: RepoScope) -> Self {
        Self {
            api_url: api_url.trim().to_string(),
            token,
            scope,
            branch: None,
            page_size: 50,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.scope
            .validate()
            .map_err(|(key, m)| GithubConfig::invalid(key, m))?;
        if !(1..=100).contains(&self.page_size) {
            return Err(GithubConfig::invalid(
                "page_size",
                format!("{} is outside 1..=100", self.page_size),
            ));
        }
        let lower = self.api_url.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) {
            return Err(GithubConfig::invalid(
                "api_url",
                format!("{:?} is not an http(s) URL", self.api_url),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> GithubConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_and_scope() {
        let c = parse("repos = [\"acme/api\"]");
        assert_eq!(c.api_url, "https://api.github.com");
        assert_eq!(c.token_env, "GITHUB_TOKEN");
        assert_eq!(
            c.scope().unwrap(),
            RepoScope::Repos(vec!["acme/api".into()])
        );
        assert_eq!(c.review_required().min_approvals, 1);
        let c = parse("org = \"acme\"");
        assert_eq!(c.scope().unwrap(), RepoScope::Org("acme".into()));
    }

    #[test]
    fn bad_scopes_are_named() {
        let e = parse("org = \"acme\"\nrepos = [\"acme/api\"]")
            .scope()
            .unwrap_err();
        assert!(e.to_string().contains("not both"), "{e}");
        let e = parse("").scope().unwrap_err();
        assert!(e.to_string().contains("[github] repos"), "{e}");
        let e = parse("repos = [\"acme\"]").scope().unwrap_err();
        assert!(e.to_string().contains("owner/name"), "{e}");
        assert!(toml::from_str::<GithubConfig>("repo = [\"a/b\"]").is_err());
    }

    #[test]
    fn missing_token_names_the_variable() {
        let c = parse("repos = [\"acme/api\"]\ntoken_env = \"SOC2_TEST_GITHUB_TOKEN_UNSET\"");
        let e = c.settings().unwrap_err();
        assert!(
            e.to_string().contains("SOC2_TEST_GITHUB_TOKEN_UNSET"),
            "{e}"
        );
    }
}
