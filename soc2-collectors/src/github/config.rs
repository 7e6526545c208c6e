//! `[github]`: which GitHub, which repositories, which branch, which token.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use soc2_evidence_core::config::ConfigError;
use std::sync::Arc;

use soc2_evidence_core::http::{GithubAppToken, RetryPolicy, Secret, DEFAULT_TIMEOUT};
use soc2_evidence_core::BuildContext;

fn default_api_url() -> String {
    "https://api.github.com".into()
}

fn default_token_env() -> String {
    "GITHUB_TOKEN".into()
}

fn default_required_approvals() -> u32 {
    1
}

fn default_true() -> bool {
    true
}

fn default_timeout_secs() -> u64 {
    DEFAULT_TIMEOUT.as_secs()
}

/// Shown in `api_url` errors.
const API_URL_EXAMPLE: &str = "https://api.github.com or https://HOST/api/v3";

/// The `[github]` section (or one `[[github]]` entry; `name` is the instance name, taken by
/// the framework).
///
/// ```toml
/// [github]
/// api_url = "https://api.github.com"   # or GitHub Enterprise Server: https://HOST/api/v3
/// repos = ["acme/api", "acme/web"]     # or: org = "acme" (every non-archived repository)
/// branch = "main"                      # optional; default: each repository's default branch
/// token_env = "GITHUB_TOKEN"           # env var holding the token (default GITHUB_TOKEN)
/// required_approvals = 1               # github.review_required threshold (default 1)
/// require_approval_on_head = true      # the approval must be of the head commit at merge
/// timeout_secs = 30                    # per-request timeout (default 30)
/// # Or authenticate as a GitHub App (installation tokens are minted and renewed as needed):
/// # app_id = "123456"                  # the App ID or client ID
/// # installation_id = 7890123
/// # app_key_env = "GITHUB_APP_KEY"     # env var holding the App's private key (PEM)
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubConfig {
    /// REST API base URL.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// Repositories, `owner/name`.
    #[serde(default)]
    pub repos: Vec<String>,
    /// An organisation whose non-archived repositories are all collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The branch PRs merge into; default: each repository's default branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Environment variable holding the token (the name only: the effective config is saved
    /// in the run directory, so it must never hold the token itself).
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// Approvals `github.review_required` expects the branch to require.
    #[serde(default = "default_required_approvals")]
    pub required_approvals: u32,
    /// `github.independent_approval` counts only an approval of the head commit at merge
    /// (default `true`): this tool's rule, stricter than GitHub's unless the branch dismisses
    /// stale reviews. `false` also accepts an approval of an earlier commit of the same PR.
    #[serde(default = "default_true")]
    pub require_approval_on_head: bool,
    /// Seconds each HTTP request may take before it is abandoned (and retried, within the
    /// retry budget).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// GitHub App authentication instead of `token_env`: the App ID (or client ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// The App's installation on the organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installation_id: Option<u64>,
    /// Environment variable holding the App's private key (PEM, PKCS#1 or PKCS#8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_key_env: Option<String>,
}

impl GithubConfig {
    /// The repository scope, checked.
    pub fn scope(&self, ctx: &BuildContext<'_>) -> Result<RepoScope, ConfigError> {
        let scope = match (&self.org, self.repos.is_empty()) {
            (Some(_), false) => {
                return Err(ctx.invalid("repos", "set either `repos` or `org`, not both"))
            }
            (None, true) => {
                return Err(ctx.invalid(
                    "repos",
                    "set `repos = [\"owner/name\", ...]` or `org = \"name\"`",
                ))
            }
            (Some(org), true) => RepoScope::Org(org.trim().to_string()),
            (None, false) => RepoScope::Repos(self.repos.clone()),
        };
        scope.validate().map_err(|(key, m)| ctx.invalid(key, m))?;
        Ok(scope)
    }

