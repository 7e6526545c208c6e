//! A local server that answers like Jira Cloud (REST v3) for Acme Corp's change project `CHG`
//! during the demo period 2026-01-01..2026-06-30, with the failures the demo must find.
//!
//! Real shapes: `GET /rest/api/3/search/jql` with `nextPageToken`/`isLast` and no `total`
//! (the server honours `maxResults` but caps it at [`SEARCH_PAGE_CAP`], so the 14 tickets take
//! 4 pages), only the requested `fields`, `expand=changelog` with one truncated changelog
//! completed from `GET /rest/api/3/issue/{key}/changelog` (capped at
//! [`CHANGELOG_PAGE_CAP`] per page), `GET /rest/api/3/issue/{key}/remotelink`, timestamps with
//! `+0000`-style offsets, ADF descriptions, and Jira's error bodies (400 for a wrong JQL, 401
//! without credentials, 404, 410 Gone for the removed `/rest/api/{2,3}/search`). The first
//! request for the second search page answers 429 with an empty body and `Retry-After: 1`.
//!
//! ```no_run
//! # async fn demo() {
//! let jira = soc2_sample::jira::start().await;
//! println!("{} as {} / {}", jira.base_url(), jira.email(), jira.token());
//! for f in soc2_sample::jira::PLANTED {
//!     println!("{} {}: {}", f.check_id, f.subject_id, f.description);
//! }
//! # }
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::people::{by_first_name, Person};
use crate::Planted;

/// The account e-mail the sample server accepts (basic auth).
pub const EMAIL: &str = "audit-bot@acme.example";
/// The API token the sample server accepts.
pub const API_TOKEN: &str = "sample-jira-token-not-a-secret";
/// The JQL to configure; the collector adds the period bound.
pub const JQL: &str = "project = CHG";
/// The exact JQL the server expects for the demo period (anything else gets Jira's 400).
pub const PERIOD_JQL: &str = "(project = CHG) AND ((created >= \"2026-01-01\" AND created < \"2026-07-01\") OR (updated >= \"2026-01-01\" AND updated < \"2026-07-01\") OR (resolutiondate >= \"2026-01-01\" AND resolutiondate < \"2026-07-01\"))";
/// Largest search page the server returns, whatever `maxResults` asks.
pub const SEARCH_PAGE_CAP: usize = 4;
/// Largest changelog page the server returns.
pub const CHANGELOG_PAGE_CAP: usize = 4;
/// Automation for Jira's account id.
pub const AUTOMATION_ACCOUNT: &str = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077";

/// Every failure planted in the sample.
pub const PLANTED: &[Planted] = &[
    Planted::exact(
        "jira.approved_before_implementation",
        "CHG-104",
        "Done, never approved: went from Awaiting Approval straight to In Progress",
    ),
    Planted::exact(
        "jira.approved_before_implementation",
        "CHG-105",
        "approved late: Carol approved two days after Jonas started work",
    ),
    Planted::exact(
        "jira.approved_before_implementation",
        "CHG-106",
        "self-approved: Erin, the assignee, moved it to Approved",
    ),
    Planted::exact(
        "jira.approved_before_implementation",
        "CHG-107",
        "approved by Automation for Jira (accountType app), not a person",
    ),
    Planted::exact(
        "jira.linked_to_code",
        "CHG-108",
        "Done with no pull request: its only remote link is a Confluence page",
    ),
];

/// Tickets that look suspicious but must pass both checks: CHG-109 was reopened (its
/// `resolutiondate` is the second resolution, long after the approval), CHG-110's embedded
/// changelog is truncated and its approval is only in the full changelog.
pub const MUST_PASS: &[&str] = &[
    "CHG-101", "CHG-102", "CHG-103", "CHG-109", "CHG-110", "CHG-113", "CHG-114",
];

/// Tickets kept in the population but not judged: CHG-111 is Rejected, CHG-112 In Progress.
pub const NOT_JUDGED: &[&str] = &["CHG-111", "CHG-112"];

/// The running sample server.
pub struct JiraSample {
    server: MockServer,
    counts: Arc<Counts>,
}

/// Requests answered, by endpoint.
#[derive(Debug, Default)]
struct Counts {
    search: AtomicU64,
    changelog: AtomicU64,
    remotelink: AtomicU64,
    rate_limited: AtomicU64,
}

impl JiraSample {
    /// Base URL (the site root) to configure.
    pub fn base_url(&self) -> String {
        self.server.uri()
    }
    /// The account e-mail for basic auth.
    pub fn email(&self) -> &'static str {
        EMAIL
    }
    /// The API token for basic auth.
    pub fn token(&self) -> &'static str {
        API_TOKEN
    }
    /// The failures planted in the sample.
    pub fn planted(&self) -> &'static [Planted] {
        PLANTED
    }
    /// Search requests answered (including the rate-limited one).
    pub fn search_requests(&self) -> u64 {
        self.counts.search.load(Ordering::Relaxed)
    }
    /// Changelog requests answered.
    pub fn changelog_requests(&self) -> u64 {
        self.counts.changelog.load(Ordering::Relaxed)
    }
    /// Remote link requests answered.
    pub fn remotelink_requests(&self) -> u64 {
        self.counts.remotelink.load(Ordering::Relaxed)
    }
    /// 429 responses sent.
    pub fn rate_limited(&self) -> u64 {
        self.counts.rate_limited.load(Ordering::Relaxed)
    }
    /// The underlying mock server, to add narrow mocks in tests.
    pub fn server(&self) -> &MockServer {
        &self.server
    }
}

// ---------------------------------------------------------------------------------------
// The sample's tickets.

