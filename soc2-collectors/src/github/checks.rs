//! Control tests over the GitHub evidence (CC8.1).
//!
//! - `github.independent_approval`: every merged PR had an approval that counts.
//! - `github.merged_under_bypass`: merges (and direct pushes) made under a ruleset bypass.
//! - `github.review_required`: the branch requires an approving review, and since when.
//! - `github.changes_via_pull_request`: every commit that landed on the branch in the period
//!   came through a merged pull request; each direct push fails.
//!
//! Each check is built for one instance and reads that instance's populations. Every
//! repository in scope gets a verdict: one the collector could not read (an empty repository
//! has no branch to read) and one with nothing merged in the period are `not_applicable`
//! with the reason, and an organisation with no repository to collect is one
//! `not_applicable` finding for the organisation, so no part of the scope passes in silence.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use soc2_evidence_core::{
    AuditPeriod, Check, CheckError, Completeness, Coverage, EvidenceStore, Finding, FindingStatus,
};

use super::config::GithubConfig;
use super::records::{
    ActorType, ApprovalDecision, BranchRules, Commit, Landing, Protection, PullRequest, Review,
    RuleSuites, BRANCH_RULES, COMMITS, PULL_REQUESTS, RULE_SUITES,
};
const CRITERIA: &[&str] = &["CC8.1"];

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Decides whether a merged PR had an independent approval: a review in state `APPROVED`, by
/// an account of type `User` that is not the PR's author, submitted no later than the merge
/// (timestamps have one-second resolution, and auto-merge can land in the approval's
/// second), never dismissed, and whose `commit_id` is the head commit at merge — an approval
/// followed by more commits does not count.
///
/// This one function decides both the `approval` stored in each `github.pull_request` record
/// and the `github.independent_approval` finding, so the two cannot disagree. The stored
/// `approval` field of `pr` is ignored. This is the strict rule (`require_approval_on_head =
/// true`); see [`evaluate_approval_with`].
pub fn evaluate_approval(pr: &PullRequest) -> ApprovalDecision {
    evaluate_approval_with(pr, true)
}

/// [`evaluate_approval`] with `[github] require_approval_on_head`: with `false`, an approval
/// of an earlier commit of the same PR (every review of a PR is of one of its commits) counts
/// too; every other condition stays.
pub fn evaluate_approval_with(
    pr: &PullRequest,
    require_approval_on_head: bool,
) -> ApprovalDecision {
    let mut reasons = Vec::new();
    let mut qualifying: Option<&Review> = None;
    let mut other_states: BTreeMap<&str, usize> = BTreeMap::new();
    let mut approvals = 0usize;
    let mut stale_approvals = Vec::new();
    for review in &pr.reviews {
        let dismissal = pr
            .dismissals
            .iter()
            .find(|d| d.review_id == Some(review.id));
        let original = if review.state == "DISMISSED" {
            dismissal
                .and_then(|d| d.original_state.as_deref())
                .unwrap_or("DISMISSED")
        } else {
            review.state.as_str()
        };
        if !original.eq_ignore_ascii_case("APPROVED") {
            *other_states.entry(original).or_default() += 1;
            continue;
        }
        approvals += 1;
        let mut why = Vec::new();
        if review.state == "DISMISSED" || dismissal.is_some() {
            match dismissal {
                Some(d) => why.push(format!(
                    "was dismissed by {} on {}",
                    d.dismissed_by.login,
                    when(d.dismissed_at)
                )),
                None => why.push("was dismissed".to_string()),
            }
        }
        match review.reviewer.actor_type {
            ActorType::User => {}
            ActorType::Bot => why.push("is by a bot".into()),
            ActorType::Deleted => why.push("is by a deleted account".into()),
            other => why.push(format!("is by an account of type {other:?}, not a User")),
        }
        if review.reviewer.same_account(&pr.author) {
            why.push("is by the PR's author".into());
        }
        match review.submitted_at {
            Some(t) if t <= pr.merged_at => {}
            Some(t) => why.push(format!("was submitted after the merge ({})", when(t))),
            None => why.push("was never submitted".into()),
        }
        match review.commit_id.as_deref() {
            Some(c) if c == pr.head_commit => {}
            Some(_) if !require_approval_on_head => {}
            Some(c) => {
                stale_approvals.push(review.id);
                why.push(format!(
                    "is stale: it approved commit {}, but the head at merge was {} (this tool's rule, require_approval_on_head = true: the approval must be of the head commit)",
                    short(c),
                    short(&pr.head_commit)
                ));
            }
            None => why.push("names no commit".into()),
        }
        if why.is_empty() {
            qualifying.get_or_insert(review);
        } else {
            reasons.push(format!(
                "approval {} by {} {}",
                review.id,
                review.reviewer.login,
                why.join(" and ")
            ));
        }
    }
    if pr.reviews.is_empty() {
        reasons.push("merged with no reviews".into());
    } else if approvals == 0 {
        let states: Vec<String> = other_states
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        reasons.push(format!(
            "no approving review (reviews: {})",
            states.join(", ")
        ));
    }
    ApprovalDecision {
        approved: qualifying.is_some(),
        approving_review_id: qualifying.map(|r| r.id),
        approved_by: qualifying.map(|r| r.reviewer.login.clone()),
        approved_commit: qualifying.and_then(|r| r.commit_id.clone()),
        stale_approvals,
        reasons,
    }
}

