//! A local server that answers like GitHub (REST `2022-11-28` and GraphQL v4) for a model of
//! an organisation: repositories, merged pull requests with reviews and dismissals, branch
//! protection, rulesets and rule suites.
//!
//! [`start`] serves the sample organisation "Acme Corp" for the demo period
//! 2026-01-01..2026-06-30, with the change-management failures the demo must find (see
//! [`GithubSample::planted`]). [`GithubServer::start`] serves any [`GithubModel`], which is how
//! the collector's tests build edge cases and how the benchmark serves thousands of pull
//! requests.
//!
//! What the server reproduces, because collectors get these wrong:
//! - GraphQL answers `200` with `{"errors":[...]}` for a bad query or an unknown repository;
//!   `pullRequests` pages by opaque `endCursor`, ordered `UPDATED_AT DESC`, at most 100 per page;
//!   nested `reviews` and `timelineItems` overflow into their own pages.
//! - `history(since, until, first: 100)` of the default branch pages by `endCursor` with
//!   `totalCount`, newest first; each commit carries `associatedPullRequests`. A direct push
//!   has none (`acme/web`: [`WEB_DIRECT_PUSH`]); `acme/api` renamed `master` to `main` on
//!   2026-03-01, so its older merged PRs keep `baseRefName: "master"` and are still in
//!   `main`'s history. Even-numbered PRs merged with a merge commit (their head commit is in
//!   the history too), odd-numbered ones squashed.
//! - `Bot.login` has no `[bot]` suffix in GraphQL; a deleted account is `null`.
//! - A dismissed review reads `DISMISSED`; its original state survives only in the
//!   `ReviewDismissedEvent.previousReviewState`.
//! - `GET .../branches/{b}/protection` answers `404 {"message":"Branch not protected"}` when only
//!   rulesets protect the branch; REST `Link` headers point at `/repositories/{id}/...` and
//!   `/organizations/{id}/...` URLs.
//! - Rate-limit headers on every response; optionally one secondary rate limit (`403`, body
//!   "You have exceeded a secondary rate limit", `retry-after`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::people::by_first_name;
use crate::Planted;

/// The token the sample server accepts (`Authorization: Bearer <token>`).
pub const TOKEN: &str = "sample-github-token-acme-corp";

/// The REST API version the server answers as.
pub const API_VERSION: &str = "2022-11-28";

/// An account as GitHub shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Account {
    /// A person (`__typename: User`).
    User(String),
    /// A GitHub App's bot; the login *without* `[bot]`, as GraphQL shows it.
    Bot(String),
    /// A deleted account: `null` in GraphQL, `ghost` in REST.
    Deleted,
}

impl Account {
    /// A user, by login.
    pub fn user(login: &str) -> Self {
        Account::User(login.to_string())
    }

    /// A bot, by its GraphQL login (no `[bot]`).
    pub fn bot(login: &str) -> Self {
        Account::Bot(login.to_string())
    }

    fn graphql(&self) -> Value {
        match self {
            Account::User(l) => json!({"__typename": "User", "login": l}),
            Account::Bot(l) => json!({"__typename": "Bot", "login": l}),
            Account::Deleted => Value::Null,
        }
    }

    /// The login as REST shows it (`dependabot[bot]`, `ghost`).
    pub fn rest_login(&self) -> String {
        match self {
            Account::User(l) => l.clone(),
            Account::Bot(l) => format!("{l}[bot]"),
            Account::Deleted => "ghost".to_string(),
        }
    }
}

/// A review as it stands now (a dismissed review's `state` is `DISMISSED`).
#[derive(Debug, Clone)]
pub struct ReviewModel {
    /// `databaseId`.
    pub id: u64,
    /// Reviewer.
    pub author: Account,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`.
    pub state: &'static str,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// The commit the reviewer saw.
    pub commit_oid: String,
    /// `authorAssociation`.
    pub association: &'static str,
}

/// A `ReviewDismissedEvent`.
#[derive(Debug, Clone)]
pub struct DismissalModel {
    /// The dismissed review's `databaseId`.
    pub review_id: u64,
    /// Who dismissed it.
    pub actor: Account,
    /// When.
    pub at: DateTime<Utc>,
    /// The dismissal message.
    pub message: String,
    /// The review's state before dismissal (`APPROVED`, ...).
    pub previous_state: &'static str,
}

/// A pull request.
#[derive(Debug, Clone)]
pub struct PullModel {
    /// Number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Author.
    pub author: Account,
    /// Base branch.
    pub base: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last updated (the `UPDATED_AT` ordering key).
    pub updated_at: DateTime<Utc>,
    /// Merged, or `None` when closed unmerged or open.
    pub merged_at: Option<DateTime<Utc>>,
    /// Who merged it.
    pub merged_by: Option<Account>,
    /// Head commit (at merge, for merged PRs).
    pub head_oid: String,
    /// Merge commit.
    pub merge_oid: Option<String>,
    /// Reviews, chronological.
    pub reviews: Vec<ReviewModel>,
    /// Dismissal events, chronological.
    pub dismissals: Vec<DismissalModel>,
}

/// A commit pushed straight to the default branch, with no pull request.
#[derive(Debug, Clone)]
pub struct CommitModel {
    /// Commit id.
    pub oid: String,
    /// `committedDate`.
    pub committed_at: DateTime<Utc>,
    /// First line of the message.
    pub headline: String,
    /// Author and committer.
    pub author: Account,
}

/// One repository.
#[derive(Debug, Clone)]
pub struct RepoModel {
    /// Repository id (`databaseId`), used in `/repositories/{id}` links.
    pub id: u64,
    /// Name, without the owner.
    pub name: String,
    /// Default branch.
    pub default_branch: String,
    /// Archived.
    pub archived: bool,
    /// Pull requests, in any order.
    pub pulls: Vec<PullModel>,
    /// `GET .../branches/{default}/protection` body, or `None` for "Branch not protected".
    pub protection: Option<Value>,
    /// Full ruleset documents (`GET .../rulesets/{id}`); active ones apply to the default
    /// branch.
    pub rulesets: Vec<Value>,
    /// Rule-suite list items (`GET .../rulesets/rule-suites`).
    pub rule_suites: Vec<Value>,
    /// Commits pushed straight to the default branch (the branch's history is these plus
    /// each merged PR's commits).
    pub direct_pushes: Vec<CommitModel>,
    /// The default branch's name before a rename (`master` → `main`): merged PRs based on it
    /// keep `baseRefName: "master"` and are in the default branch's history.
    pub renamed_from: Option<String>,
}

/// An organisation and its repositories.
#[derive(Debug, Clone)]
pub struct GithubModel {
    /// Organisation login.
    pub org: String,
    /// Organisation id, used in `/organizations/{id}` links.
    pub org_id: u64,
    /// Repositories.
    pub repos: Vec<RepoModel>,
}

/// How the server behaves besides the model.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Serve as GitHub Enterprise Server: REST under `/api/v3`, GraphQL at `/api/graphql`.
    pub enterprise: bool,
    /// Delay added to every response.
    pub latency: Duration,
    /// Answer the n-th GraphQL request (1-based) once with a secondary rate limit (`403`,
    /// `retry-after: 1`).
    pub secondary_limit_on_graphql_request: Option<u64>,
    /// Items per REST page when the client asks for more (GitHub's maximum is 100).
    pub rest_page_cap: Option<usize>,
}

/// Request counters.
#[derive(Debug, Default)]
pub struct ServerStats {
    /// All requests, including rejected ones.
    pub requests: AtomicU64,
    /// GraphQL requests.
    pub graphql: AtomicU64,
    /// REST requests.
    pub rest: AtomicU64,
    /// Requests without `X-GitHub-Api-Version: 2022-11-28`.
    pub unpinned: AtomicU64,
    /// Requests without a `User-Agent`.
    pub no_user_agent: AtomicU64,
}

/// A running fake GitHub.
pub struct GithubServer {
    server: MockServer,
    stats: Arc<ServerStats>,
    enterprise: bool,
}

impl GithubServer {
    /// Starts a server on 127.0.0.1 for `model`.
    pub async fn start(model: GithubModel, options: ServerOptions) -> Self {
        // Request recording off: the benchmark sends thousands of requests and measures memory.
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        let stats = Arc::new(ServerStats::default());
        let enterprise = options.enterprise;
        let handler = Handler {
            origin: server.uri(),
            model: Arc::new(model),
            options,
            stats: stats.clone(),
            graphql_seen: Arc::new(AtomicU64::new(0)),
            limited_once: Arc::new(AtomicBool::new(false)),
            remaining: Arc::new(AtomicU64::new(5000)),
        };
        // Lowest priority, so a test can mount narrower mocks over it.
        Mock::given(any())
            .respond_with(handler)
            .with_priority(u8::MAX)
            .mount(&server)
            .await;
        Self {
            server,
            stats,
            enterprise,
        }
    }

    /// The REST API base URL to configure (`http://127.0.0.1:PORT` or `.../api/v3`).
    pub fn api_url(&self) -> String {
        if self.enterprise {
            format!("{}/api/v3", self.server.uri())
        } else {
            self.server.uri()
        }
    }

