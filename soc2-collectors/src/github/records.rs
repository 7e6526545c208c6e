//! The evidence kinds the GitHub collector emits, and the populations that hold them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use soc2_evidence_core::{Evidence, Population};

/// Source system of [`PULL_REQUESTS`]: pull requests, reviews and dismissals come over GraphQL
/// (in `org` mode the repository list comes from REST `GET /orgs/{org}/repos`, recorded in
/// the same provenance).
pub const GRAPHQL_SOURCE: &str = "GitHub GraphQL API";
/// Source system of [`BRANCH_RULES`]: protection, rulesets and rule suites come over REST,
/// pinned to one API version.
pub const REST_SOURCE: &str = "GitHub REST API (2022-11-28)";

/// Pull requests merged into the branch during the period: events, each carrying its own
/// merge time, at `<instance>/pull_requests.jsonl`.
pub const PULL_REQUESTS: Population<PullRequest> =
    Population::events("pull_requests", GRAPHQL_SOURCE);
/// Each repository's branch rules as they stand at collection time: state, at
/// `<instance>/branch_rules.jsonl`. The rule-suite bypasses GitHub still keeps (about a
/// month) ride along in each record, with the window they cover, because the check needs to
/// know per repository whether that history was readable at all.
pub const BRANCH_RULES: Population<BranchRules> = Population::state("branch_rules", REST_SOURCE);
/// Every commit in the branch's history committed during the period, with the pull requests
/// GitHub associates with it: events at `<instance>/commits.jsonl`. The change population is
/// what landed on the branch, so this is what `github.changes_via_pull_request` reconciles
/// against the merged pull requests.
pub const COMMITS: Population<Commit> = Population::events("commits", GRAPHQL_SOURCE);
/// The rule suites with result `bypass` GitHub still keeps for the branch (about a month:
/// `time_period=month`, 730 hours before collection): events at `<instance>/rule_suites.jsonl`.
/// When the period starts before that window its provenance says `covers {from, until,
/// reason}`, so checks can tell what lies outside it.
pub const RULE_SUITES: Population<RuleSuiteRecord> = Population::events("rule_suites", REST_SOURCE);

/// What kind of account an actor is. REST and GraphQL disagree on how they show bots and
/// deleted accounts; records always use this one form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActorType {
    /// A person's account.
    User,
    /// A GitHub App's bot (`dependabot[bot]`).
    Bot,
    /// An organisation.
    Organization,
    /// A placeholder for an imported account (GitHub Enterprise Importer).
    Mannequin,
    /// A deleted account: REST shows `ghost`, GraphQL shows `null`.
    Deleted,
    /// A type GitHub added after this collector was written (the raw name is in the login).
    Other,
}

/// An account, normalised across REST and GraphQL: bots keep their REST login with `[bot]`
/// (GraphQL drops it) and deleted accounts are login `ghost` with type `Deleted` (GraphQL
/// gives `null`; REST gives `ghost` of type `User`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Login, in REST form.
    pub login: String,
    /// Account type.
    #[serde(rename = "type")]
    pub actor_type: ActorType,
}

/// The login REST shows for deleted accounts.
pub const GHOST_LOGIN: &str = "ghost";
/// The id REST shows for deleted accounts.
pub const GHOST_ID: u64 = 10137;

impl Actor {
    /// A person.
    pub fn user(login: &str) -> Self {
        Self {
            login: login.to_string(),
            actor_type: ActorType::User,
        }
    }

    /// The deleted-account placeholder.
    pub fn deleted() -> Self {
        Self {
            login: GHOST_LOGIN.to_string(),
            actor_type: ActorType::Deleted,
        }
    }

    /// From GraphQL's `{__typename, login}` or `null`.
    pub fn from_graphql(typename: Option<&str>, login: Option<&str>) -> Self {
        let Some(login) = login else {
            return Self::deleted();
        };
        let actor_type = match typename {
            Some("User") | None => ActorType::User,
            Some("Bot") => ActorType::Bot,
            Some("Organization") => ActorType::Organization,
            Some("Mannequin") => ActorType::Mannequin,
            Some(_) => ActorType::Other,
        };
        let login = if actor_type == ActorType::Bot && !login.ends_with("[bot]") {
            format!("{login}[bot]")
        } else {
            login.to_string()
        };
        Self { login, actor_type }
    }

