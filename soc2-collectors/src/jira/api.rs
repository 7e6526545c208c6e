//! Jira Cloud REST v3 wire formats, the requests the collector makes, and parsing helpers
//! (timestamps without a colon in the offset, pull-request URLs).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::records::JiraUser;

/// The enhanced search endpoint (the legacy `/rest/api/{2,3}/search` answers 410 Gone).
pub const SEARCH_PATH: &str = "/rest/api/3/search/jql";
/// The changelog endpoint, as recorded in provenance (one entry for every ticket).
pub const CHANGELOG_PATH: &str = "/rest/api/3/issue/{issueIdOrKey}/changelog";
/// The remote links endpoint, as recorded in provenance.
pub const REMOTELINK_PATH: &str = "/rest/api/3/issue/{issueIdOrKey}/remotelink";

/// The fields the collector asks for: search returns only ids unless told otherwise, and
/// `*all` would ship every custom field of every ticket.
pub const FIELDS: &[&str] = &[
    "summary",
    "issuetype",
    "status",
    "reporter",
    "assignee",
    "created",
    "updated",
    "resolution",
    "resolutiondate",
    "description",
];

/// One page of `GET /rest/api/3/search/jql`: `{issues, nextPageToken?, isLast}`, no `total`.
#[derive(Debug, Deserialize)]
pub struct SearchPage {
    /// Issues of this page.
    #[serde(default)]
    pub issues: Vec<Issue>,
    /// Cursor of the next page; absent on the last page.
    #[serde(rename = "nextPageToken")]
    pub next_page_token: Option<String>,
    /// Whether this is the last page.
    #[serde(rename = "isLast")]
    pub is_last: Option<bool>,
}

/// An issue as returned by search with `expand=changelog`.
#[derive(Debug, Deserialize)]
pub struct Issue {
    /// Issue id.
    pub id: String,
    /// Issue key.
    pub key: String,
    /// Requested fields.
    #[serde(default)]
    pub fields: Fields,
    /// The embedded (possibly truncated) changelog.
    pub changelog: Option<EmbeddedChangelog>,
}

/// The fields the collector reads.
#[derive(Debug, Default, Deserialize)]
pub struct Fields {
    /// Summary.
    pub summary: Option<String>,
    /// Issue type.
    pub issuetype: Option<Named>,
    /// Current status.
    pub status: Option<Status>,
    /// Reporter.
    pub reporter: Option<User>,
    /// Assignee.
    pub assignee: Option<User>,
    /// Creation time, Jira format.
    pub created: Option<String>,
    /// Update time, Jira format.
    pub updated: Option<String>,
    /// Resolution.
    pub resolution: Option<Named>,
    /// Last resolution time, Jira format.
    pub resolutiondate: Option<String>,
    /// Description: ADF in v3.
    pub description: Option<Value>,
    /// Everything else (custom fields such as an approvers field).
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

/// Something with a name (issue type, resolution).
#[derive(Debug, Deserialize)]
pub struct Named {
    /// Name.
    pub name: Option<String>,
}

/// A status with its category.
#[derive(Debug, Deserialize)]
pub struct Status {
    /// Status id.
    pub id: Option<String>,
    /// Status name.
    pub name: Option<String>,
    /// Category.
    #[serde(rename = "statusCategory")]
    pub status_category: Option<StatusCategory>,
}

/// `statusCategory`.
#[derive(Debug, Deserialize)]
pub struct StatusCategory {
    /// `new`, `indeterminate` or `done`.
    pub key: Option<String>,
}

/// A Jira user object.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// Account id.
    #[serde(rename = "accountId")]
    pub account_id: Option<String>,
    /// Display name.
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
    /// `atlassian`, `app` or `customer`.
    #[serde(rename = "accountType")]
    pub account_type: Option<String>,
    /// Username (Data Center; older Cloud data).
    pub name: Option<String>,
    /// User key (Data Center; older Cloud data).
    pub key: Option<String>,
}

impl User {
    /// The record form; `None` only when the user has no identity at all (no account id,
    /// key or username).
    pub fn to_record(&self) -> Option<JiraUser> {
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let (account_id, key, name) = (
            nonempty(&self.account_id),
            nonempty(&self.key),
            nonempty(&self.name),
        );
        if account_id.is_none() && key.is_none() && name.is_none() {
            return None;
        }
        Some(JiraUser {
            account_id,
            name,
            key,
            display_name: self.display_name.clone().unwrap_or_default(),
            account_type: self
                .account_type
                .clone()
                .unwrap_or_else(|| "unknown".into()),
        })
    }
}

/// The `changelog` block embedded by `expand=changelog`.
#[derive(Debug, Deserialize)]
pub struct EmbeddedChangelog {
    /// Index of the first history.
    #[serde(rename = "startAt", default)]
    pub start_at: u64,
    /// How many histories the ticket has in total.
    pub total: Option<u64>,
    /// The histories included (possibly fewer than `total`).
    #[serde(default)]
    pub histories: Vec<History>,
}

