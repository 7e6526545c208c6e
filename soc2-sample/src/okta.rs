//! A local server that answers like the Okta Management API, serving Acme Corp's org (or a
//! synthetic org of any size for benchmarks).
//!
//! It behaves the way collectors get wrong: users come in pages with Okta's **two separate**
//! `Link` header lines; DEPROVISIONED users are missing from the unfiltered user list and only
//! appear with `filter=status eq "DEPROVISIONED"`; the admin assignee list pages in the body;
//! every response carries `X-Rate-Limit-*` headers, and the first request to one endpoint gets
//! a 429 with Okta's E0000047 body and no `Retry-After`; a pending TOTP factor embeds its
//! `sharedSecret`; a wrong token gets Okta's 401 E0000011.
//!
//! ```no_run
//! # async fn demo() {
//! let okta = soc2_sample::okta::start().await;
//! println!("Okta at {} (token {}), planted failures:", okta.base_url(), okta.token());
//! for f in okta.failures() {
//!     println!("  {} {}: {}", f.check_id, f.subject_id, f.description);
//! }
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::people::{by_first_name, Person};
use crate::Planted;

/// The SSWS token the sample server accepts. It is not a secret: it only opens this local
/// fake, but the collectors must still never write it anywhere.
pub const TOKEN: &str = "00SampleAcmeOktaToken-do-not-log-4bX9kQ2s";

/// The id of the Platform Admins group, which holds ORG_ADMIN.
pub const ADMIN_GROUP_ID: &str = "00g1platformadmins01";

/// The TOTP seed embedded in Dev's pending factor: it must never reach any output file.
pub const PENDING_TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPSAMPLESEED";

/// The contents of a fake Okta org: raw API objects, exactly as the API returns them. The
/// string `{org}` in any value is replaced by the server's base URL when served.
#[derive(Debug, Clone, Default)]
pub struct OktaOrg {
    /// Every user (`GET /api/v1/users/{id}` shape), DEPROVISIONED ones included.
    pub users: Vec<Value>,
    /// Factors per user id.
    pub factors: BTreeMap<String, Vec<Value>>,
    /// Role assignments per user id, as `GET /api/v1/users/{id}/roles` lists them.
    pub user_roles: BTreeMap<String, Vec<Value>>,
    /// Groups by id.
    pub groups: BTreeMap<String, Value>,
    /// Member user ids per group id.
    pub group_members: BTreeMap<String, Vec<String>>,
    /// Role assignments per group id.
    pub group_roles: BTreeMap<String, Vec<Value>>,
    /// User ids that `GET /api/v1/iam/assignees/users` lists.
    pub assignees: Vec<String>,
    /// System Log events (any order; served sorted by `published`).
    pub logs: Vec<Value>,
    /// Policies of every type.
    pub policies: Vec<Value>,
    /// Rules per policy id.
    pub policy_rules: BTreeMap<String, Vec<Value>>,
}

/// How the fake server pages, paces and limits.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The SSWS token to accept.
    pub token: String,
    /// Largest page of users (and group members), whatever `limit` asks.
    pub users_page: usize,
    /// Page size of the admin assignee list.
    pub assignees_page: usize,
    /// Largest page of System Log events.
    pub logs_page: usize,
    /// Delay before every response.
    pub latency: Duration,
    /// `X-Rate-Limit-Limit` of every endpoint family.
    pub rate_limit: u64,
    /// A path whose first request is answered with a 429.
    pub rate_limit_once: Option<String>,
    /// Whether wiremock keeps every request (tests inspect them; benchmarks turn it off).
    pub record_requests: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            token: TOKEN.into(),
            users_page: 200,
            assignees_page: 100,
            logs_page: 1000,
            latency: Duration::ZERO,
            rate_limit: 600,
            rate_limit_once: None,
            record_requests: true,
        }
    }
}

/// A running fake Okta org.
pub struct OktaServer {
    server: MockServer,
    token: String,
    requests: Arc<AtomicU64>,
    current: Arc<RwLock<Arc<FakeOkta>>>,
}

impl OktaServer {
    /// The org URL to configure the collector with.
    pub fn base_url(&self) -> String {
        self.server.uri()
    }

    /// The SSWS token the server accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Requests the fake has answered (429s and 401s included; narrower mocks mounted over it
    /// are not counted).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// The wiremock server, to mount extra (higher-priority) mocks or read received requests.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// Serves `org` from now on, at the same address with the same options: the org as it
    /// stands a day later, for a second (incremental) collection. The one-off 429 is not
    /// sent again.
    pub fn set_org(&self, org: OktaOrg) {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        let mut next = FakeOkta::new(org, current.options.clone(), current.base.clone());
        next.requests = Arc::clone(&self.requests);
        next.limited = AtomicBool::new(true);
        *current = Arc::new(next);
    }
}

/// Answers with whichever org the server holds now (see [`OktaServer::set_org`]).
struct Swappable(Arc<RwLock<Arc<FakeOkta>>>);

impl Respond for Swappable {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let current = Arc::clone(&self.0.read().unwrap_or_else(|p| p.into_inner()));
        current.respond(req)
    }
}

/// The Acme Corp sample org on a running server, with the failures planted in it.
pub struct OktaSample {
    server: OktaServer,
    failures: Vec<Planted>,
}

impl OktaSample {
    /// The org URL.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The SSWS token the server accepts.
    pub fn token(&self) -> &str {
        self.server.token()
    }

    /// The failures the demo must find; everything else passes.
    pub fn failures(&self) -> &[Planted] {
        &self.failures
    }

    /// The running server.
    pub fn server(&self) -> &OktaServer {
        &self.server
    }
}

/// Starts the Acme Corp sample org for the demo period 2026-01-01..2026-06-30: users in pages
/// of 4 (3 pages) plus the DEPROVISIONED ones behind the filter, assignees in pages of 2, the
/// System Log in pages of 10, and one 429 on the first `/api/v1/users` request.
pub async fn start() -> OktaSample {
    let options = ServerOptions {
        users_page: 4,
        assignees_page: 2,
        logs_page: 10,
        rate_limit_once: Some("/api/v1/users".into()),
        ..ServerOptions::default()
    };
    let server = serve(acme(), options).await;
    OktaSample {
        server,
        failures: acme_failures(),
    }
}

/// Serves `org` on 127.0.0.1 with `options`.
pub async fn serve(org: OktaOrg, options: ServerOptions) -> OktaServer {
    let mut builder = MockServer::builder();
    if !options.record_requests {
        builder = builder.disable_request_recording();
    }
    let server = builder.start().await;
    let token = options.token.clone();
    let requests = Arc::new(AtomicU64::new(0));
    let mut responder = FakeOkta::new(org, options, server.uri());
    responder.requests = Arc::clone(&requests);
    let current = Arc::new(RwLock::new(Arc::new(responder)));
    // Lowest priority, so tests can mount narrower mocks over it.
    Mock::given(wiremock::matchers::any())
        .respond_with(Swappable(Arc::clone(&current)))
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    OktaServer {
        server,
        token,
        requests,
        current,
    }
}