/// The checks of one instance, with the thresholds from its config.
pub fn checks(instance: &str, config: &GithubConfig) -> Vec<Box<dyn Check>> {
    let scope = CheckScope::new(instance, config);
    vec![
        Box::new(IndependentApprovalCheck::new(scope.clone())),
        Box::new(MergedUnderBypassCheck::new(scope.clone())),
        Box::new(ReviewRequiredCheck::new(
            scope.clone(),
            config.min_approvals(),
        )),
        Box::new(ChangesViaPullRequestCheck::new(scope)),
    ]
}

/// Why GitHub's rule-suite history reaches back no further (the reason in a `covers` window).
pub const RULE_SUITE_RETENTION: &str =
    "GitHub keeps rule suites about a month (time_period=month, 730 hours before collection)";

/// What an instance was asked to collect, so a check can give every part of that scope a
/// verdict — including the parts that left no record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckScope {
    instance: String,
    /// The configured repositories (`repos` mode); empty in `org` mode.
    repos: Vec<String>,
    /// The organisation (`org` mode).
    org: Option<String>,
    /// `[github] require_approval_on_head`.
    require_approval_on_head: bool,
}

/// Commits per repository, each with its subject id.
type CommitsByRepo = BTreeMap<String, Vec<(String, Commit)>>;

/// One merged PR for the bypass check: subject, merge time, merge commit.
type Merge = (String, DateTime<Utc>, Option<String>);

/// What changed in one repository during the period: merged PRs and commits on the branch.
#[derive(Debug, Default, Clone, Copy)]
struct Activity {
    prs: usize,
    commits: usize,
}

impl CheckScope {
    /// The scope of instance `instance` configured by `config`.
    pub fn new(instance: &str, config: &GithubConfig) -> Self {
        Self {
            instance: instance.to_string(),
            repos: config.repos.clone(),
            org: config.org.as_ref().map(|o| o.trim().to_string()),
            require_approval_on_head: config.require_approval_on_head,
        }
    }

    fn rules(&self, store: &EvidenceStore) -> Result<Vec<BranchRules>, CheckError> {
        Ok(store.records_all(&BRANCH_RULES.at(&self.instance))?)
    }

    /// The commits of the branch's history in the period, per repository; `None` when the
    /// run holds no commit population (written before it was collected).
    fn commits(&self, store: &EvidenceStore) -> Result<Option<CommitsByRepo>, CheckError> {
        let pop = COMMITS.at(&self.instance);
        if !store.has(&pop) {
            return Ok(None);
        }
        let mut out = CommitsByRepo::new();
        for rec in store.records(&pop)? {
            let rec = rec?;
            out.entry(rec.data.repo.clone())
                .or_default()
                .push((rec.subject_id, rec.data));
        }
        Ok(Some(out))
    }

    /// Merged PRs and commits per repository, for the nothing-in-scope rule.
    fn activity(&self, store: &EvidenceStore) -> Result<HashMap<String, Activity>, CheckError> {
        let mut out: HashMap<String, Activity> = HashMap::new();
        for rec in store.records(&PULL_REQUESTS.at(&self.instance))? {
            out.entry(rec?.data.repo).or_default().prs += 1;
        }
        if let Some(commits) = self.commits(store)? {
            for (repo, list) in commits {
                out.entry(repo).or_default().commits += list.len();
            }
        }
        Ok(out)
    }

    /// The `not_applicable` finding for a repository that changed nothing in the period.
    fn idle(&self, check: &dyn Check, r: &BranchRules) -> Finding {
        Finding::nothing_in_scope(
            check.id(),
            check.criteria(),
            r.repo.clone(),
            &format!(
                "{}: no pull requests merged into {} and no commits on it in the period",
                r.repo, r.branch
            ),
        )
        .with_evidence(PULL_REQUESTS.at(&self.instance).evidence_file())
        .with_evidence(COMMITS.at(&self.instance).evidence_file())
    }

    /// `not_applicable` findings for the parts of the scope that left no branch-rules record:
    /// a configured repository the collector skipped (it does so only for a repository with
    /// no default branch, i.e. an empty one, and notes it in provenance), or an organisation
    /// with no repository to collect.
    fn uncollected(&self, check: &dyn Check, rules: &[BranchRules]) -> Vec<Finding> {
        let collected: BTreeSet<&str> = rules.iter().map(|r| r.repo.as_str()).collect();
        let mut out: Vec<Finding> = self
            .repos
            .iter()
            .filter(|r| !collected.contains(r.as_str()))
            .map(|repo| {
                Finding::new(
                    check.id(),
                    check.criteria(),
                    FindingStatus::NotApplicable,
                    repo.clone(),
                    format!(
                        "{repo}: no branch rules were collected for it, so there is nothing to judge (the collector skips a repository with no default branch, i.e. an empty one, and says so in the provenance notes)"
                    ),
                )
                .with_evidence(PULL_REQUESTS.at(&self.instance).evidence_file())
            })
            .collect();
        if let Some(org) = self.org.as_ref().filter(|_| rules.is_empty()) {
            out.push(
                Finding::new(
                    check.id(),
                    check.criteria(),
                    FindingStatus::NotApplicable,
                    org.clone(),
                    format!(
                        "organisation {org} has no non-archived repository to judge (see the provenance notes)"
                    ),
                )
                .with_evidence(BRANCH_RULES.at(&self.instance).evidence_file()),
            );
        }
        out
    }
}

