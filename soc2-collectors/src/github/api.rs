//! GitHub's REST and GraphQL APIs: the client, the queries and the wire formats.

use std::sync::Arc;

use std::time::Duration;

use chrono::{DateTime, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use soc2_evidence_core::http::{Auth, HttpClient, HttpError, HttpResponse, RetryPolicy};
use soc2_evidence_core::{CollectError, ProvenanceRecorder};

use super::config::GithubSettings;

/// The REST API version every request pins (GitHub also serves newer ones; shapes differ).
pub const API_VERSION: &str = "2022-11-28";

/// The GraphQL endpoint for a REST API base URL: `https://api.github.com` →
/// `https://api.github.com/graphql`; GitHub Enterprise Server `https://HOST/api/v3` →
/// `https://HOST/api/graphql`.
///
/// ```
/// use soc2_collectors::github::graphql_url;
/// assert_eq!(graphql_url("https://api.github.com"), "https://api.github.com/graphql");
/// assert_eq!(graphql_url("https://ghe.example.com/api/v3/"), "https://ghe.example.com/api/graphql");
/// ```
pub fn graphql_url(api_url: &str) -> String {
    let trimmed = api_url.trim().trim_end_matches('/');
    match trimmed.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api/graphql"),
        None => format!("{trimmed}/graphql"),
    }
}

/// The merged-PR query: one page of merged PRs, newest-updated first, each with its first 100
/// reviews and first 50 dismissals. There is deliberately no `baseRefName` filter: a PR keeps
/// the base branch name it had when it merged, so a repository whose `master` was renamed
/// `main` would lose its older PRs; the collector keeps those that landed on the branch (base
/// is the branch, or the merge commit is in the branch's history). On the first page
/// `$withCount` adds GitHub search's count of PRs merged in the period.
pub const MERGED_PRS_QUERY: &str = r#"query MergedPullRequests($owner: String!, $name: String!, $pageSize: Int!, $cursor: String, $withCount: Boolean!, $searchQuery: String!) {
  repository(owner: $owner, name: $name) {
    pullRequests(states: MERGED, first: $pageSize, after: $cursor, orderBy: {field: UPDATED_AT, direction: DESC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        number title url createdAt updatedAt mergedAt baseRefName headRefName headRefOid
        author { __typename login }
        mergedBy { __typename login }
        mergeCommit { oid }
        reviews(first: 100) {
          totalCount
          pageInfo { hasNextPage endCursor }
          nodes { databaseId author { __typename login } authorAssociation state submittedAt commit { oid } }
        }
        timelineItems(itemTypes: [REVIEW_DISMISSED_EVENT], first: 50) {
          totalCount
          pageInfo { hasNextPage endCursor }
          nodes { __typename ... on ReviewDismissedEvent { createdAt actor { __typename login } dismissalMessage previousReviewState review { databaseId } } }
        }
      }
    }
  }
  search(query: $searchQuery, type: ISSUE, first: 1) @include(if: $withCount) { issueCount }
  rateLimit { cost remaining resetAt }
}"#;

/// Further reviews of one PR, when its first 100 overflow.
pub const REVIEWS_QUERY: &str = r#"query PullRequestReviews($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviews(first: 100, after: $cursor) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { databaseId author { __typename login } authorAssociation state submittedAt commit { oid } }
      }
    }
  }
  rateLimit { cost remaining resetAt }
}"#;

/// Further dismissals of one PR, when its first 50 overflow.
pub const DISMISSALS_QUERY: &str = r#"query PullRequestDismissals($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      timelineItems(itemTypes: [REVIEW_DISMISSED_EVENT], first: 100, after: $cursor) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { __typename ... on ReviewDismissedEvent { createdAt actor { __typename login } dismissalMessage previousReviewState review { databaseId } } }
      }
    }
  }
  rateLimit { cost remaining resetAt }
}"#;