struct FakeOkta {
    org: OktaOrg,
    options: ServerOptions,
    base: String,
    limited: AtomicBool,
    counters: Mutex<HashMap<&'static str, u64>>,
    requests: Arc<AtomicU64>,
    user_index: HashMap<String, usize>,
}

fn query(req: &Request) -> HashMap<String, String> {
    req.url.query_pairs().into_owned().collect()
}

fn epoch_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Okta's error body.
fn okta_error(status: u16, code: &str, summary: &str) -> ResponseTemplate {
    let body = json!({
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": format!("oae{}", &code[1..]),
        "errorCauses": []
    });
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json")
}

fn not_found(what: &str) -> ResponseTemplate {
    okta_error(
        404,
        "E0000007",
        &format!("Not found: Resource not found: {what}"),
    )
}

impl FakeOkta {
    fn new(org: OktaOrg, options: ServerOptions, base: String) -> Self {
        let user_index = org
            .users
            .iter()
            .enumerate()
            .filter_map(|(i, u)| u["id"].as_str().map(|id| (id.to_string(), i)))
            .collect();
        Self {
            user_index,
            org,
            options,
            base,
            limited: AtomicBool::new(false),
            counters: Mutex::new(HashMap::new()),
            requests: Arc::new(AtomicU64::new(0)),
        }
    }

    fn json(&self, value: &Value) -> ResponseTemplate {
        let body = value.to_string().replace("{org}", &self.base);
        ResponseTemplate::new(200).set_body_raw(body, "application/json")
    }

    /// `X-Rate-Limit-*` for one endpoint family, counting down through a one-minute window.
    fn rate_headers(&self, family: &'static str, t: ResponseTemplate) -> ResponseTemplate {
        let n = {
            let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
            let n = c.entry(family).or_insert(0);
            *n += 1;
            *n
        };
        let limit = self.options.rate_limit.max(1);
        let remaining = limit - 1 - (n - 1) % limit;
        let reset = (epoch_now() / 60 + 1) * 60;
        t.insert_header("X-Rate-Limit-Limit", limit.to_string().as_str())
            .insert_header("X-Rate-Limit-Remaining", remaining.to_string().as_str())
            .insert_header("X-Rate-Limit-Reset", reset.to_string().as_str())
    }

    fn link_page(
        &self,
        req: &Request,
        items: &[Value],
        next_after: Option<String>,
    ) -> ResponseTemplate {
        let path = req.url.path();
        let mut t = self.json(&Value::Array(items.to_vec()));
        // Okta sends one `Link` header line per link: self, then next.
        if let Some(mut this) = url_for(&self.base, path) {
            this.query_pairs_mut().extend_pairs(req.url.query_pairs());
            t = t.append_header("link", format!("<{this}>; rel=\"self\"").as_str());
        }
        if let (Some(after), Some(mut next)) = (next_after, url_for(&self.base, path)) {
            {
                let mut q = next.query_pairs_mut();
                for (k, v) in req.url.query_pairs().filter(|(k, _)| k != "after") {
                    q.append_pair(&k, &v);
                }
                q.append_pair("after", &after);
            }
            t = t.append_header("link", format!("<{next}>; rel=\"next\"").as_str());
        }
        t
    }