    /// Checks what serde cannot, before anything runs; reads no secret.
    pub fn validate(&self, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        self.scope(ctx)?;
        if let Some(b) = &self.branch {
            if b.trim().is_empty() {
                return Err(ctx.invalid("branch", "is empty"));
            }
        }
        if self.timeout_secs == 0 {
            return Err(ctx.invalid("timeout_secs", "must be at least 1"));
        }
        ctx.base_url("api_url", &self.api_url, API_URL_EXAMPLE)?;
        match (&self.app_id, self.installation_id, &self.app_key_env) {
            (None, None, None) | (Some(_), Some(_), Some(_)) => {}
            _ => return Err(ctx.invalid(
                "app_id",
                "GitHub App authentication needs all of app_id, installation_id and app_key_env",
            )),
        }
        Ok(())
    }

    /// Settings for the collector, reading the token from `token_env`.
    pub fn settings(&self, ctx: &BuildContext<'_>) -> Result<GithubSettings, ConfigError> {
        self.validate(ctx)?;
        let (token, app) = match (&self.app_id, self.installation_id, &self.app_key_env) {
            (Some(app_id), Some(installation), Some(key_env)) => {
                let key = ctx.require_secret(key_env, "GitHub App private key (PEM)")?;
                let app = GithubAppToken::new(app_id.trim(), installation, &key)
                    .map_err(|e| ctx.invalid("app_key_env", e.to_string()))?;
                // No token: every request's credential comes from the App provider.
                (Secret::new(""), Some(Arc::new(app)))
            }
            _ => (ctx.require_secret(&self.token_env, "GitHub token")?, None),
        };
        let mut settings = GithubSettings::new(&self.api_url, token, self.scope(ctx)?);
        settings.app = app;
        settings.branch = self.branch.clone();
        settings.require_approval_on_head = self.require_approval_on_head;
        settings.timeout = Duration::from_secs(self.timeout_secs);
        Ok(settings)
    }

