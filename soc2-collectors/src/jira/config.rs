//! `[jira]`: the Jira site, the JQL, credentials and the change workflow's status names.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::http::{RetryPolicy, Secret};
use soc2_evidence_core::BuildContext;

use super::checks::{ApprovedBeforeImplementation, LinkedToCode, WorkflowSettings};
use super::collector::JiraCollector;

/// Default seconds one request may take (the HTTP toolkit's default timeout).
pub const DEFAULT_TIMEOUT_SECS: u64 = soc2_evidence_core::http::DEFAULT_TIMEOUT.as_secs();

/// Which tickets get their remote links fetched (one extra request per ticket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RemoteLinkMode {
    /// Only tickets in a done status: the ones the "linked to code" check judges.
    #[default]
    Done,
    /// Every ticket.
    All,
    /// None (the "linked to code" check then reports an error for each done ticket).
    None,
}

/// How the collector authenticates.
#[derive(Debug, Clone)]
pub enum JiraAuth {
    /// Jira Cloud API token: `Authorization: Basic base64(email:token)`.
    Basic {
        /// The Atlassian account e-mail.
        email: String,
        /// The API token.
        token: Secret,
    },
    /// An OAuth 2.0 access token or a Data Center personal access token: `Bearer`.
    Bearer(Secret),
}

/// Everything the collector needs, for library users who pass secrets directly.
///
/// ```
/// use soc2_collectors::jira::{JiraAuth, JiraCollector, JiraSettings};
/// use soc2_evidence_core::http::Secret;
/// let settings = JiraSettings::new(
///     "https://acme.atlassian.net",
///     JiraAuth::Basic { email: "audit@acme.example".into(), token: Secret::new("t0ken") },
///     "project = CHG",
/// );
/// let collector = JiraCollector::new(settings).unwrap();
/// assert!(!format!("{collector:?}").contains("t0ken"));
/// ```
#[derive(Debug, Clone)]
pub struct JiraSettings {
    /// The instance name: the collector's directory in the run output (default `jira`).
    pub name: String,
    /// Site root, e.g. `https://acme.atlassian.net` (or `https://api.atlassian.com/ex/jira/{cloudId}`).
    pub base_url: String,
    /// Credentials.
    pub auth: JiraAuth,
    /// The JQL selecting change tickets; the period bound is added by the collector.
    pub jql: String,
    /// Custom field id holding the ticket's named approvers (e.g. `customfield_10050`).
    pub approvers_field: Option<String>,
    /// Which tickets get their remote links fetched.
    pub remote_links: RemoteLinkMode,
    /// Extra hosts whose `/{owner}/{repo}/pull/{n}` URLs are pull requests (GitHub
    /// Enterprise Server); `github.com` is always recognised.
    pub github_hosts: Vec<String>,
    /// The workflow's status names (used to pick the tickets whose remote links are fetched).
    pub workflow: WorkflowSettings,
    /// Search page size (Jira caps it at 100 with a changelog expanded).
    pub page_size: u32,
    /// Concurrent per-ticket requests (changelog completion, remote links) within one page.
    pub concurrency: usize,
    /// Retry policy for every request.
    pub retry: RetryPolicy,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl JiraSettings {
    /// Settings with defaults: instance `jira`, remote links for done tickets, page size 100,
    /// 8 concurrent per-ticket requests, the default workflow, retry policy and timeout.
    pub fn new(base_url: impl Into<String>, auth: JiraAuth, jql: impl Into<String>) -> Self {
        Self {
            name: super::module::TYPE.to_string(),
            base_url: base_url.into(),
            auth,
            jql: jql.into(),
            approvers_field: None,
            remote_links: RemoteLinkMode::Done,
            github_hosts: Vec::new(),
            workflow: WorkflowSettings::default(),
            page_size: 100,
            concurrency: 8,
            retry: RetryPolicy::default(),
            timeout: soc2_evidence_core::http::DEFAULT_TIMEOUT,
        }
    }
}

fn default_approved_status() -> String {
    WorkflowSettings::default().approved_status
}
fn default_implementation_statuses() -> Vec<String> {
    WorkflowSettings::default().implementation_statuses
}
fn default_done_statuses() -> Vec<String> {
    WorkflowSettings::default().done_statuses
}
fn default_timeout_secs() -> u64 {
    DEFAULT_TIMEOUT_SECS
}

/// One `[jira]` section (or one `[[jira]]` entry, each with a `name`).
///
/// ```toml
/// [jira]
/// base_url = "https://acme.atlassian.net"
/// jql = "project = CHG AND issuetype = Change"
/// email_env = "JIRA_EMAIL"          # basic auth (the defaults) ...
/// token_env = "JIRA_API_TOKEN"
/// # bearer_token_env = "JIRA_OAUTH_TOKEN"   # ... or a bearer token, not both
/// approved_status = "Approved"
/// implementation_statuses = ["In Progress", "Done"]
/// done_statuses = ["Done"]
/// approvers_field = "customfield_10050"   # optional
/// remote_links = "done"                   # done | all | none
/// github_hosts = ["github.acme.example"]  # GitHub Enterprise Server hosts
/// timeout_secs = 30                       # per request
/// ```
///
/// The section names environment variables, never credentials, so the effective config saved
/// with every run holds no secret. Unset auth variables are left out of it (and mean the
/// defaults `JIRA_EMAIL` / `JIRA_API_TOKEN` unless `bearer_token_env` is set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraConfig {
    /// Site root URL.
    pub base_url: String,
    /// JQL selecting change tickets (without a date bound).
    pub jql: String,
    /// Environment variable holding the account e-mail (basic auth; default `JIRA_EMAIL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_env: Option<String>,
    /// Environment variable holding the API token (basic auth; default `JIRA_API_TOKEN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// Environment variable holding a bearer token (instead of basic auth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_env: Option<String>,
    /// Status a ticket enters when approved.
    #[serde(default = "default_approved_status")]
    pub approved_status: String,
    /// Statuses that mean work has started (approval must come before the first of them).
    #[serde(default = "default_implementation_statuses")]
    pub implementation_statuses: Vec<String>,
    /// Statuses of completed changes: the tickets the checks judge.
    #[serde(default = "default_done_statuses")]
    pub done_statuses: Vec<String>,
    /// Custom field id listing the ticket's approvers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvers_field: Option<String>,
    /// Which tickets get their remote links fetched.
    #[serde(default)]
    pub remote_links: RemoteLinkMode,
    /// GitHub Enterprise Server hosts.
    #[serde(default)]
    pub github_hosts: Vec<String>,
    /// Seconds one request may take before it is abandoned (default 30). A timed-out request
    /// is retried like any transport error (at most 5 retries, 5 minutes in all), then the
    /// collector fails naming the endpoint.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

impl JiraConfig {
    /// The workflow settings from this section.
    pub fn workflow(&self) -> WorkflowSettings {
        WorkflowSettings {
            approved_status: self.approved_status.clone(),
            implementation_statuses: self.implementation_statuses.clone(),
            done_statuses: self.done_statuses.clone(),
        }
    }