    fn route(&self, req: &Request) -> (&'static str, ResponseTemplate) {
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if auth != format!("SSWS {}", self.options.token) {
            return (
                "auth",
                okta_error(401, "E0000011", "Invalid token provided"),
            );
        }
        let path = req.url.path().to_string();
        if self.options.rate_limit_once.as_deref() == Some(path.as_str())
            && !self.limited.swap(true, Ordering::SeqCst)
        {
            let t = okta_error(
                429,
                "E0000047",
                "API call exceeded rate limit due to too many requests.",
            )
            .insert_header(
                "X-Rate-Limit-Limit",
                self.options.rate_limit.to_string().as_str(),
            )
            .insert_header("X-Rate-Limit-Remaining", "0")
            .insert_header("X-Rate-Limit-Reset", (epoch_now() + 1).to_string().as_str());
            return ("limited", t);
        }
        let q = query(req);
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            ["api", "v1", "users"] => ("users", self.users(req, &q)),
            ["api", "v1", "users", id, "factors"] => (
                "users",
                match self.user(id) {
                    Some(_) => self.json(&Value::Array(
                        self.org.factors.get(*id).cloned().unwrap_or_default(),
                    )),
                    None => not_found("User"),
                },
            ),
            ["api", "v1", "users", id, "roles"] => (
                "roles",
                match self.user(id) {
                    Some(_) => self.json(&Value::Array(
                        self.org.user_roles.get(*id).cloned().unwrap_or_default(),
                    )),
                    None => not_found("User"),
                },
            ),
            ["api", "v1", "iam", "assignees", "users"] => ("iam", self.assignees(&q)),
            ["api", "v1", "groups", id] => (
                "groups",
                match self.org.groups.get(*id) {
                    Some(g) => self.json(g),
                    None => not_found("UserGroup"),
                },
            ),
            ["api", "v1", "groups", id, "roles"] => (
                "groups",
                match self.org.groups.get(*id) {
                    Some(_) => self.json(&Value::Array(
                        self.org.group_roles.get(*id).cloned().unwrap_or_default(),
                    )),
                    None => not_found("UserGroup"),
                },
            ),
            ["api", "v1", "groups", id, "users"] => ("groups", self.group_users(req, id, &q)),
            ["api", "v1", "logs"] => ("logs", self.logs(req, &q)),
            ["api", "v1", "policies"] => ("policies", self.policies(&q)),
            ["api", "v1", "policies", id, "rules"] => (
                "policies",
                match self.org.policy_rules.get(*id) {
                    Some(r) => self.json(&Value::Array(r.clone())),
                    None => not_found("Policy"),
                },
            ),
            _ => ("other", not_found("path")),
        }
    }

    fn user(&self, id: &str) -> Option<&Value> {
        self.user_index.get(id).and_then(|i| self.org.users.get(*i))
    }

    fn page_limit(&self, q: &HashMap<String, String>, default: usize, cap: usize) -> usize {
        q.get("limit")
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(default)
            .clamp(1, cap.max(1))
    }

    fn users(&self, req: &Request, q: &HashMap<String, String>) -> ResponseTemplate {
        let wanted: Option<String> = match q.get("filter") {
            None => None,
            Some(f) => match f
                .strip_prefix("status eq \"")
                .and_then(|s| s.strip_suffix('"'))
            {
                Some(status) => Some(status.to_string()),
                None => {
                    return okta_error(
                        400,
                        "E0000031",
                        "Invalid search criteria. Search criteria is invalid.",
                    )
                }
            },
        };
        // Okta's rule: an unfiltered list leaves DEPROVISIONED users out.
        let listed: Vec<&Value> = self
            .org
            .users
            .iter()
            .filter(|u| match &wanted {
                Some(s) => u["status"] == s.as_str(),
                None => u["status"] != "DEPROVISIONED",
            })
            .collect();
        let limit = self.page_limit(q, 200, self.options.users_page);
        let start = match q.get("after") {
            Some(after) => match listed.iter().position(|u| u["id"] == after.as_str()) {
                Some(i) => i + 1,
                None => listed.len(),
            },
            None => 0,
        };
        let page: Vec<Value> = listed
            .iter()
            .skip(start)
            .take(limit)
            .map(|u| (*u).clone())
            .collect();
        let more = start + page.len() < listed.len();
        let next = more
            .then(|| {
                page.last()
                    .and_then(|u| u["id"].as_str())
                    .map(str::to_string)
            })
            .flatten();
        self.link_page(req, &page, next)
    }

    fn group_users(
        &self,
        req: &Request,
        gid: &str,
        q: &HashMap<String, String>,
    ) -> ResponseTemplate {
        if !self.org.groups.contains_key(gid) {
            return not_found("UserGroup");
        }
        let members: Vec<Value> = self
            .org
            .group_members
            .get(gid)
            .map(|ids| ids.iter().filter_map(|id| self.user(id).cloned()).collect())
            .unwrap_or_default();
        let limit = self.page_limit(q, 1000, self.options.users_page);
        let start = q
            .get("after")
            .and_then(|a| members.iter().position(|u| u["id"] == a.as_str()))
            .map_or(0, |i| i + 1);
        let page: Vec<Value> = members.iter().skip(start).take(limit).cloned().collect();
        let next = (start + page.len() < members.len())
            .then(|| {
                page.last()
                    .and_then(|u| u["id"].as_str())
                    .map(str::to_string)
            })
            .flatten();
        self.link_page(req, &page, next)
    }

    fn assignees(&self, q: &HashMap<String, String>) -> ResponseTemplate {
        let limit = self.page_limit(q, 100, self.options.assignees_page);
        let start: usize = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
        let value: Vec<Value> = self
            .org
            .assignees
            .iter()
            .skip(start)
            .take(limit)
            .map(|id| {
                json!({
                    "id": id,
                    "orn": format!("orn:okta:idp:00o1acmeorg000000001:users:{id}"),
                    "_links": {
                        "self": {"href": format!("{{org}}/api/v1/users/{id}")},
                        "roles": {"href": format!("{{org}}/api/v1/users/{id}/roles")}
                    }
                })
            })
            .collect();
        let end = start + value.len();
        let mut links = serde_json::Map::new();
        if end < self.org.assignees.len() {
            links.insert(
                "next".into(),
                json!({"href": format!("{{org}}/api/v1/iam/assignees/users?after={end}&limit={limit}")}),
            );
        }
        self.json(&json!({"value": value, "_links": links}))
    }

    fn logs(&self, req: &Request, q: &HashMap<String, String>) -> ResponseTemplate {
        let parse = |k: &str| {
            q.get(k)
                .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
                .map(|t| t.with_timezone(&chrono::Utc))
        };
        let (since, until) = (parse("since"), parse("until"));
        // `eventType eq "a" or eventType eq "b"`: the quoted names.
        let types: Option<BTreeSet<String>> = q.get("filter").map(|f| {
            f.split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect()
        });
        let mut events: Vec<&Value> = self
            .org
            .logs
            .iter()
            .filter(|e| {
                let published = e["published"]
                    .as_str()
                    .and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok())
                    .map(|t| t.with_timezone(&chrono::Utc));
                let Some(p) = published else { return false };
                since.is_none_or(|s| p >= s)
                    && until.is_none_or(|u| p < u)
                    && types
                        .as_ref()
                        .is_none_or(|t| e["eventType"].as_str().is_some_and(|et| t.contains(et)))
            })
            .collect();
        events.sort_by(|a, b| a["published"].as_str().cmp(&b["published"].as_str()));
        let limit = self.page_limit(q, 100, self.options.logs_page);
        let start: usize = q
            .get("after")
            .and_then(|a| a.strip_prefix("1760000000000_"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let page: Vec<Value> = events
            .iter()
            .skip(start)
            .take(limit)
            .map(|e| (*e).clone())
            .collect();
        let end = start + page.len();
        // Polling queries (no `until`) always carry a next link; bounded ones end without.
        let next = (end < events.len() || until.is_none()).then(|| format!("1760000000000_{end}"));
        self.link_page(req, &page, next)
    }

    fn policies(&self, q: &HashMap<String, String>) -> ResponseTemplate {
        let Some(kind) = q.get("type") else {
            return okta_error(
                400,
                "E0000001",
                "Api validation failed: type. The policy type is required.",
            );
        };
        let list: Vec<Value> = self
            .org
            .policies
            .iter()
            .filter(|p| p["type"] == kind.as_str())
            .cloned()
            .collect();
        self.json(&Value::Array(list))
    }
}

fn url_for(base: &str, path: &str) -> Option<url::Url> {
    url::Url::parse(&format!("{}{}", base.trim_end_matches('/'), path)).ok()
}

impl Respond for FakeOkta {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let (family, t) = self.route(req);
        let t = match family {
            "auth" | "limited" => t,
            f => self.rate_headers(f, t),
        };
        t.set_delay(self.options.latency)
    }
}

// ---------------------------------------------------------------------------------------------
// Object builders in the API's own shapes.

/// One user's lifecycle for [`user`].
#[derive(Debug, Clone, Default)]
pub struct UserSpec {
    /// Okta status.
    pub status: &'static str,
    /// `created`.
    pub created: &'static str,
    /// `activated`.
    pub activated: Option<&'static str>,
    /// `statusChanged`.
    pub status_changed: Option<&'static str>,
    /// `lastLogin`.
    pub last_login: Option<&'static str>,
    /// `passwordChanged`.
    pub password_changed: Option<&'static str>,
    /// `profile.terminationDate`.
    pub termination_date: Option<&'static str>,
}