    /// The GraphQL endpoint.
    pub fn graphql_url(&self) -> String {
        if self.enterprise {
            format!("{}/api/graphql", self.server.uri())
        } else {
            format!("{}/graphql", self.server.uri())
        }
    }

    /// The underlying mock server, to mount narrower mocks in tests.
    pub fn mock_server(&self) -> &MockServer {
        &self.server
    }

    /// Request counters.
    pub fn stats(&self) -> &ServerStats {
        &self.stats
    }
}

#[derive(Clone)]
struct Handler {
    origin: String,
    model: Arc<GithubModel>,
    options: ServerOptions,
    stats: Arc<ServerStats>,
    graphql_seen: Arc<AtomicU64>,
    limited_once: Arc<AtomicBool>,
    remaining: Arc<AtomicU64>,
}

const RESET_EPOCH: i64 = 1_893_456_000; // 2030-01-01: a reset far away, so no client waits on it.

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let version = req
            .headers
            .get("x-github-api-version")
            .and_then(|v| v.to_str().ok());
        if version != Some(API_VERSION) {
            self.stats.unpinned.fetch_add(1, Ordering::Relaxed);
        }
        let resp = self.dispatch(req);
        resp.set_delay(self.options.latency)
    }
}

impl Handler {
    fn dispatch(&self, req: &Request) -> ResponseTemplate {
        if req.headers.get("user-agent").is_none() {
            self.stats.no_user_agent.fetch_add(1, Ordering::Relaxed);
            return ResponseTemplate::new(403).set_body_string(
                "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n",
            );
        }
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let authed = auth == format!("Bearer {TOKEN}") || auth == format!("token {TOKEN}");
        if !authed {
            return self.json(
                401,
                "core",
                json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}),
            );
        }
        let path = req.url.path().to_string();
        let (graphql_path, rest_prefix) = if self.options.enterprise {
            ("/api/graphql", "/api/v3")
        } else {
            ("/graphql", "")
        };
        if path == graphql_path && req.method.as_str() == "POST" {
            self.stats.graphql.fetch_add(1, Ordering::Relaxed);
            let n = self.graphql_seen.fetch_add(1, Ordering::SeqCst) + 1;
            if self.options.secondary_limit_on_graphql_request == Some(n)
                && !self.limited_once.swap(true, Ordering::SeqCst)
            {
                return secondary_limit();
            }
            return self.graphql(req);
        }
        let Some(rest) = path.strip_prefix(rest_prefix) else {
            return not_found();
        };
        if req.method.as_str() != "GET" {
            return not_found();
        }
        self.stats.rest.fetch_add(1, Ordering::Relaxed);
        self.rest(req, rest)
    }

    fn headers(&self, resp: ResponseTemplate, resource: &str) -> ResponseTemplate {
        let remaining = self.remaining.fetch_sub(1, Ordering::Relaxed).max(1) - 1;
        resp.insert_header("content-type", "application/json; charset=utf-8")
            .insert_header("x-github-api-version-selected", API_VERSION)
            .insert_header("x-github-media-type", "github.v3; format=json")
            .insert_header("x-ratelimit-limit", "5000")
            .insert_header("x-ratelimit-remaining", remaining.to_string().as_str())
            .insert_header("x-ratelimit-used", (5000 - remaining).to_string().as_str())
            .insert_header("x-ratelimit-reset", RESET_EPOCH.to_string().as_str())
            .insert_header("x-ratelimit-resource", resource)
            .insert_header("x-github-request-id", "C0DE:5A3F:1B2C3D:1C2D3E:6601A2B3")
    }

    fn json(&self, status: u16, resource: &str, body: Value) -> ResponseTemplate {
        self.headers(
            ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json"),
            resource,
        )
    }

    fn repo(&self, owner: &str, name: &str) -> Option<&RepoModel> {
        if !owner.eq_ignore_ascii_case(&self.model.org) {
            return None;
        }
        self.model
            .repos
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }

    fn repo_by_id(&self, id: u64) -> Option<&RepoModel> {
        self.model.repos.iter().find(|r| r.id == id)
    }

    // ---- REST ----

    fn rest(&self, req: &Request, path: &str) -> ResponseTemplate {
        let query: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        match parts.as_slice() {
            ["orgs", org, "repos"] if org.eq_ignore_ascii_case(&self.model.org) => {
                self.org_repos(&query)
            }
            ["organizations", id, "repos"] if id.parse() == Ok(self.model.org_id) => {
                self.org_repos(&query)
            }
            ["repos", owner, name, "branches", branch @ .., "protection"] => {
                match self.repo(owner, name) {
                    Some(r) => self.protection(r, &branch.join("/")),
                    None => not_found(),
                }
            }
            ["repos", owner, name, "rules", "branches", branch @ ..] => {
                match self.repo(owner, name) {
                    Some(r) => self.branch_rules(r, &branch.join("/"), &query),
                    None => not_found(),
                }
            }
            ["repositories", id, "rules", "branches", branch @ ..] => {
                match id.parse().ok().and_then(|id| self.repo_by_id(id)) {
                    Some(r) => self.branch_rules(r, &branch.join("/"), &query),
                    None => not_found(),
                }
            }
            ["repos", owner, name, "rulesets", "rule-suites"] => match self.repo(owner, name) {
                Some(r) => self.rule_suites(r, &query),
                None => not_found(),
            },
            ["repositories", id, "rulesets", "rule-suites"] => {
                match id.parse().ok().and_then(|id| self.repo_by_id(id)) {
                    Some(r) => self.rule_suites(r, &query),
                    None => not_found(),
                }
            }
            ["repos", owner, name, "rulesets", id] => {
                let found = self.repo(owner, name).and_then(|r| {
                    r.rulesets
                        .iter()
                        .find(|rs| rs["id"].as_u64().map(|i| i.to_string()).as_deref() == Some(id))
                });
                match found {
                    Some(rs) => self.json(200, "core", rs.clone()),
                    None => not_found(),
                }
            }
            _ => not_found(),
        }
    }

    fn page_params(&self, query: &BTreeMap<String, String>) -> (usize, usize) {
        let mut per_page = query
            .get("per_page")
            .and_then(|v| v.parse().ok())
            .unwrap_or(30usize)
            .clamp(1, 100);
        if let Some(cap) = self.options.rest_page_cap {
            per_page = per_page.min(cap.max(1));
        }
        let page = query
            .get("page")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1usize)
            .max(1);
        (per_page, page)
    }

    /// One page of `items`, with a GitHub-style single-line `Link` header whose URLs use the
    /// id form `base_path` (e.g. `/repositories/42/rulesets/rule-suites`).
    fn paged(
        &self,
        items: Vec<Value>,
        base_path: &str,
        query: &BTreeMap<String, String>,
    ) -> ResponseTemplate {
        let (per_page, page) = self.page_params(query);
        let total = items.len();
        let last = total.div_ceil(per_page).max(1);
        let body: Vec<Value> = items
            .into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .collect();
        let mut resp = self.json(200, "core", Value::Array(body));
        let origin = &self.origin;
        let prefix = if self.options.enterprise {
            "/api/v3"
        } else {
            ""
        };
        let link_for = |p: usize| {
            let mut q: Vec<String> = query
                .iter()
                .filter(|(k, _)| k.as_str() != "page")
                .map(|(k, v)| format!("{k}={}", encode_query_value(v)))
                .collect();
            q.push(format!("page={p}"));
            format!("<{origin}{prefix}{base_path}?{}>", q.join("&"))
        };
        let mut links = Vec::new();
        if page < last {
            links.push(format!("{}; rel=\"next\"", link_for(page + 1)));
            links.push(format!("{}; rel=\"last\"", link_for(last)));
        }
        if page > 1 {
            links.push(format!("{}; rel=\"prev\"", link_for(page - 1)));
            links.push(format!("{}; rel=\"first\"", link_for(1)));
        }
        if !links.is_empty() {
            resp = resp.insert_header("link", links.join(", ").as_str());
        }
        resp
    }

    fn org_repos(&self, query: &BTreeMap<String, String>) -> ResponseTemplate {
        let org = &self.model.org;
        let items = self
            .model
            .repos
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "node_id": format!("R_kgDO{:08}", r.id),
                    "name": r.name,
                    "full_name": format!("{org}/{}", r.name),
                    "private": true,
                    "owner": {
                        "login": org, "id": self.model.org_id,
                        "node_id": format!("O_kgDO{:08}", self.model.org_id),
                        "type": "Organization", "site_admin": false,
                        "url": format!("https://api.github.com/users/{org}"),
                    },
                    "html_url": format!("https://github.com/{org}/{}", r.name),
                    "description": null,
                    "fork": false,
                    "url": format!("https://api.github.com/repos/{org}/{}", r.name),
                    "created_at": "2021-03-04T09:12:44Z",
                    "updated_at": "2026-06-29T16:02:11Z",
                    "pushed_at": "2026-06-29T16:02:10Z",
                    "archived": r.archived,
                    "disabled": false,
                    "visibility": "private",
                    "default_branch": r.default_branch,
                    "permissions": {"admin": true, "maintain": true, "push": true, "triage": true, "pull": true},
                })
            })
            .collect();
        self.paged(
            items,
            &format!("/organizations/{}/repos", self.model.org_id),
            query,
        )
    }

    fn protection(&self, repo: &RepoModel, branch: &str) -> ResponseTemplate {
        match &repo.protection {
            Some(p) if branch == repo.default_branch => self.json(200, "core", p.clone()),
            _ => self.json(
                404,
                "core",
                json!({
                    "message": "Branch not protected",
                    "documentation_url": "https://docs.github.com/rest/branches/branch-protection#get-branch-protection",
                    "status": "404",
                }),
            ),
        }
    }

    fn branch_rules(
        &self,
        repo: &RepoModel,
        branch: &str,
        query: &BTreeMap<String, String>,
    ) -> ResponseTemplate {
        let mut items = Vec::new();
        if branch == repo.default_branch {
            for rs in &repo.rulesets {
                if rs["enforcement"] != "active" {
                    continue;
                }
                for rule in rs["rules"].as_array().into_iter().flatten() {
                    let mut item = rule.clone();
                    item["ruleset_source_type"] = rs["source_type"].clone();
                    item["ruleset_source"] = rs["source"].clone();
                    item["ruleset_id"] = rs["id"].clone();
                    items.push(item);
                }
            }
        }
        self.paged(
            items,
            &format!("/repositories/{}/rules/branches/{branch}", repo.id),
            query,
        )
    }

    fn rule_suites(&self, repo: &RepoModel, query: &BTreeMap<String, String>) -> ResponseTemplate {
        let wanted = query
            .get("rule_suite_result")
            .map(String::as_str)
            .unwrap_or("all");
        let reference = query.get("ref");
        let items = repo
            .rule_suites
            .iter()
            .filter(|s| wanted == "all" || s["result"] == wanted)
            .filter(|s| match reference {
                Some(r) => s["ref"].as_str() == Some(r.as_str()),
                None => true,
            })
            .cloned()
            .collect();
        self.paged(
            items,
            &format!("/repositories/{}/rulesets/rule-suites", repo.id),
            query,
        )
    }

    // ---- GraphQL ----

    fn graphql(&self, req: &Request) -> ResponseTemplate {
        let body: Value = match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => {
                return self.json(
                    400,
                    "graphql",
                    json!({"message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/graphql", "status": "400"}),
                )
            }
        };
        let query = body["query"].as_str().unwrap_or("");
        let vars = &body["variables"];
        let owner = vars["owner"].as_str().unwrap_or("");
        let name = vars["name"].as_str().unwrap_or("");
        let Some(repo) = self.repo(owner, name) else {
            return self.json(
                200,
                "graphql",
                json!({
                    "data": {"repository": null},
                    "errors": [{
                        "type": "NOT_FOUND",
                        "path": ["repository"],
                        "locations": [{"line": 2, "column": 3}],
                        "message": format!("Could not resolve to a Repository with the name '{owner}/{name}'."),
                    }],
                }),
            );
        };
        let rate = json!({"cost": 1, "remaining": 4999, "resetAt": "2030-01-01T00:00:00Z"});
        let data = if query.contains("query RepositoryInfo") {
            json!({"repository": {
                "databaseId": repo.id,
                "nameWithOwner": format!("{}/{}", self.model.org, repo.name),
                "isArchived": repo.archived,
                "defaultBranchRef": {"name": repo.default_branch},
            }, "rateLimit": rate})
        } else if query.contains("query MergedPullRequests") {
            match self.merged_pulls(repo, vars) {
                Ok(mut d) => {
                    d["rateLimit"] = rate;
                    d
                }
                Err(message) => return self.graphql_error(message),
            }
        } else if query.contains("query BranchHistory") {
            match self.history(repo, vars) {
                Ok(mut d) => {
                    d["rateLimit"] = rate;
                    d
                }
                Err(message) => return self.graphql_error(message),
            }
        } else if query.contains("query PullRequestReviews") {
            let Some(pr) = find_pull(repo, vars) else {
                return self.graphql_error("Could not resolve to a PullRequest.".into());
            };
            let (conn, _) = reviews_connection(pr, vars["cursor"].as_str(), 100);
            json!({"repository": {"pullRequest": {"reviews": conn}}, "rateLimit": rate})
        } else if query.contains("query PullRequestDismissals") {
            let Some(pr) = find_pull(repo, vars) else {
                return self.graphql_error("Could not resolve to a PullRequest.".into());
            };
            let conn = dismissals_connection(pr, vars["cursor"].as_str(), 100);
            json!({"repository": {"pullRequest": {"timelineItems": conn}}, "rateLimit": rate})
        } else {
            return self.graphql_error("Unknown query (the sample server serves RepositoryInfo, MergedPullRequests, BranchHistory, PullRequestReviews and PullRequestDismissals)".into());
        };
        self.json(200, "graphql", json!({ "data": data }))
    }

    fn graphql_error(&self, message: String) -> ResponseTemplate {
        self.json(
            200,
            "graphql",
            json!({"errors": [{"message": message, "locations": [{"line": 1, "column": 1}]}]}),
        )
    }

    fn merged_pulls(&self, repo: &RepoModel, vars: &Value) -> Result<Value, String> {
        let page_size = vars["pageSize"].as_u64().unwrap_or(50);
        if page_size > 100 {
            return Err(format!(
                "Requesting {page_size} records on the `pullRequests` connection exceeds the `first` limit of 100 records."
            ));
        }
        let branch = vars["branch"].as_str();
        let mut pulls: Vec<&PullModel> = repo
            .pulls
            .iter()
            .filter(|p| p.merged_at.is_some())
            .filter(|p| branch.is_none_or(|b| p.base == b))
            .collect();
        pulls.sort_by(|a, b| {
            b.updated_at
                .cmp(&a.updated_at)
                .then(b.number.cmp(&a.number))
        });
        let start = match vars["cursor"].as_str() {
            Some(c) => decode_cursor(c, PR_CURSOR).ok_or("`after` cursor is invalid")? + 1,
            None => 0,
        };
        let end = (start + page_size as usize).min(pulls.len());
        let nodes: Vec<Value> = pulls
            .get(start..end)
            .unwrap_or(&[])
            .iter()
            .map(|p| pull_node(&self.model.org, &repo.name, p))
            .collect();
        let has_next = end < pulls.len();
        let end_cursor = if end > start {
            Value::String(encode_cursor(end - 1, PR_CURSOR))
        } else {
            Value::Null
        };
        let mut data = json!({"repository": {"pullRequests": {
            "totalCount": pulls.len(),
            "pageInfo": {"hasNextPage": has_next, "endCursor": end_cursor},
            "nodes": nodes,
        }}});
        if vars["withCount"].as_bool() == Some(true) {
            let q = vars["searchQuery"].as_str().unwrap_or("");
            data["search"] = json!({"issueCount": self.search_count(repo, q)});
        }
        Ok(data)
    }

    /// `history(since, until, first: 100, after)` of the default branch (or of
    /// `ref(qualifiedName)` when it names the default branch; another ref is `null`), newest
    /// first: each merged PR into the default branch (or its former name) contributes its
    /// merge commit and, for even PR numbers (merged with a merge commit), its head commit;
    /// plus the direct pushes.
    fn history(&self, repo: &RepoModel, vars: &Value) -> Result<Value, String> {
        let parse = |k: &str| -> Result<Option<DateTime<Utc>>, String> {
            match vars[k].as_str() {
                None => Ok(None),
                Some(t) => DateTime::parse_from_rfc3339(t)
                    .map(|d| Some(d.to_utc()))
                    .map_err(|_| {
                        format!("Variable ${k} of type GitTimestamp was provided invalid value")
                    }),
            }
        };
        let (since, until) = (parse("since")?, parse("until")?);
        let use_default = vars["useDefault"].as_bool().unwrap_or(true);
        let wanted = format!("refs/heads/{}", repo.default_branch);
        if !use_default && vars["qualifiedName"].as_str() != Some(wanted.as_str()) {
            return Ok(json!({"repository": {"ref": null}}));
        }
        let mut commits = branch_commits(&self.model.org, repo);
        commits.retain(|c| {
            let t = c.0;
            since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u)
        });
        let start = match vars["cursor"].as_str() {
            Some(c) => decode_cursor(c, COMMIT_CURSOR).ok_or("`after` cursor is invalid")? + 1,
            None => 0,
        };
        let end = (start + 100).min(commits.len());
        let nodes: Vec<Value> = commits
            .get(start..end)
            .unwrap_or(&[])
            .iter()
            .map(|c| c.1.clone())
            .collect();
        let end_cursor = if end > start {
            Value::String(encode_cursor(end - 1, COMMIT_CURSOR))
        } else {
            Value::Null
        };
        let reference = json!({
            "name": repo.default_branch,
            "target": {"history": {
                "totalCount": commits.len(),
                "pageInfo": {"hasNextPage": end < commits.len(), "endCursor": end_cursor},
                "nodes": nodes,
            }},
        });
        let key = if use_default {
            "defaultBranchRef"
        } else {
            "ref"
        };
        Ok(json!({"repository": {key: reference}}))
    }

    /// `issueCount` for `repo:o/r is:pr is:merged base:B merged:FROM..TO`.
    fn search_count(&self, repo: &RepoModel, q: &str) -> usize {
        let mut base = None;
        let mut range: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
        for token in q.split_whitespace() {
            if let Some(b) = token.strip_prefix("base:") {
                base = Some(b.to_string());
            } else if let Some(r) = token.strip_prefix("merged:") {
                if let Some((a, b)) = r.split_once("..") {
                    let parse = |s: &str| DateTime::parse_from_rfc3339(s).ok().map(|d| d.to_utc());
                    if let (Some(a), Some(b)) = (parse(a), parse(b)) {
                        range = Some((a, b));
                    }
                }
            }
        }
        repo.pulls
            .iter()
            .filter(|p| base.as_deref().is_none_or(|b| p.base == b))
            .filter(|p| match (p.merged_at, range) {
                (Some(m), Some((a, b))) => m >= a && m <= b,
                (Some(_), None) => true,
                _ => false,
            })
            .count()
    }
}

