//! The Jira collector (DESIGN §5): change tickets with their complete status history and
//! remote links, and the change-management checks over them (CC8.1, CC3.4).
//!
//! **Continuous collection.** Change tickets are *events*, with `updated` as the high-water
//! mark: an incremental run selects the tickets created, updated or resolved in
//! [`CollectContext::period`](soc2_evidence_core::CollectContext::period), its window from
//! the previous successful run's time less a day of overlap, so a ticket changed since (an
//! approval added, a reopening) is fetched again with its whole changelog. Across runs the
//! ticket key identifies it: the latest version is kept, and since each fetch carries the
//! complete history, that version holds every earlier transition too.
//!
//! # What it collects
//!
//! `jira/change_tickets.jsonl` ([`CHANGE_TICKETS`], an *events* population of [`ChangeTicket`],
//! kind `jira.change_ticket`; `<name>/…` for an `[[jira]]` entry with a `name`): every ticket
//! matched by the configured JQL that was created, updated or resolved in the audit period
//! (on an incremental ledger run, in its window). The collector adds the bound itself:
//! `(<jql>) AND ((created >= "START" AND created < "END+1") OR (updated >= "START" AND updated < "END+1") OR (resolutiondate >= "START" AND resolutiondate < "END+1"))`.
//!
//! # How (and how many requests)
//!
//! - Search uses `GET /rest/api/3/search/jql` with `maxResults=100`, an explicit `fields`
//!   list (search returns only ids by default) and `expand=changelog`, following
//!   `nextPageToken` until `isLast`; there is no `total` to reconcile against, so provenance
//!   records pages and tickets received. The legacy `/rest/api/{2,3}/search` answers 410 Gone;
//!   a base URL holding an API path is rejected with the fix, and a 410 says what to change.
//! - The embedded changelog can be truncated (`total > histories.len()`): only for those
//!   tickets the full history is read from `GET /rest/api/3/issue/{key}/changelog`, 100 per
//!   page. Status transitions (items with `field == "status"`, ids and names) come from the
//!   complete changelog, with the author's account type, so an *Automation for Jira*
//!   (`accountType: app`) approval is recognisable.
//! - **Incomplete changelogs.** A changelog page can end (`isLast: true`, or no more values)
//!   with fewer entries received than its `total` says. The ticket's record then says
//!   `changelog_complete: false` with `changelog_received` and `changelog_total`, provenance
//!   names the ticket and the counts in a note, and `jira.approved_before_implementation`
//!   reports `error` for that ticket ("changelog incomplete: 100 of 140 entries received")
//!   instead of judging a partial history.
//! - **User identity.** Jira Cloud names people by `accountId`; Data Center and older Cloud
//!   data name them by `name` (username) and `key` (e.g. `JIRAUSER10100`) only. All three are
//!   kept on every [`JiraUser`] (authors, assignee, reporter, approvers), so an author is never
//!   a silent `null`. Approver/implementer independence compares account ids, else keys, else
//!   usernames; when two users share no identity field to compare the approval is an `error`,
//!   not a pass. A Data Center user (no account id, no `accountType`) counts as a person.
//! - **Remote links** are not available from search, only per ticket from
//!   `GET /rest/api/3/issue/{key}/remotelink`. By default (`remote_links = "done"`) they are
//!   fetched only for tickets in a done status — exactly the tickets the "linked to code"
//!   check judges; `"all"` fetches them for every ticket, `"none"` for none (the check then
//!   reports an error per done ticket rather than a silent pass). The requests therefore are
//!   `pages(tickets / 100) + Σ truncated changelog pages + done tickets` — the last term is
//!   reported separately in provenance and by the benchmark. Per-ticket requests of one page
//!   run concurrently (8 by default) and are recorded in ticket order, so the provenance
//!   digest is deterministic.
//! - GitHub pull-request URLs, `https://github.com/{owner}/{repo}/pull/{n}` and the same on
//!   GitHub Enterprise Server hosts listed in `github_hosts` (or on links whose application is
//!   GitHub), are recognised as `owner/repo#n`.
//! - Timestamps such as `2026-03-12T10:00:03.500+0000` are parsed and stored as RFC 3339 UTC;
//!   descriptions in Atlassian Document Format are rendered to plain text ([`adf_to_text`]).
//! - 429s (with `Retry-After`, or none and an empty body) are retried by the HTTP toolkit;
//!   401 and 403 errors name the site, never the credentials.
//!
//! Jira Data Center (`/rest/api/2/search` with `startAt` paging) is not supported yet.
//!
//! # Checks
//!
//! Over tickets whose current status is a done status (others are kept but not judged; a
//! project or JQL scope without any in the period gives each check one `not_applicable`
//! finding, "nothing in scope: no change tickets selected by the JQL in the period are in a
//! done status (Done)"):
//! - [`ApprovedBeforeImplementation`] (`jira.approved_before_implementation`, CC8.1, CC3.4)
//! - [`LinkedToCode`] (`jira.linked_to_code`, CC8.1)
//!
//! # Configuration
//!
//! ```toml
//! [jira]
//! base_url = "https://acme.atlassian.net"
//! jql = "project = CHG"
//! email_env = "JIRA_EMAIL"                # basic auth: e-mail and API token (the defaults)
//! token_env = "JIRA_API_TOKEN"
//! # bearer_token_env = "JIRA_OAUTH_TOKEN" # or a bearer token instead (not both)
//! approved_status = "Approved"
//! implementation_statuses = ["In Progress", "Done"]
//! done_statuses = ["Done"]
//! # approvers_field = "customfield_10050" # optional: recorded with each ticket
//! remote_links = "done"                   # done | all | none
//! github_hosts = []                       # GitHub Enterprise Server hosts
//! timeout_secs = 30                       # per request
//! ```
//!
//! [`JiraModule`] is the module the registry holds. Library users who need more than the
//! config offers (their own retry policy, say) build [`JiraSettings`] directly and pass the
//! token as a [`Secret`](soc2_evidence_core::http::Secret); see [`JiraSettings`].

mod adf;
mod api;
mod checks;
mod collector;
mod config;
mod module;
mod records;
mod retry;

pub use adf::adf_to_text;
pub use api::{parse_jira_time, period_jql, pull_request_ref};
pub use checks::{ApprovedBeforeImplementation, LinkedToCode, WorkflowSettings};
pub use collector::JiraCollector;
pub use config::{JiraAuth, JiraConfig, JiraSettings, RemoteLinkMode, DEFAULT_TIMEOUT_SECS};
pub use module::JiraModule;
#[cfg(feature = "github")] // for the cross-system checks
pub(crate) use records::project_of;
pub use records::{ChangeTicket, JiraUser, RemoteLink, StatusTransition, CHANGE_TICKETS, SOURCE};
pub use retry::JiraRetry;