/// A user object as `GET /api/v1/users` returns it.
pub fn user(id: &str, email: &str, name: &str, department: &str, spec: &UserSpec) -> Value {
    let (first, last) = name.split_once(' ').unwrap_or((name, ""));
    let mut profile = json!({
        "firstName": first,
        "lastName": last,
        "mobilePhone": null,
        "secondEmail": null,
        "login": email,
        "email": email,
        "department": department,
        "manager": "kemi@acme.example",
        "title": format!("{department} team"),
        "employeeNumber": format!("E{}", &id[id.len() - 4..])
    });
    if let Some(t) = spec.termination_date {
        profile["terminationDate"] = json!(t);
    }
    json!({
        "id": id,
        "status": spec.status,
        "created": spec.created,
        "activated": spec.activated,
        "statusChanged": spec.status_changed,
        "lastLogin": spec.last_login,
        "lastUpdated": spec.status_changed.unwrap_or(spec.created),
        "passwordChanged": spec.password_changed,
        "type": {"id": "oty1acmedefaultuser01"},
        "profile": profile,
        "credentials": {
            "password": {},
            "provider": {"type": "OKTA", "name": "OKTA"}
        },
        "_links": {"self": {"href": format!("{{org}}/api/v1/users/{id}")}}
    })
}

/// A factor object as `GET /api/v1/users/{id}/factors` returns it.
pub fn factor(id: &str, user_id: &str, factor_type: &str, status: &str, created: &str) -> Value {
    let (provider, profile) = match factor_type {
        "webauthn" => (
            "FIDO",
            json!({"credentialId": format!("vSOVmb{id}"), "authenticatorName": "YubiKey 5 NFC"}),
        ),
        "u2f" => (
            "FIDO",
            json!({"credentialId": format!("GAiiLsVab{id}"), "version": "U2F_V2"}),
        ),
        "signed_nonce" => (
            "OKTA",
            json!({"credentialId": format!("{user_id}"), "deviceType": "SmartPhone_IPhone", "platform": "IOS", "name": "iPhone"}),
        ),
        "push" => (
            "OKTA",
            json!({"credentialId": format!("{user_id}"), "deviceType": "SmartPhone_Android", "platform": "ANDROID", "name": "Pixel 8", "version": "34", "keys": [{"kty": "EC", "use": "sig", "kid": "default", "x": "3Y53lDoQYwzzVbjsbsPnqOnVaotIrVByQh5Sa-RwOHQ", "y": "0zHY_y9rVh-bq_-lR-MrmzdtmMP_3Q4lvG5dUEQ6GPk", "crv": "P-256"}]}),
        ),
        "token:software:totp" => ("GOOGLE", json!({"credentialId": format!("{user_id}")})),
        "sms" => ("OKTA", json!({"phoneNumber": "+1 XXX-XXX-0142"})),
        "call" => ("OKTA", json!({"phoneNumber": "+1 XXX-XXX-0177"})),
        "email" => ("OKTA", json!({"email": "x...@acme.example"})),
        _ => ("OKTA", json!({})),
    };
    json!({
        "id": id,
        "factorType": factor_type,
        "provider": provider,
        "vendorName": provider,
        "status": status,
        "created": created,
        "lastUpdated": created,
        "profile": profile,
        "_links": {
            "self": {"href": format!("{{org}}/api/v1/users/{user_id}/factors/{id}"), "hints": {"allow": ["GET", "DELETE"]}},
            "user": {"href": format!("{{org}}/api/v1/users/{user_id}"), "hints": {"allow": ["GET"]}}
        }
    })
}

/// A PENDING_ACTIVATION TOTP factor with its activation embedded — seed, QR code and
/// activation link — as Okta returns it right after enrolment starts.
pub fn pending_totp(id: &str, user_id: &str, created: &str, secret: &str) -> Value {
    let mut f = factor(
        id,
        user_id,
        "token:software:totp",
        "PENDING_ACTIVATION",
        created,
    );
    f["_embedded"] = json!({
        "activation": {
            "timeStep": 30,
            "sharedSecret": secret,
            "encoding": "base32",
            "keyLength": 16,
            "_links": {
                "qrcode": {
                    "href": format!("{{org}}/api/v1/users/{user_id}/factors/{id}/qr/20fEkqTpHRnzCDfRDp0CHk7Vy2m4CwwXdtfxt9fMB3"),
                    "type": "image/png"
                }
            }
        }
    });
    f["_links"]["activate"] = json!({
        "href": format!("{{org}}/api/v1/users/{user_id}/factors/{id}/lifecycle/activate"),
        "hints": {"allow": ["POST"]}
    });
    f
}

/// A role assignment object; `group` makes it a GROUP assignment pointing at that group.
pub fn role(id: &str, role_type: &str, label: &str, created: &str, group: Option<&str>) -> Value {
    let mut r = json!({
        "id": id,
        "label": label,
        "type": role_type,
        "status": "ACTIVE",
        "created": created,
        "lastUpdated": created,
        "assignmentType": if group.is_some() { "GROUP" } else { "USER" },
        "_links": {}
    });
    if let Some(gid) = group {
        r["_links"]["assignee"] = json!({"href": format!("{{org}}/api/v1/groups/{gid}")});
    }
    r
}

/// A party of a System Log event.
pub fn party(id: &str, kind: &str, alternate_id: &str, display_name: &str) -> Value {
    json!({"id": id, "type": kind, "alternateId": alternate_id, "displayName": display_name, "detailEntry": null})
}

/// A person as a System Log party.
pub fn person_party(p: &Person) -> Value {
    party(p.okta_id, "User", p.email, p.name)
}

/// A System Log event in the API's shape (`version` is the string `"0"`, `client.zone` the
/// string `"null"`, as real events have them).
#[allow(clippy::too_many_arguments)]
pub fn event(
    uuid: &str,
    published: &str,
    event_type: &str,
    display_message: &str,
    actor: Value,
    targets: Vec<Value>,
    result: &str,
    debug_data: Value,
) -> Value {
    let mut debug = json!({
        "requestId": format!("aFz{}", &uuid[..8]),
        "requestUri": "/api/v1/users",
        "url": "/api/v1/users?"
    });
    if let (Some(d), Some(extra)) = (debug.as_object_mut(), debug_data.as_object()) {
        d.extend(extra.clone());
    }
    json!({
        "actor": actor,
        "client": {
            "userAgent": {
                "rawUserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
                "os": "Mac OS X",
                "browser": "CHROME"
            },
            "zone": "null",
            "device": "Computer",
            "id": null,
            "ipAddress": "203.0.113.24",
            "geographicalContext": {
                "city": "Dublin",
                "state": "Leinster",
                "country": "Ireland",
                "postalCode": null,
                "geolocation": {"lat": 53.3498, "lon": -6.2603}
            }
        },
        "device": null,
        "authenticationContext": {
            "authenticationProvider": null,
            "credentialProvider": null,
            "credentialType": null,
            "issuer": null,
            "interface": null,
            "authenticationStep": 0,
            "externalSessionId": "102xAcmeSampleSession"
        },
        "displayMessage": display_message,
        "eventType": event_type,
        "outcome": {"result": result, "reason": if result == "SUCCESS" { Value::Null } else { json!("INVALID_CREDENTIALS") }},
        "published": published,
        "securityContext": {"asNumber": null, "asOrg": null, "isp": null, "domain": null, "isProxy": null},
        "severity": if result == "SUCCESS" { "INFO" } else { "WARN" },
        "debugContext": {"debugData": debug},
        "legacyEventType": null,
        "transaction": {"type": "WEB", "id": format!("Yx{}", &uuid[..12]), "detail": {}},
        "uuid": uuid,
        "version": "0",
        "request": {"ipChain": [{"ip": "203.0.113.24", "geographicalContext": null, "version": "V4", "source": null}]},
        "target": if targets.is_empty() { Value::Null } else { Value::Array(targets) }
    })
}