const PR_CURSOR: &str = "Y3Vyc29yOnYyOpHO";
/// History cursors look like GitHub's: `"<head oid> <offset>"`, opaque to clients.
const COMMIT_CURSOR: &str = "NmQ0ZGFhMjkgMA";
const REVIEW_CURSOR: &str = "Y3Vyc29yOnYyOpO0";
const EVENT_CURSOR: &str = "Y3Vyc29yOnYyOpPP";

fn encode_cursor(index: usize, prefix: &str) -> String {
    format!("{prefix}{index:08x}")
}

fn decode_cursor(cursor: &str, prefix: &str) -> Option<usize> {
    usize::from_str_radix(cursor.strip_prefix(prefix)?, 16).ok()
}

fn find_pull<'a>(repo: &'a RepoModel, vars: &Value) -> Option<&'a PullModel> {
    let n = vars["number"].as_u64()?;
    repo.pulls.iter().find(|p| p.number == n)
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn reviews_connection(pr: &PullModel, cursor: Option<&str>, first: usize) -> (Value, bool) {
    let start = cursor
        .and_then(|c| decode_cursor(c, REVIEW_CURSOR))
        .map(|i| i + 1)
        .unwrap_or(0);
    let end = (start + first).min(pr.reviews.len());
    let nodes: Vec<Value> = pr
        .reviews
        .get(start..end)
        .unwrap_or(&[])
        .iter()
        .map(|r| {
            json!({
                "databaseId": r.id,
                "author": r.author.graphql(),
                "authorAssociation": r.association,
                "state": r.state,
                "submittedAt": ts(r.submitted_at),
                "commit": {"oid": r.commit_oid},
            })
        })
        .collect();
    let has_next = end < pr.reviews.len();
    let end_cursor = if end > start {
        Value::String(encode_cursor(end - 1, REVIEW_CURSOR))
    } else {
        Value::Null
    };
    (
        json!({
            "totalCount": pr.reviews.len(),
            "pageInfo": {"hasNextPage": has_next, "endCursor": end_cursor},
            "nodes": nodes,
        }),
        has_next,
    )
}