/// One page (100 commits) of the branch's history committed in `$since..$until`, each with the
/// pull requests GitHub associates with it. `$useDefault` reads `defaultBranchRef`; otherwise
/// `ref($qualifiedName)` (a configured `branch`).
pub const HISTORY_QUERY: &str = r#"query BranchHistory($owner: String!, $name: String!, $useDefault: Boolean!, $qualifiedName: String!, $since: GitTimestamp!, $until: GitTimestamp!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    defaultBranchRef @include(if: $useDefault) { name target { ...History } }
    ref(qualifiedName: $qualifiedName) @skip(if: $useDefault) { name target { ...History } }
  }
  rateLimit { cost remaining resetAt }
}
fragment History on Commit {
  history(since: $since, until: $until, first: 100, after: $cursor) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      oid committedDate messageHeadline
      author { user { login } name email }
      committer { user { login } name email }
      associatedPullRequests(first: 5) { totalCount nodes { number merged baseRefName mergeCommit { oid } } }
    }
  }
}"#;

/// A repository's default branch and archived flag.
pub const REPO_INFO_QUERY: &str = r#"query RepositoryInfo($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) { isArchived defaultBranchRef { name } }
  rateLimit { cost remaining resetAt }
}"#;

// ---- GraphQL wire format ----

#[derive(Debug, Deserialize)]
struct GqlResponse<T> {
    data: Option<T>,
    #[serde(default)]
    errors: Vec<GqlError>,
}

#[derive(Debug, Deserialize)]
struct GqlErrorsOnly {
    #[serde(default)]
    errors: Vec<GqlError>,
}

#[derive(Debug, Deserialize)]
struct GqlError {
    #[serde(default)]
    message: String,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// `rateLimit { cost remaining resetAt }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitNode {
    /// Points this query cost.
    pub cost: Option<u64>,
    /// Points left in the window.
    pub remaining: Option<u64>,
    /// When the window resets.
    pub reset_at: Option<DateTime<Utc>>,
}

/// A GraphQL response body's `data` that carries `rateLimit`.
pub trait GqlData: DeserializeOwned {
    /// The `rateLimit` field.
    fn rate_limit(&self) -> Option<&RateLimitNode>;
}

/// `pageInfo`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    /// More pages follow.
    pub has_next_page: bool,
    /// Cursor of the last node.
    pub end_cursor: Option<String>,
}

/// An `Actor` (`{__typename, login}`); `null` for a deleted account.
#[derive(Debug, Clone, Deserialize)]
pub struct GqlActor {
    /// `User`, `Bot`, `Organization`, `Mannequin`, ...
    #[serde(rename = "__typename")]
    pub typename: Option<String>,
    /// Login (bots without `[bot]`).
    pub login: String,
}

/// `{oid}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Oid {
    /// Commit id.
    pub oid: String,
}

/// `{databaseId}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseId {
    /// The REST id.
    pub database_id: Option<u64>,
}

/// A `PullRequestReview`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewNode {
    /// Review id.
    pub database_id: Option<u64>,
    /// Reviewer.
    pub author: Option<GqlActor>,
    /// Association.
    #[serde(default)]
    pub author_association: String,
    /// State.
    pub state: String,
    /// Submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// The commit reviewed.
    pub commit: Option<Oid>,
}

/// A `reviews` connection.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewConnection {
    /// All reviews of the PR.
    pub total_count: u64,
    /// Paging.
    pub page_info: PageInfo,
    /// This page.
    pub nodes: Vec<Option<ReviewNode>>,
}

/// A `ReviewDismissedEvent` (other timeline items arrive as `{__typename}` only).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventNode {
    /// Item type.
    #[serde(rename = "__typename")]
    pub typename: Option<String>,
    /// When.
    pub created_at: Option<DateTime<Utc>>,
    /// Who dismissed.
    pub actor: Option<GqlActor>,
    /// Message.
    pub dismissal_message: Option<String>,
    /// The state before dismissal.
    pub previous_review_state: Option<String>,
    /// The dismissed review.
    pub review: Option<DatabaseId>,
}