// ---------------------------------------------------------------------------------------------
// Acme Corp.

fn p(first: &str) -> &'static Person {
    by_first_name(first).unwrap_or(&crate::people::PEOPLE[0])
}

/// The Acme Corp org (see [`acme_failures`] for what is wrong with it).
pub fn acme() -> OktaOrg {
    let mut org = OktaOrg::default();
    let active = |created, last_login| UserSpec {
        status: "ACTIVE",
        created,
        activated: Some(created),
        status_changed: Some(created),
        last_login: Some(last_login),
        password_changed: Some("2026-01-15T09:00:00.000Z"),
        termination_date: None,
    };
    let specs: Vec<(&str, UserSpec)> = vec![
        (
            "Alice",
            active("2024-03-04T16:00:00.000Z", "2026-06-29T08:14:22.000Z"),
        ),
        (
            "Bob",
            active("2024-05-13T09:30:00.000Z", "2026-06-27T09:01:10.000Z"),
        ),
        (
            "Carol",
            active("2023-11-20T10:00:00.000Z", "2026-06-30T07:45:00.000Z"),
        ),
        (
            "Dev",
            active("2026-02-02T09:00:00.000Z", "2026-06-24T08:02:00.000Z"),
        ),
        (
            "Erin",
            active("2025-01-07T12:00:00.000Z", "2026-06-26T13:20:00.000Z"),
        ),
        (
            "Frank",
            UserSpec {
                status: "DEPROVISIONED",
                created: "2024-09-02T08:00:00.000Z",
                activated: Some("2024-09-02T08:00:00.000Z"),
                status_changed: Some("2026-03-16T10:05:00.000Z"),
                last_login: Some("2026-03-14T09:12:03.000Z"),
                password_changed: Some("2025-11-03T10:00:00.000Z"),
                termination_date: Some("2026-03-13"),
            },
        ),
        (
            "Grace",
            active("2024-02-19T08:00:00.000Z", "2026-02-10T15:30:00.000Z"),
        ),
        (
            "Hiro",
            UserSpec {
                status: "DEPROVISIONED",
                created: "2023-06-12T08:00:00.000Z",
                activated: Some("2023-06-12T08:00:00.000Z"),
                status_changed: Some("2026-04-30T18:02:00.000Z"),
                last_login: Some("2026-04-30T08:30:00.000Z"),
                password_changed: Some("2026-01-20T10:00:00.000Z"),
                termination_date: Some("2026-04-30"),
            },
        ),
        (
            "Ines",
            UserSpec {
                // A leaver after the period: the deprovisioning check does not apply yet.
                termination_date: Some("2026-08-31"),
                ..active("2025-04-01T08:00:00.000Z", "2026-06-25T10:10:00.000Z")
            },
        ),
        (
            "Jonas",
            active("2022-10-03T08:00:00.000Z", "2026-06-29T16:40:00.000Z"),
        ),
        (
            "Kemi",
            UserSpec {
                status: "PASSWORD_EXPIRED",
                status_changed: Some("2026-06-28T00:00:00.000Z"),
                ..active("2023-01-09T08:00:00.000Z", "2026-06-18T09:00:00.000Z")
            },
        ),
        (
            "Liam",
            UserSpec {
                status: "STAGED",
                created: "2026-06-25T14:00:00.000Z",
                status_changed: None,
                ..UserSpec::default()
            },
        ),
    ];
    for (first, spec) in &specs {
        let person = p(first);
        org.users.push(user(
            person.okta_id,
            person.email,
            person.name,
            person.department,
            spec,
        ));
    }
    let id = |first: &str| p(first).okta_id.to_string();
    let mut factors = |first: &str, list: Vec<Value>| {
        org.factors.insert(id(first), list);
    };
    let (alice, bob, carol, dev, erin) =
        (id("Alice"), id("Bob"), id("Carol"), id("Dev"), id("Erin"));
    factors(
        "Alice",
        vec![
            factor(
                "fwf1alicewebauthn001",
                &alice,
                "webauthn",
                "ACTIVE",
                "2024-03-05T10:00:00.000Z",
            ),
            factor(
                "opf1alicepush0000001",
                &alice,
                "push",
                "ACTIVE",
                "2024-03-04T16:10:00.000Z",
            ),
        ],
    );
    factors(
        "Bob",
        vec![
            factor(
                "opf1bobpush000000001",
                &bob,
                "push",
                "ACTIVE",
                "2024-05-13T09:40:00.000Z",
            ),
            factor(
                "uft1bobtotp000000001",
                &bob,
                "token:software:totp",
                "ACTIVE",
                "2024-05-14T11:00:00.000Z",
            ),
        ],
    );
    factors(
        "Carol",
        vec![
            factor(
                "fwf1carolwebauthn001",
                &carol,
                "webauthn",
                "ACTIVE",
                "2023-11-21T09:00:00.000Z",
            ),
            factor(
                "sn1carolfastpass0001",
                &carol,
                "signed_nonce",
                "ACTIVE",
                "2025-02-03T09:00:00.000Z",
            ),
        ],
    );
    factors(
        "Dev",
        vec![pending_totp(
            "uft1devtotppending01",
            &dev,
            "2026-02-02T09:05:00.000Z",
            PENDING_TOTP_SECRET,
        )],
    );
    factors(
        "Erin",
        vec![factor(
            "mbl1erinsms000000001",
            &erin,
            "sms",
            "ACTIVE",
            "2026-03-02T11:00:00.000Z",
        )],
    );
    factors(
        "Grace",
        vec![factor(
            "opf1gracepush0000001",
            &id("Grace"),
            "push",
            "ACTIVE",
            "2024-02-19T08:10:00.000Z",
        )],
    );
    factors(
        "Ines",
        vec![
            factor(
                "sn1inesfastpass00001",
                &id("Ines"),
                "signed_nonce",
                "ACTIVE",
                "2025-04-01T08:20:00.000Z",
            ),
            factor(
                "opf1inespush00000001",
                &id("Ines"),
                "push",
                "ACTIVE",
                "2025-04-01T08:15:00.000Z",
            ),
            factor(
                "emf1inesemail0000001",
                &id("Ines"),
                "email",
                "INACTIVE",
                "2025-04-01T08:05:00.000Z",
            ),
        ],
    );
    factors(
        "Jonas",
        vec![
            factor(
                "opf1jonaspush0000001",
                &id("Jonas"),
                "push",
                "ACTIVE",
                "2022-10-03T08:10:00.000Z",
            ),
            factor(
                "fwf1jonaswebauthn001",
                &id("Jonas"),
                "webauthn",
                "ACTIVE",
                "2024-01-08T08:10:00.000Z",
            ),
        ],
    );
    factors(
        "Kemi",
        vec![factor(
            "opf1kemipush00000001",
            &id("Kemi"),
            "push",
            "ACTIVE",
            "2023-01-09T08:10:00.000Z",
        )],
    );
    // Frank's and Hiro's factors were reset when they were deactivated; Liam has not enrolled.

    org.user_roles.insert(
        alice.clone(),
        vec![role(
            "ra1alicesuperadmin01",
            "SUPER_ADMIN",
            "Super Administrator",
            "2024-03-04T16:30:00.000Z",
            None,
        )],
    );
    let group_role = role(
        "irb1platformorgadm01",
        "ORG_ADMIN",
        "Organization Administrator",
        "2026-01-20T14:00:00.000Z",
        Some(ADMIN_GROUP_ID),
    );
    org.user_roles.insert(bob.clone(), vec![group_role.clone()]);
    org.user_roles
        .insert(carol.clone(), vec![group_role.clone()]);
    org.groups.insert(
        ADMIN_GROUP_ID.into(),
        json!({
            "id": ADMIN_GROUP_ID,
            "created": "2026-01-20T13:55:00.000Z",
            "lastUpdated": "2026-01-20T13:55:00.000Z",
            "lastMembershipUpdated": "2026-01-20T14:06:00.000Z",
            "objectClass": ["okta:user_group"],
            "type": "OKTA_GROUP",
            "profile": {"name": "Platform Admins", "description": "Okta administrators of the platform team"},
            "_links": {"users": {"href": format!("{{org}}/api/v1/groups/{ADMIN_GROUP_ID}/users")}}
        }),
    );
    org.group_members
        .insert(ADMIN_GROUP_ID.into(), vec![bob.clone(), carol.clone()]);
    org.group_roles
        .insert(ADMIN_GROUP_ID.into(), vec![group_role]);
    org.assignees = vec![alice.clone(), bob.clone(), carol.clone()];

    org.logs = acme_logs();
    acme_policies(&mut org);
    org
}