fn dismissals_connection(pr: &PullModel, cursor: Option<&str>, first: usize) -> Value {
    let start = cursor
        .and_then(|c| decode_cursor(c, EVENT_CURSOR))
        .map(|i| i + 1)
        .unwrap_or(0);
    let end = (start + first).min(pr.dismissals.len());
    let nodes: Vec<Value> = pr
        .dismissals
        .get(start..end)
        .unwrap_or(&[])
        .iter()
        .map(|d| {
            json!({
                "__typename": "ReviewDismissedEvent",
                "createdAt": ts(d.at),
                "actor": d.actor.graphql(),
                "dismissalMessage": d.message,
                "previousReviewState": d.previous_state,
                "review": {"databaseId": d.review_id},
            })
        })
        .collect();
    let end_cursor = if end > start {
        Value::String(encode_cursor(end - 1, EVENT_CURSOR))
    } else {
        Value::Null
    };
    json!({
        "totalCount": pr.dismissals.len(),
        "pageInfo": {"hasNextPage": end < pr.dismissals.len(), "endCursor": end_cursor},
        "nodes": nodes,
    })
}

fn pull_node(org: &str, repo: &str, p: &PullModel) -> Value {
    let (reviews, _) = reviews_connection(p, None, 100);
    json!({
        "number": p.number,
        "title": p.title,
        "url": format!("https://github.com/{org}/{repo}/pull/{}", p.number),
        "createdAt": ts(p.created_at),
        "updatedAt": ts(p.updated_at),
        "mergedAt": p.merged_at.map(ts),
        "baseRefName": p.base,
        "headRefName": head_branch(&format!("{org}/{repo}"), p),
        "headRefOid": p.head_oid,
        "author": p.author.graphql(),
        "mergedBy": p.merged_by.as_ref().map(Account::graphql).unwrap_or(Value::Null),
        "mergeCommit": p.merge_oid.as_ref().map(|o| json!({"oid": o})).unwrap_or(Value::Null),
        "reviews": reviews,
        "timelineItems": dismissals_connection(p, None, 50),
    })
}

