//! The `Collector`: merged PRs over GraphQL, branch rules over REST.

use std::collections::{BTreeSet, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::http::{CursorPager, HttpError, LinkPager};
use soc2_evidence_core::{
    AuditPeriod, BuildContext, CollectContext, CollectError, Collector, EvidenceSink,
    EvidenceSinkExt, PopulationWriter, ProvenanceRecorder,
};

use super::api::{
    encode_branch, EventConnection, EventNode, GitActorNode, GithubApi, HistoryData, MergedPrsData,
    OrgRepo, PageInfo, PrChild, PrChildData, PrNode, RepoInfoData, ReviewConnection, ReviewNode,
    DISMISSALS_QUERY, HISTORY_QUERY, MERGED_PRS_QUERY, REPO_INFO_QUERY, REVIEWS_QUERY,
};
use super::checks::{evaluate_approval_with, RULE_SUITE_RETENTION};
use super::config::{GithubSettings, RepoScope};
use super::records::{
    Actor, ApprovalDecision, AssociatedPr, BranchRules, Commit, Dismissal, GitPerson, Landing,
    Protection, PullRequest, PullRequestRule, Review, RuleSuite, RuleSuiteRecord, RuleSuites,
    Ruleset, BRANCH_RULES, COMMITS, PULL_REQUESTS, RULE_SUITES,
};

/// How far back `time_period=month` reaches (GitHub: 730 hours).
const RULE_SUITE_WINDOW_HOURS: i64 = 730;

/// Collects merged pull requests with their reviews (GraphQL) and the branch's protection,
/// rulesets and rule-suite bypasses (REST) into `<instance>/pull_requests.jsonl` and
/// `<instance>/branch_rules.jsonl`.
#[derive(Debug, Clone)]
pub struct GithubCollector {
    name: String,
    settings: GithubSettings,
    api: GithubApi,
}

/// A repository and the branch to collect.
#[derive(Debug, Clone)]
struct Target {
    owner: String,
    name: String,
    branch: String,
    /// `branch` is the repository's default branch (no `branch` configured).
    is_default: bool,
}

impl Target {
    fn full(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

impl GithubCollector {
    /// Builds the collector for the instance `ctx` names; fails on unusable settings,
    /// naming the instance's section.
    pub fn new(settings: GithubSettings, ctx: &BuildContext<'_>) -> Result<Self, ConfigError> {
        settings.validate(ctx)?;
        let api = GithubApi::new(&settings).map_err(|e| ctx.invalid("api_url", e.to_string()))?;
        Ok(Self {
            name: ctx.instance().to_string(),
            settings,
            api,
        })
    }

    /// The settings in use.
    pub fn settings(&self) -> &GithubSettings {
        &self.settings
    }

    async fn targets(
        &self,
        ctx: &CollectContext,
        rec: &mut ProvenanceRecorder,
    ) -> Result<Vec<Target>, CollectError> {
        let mut out = Vec::new();
        match &self.settings.scope {
            RepoScope::Org(org) => {
                let path = format!("/orgs/{org}/repos");
                let mut pager = LinkPager::new(&path, &[("type", "all"), ("per_page", "100")]);
                let mut archived = Vec::new();
                while let Some(page) = pager.next_page(self.api.client(), rec).await? {
                    ctx.check_cancelled()?;
                    let repos: Vec<OrgRepo> = page.json()?;
                    for r in repos {
                        let Some((owner, name)) = r.full_name.split_once('/') else {
                            continue;
                        };
                        if r.archived {
                            archived.push(r.full_name.clone());
                            continue;
                        }
                        let branch = match (&self.settings.branch, r.default_branch) {
                            (Some(b), _) => b.clone(),
                            (None, Some(b)) => b,
                            (None, None) => continue,
                        };
                        out.push(Target {
                            owner: owner.into(),
                            name: name.into(),
                            branch,
                            is_default: self.settings.branch.is_none(),
                        });
                    }
                }
                rec.note(format!(
                    "scope: every non-archived repository of organisation {org} ({} listed by GET /orgs/{org}/repos?type=all); archived and skipped: {}",
                    out.len(),
                    if archived.is_empty() { "none".to_string() } else { archived.join(", ") }
                ));
            }
            RepoScope::Repos(repos) => {
                for full in repos {
                    let Some((owner, name)) = full.split_once('/') else {
                        continue;
                    };
                    let branch = match &self.settings.branch {
                        Some(b) => b.clone(),
                        None => {
                            let data: RepoInfoData = self
                                .api
                                .graphql(
                                    rec,
                                    "RepositoryInfo",
                                    REPO_INFO_QUERY,
                                    json!({"owner": owner, "name": name}),
                                    full,
                                )
                                .await?;
                            let info = data.repository.ok_or_else(|| {
                                CollectError::Source(format!(
                                    "GitHub GraphQL RepositoryInfo: repository {full} not found"
                                ))
                            })?;
                            if info.is_archived {
                                rec.note(format!(
                                    "{full}: archived (collected because it is listed in `repos`)"
                                ));
                            }
                            match info.default_branch_ref {
                                Some(b) => b.name,
                                None => {
                                    rec.note(format!(
                                        "{full}: no default branch (empty repository); skipped"
                                    ));
                                    continue;
                                }
                            }
                        }
                    };
                    out.push(Target {
                        owner: owner.into(),
                        name: name.into(),
                        branch,
                        is_default: self.settings.branch.is_none(),
                    });
                }
                rec.note(format!("scope: repositories {}", repos.join(", ")));
            }
        }
        Ok(out)
    }

    /// The branch's history in the period, one GraphQL request per 100 commits. Returns the
    /// merged pull requests that account for its commits (their merge commit is in this
    /// history, or their base is the branch), and whether every commit GitHub counted was
    /// received.
    async fn collect_commits(
        &self,
        ctx: &CollectContext,
        out: &mut PopulationWriter<Commit>,
        t: &Target,
    ) -> Result<(BTreeSet<u64>, bool), CollectError> {
        let period = ctx.period();
        let fmt = "%Y-%m-%dT%H:%M:%SZ";
        let since = period.start_utc().format(fmt).to_string();
        let until = (period.end_exclusive_utc() - chrono::Duration::seconds(1))
            .format(fmt)
            .to_string();
        let endpoint = url_path(self.api.graphql_endpoint());
        let mut pager = CursorPager::new();
        let mut total = None;
        let mut commits = Vec::new();
        while pager.has_next() {
            ctx.check_cancelled()?;
            let vars = json!({
                "owner": t.owner, "name": t.name, "useDefault": t.is_default,
                "qualifiedName": format!("refs/heads/{}", t.branch),
                "since": since, "until": until, "cursor": pager.cursor(),
            });
            let data: HistoryData = self
                .api
                .graphql(
                    out.provenance(),
                    "BranchHistory",
                    HISTORY_QUERY,
                    vars,
                    &t.full(),
                )
                .await?;
            let repo = data.repository.ok_or_else(|| {
                CollectError::Source(format!(
                    "GitHub GraphQL BranchHistory: repository {} not found",
                    t.full()
                ))
            })?;
            let reference = if t.is_default {
                repo.default_branch_ref
            } else {
                repo.reference
            };
            let history = reference
                .and_then(|r| r.target)
                .and_then(|target| target.history)
                .ok_or_else(|| {
                    CollectError::Source(format!(
                        "GitHub GraphQL BranchHistory: {} has no branch {} with a commit history",
                        t.full(),
                        t.branch
                    ))
                })?;
            total.get_or_insert(history.total_count);
            for node in history.nodes.into_iter().flatten() {
                let associated = node.associated_pull_requests;
                let pull_requests_total = associated.as_ref().map_or(0, |a| a.total_count);
                let c = Commit {
                    repo: t.full(),
                    branch: t.branch.clone(),
                    oid: node.oid,
                    committed_at: node.committed_date,
                    message_headline: node.message_headline,
                    author: git_person(node.author),
                    committer: git_person(node.committer),
                    pull_requests: associated
                        .map(|a| a.nodes)
                        .unwrap_or_default()
                        .into_iter()
                        .flatten()
                        .map(|p| AssociatedPr {
                            number: p.number,
                            merged: p.merged,
                            base_branch: p.base_ref_name,
                            merge_commit: p.merge_commit.map(|m| m.oid),
                        })
                        .collect(),
                    pull_requests_total,
                };
                out.emit(&c)?;
                commits.push(c);
            }
            pager.set_next(
                history
                    .page_info
                    .end_cursor
                    .filter(|_| history.page_info.has_next_page),
            );
        }
        let history: HashSet<String> = commits.iter().map(|c| c.oid.clone()).collect();
        let (mut landed, mut direct, mut unknown) = (BTreeSet::new(), 0u64, 0u64);
        let mut via_pr = 0u64;
        for c in &commits {
            match c.landing(&history) {
                Landing::PullRequest(n) => {
                    via_pr += 1;
                    landed.insert(n);
                }
                Landing::DirectPush => direct += 1,
                Landing::Unknown => unknown += 1,
            }
        }
        let received = commits.len() as u64;
        let total = total.unwrap_or(0);
        let rec = out.provenance();
        rec.received(&endpoint, received);
        rec.reported(&endpoint, total);
        let whole = received == total && !pager.stalled();
        rec.note(format!(
            "{}: history of {} committed {since}..{until}: totalCount {total}, {received} received; {via_pr} via {} merged pull request(s), {direct} direct push(es), {unknown} undetermined (more associated pull requests than read){}",
            t.full(),
            t.branch,
            landed.len(),
            if whole { "" } else { " — COUNTS DIFFER: the history is incomplete for this repository" },
        ));
        Ok((landed, whole))
    }

    async fn collect_pulls(
        &self,
        ctx: &CollectContext,
        out: &mut PopulationWriter<PullRequest>,
        t: &Target,
        landed: &BTreeSet<u64>,
    ) -> Result<(), CollectError> {
        let period = ctx.period();
        let start = period.start_utc();
        let last_second = period.end_exclusive_utc() - chrono::Duration::seconds(1);
        let fmt = "%Y-%m-%dT%H:%M:%S+00:00";
        // No `base:` qualifier: a PR based on `master` before a rename to `main` landed on
        // the branch too. The count is reconciled against those written plus those merged
        // into other branches.
        let search = format!(
            "repo:{} is:pr is:merged merged:{}..{}",
            t.full(),
            start.format(fmt),
            last_second.format(fmt)
        );
        let endpoint = url_path(self.api.graphql_endpoint());
        let mut pager = CursorPager::new();
        let (mut scanned, mut emitted, mut outside, mut elsewhere) = (0u64, 0u64, 0u64, 0u64);
        let mut total = None;
        let mut search_count = None;
        let mut stopped_on_date = false;
        while pager.has_next() {
            ctx.check_cancelled()?;
            let first = pager.cursor().is_none();
            let vars = json!({
                "owner": t.owner, "name": t.name,
                "pageSize": self.settings.page_size, "cursor": pager.cursor(),
                "withCount": first, "searchQuery": search,
            });
            let data: MergedPrsData = self
                .api
                .graphql(
                    out.provenance(),
                    "MergedPullRequests",
                    MERGED_PRS_QUERY,
                    vars,
                    &t.full(),
                )
                .await?;
            let conn = data
                .repository
                .ok_or_else(|| {
                    CollectError::Source(format!(
                        "GitHub GraphQL MergedPullRequests: repository {} not found",
                        t.full()
                    ))
                })?
                .pull_requests;
            total.get_or_insert(conn.total_count);
            if let Some(s) = data.search {
                search_count.get_or_insert(s.issue_count);
            }
            for node in conn.nodes.into_iter().flatten() {
                scanned += 1;
                // Ordered by UPDATED_AT DESC: a PR merged in the period was updated no earlier
                // than its merge, so once updatedAt falls before the period nothing later can
                // belong to it.
                if node.updated_at < start {
                    stopped_on_date = true;
                    break;
                }
                let Some(merged_at) = node.merged_at else {
                    continue;
                };
                if !period.contains(merged_at) {
                    outside += 1;
                    continue;
                }
                // Landed on the branch: based on it, or (whatever its base was called then)
                // its merge commit is in the branch's history.
                if node.base_ref_name != t.branch && !landed.contains(&node.number) {
                    elsewhere += 1;
                    continue;
                }
                let pr = self
                    .pull_request(out.provenance(), t, node, merged_at)
                    .await?;
                out.emit(&pr)?;
                emitted += 1;
            }
            let next = conn
                .page_info
                .end_cursor
                .filter(|_| conn.page_info.has_next_page && !stopped_on_date);
            pager.set_next(next);
        }
        let rec = out.provenance();
        rec.received(&endpoint, emitted);
        if let Some(n) = search_count {
            // Search counts every base branch; those seen merged elsewhere are not the
            // population's.
            rec.reported(&endpoint, n.saturating_sub(elsewhere));
        }
        let mut note = format!(
            "{}: branch {}; pullRequests(states: MERGED).totalCount = {} (all time, every base branch); {} scanned newest-updated first{}; {} merged in the period that landed on {} written (base {} or merge commit in its history); {} merged into other branches skipped; {} outside the period skipped; GitHub search `{search}` reports {}",
            t.full(),
            t.branch,
            total.unwrap_or(0),
            scanned,
            if stopped_on_date { ", stopping where updatedAt fell before the period" } else { " (the whole list)" },
            emitted,
            t.branch,
            t.branch,
            elsewhere,
            outside,
            search_count.map_or("no count".to_string(), |n| n.to_string()),
        );
        if search_count.is_some_and(|n| n != emitted + elsewhere) {
            note.push_str(" — COUNTS DIFFER: GitHub's search index can lag recent merges; compare before relying on completeness");
            tracing::warn!(repo = %t.full(), emitted, search = ?search_count, "merged PR count differs from GitHub search");
        }
        if pager.stalled() {
            note.push_str(
                " — paging stopped: GitHub repeated a cursor; the list may be incomplete",
            );
        }
        rec.note(note);
        Ok(())
    }

    async fn pull_request(
        &self,
        rec: &mut ProvenanceRecorder,
        t: &Target,
        node: PrNode,
        merged_at: DateTime<Utc>,
    ) -> Result<PullRequest, CollectError> {
        let mut reviews: Vec<Review> = Vec::new();
        let mut dismissals: Vec<Dismissal> = Vec::new();
        self.extend_reviews(rec, t, node.number, node.reviews, &mut reviews)
            .await?;
        self.extend_dismissals(rec, t, node.number, node.timeline_items, &mut dismissals)
            .await?;
        let actor = |a: Option<super::api::GqlActor>| match a {
            Some(a) => Actor::from_graphql(a.typename.as_deref(), Some(&a.login)),
            None => Actor::deleted(),
        };
        let mut pr = PullRequest {
            repo: t.full(),
            number: node.number,
            title: node.title,
            url: node.url,
            author: actor(node.author),
            created_at: node.created_at,
            merged_at,
            merged_by: node.merged_by.map(|a| actor(Some(a))),
            base_branch: node.base_ref_name,
            head_branch: node.head_ref_name.unwrap_or_default(),
            head_commit: node.head_ref_oid,
            merge_commit: node.merge_commit.map(|c| c.oid),
            reviews,
            dismissals,
            approval: ApprovalDecision::default(),
        };
        pr.approval = evaluate_approval_with(&pr, self.settings.require_approval_on_head);
        Ok(pr)
    }

    async fn extend_reviews(
        &self,
        rec: &mut ProvenanceRecorder,
        t: &Target,
        number: u64,
        first: ReviewConnection,
        out: &mut Vec<Review>,
    ) -> Result<(), CollectError> {
        let paging = ChildPaging {
            operation: "PullRequestReviews",
            query: REVIEWS_QUERY,
            what: "reviews",
            connection: |p| p.reviews,
            split: |c| (c.total_count, c.page_info, c.nodes),
            record: |n| Some(review(n)),
        };
        self.extend_child(rec, t, number, first, out, paging).await
    }

    async fn extend_dismissals(
        &self,
        rec: &mut ProvenanceRecorder,
        t: &Target,
        number: u64,
        first: EventConnection,
        out: &mut Vec<Dismissal>,
    ) -> Result<(), CollectError> {
        let paging = ChildPaging {
            operation: "PullRequestDismissals",
            query: DISMISSALS_QUERY,
            what: "dismissals",
            connection: |p| p.timeline_items,
            split: |c| (c.total_count, c.page_info, c.nodes),
            record: dismissal,
        };
        self.extend_child(rec, t, number, first, out, paging).await
    }

    /// Pages one child connection of pull request `number` to its end,
    /// starting from the page that came with the pull request, and records
    /// whether the count collected matches the connection's `totalCount`.
    async fn extend_child<C, N, T>(
        &self,
        rec: &mut ProvenanceRecorder,
        t: &Target,
        number: u64,
        first: C,
        out: &mut Vec<T>,
        paging: ChildPaging<C, N, T>,
    ) -> Result<(), CollectError> {
        let (total, mut page_info, mut nodes) = (paging.split)(first);
        let mut pager = CursorPager::new();
        loop {
            out.extend(nodes.into_iter().flatten().filter_map(paging.record));
            pager.set_next(page_info.end_cursor.filter(|_| page_info.has_next_page));
            let Some(cursor) = pager.cursor().filter(|_| pager.has_next()) else {
                break;
            };
            let vars =
                json!({"owner": t.owner, "name": t.name, "number": number, "cursor": cursor});
            let data: PrChildData = self
                .api
                .graphql(
                    rec,
                    paging.operation,
                    paging.query,
                    vars,
                    &format!("{}#{number}", t.full()),
                )
                .await?;
            let conn = data
                .repository
                .and_then(|r| r.pull_request)
                .and_then(paging.connection)
                .ok_or_else(|| missing(paging.operation, t, number))?;
            (_, page_info, nodes) = (paging.split)(conn);
        }
        reconcile(rec, t, number, paging.what, out.len(), total);
        Ok(())
    }

    /// The branch's protection and rulesets (recorded into `rec`) and its bypass rule suites
    /// (recorded into `suites_rec`).
    async fn branch_rules(
        &self,
        rec: &mut ProvenanceRecorder,
        suites_rec: &mut ProvenanceRecorder,
        t: &Target,
    ) -> Result<BranchRules, CollectError> {
        let collected_at = soc2_evidence_core::clock::now();
        let repo = t.full();
        let branch = encode_branch(&t.branch);

        let protection_path = format!("/repos/{repo}/branches/{branch}/protection");
        let protection = match self.api.get(rec, &protection_path, &[]).await {
            Ok(resp) => parse_protection(resp.json()?),
            Err(HttpError::NotFound { excerpt, .. })
                if excerpt.contains("Branch not protected") =>
            {
                rec.note(format!(
                    "{repo}: GET {protection_path} answered 404 \"Branch not protected\" (recorded as a fact)"
                ));
                Protection::NotProtected {
                    message: "Branch not protected".into(),
                }
            }
            Err(e @ (HttpError::NotFound { .. } | HttpError::PermissionDenied { .. })) => {
                rec.note(format!("{repo}: branch protection unreadable: {e}"));
                Protection::Unreadable {
                    error: e.to_string(),
                }
            }
            Err(e) => return Err(e.into()),
        };

        let rules_path = format!("/repos/{repo}/rules/branches/{branch}");
        let mut pager = LinkPager::new(&rules_path, &[("per_page", "100")]);
        let mut ids: Vec<u64> = Vec::new();
        let mut seen = HashSet::new();
        let mut rules_endpoint = None;
        let mut rules_received = 0u64;
        while let Some(page) = pager.next_page(self.api.client(), rec).await? {
            rules_endpoint.get_or_insert_with(|| page.url().path().to_string());
            let items: Vec<Value> = page.json()?;
            rules_received += items.len() as u64;
            for item in items {
                if let Some(id) = item["ruleset_id"].as_u64() {
                    if seen.insert(id) {
                        ids.push(id);
                    }
                }
            }
        }
        if let Some(e) = &rules_endpoint {
            rec.received(e, rules_received);
        }
        let mut rulesets = Vec::new();
        for id in ids {
            let resp = self
                .api
                .get(rec, &format!("/repos/{repo}/rulesets/{id}"), &[])
                .await?;
            rec.received(resp.url().path(), 1);
            rulesets.push(parse_ruleset(resp.json()?));
        }
        rec.note(format!(
            "{repo}: {rules_received} rule(s) apply to {} (GET {rules_path}), from {} ruleset(s), each read",
            t.branch,
            rulesets.len()
        ));

        let suites_path = format!("/repos/{repo}/rulesets/rule-suites");
        let reference = format!("refs/heads/{}", t.branch);
        let mut pager = LinkPager::new(
            &suites_path,
            &[
                ("ref", reference.as_str()),
                ("time_period", "month"),
                ("rule_suite_result", "bypass"),
                ("per_page", "100"),
            ],
        );
        let mut bypasses = Vec::new();
        let mut unreadable = None;
        let mut suites_endpoint = None;
        loop {
            match pager.next_page(self.api.client(), suites_rec).await {
                Ok(Some(page)) => {
                    suites_endpoint.get_or_insert_with(|| page.url().path().to_string());
                    let items: Vec<RuleSuite> = page.json()?;
                    bypasses.extend(items.into_iter().filter(|s| s.result == "bypass"));
                }
                Ok(None) => break,
                Err(e @ (HttpError::NotFound { .. } | HttpError::PermissionDenied { .. })) => {
                    unreadable = Some(e.to_string());
                    break;
                }
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(e) = &suites_endpoint {
            suites_rec.received(e, bypasses.len() as u64);
        }
        let rule_suites = match unreadable {
            Some(error) => {
                rec.note(format!("{repo}: rule suites unreadable: {error}"));
                suites_rec.note(format!("{repo}: rule suites unreadable: {error}"));
                RuleSuites::Unreadable { error }
            }
            None => RuleSuites::Collected {
                time_period: "month".into(),
                covers_from: collected_at - chrono::Duration::hours(RULE_SUITE_WINDOW_HOURS),
                bypasses,
            },
        };
        rec.received(&protection_path, 1);
        Ok(BranchRules {
            repo,
            branch: t.branch.clone(),
            collected_at,
            protection,
            rulesets,
            rule_suites,
        })
    }
}

/// One page of a child connection: its `totalCount`, `pageInfo` and nodes.
type ChildPage<N> = (u64, PageInfo, Vec<Option<N>>);

/// How to page one child connection of a pull request (its reviews or its
/// dismissal events): `C` is the connection, `N` its node, `T` the record kept.
struct ChildPaging<C, N, T> {
    /// GraphQL operation name, also named when the pull request vanishes.
    operation: &'static str,
    /// The query fetching one more page of the connection.
    query: &'static str,
    /// What is counted, as given to [`reconcile`].
    what: &'static str,
    /// Picks the connection out of a re-fetched pull request.
    connection: fn(PrChild) -> Option<C>,
    /// Splits a connection into its `totalCount`, `pageInfo` and nodes.
    split: fn(C) -> ChildPage<N>,
    /// Turns a node into the record kept; `None` skips it.
    record: fn(N) -> Option<T>,
}

/// Notes a nested list whose length differs from the `totalCount` GitHub reported for it.
fn reconcile(
    rec: &mut ProvenanceRecorder,
    t: &Target,
    number: u64,
    what: &str,
    got: usize,
    total: u64,
) {
    if got as u64 != total {
        tracing::warn!(repo = %t.full(), number, what, got, total, "nested list differs from totalCount");
        rec.note(format!(
            "{}#{number}: {got} {what} received, GitHub reported totalCount {total}",
            t.full()
        ));
    }
}

fn missing(op: &str, t: &Target, number: u64) -> CollectError {
    CollectError::Source(format!(
        "GitHub GraphQL {op}: pull request {}#{number} vanished while paging",
        t.full()
    ))
}

fn git_person(n: Option<GitActorNode>) -> GitPerson {
    match n {
        Some(n) => GitPerson {
            login: n.user.map(|u| u.login),
            name: n.name,
            email: n.email,
        },
        None => GitPerson {
            login: None,
            name: None,
            email: None,
        },
    }
}

fn url_path(url: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map_or("/".to_string(), |i| rest[i..].to_string()),
        None => url.to_string(),
    }
}

fn review(n: ReviewNode) -> Review {
    Review {
        id: n.database_id.unwrap_or_default(),
        reviewer: match n.author {
            Some(a) => Actor::from_graphql(a.typename.as_deref(), Some(&a.login)),
            None => Actor::deleted(),
        },
        author_association: n.author_association,
        state: n.state,
        submitted_at: n.submitted_at,
        commit_id: n.commit.map(|c| c.oid),
    }
}

fn dismissal(n: EventNode) -> Option<Dismissal> {
    if n.typename
        .as_deref()
        .is_some_and(|t| t != "ReviewDismissedEvent")
    {
        return None;
    }
    Some(Dismissal {
        review_id: n.review.and_then(|r| r.database_id),
        dismissed_by: match n.actor {
            Some(a) => Actor::from_graphql(a.typename.as_deref(), Some(&a.login)),
            None => Actor::deleted(),
        },
        dismissed_at: n.created_at?,
        original_state: n.previous_review_state,
        message: n.dismissal_message,
    })
}

fn parse_protection(raw: Value) -> Protection {
    let reviews = &raw["required_pull_request_reviews"];
    let flag = |v: &Value| v.as_bool().unwrap_or(false);
    Protection::Protected {
        required_approving_review_count: if reviews.is_object() {
            Some(
                reviews["required_approving_review_count"]
                    .as_u64()
                    .unwrap_or(0) as u32,
            )
        } else {
            None
        },
        dismiss_stale_reviews: flag(&reviews["dismiss_stale_reviews"]),
        require_code_owner_reviews: flag(&reviews["require_code_owner_reviews"]),
        require_last_push_approval: flag(&reviews["require_last_push_approval"]),
        enforce_admins: flag(&raw["enforce_admins"]["enabled"]),
        raw,
    }
}

fn parse_ruleset(raw: Value) -> Ruleset {
    let time = |v: &Value| {
        v.as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
    };
    let rules = raw["rules"].as_array().cloned().unwrap_or_default();
    let pull_request = rules.iter().find(|r| r["type"] == "pull_request").map(|r| {
        let p = &r["parameters"];
        PullRequestRule {
            required_approving_review_count: p["required_approving_review_count"]
                .as_u64()
                .unwrap_or(0) as u32,
            dismiss_stale_reviews_on_push: p["dismiss_stale_reviews_on_push"]
                .as_bool()
                .unwrap_or(false),
            require_code_owner_review: p["require_code_owner_review"].as_bool().unwrap_or(false),
            require_last_push_approval: p["require_last_push_approval"].as_bool().unwrap_or(false),
        }
    });
    Ruleset {
        id: raw["id"].as_u64().unwrap_or_default(),
        name: raw["name"].as_str().unwrap_or_default().to_string(),
        source_type: raw["source_type"].as_str().map(String::from),
        source: raw["source"].as_str().map(String::from),
        enforcement: raw["enforcement"].as_str().unwrap_or("unknown").to_string(),
        created_at: time(&raw["created_at"]),
        updated_at: time(&raw["updated_at"]),
        pull_request,
        rule_types: rules
            .iter()
            .filter_map(|r| r["type"].as_str().map(String::from))
            .collect(),
        bypass_actors: raw["bypass_actors"].as_array().cloned().unwrap_or_default(),
        raw,
    }
}

fn describe_period(p: &AuditPeriod) -> String {
    format!("merged {}..{} (UTC)", p.start(), p.end())
}

#[async_trait]
impl Collector for GithubCollector {
    fn name(&self) -> &str {
        &self.name
    }

    fn collector_type(&self) -> &str {
        super::TYPE
    }

    async fn collect(
        &self,
        ctx: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        // Both writers are open for the whole run: a failure anywhere leaves both as
        // `.partial`, with the error as the reason, without any bookkeeping here.
        let mut prs = sink.open(&PULL_REQUESTS)?;
        prs.provenance()
            .base_url(self.api.graphql_endpoint())
            .note(format!(
                "population: pull requests {} into the configured branch; merged means mergedAt is set",
                describe_period(ctx.period())
            ))
            .note(format!("GraphQL query (variables per repository in the notes below):\n{MERGED_PRS_QUERY}"));
        let mut commits = sink.open(&COMMITS)?;
        commits
            .provenance()
            .base_url(self.api.graphql_endpoint())
            .note("population: every commit in the branch's history committed in the period (history(since, until), 100 per request), with its associatedPullRequests; a commit came through a pull request when one is merged and either based on the branch or its merge commit is in this history")
            .note(format!("GraphQL query:\n{HISTORY_QUERY}"));
        let mut rules = sink.open(&BRANCH_RULES)?;
        rules
            .provenance()
            .base_url(self.settings.api_url.trim_end_matches('/'))
            .note("rule-suite history: GET .../rulesets/rule-suites?time_period=month&rule_suite_result=bypass — GitHub keeps it only for a limited time, so bypasses older than a month before collection are not visible; collect at least monthly");
        let mut suites = sink.open(&RULE_SUITES)?;
        suites
            .provenance()
            .base_url(self.settings.api_url.trim_end_matches('/'))
            .note("population: rule suites with result bypass on the branch, GET .../rulesets/rule-suites?time_period=month&rule_suite_result=bypass");
        let now = soc2_evidence_core::clock::now();
        let window_from = now - chrono::Duration::hours(RULE_SUITE_WINDOW_HOURS);
        if ctx.period().start_utc() < window_from {
            suites
                .provenance()
                .covers(window_from, now, RULE_SUITE_RETENTION);
        }

        let targets = self.targets(ctx, prs.provenance()).await?;
        let mut partial_history = Vec::new();
        let mut unreadable_suites = Vec::new();
        for t in &targets {
            ctx.check_cancelled()?;
            ctx.message(&format!("{}: commits on {}", t.full(), t.branch));
            let (landed, whole) = self.collect_commits(ctx, &mut commits, t).await?;
            if !whole {
                partial_history.push(t.full());
            }
            ctx.check_cancelled()?;
            ctx.message(&format!(
                "{}: merged pull requests into {}",
                t.full(),
                t.branch
            ));
            self.collect_pulls(ctx, &mut prs, t, &landed).await?;
            ctx.check_cancelled()?;
            ctx.message(&format!("{}: branch rules of {}", t.full(), t.branch));
            let record = self
                .branch_rules(rules.provenance(), suites.provenance(), t)
                .await?;
            match &record.rule_suites {
                RuleSuites::Collected { bypasses, .. } => {
                    for b in bypasses {
                        suites.emit(&RuleSuiteRecord {
                            repo: record.repo.clone(),
                            suite: b.clone(),
                        })?;
                    }
                }
                RuleSuites::Unreadable { .. } => unreadable_suites.push(record.repo.clone()),
            }
            rules.emit(&record)?;
        }
        prs.finish()?;
        if partial_history.is_empty() {
            commits.finish()?;
        } else {
            commits.finish_incomplete_for(
                &partial_history,
                "the commit history received differs from GitHub's totalCount",
            )?;
        }
        rules.finish()?;
        if unreadable_suites.is_empty() {
            suites.finish()?;
        } else {
            suites.finish_incomplete_for(&unreadable_suites, "rule suites unreadable")?;
        }
        Ok(())
    }
}