fn acme_logs() -> Vec<Value> {
    let pp = |first: &str| person_party(p(first));
    let group = party(ADMIN_GROUP_ID, "UserGroup", "unknown", "Platform Admins");
    let none = json!({});
    let mut n = 0u32;
    let mut uuid = || {
        n += 1;
        format!("8f0c1d2e-{n:04x}-11f0-9a6b-0242ac120002")
    };
    let mut logs = vec![
        event(
            &uuid(),
            "2026-01-20T14:00:00.000Z",
            "group.privilege.grant",
            "Grant group privilege",
            pp("Alice"),
            vec![group.clone()],
            "SUCCESS",
            json!({"privilegeGranted": "Organization administrator"}),
        ),
        event(
            &uuid(),
            "2026-01-20T14:05:00.000Z",
            "group.user_membership.add",
            "Add user to group membership",
            pp("Alice"),
            vec![pp("Bob"), group.clone()],
            "SUCCESS",
            none.clone(),
        ),
        event(
            &uuid(),
            "2026-01-20T14:06:00.000Z",
            "group.user_membership.add",
            "Add user to group membership",
            pp("Alice"),
            vec![pp("Carol"), group.clone()],
            "SUCCESS",
            none.clone(),
        ),
        event(
            &uuid(),
            "2026-02-02T09:00:00.000Z",
            "user.lifecycle.create",
            "Create Okta user",
            pp("Alice"),
            vec![pp("Dev")],
            "SUCCESS",
            none.clone(),
        ),
        event(
            &uuid(),
            "2026-02-02T09:01:00.000Z",
            "user.lifecycle.activate",
            "Activate Okta user",
            pp("Alice"),
            vec![pp("Dev")],
            "SUCCESS",
            none.clone(),
        ),
        // Temporary admin access: granted and revoked within the period, no longer held.
        event(
            &uuid(),
            "2026-02-03T10:00:00.000Z",
            "user.account.privilege.grant",
            "Grant user privilege",
            pp("Alice"),
            vec![pp("Jonas")],
            "SUCCESS",
            json!({"privilegeGranted": "Help Desk administrator"}),
        ),
        event(
            &uuid(),
            "2026-02-05T17:30:00.000Z",
            "user.account.privilege.revoke",
            "Revoke user privilege",
            pp("Alice"),
            vec![pp("Jonas")],
            "SUCCESS",
            json!({"privilegeRevoked": "Help Desk administrator"}),
        ),
        event(
            &uuid(),
            "2026-02-10T15:30:00.000Z",
            "user.session.start",
            "User login to Okta",
            pp("Grace"),
            vec![],
            "SUCCESS",
            none.clone(),
        ),
        event(
            &uuid(),
            "2026-03-02T11:00:00.000Z",
            "user.mfa.factor.activate",
            "Activate factor or authenticator",
            pp("Erin"),
            vec![pp("Erin")],
            "SUCCESS",
            json!({"factor": "SMS_FACTOR"}),
        ),
        event(
            &uuid(),
            "2026-03-14T09:12:03.000Z",
            "user.session.start",
            "User login to Okta",
            pp("Frank"),
            vec![],
            "SUCCESS",
            none.clone(),
        ),
        event(
            &uuid(),
            "2026-03-16T10:05:00.000Z",
            "user.lifecycle.deactivate",
            "Deactivate Okta user",
            pp("Alice"),
            vec![pp("Frank")],
            "SUCCESS",
            none.clone(),
        ),
        event(
            &uuid(),
            "2026-03-16T10:05:01.000Z",
            "user.mfa.factor.reset_all",
            "Reset all factors for user",
            pp("Alice"),
            vec![pp("Frank")],
            "SUCCESS",
            none.clone(),
        ),
        event(
            &uuid(),
            "2026-04-30T08:30:00.000Z",
            "user.session.start",
            "User login to Okta",
            pp("Hiro"),
            vec![],
            "SUCCESS",
            none.clone(),
        ),
        event(
            &uuid(),
            "2026-04-30T18:02:00.000Z",
            "user.lifecycle.deactivate",
            "Deactivate Okta user",
            pp("Carol"),
            vec![pp("Hiro")],
            "SUCCESS",
            none.clone(),
        ),
        // A deactivated account's failed sign-in is not a sign-in.
        event(
            &uuid(),
            "2026-05-12T07:55:00.000Z",
            "user.session.start",
            "User login to Okta",
            pp("Hiro"),
            vec![],
            "FAILURE",
            none.clone(),
        ),
        event(
            &uuid(),
            "2026-06-25T14:00:00.000Z",
            "user.lifecycle.create",
            "Create Okta user",
            pp("Kemi"),
            vec![pp("Liam")],
            "SUCCESS",
            none.clone(),
        ),
    ];
    for (first, at) in [
        ("Kemi", "2026-06-18T09:00:00.000Z"),
        ("Dev", "2026-06-24T08:02:00.000Z"),
        ("Ines", "2026-06-25T10:10:00.000Z"),
        ("Erin", "2026-06-26T13:20:00.000Z"),
        ("Bob", "2026-06-27T09:01:10.000Z"),
        ("Alice", "2026-06-29T08:14:22.000Z"),
        ("Jonas", "2026-06-29T16:40:00.000Z"),
        ("Carol", "2026-06-30T07:45:00.000Z"),
    ] {
        logs.push(event(
            &uuid(),
            at,
            "user.session.start",
            "User login to Okta",
            pp(first),
            vec![],
            "SUCCESS",
            none.clone(),
        ));
    }
    logs
}