    /// From REST's `{login, id, type}` user object.
    pub fn from_rest(login: &str, id: Option<u64>, rest_type: &str) -> Self {
        if login == GHOST_LOGIN && id.is_none_or(|i| i == GHOST_ID) {
            return Self::deleted();
        }
        let actor_type = match rest_type {
            "User" => ActorType::User,
            "Bot" => ActorType::Bot,
            "Organization" => ActorType::Organization,
            "Mannequin" => ActorType::Mannequin,
            _ => ActorType::Other,
        };
        Self {
            login: login.to_string(),
            actor_type,
        }
    }

    /// Whether two actors are the same account (logins compare case-insensitively, as GitHub
    /// logins do). Two deleted accounts are never "the same": nothing identifies them.
    pub fn same_account(&self, other: &Actor) -> bool {
        self.actor_type != ActorType::Deleted
            && other.actor_type != ActorType::Deleted
            && self.login.eq_ignore_ascii_case(&other.login)
    }
}

/// One review of a pull request, as it stands at collection time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// Review id (`databaseId`; the REST review id).
    pub id: u64,
    /// The reviewer.
    pub reviewer: Actor,
    /// `authorAssociation` (`MEMBER`, `OWNER`, `COLLABORATOR`, ...).
    pub author_association: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED` (a dismissed review reads
    /// `DISMISSED`; its original state is in the dismissal).
    pub state: String,
    /// When it was submitted (`None` for a pending review).
    pub submitted_at: Option<DateTime<Utc>>,
    /// The head commit the reviewer saw.
    pub commit_id: Option<String>,
}

/// A review dismissal (`ReviewDismissedEvent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dismissal {
    /// The dismissed review's id.
    pub review_id: Option<u64>,
    /// Who dismissed it.
    pub dismissed_by: Actor,
    /// When.
    pub dismissed_at: DateTime<Utc>,
    /// The review's state before it was dismissed (`APPROVED`, ...).
    pub original_state: Option<String>,
    /// The dismissal message.
    pub message: Option<String>,
}

/// The independent-approval decision for one pull request, computed by
/// [`evaluate_approval`](super::checks::evaluate_approval) — the same function the
/// `github.independent_approval` check runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalDecision {
    /// Whether a qualifying approval exists.
    pub approved: bool,
    /// The qualifying approval, when there is one.
    pub approving_review_id: Option<u64>,
    /// Who gave it.
    pub approved_by: Option<String>,
    /// The commit the qualifying approval was of (the head at merge, unless
    /// `require_approval_on_head = false` accepted an earlier one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_commit: Option<String>,
    /// Approvals that did not count because they were of an earlier commit than the head at
    /// merge (this tool's rule, `require_approval_on_head = true`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale_approvals: Vec<u64>,
    /// Why each other review does not count (or why there is none), in words.
    pub reasons: Vec<String>,
}

/// A pull request merged into the branch during the audit period: kind `github.pull_request`,
/// population [`PULL_REQUESTS`], subject `owner/repo#number`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// `owner/repo`.
    pub repo: String,
    /// PR number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Web URL.
    pub url: String,
    /// Author.
    pub author: Actor,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it was merged.
    pub merged_at: DateTime<Utc>,
    /// Who merged it.
    pub merged_by: Option<Actor>,
    /// Base branch it was merged into, as it was called then (a repository whose `master`
    /// was later renamed `main` keeps `master` on its older pull requests).
    pub base_branch: String,
    /// The head branch the changes came from (GraphQL `headRefName`, REST `head.ref`), e.g.
    /// `feature/CHG-123-rate-limit`. Cross-system checks match change-ticket keys in it.
    /// Empty in records written before it was collected.
    #[serde(default)]
    pub head_branch: String,
    /// Head commit at merge (`headRefOid`).
    pub head_commit: String,
    /// The merge commit on the base branch (the squash or rebase result, for those methods).
    pub merge_commit: Option<String>,
    /// Every review, oldest first.
    pub reviews: Vec<Review>,
    /// Every review dismissal, oldest first.
    pub dismissals: Vec<Dismissal>,
    /// The independent-approval decision.
    pub approval: ApprovalDecision,
}

impl Evidence for PullRequest {
    const KIND: &'static str = "github.pull_request";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC8.1"];
    fn subject_id(&self) -> String {
        format!("{}#{}", self.repo, self.number)
    }
}

/// A git identity on a commit: the GitHub account it maps to, when GitHub maps it, and the
/// name and email written in the commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitPerson {
    /// The GitHub login the email belongs to (`author.user.login`); `None` when the email is
    /// no account's.
    pub login: Option<String>,
    /// The name in the commit.
    pub name: Option<String>,
    /// The email in the commit.
    pub email: Option<String>,
}