#[derive(Clone, Copy)]
struct St {
    id: &'static str,
    name: &'static str,
    cat: (u32, &'static str, &'static str, &'static str),
}

const NEW: (u32, &str, &str, &str) = (2, "new", "blue-gray", "To Do");
const INDET: (u32, &str, &str, &str) = (4, "indeterminate", "yellow", "In Progress");
const DONE_CAT: (u32, &str, &str, &str) = (3, "done", "green", "Done");

const AWAITING: St = St {
    id: "10100",
    name: "Awaiting Approval",
    cat: NEW,
};
const APPROVED: St = St {
    id: "10101",
    name: "Approved",
    cat: NEW,
};
const IN_PROGRESS: St = St {
    id: "3",
    name: "In Progress",
    cat: INDET,
};
const DONE: St = St {
    id: "10102",
    name: "Done",
    cat: DONE_CAT,
};
const REJECTED: St = St {
    id: "10103",
    name: "Rejected",
    cat: DONE_CAT,
};
const REOPENED: St = St {
    id: "10104",
    name: "Reopened",
    cat: NEW,
};

#[derive(Clone, Copy)]
enum Actor {
    P(&'static str),
    Automation,
}

enum Item {
    Status(St, St),
    Resolution(Option<&'static str>, Option<&'static str>),
    Field(&'static str, &'static str, &'static str),
    RemoteLink(&'static str),
}

struct H {
    at: &'static str,
    by: Actor,
    items: Vec<Item>,
}

enum Link {
    Pr(&'static str, &'static str, u32, &'static str, bool),
    Confluence(&'static str, u64),
}

struct Ticket {
    n: u32,
    summary: &'static str,
    reporter: &'static str,
    assignee: Option<&'static str>,
    created: &'static str,
    status: St,
    resolution: Option<(&'static str, &'static str)>,
    history: Vec<H>,
    links: Vec<Link>,
    description: Value,
    /// Embed only the newest N histories (the changelog is then truncated).
    embed_newest: Option<usize>,
}

fn h(at: &'static str, by: Actor, items: Vec<Item>) -> H {
    H { at, by, items }
}
fn to(from: St, to: St) -> Item {
    Item::Status(from, to)
}

fn person(first: &str) -> &'static Person {
    match by_first_name(first) {
        Some(p) => p,
        None => &crate::people::PEOPLE[0],
    }
}

fn adf_text(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

fn rich_description() -> Value {
    let mention = |p: &Person| json!({"type": "mention", "attrs": {"id": p.jira_account, "text": format!("@{}", p.name), "accessLevel": ""}});
    json!({"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Change"}]},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "Rotate the API's TLS certificate before it expires. Reviewer: "},
            mention(person("carol")),
            {"type": "hardBreak"},
            {"type": "text", "text": "Runbook: "},
            {"type": "text", "text": "TLS rotation", "marks": [{"type": "link", "attrs": {"href": "https://acme.atlassian.net/wiki/spaces/OPS/pages/3342337"}}]}
        ]},
        {"type": "heading", "attrs": {"level": 3}, "content": [{"type": "text", "text": "Plan"}]},
        {"type": "orderedList", "attrs": {"order": 1}, "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Issue the new certificate"}]}]},
            {"type": "listItem", "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": "Deploy with "},
                {"type": "text", "text": "make deploy-certs", "marks": [{"type": "code"}]}
            ]}]}
        ]},
        {"type": "bulletList", "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Risk: low"}]}]},
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Rollback: restore the old certificate"}]}]}
        ]},
        {"type": "codeBlock", "attrs": {"language": "shell"}, "content": [
            {"type": "text", "text": "openssl x509 -in api.pem -noout -enddate"}]}
    ]})
}

