//! The collector: search pages, changelog completion, remote links, records and provenance.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use soc2_evidence_core::http::{
    redact_url, Auth, CursorPager, HttpClient, HttpError, HttpResponse,
};
use soc2_evidence_core::{
    CollectContext, CollectError, Collector, EvidenceSink, EvidenceSinkExt, ProvenanceRecorder,
};

use crate::concurrent::first_failure;

use super::adf::adf_to_text;
use super::api::{
    parse_jira_time, period_jql, pull_request_ref, ChangelogPage, History, Issue, RemoteLinkWire,
    SearchPage, User, CHANGELOG_PATH, FIELDS, REMOTELINK_PATH, SEARCH_PATH,
};
use super::config::{validate_base_url, JiraAuth, JiraSettings, RemoteLinkMode};
use super::records::{ChangeTicket, JiraUser, RemoteLink, StatusTransition, CHANGE_TICKETS};
/// Changelog page size (Jira's maximum).
const CHANGELOG_PAGE: u64 = 100;
/// A ticket with more changelog pages than this is surely a server looping.
const MAX_CHANGELOG_PAGES: u64 = 10_000;

/// Collects change tickets from Jira Cloud.
#[derive(Debug, Clone)]
pub struct JiraCollector {
    settings: JiraSettings,
    client: HttpClient,
}

/// What the per-ticket requests returned, kept in ticket order so provenance digests are
/// deterministic although the requests run concurrently.
#[derive(Default)]
struct Extras {
    changelog_pages: Vec<HttpResponse>,
    histories: Option<Vec<History>>,
    /// The largest `total` the changelog pages reported, and whether the last said `isLast`.
    changelog_reported: Option<(u64, bool)>,
    remote: Option<(HttpResponse, Vec<RemoteLinkWire>)>,
}

/// A failed request: the order it was sent in, and why it failed.
type Failed = (usize, HttpError);

/// One ticket's extras: `None` when it was not fetched because an earlier request failed.
type ExtrasFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = (usize, Result<Option<Extras>, Failed>)> + Send + 'a>,
>;

/// Numbers requests in the order they are sent, so that of several concurrent failures the
/// first sent is reported (see `crate::concurrent`).
#[derive(Default)]
struct SendOrder(AtomicUsize);

impl SendOrder {
    fn next(&self) -> usize {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}

impl JiraCollector {
    /// Builds the collector; fails when the base URL is not a site root or the credentials
    /// cannot be put in a header.
    pub fn new(settings: JiraSettings) -> Result<Self, CollectError> {
        validate_base_url(&settings.base_url).map_err(CollectError::Config)?;
        let auth = match &settings.auth {
            JiraAuth::Basic { email, token } => Auth::Basic {
                username: email.clone(),
                password: token.clone(),
            },
            JiraAuth::Bearer(t) => Auth::Bearer(t.clone()),
        };
        let client = HttpClient::builder(&settings.base_url)
            .auth(auth)
            .retry(settings.retry.clone())
            .timeout(settings.timeout)
            .retry_classifier(super::JiraRetry)
            .build()
            .map_err(|e| CollectError::Config(e.to_string()))?;
        Ok(Self { settings, client })
    }

    /// The settings in use.
    pub fn settings(&self) -> &JiraSettings {
        &self.settings
    }

    fn site(&self) -> String {
        redact_url(self.client.base_url())
            .trim_end_matches('/')
            .to_string()
    }

    /// Turns an HTTP failure into a message that says what to change.
    fn explain(&self, e: HttpError) -> CollectError {
        let site = self.site();
        let endpoint = e.endpoint().unwrap_or("?").to_string();
        match e.status() {
            Some(410) => CollectError::Config(format!(
                "Jira at {site} answered 410 Gone for {endpoint}: that API has been removed. Set \
                 [jira] base_url to the site root (e.g. https://acme.atlassian.net, without any \
                 /rest/... path); the collector searches with /rest/api/3/search/jql, which \
                 replaced /rest/api/2/search and /rest/api/3/search"
            )),
            Some(401) => CollectError::Source(format!(
                "Jira at {site} rejected the credentials (401 Unauthorized) for {endpoint}: check \
                 that the e-mail and API token belong to the same Atlassian account and that the \
                 token is not expired or revoked (or that the bearer token is valid for this site)"
            )),
            Some(403) => CollectError::Source(format!(
                "Jira at {site} refused access (403 Forbidden) for {endpoint}: the account needs \
                 the Browse projects permission on the projects the JQL selects"
            )),
            Some(404) if endpoint.contains("/search/jql") => CollectError::Config(format!(
                "Jira at {site} has no {SEARCH_PATH} (404 for {endpoint}): check that base_url \
                 is the Jira Cloud site root, e.g. https://acme.atlassian.net"
            )),
            _ => CollectError::Http(e),
        }
    }

