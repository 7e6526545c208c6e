//! `[jira]`: the Jira site, the JQL, credentials and the change workflow's status names.

use serde::Deserialize;
use soc2_evidence_core::config::{require_secret, ConfigError};
use soc2_evidence_core::http::{RetryPolicy, Secret};

use super::checks::{ApprovedBeforeImplementation, LinkedToCode, WorkflowSettings};
use super::collector::JiraCollector;

const SECTION: &str = "jira";

/// Which tickets get their remote links fetched (one extra request per ticket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
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
}

impl JiraSettings {
    /// Settings with defaults: remote links for done tickets, page size 100, 8 concurrent
    /// per-ticket requests, the default workflow and retry policy.
    pub fn new(base_url: impl Into<String>, auth: JiraAuth, jql: impl Into<String>) -> Self {
        Self {
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

/// The `[jira]` section.
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
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraConfig {
    /// Site root URL.
    pub base_url: String,
    /// JQL selecting change tickets (without a date bound).
    pub jql: String,
    /// Environment variable holding the account e-mail (basic auth; default `JIRA_EMAIL`).
    #[serde(default)]
    pub email_env: Option<String>,
    /// Environment variable holding the API token (basic auth; default `JIRA_API_TOKEN`).
    #[serde(default)]
    pub token_env: Option<String>,
    /// Environment variable holding a bearer token (instead of basic auth).
    #[serde(default)]
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
    #[serde(default)]
    pub approvers_field: Option<String>,
    /// Which tickets get their remote links fetched.
    #[serde(default)]
    pub remote_links: RemoteLinkMode,
    /// GitHub Enterprise Server hosts.
    #[serde(default)]
    pub github_hosts: Vec<String>,
}

impl JiraConfig {
    fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            section: SECTION.into(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// The workflow settings from this section.
    pub fn workflow(&self) -> WorkflowSettings {
        WorkflowSettings {
            approved_status: self.approved_status.clone(),
            implementation_statuses: self.implementation_statuses.clone(),
            done_statuses: self.done_statuses.clone(),
        }
    }

    /// Checks values serde cannot and reads the credentials from the environment.
    pub fn settings(&self) -> Result<JiraSettings, ConfigError> {
        validate_base_url(&self.base_url).map_err(|m| Self::invalid("base_url", m))?;
        if self.jql.trim().is_empty() {
            return Err(Self::invalid(
                "jql",
                "is empty: name the change tickets, e.g. \"project = CHG\"",
            ));
        }
        if self.approved_status.trim().is_empty() {
            return Err(Self::invalid("approved_status", "is empty"));
        }
        if self.implementation_statuses.is_empty() {
            return Err(Self::invalid("implementation_statuses", "is empty"));
        }
        if self.done_statuses.is_empty() {
            return Err(Self::invalid("done_statuses", "is empty"));
        }
        let auth = match (&self.bearer_token_env, &self.email_env, &self.token_env) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(Self::invalid(
                    "bearer_token_env",
                    "configure either basic auth (email_env and token_env) or bearer_token_env, not both",
                ))
            }
            (Some(var), None, None) => {
                JiraAuth::Bearer(require_secret(SECTION, var, "Jira bearer token")?)
            }
            (None, email, token) => {
                let email_var = email.as_deref().unwrap_or("JIRA_EMAIL");
                let token_var = token.as_deref().unwrap_or("JIRA_API_TOKEN");
                let email = require_secret(SECTION, email_var, "Jira account e-mail")?;
                let token = require_secret(SECTION, token_var, "Jira API token")?;
                JiraAuth::Basic {
                    email: email.expose().to_string(),
                    token,
                }
            }
        };
        let mut s = JiraSettings::new(self.base_url.trim(), auth, self.jql.clone());
        s.approvers_field = self.approvers_field.clone();
        s.remote_links = self.remote_links;
        s.github_hosts = self.github_hosts.clone();
        s.workflow = self.workflow();
        Ok(s)
    }

    /// Builds the collector.
    pub fn collector(&self) -> Result<JiraCollector, ConfigError> {
        JiraCollector::new(self.settings()?).map_err(|e| Self::invalid("base_url", e.to_string()))
    }

    /// The checks, configured with this section's workflow.
    pub fn checks(&self) -> Vec<Box<dyn soc2_evidence_core::Check>> {
        let wf = self.workflow();
        vec![
            Box::new(ApprovedBeforeImplementation::new(wf.clone())),
            Box::new(LinkedToCode::new(wf)),
        ]
    }
}

/// The base URL must be the site root (or the OAuth gateway's `/ex/jira/{cloudId}`): the
/// collector appends `/rest/api/3/...` itself, and a URL already holding an API path ends up
/// at the removed legacy search endpoint or a 404.
pub(crate) fn validate_base_url(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        format!("{raw:?} is not a URL ({e}); use the site root, e.g. https://acme.atlassian.net")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{raw:?} must be an http(s) URL"));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = c.settings().unwrap_err().to_string();
        assert!(err.contains("not both"), "{err}");

        let c = parse("bearer_token_env = \"SOC2_JIRA_TEST_UNSET_BEARER\"");
        let err = c.settings().unwrap_err().to_string();
        assert!(err.contains("SOC2_JIRA_TEST_UNSET_BEARER"), "{err}");

        let c = parse(
            "email_env = \"SOC2_JIRA_TEST_UNSET_EMAIL\"\ntoken_env = \"SOC2_JIRA_TEST_UNSET_TOKEN\"",
        );
        let err = c.settings().unwrap_err().to_string();
        assert!(err.contains("SOC2_JIRA_TEST_UNSET_EMAIL"), "{err}");
    }

    #[test]
    fn api_paths_in_base_url_are_rejected_with_the_fix() {
        let err = validate_base_url("https://acme.atlassian.net/rest/api/3/search").unwrap_err();
        assert!(err.contains("https://acme.atlassian.net"), "{err}");
        assert!(err.contains("/rest/api/3/search/jql"), "{err}");
        assert!(validate_base_url("https://api.atlassian.com/ex/jira/abc-123").is_ok());
        assert!(validate_base_url("acme.atlassian.net").is_err());
    }
}