fn sample_tickets() -> Vec<Ticket> {
    use Actor::{Automation, P};
    // Approved by `appr`, then worked on and finished by `asg`, at the three times given.
    let standard = |asg: &'static str, appr: &'static str, t: [&'static str; 3]| {
        vec![
            h(t[0], P(appr), vec![to(AWAITING, APPROVED)]),
            h(t[1], P(asg), vec![to(APPROVED, IN_PROGRESS)]),
            h(
                t[2],
                P(asg),
                vec![to(IN_PROGRESS, DONE), Item::Resolution(None, Some("Done"))],
            ),
        ]
    };
    vec![
        Ticket {
            n: 101,
            summary: "Rotate api.acme.example TLS certificate",
            reporter: "dev",
            assignee: Some("erin"),
            created: "2026-01-08T09:12:44.120+0000",
            status: DONE,
            resolution: Some(("Done", "2026-01-14T16:40:02.377+0000")),
            history: standard(
                "erin",
                "carol",
                [
                    "2026-01-09T10:01:13.500+0000",
                    "2026-01-12T08:30:00.000+0000",
                    "2026-01-14T16:40:02.377+0000",
                ],
            ),
            links: vec![Link::Pr(
                "acme",
                "api",
                204,
                "Rotate TLS certificate",
                false,
            )],
            description: rich_description(),
            embed_newest: None,
        },
        Ticket {
            n: 102,
            summary: "Enable CSP headers on the web app",
            reporter: "hiro",
            assignee: Some("jonas"),
            created: "2026-01-20T14:05:10.000-0500",
            status: DONE,
            resolution: Some(("Done", "2026-01-28T11:20:45.018-0500")),
            history: standard(
                "jonas",
                "bob",
                [
                    "2026-01-21T09:00:00.000-0500",
                    "2026-01-22T13:45:30.250-0500",
                    "2026-01-28T11:20:45.018-0500",
                ],
            ),
            links: vec![Link::Pr(
                "acme",
                "api",
                209,
                "Add Content-Security-Policy",
                true,
            )],
            description: adf_text("Add a strict Content-Security-Policy header to every page."),
            embed_newest: None,
        },
        Ticket {
            n: 103,
            summary: "Upgrade Postgres to 16.4",
            reporter: "liam",
            assignee: Some("liam"),
            created: "2026-02-02T08:00:00.000+0000",
            status: DONE,
            resolution: Some(("Done", "2026-02-10T22:15:00.000+0000")),
            history: standard(
                "liam",
                "carol",
                [
                    "2026-02-03T09:30:00.000+0000",
                    "2026-02-09T20:00:00.000+0000",
                    "2026-02-10T22:15:00.000+0000",
                ],
            ),
            links: vec![Link::Pr("acme", "api", 213, "Postgres 16.4", false)],
            description: adf_text("Minor version upgrade during the Tuesday window."),
            embed_newest: None,
        },
        Ticket {
            n: 104,
            summary: "Hotfix: raise API rate limit for partner X",
            reporter: "dev",
            assignee: Some("hiro"),
            created: "2026-02-16T17:22:08.903+0000",
            status: DONE,
            resolution: Some(("Done", "2026-02-16T19:03:11.004+0000")),
            history: vec![
                h(
                    "2026-02-16T17:25:40.000+0000",
                    P("hiro"),
                    vec![to(AWAITING, IN_PROGRESS)],
                ),
                h(
                    "2026-02-16T19:03:11.004+0000",
                    P("hiro"),
                    vec![to(IN_PROGRESS, DONE), Item::Resolution(None, Some("Done"))],
                ),
            ],
            links: vec![Link::Pr(
                "acme",
                "api",
                216,
                "Raise partner rate limit",
                false,
            )],
            description: adf_text("Partner X hits the limit during their batch window."),
            embed_newest: None,
        },
        Ticket {
            n: 105,
            summary: "Move background jobs to the new queue cluster",
            reporter: "erin",
            assignee: Some("jonas"),
            created: "2026-03-02T10:00:00.000+0100",
            status: DONE,
            resolution: Some(("Done", "2026-03-09T15:30:00.000+0100")),
            history: vec![
                h(
                    "2026-03-03T09:10:00.000+0100",
                    P("jonas"),
                    vec![to(AWAITING, IN_PROGRESS)],
                ),
                h(
                    "2026-03-05T16:45:00.000+0100",
                    P("carol"),
                    vec![to(IN_PROGRESS, APPROVED)],
                ),
                h(
                    "2026-03-06T08:00:00.000+0100",
                    P("jonas"),
                    vec![to(APPROVED, IN_PROGRESS)],
                ),
                h(
                    "2026-03-09T15:30:00.000+0100",
                    P("jonas"),
                    vec![to(IN_PROGRESS, DONE), Item::Resolution(None, Some("Done"))],
                ),
            ],
            links: vec![Link::Pr(
                "acme",
                "api",
                223,
                "Queue cluster migration",
                false,
            )],
            description: adf_text("Jobs move from queue-1 to queue-2."),
            embed_newest: None,
        },
        Ticket {
            n: 106,
            summary: "Change session timeout to 12 hours",
            reporter: "dev",
            assignee: Some("erin"),
            created: "2026-03-16T11:11:11.111+0000",
            status: DONE,
            resolution: Some(("Done", "2026-03-18T10:00:00.000+0000")),
            history: standard(
                "erin",
                "erin",
                [
                    "2026-03-16T11:30:00.000+0000",
                    "2026-03-17T09:00:00.000+0000",
                    "2026-03-18T10:00:00.000+0000",
                ],
            ),
            links: vec![Link::Pr("acme", "api", 226, "Session timeout 12h", false)],
            description: adf_text("Users asked for longer sessions."),
            embed_newest: None,
        },
        Ticket {
            n: 107,
            summary: "Bump log retention to 400 days",
            reporter: "liam",
            assignee: Some("hiro"),
            created: "2026-04-01T07:45:00.000+0000",
            status: DONE,
            resolution: Some(("Done", "2026-04-03T12:00:00.000+0000")),
            history: vec![
                h(
                    "2026-04-01T07:45:03.500+0000",
                    Automation,
                    vec![to(AWAITING, APPROVED)],
                ),
                h(
                    "2026-04-02T09:00:00.000+0000",
                    P("hiro"),
                    vec![to(APPROVED, IN_PROGRESS)],
                ),
                h(
                    "2026-04-03T12:00:00.000+0000",
                    P("hiro"),
                    vec![to(IN_PROGRESS, DONE), Item::Resolution(None, Some("Done"))],
                ),
            ],
            links: vec![Link::Pr("acme", "api", 231, "Log retention 400d", false)],
            description: adf_text("Standard change, auto-approved by rule 'low risk'."),
            embed_newest: None,
        },
        Ticket {
            n: 108,
            summary: "Renew the wildcard certificate on the load balancer",
            reporter: "alice",
            assignee: Some("bob"),
            created: "2026-04-13T13:00:00.000+0000",
            status: DONE,
            resolution: Some(("Done", "2026-04-15T18:00:00.000+0000")),
            history: standard(
                "bob",
                "carol",
                [
                    "2026-04-13T15:00:00.000+0000",
                    "2026-04-14T09:00:00.000+0000",
                    "2026-04-15T18:00:00.000+0000",
                ],
            ),
            links: vec![Link::Confluence("Rotate TLS certificates", 3342337)],
            description: rich_description(),
            embed_newest: None,
        },
        Ticket {
            n: 109,
            summary: "Add read replica for reporting",
            reporter: "jonas",
            assignee: Some("dev"),
            created: "2026-02-02T10:00:00.000+0000",
            status: DONE,
            resolution: Some(("Done", "2026-04-20T17:05:00.000+0000")),
            history: vec![
                h(
                    "2026-02-02T15:00:00.000+0000",
                    P("carol"),
                    vec![to(AWAITING, APPROVED)],
                ),
                h(
                    "2026-02-03T09:00:00.000+0000",
                    P("dev"),
                    vec![to(APPROVED, IN_PROGRESS)],
                ),
                h(
                    "2026-02-05T16:00:00.000+0000",
                    P("dev"),
                    vec![to(IN_PROGRESS, DONE), Item::Resolution(None, Some("Done"))],
                ),
                h(
                    "2026-04-14T08:30:00.000+0000",
                    P("jonas"),
                    vec![to(DONE, REOPENED), Item::Resolution(Some("Done"), None)],
                ),
                h(
                    "2026-04-14T09:00:00.000+0000",
                    P("dev"),
                    vec![to(REOPENED, IN_PROGRESS)],
                ),
                h(
                    "2026-04-20T17:05:00.000+0000",
                    P("dev"),
                    vec![to(IN_PROGRESS, DONE), Item::Resolution(None, Some("Done"))],
                ),
            ],
            links: vec![Link::Pr("acme", "api", 237, "Reporting replica", false)],
            description: adf_text("Reopened: the replica lagged; fixed the WAL settings."),
            embed_newest: None,
        },
        Ticket {
            n: 110,
            summary: "Migrate DNS to the new provider",
            reporter: "hiro",
            assignee: Some("liam"),
            created: "2026-05-04T09:00:00.000+0000",
            status: DONE,
            resolution: Some(("Done", "2026-05-12T21:00:00.000+0000")),
            history: vec![
                h(
                    "2026-05-04T09:20:00.000+0000",
                    P("hiro"),
                    vec![Item::Field("description", "", "")],
                ),
                h(
                    "2026-05-05T10:00:00.000+0000",
                    P("bob"),
                    vec![to(AWAITING, APPROVED)],
                ),
                h(
                    "2026-05-06T11:00:00.000+0000",
                    P("liam"),
                    vec![Item::Field("labels", "", "dns")],
                ),
                h(
                    "2026-05-11T08:00:00.000+0000",
                    P("liam"),
                    vec![to(APPROVED, IN_PROGRESS)],
                ),
                h(
                    "2026-05-11T08:05:00.000+0000",
                    P("liam"),
                    vec![Item::RemoteLink("acme/web#66")],
                ),
                h(
                    "2026-05-12T21:00:00.000+0000",
                    P("liam"),
                    vec![to(IN_PROGRESS, DONE), Item::Resolution(None, Some("Done"))],
                ),
            ],
            links: vec![Link::Pr("acme", "web", 66, "DNS provider migration", true)],
            description: adf_text("Cut over at low traffic; TTLs lowered a day before."),
            embed_newest: Some(4),
        },
        Ticket {
            n: 111,
            summary: "Open the admin panel to the internet",
            reporter: "erin",
            assignee: None,
            created: "2026-05-18T12:00:00.000+0000",
            status: REJECTED,
            resolution: Some(("Won't Do", "2026-05-19T09:00:00.000+0000")),
            history: vec![h(
                "2026-05-19T09:00:00.000+0000",
                P("carol"),
                vec![
                    to(AWAITING, REJECTED),
                    Item::Resolution(None, Some("Won't Do")),
                ],
            )],
            links: vec![],
            description: Value::Null,
            embed_newest: None,
        },
        Ticket {
            n: 112,
            summary: "Shard the events table",
            reporter: "dev",
            assignee: Some("jonas"),
            created: "2026-06-01T09:00:00.000+0000",
            status: IN_PROGRESS,
            resolution: None,
            history: vec![
                h(
                    "2026-06-02T10:00:00.000+0000",
                    P("bob"),
                    vec![to(AWAITING, APPROVED)],
                ),
                h(
                    "2026-06-03T10:00:00.000+0000",
                    P("jonas"),
                    vec![to(APPROVED, IN_PROGRESS)],
                ),
            ],
            links: vec![],
            description: adf_text("Work in progress."),
            embed_newest: None,
        },
        Ticket {
            n: 113,
            summary: "Turn on MFA enforcement for the VPN",
            reporter: "jonas",
            assignee: Some("liam"),
            created: "2026-06-08T09:00:00.000+0100",
            status: DONE,
            resolution: Some(("Done", "2026-06-12T17:00:00.000+0100")),
            history: standard(
                "liam",
                "bob",
                [
                    "2026-06-08T14:00:00.000+0100",
                    "2026-06-10T09:00:00.000+0100",
                    "2026-06-12T17:00:00.000+0100",
                ],
            ),
            links: vec![Link::Pr("acme", "web", 70, "VPN MFA", false)],
            description: adf_text("Enforce MFA on every VPN login."),
            embed_newest: None,
        },
        Ticket {
            n: 114,
            summary: "Release 2026.6: billing and web changes",
            reporter: "erin",
            assignee: Some("dev"),
            created: "2026-06-15T09:00:00.000+0000",
            status: DONE,
            resolution: Some(("Done", "2026-06-26T16:00:00.000+0000")),
            history: standard(
                "dev",
                "carol",
                [
                    "2026-06-16T09:00:00.000+0000",
                    "2026-06-22T09:00:00.000+0000",
                    "2026-06-26T16:00:00.000+0000",
                ],
            ),
            links: vec![
                Link::Pr("acme", "api", 261, "Billing: proration fix", false),
                Link::Pr("acme", "web", 71, "Billing page", true),
            ],
            description: adf_text("Release train 2026.6."),
            embed_newest: None,
        },
    ]
}