    fn wants_remote_links(&self, issue: &Issue) -> bool {
        match self.settings.remote_links {
            RemoteLinkMode::All => true,
            RemoteLinkMode::None => false,
            RemoteLinkMode::Done => self
                .settings
                .workflow
                .is_done(issue.fields.status.as_ref().and_then(|s| s.name.as_deref())),
        }
    }

    /// The path segment for a ticket: its key when it looks like one, else its id.
    fn issue_ref(issue: &Issue) -> &str {
        let key_ok = !issue.key.is_empty()
            && issue
                .key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if key_ok {
            &issue.key
        } else {
            &issue.id
        }
    }

    /// Fetches what the search page lacks for one ticket: the full changelog when the
    /// embedded one is truncated, and remote links when wanted.
    async fn extras(&self, issue: &Issue, order: &SendOrder) -> Result<Extras, Failed> {
        let mut out = Extras::default();
        let key = Self::issue_ref(issue);
        let truncated = issue.changelog.as_ref().is_none_or(|c| c.is_truncated());
        if truncated {
            let path = format!("/rest/api/3/issue/{key}/changelog");
            let mut histories = Vec::new();
            let mut start: u64 = 0;
            for _ in 0..MAX_CHANGELOG_PAGES {
                let (s, m) = (start.to_string(), CHANGELOG_PAGE.to_string());
                let sent = order.next();
                let resp = self
                    .client
                    .get(&path, &[("startAt", &s), ("maxResults", &m)])
                    .await
                    .map_err(|e| (sent, e))?;
                let page: ChangelogPage = resp.json().map_err(|e| (sent, e))?;
                out.changelog_pages.push(resp);
                let n = page.values.len() as u64;
                let next = page.start_at.max(start) + n;
                histories.extend(page.values);
                let is_last = page.is_last.unwrap_or(false);
                if let Some(t) = page.total {
                    let (before, _) = out.changelog_reported.unwrap_or((0, false));
                    out.changelog_reported = Some((before.max(t), is_last));
                }
                let done = is_last || n == 0 || page.total.is_some_and(|t| next >= t);
                if done {
                    break;
                }
                start = next;
            }
            out.histories = Some(histories);
        }
        if self.wants_remote_links(issue) {
            let path = format!("/rest/api/3/issue/{key}/remotelink");
            let sent = order.next();
            let resp = self.client.get(&path, &[]).await.map_err(|e| (sent, e))?;
            let links: Vec<RemoteLinkWire> = resp.json().map_err(|e| (sent, e))?;
            out.remote = Some((resp, links));
        }
        Ok(out)
    }

    fn user(u: &Option<User>) -> Option<JiraUser> {
        u.as_ref().and_then(User::to_record)
    }