impl GitPerson {
    /// `login (Name <email>)`, or what of it is known.
    pub fn describe(&self) -> String {
        let ident = match (&self.name, &self.email) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (Some(n), None) => n.clone(),
            (None, Some(e)) => format!("<{e}>"),
            (None, None) => "an unknown identity".into(),
        };
        match &self.login {
            Some(l) => format!("{l} ({ident})"),
            None => ident,
        }
    }
}

/// A pull request GitHub associates with a commit (`associatedPullRequests`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssociatedPr {
    /// Number.
    pub number: u64,
    /// Whether it was merged.
    pub merged: bool,
    /// Its base branch, as it was called then.
    pub base_branch: String,
    /// Its merge commit.
    pub merge_commit: Option<String>,
}

/// One commit of the branch's history committed during the period: kind `github.commit`,
/// population [`COMMITS`], subject `owner/repo@oid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// `owner/repo`.
    pub repo: String,
    /// The branch whose history it is in.
    pub branch: String,
    /// Commit id.
    pub oid: String,
    /// `committedDate`.
    pub committed_at: DateTime<Utc>,
    /// First line of the message.
    pub message_headline: String,
    /// Who wrote it.
    pub author: GitPerson,
    /// Who committed it (for a direct push, usually the pusher; `GitHub` / `web-flow` for
    /// commits made in the web UI).
    pub committer: GitPerson,
    /// The pull requests GitHub associates with it (the first 5).
    pub pull_requests: Vec<AssociatedPr>,
    /// How many pull requests GitHub associates with it in all (`totalCount`); more than
    /// `pull_requests` holds means the list was cut.
    pub pull_requests_total: u64,
}

impl Evidence for Commit {
    const KIND: &'static str = "github.commit";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC8.1"];
    fn subject_id(&self) -> String {
        format!("{}@{}", self.repo, self.oid)
    }
}

/// How a commit reached the branch, given the ids of every commit of the branch's history in
/// the period (`history`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Landing {
    /// Through this merged pull request: its base is the branch, or its merge commit is in
    /// the branch's history (which keeps a PR based on `master` before `master` was renamed
    /// `main`).
    PullRequest(u64),
    /// No merged pull request accounts for it: a direct push.
    DirectPush,
    /// GitHub associates more pull requests with it than were read, and none read accounts
    /// for it: cannot tell.
    Unknown,
}

impl Commit {
    /// How this commit reached `self.branch`.
    pub fn landing(&self, history: &std::collections::HashSet<String>) -> Landing {
        let via = self.pull_requests.iter().find(|p| {
            p.merged
                && (p.base_branch == self.branch
                    || p.merge_commit.as_ref().is_some_and(|m| history.contains(m)))
        });
        match via {
            Some(p) => Landing::PullRequest(p.number),
            None if self.pull_requests_total > self.pull_requests.len() as u64 => Landing::Unknown,
            None => Landing::DirectPush,
        }
    }
}

/// A rule suite with result `bypass` on the branch: kind `github.rule_suite`, population
/// [`RULE_SUITES`], subject `owner/repo:rule_suite/<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSuiteRecord {
    /// `owner/repo`.
    pub repo: String,
    /// The rule suite.
    #[serde(flatten)]
    pub suite: RuleSuite,
}

impl Evidence for RuleSuiteRecord {
    const KIND: &'static str = "github.rule_suite";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC8.1"];
    fn subject_id(&self) -> String {
        format!("{}:rule_suite/{}", self.repo, self.suite.id)
    }
}

/// Classic branch protection of the branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Protection {
    /// The branch is protected.
    Protected {
        /// `required_pull_request_reviews.required_approving_review_count`; `None` when
        /// reviews are not required at all.
        required_approving_review_count: Option<u32>,
        /// Approvals are dismissed when new commits are pushed.
        dismiss_stale_reviews: bool,
        /// Code-owner review required.
        require_code_owner_reviews: bool,
        /// The last pusher cannot approve.
        require_last_push_approval: bool,
        /// Whether the rules bind administrators too.
        enforce_admins: bool,
        /// The raw response body, for the auditor.
        raw: serde_json::Value,
    },
    /// GitHub answered 404 "Branch not protected": a fact, not an error.
    NotProtected {
        /// GitHub's message.
        message: String,
    },
    /// The protection could not be read (e.g. the token lacks admin rights).
    Unreadable {
        /// The error.
        error: String,
    },
}

/// The pull-request rule of a ruleset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestRule {
    /// Approvals required.
    pub required_approving_review_count: u32,
    /// Approvals dismissed on push.
    pub dismiss_stale_reviews_on_push: bool,
    /// Code-owner review required.
    pub require_code_owner_review: bool,
    /// The last pusher cannot approve.
    pub require_last_push_approval: bool,
}