// ---------------------------------------------------------------------------------------
// JSON in Jira's shapes.

fn user_json(base: &str, p: &Person) -> Value {
    json!({
        "self": format!("{base}/rest/api/3/user?accountId={}", p.jira_account),
        "accountId": p.jira_account,
        "avatarUrls": {"48x48": format!("https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/{}/48", p.jira_account)},
        "displayName": p.name,
        "active": true,
        "timeZone": "Europe/London",
        "accountType": "atlassian"
    })
}

fn actor_json(base: &str, a: Actor) -> Value {
    match a {
        Actor::P(first) => user_json(base, person(first)),
        Actor::Automation => json!({
            "self": format!("{base}/rest/api/3/user?accountId={AUTOMATION_ACCOUNT}"),
            "accountId": AUTOMATION_ACCOUNT,
            "avatarUrls": {"48x48": "https://product-integrations-cdn.atl-paas.net/jira-automation/48.png"},
            "displayName": "Automation for Jira",
            "active": true,
            "timeZone": "UTC",
            "accountType": "app"
        }),
    }
}

fn status_json(base: &str, s: St) -> Value {
    json!({
        "self": format!("{base}/rest/api/3/status/{}", s.id),
        "description": "",
        "iconUrl": format!("{base}/"),
        "name": s.name,
        "id": s.id,
        "statusCategory": {
            "self": format!("{base}/rest/api/3/statuscategory/{}", s.cat.0),
            "id": s.cat.0, "key": s.cat.1, "colorName": s.cat.2, "name": s.cat.3
        }
    })
}

