//! Control checks: tests that run over stored evidence and produce findings.

use crate::finding::Finding;
use crate::store::{EvidenceStore, StoreError};

/// Why a check could not run at all (as opposed to a failing finding).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// Reading the evidence failed (missing population, bad line).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else, in words.
    #[error("{0}")]
    Other(String),
}

/// A control test over stored records.
///
/// A check reads populations from an [`EvidenceStore`] (never from the network), so
/// `soc2-evidence check DIR` can re-run it later over the same evidence and get the same
/// findings.
///
/// Every check follows the verdict rule written on [`FindingStatus`](crate::FindingStatus): `pass` only when the
/// evidence read establishes the control for everything in scope; `fail`, `error` or
/// `not_applicable` otherwise, with the reason. The runner downgrades `pass` and
/// `not_applicable` to `error` when a population the check read is incomplete; a check that
/// reads a population cut short by retention judges each subject against
/// [`EvidenceStore::completeness`]. The conformance suite (`testing`) asserts the rule for
/// every check of a module.
///
/// ```
/// use soc2_evidence_core::{Check, CheckError, EvidenceStore, Finding, FindingStatus};
///
/// struct AlwaysPass;
/// impl Check for AlwaysPass {
///     fn id(&self) -> &str { "demo.always_pass" }
///     fn criteria(&self) -> &[&'static str] { &["CC4.1"] }
///     fn description(&self) -> &str { "Passes once, to show the shape." }
///     fn run(&self, _store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
///         Ok(vec![Finding::new(self.id(), self.criteria(), FindingStatus::Pass, "org", "ok")])
///     }
/// }
/// ```
pub trait Check: Send + Sync {
    /// Stable check id, `<collector>.<control>`, e.g. `github.independent_approval`.
    fn id(&self) -> &str;
    /// Criteria the check tests.
    fn criteria(&self) -> &[&'static str];
    /// One sentence describing the control tested, for the report.
    fn description(&self) -> &str;
    /// Runs the check over the stored evidence.
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError>;
}