    /// Approvals `github.review_required` expects: `required_approvals`, at least 1 (a
    /// branch requiring no approval never satisfies the control).
    pub fn min_approvals(&self) -> u32 {
        self.required_approvals.max(1)
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
    /// Checks the names; the error is the config key and why.
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

/// Everything the collector needs once the config is read: the token itself, and the knobs
/// the config does not expose (page size, retries) for library use and benchmarks.
///
/// ```
/// use soc2_collectors::github::{GithubSettings, RepoScope};
/// use soc2_evidence_core::http::Secret;
/// let settings = GithubSettings::new(
///     "https://ghe.example.com/api/v3",
///     Secret::new("ghp_example"),
///     RepoScope::Repos(vec!["acme/api".into()]),
/// );
/// assert_eq!(settings.page_size, 50);
/// assert!(!format!("{settings:?}").contains("ghp_example"));
/// ```
#[derive(Debug, Clone)]
pub struct GithubSettings {
    /// REST API base URL (`https://api.github.com` or `https://HOST/api/v3`).
    pub api_url: String,
    /// The token (classic or fine-grained PAT, or an App installation token).
    pub token: Secret,
    /// GitHub App credentials; when set they are used and `token` is ignored.
    pub app: Option<Arc<GithubAppToken>>,
    /// Which repositories.
    pub scope: RepoScope,
    /// Branch; `None` for each repository's default branch.
    pub branch: Option<String>,
    /// Pull requests per GraphQL page (1–100; default 50).
    pub page_size: u32,
    /// The approval decision stored with each PR requires approval of the head commit
    /// (`[github] require_approval_on_head`, default `true`).
    pub require_approval_on_head: bool,
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
            app: None,
            scope,
            branch: None,
            page_size: 50,
            require_approval_on_head: true,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }

    /// Checks the settings; errors name the instance's section.
    pub fn validate(&self, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        self.scope
            .validate()
            .map_err(|(key, m)| ctx.invalid(key, m))?;
        if !(1..=100).contains(&self.page_size) {
            return Err(ctx.invalid(
                "page_size",
                format!("{} is outside 1..=100", self.page_size),
            ));
        }
        if self.timeout.is_zero() {
            return Err(ctx.invalid("timeout_secs", "must be at least 1"));
        }
        ctx.base_url("api_url", &self.api_url, API_URL_EXAMPLE)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use soc2_evidence_core::{InstanceId, MapSecrets};

    fn parse(text: &str) -> GithubConfig {
        toml::from_str(text).unwrap()
    }

    fn id(name: &str) -> InstanceId {
        InstanceId {
            type_name: "github".into(),
            name: name.into(),
        }
    }

    #[test]
    fn defaults_and_scope() {
        let id = id("github");
        let secrets = MapSecrets::default();
        let ctx = BuildContext::new(&id, ".".as_ref(), &secrets);
        let c = parse("repos = [\"acme/api\"]");
        assert_eq!(c.api_url, "https://api.github.com");
        assert_eq!(c.token_env, "GITHUB_TOKEN");
        assert_eq!(c.timeout_secs, 30);
        assert_eq!(
            c.scope(&ctx).unwrap(),
            RepoScope::Repos(vec!["acme/api".into()])
        );
        assert_eq!(c.min_approvals(), 1);
        assert!(c.require_approval_on_head);
        assert!(
            !parse("repos = [\"acme/api\"]\nrequire_approval_on_head = false")
                .require_approval_on_head
        );
        let c = parse("org = \"acme\"");
        assert_eq!(c.scope(&ctx).unwrap(), RepoScope::Org("acme".into()));
    }

    #[test]
    fn bad_scopes_are_named() {
        let id = id("github");
        let secrets = MapSecrets::default();
        let ctx = BuildContext::new(&id, ".".as_ref(), &secrets);
        let e = parse("org = \"acme\"\nrepos = [\"acme/api\"]")
            .scope(&ctx)
            .unwrap_err();
        assert!(e.to_string().contains("not both"), "{e}");
        let e = parse("").scope(&ctx).unwrap_err();
        assert!(e.to_string().contains("[github] repos"), "{e}");
        let e = parse("repos = [\"acme\"]").scope(&ctx).unwrap_err();
        assert!(e.to_string().contains("owner/name"), "{e}");
        assert!(toml::from_str::<GithubConfig>("repo = [\"a/b\"]").is_err());
        let e = parse("repos = [\"a/b\"]\ntimeout_secs = 0")
            .validate(&ctx)
            .unwrap_err();
        assert!(e.to_string().contains("timeout_secs"), "{e}");
        let e = parse("repos = [\"a/b\"]\napi_url = \"api.github.com\"")
            .validate(&ctx)
            .unwrap_err();
        assert!(e.to_string().contains("api_url"), "{e}");
    }

    #[test]
    fn missing_token_names_the_variable_and_the_instance() {
        let id = id("oss");
        let secrets = MapSecrets::default();
        let ctx = BuildContext::new(&id, ".".as_ref(), &secrets);
        let c = parse("repos = [\"acme/api\"]\ntoken_env = \"SOC2_TEST_GITHUB_TOKEN_UNSET\"");
        let e = c.settings(&ctx).unwrap_err();
        assert!(
            e.to_string().contains("SOC2_TEST_GITHUB_TOKEN_UNSET"),
            "{e}"
        );
        assert!(e.to_string().contains("github \"oss\""), "{e}");
    }

    #[test]
    fn timeout_secs_sets_the_request_timeout() {
        let id = id("github");
        let secrets = MapSecrets::default().with("GITHUB_TOKEN", "ghp_x");
        let ctx = BuildContext::new(&id, ".".as_ref(), &secrets);
        let s = parse("repos = [\"acme/api\"]\ntimeout_secs = 7")
            .settings(&ctx)
            .unwrap();
        assert_eq!(s.timeout, Duration::from_secs(7));
    }
}