fn item_json(i: &Item) -> Value {
    match i {
        Item::Status(from, to) => json!({
            "field": "status", "fieldtype": "jira", "fieldId": "status",
            "from": from.id, "fromString": from.name, "to": to.id, "toString": to.name
        }),
        Item::Resolution(from, to) => json!({
            "field": "resolution", "fieldtype": "jira", "fieldId": "resolution",
            "from": from.map(|_| "10000"), "fromString": from, "to": to.map(|_| "10000"), "toString": to
        }),
        Item::Field(name, from, to) => json!({
            "field": name, "fieldtype": "jira", "fieldId": name,
            "from": null, "fromString": from, "to": null, "toString": to
        }),
        Item::RemoteLink(title) => json!({
            "field": "RemoteIssueLink", "fieldtype": "jira",
            "from": null, "fromString": null, "to": "10200",
            "toString": format!("This issue links to \"{title} (Web Link)\"")
        }),
    }
}

fn histories_json(base: &str, t: &Ticket) -> Vec<Value> {
    t.history
        .iter()
        .enumerate()
        .map(|(i, x)| {
            json!({
                "id": (20000 + t.n * 10 + i as u32).to_string(),
                "author": actor_json(base, x.by),
                "created": x.at,
                "items": x.items.iter().map(item_json).collect::<Vec<_>>()
            })
        })
        .collect()
}

fn fields_json(base: &str, t: &Ticket) -> serde_json::Map<String, Value> {
    let mut f = serde_json::Map::new();
    f.insert("summary".into(), json!(t.summary));
    f.insert(
        "issuetype".into(),
        json!({"self": format!("{base}/rest/api/3/issuetype/10004"), "id": "10004",
               "description": "A change to production", "name": "Change", "subtask": false,
               "hierarchyLevel": 0}),
    );
    f.insert("status".into(), status_json(base, t.status));
    f.insert("reporter".into(), user_json(base, person(t.reporter)));
    f.insert(
        "assignee".into(),
        t.assignee
            .map(|a| user_json(base, person(a)))
            .unwrap_or(Value::Null),
    );
    f.insert("created".into(), json!(t.created));
    let updated = t.history.last().map(|x| x.at).unwrap_or(t.created);
    f.insert("updated".into(), json!(updated));
    f.insert(
        "resolution".into(),
        t.resolution
            .map(|(name, _)| json!({"self": format!("{base}/rest/api/3/resolution/10000"), "id": "10000", "description": "", "name": name}))
            .unwrap_or(Value::Null),
    );
    f.insert(
        "resolutiondate".into(),
        t.resolution.map(|(_, d)| json!(d)).unwrap_or(Value::Null),
    );
    f.insert("description".into(), t.description.clone());
    f.insert(
        "priority".into(),
        json!({"self": format!("{base}/rest/api/3/priority/3"), "name": "Medium", "id": "3"}),
    );
    f.insert("labels".into(), json!([]));
    f.insert("customfield_10020".into(), Value::Null);
    f
}

fn remote_links_json(base: &str, t: &Ticket) -> Value {
    let links: Vec<Value> = t
        .links
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let id = 10_000 + t.n * 10 + i as u32;
            let own = format!("{base}/rest/api/3/issue/CHG-{}/remotelink/{id}", t.n);
            match l {
                Link::Pr(owner, repo, n, title, via_app) => {
                    let url = format!("https://github.com/{owner}/{repo}/pull/{n}");
                    if *via_app {
                        json!({"id": id, "self": own, "globalId": format!("github-pr-{owner}-{repo}-{n}"),
                               "application": {"type": "com.github.integration.production", "name": "GitHub"},
                               "relationship": "mentioned in",
                               "object": {"url": url, "title": format!("{title} #{n}"),
                                          "icon": {"url16x16": "https://github.com/favicon.ico", "title": "GitHub"},
                                          "status": {"resolved": true, "icon": {}}}})
                    } else {
                        json!({"id": id, "self": own, "application": {},
                               "object": {"url": url, "title": format!("{title} #{n}"),
                                          "icon": {"url16x16": "https://github.com/favicon.ico"},
                                          "status": {"icon": {}}}})
                    }
                }
                Link::Confluence(title, page) => json!({
                    "id": id, "self": own,
                    "globalId": format!("appId=5c8e3a3a-0b1c-3d4e-9f0a-acme00000001&pageId={page}"),
                    "application": {"type": "com.atlassian.confluence", "name": "Confluence"},
                    "relationship": "Wiki Page",
                    "object": {"url": format!("https://acme.atlassian.net/wiki/pages/viewpage.action?pageId={page}"),
                               "title": "Wiki Page", "summary": title,
                               "icon": {"url16x16": "https://acme.atlassian.net/wiki/favicon.ico", "title": "Wiki Page"},
                               "status": {"icon": {}}}
                }),
            }
        })
        .collect();
    Value::Array(links)
}

/// One ticket in every form the server needs.
struct Served {
    key: String,
    id: String,
    fields: serde_json::Map<String, Value>,
    histories: Vec<Value>,
    embed_newest: Option<usize>,
    remote_links: Value,
}

fn error_body(messages: &[&str]) -> Value {
    json!({"errorMessages": messages, "errors": {}})
}

fn json_response(status: u16, body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/json;charset=UTF-8")
        .set_body_raw(
            body.to_string().into_bytes(),
            "application/json;charset=UTF-8",
        )
}

fn query(req: &Request) -> HashMap<String, String> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

const TOKEN_PREFIX: &str = "CgsIqJv7_wYQ";

fn page_token(offset: usize) -> String {
    format!("{TOKEN_PREFIX}{offset:04}")
}