/// What the branch rules themselves say about stale approvals: classic protection's
/// `dismiss_stale_reviews` and each ruleset's `dismiss_stale_reviews_on_push`.
fn stale_review_rule(r: &BranchRules) -> String {
    let mut parts = Vec::new();
    let mut dismisses = false;
    match &r.protection {
        Protection::Protected {
            dismiss_stale_reviews,
            ..
        } => {
            dismisses |= *dismiss_stale_reviews;
            parts.push(format!(
                "branch protection dismiss_stale_reviews = {dismiss_stale_reviews}"
            ));
        }
        Protection::NotProtected { .. } => parts.push("no classic branch protection".into()),
        Protection::Unreadable { .. } => parts.push("branch protection unreadable".into()),
    }
    for rs in &r.rulesets {
        if let Some(pr) = &rs.pull_request {
            if rs.enforcement == "active" {
                dismisses |= pr.dismiss_stale_reviews_on_push;
            }
            parts.push(format!(
                "ruleset \"{}\" ({}) dismiss_stale_reviews_on_push = {}",
                rs.name, rs.enforcement, pr.dismiss_stale_reviews_on_push
            ));
        }
    }
    let verdict = if dismisses {
        "GitHub itself dismisses approvals of earlier commits on this branch"
    } else {
        "GitHub's rules on this branch do not dismiss approvals of earlier commits, so GitHub accepted it; set require_approval_on_head = false to accept it too"
    };
    format!(
        "what the branch rule itself requires ({}, read {}): {}; {verdict}",
        r.branch,
        r.collected_at.format("%Y-%m-%d"),
        parts.join(", ")
    )
}

/// `github.independent_approval`: every PR merged in the period had an approval by a person
/// other than its author, not dismissed, on the head commit at merge (unless
/// `require_approval_on_head = false`), before the merge. A repository with no PR merged and
/// no commit in the period gets one `not_applicable` finding.
#[derive(Debug, Clone)]
pub struct IndependentApprovalCheck {
    scope: CheckScope,
}

impl IndependentApprovalCheck {
    /// The check over one instance's scope.
    pub fn new(scope: CheckScope) -> Self {
        Self { scope }
    }
}

impl Check for IndependentApprovalCheck {
    fn id(&self) -> &str {
        "github.independent_approval"
    }

    fn criteria(&self) -> &[&'static str] {
        CRITERIA
    }

    fn description(&self) -> &str {
        "Each pull request merged in the period was approved, before the merge and on the head commit at merge, by a person other than its author, and the approval was not dismissed."
    }

    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let rules = self.scope.rules(store)?;
        let by_repo: HashMap<&str, &BranchRules> =
            rules.iter().map(|r| (r.repo.as_str(), r)).collect();
        let prs = PULL_REQUESTS.at(&self.scope.instance);
        let mut out = self.scope.uncollected(self, &rules);
        let mut merged: BTreeMap<String, usize> = BTreeMap::new();
        let on_head = self.scope.require_approval_on_head;
        for rec in store.records(&prs)? {
            let rec = rec?;
            let pr = &rec.data;
            *merged.entry(pr.repo.clone()).or_default() += 1;
            let d = evaluate_approval_with(pr, on_head);
            let (status, summary) = if d.approved {
                let on = match d.approved_commit.as_deref() {
                    Some(c) if c != pr.head_commit => format!(
                        "on earlier commit {} of the PR (head at merge {}; accepted because require_approval_on_head = false)",
                        short(c),
                        short(&pr.head_commit)
                    ),
                    _ => format!("on head commit {}", short(&pr.head_commit)),
                };
                (
                    FindingStatus::Pass,
                    format!(
                        "approved by {} (review {}) {on} before the merge on {}",
                        d.approved_by.as_deref().unwrap_or("?"),
                        d.approving_review_id.unwrap_or_default(),
                        when(pr.merged_at)
                    ),
                )
            } else {
                let mut summary = format!(
                    "merged on {} by {} without a qualifying approval: {}",
                    when(pr.merged_at),
                    pr.merged_by
                        .as_ref()
                        .map_or("unknown", |a| a.login.as_str()),
                    d.reasons.join("; ")
                );
                if !d.stale_approvals.is_empty() {
                    summary.push_str("; ");
                    match by_repo.get(pr.repo.as_str()) {
                        Some(r) => summary.push_str(&stale_review_rule(r)),
                        None => summary.push_str("the branch rules were not collected, so what GitHub itself required is unknown"),
                    }
                }
                (FindingStatus::Fail, summary)
            };
            out.push(
                Finding::new(self.id(), CRITERIA, status, rec.subject_id.clone(), summary)
                    .with_evidence(prs.evidence(rec.subject_id)),
            );
        }
        let activity = self.scope.activity(store)?;
        for r in rules.iter().filter(|r| !merged.contains_key(&r.repo)) {
            let commits = activity.get(&r.repo).map_or(0, |a| a.commits);
            out.push(if commits == 0 {
                self.scope.idle(self, r)
            } else {
                Finding::nothing_in_scope(
                    self.id(),
                    CRITERIA,
                    r.repo.clone(),
                    &format!(
                        "{}: no pull requests merged into {} in the period ({commits} commit(s) reached it without one: see github.changes_via_pull_request)",
                        r.repo, r.branch
                    ),
                )
                .with_evidence(prs.evidence_file())
            });
        }
        Ok(out)
    }
}