/// A `timelineItems` connection.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventConnection {
    /// All matching items.
    pub total_count: u64,
    /// Paging.
    pub page_info: PageInfo,
    /// This page.
    pub nodes: Vec<Option<EventNode>>,
}

/// One merged pull request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrNode {
    /// Number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Web URL.
    pub url: String,
    /// Opened.
    pub created_at: DateTime<Utc>,
    /// Last updated.
    pub updated_at: DateTime<Utc>,
    /// Merged (the only reliable "merged" signal).
    pub merged_at: Option<DateTime<Utc>>,
    /// Base branch.
    pub base_ref_name: String,
    /// Head commit (at merge, for a merged PR).
    pub head_ref_oid: String,
    /// Head branch name.
    #[serde(default)]
    pub head_ref_name: Option<String>,
    /// Author.
    pub author: Option<GqlActor>,
    /// Merger.
    pub merged_by: Option<GqlActor>,
    /// Merge commit.
    pub merge_commit: Option<Oid>,
    /// Reviews (first page).
    pub reviews: ReviewConnection,
    /// Dismissals (first page).
    pub timeline_items: EventConnection,
}

/// `pullRequests`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrConnection {
    /// All merged PRs into the branch, ever.
    pub total_count: u64,
    /// Paging.
    pub page_info: PageInfo,
    /// This page.
    pub nodes: Vec<Option<PrNode>>,
}

/// `repository { pullRequests }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoPrs {
    /// The connection.
    pub pull_requests: PrConnection,
}

/// `search { issueCount }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchCount {
    /// Matching issues and PRs.
    pub issue_count: u64,
}

/// `data` of [`MERGED_PRS_QUERY`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergedPrsData {
    /// The repository (`null` when not found).
    pub repository: Option<RepoPrs>,
    /// The period count (first page only).
    pub search: Option<SearchCount>,
    /// Rate limit.
    pub rate_limit: Option<RateLimitNode>,
}

impl GqlData for MergedPrsData {
    fn rate_limit(&self) -> Option<&RateLimitNode> {
        self.rate_limit.as_ref()
    }
}

/// `pullRequest { reviews }` / `pullRequest { timelineItems }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrChild {
    /// Reviews page.
    pub reviews: Option<ReviewConnection>,
    /// Dismissals page.
    pub timeline_items: Option<EventConnection>,
}

/// `repository { pullRequest }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoPr {
    /// The PR.
    pub pull_request: Option<PrChild>,
}

/// `data` of [`REVIEWS_QUERY`] and [`DISMISSALS_QUERY`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrChildData {
    /// The repository.
    pub repository: Option<RepoPr>,
    /// Rate limit.
    pub rate_limit: Option<RateLimitNode>,
}

impl GqlData for PrChildData {
    fn rate_limit(&self) -> Option<&RateLimitNode> {
        self.rate_limit.as_ref()
    }
}

/// `defaultBranchRef { name }`.
#[derive(Debug, Deserialize)]
pub struct BranchRef {
    /// Branch name.
    pub name: String,
}

/// `repository` of [`REPO_INFO_QUERY`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoInfo {
    /// Archived.
    pub is_archived: bool,
    /// Default branch (`null` for an empty repository).
    pub default_branch_ref: Option<BranchRef>,
}

/// `data` of [`REPO_INFO_QUERY`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoInfoData {
    /// The repository.
    pub repository: Option<RepoInfo>,
    /// Rate limit.
    pub rate_limit: Option<RateLimitNode>,
}

impl GqlData for RepoInfoData {
    fn rate_limit(&self) -> Option<&RateLimitNode> {
        self.rate_limit.as_ref()
    }
}

/// `{login}` of a git identity's account.
#[derive(Debug, Clone, Deserialize)]
pub struct GqlUser {
    /// Login.
    pub login: String,
}

/// A `GitActor`: `{user {login}, name, email}`.
#[derive(Debug, Clone, Deserialize)]
pub struct GitActorNode {
    /// The account the email maps to.
    pub user: Option<GqlUser>,
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
}