fn password_policy(
    id: &str,
    name: &str,
    priority: i64,
    system: bool,
    min_length: u32,
    attempts: u32,
) -> Value {
    json!({
        "id": id,
        "status": "ACTIVE",
        "name": name,
        "description": format!("{name} for Acme Corp"),
        "priority": priority,
        "system": system,
        "type": "PASSWORD",
        "conditions": {
            "people": {"groups": {"include": ["00g1acmeeveryone0001"]}},
            "authProvider": {"provider": "OKTA"}
        },
        "settings": {
            "password": {
                "complexity": {
                    "minLength": min_length, "minLowerCase": 1, "minUpperCase": 1, "minNumber": 1,
                    "minSymbol": 0, "excludeUsername": true,
                    "dictionary": {"common": {"exclude": true}}, "excludeAttributes": []
                },
                "age": {"maxAgeDays": 0, "expireWarnDays": 0, "minAgeMinutes": 0, "historyCount": 4},
                "lockout": {
                    "maxAttempts": attempts, "autoUnlockMinutes": 0,
                    "userLockoutNotificationChannels": [], "showLockoutFailures": false
                }
            },
            "recovery": {"factors": {"recovery_question": {"status": "ACTIVE", "properties": {"complexity": {"minLength": 4}}}}},
            "delegation": {"options": {"skipUnlock": false}}
        },
        "created": "2023-01-02T08:00:00.000Z",
        "lastUpdated": "2025-09-10T12:00:00.000Z",
        "_links": {"rules": {"href": format!("{{org}}/api/v1/policies/{id}/rules"), "hints": {"allow": ["GET", "POST"]}}}
    })
}

fn acme_policies(org: &mut OktaOrg) {
    let default_pw = "00pacmedefaultpw0001";
    let admin_pw = "00pacmeadminpw000002";
    let enroll = "00pacmemfaenroll0003";
    let signon = "00pacmesignon0000004";
    org.policies = vec![
        password_policy(admin_pw, "Admin password policy", 1, false, 14, 5),
        password_policy(default_pw, "Default Policy", 2, true, 8, 10),
        json!({
            "id": enroll, "status": "ACTIVE", "name": "Default Policy", "priority": 1, "system": true,
            "type": "MFA_ENROLL",
            "conditions": {"people": {"groups": {"include": ["00g1acmeeveryone0001"]}}},
            "settings": {"type": "AUTHENTICATORS", "authenticators": [
                {"key": "okta_verify", "enroll": {"self": "REQUIRED"}},
                {"key": "webauthn", "enroll": {"self": "OPTIONAL"}},
                {"key": "phone_number", "enroll": {"self": "OPTIONAL"}}
            ]},
            "created": "2023-01-02T08:00:00.000Z", "lastUpdated": "2025-02-03T08:00:00.000Z",
            "_links": {}
        }),
        json!({
            "id": signon, "status": "ACTIVE", "name": "Default Policy", "priority": 1, "system": true,
            "type": "OKTA_SIGN_ON",
            "conditions": {"people": {"groups": {"include": ["00g1acmeeveryone0001"]}}},
            "created": "2023-01-02T08:00:00.000Z", "lastUpdated": "2025-02-03T08:00:00.000Z",
            "_links": {}
        }),
    ];
    let rule = |id: &str, name: &str, priority: i64, system: bool, kind: &str, actions: Value| {
        json!({
            "id": id, "status": "ACTIVE", "name": name, "priority": priority, "system": system,
            "type": kind, "created": "2023-01-02T08:00:00.000Z", "lastUpdated": "2025-02-03T08:00:00.000Z",
            "conditions": {"people": {"users": {"exclude": []}}, "network": {"connection": "ANYWHERE"}},
            "actions": actions
        })
    };
    let pw_actions = json!({
        "passwordChange": {"access": "ALLOW"},
        "selfServicePasswordReset": {"access": "ALLOW", "requirement": {"primary": {"methods": ["email"]}, "stepUp": {"required": true}}},
        "selfServiceUnlock": {"access": "DENY"}
    });
    org.policy_rules.insert(
        default_pw.into(),
        vec![rule(
            "0pr1acmedefpwrule001",
            "Default Rule",
            1,
            true,
            "PASSWORD",
            pw_actions.clone(),
        )],
    );
    org.policy_rules.insert(
        admin_pw.into(),
        vec![rule(
            "0pr1acmeadmpwrule001",
            "Admins",
            1,
            false,
            "PASSWORD",
            pw_actions,
        )],
    );
    org.policy_rules.insert(
        enroll.into(),
        vec![rule(
            "0pr1acmeenrollrule01",
            "Default Rule",
            1,
            true,
            "MFA_ENROLL",
            json!({"enroll": {"self": "CHALLENGE"}}),
        )],
    );
    let signon_action = |mode: &str| {
        json!({"signon": {
            "access": "ALLOW", "requireFactor": true, "factorPromptMode": mode, "rememberDeviceByDefault": false,
            "session": {"usePersistentCookie": false, "maxSessionIdleMinutes": 120, "maxSessionLifetimeMinutes": 720}
        }})
    };
    org.policy_rules.insert(
        signon.into(),
        vec![
            rule(
                "0pr1acmesignonmfa001",
                "Require MFA everywhere",
                1,
                false,
                "SIGN_ON",
                signon_action("ALWAYS"),
            ),
            rule(
                "0pr1acmesignondef001",
                "Default Rule",
                2,
                true,
                "SIGN_ON",
                signon_action("SESSION"),
            ),
        ],
    );
}