/// `github.merged_under_bypass`: a PR whose merge commit was pushed under a ruleset bypass is
/// flagged, naming the actor; so is a push to the branch under bypass that no PR explains.
/// GitHub keeps rule suites about a month, so a merge before that window is an `error` ("cannot
/// establish before …"), never a `pass`; each merge inside it that no bypass touched passes.
/// Each repository also gets one finding on the pushes no PR explains, which is an `error`
/// when the window starts after the period does.
#[derive(Debug, Clone)]
pub struct MergedUnderBypassCheck {
    scope: CheckScope,
}

impl MergedUnderBypassCheck {
    /// The check over one instance's scope.
    pub fn new(scope: CheckScope) -> Self {
        Self { scope }
    }

    /// The rule-suite window of `r`: the `rule_suites` population's `covers`, or — for runs
    /// written before that population existed — the window recorded in the branch rules.
    fn window(
        &self,
        store: &EvidenceStore,
        r: &BranchRules,
        covers_from: DateTime<Utc>,
    ) -> Completeness {
        let pop = RULE_SUITES.at(&self.scope.instance);
        if store.has(&pop) {
            let c = store.completeness(&pop);
            // Scopes missing from an unwindowed population are other repositories' problem
            // (their rule suites were unreadable, which is reported for them).
            if c.complete || c.coverage.is_some() || c.affects(&r.repo) {
                return c;
            }
            return Completeness::whole(c.file);
        }
        Completeness::windowed(
            pop.evidence_file().file,
            Coverage::new(covers_from, r.collected_at, RULE_SUITE_RETENTION),
        )
    }
}

impl Check for MergedUnderBypassCheck {
    fn id(&self) -> &str {
        "github.merged_under_bypass"
    }

    fn criteria(&self) -> &[&'static str] {
        CRITERIA
    }