    fn time(
        key: &str,
        what: &str,
        raw: Option<&str>,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, CollectError> {
        match raw {
            None => Ok(None),
            Some(r) if r.trim().is_empty() => Ok(None),
            Some(r) => parse_jira_time(r).map(Some).ok_or_else(|| {
                CollectError::Source(format!("{key}: {what} {r:?} is not a Jira timestamp"))
            }),
        }
    }

    /// Builds the record from the search result and the extras.
    fn ticket(&self, issue: Issue, extras: &mut Extras) -> Result<ChangeTicket, CollectError> {
        let key = issue.key.clone();
        let f = issue.fields;
        let embedded = issue.changelog;
        let changelog_completed = extras.histories.is_some();
        let reported = extras.changelog_reported.map(|(t, _)| t);
        let (mut histories, total) = match (extras.histories.take(), embedded) {
            (Some(h), e) => {
                let n = h.len() as u64;
                let embedded_total = e.and_then(|e| e.total);
                (h, embedded_total.max(reported).unwrap_or(n).max(n))
            }
            (None, Some(e)) => {
                let n = e.histories.len() as u64;
                (e.histories, e.total.unwrap_or(n))
            }
            (None, None) => (Vec::new(), 0),
        };
        // Oldest first, once each: the embedded changelog may be newest first.
        let mut timed = Vec::with_capacity(histories.len());
        let mut seen = std::collections::HashSet::new();
        for h in histories.drain(..) {
            if !seen.insert(h.id.clone()) {
                continue;
            }
            let at =
                Self::time(&key, "changelog history time", Some(&h.created))?.ok_or_else(|| {
                    CollectError::Source(format!("{key}: history {} has no time", h.id))
                })?;
            timed.push((at, h));
        }
        timed.sort_by(|(a, x), (b, y)| {
            a.cmp(b).then_with(|| {
                let (i, j) = (x.id.parse::<u64>().ok(), y.id.parse::<u64>().ok());
                i.cmp(&j).then_with(|| x.id.cmp(&y.id))
            })
        });
        let changelog_received = timed.len() as u64;
        let mut status_history = Vec::new();
        for (at, h) in &timed {
            for item in h.items.iter().filter(|i| i.is_status()) {
                status_history.push(StatusTransition {
                    at: *at,
                    from_id: item.from.clone(),
                    from: item.from_string.clone(),
                    to_id: item.to.clone(),
                    to: item.to_string.clone(),
                    author: Self::user(&h.author),
                    history_id: h.id.clone(),
                });
            }
        }

        let approvers = match self
            .settings
            .approvers_field
            .as_deref()
            .and_then(|f_id| f.other.get(f_id))
        {
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|v| serde_json::from_value::<User>(v.clone()).ok())
                .filter_map(|u| u.to_record())
                .collect(),
            Some(v @ serde_json::Value::Object(_)) => serde_json::from_value::<User>(v.clone())
                .ok()
                .and_then(|u| u.to_record())
                .into_iter()
                .collect(),
            _ => Vec::new(),
        };

        let remote_links = extras.remote.as_ref().map(|(_, links)| {
            links
                .iter()
                .map(|l| {
                    let app_type = l.application.as_ref().and_then(|a| a.kind.clone());
                    let app_name = l.application.as_ref().and_then(|a| a.name.clone());
                    let github_app = app_type
                        .iter()
                        .chain(app_name.iter())
                        .any(|s| s.to_ascii_lowercase().contains("github"));
                    let url = l
                        .object
                        .as_ref()
                        .and_then(|o| o.url.clone())
                        .unwrap_or_default();
                    RemoteLink {
                        id: match &l.id {
                            Some(serde_json::Value::String(s)) => s.clone(),
                            Some(v) => v.to_string(),
                            None => String::new(),
                        },
                        pull_request: pull_request_ref(
                            &url,
                            &self.settings.github_hosts,
                            github_app,
                        ),
                        title: l
                            .object
                            .as_ref()
                            .and_then(|o| o.title.clone())
                            .unwrap_or_default(),
                        url,
                        application_type: app_type,
                        application_name: app_name,
                        relationship: l.relationship.clone(),
                    }
                })
                .collect()
        });

        let created = Self::time(&key, "created", f.created.as_deref())?.ok_or_else(|| {
            CollectError::Source(format!("{key}: the ticket has no created time"))
        })?;
        Ok(ChangeTicket {
            url: format!("{}/browse/{}", self.site(), key),
            id: issue.id,
            summary: f.summary.unwrap_or_default(),
            issue_type: f.issuetype.and_then(|t| t.name),
            status_id: f.status.as_ref().and_then(|s| s.id.clone()),
            status_category: f
                .status
                .as_ref()
                .and_then(|s| s.status_category.as_ref())
                .and_then(|c| c.key.clone()),
            status: f.status.and_then(|s| s.name),
            reporter: Self::user(&f.reporter),
            assignee: Self::user(&f.assignee),
            created,
            updated: Self::time(&key, "updated", f.updated.as_deref())?,
            resolution: f.resolution.and_then(|r| r.name),
            resolution_date: Self::time(&key, "resolutiondate", f.resolutiondate.as_deref())?,
            description: f.description.as_ref().map(adf_to_text).unwrap_or_default(),
            approvers,
            status_history,
            changelog_total: total,
            changelog_completed,
            changelog_received,
            changelog_complete: changelog_received >= total,
            remote_links,
            key,
        })
    }
}

/// Records a search page into provenance with its query parameters, as `get_recorded` would;
/// done by hand because the page is fetched ahead, before the recorder is free.
fn record_page(rec: &mut ProvenanceRecorder, endpoint: &str, resp: &HttpResponse) {
    let params: Vec<(String, String)> = resp
        .url()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    rec.page(resp.method(), endpoint, &refs, resp.body());
}

#[async_trait]
impl Collector for JiraCollector {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn collector_type(&self) -> &str {
        super::module::TYPE
    }