/// An associated pull request of a commit.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedPrNode {
    /// Number.
    pub number: u64,
    /// Merged.
    #[serde(default)]
    pub merged: bool,
    /// Base branch name.
    #[serde(default)]
    pub base_ref_name: String,
    /// Merge commit.
    pub merge_commit: Option<Oid>,
}

/// `associatedPullRequests`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedPrConnection {
    /// All associated PRs.
    #[serde(default)]
    pub total_count: u64,
    /// The first few.
    #[serde(default)]
    pub nodes: Vec<Option<AssociatedPrNode>>,
}

/// One commit of a `history` connection.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitNode {
    /// Commit id.
    pub oid: String,
    /// Committed.
    pub committed_date: DateTime<Utc>,
    /// First line of the message.
    #[serde(default)]
    pub message_headline: String,
    /// Author.
    pub author: Option<GitActorNode>,
    /// Committer.
    pub committer: Option<GitActorNode>,
    /// Associated PRs.
    pub associated_pull_requests: Option<AssociatedPrConnection>,
}

/// `history`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryConnection {
    /// Commits in the range.
    pub total_count: u64,
    /// Paging.
    pub page_info: PageInfo,
    /// This page.
    pub nodes: Vec<Option<CommitNode>>,
}

/// `target` (a `Commit`, through the `History` fragment).
#[derive(Debug, Deserialize)]
pub struct HistoryTarget {
    /// The history; `None` when the target is no commit.
    pub history: Option<HistoryConnection>,
}

/// `defaultBranchRef` / `ref`.
#[derive(Debug, Deserialize)]
pub struct HistoryRef {
    /// Its commit.
    pub target: Option<HistoryTarget>,
}

/// `repository` of [`HISTORY_QUERY`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoHistory {
    /// The default branch (with `$useDefault`).
    #[serde(default)]
    pub default_branch_ref: Option<HistoryRef>,
    /// The configured branch (without `$useDefault`).
    #[serde(default, rename = "ref")]
    pub reference: Option<HistoryRef>,
}

/// `data` of [`HISTORY_QUERY`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryData {
    /// The repository.
    pub repository: Option<RepoHistory>,
    /// Rate limit.
    pub rate_limit: Option<RateLimitNode>,
}

impl GqlData for HistoryData {
    fn rate_limit(&self) -> Option<&RateLimitNode> {
        self.rate_limit.as_ref()
    }
}

// ---- REST wire format ----

/// An item of `GET /orgs/{org}/repos`.
#[derive(Debug, Deserialize)]
pub struct OrgRepo {
    /// `owner/name`.
    pub full_name: String,
    /// Archived.
    #[serde(default)]
    pub archived: bool,
    /// Default branch.
    pub default_branch: Option<String>,
}

// ---- the client ----

/// The HTTP side of the collector: one client for REST and GraphQL (same origin, so the token
/// goes to both), with GitHub's headers pinned.
#[derive(Debug, Clone)]
pub struct GithubApi {
    client: HttpClient,
    graphql_url: String,
    retry: RetryPolicy,
}

impl GithubApi {
    /// Builds the client from settings.
    pub fn new(settings: &GithubSettings) -> Result<Self, HttpError> {
        let builder = HttpClient::builder(settings.api_url.trim_end_matches('/'));
        let builder = match &settings.app {
            Some(app) => builder.credentials(Arc::clone(app)),
            None => builder.auth(Auth::Bearer(settings.token.clone())),
        };
        let client = builder
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
            .user_agent(concat!(
                "soc2-evidence/",
                env!("CARGO_PKG_VERSION"),
                " (github collector)"
            ))
            .timeout(settings.timeout)
            .retry(settings.retry.clone())
            .retry_classifier(super::GithubRetry)
            .build()?;
        Ok(Self {
            client,
            graphql_url: graphql_url(&settings.api_url),
            retry: settings.retry.clone(),
        })
    }