    fn description(&self) -> &str {
        "No change reached the branch by bypassing its rulesets (GitHub rule-suite history)."
    }

    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let period = *store.period();
        let rules = self.scope.rules(store)?;
        let prs = PULL_REQUESTS.at(&self.scope.instance);
        let rules_ref = BRANCH_RULES.at(&self.scope.instance);
        let suites_ref = RULE_SUITES.at(&self.scope.instance);
        // Per repo: (subject, merged at, merge commit) of each merged PR.
        let mut merges: HashMap<String, Vec<Merge>> = HashMap::new();
        for rec in store.records(&prs)? {
            let rec = rec?;
            merges.entry(rec.data.repo).or_default().push((
                rec.subject_id,
                rec.data.merged_at,
                rec.data.merge_commit,
            ));
        }
        let activity = self.scope.activity(store)?;
        let mut out = self.scope.uncollected(self, &rules);
        for r in &rules {
            let repo_merges = merges.get(&r.repo).map(Vec::as_slice).unwrap_or(&[]);
            let (covers_from, bypasses) = match &r.rule_suites {
                RuleSuites::Collected {
                    covers_from,
                    bypasses,
                    ..
                } => (*covers_from, bypasses),
                RuleSuites::Unreadable { error } => {
                    out.push(
                        Finding::cannot_establish(
                            self.id(),
                            CRITERIA,
                            r.repo.clone(),
                            format!("the rule-suite history could not be read: {error}"),
                        )
                        .with_evidence(rules_ref.evidence(r.repo.clone())),
                    );
                    continue;
                }
            };
            let in_period: Vec<_> = bypasses
                .iter()
                .filter(|b| b.pushed_at.is_none_or(|t| period.contains(t)))
                .collect();
            let a = activity.get(&r.repo).copied().unwrap_or_default();
            if a.prs == 0 && a.commits == 0 && in_period.is_empty() {
                out.push(self.scope.idle(self, r));
                continue;
            }
            let window = self.window(store, r, covers_from);
            let by_after: HashMap<&str, &super::records::RuleSuite> = bypasses
                .iter()
                .filter_map(|b| b.after_sha.as_deref().map(|s| (s, b)))
                .collect();
            let mut explained: BTreeSet<u64> = BTreeSet::new();
            for (subject, merged_at, merge_commit) in repo_merges {
                let bypass = merge_commit.as_deref().and_then(|m| by_after.get(m));
                let finding = match bypass {
                    Some(b) => {
                        explained.insert(b.id);
                        Finding::new(
                            self.id(),
                            CRITERIA,
                            FindingStatus::Fail,
                            subject.clone(),
                            format!(
                                "merged under a ruleset bypass by {} on {}: merge commit {} is rule suite {} with result \"bypass\"",
                                b.actor_name.as_deref().unwrap_or("an unknown actor"),
                                b.pushed_at.map(when).unwrap_or_else(|| "?".into()),
                                short(b.after_sha.as_deref().unwrap_or_default()),
                                b.id
                            ),
                        )
                    }
                    None => match window.why_not(*merged_at) {
                        Some(why) => Finding::cannot_establish(
                            self.id(),
                            CRITERIA,
                            subject.clone(),
                            format!("merged on {}: whether under a ruleset bypass {why}", when(*merged_at)),
                        ),
                        None => Finding::new(
                            self.id(),
                            CRITERIA,
                            FindingStatus::Pass,
                            subject.clone(),
                            format!(
                                "merged on {}, inside the rule-suite history (from {}); no bypass rule suite names merge commit {}",
                                when(*merged_at),
                                covers_from.format("%Y-%m-%d"),
                                merge_commit.as_deref().map_or("(none)", short)
                            ),
                        ),
                    },
                };
                out.push(
                    finding
                        .with_evidence(prs.evidence(subject.clone()))
                        .with_evidence(suites_ref.evidence_file()),
                );
            }
            let unexplained: Vec<String> = in_period
                .iter()
                .filter(|b| !explained.contains(&b.id))
                .map(|b| {
                    format!(
                        "{} by {} on {} (rule suite {})",
                        short(b.after_sha.as_deref().unwrap_or("unknown")),
                        b.actor_name.as_deref().unwrap_or("an unknown actor"),
                        b.pushed_at.map(when).unwrap_or_else(|| "?".into()),
                        b.id
                    )
                })
                .collect();
            let coverage = coverage_note(&period, covers_from);
            let finding = if !unexplained.is_empty() {
                Finding::new(
                    self.id(),
                    CRITERIA,
                    FindingStatus::Fail,
                    r.repo.clone(),
                    format!(
                        "{} push(es) to {} bypassed rulesets without a pull request: {}; {coverage}",
                        unexplained.len(),
                        r.branch,
                        unexplained.join(", ")
                    ),
                )
            } else if let Some(why) = window.why_not(period.start_utc()) {
                Finding::cannot_establish(
                    self.id(),
                    CRITERIA,
                    r.repo.clone(),
                    format!(
                        "no push to {} bypassed a ruleset without a pull request from {} on; earlier in the period {why}",
                        r.branch,
                        covers_from.format("%Y-%m-%d %H:%M UTC")
                    ),
                )
            } else {
                Finding::new(
                    self.id(),
                    CRITERIA,
                    FindingStatus::Pass,
                    r.repo.clone(),
                    format!(
                        "no push to {} bypassed a ruleset without being reported above; {} merged PRs compared with {} bypass rule suite(s); {coverage}",
                        r.branch,
                        repo_merges.len(),
                        bypasses.len()
                    ),
                )
            };
            out.push(finding.with_evidence(rules_ref.evidence(r.repo.clone())));
        }
        Ok(out)
    }
}

fn coverage_note(period: &AuditPeriod, covers_from: DateTime<Utc>) -> String {
    if covers_from <= period.start_utc() {
        "the rule-suite history covers the whole period".into()
    } else {
        format!(
            "GitHub keeps rule-suite history for a limited time: it covers only from {}, so bypasses earlier in the period are not visible here (collect at least monthly)",
            covers_from.format("%Y-%m-%d")
        )
    }
}

/// `github.changes_via_pull_request`: every commit in the branch's history committed during
/// the period came through a merged pull request (its base is the branch, or its merge
/// commit is in the branch's history — so a PR based on `master` before a rename to `main`
/// counts). Each direct push fails, naming the commit, its author and committer, and the
/// pusher when a bypass rule suite names it. A repository with no commit in the period is
/// `not_applicable`.
#[derive(Debug, Clone)]
pub struct ChangesViaPullRequestCheck {
    scope: CheckScope,
}

impl ChangesViaPullRequestCheck {
    /// The check over one instance's scope.
    pub fn new(scope: CheckScope) -> Self {
        Self { scope }
    }
}

impl Check for ChangesViaPullRequestCheck {
    fn id(&self) -> &str {
        "github.changes_via_pull_request"
    }

    fn criteria(&self) -> &[&'static str] {
        CRITERIA
    }

