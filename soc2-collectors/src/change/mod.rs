//! Checks across systems: a change seen in GitHub is tied to a change ticket in Jira (CC8.1).
//!
//! These checks own no collector and no config section. The registry runs them over every
//! `github` and `jira` instance of a run that has both; a run without one of them does not
//! include them (built directly, [`PrHasTicket`] then says `not_applicable`).
//!
//! - [`PrHasTicket`] (`change.pr_has_ticket`, CC8.1): each merged pull request in the
//!   period is linked to a change ticket. The link can be a Jira remote link to the PR (its
//!   `owner/repo#N` or its URL), or the ticket's key in the PR title or head branch name.
//!   Keys are matched case-insensitively, for the projects of the collected tickets. A key
//!   that names no collected ticket is an `error`, since it may be a ticket outside the JQL or
//!   the period. A PR with no link and no key fails.
//!
//! [`references`] finds the keys in a title or branch name. `jira.linked_to_code` accepts the
//! same key references from the other side.
//!
//! ```
//! use soc2_collectors::change::references;
//! let keys = references("chg-104/fix-login: CHG-7 follow-up", &["CHG".to_string()]);
//! assert_eq!(keys, ["CHG-104", "CHG-7"]);
//! ```

mod checks;
mod keys;

pub use checks::PrHasTicket;
pub(crate) use keys::pr_references;
pub use keys::references;

use soc2_evidence_core::{Check, InstanceId};

/// The check namespace.
pub const NAMESPACE: &str = "change";

/// The cross-system checks for the instances of a run (what the registry calls).
pub fn checks(instances: &[InstanceId]) -> Vec<Box<dyn Check>> {
    let of = |t: &str| -> Vec<String> {
        instances
            .iter()
            .filter(|i| i.type_name == t)
            .map(|i| i.name.clone())
            .collect()
    };
    let (github, jira) = (of("github"), of("jira"));
    // Without both systems there is nothing to tie together; the check is then left out
    // rather than adding a `not_applicable` to every single-system run.
    if github.is_empty() || jira.is_empty() {
        return Vec::new();
    }
    vec![Box::new(PrHasTicket::new(github, jira))]
}