/// A `GitActor` as GitHub shows it on a commit: `user` is `null` for bots and deleted
/// accounts (a bot is no `User`).
fn git_actor(a: &Account) -> Value {
    match a {
        Account::User(login) => {
            let person = crate::people::PEOPLE.iter().find(|p| p.github == login);
            let email = person
                .map(|p| p.email.to_string())
                .unwrap_or_else(|| format!("{login}@users.noreply.github.com"));
            let name = person.map_or(login.as_str(), |p| p.name);
            json!({"user": {"login": login}, "name": name, "email": email})
        }
        Account::Bot(login) => json!({
            "user": null,
            "name": format!("{login}[bot]"),
            "email": format!("49699333+{login}[bot]@users.noreply.github.com"),
        }),
        Account::Deleted => {
            json!({"user": null, "name": "Former Employee", "email": "former@acme.example"})
        }
    }
}

/// The web UI's committer for merges made on GitHub.
fn web_flow() -> Value {
    json!({"user": {"login": "web-flow"}, "name": "GitHub", "email": "noreply@github.com"})
}

/// Every commit of the default branch's history, newest first: `(committedDate, node)`.
fn branch_commits(org: &str, repo: &RepoModel) -> Vec<(DateTime<Utc>, Value)> {
    let mut out = Vec::new();
    let on_branch =
        |base: &str| base == repo.default_branch || repo.renamed_from.as_deref() == Some(base);
    for p in repo.pulls.iter().filter(|p| on_branch(&p.base)) {
        let (Some(merged), Some(merge)) = (p.merged_at, p.merge_oid.as_ref()) else {
            continue;
        };
        let assoc = json!({"totalCount": 1, "nodes": [{
            "number": p.number,
            "merged": true,
            "baseRefName": p.base,
            "mergeCommit": {"oid": merge},
        }]});
        if p.number % 2 == 0 {
            // Merged with a merge commit: the PR's head commit is in the history too.
            let t = p.created_at + chrono::Duration::hours(1);
            out.push((
                t,
                json!({
                    "oid": p.head_oid,
                    "committedDate": ts(t),
                    "messageHeadline": p.title,
                    "author": git_actor(&p.author),
                    "committer": git_actor(&p.author),
                    "associatedPullRequests": assoc,
                }),
            ));
        }
        out.push((
            merged,
            json!({
                "oid": merge,
                "committedDate": ts(merged),
                "messageHeadline": if p.number % 2 == 0 {
                    format!("Merge pull request #{} from {}", p.number, head_branch(&format!("{org}/{}", repo.name), p))
                } else {
                    format!("{} (#{})", p.title, p.number)
                },
                "author": git_actor(&p.author),
                "committer": web_flow(),
                "associatedPullRequests": assoc,
            }),
        ));
    }
    for c in &repo.direct_pushes {
        out.push((
            c.committed_at,
            json!({
                "oid": c.oid,
                "committedDate": ts(c.committed_at),
                "messageHeadline": c.headline,
                "author": git_actor(&c.author),
                "committer": git_actor(&c.author),
                "associatedPullRequests": {"totalCount": 0, "nodes": []},
            }),
        ));
    }
    out.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| b.1["oid"].as_str().cmp(&a.1["oid"].as_str()))
    });
    out
}

/// The head branch of a PR: `<author>/<title words>`.
/// Pull requests merged without naming a change ticket in their branch: the planted
/// `change.pr_has_ticket` failures (an admin's merge past protection, and a bypass merge).
pub const TICKETLESS: &[&str] = &["acme/api#101", "acme/web#52"];

/// The done Jira change tickets the sample's branches name, in turn (see `soc2_sample::jira`).
const BRANCH_TICKETS: &[u64] = &[101, 102, 103, 109, 110, 113, 114];

