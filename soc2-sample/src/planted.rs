//! A failure deliberately planted in the sample organisation, and the finding it must produce.
//!
//! Every sample source (Okta, GitHub, Jira, the backup logs) lists its planted failures as
//! [`Planted`] values, so the demo and the tests assert all of them the same way.
//!
//! ```
//! use soc2_sample::Planted;
//!
//! let exact = Planted::exact("jira.linked_to_code", "CHG-108", "no pull request");
//! assert!(exact.matches("jira.linked_to_code", "CHG-108"));
//! assert!(!exact.matches("jira.linked_to_code", "CHG-1080"));
//!
//! let prefix = Planted::prefix("backups.completed_cleanly", "db-01/", "partial run");
//! assert!(prefix.matches("backups.completed_cleanly", "db-01/run@2026-05-05"));
//! ```

use std::borrow::Cow;

/// One failure planted in the sample, and the finding it must produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    /// The check that must fail, e.g. `okta.mfa_enrolled`.
    pub check_id: &'static str,
    /// The finding's subject id, or a prefix of it when [`subject_is_prefix`](Self::subject_is_prefix)
    /// is set (backup run ids carry a timestamp the sample does not fix).
    pub subject_id: Cow<'static, str>,
    /// What is wrong, in words.
    pub description: Cow<'static, str>,
    /// The finding's subject id only has to start with [`subject_id`](Self::subject_id).
    pub subject_is_prefix: bool,
}

impl Planted {
    /// A failure whose finding has exactly `subject_id` as its subject.
    pub const fn exact(
        check_id: &'static str,
        subject_id: &'static str,
        description: &'static str,
    ) -> Self {
        Self {
            check_id,
            subject_id: Cow::Borrowed(subject_id),
            description: Cow::Borrowed(description),
            subject_is_prefix: false,
        }
    }

    /// A failure whose finding's subject starts with `subject_prefix`.
    pub const fn prefix(
        check_id: &'static str,
        subject_prefix: &'static str,
        description: &'static str,
    ) -> Self {
        Self {
            check_id,
            subject_id: Cow::Borrowed(subject_prefix),
            description: Cow::Borrowed(description),
            subject_is_prefix: true,
        }
    }

    /// Whether a finding for `check_id` on `subject_id` is this planted failure.
    pub fn matches(&self, check_id: &str, subject_id: &str) -> bool {
        check_id == self.check_id
            && if self.subject_is_prefix {
                subject_id.starts_with(&*self.subject_id)
            } else {
                subject_id == self.subject_id
            }
    }
}