    /// Checks what serde cannot, naming the instance's section and the key. No secret is
    /// read here.
    pub fn validate(&self, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        let url = ctx.base_url("base_url", &self.base_url, "https://acme.atlassian.net")?;
        site_root(&self.base_url, &url).map_err(|m| ctx.invalid("base_url", m))?;
        if self.jql.trim().is_empty() {
            return Err(ctx.invalid(
                "jql",
                "is empty: name the change tickets, e.g. \"project = CHG\"",
            ));
        }
        if self.approved_status.trim().is_empty() {
            return Err(ctx.invalid("approved_status", "is empty"));
        }
        if self.implementation_statuses.is_empty() {
            return Err(ctx.invalid("implementation_statuses", "is empty"));
        }
        if self.done_statuses.is_empty() {
            return Err(ctx.invalid("done_statuses", "is empty"));
        }
        if self.timeout_secs == 0 {
            return Err(ctx.invalid("timeout_secs", "must be at least 1"));
        }
        if self.bearer_token_env.is_some() && (self.email_env.is_some() || self.token_env.is_some())
        {
            return Err(ctx.invalid(
                "bearer_token_env",
                "configure either basic auth (email_env and token_env) or bearer_token_env, not both",
            ));
        }
        Ok(())
    }

    /// Validates and reads the credentials through `ctx`: the collector's settings, named
    /// after the instance.
    pub fn settings(&self, ctx: &BuildContext<'_>) -> Result<JiraSettings, ConfigError> {
        self.validate(ctx)?;
        let auth = match &self.bearer_token_env {
            Some(var) => JiraAuth::Bearer(ctx.require_secret(var, "Jira bearer token")?),
            None => {
                let email_var = self.email_env.as_deref().unwrap_or("JIRA_EMAIL");
                let token_var = self.token_env.as_deref().unwrap_or("JIRA_API_TOKEN");
                let email = ctx.require_secret(email_var, "Jira account e-mail")?;
                let token = ctx.require_secret(token_var, "Jira API token")?;
                JiraAuth::Basic {
                    email: email.expose().to_string(),
                    token,
                }
            }
        };
        let mut s = JiraSettings::new(self.base_url.trim(), auth, self.jql.clone());
        s.name = ctx.instance().to_string();
        s.approvers_field = self.approvers_field.clone();
        s.remote_links = self.remote_links;
        s.github_hosts = self.github_hosts.clone();
        s.workflow = self.workflow();
        s.timeout = Duration::from_secs(self.timeout_secs);
        Ok(s)
    }

