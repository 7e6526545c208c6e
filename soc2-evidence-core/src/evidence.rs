//! Typed evidence records and the envelope every stored line carries.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A typed kind of evidence record, such as an Okta user or a merged pull request.
///
/// The kind id and schema version travel with every stored record, so a reader (a check, the
/// auditor's report, another tool) knows what it is looking at without guessing.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use soc2_evidence_core::Evidence;
///
/// #[derive(Serialize, Deserialize)]
/// struct Laptop { serial: String, encrypted: bool }
///
/// impl Evidence for Laptop {
///     const KIND: &'static str = "mdm.laptop";
///     const SCHEMA_VERSION: u32 = 1;
///     const CRITERIA: &'static [&'static str] = &["CC6.1", "CC6.7"];
///     fn subject_id(&self) -> String { self.serial.clone() }
/// }
/// assert_eq!(Laptop { serial: "C02X".into(), encrypted: true }.subject_id(), "C02X");
/// ```
pub trait Evidence: Serialize + DeserializeOwned + Send + Sync {
    /// Stable kind id, `<system>.<thing>`, e.g. `okta.user`.
    const KIND: &'static str;
    /// Version of this record's schema; bump it when a field changes meaning or is removed.
    const SCHEMA_VERSION: u32;
    /// The SOC 2 criteria this kind of record supports (ids from [`crate::criteria`]).
    const CRITERIA: &'static [&'static str];
    /// The id of the thing this record is about (a user id, `owner/repo#12`, an issue key).
    fn subject_id(&self) -> String;
}

/// One stored line: the record with its kind, schema version and subject id.
///
/// On disk: `{"kind":"okta.user","schema_version":1,"subject_id":"00u1","data":{...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record<T> {
    /// The record kind (see [`Evidence::KIND`]).
    pub kind: String,
    /// The schema version (see [`Evidence::SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The subject id (see [`Evidence::subject_id`]).
    pub subject_id: String,
    /// The record itself.
    pub data: T,
}

/// A borrowed envelope used when writing, so records are serialised without copying.
#[derive(Serialize)]
pub(crate) struct RecordRef<'a, T: Serialize> {
    pub kind: &'a str,
    pub schema_version: u32,
    pub subject_id: &'a str,
    pub data: &'a T,
}

/// A record whose shape is not known at compile time, such as a line from an external
/// command collector.
pub type DynamicRecord = Record<serde_json::Value>;