/// Keeps the requested fields only, as Jira does (`*all` and `*navigable` mean everything).
fn pick_fields(
    all: &serde_json::Map<String, Value>,
    requested: Option<&String>,
) -> serde_json::Map<String, Value> {
    let Some(req) = requested else {
        return serde_json::Map::new();
    };
    let wanted: Vec<&str> = req.split(',').map(str::trim).collect();
    if wanted.iter().any(|w| *w == "*all" || *w == "*navigable") {
        return all.clone();
    }
    all.iter()
        .filter(|(k, _)| wanted.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

struct SearchResponder {
    base: String,
    tickets: Arc<Vec<Served>>,
    counts: Arc<Counts>,
    limited_once: AtomicBool,
}

impl Respond for SearchResponder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.counts.search.fetch_add(1, Ordering::Relaxed);
        let q = query(req);
        // The collector's JQL for some window (the demo's period, or a ledger run's).
        let window = match q.get("jql") {
            Some(j) => match window_of(j) {
                Some(w) => w,
                None => {
                    return json_response(400, &error_body(&[&format!(
                        "The sample server expects the JQL {PERIOD_JQL:?} (for any dates), got {j:?}."
                    )]))
                }
            },
            None => return json_response(400, &error_body(&["Unbounded JQL queries are not allowed here. Please add a search restriction to your query."])),
        };
        let selected: Vec<&Served> = self
            .tickets
            .iter()
            .filter(|t| {
                ["created", "updated", "resolutiondate"].iter().any(|f| {
                    t.fields
                        .get(*f)
                        .and_then(Value::as_str)
                        .and_then(|v| v.get(..10))
                        .is_some_and(|d| d >= window.0.as_str() && d < window.1.as_str())
                })
            })
            .collect();
        let offset = match q.get("nextPageToken") {
            None => 0,
            Some(t) => match t
                .strip_prefix(TOKEN_PREFIX)
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(n) => n,
                None => {
                    return json_response(
                        400,
                        &error_body(&["The provided next page token is invalid or expired."]),
                    )
                }
            },
        };
        if offset > 0 && !self.limited_once.swap(true, Ordering::SeqCst) {
            self.counts.rate_limited.fetch_add(1, Ordering::Relaxed);
            return ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .insert_header("ratelimit-reason", "jira-burst-based")
                .insert_header("x-ratelimit-nearlimit", "true");
        }
        let max = q
            .get("maxResults")
            .and_then(|m| m.parse::<usize>().ok())
            .unwrap_or(50)
            .clamp(1, SEARCH_PAGE_CAP);
        let expand_changelog = q
            .get("expand")
            .is_some_and(|e| e.split(',').any(|x| x.trim() == "changelog"));
        let end = (offset + max).min(selected.len());
        let issues: Vec<Value> = selected[offset.min(end)..end]
            .iter()
            .map(|t| {
                let mut issue = json!({
                    "expand": "customfield_10010.requestTypePractice,operations,versionedRepresentations,editmeta,changelog,renderedFields",
                    "id": t.id,
                    "self": format!("{}/rest/api/3/issue/{}", self.base, t.id),
                    "key": t.key,
                    "fields": pick_fields(&t.fields, q.get("fields")),
                });
                if expand_changelog {
                    let total = t.histories.len();
                    let (histories, max_results) = match t.embed_newest {
                        Some(n) if n < total => (t.histories[total - n..].iter().rev().cloned().collect::<Vec<_>>(), n),
                        _ => (t.histories.clone(), total),
                    };
                    issue["changelog"] = json!({"startAt": 0, "maxResults": max_results, "total": total, "histories": histories});
                }
                issue
            })
            .collect();
        let mut body = json!({"issues": issues, "isLast": end >= selected.len()});
        if end < selected.len() {
            body["nextPageToken"] = json!(page_token(end));
        }
        json_response(200, &body)
    }
}

/// The `[start, end)` dates of a JQL of [`PERIOD_JQL`]'s shape, or `None` for any other JQL.
fn window_of(jql: &str) -> Option<(String, String)> {
    let after = |marker: &str| -> Option<String> {
        let rest = &jql[jql.find(marker)? + marker.len()..];
        Some(rest[..rest.find('"')?].to_string())
    };
    let (a, b) = (after("created >= \"")?, after("created < \"")?);
    let expected = PERIOD_JQL
        .replace("2026-01-01", &a)
        .replace("2026-07-01", &b);
    (jql == expected).then_some((a, b))
}

fn key_from_path<'a>(req: &'a Request, suffix: &str) -> Option<&'a str> {
    req.url
        .path()
        .strip_prefix("/rest/api/3/issue/")?
        .strip_suffix(suffix)
}

fn not_found() -> ResponseTemplate {
    json_response(
        404,
        &error_body(&["Issue does not exist or you do not have permission to see it."]),
    )
}

struct ChangelogResponder {
    base: String,
    tickets: Arc<Vec<Served>>,
    counts: Arc<Counts>,
}

impl Respond for ChangelogResponder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.counts.changelog.fetch_add(1, Ordering::Relaxed);
        let Some(t) = key_from_path(req, "/changelog")
            .and_then(|k| self.tickets.iter().find(|t| t.key == k || t.id == k))
        else {
            return not_found();
        };
        let q = query(req);
        let start = q
            .get("startAt")
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(0);
        let max = q
            .get("maxResults")
            .and_then(|m| m.parse::<usize>().ok())
            .unwrap_or(100)
            .clamp(1, CHANGELOG_PAGE_CAP);
        let total = t.histories.len();
        let end = (start + max).min(total);
        let is_last = end >= total;
        let own = format!("{}/rest/api/3/issue/{}/changelog", self.base, t.key);
        let mut body = json!({
            "self": format!("{own}?maxResults={max}&startAt={start}"),
            "maxResults": max, "startAt": start, "total": total, "isLast": is_last,
            "values": t.histories[start.min(end)..end],
        });
        if !is_last {
            body["nextPage"] = json!(format!("{own}?maxResults={max}&startAt={end}"));
        }
        json_response(200, &body)
    }
}

struct RemoteLinkResponder {
    tickets: Arc<Vec<Served>>,
    counts: Arc<Counts>,
}

impl Respond for RemoteLinkResponder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.counts.remotelink.fetch_add(1, Ordering::Relaxed);
        match key_from_path(req, "/remotelink")
            .and_then(|k| self.tickets.iter().find(|t| t.key == k || t.id == k))
        {
            Some(t) => json_response(200, &t.remote_links),
            None => not_found(),
        }
    }
}

/// `Authorization: Basic base64(email:token)` as the server expects it.
pub fn basic_auth_header(email: &str, token: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{email}:{token}")))
}