    /// Builds the collector for the instance `ctx` describes.
    pub fn collector(&self, ctx: &BuildContext<'_>) -> Result<JiraCollector, ConfigError> {
        JiraCollector::new(self.settings(ctx)?).map_err(|e| ctx.invalid("base_url", e.to_string()))
    }

    /// The checks over the instance `instance`, configured with this section's workflow;
    /// `github` names the run's GitHub instances, whose pull requests may name a ticket's key
    /// (see [`LinkedToCode::with_github`]).
    pub fn checks(
        &self,
        instance: &str,
        github: Vec<String>,
    ) -> Vec<Box<dyn soc2_evidence_core::Check>> {
        let wf = self.workflow();
        vec![
            Box::new(ApprovedBeforeImplementation::new(instance, wf.clone())),
            Box::new(LinkedToCode::new(instance, wf).with_github(github)),
        ]
    }
}

/// The base URL must be the site root (or the OAuth gateway's `/ex/jira/{cloudId}`): the
/// collector appends `/rest/api/3/...` itself, and a URL already holding an API path ends up
/// at the removed legacy search endpoint or a 404.
fn site_root(raw: &str, url: &url::Url) -> Result<(), String> {
    if url.path().contains("/rest/") {
        let root = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
        return Err(format!(
            "{raw:?} contains an API path; set base_url to the site root ({root}) — the collector \
             calls /rest/api/3/search/jql itself (the legacy /rest/api/2/search and /rest/api/3/search \
             were removed and answer 410 Gone)"
        ));
    }
    Ok(())
}

/// [`site_root`] for settings built without a config (library use), URL parsing included.
pub(crate) fn validate_base_url(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        format!("{raw:?} is not a URL ({e}); use the site root, e.g. https://acme.atlassian.net")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{raw:?} must be an http(s) URL"));
    }
    site_root(raw, &url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use soc2_evidence_core::{EnvSecrets, InstanceId};

    fn id() -> InstanceId {
        InstanceId {
            type_name: "jira".into(),
            name: "jira".into(),
        }
    }

    fn settings(c: &JiraConfig) -> Result<JiraSettings, ConfigError> {
        let id = id();
        c.settings(&BuildContext::new(&id, ".".as_ref(), &EnvSecrets))
    }

    fn parse(extra: &str) -> JiraConfig {
        toml::from_str(&format!(
            "base_url = \"https://acme.atlassian.net\"\njql = \"project = CHG\"\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn defaults_and_unknown_keys() {
        let c = parse("");
        assert_eq!(c.approved_status, "Approved");
        assert_eq!(c.implementation_statuses, ["In Progress", "Done"]);
        assert_eq!(c.done_statuses, ["Done"]);
        assert_eq!(c.remote_links, RemoteLinkMode::Done);
        let err = toml::from_str::<JiraConfig>(
            "base_url = \"https://x\"\njql = \"p\"\naproved_status = \"A\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("aproved_status"), "{err}");
    }

    #[test]
    fn auth_is_basic_or_bearer_never_both() {
        let c = parse("bearer_token_env = \"SOC2_JIRA_TEST_BEARER\"\ntoken_env = \"X\"");
        let err = settings(&c).unwrap_err().to_string();
        assert!(err.contains("not both"), "{err}");

        let c = parse("bearer_token_env = \"SOC2_JIRA_TEST_UNSET_BEARER\"");
        let err = settings(&c).unwrap_err().to_string();
        assert!(err.contains("SOC2_JIRA_TEST_UNSET_BEARER"), "{err}");

        let c = parse(
            "email_env = \"SOC2_JIRA_TEST_UNSET_EMAIL\"\ntoken_env = \"SOC2_JIRA_TEST_UNSET_TOKEN\"",
        );
        let err = settings(&c).unwrap_err().to_string();
        assert!(err.contains("SOC2_JIRA_TEST_UNSET_EMAIL"), "{err}");
    }

    #[test]
    fn api_paths_in_base_url_are_rejected_with_the_fix() {
        let id = id();
        let ctx = BuildContext::new(&id, ".".as_ref(), &EnvSecrets);
        let mut c = parse("");
        c.base_url = "https://acme.atlassian.net/rest/api/2/search".into();
        let err = c.validate(&ctx).unwrap_err().to_string();
        assert!(err.contains("[jira] base_url"), "{err}");
        assert!(
            err.contains("site root (https://acme.atlassian.net)"),
            "{err}"
        );
        let err = validate_base_url("https://acme.atlassian.net/rest/api/3/search").unwrap_err();
        assert!(err.contains("https://acme.atlassian.net"), "{err}");
        assert!(err.contains("/rest/api/3/search/jql"), "{err}");
        assert!(validate_base_url("https://api.atlassian.com/ex/jira/abc-123").is_ok());
        assert!(validate_base_url("acme.atlassian.net").is_err());
    }
}