impl EmbeddedChangelog {
    /// Whether histories are missing, so the full changelog must be fetched.
    pub fn is_truncated(&self) -> bool {
        self.start_at > 0 || self.total.is_some_and(|t| t > self.histories.len() as u64)
    }
}

/// One page of `GET /rest/api/3/issue/{key}/changelog`.
#[derive(Debug, Deserialize)]
pub struct ChangelogPage {
    /// Index of the first value.
    #[serde(rename = "startAt", default)]
    pub start_at: u64,
    /// Total histories.
    pub total: Option<u64>,
    /// Whether this is the last page.
    #[serde(rename = "isLast")]
    pub is_last: Option<bool>,
    /// Histories, oldest first.
    #[serde(default)]
    pub values: Vec<History>,
}

/// A changelog history: who changed what, when.
#[derive(Debug, Clone, Deserialize)]
pub struct History {
    /// History id.
    pub id: String,
    /// Author; absent for anonymous changes.
    pub author: Option<User>,
    /// When, Jira format.
    pub created: String,
    /// The changed fields.
    #[serde(default)]
    pub items: Vec<HistoryItem>,
}

/// One changed field in a history.
#[derive(Debug, Clone, Deserialize)]
pub struct HistoryItem {
    /// Field name (`status`, `RemoteIssueLink`, …).
    pub field: Option<String>,
    /// Field id.
    #[serde(rename = "fieldId")]
    pub field_id: Option<String>,
    /// Old value id.
    pub from: Option<String>,
    /// Old value, readable.
    #[serde(rename = "fromString")]
    pub from_string: Option<String>,
    /// New value id.
    pub to: Option<String>,
    /// New value, readable.
    #[serde(rename = "toString")]
    pub to_string: Option<String>,
}

impl HistoryItem {
    /// Whether this item is a status change.
    pub fn is_status(&self) -> bool {
        self.field_id.as_deref() == Some("status") || self.field.as_deref() == Some("status")
    }
}

/// One element of `GET /rest/api/3/issue/{key}/remotelink`.
#[derive(Debug, Deserialize)]
pub struct RemoteLinkWire {
    /// Link id (a number in Jira's JSON).
    pub id: Option<Value>,
    /// Application the link belongs to.
    pub application: Option<Application>,
    /// Relationship label.
    pub relationship: Option<String>,
    /// The linked object.
    pub object: Option<RemoteObject>,
}

/// `application` of a remote link.
#[derive(Debug, Deserialize)]
pub struct Application {
    /// Type, e.g. `com.atlassian.confluence`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Name, e.g. `Confluence`.
    pub name: Option<String>,
}

/// `object` of a remote link.
#[derive(Debug, Deserialize)]
pub struct RemoteObject {
    /// Target URL.
    pub url: Option<String>,
    /// Title.
    pub title: Option<String>,
}

/// Parses a Jira timestamp (`2026-03-12T10:00:03.500+0000`, no colon in the offset), also
/// accepting RFC 3339, into UTC.
///
/// ```
/// use soc2_collectors::jira::parse_jira_time;
/// let t = parse_jira_time("2026-03-12T10:00:03.500+0100").unwrap();
/// assert_eq!(t.to_rfc3339(), "2026-03-12T09:00:03.500+00:00");
/// assert!(parse_jira_time("yesterday").is_none());
/// ```
pub fn parse_jira_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    DateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(raw))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The JQL sent to search: the configured query, bounded to tickets created, updated or
/// resolved in the window (end exclusive, dates quoted). `updated` is there so that on an
/// incremental ledger run a ticket changed since the previous run (approved late, reopened)
/// is fetched again with its whole changelog; `created` and `resolutiondate` keep the
/// tickets of the window whose last update came after it. A trailing `ORDER BY` stays at the
/// end.
///
/// ```
/// use chrono::NaiveDate;
/// use soc2_collectors::jira::period_jql;
/// let d = |s: &str| s.parse::<NaiveDate>().unwrap();
/// assert_eq!(
///     period_jql("project = CHG ORDER BY key", d("2026-01-01"), d("2026-07-01")),
///     "(project = CHG) AND ((created >= \"2026-01-01\" AND created < \"2026-07-01\") OR \
///      (updated >= \"2026-01-01\" AND updated < \"2026-07-01\") OR \
///      (resolutiondate >= \"2026-01-01\" AND resolutiondate < \"2026-07-01\")) ORDER BY key"
/// );
/// ```
pub fn period_jql(jql: &str, start: NaiveDate, end_exclusive: NaiveDate) -> String {
    let (query, order) = split_order_by(jql);
    let bound = format!(
        "(created >= \"{start}\" AND created < \"{end_exclusive}\") OR \
         (updated >= \"{start}\" AND updated < \"{end_exclusive}\") OR \
         (resolutiondate >= \"{start}\" AND resolutiondate < \"{end_exclusive}\")"
    );
    let mut out = if query.trim().is_empty() {
        format!("({bound})")
    } else {
        format!("({}) AND ({bound})", query.trim())
    };
    if let Some(order) = order {
        out.push(' ');
        out.push_str(order.trim());
    }
    out
}