    async fn collect(
        &self,
        ctx: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let period = ctx.period();
        let end_exclusive = period.end_exclusive_utc().date_naive();
        let jql = period_jql(&self.settings.jql, period.start(), end_exclusive);
        let mut fields: Vec<&str> = FIELDS.to_vec();
        if let Some(f) = self.settings.approvers_field.as_deref() {
            fields.push(f);
        }
        let fields = fields.join(",");
        let page_size = self.settings.page_size.clamp(1, 100).to_string();

        let mut out = sink.open(&CHANGE_TICKETS)?;
        let rec = out.provenance();
        rec.base_url(self.site());
        rec.note(format!("JQL: {jql}"));
        rec.note(
            "JQL dates are compared in the time zone of the Jira account running the search; \
             timestamps in the records are UTC",
        );

        let mut pager = CursorPager::new();
        let mut search_endpoint = SEARCH_PATH.to_string();
        let (mut tickets, mut completed, mut changelog_requests, mut link_requests) =
            (0u64, 0u64, 0u64, 0u64);
        let order = SendOrder::default();
        let mut incomplete_changelogs: Vec<String> = Vec::new();
        // Set at the first failed per-ticket request: tickets not yet started then send
        // nothing, so a broken server fails the collector promptly.
        let stop = AtomicBool::new(false);
        let search = |cursor: Option<String>| {
            let (jql, page_size, fields, order) = (&jql, &page_size, &fields, &order);
            async move {
                let mut query: Vec<(&str, &str)> = vec![
                    ("jql", jql.as_str()),
                    ("maxResults", page_size.as_str()),
                    ("fields", fields.as_str()),
                    ("expand", "changelog"),
                ];
                if let Some(token) = cursor.as_deref() {
                    query.push(("nextPageToken", token));
                }
                let sent = order.next();
                self.client
                    .get(SEARCH_PATH, &query)
                    .await
                    .map_err(|e| (sent, e))
            }
        };
        let mut next_resp = Some(search(None).await);
        while let Some(resp) = next_resp.take() {
            ctx.check_cancelled()?;
            let resp = resp.map_err(|(_, e)| self.explain(e))?;
            search_endpoint = resp.url().path().to_string();
            record_page(out.provenance(), &search_endpoint, &resp);
            let page: SearchPage = resp.json()?;
            drop(resp);
            out.provenance()
                .received(&search_endpoint, page.issues.len() as u64);

            let next = match (page.is_last, page.next_page_token) {
                (Some(true), _) => None,
                (_, Some(t)) if !t.is_empty() => Some(t),
                (Some(false), _) => {
                    return Err(CollectError::Source(format!(
                        "{search_endpoint}: a page said isLast=false but gave no nextPageToken; \
                         the population would be incomplete"
                    )))
                }
                (None, _) => None,
            };
            pager.set_next(next);
            // The next search page is fetched while this page's per-ticket requests run.
            let prefetch = async {
                match pager.cursor().filter(|_| pager.has_next()) {
                    Some(c) => Some(search(Some(c.to_string())).await),
                    None => None,
                }
            };

            // Unordered, so one slow ticket (a long changelog) does not hold back the slots of
            // those behind it; results are put back in ticket order before anything is recorded,
            // so provenance stays deterministic. Boxed futures sidestep a higher-ranked
            // lifetime limitation of async_trait with closure-mapped streams.
            let mut futures: Vec<ExtrasFuture<'_>> = Vec::with_capacity(page.issues.len());
            let (order, stop) = (&order, &stop);
            for (i, issue) in page.issues.iter().enumerate() {
                futures.push(Box::pin(async move {
                    if stop.load(Ordering::Relaxed) {
                        return (i, Ok(None));
                    }
                    let result = self.extras(issue, order).await;
                    if result.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    (i, result.map(Some))
                }));
            }
            let per_ticket = stream::iter(futures)
                .buffer_unordered(self.settings.concurrency.max(1))
                .collect::<Vec<(usize, Result<Option<Extras>, Failed>)>>();
            let (mut extras, prefetched) = futures::join!(per_ticket, prefetch);
            extras.sort_by_key(|(i, _)| *i);
            let mut failures = Vec::new();
            let mut fetched = Vec::with_capacity(extras.len());
            for (_, r) in extras {
                match r {
                    Ok(x) => fetched.push(x),
                    Err(f) => failures.push(f),
                }
            }
            // A failed prefetch alone surfaces on the next turn, after this page is written;
            // alongside per-ticket failures it is one of them.
            next_resp = match prefetched {
                Some(Err(f)) if !failures.is_empty() => {
                    failures.push(f);
                    None
                }
                other => other,
            };
            if let Some(e) = first_failure(failures, |e| self.explain(e)) {
                return Err(e);
            }
            for (issue, extras) in page.issues.into_iter().zip(fetched) {
                // Only skipped after a failure, and a failure returned above.
                let mut extras = extras.ok_or_else(|| {
                    CollectError::Source(format!(
                        "internal: the extra requests of {} were skipped without a failure",
                        issue.key
                    ))
                })?;
                let key = Self::issue_ref(&issue).to_string();
                for (i, p) in extras.changelog_pages.iter().enumerate() {
                    let start = p
                        .url()
                        .query_pairs()
                        .find(|(k, _)| k == "startAt")
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default();
                    out.provenance().page(
                        "GET",
                        CHANGELOG_PATH,
                        &[
                            ("issueIdOrKey", &key),
                            ("startAt", &start),
                            ("maxResults", "100"),
                        ],
                        p.body(),
                    );
                    changelog_requests += 1;
                    if i == 0 {
                        completed += 1;
                    }
                }
                if let Some((resp, _)) = &extras.remote {
                    out.provenance().page(
                        "GET",
                        REMOTELINK_PATH,
                        &[("issueIdOrKey", &key)],
                        resp.body(),
                    );
                    link_requests += 1;
                }
                let last_said = extras.changelog_reported.map(|(_, l)| l);
                let ticket = self.ticket(issue, &mut extras)?;
                if !ticket.changelog_complete {
                    incomplete_changelogs.push(format!(
                        "{}: {} of {} changelog entries received{}",
                        ticket.key,
                        ticket.changelog_received,
                        ticket.changelog_total,
                        if last_said == Some(true) {
                            " (the last page said isLast: true)"
                        } else {
                            ""
                        }
                    ));
                }
                out.emit(&ticket)?;
                tickets += 1;
            }
            ctx.message(&format!("{tickets} change tickets"));
        }
        if pager.stalled() {
            return Err(CollectError::Source(format!(
                "{search_endpoint}: Jira returned the same nextPageToken twice; stopped to avoid \
                 a loop, so the population would be incomplete"
            )));
        }
        let mode = match self.settings.remote_links {
            RemoteLinkMode::Done => format!(
                "for tickets in a done status ({})",
                self.settings.workflow.done_statuses.join(", ")
            ),
            RemoteLinkMode::All => "for every ticket".into(),
            RemoteLinkMode::None => "for no ticket (remote_links = \"none\")".into(),
        };
        out.provenance().note(format!(
            "{tickets} tickets from {} search page(s); {completed} truncated embedded \
             changelog(s) completed from {CHANGELOG_PATH} in {changelog_requests} request(s); \
             remote links fetched {mode} in {link_requests} request(s)",
            pager.pages()
        ));
        if !incomplete_changelogs.is_empty() {
            out.provenance().note(format!(
                "Changelog incomplete for {} ticket(s): Jira reported more entries (total) than \
                 it returned; their records say changelog_complete: false and their approval \
                 is not judged: {}",
                incomplete_changelogs.len(),
                incomplete_changelogs.join("; ")
            ));
        }
        out.finish()?;
        Ok(())
    }
}