/// What is wrong with [`acme`], check by check. Everyone and everything else passes.
pub fn acme_failures() -> Vec<Planted> {
    let f = Planted::exact;
    vec![
        f("okta.mfa_enrolled", p("Dev").okta_id,
          "Dev Patel has no ACTIVE factor: only a PENDING_ACTIVATION TOTP factor, whose shared secret must not be kept"),
        f("okta.mfa_strength", p("Erin").okta_id,
          "Erin Walsh's only ACTIVE factor is SMS"),
        f("okta.admin_phishing_resistant_mfa", p("Bob").okta_id,
          "Bob Okafor is ORG_ADMIN through the Platform Admins group with only Okta Verify push and TOTP"),
        f("okta.timely_deprovisioning", p("Frank").okta_id,
          "Frank Moreau, terminated 2026-03-13, was deactivated on 2026-03-16 and signed in on 2026-03-14"),
        f("okta.dormant_accounts", p("Grace").okta_id,
          "Grace Kim is ACTIVE but last signed in on 2026-02-10, over 90 days before the period end"),
        f("okta.password_policy", "00pacmedefaultpw0001",
          "The Default password policy requires only 8 characters"),
    ]
}

// ---------------------------------------------------------------------------------------------
// A synthetic org of any size, for benchmarks.

/// A synthetic org of `n` users: every user ACTIVE with push and WebAuthn factors, one user in
/// 500 a direct SUPER_ADMIN, one admin group of 5 members, two System Log events per user and
/// the Acme policies.
pub fn synthetic(n: usize) -> OktaOrg {
    let mut org = OktaOrg::default();
    let spec = UserSpec {
        status: "ACTIVE",
        created: "2025-01-01T00:00:00.000Z",
        activated: Some("2025-01-01T00:00:00.000Z"),
        status_changed: Some("2025-01-01T00:00:00.000Z"),
        last_login: Some("2026-06-20T00:00:00.000Z"),
        password_changed: Some("2026-01-01T00:00:00.000Z"),
        termination_date: None,
    };
    let gid = "00g1syntheticadmins1";
    for i in 0..n {
        let id = format!("00u{i:017}");
        let email = format!("user{i}@example.test");
        org.users.push(user(
            &id,
            &email,
            &format!("User {i}"),
            "Engineering",
            &spec,
        ));
        org.factors.insert(
            id.clone(),
            vec![
                factor(
                    &format!("opf{i:017}"),
                    &id,
                    "push",
                    "ACTIVE",
                    "2025-01-01T00:00:00.000Z",
                ),
                factor(
                    &format!("fwf{i:017}"),
                    &id,
                    "webauthn",
                    "ACTIVE",
                    "2025-01-01T00:00:00.000Z",
                ),
            ],
        );
        if i % 500 == 0 {
            org.user_roles.insert(
                id.clone(),
                vec![role(
                    &format!("ra{i:018}"),
                    "SUPER_ADMIN",
                    "Super Administrator",
                    "2025-01-01T00:00:00.000Z",
                    None,
                )],
            );
            org.assignees.push(id.clone());
        }
        if (1..=5).contains(&i) {
            org.user_roles.insert(
                id.clone(),
                vec![role(
                    "irb1syntheticorgadm1",
                    "ORG_ADMIN",
                    "Organization Administrator",
                    "2025-01-01T00:00:00.000Z",
                    Some(gid),
                )],
            );
            org.group_members
                .entry(gid.into())
                .or_default()
                .push(id.clone());
            org.assignees.push(id.clone());
        }
        let actor = party(&id, "User", &email, &format!("User {i}"));
        org.logs.push(event(
            &format!("{i:08x}-0001-11f0-9a6b-0242ac120002"),
            &format!("2026-03-{:02}T{:02}:00:00.000Z", 1 + i % 28, i % 24),
            "user.session.start",
            "User login to Okta",
            actor.clone(),
            vec![],
            "SUCCESS",
            json!({}),
        ));
        org.logs.push(event(
            &format!("{i:08x}-0002-11f0-9a6b-0242ac120002"),
            &format!("2026-05-{:02}T{:02}:30:00.000Z", 1 + i % 28, i % 24),
            "user.mfa.factor.activate",
            "Activate factor or authenticator",
            actor.clone(),
            vec![actor],
            "SUCCESS",
            json!({}),
        ));
    }
    org.groups.insert(
        gid.into(),
        json!({"id": gid, "type": "OKTA_GROUP", "profile": {"name": "Synthetic Admins", "description": null}}),
    );
    org.group_roles.insert(
        gid.into(),
        vec![role(
            "irb1syntheticorgadm1",
            "ORG_ADMIN",
            "Organization Administrator",
            "2025-01-01T00:00:00.000Z",
            Some(gid),
        )],
    );
    acme_policies(&mut org);
    org
}

// The ledger demo's plant: an MFA gap only continuous collection can see.

/// The first ACTIVE user of `org` whose factors are all ACTIVE: someone every one-shot
/// collection passes on `okta.mfa_enrolled`.
pub fn steady_mfa_user(org: &OktaOrg) -> Option<(String, String)> {
    org.users
        .iter()
        .find(|u| {
            u["status"] == "ACTIVE"
                && u["id"].as_str().is_some_and(|id| {
                    org.factors
                        .get(id)
                        .is_some_and(|f| !f.is_empty() && f.iter().all(|f| f["status"] == "ACTIVE"))
                })
        })
        .and_then(|u| {
            Some((
                u["id"].as_str()?.to_string(),
                u["profile"]["login"].as_str().unwrap_or("user").to_string(),
            ))
        })
}

/// `org` after `user`'s factors were reset at `at`: no factors, and the System Log event
/// that says so (which is what tells an incremental collection to re-read them).
pub fn with_factors_reset(org: &OktaOrg, user: &(String, String), at: &str) -> OktaOrg {
    let mut next = org.clone();
    next.factors.insert(user.0.clone(), Vec::new());
    next.logs.push(mfa_event(
        user,
        at,
        "user.mfa.factor.deactivate",
        "Reset factor for user",
    ));
    next
}

/// `org` (after [`with_factors_reset`]) once `user` enrolled again at `at` with the factors
/// `original` held.
pub fn with_factors_back(
    org: &OktaOrg,
    original: &OktaOrg,
    user: &(String, String),
    at: &str,
) -> OktaOrg {
    let mut next = org.clone();
    if let Some(f) = original.factors.get(&user.0) {
        next.factors.insert(user.0.clone(), f.clone());
    }
    next.logs.push(mfa_event(
        user,
        at,
        "user.mfa.factor.activate",
        "Activate factor for user",
    ));
    next
}

fn mfa_event(user: &(String, String), at: &str, event_type: &str, message: &str) -> Value {
    let who = party(&user.0, "User", &user.1, &user.1);
    let uuid = format!(
        "{:08x}-0000-4000-8000-{:012x}",
        at.len() * 7919 + event_type.len(),
        at.bytes().map(u64::from).sum::<u64>()
    );
    event(
        &uuid,
        at,
        event_type,
        message,
        who.clone(),
        vec![who],
        "SUCCESS",
        json!({}),
    )
}