    /// The HTTP client (REST calls, pagers).
    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    /// The GraphQL endpoint URL.
    pub fn graphql_endpoint(&self) -> &str {
        &self.graphql_url
    }

    /// Runs a GraphQL query, recording the successful response into `rec`.
    ///
    /// GitHub answers GraphQL problems with HTTP 200 and `{"errors": [...]}`; those become a
    /// [`CollectError::Source`] naming the operation and `subject` (the repository). A
    /// rate limit also arrives that way (`type` `RATE_LIMITED`);
    /// [`GithubRetry`](super::GithubRetry) makes the client wait that out and retry before
    /// the body gets here.
    pub async fn graphql<T: GqlData>(
        &self,
        rec: &mut ProvenanceRecorder,
        operation: &str,
        query: &str,
        variables: serde_json::Value,
        subject: &str,
    ) -> Result<T, CollectError> {
        let body = serde_json::json!({ "query": query, "variables": variables });
        let resp = self.client.post_json(&self.graphql_url, &body).await?;
        let (data, errors) = match resp.json::<GqlResponse<T>>() {
            Ok(r) => (r.data, r.errors),
            // The typed `data` may not parse when errors nulled part of it; report the
            // errors rather than the decode failure when there are any.
            Err(decode) => match resp.json::<GqlErrorsOnly>() {
                Ok(only) if !only.errors.is_empty() => (None, only.errors),
                _ => return Err(decode.into()),
            },
        };
        if !errors.is_empty() {
            let messages: Vec<String> = errors
                .iter()
                .map(|e| match &e.kind {
                    Some(k) => format!("{} [{k}]", e.message),
                    None => e.message.clone(),
                })
                .collect();
            return Err(CollectError::Source(format!(
                "GitHub GraphQL {operation} for {subject} failed ({}): {}",
                resp.endpoint(),
                messages.join("; ")
            )));
        }
        let Some(data) = data else {
            return Err(CollectError::Source(format!(
                "GitHub GraphQL {operation} for {subject} ({}): the response has neither data nor errors",
                resp.endpoint()
            )));
        };
        rec.page(
            "POST",
            resp.url().path(),
            &[("operation", operation)],
            resp.body(),
        );
        self.pace(data.rate_limit()).await;
        Ok(data)
    }

    /// Sleeps until the GraphQL window resets when the points left would not cover another
    /// query like the last one, so the next request does not fail.
    async fn pace(&self, rate: Option<&RateLimitNode>) {
        let Some(rate) = rate else { return };
        let (Some(remaining), Some(reset)) = (rate.remaining, rate.reset_at) else {
            return;
        };
        let cost = rate.cost.unwrap_or(1).max(1);
        if remaining >= cost.saturating_mul(2) {
            return;
        }
        let wait = (reset - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(self.retry.max_server_wait);
        tracing::warn!(
            remaining,
            wait_s = wait.as_secs(),
            "GitHub GraphQL points nearly used up; waiting for the reset"
        );
        tokio::time::sleep(wait).await;
    }

    /// `GET` a REST path, recording the page into `rec`.
    pub async fn get(
        &self,
        rec: &mut ProvenanceRecorder,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<HttpResponse, HttpError> {
        self.client.get_recorded(rec, path, query).await
    }
}

/// Bytes a branch name keeps in a URL path: RFC 3986 unreserved characters and `/`.
const BRANCH_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// A branch name for a URL path, percent-encoded except `/`: GitHub routes
/// `/branches/release/1.x/protection` with the slash as written.
pub fn encode_branch(s: &str) -> String {
    utf8_percent_encode(s, BRANCH_KEEP).to_string()
}

#[cfg(test)]
mod tests {
    use super::encode_branch;

    #[test]
    fn branch_names_keep_slashes_and_encode_the_rest() {
        assert_eq!(encode_branch("release/1.x"), "release/1.x");
        assert_eq!(encode_branch("feat/a b#c?d%"), "feat/a%20b%23c%3Fd%25");
        assert_eq!(encode_branch("naïve~_-"), "na%C3%AFve~_-");
    }
}
