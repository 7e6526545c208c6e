//! The GitHub collector: pull requests merged in the audit period, with who wrote, approved and
//! merged them, and the review rules of the branch they merged into — the change-management
//! population auditors sample for CC8.1.
//!
//! Populations (collector `github`):
//! - `github/pull_requests.jsonl` (kind `github.pull_request`, subject `owner/repo#number`):
//!   each PR merged into the branch during the period, with author, merger, head commit at
//!   merge, merge commit, every review (reviewer and type, state, time, commit reviewed),
//!   every dismissal (who, when, original state) and the approval decision. Fetched over
//!   GraphQL, 50 PRs per request, newest-updated first, stopping once PRs were last updated
//!   before the period; nested reviews and dismissals are paged only where they overflow.
//!   Provenance reconciles the count with GitHub search's count for the period.
//! - `github/branch_rules.jsonl` (kind `github.branch_rules`, subject `owner/repo`): classic
//!   branch protection (a 404 "Branch not protected" is recorded as a fact), the active
//!   rulesets that apply to the branch (approvals required, stale-review dismissal, bypass
//!   actors, enforcement, created/updated), and every `bypass` in the rule-suite history.
//!
//! Checks (criteria CC8.1): `github.independent_approval`, `github.merged_under_bypass`,
//! `github.review_required` — see [`checks`](mod@checks).
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
//! ```
//!
//! Library use, without environment variables:
//!
//! ```
//! use soc2_collectors::github::{GithubCollector, GithubSettings, RepoScope};
//! use soc2_evidence_core::http::Secret;
//! let mut settings = GithubSettings::new(
//!     "https://api.github.com",
//!     Secret::new("github_pat_example"),
//!     RepoScope::Org("acme".into()),
//! );
//! settings.branch = Some("main".into());
//! let collector = GithubCollector::new(settings).unwrap();
//! let checks = soc2_collectors::github::default_checks();
//! assert_eq!(checks.len(), 3);
//! # let _ = collector;
//! ```

mod api;
pub mod checks;
mod collector;
mod config;
pub mod records;
mod retry;

pub use api::{graphql_url, API_VERSION, MERGED_PRS_QUERY};
pub use checks::{
    evaluate_approval, IndependentApprovalCheck, MergedUnderBypassCheck, ReviewRequiredCheck,
    ReviewRequiredSettings,
};
pub use collector::GithubCollector;
pub use config::{GithubConfig, GithubSettings, RepoScope};
pub use retry::{GithubRetry, SECONDARY_LIMIT_MIN_WAIT};

use soc2_evidence_core::Check;

/// The collector's name: its directory in the run output.
pub const COLLECTOR: &str = "github";
/// Population of merged pull requests.
pub const PULL_REQUESTS: &str = "pull_requests";
/// Population of branch rules.
pub const BRANCH_RULES: &str = "branch_rules";

/// The GitHub checks with `settings` for `github.review_required`.
pub fn checks(settings: ReviewRequiredSettings) -> Vec<Box<dyn Check>> {
    vec![
        Box::new(IndependentApprovalCheck),
        Box::new(MergedUnderBypassCheck),
        Box::new(ReviewRequiredCheck::new(settings)),
    ]
}

/// The GitHub checks with default settings.
pub fn default_checks() -> Vec<Box<dyn Check>> {
    checks(ReviewRequiredSettings::default())
}