    fn description(&self) -> &str {
        "Every commit that landed on the branch in the period came through a merged pull request; none was pushed directly."
    }

    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let rules = self.scope.rules(store)?;
        let commits_ref = COMMITS.at(&self.scope.instance);
        let mut out = self.scope.uncollected(self, &rules);
        let Some(commits) = self.scope.commits(store)? else {
            for r in &rules {
                out.push(
                    Finding::cannot_establish(
                        self.id(),
                        CRITERIA,
                        r.repo.clone(),
                        format!("{}: no commit history of {} was collected (commits.jsonl is missing; collect again with this version)", r.repo, r.branch),
                    )
                    .with_evidence(commits_ref.evidence_file()),
                );
            }
            return Ok(out);
        };
        for r in &rules {
            let list = commits.get(&r.repo).map(Vec::as_slice).unwrap_or(&[]);
            if list.is_empty() {
                out.push(
                    Finding::nothing_in_scope(
                        self.id(),
                        CRITERIA,
                        r.repo.clone(),
                        &format!("{}: no commits on {} in the period", r.repo, r.branch),
                    )
                    .with_evidence(commits_ref.evidence_file()),
                );
                continue;
            }
            let history: HashSet<String> = list.iter().map(|(_, c)| c.oid.clone()).collect();
            let pushers: HashMap<&str, &super::records::RuleSuite> = match &r.rule_suites {
                RuleSuites::Collected { bypasses, .. } => bypasses
                    .iter()
                    .filter_map(|b| b.after_sha.as_deref().map(|s| (s, b)))
                    .collect(),
                RuleSuites::Unreadable { .. } => HashMap::new(),
            };
            let mut via: BTreeSet<u64> = BTreeSet::new();
            let mut gaps = 0usize;
            for (subject, c) in list {
                match c.landing(&history) {
                    Landing::PullRequest(n) => {
                        via.insert(n);
                    }
                    Landing::DirectPush => {
                        gaps += 1;
                        let pusher = match pushers.get(c.oid.as_str()) {
                            Some(b) => format!(
                                "pushed by {} under a ruleset bypass (rule suite {})",
                                b.actor_name.as_deref().unwrap_or("an unknown actor"),
                                b.id
                            ),
                            None => "pusher not recorded by GitHub's commit data (the committer is the closest evidence)".into(),
                        };
                        out.push(
                            Finding::new(
                                self.id(),
                                CRITERIA,
                                FindingStatus::Fail,
                                subject.clone(),
                                format!(
                                    "direct push: commit {} \"{}\" landed on {} (committed {}) without a merged pull request{}; author {}, committer {}; {pusher}",
                                    short(&c.oid),
                                    c.message_headline,
                                    c.branch,
                                    when(c.committed_at),
                                    if c.pull_requests.is_empty() {
                                        String::new()
                                    } else {
                                        format!(
                                            " (associated, not merged into it: {})",
                                            c.pull_requests
                                                .iter()
                                                .map(|p| format!("#{} merged={} base={}", p.number, p.merged, p.base_branch))
                                                .collect::<Vec<_>>()
                                                .join(", ")
                                        )
                                    },
                                    c.author.describe(),
                                    c.committer.describe()
                                ),
                            )
                            .with_evidence(commits_ref.evidence(subject.clone())),
                        );
                    }
                    Landing::Unknown => {
                        gaps += 1;
                        out.push(
                            Finding::cannot_establish(
                                self.id(),
                                CRITERIA,
                                subject.clone(),
                                format!(
                                    "commit {} on {}: GitHub associates {} pull requests with it, {} were read and none merged into the branch; cannot tell whether it came through one",
                                    short(&c.oid),
                                    c.branch,
                                    c.pull_requests_total,
                                    c.pull_requests.len()
                                ),
                            )
                            .with_evidence(commits_ref.evidence(subject.clone())),
                        );
                    }
                }
            }
            if gaps == 0 {
                out.push(
                    Finding::new(
                        self.id(),
                        CRITERIA,
                        FindingStatus::Pass,
                        r.repo.clone(),
                        format!(
                            "all {} commit(s) on {} in the period came through {} merged pull request(s)",
                            list.len(),
                            r.branch,
                            via.len()
                        ),
                    )
                    .with_evidence(commits_ref.evidence_file()),
                );
            }
        }
        Ok(out)
    }
}

/// `github.review_required`: the branch requires at least `min_approvals` approving reviews,
/// by classic protection or an active ruleset, and since when — so the auditor sees any part
/// of the period it was not enforced. A repository with no merged PR and no commit in the
/// period is `not_applicable`.
#[derive(Debug, Clone)]
pub struct ReviewRequiredCheck {
    scope: CheckScope,
    /// Approving reviews the branch must require (at least 1).
    min_approvals: u32,
}

impl ReviewRequiredCheck {
    /// The check over one instance's scope, expecting `min_approvals` (at least 1).
    pub fn new(scope: CheckScope, min_approvals: u32) -> Self {
        Self {
            scope,
            min_approvals: min_approvals.max(1),
        }
    }
}

impl Check for ReviewRequiredCheck {
    fn id(&self) -> &str {
        "github.review_required"
    }

    fn criteria(&self) -> &[&'static str] {
        CRITERIA
    }

