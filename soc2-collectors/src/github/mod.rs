//! The GitHub collector: pull requests merged in the audit period, with who wrote, approved and
//! merged them, and the review rules of the branch they merged into — the change-management
//! population auditors sample for CC8.1.
//!
//! **Continuous collection.** Branch rules are *state*, snapshotted on every run; merged pull
//! requests, commits and bypass rule suites are *events*. An incremental run reads
//! [`CollectContext::period`](soc2_evidence_core::CollectContext::period) as its window,
//! which starts at the previous successful run's time less a day of overlap: merged pull
//! requests by `mergedAt` in the window (the search `merged:` qualifier; the `updatedAt`
//! order lets paging stop early), deduplicated by `owner/repo#number`, and commits by
//! committed date (`history(since, until)`), deduplicated by `owner/repo@oid`. Rule suites
//! come from GitHub's own last month (`time_period=month`) whatever the window, deduplicated
//! by suite id; run at least monthly so none ages out.
//!
//! Populations (in the instance's directory: `github/`, or `<name>/` for a named `[[github]]`):
//! - `commits.jsonl` ([`records::COMMITS`], events; kind `github.commit`, subject
//!   `owner/repo@oid`): **the change population** — every commit in the branch's history
//!   committed during the period (GraphQL `history(since, until)`, 100 commits per request,
//!   paged with `pageInfo`), with author and committer (`{user {login} name email}`) and the
//!   first 5 `associatedPullRequests` (number, merged, base branch, merge commit) and their
//!   `totalCount`. A commit came through a pull request when one of those is merged and is
//!   either based on the branch or has its merge commit in this history; otherwise it is a
//!   direct push. Provenance puts `history.totalCount` in `reported`, the commits received in
//!   `received`, and notes how many came via PRs and how many were pushed directly; a repository
//!   whose counts differ is marked missing (`finish_incomplete_for`).
//! - `pull_requests.jsonl` ([`records::PULL_REQUESTS`], events; kind `github.pull_request`,
//!   subject `owner/repo#number`): each PR merged during the period that landed on the branch
//!   — whatever its base branch was called then: a PR merged into `master` before `master`
//!   was renamed `main` keeps `baseRefName: "master"` and is kept because its merge commit is
//!   in `main`'s history. Each record has author, merger, head branch (`head_branch`, GraphQL
//!   `headRefName` / REST `head.ref`, e.g. `feature/CHG-123-x`, which cross-system checks
//!   match change-ticket keys in), head commit at merge, merge commit, every review (reviewer
//!   and type, state, time, commit reviewed), every dismissal (who, when, original state) and
//!   the approval decision. Fetched over GraphQL, 50 PRs per request, newest-updated first,
//!   stopping once PRs were last updated before the period; nested reviews and dismissals
//!   are paged only where they overflow. Provenance reconciles the count with GitHub search's
//!   count for the period (less the PRs seen merged into other branches).
//! - `branch_rules.jsonl` ([`records::BRANCH_RULES`], state; kind `github.branch_rules`,
//!   subject `owner/repo`): classic branch protection (a 404 "Branch not protected" is
//!   recorded as a fact), the active rulesets that apply to the branch (approvals required,
//!   stale-review dismissal, bypass actors, enforcement, created/updated), and every `bypass`
//!   in the rule-suite history. Provenance counts the rules and rulesets received.
//! - `rule_suites.jsonl` ([`records::RULE_SUITES`], events; kind `github.rule_suite`,
//!   subject `owner/repo:rule_suite/<id>`): the bypass rule suites. GitHub keeps rule suites
//!   about a month, so the window is 730 hours before collection (`clock::now()`); when the
//!   period starts earlier, provenance says `covers {from, until, reason}` and
//!   `github.merged_under_bypass` reports `error` for what lies before it.
//!
//! Checks (criteria CC8.1): `github.independent_approval`, `github.merged_under_bypass`,
//! `github.review_required`, `github.changes_via_pull_request` — see
//! [`checks`](mod@checks). Each instance has its own; the findings of a named instance carry
//! its name (`oss:acme/web#52`). Every check gives a repository with no merged PR and no
//! commit in the period one `not_applicable` finding, never silence or a vacuous pass.
//!
//! The token needs read access to pull requests and contents, and — for branch protection,
//! rulesets' bypass lists and rule suites — administration read access (a classic PAT with
//! `repo`, or a fine-grained token / App with "Administration: read"). Without it those parts
//! are recorded as unreadable, and the checks that need them report `error`.
//!
//! ```toml
//! [github]
//! api_url = "https://api.github.com"   # GitHub Enterprise Server: "https://HOST/api/v3"
//! repos = ["acme/api", "acme/web"]     # or: org = "acme"  (every non-archived repository)
//! # branch = "main"                    # default: each repository's default branch
//! token_env = "GITHUB_TOKEN"
//! required_approvals = 1
//! require_approval_on_head = true      # approvals must be of the head commit at merge
//! timeout_secs = 30                    # per-request timeout
//! ```
//!
//! Library use, with the token from a map instead of the environment:
//!
//! ```
//! use soc2_evidence_core::{MapSecrets, Runner};
//! let config = soc2_collectors::registry()
//!     .parse_config(
//!         "[[github]]\nname = \"oss\"\norg = \"acme\"\nbranch = \"main\"\ntimeout_secs = 10\n",
//!         "soc2.toml",
//!         ".".as_ref(),
//!     )
//!     .unwrap();
//! let secrets = MapSecrets::default().with("GITHUB_TOKEN", "github_pat_example");
//! let runner = Runner::from_config(&config, &secrets).unwrap();
//! assert_eq!(config.instances[0].name(), "oss");
//! assert!(soc2_collectors::registry().parse_config("[github]\nrepos = [\"acme\"]\n", "soc2.toml", ".".as_ref()).is_err());
//! # let _ = runner;
//! ```

mod api;
pub mod checks;
mod collector;
mod config;
mod module;
pub mod records;
mod retry;

pub use api::{graphql_url, API_VERSION, HISTORY_QUERY, MERGED_PRS_QUERY};
pub use checks::{
    evaluate_approval, evaluate_approval_with, ChangesViaPullRequestCheck, CheckScope,
    IndependentApprovalCheck, MergedUnderBypassCheck, ReviewRequiredCheck, RULE_SUITE_RETENTION,
};
pub use collector::GithubCollector;
pub use config::{GithubConfig, GithubSettings, RepoScope};
pub use module::GithubModule;
pub use records::{BRANCH_RULES, COMMITS, PULL_REQUESTS, RULE_SUITES};
pub use retry::{GithubRetry, SECONDARY_LIMIT_MIN_WAIT};

/// The module's type: the config section and the default instance name.
pub const TYPE: &str = "github";
