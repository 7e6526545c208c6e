//! The GitHub collector: pull requests merged in the audit period, with who wrote, approved and
//! merged them, and the review rules of the branch they merged into — the change-management
//! population auditors sample for CC8.1.
//!
//! Populations (in the instance's directory: `github/`, or `<name>/` for a named `[[github]]`):
//! - `pull_requests.jsonl` ([`records::PULL_REQUESTS`], events; kind `github.pull_request`,
//!   subject `owner/repo#number`): each PR merged into the branch during the period, with
//!   author, merger, head commit at merge, merge commit, every review (reviewer and type,
//!   state, time, commit reviewed), every dismissal (who, when, original state) and the
//!   approval decision. Fetched over GraphQL, 50 PRs per request, newest-updated first,
//!   stopping once PRs were last updated before the period; nested reviews and dismissals
//!   are paged only where they overflow. Provenance reconciles the count with GitHub
//!   search's count for the period.
//! - `branch_rules.jsonl` ([`records::BRANCH_RULES`], state; kind `github.branch_rules`,
//!   subject `owner/repo`): classic branch protection (a 404 "Branch not protected" is
//!   recorded as a fact), the active rulesets that apply to the branch (approvals required,
//!   stale-review dismissal, bypass actors, enforcement, created/updated), and every `bypass`
//!   in the rule-suite history.
//!
//! Checks (criteria CC8.1): `github.independent_approval`, `github.merged_under_bypass`,
//! `github.review_required` — see [`checks`](mod@checks). Each instance has its own; the
//! findings of a named instance carry its name (`oss:acme/web#52`).
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