/// Mounts the legacy search endpoints (410 Gone) and the 401 fallback on `server`.
async fn mount_common(server: &MockServer) {
    let gone = error_body(&["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"]);
    Mock::given(path_regex(r"^/rest/api/[23]/search$"))
        .respond_with(json_response(410, &gone))
        .with_priority(1)
        .mount(server)
        .await;
    // Anything without the right credentials: Jira's 401 (plain text, as Jira sends it).
    Mock::given(path_regex(r"^/rest/"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header(
                    "www-authenticate",
                    "OAuth realm=\"https%3A%2F%2Facme.atlassian.net\"",
                )
                .set_body_raw(
                    "Client must be authenticated to access this resource.",
                    "text/html;charset=UTF-8",
                ),
        )
        .with_priority(10)
        .mount(server)
        .await;
}

/// Starts the sample Jira on 127.0.0.1.
pub async fn start() -> JiraSample {
    let server = MockServer::start().await;
    let base = server.uri();
    let tickets: Vec<Served> = sample_tickets()
        .iter()
        .map(|t| Served {
            key: format!("CHG-{}", t.n),
            id: (10_000 + t.n).to_string(),
            fields: fields_json(&base, t),
            histories: histories_json(&base, t),
            embed_newest: t.embed_newest,
            remote_links: remote_links_json(&base, t),
        })
        .collect();
    let tickets = Arc::new(tickets);
    let counts = Arc::new(Counts::default());
    let auth = basic_auth_header(EMAIL, API_TOKEN);

    mount_common(&server).await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/search/jql"))
        .and(header("authorization", auth.as_str()))
        .respond_with(SearchResponder {
            base: base.clone(),
            tickets: tickets.clone(),
            counts: counts.clone(),
            limited_once: AtomicBool::new(false),
        })
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/rest/api/3/issue/[^/]+/changelog$"))
        .and(header("authorization", auth.as_str()))
        .respond_with(ChangelogResponder {
            base: base.clone(),
            tickets: tickets.clone(),
            counts: counts.clone(),
        })
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/rest/api/3/issue/[^/]+/remotelink$"))
        .and(header("authorization", auth.as_str()))
        .respond_with(RemoteLinkResponder {
            tickets: tickets.clone(),
            counts: counts.clone(),
        })
        .with_priority(2)
        .mount(&server)
        .await;
    JiraSample { server, counts }
}

// ---------------------------------------------------------------------------------------
// A large generated site for the benchmark.

/// Shape of the benchmark's generated site.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Tickets in total.
    pub tickets: usize,
    /// Every n-th ticket has a truncated embedded changelog (10 → 10 %).
    pub truncated_every: usize,
    /// Histories of a truncated ticket (the search embeds the newest 100).
    pub truncated_histories: usize,
    /// Every n-th ticket is still In Progress (the rest are Done).
    pub in_progress_every: usize,
    /// Latency added to every response.
    pub latency: Duration,
}

impl Default for BenchOptions {
    /// 10,000 tickets, 10 % truncated with 150 histories, 20 % in progress, 20 ms latency.
    fn default() -> Self {
        Self {
            tickets: 10_000,
            truncated_every: 10,
            truncated_histories: 150,
            in_progress_every: 5,
            latency: Duration::from_millis(20),
        }
    }
}

/// The running benchmark server.
pub struct BenchServer {
    server: MockServer,
    counts: Arc<Counts>,
}

impl BenchServer {
    /// Base URL.
    pub fn base_url(&self) -> String {
        self.server.uri()
    }
    /// `(search, changelog, remotelink)` requests answered so far.
    pub fn requests(&self) -> (u64, u64, u64) {
        (
            self.counts.search.load(Ordering::Relaxed),
            self.counts.changelog.load(Ordering::Relaxed),
            self.counts.remotelink.load(Ordering::Relaxed),
        )
    }
}

struct BenchGen {
    base: String,
    o: BenchOptions,
}

impl BenchGen {
    fn truncated(&self, i: usize) -> bool {
        self.o.truncated_every > 0 && i % self.o.truncated_every == 0
    }
    fn done(&self, i: usize) -> bool {
        self.o.in_progress_every == 0 || i % self.o.in_progress_every != 1
    }
    fn people(i: usize) -> (&'static Person, &'static Person, &'static Person) {
        let p = crate::people::PEOPLE;
        (&p[(i + 3) % p.len()], &p[(i + 7) % p.len()], &p[2])
    }
    fn histories(&self, i: usize) -> Vec<Value> {
        let (_, asg, appr) = Self::people(i);
        let n = if self.truncated(i) {
            self.o.truncated_histories.max(3)
        } else {
            3
        };
        let day = 1 + (i % 150) as i64;
        let t0 = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .map(|d| d + chrono::Duration::days(day))
            .unwrap_or_default();
        (0..n)
            .map(|k| {
                let at = (t0 + chrono::Duration::minutes(k as i64 * 7)).format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string();
                let (by, items) = if k == 0 {
                    (appr, vec![item_json(&to(AWAITING, APPROVED))])
                } else if k == 1 {
                    (asg, vec![item_json(&to(APPROVED, IN_PROGRESS))])
                } else if k == n - 1 && self.done(i) {
                    (asg, vec![item_json(&to(IN_PROGRESS, DONE))])
                } else {
                    (asg, vec![item_json(&Item::Field("labels", "", "bench"))])
                };
                json!({"id": (i * 1000 + k).to_string(), "author": user_json(&self.base, by), "created": at, "items": items})
            })
            .collect()
    }
    fn issue(&self, i: usize) -> Value {
        let (rep, asg, _) = Self::people(i);
        let histories = self.histories(i);
        let total = histories.len();
        let embedded: Vec<Value> = if total > 100 {
            histories[total - 100..].to_vec()
        } else {
            histories
        };
        let created = format!(
            "2026-{:02}-{:02}T08:00:00.000+0000",
            1 + (i % 6),
            1 + (i % 28)
        );
        json!({
            "id": (100_000 + i).to_string(),
            "self": format!("{}/rest/api/3/issue/{}", self.base, 100_000 + i),
            "key": format!("BENCH-{}", i + 1),
            "fields": {
                "summary": format!("Benchmark change {}", i + 1),
                "issuetype": {"id": "10004", "name": "Change"},
                "status": status_json(&self.base, if self.done(i) { DONE } else { IN_PROGRESS }),
                "reporter": user_json(&self.base, rep),
                "assignee": user_json(&self.base, asg),
                "created": created,
                "updated": created,
                "resolution": if self.done(i) { json!({"id": "10000", "name": "Done"}) } else { Value::Null },
                "resolutiondate": if self.done(i) { json!(created) } else { Value::Null },
                "description": adf_text("A generated change ticket for the benchmark.")
            },
            "changelog": {"startAt": 0, "maxResults": embedded.len(), "total": total, "histories": embedded}
        })
    }
}