fn head_branch(repo: &str, p: &PullModel) -> String {
    let subject = format!("{repo}#{}", p.number);
    let ticket = if TICKETLESS.contains(&subject.as_str()) {
        String::new()
    } else {
        // Teams name the ticket in the branch, as the GitHub for Jira app expects.
        let t = BRANCH_TICKETS[(p.number as usize) % BRANCH_TICKETS.len()];
        format!("chg-{t}-")
    };
    let login = match &p.author {
        Account::User(l) | Account::Bot(l) => l.clone(),
        Account::Deleted => "ghost".into(),
    };
    let slug: String = p
        .title
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(4)
        .collect::<Vec<_>>()
        .join("-");
    format!("{login}/{ticket}{slug}")
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_raw(
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}).to_string(),
        "application/json",
    )
}

fn secondary_limit() -> ResponseTemplate {
    ResponseTemplate::new(403)
        .set_body_raw(
            json!({
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID C0DE:5A3F:1B2C3D:1C2D3E:6601A2B4.",
                "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                "status": "403",
            })
            .to_string(),
            "application/json",
        )
        .insert_header("retry-after", "1")
        .insert_header("x-ratelimit-limit", "5000")
        .insert_header("x-ratelimit-remaining", "4890")
        .insert_header("x-ratelimit-used", "110")
        .insert_header("x-ratelimit-reset", RESET_EPOCH.to_string().as_str())
        .insert_header("x-ratelimit-resource", "graphql")
}

/// Query values in `Link` URLs keep only RFC 3986's unreserved characters, so a value holding
/// `&`, `=`, `+` or spaces reaches the collector intact when it follows the link.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode_query_value(v: &str) -> String {
    utf8_percent_encode(v, QUERY_VALUE).to_string()
}

// ---------------------------------------------------------------------------------------------
// Building models
// ---------------------------------------------------------------------------------------------

/// A deterministic 40-hex commit id from a seed.
pub fn sha(seed: &str) -> String {
    // FNV-1a, widened: stable across runs and platforms, unlike std's hasher.
    let mut out = String::with_capacity(40);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for round in 0u8..3 {
        for b in seed.bytes().chain([round]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out.truncate(40);
    out
}

/// Midnight-based UTC time helper: `at(2026, 3, 14, 10)` is 2026-03-14T10:00:00Z.
pub fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .unwrap_or_default()
}

impl PullModel {
    /// A PR by `author` into `base`, created a day before `merged_at`, merged by `merged_by`,
    /// with head and merge commits derived from `repo` and `number`. No reviews yet.
    pub fn merged(
        repo: &str,
        number: u64,
        title: &str,
        author: Account,
        base: &str,
        merged_at: DateTime<Utc>,
        merged_by: Account,
    ) -> Self {
        Self {
            number,
            title: title.to_string(),
            author,
            base: base.to_string(),
            created_at: merged_at - chrono::Duration::hours(26),
            updated_at: merged_at + chrono::Duration::minutes(3),
            merged_at: Some(merged_at),
            merged_by: Some(merged_by),
            head_oid: sha(&format!("{repo}#{number}/head")),
            merge_oid: Some(sha(&format!("{repo}#{number}/merge"))),
            reviews: Vec::new(),
            dismissals: Vec::new(),
        }
    }

    /// Adds a review on the head commit, `hours_before` the merge.
    pub fn review(mut self, id: u64, by: Account, state: &'static str, hours_before: i64) -> Self {
        let merged = self.merged_at.unwrap_or(self.updated_at);
        self.reviews.push(ReviewModel {
            id,
            author: by,
            state,
            submitted_at: merged - chrono::Duration::hours(hours_before),
            commit_oid: self.head_oid.clone(),
            association: "MEMBER",
        });
        self
    }
}

fn person(first: &str) -> Account {
    Account::user(by_first_name(first).map(|p| p.github).unwrap_or(first))
}

// ---------------------------------------------------------------------------------------------
// The sample organisation
// ---------------------------------------------------------------------------------------------

/// The failures planted in the sample organisation.
pub const PLANTED: &[Planted] = &[
    Planted::exact(
        "github.independent_approval",
        "acme/api#101",
        "merged with no reviews at all (an admin merged past classic protection, which does not bind admins)",
    ),
    Planted::exact(
        "github.independent_approval",
        "acme/api#102",
        "stale approval: approved, then more commits were pushed before the merge",
    ),
    Planted::exact(
        "github.independent_approval",
        "acme/api#103",
        "the only approval is by a bot (github-actions)",
    ),
    Planted::exact(
        "github.independent_approval",
        "acme/api#104",
        "reviews were only comments, no approval",
    ),
    Planted::exact(
        "github.independent_approval",
        "acme/web#40",
        "merged with no reviews before the web ruleset required any (2026-02-10)",
    ),
    Planted::exact(
        "github.independent_approval",
        "acme/web#51",
        "the only approval was dismissed before the merge",
    ),
    Planted::exact(
        "github.independent_approval",
        "acme/web#52",
        "merged with no approval by an admin bypassing the ruleset",
    ),
    Planted::exact(
        "github.merged_under_bypass",
        "acme/web#52",
        "its merge commit was pushed under a ruleset bypass by carolschmidt",
    ),
    Planted::exact(
        "github.merged_under_bypass",
        "acme/web",
        "a direct push to main under ruleset bypass (no pull request)",
    ),
    Planted::exact(
        "github.review_required",
        "acme/web",
        "required reviews only enforced from 2026-03-16 (ruleset created mid-period)",
    ),
    Planted::exact(
        "github.changes_via_pull_request",
        WEB_DIRECT_PUSH_SUBJECT,
        "a commit pushed straight to main with no pull request (carolschmidt, under ruleset bypass)",
    ),
];

/// The commit pushed straight to `acme/web`'s `main` on 2026-05-09, with no pull request
/// (rule suite 88002 records it as a bypass by carolschmidt).
pub const WEB_DIRECT_PUSH: &str = "2b7a1bd2a6b0c4a38e2a8e91b7d4b6b8a0e0f0c1";

/// The subject of the `github.changes_via_pull_request` finding for [`WEB_DIRECT_PUSH`].
pub const WEB_DIRECT_PUSH_SUBJECT: &str = "acme/web@2b7a1bd2a6b0c4a38e2a8e91b7d4b6b8a0e0f0c1";

/// The day `acme/api` renamed its default branch `master` to `main`: PRs merged before it
/// keep `baseRefName: "master"`.
pub const API_BRANCH_RENAMED: (i32, u32, u32) = (2026, 3, 1);

/// The running sample GitHub for Acme Corp.
pub struct GithubSample {
    server: GithubServer,
}

impl GithubSample {
    /// The REST API base URL (configure as `api_url`); GraphQL is at `{api_url}/graphql`.
    pub fn api_url(&self) -> String {
        self.server.api_url()
    }

    /// The token the server accepts.
    pub fn token(&self) -> &'static str {
        TOKEN
    }

    /// The organisation login (`acme`), for `org` mode.
    pub fn org(&self) -> &'static str {
        "acme"
    }

    /// The repositories to configure in `repos` mode.
    pub fn repos(&self) -> Vec<String> {
        vec!["acme/api".into(), "acme/web".into()]
    }

    /// The failures the demo must find.
    pub fn planted(&self) -> &'static [Planted] {
        PLANTED
    }

    /// The server, for request counters and extra mocks.
    pub fn server(&self) -> &GithubServer {
        &self.server
    }
}

/// Starts the sample GitHub for Acme Corp on 127.0.0.1. The second GraphQL request answers
/// once with a secondary rate limit (`403`, `retry-after: 1`).
pub async fn start() -> GithubSample {
    let server = GithubServer::start(
        sample_model(),
        ServerOptions {
            secondary_limit_on_graphql_request: Some(2),
            ..ServerOptions::default()
        },
    )
    .await;
    GithubSample { server }
}

