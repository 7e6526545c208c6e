//! The evidence kinds the Jira collector emits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use soc2_evidence_core::{Evidence, Population};

/// Source system recorded in the population's provenance.
pub const SOURCE: &str = "Jira Cloud REST API v3";

/// The change tickets created, updated or resolved in the period: `<instance>/change_tickets.jsonl`.
/// Events: each ticket is selected by its own dates within the period.
pub const CHANGE_TICKETS: Population<ChangeTicket> = Population::events("change_tickets", SOURCE);

/// A Jira account as it appears on a ticket or in its history.
///
/// Jira Cloud names people by `accountId`. Data Center, and Cloud data from before the GDPR
/// migration, name them by `name` (the username) and `key` (stable across renames) instead;
/// those are kept and compared, so an author is never a silent `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JiraUser {
    /// The Atlassian account id (stable; display names change); `None` for users that Jira
    /// names by `name`/`key` only.
    pub account_id: Option<String>,
    /// The username (`name`), when Jira gave one (Data Center, older Cloud data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The user key (`key`, e.g. `JIRAUSER10100`), when Jira gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Display name at collection time.
    pub display_name: String,
    /// `atlassian` (a person), `app` (an integration such as Automation for Jira) or
    /// `customer` (a Jira Service Management customer); `unknown` when Jira did not say.
    pub account_type: String,
}

impl JiraUser {
    /// Whether this is a person's account, the only kind whose approval counts: Cloud's
    /// `accountType: atlassian`, or a Data Center user (named by `name`/`key`, without an
    /// account id: Data Center has no app or customer accounts in a changelog).
    pub fn is_human(&self) -> bool {
        self.account_type == "atlassian"
            || (self.account_id.is_none()
                && self.account_type == "unknown"
                && (self.key.is_some() || self.name.is_some()))
    }

    /// How the user is named in findings: `accountId`, else `key:<key>`, else `name:<name>`.
    pub fn identity(&self) -> String {
        match (&self.account_id, &self.key, &self.name) {
            (Some(id), _, _) => id.clone(),
            (None, Some(k), _) => format!("key:{k}"),
            (None, None, Some(n)) => format!("name:{n}"),
            (None, None, None) => "(no identity)".into(),
        }
    }

    /// Whether `self` and `other` are the same account: `Some(true|false)` when they share an
    /// identity field to compare (account id, else key, else username), `None` when they do
    /// not (one named by account id, the other by username only).
    pub fn same_as(&self, other: &JiraUser) -> Option<bool> {
        if let (Some(a), Some(b)) = (&self.account_id, &other.account_id) {
            return Some(a == b);
        }
        if let (Some(a), Some(b)) = (&self.key, &other.key) {
            return Some(a == b);
        }
        if let (Some(a), Some(b)) = (&self.name, &other.name) {
            // Data Center usernames are case-insensitive.
            return Some(a.eq_ignore_ascii_case(b));
        }
        None
    }
}

/// One change of the ticket's status, from the complete changelog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusTransition {
    /// When the transition happened (UTC).
    pub at: DateTime<Utc>,
    /// Status id before the transition.
    pub from_id: Option<String>,
    /// Status name before the transition.
    pub from: Option<String>,
    /// Status id after the transition.
    pub to_id: Option<String>,
    /// Status name after the transition.
    pub to: Option<String>,
    /// Who made the transition; `None` for anonymous or system changes.
    pub author: Option<JiraUser>,
    /// The changelog history entry id it came from.
    pub history_id: String,
}

/// The project of an issue key, upper-cased: `CHG` for `chg-104`.
pub(crate) fn project_of(key: &str) -> Option<String> {
    key.rsplit_once('-').map(|(p, _)| p.to_ascii_uppercase())
}

/// A remote (web) link on a ticket, such as a pull request or a Confluence page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteLink {
    /// Remote link id.
    pub id: String,
    /// Target URL.
    pub url: String,
    /// Link title.
    pub title: String,
    /// `application.type`, e.g. `com.github.integration.production`, when set.
    pub application_type: Option<String>,
    /// `application.name`, e.g. `GitHub` or `Confluence`, when set.
    pub application_name: Option<String>,
    /// The relationship label, e.g. `mentioned in`.
    pub relationship: Option<String>,
    /// The pull request the URL points at, as `owner/repo#N`, when it is one.
    pub pull_request: Option<String>,
}

/// `jira.change_ticket`: one change ticket matched by the configured JQL and created or
/// resolved in the audit period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeTicket {
    /// Issue key, e.g. `CHG-143` (the subject id).
    pub key: String,
    /// Issue id.
    pub id: String,
    /// Browse URL of the ticket.
    pub url: String,
    /// Summary line.
    pub summary: String,
    /// Issue type name, e.g. `Change`.
    pub issue_type: Option<String>,
    /// Current status name.
    pub status: Option<String>,
    /// Current status id.
    pub status_id: Option<String>,
    /// Current status category key: `new`, `indeterminate` or `done`.
    pub status_category: Option<String>,
    /// Reporter.
    pub reporter: Option<JiraUser>,
    /// Assignee (the implementer).
    pub assignee: Option<JiraUser>,
    /// Creation time (UTC).
    pub created: DateTime<Utc>,
    /// Last update time (UTC).
    pub updated: Option<DateTime<Utc>>,
    /// Resolution name, e.g. `Done`.
    pub resolution: Option<String>,
    /// Resolution time (UTC). This is the *last* resolution: it moves when a ticket is reopened
    /// and resolved again, so checks never judge from it.
    pub resolution_date: Option<DateTime<Utc>>,
    /// The description as plain text (Atlassian Document Format rendered to text).
    pub description: String,
    /// People named in the configured approvers field, when one is configured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<JiraUser>,
    /// Every status transition, oldest first, from the complete changelog.
    pub status_history: Vec<StatusTransition>,
    /// Changelog entries the ticket has in total (all fields, not only status).
    pub changelog_total: u64,
    /// Whether the changelog embedded in the search result was truncated and was completed
    /// from `/rest/api/3/issue/{key}/changelog`.
    pub changelog_completed: bool,
    /// Changelog entries actually received (unique history ids).
    #[serde(default)]
    pub changelog_received: u64,
    /// Whether every changelog entry Jira reported (`total`) was received. `false` when a
    /// page said `isLast: true` (or ran out) with fewer values than its `total`: the ticket's
    /// history is incomplete and its approval cannot be judged from it.
    #[serde(default = "yes")]
    pub changelog_complete: bool,
    /// Remote links, or `None` when they were not fetched for this ticket (see the
    /// collector's `remote_links` setting).
    pub remote_links: Option<Vec<RemoteLink>>,
}

fn yes() -> bool {
    true
}

impl Evidence for ChangeTicket {
    const KIND: &'static str = "jira.change_ticket";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC8.1", "CC3.4"];
    fn subject_id(&self) -> String {
        self.key.clone()
    }
}