struct BenchSearch(Arc<BenchGen>, Arc<Counts>);
impl Respond for BenchSearch {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.1.search.fetch_add(1, Ordering::Relaxed);
        let q = query(req);
        let offset = q
            .get("nextPageToken")
            .and_then(|t| t.strip_prefix(TOKEN_PREFIX))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        let max = q
            .get("maxResults")
            .and_then(|m| m.parse::<usize>().ok())
            .unwrap_or(50)
            .clamp(1, 100);
        let end = (offset + max).min(self.0.o.tickets);
        let issues: Vec<Value> = (offset.min(end)..end).map(|i| self.0.issue(i)).collect();
        let mut body = json!({"issues": issues, "isLast": end >= self.0.o.tickets});
        if end < self.0.o.tickets {
            body["nextPageToken"] = json!(page_token(end));
        }
        json_response(200, &body).set_delay(self.0.o.latency)
    }
}

fn bench_index(req: &Request, suffix: &str) -> Option<usize> {
    key_from_path(req, suffix)?
        .strip_prefix("BENCH-")?
        .parse::<usize>()
        .ok()?
        .checked_sub(1)
}

struct BenchChangelog(Arc<BenchGen>, Arc<Counts>);
impl Respond for BenchChangelog {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.1.changelog.fetch_add(1, Ordering::Relaxed);
        let Some(i) = bench_index(req, "/changelog") else {
            return not_found();
        };
        let q = query(req);
        let start = q
            .get("startAt")
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(0);
        let max = q
            .get("maxResults")
            .and_then(|m| m.parse::<usize>().ok())
            .unwrap_or(100)
            .clamp(1, 100);
        let all = self.0.histories(i);
        let end = (start + max).min(all.len());
        let body = json!({"maxResults": max, "startAt": start, "total": all.len(), "isLast": end >= all.len(),
                          "values": all[start.min(end)..end]});
        json_response(200, &body).set_delay(self.0.o.latency)
    }
}

struct BenchLinks(Arc<BenchGen>, Arc<Counts>);
impl Respond for BenchLinks {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.1.remotelink.fetch_add(1, Ordering::Relaxed);
        let Some(i) = bench_index(req, "/remotelink") else {
            return not_found();
        };
        let body = json!([{"id": 50_000 + i, "application": {},
            "object": {"url": format!("https://github.com/acme/api/pull/{}", i + 1), "title": "PR"}}]);
        json_response(200, &body).set_delay(self.0.o.latency)
    }
}

/// Starts a generated site for the benchmark (no authentication, no request recording).
///
/// Every ticket is approved by Carol before work starts and links one pull request; where the
/// rotating reporter or assignee is Carol herself (1 ticket in 6) the approval is a
/// self-approval, so the checks have failures to find at scale too.
pub async fn start_bench(options: BenchOptions) -> BenchServer {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    let gen = Arc::new(BenchGen {
        base: server.uri(),
        o: options,
    });
    let counts = Arc::new(Counts::default());
    Mock::given(path("/rest/api/3/search/jql"))
        .respond_with(BenchSearch(gen.clone(), counts.clone()))
        .mount(&server)
        .await;
    Mock::given(path_regex(r"^/rest/api/3/issue/[^/]+/changelog$"))
        .respond_with(BenchChangelog(gen.clone(), counts.clone()))
        .mount(&server)
        .await;
    Mock::given(path_regex(r"^/rest/api/3/issue/[^/]+/remotelink$"))
        .respond_with(BenchLinks(gen, counts.clone()))
        .mount(&server)
        .await;
    BenchServer { server, counts }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_matches_rfc7617_example() {
        assert_eq!(
            basic_auth_header("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn planted_tickets_exist_and_are_in_the_period() {
        let tickets = sample_tickets();
        for key in PLANTED
            .iter()
            .map(|p| &*p.subject_id)
            .chain(MUST_PASS.iter().copied())
            .chain(NOT_JUDGED.iter().copied())
        {
            let t = tickets
                .iter()
                .find(|t| format!("CHG-{}", t.n) == key)
                .unwrap();
            assert!(t.created.starts_with("2026-0"), "{key}");
            for x in &t.history {
                assert!(x.at.starts_with("2026-0") && x.at < "2026-07", "{key}");
            }
        }
        assert!(
            tickets.len() > 3 * SEARCH_PAGE_CAP - SEARCH_PAGE_CAP,
            "at least three pages"
        );
    }

    #[test]
    fn every_linked_pull_request_exists_merged_in_the_github_sample_before_the_ticket_is_done() {
        let model = crate::github::sample_model();
        for t in sample_tickets() {
            let done = t.history.last().map(|h| h.at).unwrap_or(t.created);
            let done = chrono::DateTime::parse_from_str(done, "%Y-%m-%dT%H:%M:%S%.f%z").unwrap();
            for l in &t.links {
                let Link::Pr(owner, repo, n, _, _) = l else {
                    continue;
                };
                assert_eq!(*owner, model.org, "CHG-{}", t.n);
                let pr = model
                    .repos
                    .iter()
                    .find(|r| r.name == *repo)
                    .and_then(|r| r.pulls.iter().find(|p| p.number == u64::from(*n)))
                    .unwrap_or_else(|| {
                        panic!(
                            "CHG-{} links {owner}/{repo}#{n}, not in the GitHub sample",
                            t.n
                        )
                    });
                let merged = pr
                    .merged_at
                    .unwrap_or_else(|| panic!("{repo}#{n} is not merged"));
                assert!(
                    merged <= done,
                    "CHG-{}: {repo}#{n} merged {merged} after the ticket was done {done}",
                    t.n
                );
            }
        }
    }
}