/// The Acme Corp model served by [`start`].
pub fn sample_model() -> GithubModel {
    GithubModel {
        org: "acme".into(),
        org_id: 91_234_567,
        repos: vec![api_repo(), web_repo(), legacy_repo()],
    }
}

const ENGINEERS: &[&str] = &[
    "alice", "bob", "carol", "dev", "erin", "hiro", "jonas", "liam",
];

fn api_repo() -> RepoModel {
    let r = "acme/api";
    let mut pulls = Vec::new();
    // Routine, properly reviewed changes spread over the period: enough for two GraphQL pages.
    for i in 0..62u64 {
        let number = 200 + i;
        let author = ENGINEERS[(i as usize) % ENGINEERS.len()];
        let reviewer = ENGINEERS[(i as usize + 3) % ENGINEERS.len()];
        let day = i * 178 / 62;
        let merged = at(2026, 1, 2, 9)
            + chrono::Duration::days(day as i64)
            + chrono::Duration::hours((i % 7) as i64);
        let mut p = PullModel::merged(
            r,
            number,
            &format!("api: routine change {number}"),
            person(author),
            "main",
            merged,
            person(author),
        )
        .review(9_000_000 + number, person(reviewer), "APPROVED", 2);
        if i % 5 == 0 {
            // Comments before the approval, as real reviews go.
            p.reviews.insert(
                0,
                ReviewModel {
                    id: 8_000_000 + number,
                    author: person(ENGINEERS[(i as usize + 5) % ENGINEERS.len()]),
                    state: "COMMENTED",
                    submitted_at: merged - chrono::Duration::hours(5),
                    commit_oid: p.head_oid.clone(),
                    association: "MEMBER",
                },
            );
        }
        pulls.push(p);
    }
    // Planted failures.
    pulls.push(PullModel::merged(
        r,
        101,
        "Hotfix: raise connection pool size",
        person("dev"),
        "main",
        at(2026, 2, 14, 22),
        person("carol"),
    ));
    let mut stale = PullModel::merged(
        r,
        102,
        "Add rate limiting to /v1/export",
        person("erin"),
        "main",
        at(2026, 3, 3, 15),
        person("erin"),
    )
    .review(7_100_102, person("bob"), "APPROVED", 20);
    stale.reviews[0].commit_oid = sha("acme/api#102/first-push");
    pulls.push(stale);
    pulls.push(
        PullModel::merged(
            r,
            103,
            "Bump API schema version",
            person("hiro"),
            "main",
            at(2026, 4, 7, 11),
            person("hiro"),
        )
        .review(7_100_103, Account::bot("github-actions"), "APPROVED", 1),
    );
    pulls.push(
        PullModel::merged(
            r,
            104,
            "Refactor auth middleware",
            person("jonas"),
            "main",
            at(2026, 5, 12, 17),
            person("jonas"),
        )
        .review(7_100_104, person("alice"), "COMMENTED", 6)
        .review(7_200_104, person("liam"), "COMMENTED", 3),
    );
    // Passing edge cases: a bot-authored PR approved by a person; a deleted author.
    pulls.push(
        PullModel::merged(
            r,
            105,
            "Bump serde_json from 1.0.140 to 1.0.145",
            Account::bot("dependabot"),
            "main",
            at(2026, 5, 20, 8),
            person("bob"),
        )
        .review(7_100_105, person("bob"), "APPROVED", 1),
    );
    pulls.push(
        PullModel::merged(
            r,
            106,
            "Remove unused feature flags",
            Account::Deleted,
            "main",
            at(2026, 6, 2, 13),
            person("alice"),
        )
        .review(7_100_106, person("carol"), "APPROVED", 4),
    );
    // Outside the population: before the period, after it, and into another branch.
    for (i, n) in (90..96u64).enumerate() {
        pulls.push(
            PullModel::merged(
                r,
                n,
                "Year-end cleanup",
                person("alice"),
                "main",
                at(2025, 12, 10 + i as u32, 10),
                person("alice"),
            )
            .review(7_000_000 + n, person("bob"), "APPROVED", 2),
        );
    }
    pulls.push(PullModel::merged(
        r,
        300,
        "July change (after the period)",
        person("dev"),
        "main",
        at(2026, 7, 3, 10),
        person("dev"),
    ));
    pulls.push(PullModel::merged(
        r,
        150,
        "Backport fix to release branch",
        person("dev"),
        "release/2025.12",
        at(2026, 2, 2, 10),
        person("dev"),
    ));
    // Closed without merging: GitHub still reports a (test-merge) merge commit.
    let mut closed = PullModel::merged(
        r,
        151,
        "Experiment: switch ORM",
        person("liam"),
        "main",
        at(2026, 3, 9, 10),
        person("liam"),
    );
    closed.merged_at = None;
    closed.merged_by = None;
    pulls.push(closed);
    // `master` was renamed `main` on 2026-03-01: PRs merged before keep `baseRefName: "master"`.
    let (y, m, d) = API_BRANCH_RENAMED;
    for p in pulls.iter_mut() {
        if p.base == "main" && p.merged_at.is_some_and(|t| t < at(y, m, d, 0)) {
            p.base = "master".into();
        }
    }

    RepoModel {
        id: 512_000_101,
        name: "api".into(),
        default_branch: "main".into(),
        archived: false,
        pulls,
        protection: Some(json!({
            "url": "https://api.github.com/repos/acme/api/branches/main/protection",
            "required_status_checks": {
                "url": "https://api.github.com/repos/acme/api/branches/main/protection/required_status_checks",
                "strict": true,
                "contexts": ["ci/test"],
                "contexts_url": "https://api.github.com/repos/acme/api/branches/main/protection/required_status_checks/contexts",
                "checks": [{"context": "ci/test", "app_id": 15368}],
            },
            "required_pull_request_reviews": {
                "url": "https://api.github.com/repos/acme/api/branches/main/protection/required_pull_request_reviews",
                "dismiss_stale_reviews": false,
                "require_code_owner_reviews": false,
                "require_last_push_approval": false,
                "required_approving_review_count": 1,
            },
            "required_signatures": {
                "url": "https://api.github.com/repos/acme/api/branches/main/protection/required_signatures",
                "enabled": false,
            },
            "enforce_admins": {
                "url": "https://api.github.com/repos/acme/api/branches/main/protection/enforce_admins",
                "enabled": false,
            },
            "required_linear_history": {"enabled": false},
            "allow_force_pushes": {"enabled": false},
            "allow_deletions": {"enabled": false},
            "block_creations": {"enabled": false},
            "required_conversation_resolution": {"enabled": false},
            "lock_branch": {"enabled": false},
            "allow_fork_syncing": {"enabled": false},
        })),
        rulesets: Vec::new(),
        rule_suites: Vec::new(),
        direct_pushes: Vec::new(),
        renamed_from: Some("master".into()),
    }
}