    fn description(&self) -> &str {
        "The branch pull requests merge into requires an approving review (branch protection or ruleset) throughout the period."
    }

    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let period = *store.period();
        let rules = self.scope.rules(store)?;
        let rules_ref = BRANCH_RULES.at(&self.scope.instance);
        let activity = self.scope.activity(store)?;
        let mut out = self.scope.uncollected(self, &rules);
        for r in &rules {
            let a = activity.get(&r.repo).copied().unwrap_or_default();
            if a.prs == 0 && a.commits == 0 {
                out.push(self.scope.idle(self, r));
                continue;
            }
            let (status, summary) = self.evaluate(r, &period);
            out.push(
                Finding::new(self.id(), CRITERIA, status, r.repo.clone(), summary)
                    .with_evidence(rules_ref.evidence(r.repo.clone())),
            );
        }
        Ok(out)
    }
}

impl ReviewRequiredCheck {
    fn evaluate(&self, r: &BranchRules, period: &AuditPeriod) -> (FindingStatus, String) {
        let min = self.min_approvals;
        let mut sources: Vec<String> = Vec::new();
        let mut caveats: Vec<String> = Vec::new();
        // The earliest instant enforcement is known to start; `None` = not known to have a
        // start inside the period (classic protection carries no timestamps).
        let mut enforced_whole_period = false;
        let mut earliest_start: Option<DateTime<Utc>> = None;
        let mut unreadable = None;
        match &r.protection {
            Protection::Protected {
                required_approving_review_count: Some(n),
                enforce_admins,
                dismiss_stale_reviews,
                ..
            } if *n >= min => {
                enforced_whole_period = true;
                sources.push(format!(
                    "branch protection requires {n} approval(s) (dismiss stale reviews: {}, binds admins: {})",
                    yes_no(*dismiss_stale_reviews),
                    yes_no(*enforce_admins)
                ));
                caveats.push("GitHub does not report when classic branch protection was set up; the organisation audit log (protected_branch.* events) shows it".into());
                if !enforce_admins {
                    caveats.push("administrators can merge without review".into());
                }
            }
            Protection::Protected {
                required_approving_review_count,
                ..
            } => caveats.push(format!(
                "branch protection requires {} approval(s)",
                required_approving_review_count.unwrap_or(0)
            )),
            Protection::NotProtected { .. } => {
                caveats.push("no classic branch protection".into());
            }
            Protection::Unreadable { error } => {
                unreadable = Some(error.clone());
            }
        }
        for rs in &r.rulesets {
            let Some(pr_rule) = &rs.pull_request else {
                continue;
            };
            if rs.enforcement != "active" || pr_rule.required_approving_review_count < min {
                caveats.push(format!(
                    "ruleset \"{}\" ({}) requires {} approval(s)",
                    rs.name, rs.enforcement, pr_rule.required_approving_review_count
                ));
                continue;
            }
            let created = rs.created_at;
            sources.push(format!(
                "ruleset \"{}\" (id {}) requires {} approval(s) since {} (dismiss stale reviews: {}, bypass actors: {})",
                rs.name,
                rs.id,
                pr_rule.required_approving_review_count,
                created.map_or("an unknown date".into(), |c| c.format("%Y-%m-%d").to_string()),
                yes_no(pr_rule.dismiss_stale_reviews_on_push),
                if rs.bypass_actors.is_empty() { "none".to_string() } else { describe_bypass(&rs.bypass_actors) }
            ));
            if let Some(u) = rs.updated_at {
                if created.is_some_and(|c| u > c) && u > period.start_utc() {
                    caveats.push(format!(
                        "ruleset \"{}\" was changed on {}; its earlier settings are not visible",
                        rs.name,
                        u.format("%Y-%m-%d")
                    ));
                }
            }
            match created {
                Some(c) if c > period.start_utc() => {
                    earliest_start = Some(earliest_start.map_or(c, |e| e.min(c)));
                }
                _ => enforced_whole_period = true,
            }
        }
        let tail = if caveats.is_empty() {
            String::new()
        } else {
            format!("; {}", caveats.join("; "))
        };
        if sources.is_empty() {
            if let Some(error) = unreadable {
                return (
                    FindingStatus::Error,
                    format!(
                        "branch {}: no active ruleset requires review and the branch protection could not be read: {error}",
                        r.branch
                    ),
                );
            }
            return (
                FindingStatus::Fail,
                format!(
                    "branch {} does not require an approving review{tail}",
                    r.branch
                ),
            );
        }
        let found = sources.join("; ");
        match (enforced_whole_period, earliest_start) {
            (false, Some(start)) => {
                let gap_end = start.date_naive().pred_opt().unwrap_or(start.date_naive());
                let days = (start.date_naive() - period.start()).num_days();
                (
                    FindingStatus::Fail,
                    format!(
                        "branch {}: required reviews only enforced from {}; not enforced {}..{} ({days} day(s) of the period): {found}{tail}",
                        r.branch,
                        start.format("%Y-%m-%d"),
                        period.start(),
                        gap_end
                    ),
                )
            }
            _ => (
                FindingStatus::Pass,
                format!("branch {}: {found}{tail}", r.branch),
            ),
        }
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn describe_bypass(actors: &[serde_json::Value]) -> String {
    actors
        .iter()
        .map(|a| {
            let t = a["actor_type"].as_str().unwrap_or("?");
            let id = a["actor_id"]
                .as_u64()
                .map(|i| i.to_string())
                .unwrap_or_else(|| "-".into());
            let label = match (t, id.as_str()) {
                ("RepositoryRole", "5") => "RepositoryRole admin".to_string(),
                ("RepositoryRole", "4") => "RepositoryRole write".to_string(),
                ("RepositoryRole", "2") => "RepositoryRole maintain".to_string(),
                ("OrganizationAdmin", _) => "OrganizationAdmin".to_string(),
                _ => format!("{t} {id}"),
            };
            format!(
                "{label} ({})",
                a["bypass_mode"].as_str().unwrap_or("always")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::records::{Actor, Dismissal};
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn pr(reviews: Vec<Review>) -> PullRequest {
        PullRequest {
            repo: "acme/api".into(),
            number: 7,
            title: "t".into(),
            url: "u".into(),
            author: Actor::user("erinw"),
            created_at: t("2026-03-01T10:00:00Z"),
            merged_at: t("2026-03-02T10:00:00Z"),
            merged_by: Some(Actor::user("erinw")),
            base_branch: "main".into(),
            head_branch: "erinw/change".into(),
            head_commit: "a".repeat(40),
            merge_commit: Some("m".repeat(40)),
            reviews,
            dismissals: Vec::new(),
            approval: ApprovalDecision::default(),
        }
    }

    fn review(id: u64, by: Actor, state: &str) -> Review {
        Review {
            id,
            reviewer: by,
            author_association: "MEMBER".into(),
            state: state.into(),
            submitted_at: Some(t("2026-03-02T08:00:00Z")),
            commit_id: Some("a".repeat(40)),
        }
    }

    #[test]
    fn a_human_approval_on_the_head_commit_passes() {
        let d = evaluate_approval(&pr(vec![review(1, Actor::user("bob-okafor"), "APPROVED")]));
        assert!(d.approved, "{d:?}");
        assert_eq!(d.approved_by.as_deref(), Some("bob-okafor"));
    }

    #[test]
    fn each_disqualification_is_named() {
        let d = evaluate_approval(&pr(vec![]));
        assert!(!d.approved);
        assert_eq!(d.reasons, ["merged with no reviews"]);

        let d = evaluate_approval(&pr(vec![review(1, Actor::user("bob"), "COMMENTED")]));
        assert_eq!(d.reasons, ["no approving review (reviews: 1 COMMENTED)"]);

        let bot = Actor::from_graphql(Some("Bot"), Some("github-actions"));
        assert_eq!(bot.login, "github-actions[bot]");
        let d = evaluate_approval(&pr(vec![review(1, bot, "APPROVED")]));
        assert!(d.reasons[0].contains("is by a bot"), "{d:?}");

        let d = evaluate_approval(&pr(vec![review(1, Actor::user("ErinW"), "APPROVED")]));
        assert!(d.reasons[0].contains("PR's author"), "{d:?}");

        let mut stale = review(1, Actor::user("bob"), "APPROVED");
        stale.commit_id = Some("b".repeat(40));
        let d = evaluate_approval(&pr(vec![stale]));
        assert!(d.reasons[0].contains("is stale"), "{d:?}");
        assert!(d.reasons[0].contains("bbbbbbb"), "{d:?}");

        let mut late = review(1, Actor::user("bob"), "APPROVED");
        late.submitted_at = Some(t("2026-03-02T10:00:01Z"));
        assert!(evaluate_approval(&pr(vec![late])).reasons[0].contains("after the merge"));

        let mut p = pr(vec![review(1, Actor::user("bob"), "DISMISSED")]);
        p.dismissals.push(Dismissal {
            review_id: Some(1),
            dismissed_by: Actor::user("carolschmidt"),
            dismissed_at: t("2026-03-02T09:00:00Z"),
            original_state: Some("APPROVED".into()),
            message: None,
        });
        let d = evaluate_approval(&p);
        assert!(!d.approved);
        assert!(d.reasons[0].contains("dismissed by carolschmidt"), "{d:?}");

        let d = evaluate_approval(&pr(vec![review(1, Actor::deleted(), "APPROVED")]));
        assert!(d.reasons[0].contains("deleted account"), "{d:?}");
    }

    #[test]
    fn a_deleted_author_does_not_block_an_approval() {
        let mut p = pr(vec![review(1, Actor::user("carolschmidt"), "APPROVED")]);
        p.author = Actor::from_graphql(None, None);
        assert_eq!(p.author, Actor::deleted());
        assert!(evaluate_approval(&p).approved);
        // Nor can a deleted reviewer be taken for a deleted author.
        assert!(!Actor::deleted().same_account(&Actor::deleted()));
    }

    #[test]
    fn rest_ghost_is_the_deleted_account() {
        assert_eq!(
            Actor::from_rest("ghost", Some(10137), "User"),
            Actor::deleted()
        );
        assert_eq!(
            Actor::from_rest("dependabot[bot]", Some(49699333), "Bot").actor_type,
            ActorType::Bot
        );
    }
}