/// A ruleset that applies to the branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ruleset {
    /// Ruleset id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// `Repository` or `Organization` (where it is defined).
    pub source_type: Option<String>,
    /// `owner/repo` or the organisation.
    pub source: Option<String>,
    /// `active`, `evaluate` or `disabled`.
    pub enforcement: String,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last changed.
    pub updated_at: Option<DateTime<Utc>>,
    /// The pull-request rule, when the ruleset has one.
    pub pull_request: Option<PullRequestRule>,
    /// Rule types it contains (`pull_request`, `deletion`, ...).
    pub rule_types: Vec<String>,
    /// Who may bypass it (`actor_type`, `actor_id`, `bypass_mode`), as GitHub gives them.
    pub bypass_actors: Vec<serde_json::Value>,
    /// The raw ruleset, for the auditor.
    pub raw: serde_json::Value,
}

/// One rule-suite evaluation of a push to the branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSuite {
    /// Rule-suite id.
    pub id: u64,
    /// Who pushed.
    pub actor_name: Option<String>,
    /// Commit before the push.
    pub before_sha: Option<String>,
    /// Commit after the push (the merge commit for a PR merge).
    pub after_sha: Option<String>,
    /// The ref.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// When.
    pub pushed_at: Option<DateTime<Utc>>,
    /// `pass`, `fail` or `bypass`.
    pub result: String,
    /// What the result would be were every rule active.
    pub evaluation_result: Option<String>,
}

/// The rule-suite history read for the branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RuleSuites {
    /// Read.
    Collected {
        /// The `time_period` asked for (GitHub's longest is `month`).
        time_period: String,
        /// The earliest time the history can cover: collection time minus the period.
        covers_from: DateTime<Utc>,
        /// Every `bypass` evaluation on the branch within that window.
        bypasses: Vec<RuleSuite>,
    },
    /// Not readable (rule insights need admin rights, and older GHES lacks the endpoint).
    Unreadable {
        /// The error.
        error: String,
    },
}

/// The review rules of one repository's branch: kind `github.branch_rules`, population
/// [`BRANCH_RULES`], subject `owner/repo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchRules {
    /// `owner/repo`.
    pub repo: String,
    /// The branch.
    pub branch: String,
    /// When it was read.
    pub collected_at: DateTime<Utc>,
    /// Classic branch protection.
    pub protection: Protection,
    /// Active rulesets that apply to the branch (`GET .../rules/branches/{branch}` names them).
    pub rulesets: Vec<Ruleset>,
    /// Rule-suite history (bypasses).
    pub rule_suites: RuleSuites,
}

impl Evidence for BranchRules {
    const KIND: &'static str = "github.branch_rules";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC8.1"];
    fn subject_id(&self) -> String {
        self.repo.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(prs: Vec<AssociatedPr>, total: u64) -> Commit {
        let nobody = GitPerson {
            login: None,
            name: None,
            email: None,
        };
        Commit {
            repo: "acme/api".into(),
            branch: "main".into(),
            oid: "c".repeat(40),
            committed_at: "2026-03-01T00:00:00Z".parse().unwrap(),
            message_headline: "x".into(),
            author: nobody.clone(),
            committer: nobody,
            pull_requests: prs,
            pull_requests_total: total,
        }
    }

    fn pr(number: u64, merged: bool, base: &str, merge: &str) -> AssociatedPr {
        AssociatedPr {
            number,
            merged,
            base_branch: base.into(),
            merge_commit: Some(merge.into()),
        }
    }

    #[test]
    fn how_a_commit_landed() {
        let history: std::collections::HashSet<String> = ["m9".to_string()].into();
        assert_eq!(commit(vec![], 0).landing(&history), Landing::DirectPush);
        // Based on `master` before the rename, merge commit in main's history.
        assert_eq!(
            commit(vec![pr(9, true, "master", "m9")], 1).landing(&history),
            Landing::PullRequest(9)
        );
        // Merged into another branch whose merge is not on main; an open PR.
        assert_eq!(
            commit(
                vec![pr(3, true, "develop", "zz"), pr(4, false, "main", "yy")],
                2
            )
            .landing(&history),
            Landing::DirectPush
        );
        // More associated PRs than the 5 read, none accounting for it: cannot tell.
        assert_eq!(
            commit(vec![pr(3, true, "develop", "zz")], 7).landing(&history),
            Landing::Unknown
        );
    }
}