fn web_repo() -> RepoModel {
    let r = "acme/web";
    let mut pulls = Vec::new();
    for i in 0..12u64 {
        let number = 60 + i;
        let author = ENGINEERS[(i as usize + 1) % ENGINEERS.len()];
        let reviewer = ENGINEERS[(i as usize + 4) % ENGINEERS.len()];
        let merged = at(2026, 3, 20, 10) + chrono::Duration::days((i * 8) as i64);
        pulls.push(
            PullModel::merged(
                r,
                number,
                &format!("web: page update {number}"),
                person(author),
                "main",
                merged,
                person(reviewer),
            )
            .review(6_000_000 + number, person(reviewer), "APPROVED", 3),
        );
    }
    pulls.push(PullModel::merged(
        r,
        40,
        "Update landing page copy",
        person("frank"),
        "main",
        at(2026, 2, 10, 16),
        person("frank"),
    ));
    // A dismissed approval: the review now reads DISMISSED, the event keeps APPROVED.
    let mut dismissed = PullModel::merged(
        r,
        51,
        "Checkout: new payment form",
        person("erin"),
        "main",
        at(2026, 4, 2, 18),
        person("erin"),
    )
    .review(6_100_051, person("alice"), "DISMISSED", 30);
    dismissed.dismissals.push(DismissalModel {
        review_id: 6_100_051,
        actor: person("carol"),
        at: at(2026, 4, 2, 9),
        message: "Approval was for the old design; needs a fresh review".into(),
        previous_state: "APPROVED",
    });
    pulls.push(dismissed);
    let bypass = PullModel::merged(
        r,
        52,
        "Emergency: disable broken A/B test",
        person("carol"),
        "main",
        at(2026, 4, 20, 23),
        person("carol"),
    );
    let bypass_merge = bypass.merge_oid.clone().unwrap_or_default();
    let bypass_before = sha("acme/web/main-before-52");
    pulls.push(bypass);

    let ruleset = json!({
        "id": 4_211_337,
        "name": "main: require review",
        "target": "branch",
        "source_type": "Repository",
        "source": "acme/web",
        "enforcement": "active",
        "conditions": {"ref_name": {"exclude": [], "include": ["~DEFAULT_BRANCH"]}},
        "rules": [
            {"type": "deletion"},
            {"type": "non_fast_forward"},
            {"type": "pull_request", "parameters": {
                "required_approving_review_count": 1,
                "dismiss_stale_reviews_on_push": true,
                "require_code_owner_review": false,
                "require_last_push_approval": false,
                "required_review_thread_resolution": false,
                "allowed_merge_methods": ["merge", "squash", "rebase"],
            }},
        ],
        "bypass_actors": [
            {"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"},
        ],
        "node_id": "RRS_lACkVXNlcs4AQEN5zgBAQ3k",
        "current_user_can_bypass": "always",
        "_links": {
            "self": {"href": "https://api.github.com/repos/acme/web/rulesets/4211337"},
            "html": {"href": "https://github.com/acme/web/rules/4211337"},
        },
        "created_at": "2026-03-16T10:24:51.000Z",
        "updated_at": "2026-03-16T10:24:51.000Z",
    });
    let suite = |id: u64,
                 actor: &str,
                 actor_id: u64,
                 before: &str,
                 after: &str,
                 t: DateTime<Utc>,
                 result: &str| {
        json!({
            "id": id,
            "actor_id": actor_id,
            "actor_name": actor,
            "before_sha": before,
            "after_sha": after,
            "ref": "refs/heads/main",
            "repository_id": 512_000_102u64,
            "repository_name": "web",
            "pushed_at": ts(t),
            "result": result,
            "evaluation_result": if result == "bypass" { "fail" } else { "pass" },
        })
    };
    let mut rule_suites = vec![
        suite(
            88_001,
            "carolschmidt",
            30_000_003,
            &bypass_before,
            &bypass_merge,
            at(2026, 4, 20, 23),
            "bypass",
        ),
        suite(
            88_002,
            "carolschmidt",
            30_000_003,
            &bypass_merge,
            WEB_DIRECT_PUSH,
            at(2026, 5, 9, 2),
            "bypass",
        ),
    ];
    for (i, p) in pulls.iter().filter(|p| p.number >= 60).enumerate() {
        rule_suites.push(suite(
            88_100 + i as u64,
            "web-flow",
            19_864_447,
            &sha(&format!("acme/web/before-{}", p.number)),
            p.merge_oid.as_deref().unwrap_or_default(),
            p.merged_at.unwrap_or_default(),
            "pass",
        ));
    }
    RepoModel {
        id: 512_000_102,
        name: "web".into(),
        default_branch: "main".into(),
        archived: false,
        pulls,
        protection: None,
        rulesets: vec![ruleset],
        rule_suites,
        direct_pushes: vec![CommitModel {
            oid: WEB_DIRECT_PUSH.into(),
            committed_at: at(2026, 5, 9, 2),
            headline: "Hotfix: turn off checkout A/B flag in prod config".into(),
            author: person("carol"),
        }],
        renamed_from: None,
    }
}

fn legacy_repo() -> RepoModel {
    RepoModel {
        id: 512_000_099,
        name: "legacy-portal".into(),
        default_branch: "master".into(),
        archived: true,
        pulls: vec![PullModel::merged(
            "acme/legacy-portal",
            7,
            "Archive notice",
            person("alice"),
            "master",
            at(2026, 1, 15, 10),
            person("alice"),
        )],
        protection: None,
        rulesets: Vec::new(),
        rule_suites: Vec::new(),
        direct_pushes: Vec::new(),
        renamed_from: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_escape_all_but_unreserved() {
        assert_eq!(
            encode_query_value("a b&c=d+e/f~g-h_i.jé"),
            "a%20b%26c%3Dd%2Be%2Ff~g-h_i.j%C3%A9"
        );
    }

    #[test]
    fn cursors_round_trip_and_shas_are_stable() {
        assert_eq!(
            decode_cursor(&encode_cursor(49, PR_CURSOR), PR_CURSOR),
            Some(49)
        );
        assert_eq!(decode_cursor("garbage", PR_CURSOR), None);
        assert_eq!(sha("x"), sha("x"));
        assert_ne!(sha("x"), sha("y"));
        assert_eq!(sha("x").len(), 40);
    }

    #[test]
    fn sample_has_two_pages_of_merged_prs_and_planted_failures() {
        let m = sample_model();
        let api = &m.repos[0];
        let in_period = api
            .pulls
            .iter()
            .filter(|p| p.base == "main" || p.base == "master")
            .filter(|p| {
                p.merged_at
                    .is_some_and(|t| t >= at(2026, 1, 1, 0) && t < at(2026, 7, 1, 0))
            })
            .count();
        assert!(in_period > 50, "{in_period}");
        assert!(api
            .pulls
            .iter()
            .any(|p| p.base == "master" && p.number == 101));
        assert_eq!(WEB_DIRECT_PUSH.len(), 40);
        assert_eq!(
            WEB_DIRECT_PUSH_SUBJECT,
            format!("acme/web@{WEB_DIRECT_PUSH}")
        );
        // The history of api's main spans several pages of 100.
        assert!(branch_commits("acme", api).len() > 100);
        for f in PLANTED {
            let subject: &str = &f.subject_id;
            let (repo, num) = subject
                .split_once('#')
                .or_else(|| subject.split_once('@'))
                .unwrap_or((subject, ""));
            let r = m
                .repos
                .iter()
                .find(|r| format!("acme/{}", r.name) == repo)
                .unwrap();
            if let Ok(n) = num.parse::<u64>() {
                assert!(r.pulls.iter().any(|p| p.number == n), "{}", f.subject_id);
            }
        }
    }
}