/// Splits off a trailing `ORDER BY` clause that is not inside quotes.
fn split_order_by(jql: &str) -> (&str, Option<&str>) {
    let lower = jql.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut quote: Option<u8> = None;
    let mut found = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None => {
                let at_word = i == 0 || bytes[i - 1].is_ascii_whitespace() || bytes[i - 1] == b')';
                if at_word && lower[i..].starts_with("order") {
                    let rest = lower[i + 5..].trim_start();
                    if rest.starts_with("by") {
                        found = Some(i);
                    }
                }
            }
        }
        i += 1;
    }
    match found {
        Some(i) => (&jql[..i], Some(&jql[i..])),
        None => (jql, None),
    }
}

/// Recognises a pull-request URL, `https://{host}/{owner}/{repo}/pull/{n}`, as `owner/repo#n`
/// when the host is `github.com` or one of `extra_hosts` (GitHub Enterprise Server), or the
/// link's application says GitHub.
///
/// ```
/// use soc2_collectors::jira::pull_request_ref;
/// assert_eq!(pull_request_ref("https://github.com/acme/api/pull/41", &[], false).as_deref(), Some("acme/api#41"));
/// assert_eq!(pull_request_ref("https://acme.atlassian.net/wiki/spaces/ENG/pages/1", &[], false), None);
/// ```
pub fn pull_request_ref(url: &str, extra_hosts: &[String], github_app: bool) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str()?.to_ascii_lowercase();
    let known = host == "github.com"
        || host == "www.github.com"
        || extra_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host))
        || github_app;
    if !known {
        return None;
    }
    let segs: Vec<&str> = parsed.path_segments()?.filter(|s| !s.is_empty()).collect();
    // /owner/repo/pull/N, optionally followed by /files, /commits …
    if segs.len() < 4 || segs[2] != "pull" {
        return None;
    }
    let n: u64 = segs[3].parse().ok()?;
    Some(format!("{}/{}#{n}", segs[0], segs[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jira_timestamps_parse_to_utc() {
        let t = parse_jira_time("2026-03-12T10:00:03.500+0000").unwrap();
        assert_eq!(
            serde_json::to_value(t).unwrap(),
            serde_json::json!("2026-03-12T10:00:03.500Z")
        );
        let t = parse_jira_time("2026-03-12T01:00:00.000-0800").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-12T09:00:00+00:00");
        assert!(parse_jira_time("2026-03-12T10:00:03Z").is_some());
        assert!(parse_jira_time("2026-03-12").is_none());
    }

    #[test]
    fn jql_wraps_query_and_keeps_order_by() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let (s, e) = (d("2026-01-01"), d("2026-07-01"));
        assert_eq!(
            period_jql("project = CHG OR labels = change", s, e),
            "(project = CHG OR labels = change) AND ((created >= \"2026-01-01\" AND created < \"2026-07-01\") OR (updated >= \"2026-01-01\" AND updated < \"2026-07-01\") OR (resolutiondate >= \"2026-01-01\" AND resolutiondate < \"2026-07-01\"))"
        );
        assert!(period_jql("", s, e).starts_with("((created"));
        // "order by" inside a quoted value is not a clause.
        let q = period_jql("summary ~ \"order by\" order  by created DESC", s, e);
        assert!(q.starts_with("(summary ~ \"order by\") AND"), "{q}");
        assert!(q.ends_with(") order  by created DESC"), "{q}");
    }

    #[test]
    fn pull_requests_are_recognised() {
        let ghes = vec!["github.acme.example".to_string()];
        let pr = |u: &str| pull_request_ref(u, &ghes, false);
        assert_eq!(
            pr("https://github.com/acme/web/pull/17/files").as_deref(),
            Some("acme/web#17")
        );
        assert_eq!(
            pr("https://github.acme.example/platform/infra/pull/9").as_deref(),
            Some("platform/infra#9")
        );
        assert_eq!(pr("https://github.com/acme/web/issues/17"), None);
        assert_eq!(pr("https://github.com/acme/web/pull/abc"), None);
        assert_eq!(pr("https://gitlab.com/acme/web/pull/3"), None);
        assert_eq!(pr("not a url"), None);
        assert_eq!(
            pull_request_ref("https://git.internal/acme/x/pull/3", &[], true).as_deref(),
            Some("acme/x#3")
        );
    }
}
