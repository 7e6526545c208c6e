//! `[[command]]`: an external program that prints one JSON record per line.

use serde::{Deserialize, Serialize};
use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::{BuildContext, PopulationMode, PopulationSpec};

fn default_population() -> String {
    "records".into()
}
fn default_subject_field() -> String {
    "id".into()
}
fn default_timeout() -> u64 {
    300
}

/// One `[[command]]` section.
///
/// ```toml
/// [[command]]
/// name = "laptops"                 # the instance: its directory in the run output
/// program = "scripts/laptops.sh"   # resolved against the config file's directory
/// args = ["--all"]                 # the period's START and END dates are appended
/// kind = "mdm.laptop"              # record kind stamped on every line
/// population = "laptops"           # file name: laptops/laptops.jsonl (default "records")
/// subject_field = "serial"         # field holding each record's subject id (default "id")
/// criteria = ["CC6.1"]             # criteria the records support
/// timeout_secs = 300
/// mode = "state"                   # "state" (a snapshot) or "events" (time-stamped)
/// ```
///
/// `name` is the instance name, taken by the framework (default `command`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandConfig {
    /// Program to run (a path, or a name looked up on `PATH`).
    pub program: String,
    /// Arguments before the period dates.
    #[serde(default)]
    pub args: Vec<String>,
    /// Record kind, e.g. `mdm.laptop`.
    pub kind: String,
    /// Population (file stem) the records go to.
    #[serde(default = "default_population")]
    pub population: String,
    /// JSON field holding the subject id.
    #[serde(default = "default_subject_field")]
    pub subject_field: String,
    /// Criteria the records support (checked against the catalogue).
    #[serde(default)]
    pub criteria: Vec<String>,
    /// Seconds before the program is killed and the collector fails.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Whether the records are a snapshot of state (default) or time-stamped events.
    #[serde(default = "default_mode")]
    pub mode: PopulationMode,
}

fn default_mode() -> PopulationMode {
    PopulationMode::State
}

impl CommandConfig {
    /// Checks the values that serde cannot: names, kind and criteria.
    pub fn validate(&self, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ctx.invalid(key, message);
        soc2_evidence_core::validate_population_name(&self.population)
            .map_err(|e| invalid("population", e.to_string()))?;
        let kind_ok = self.kind.contains('.')
            && self.kind.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if !kind_ok {
            return Err(invalid(
                "kind",
                format!(
                    "{:?} is not a kind id: use `<system>.<thing>` in lower case, e.g. mdm.laptop",
                    self.kind
                ),
            ));
        }
        if self.program.trim().is_empty() {
            return Err(invalid("program", "is empty".into()));
        }
        if self.timeout_secs == 0 {
            return Err(invalid("timeout_secs", "must be at least 1".into()));
        }
        soc2_evidence_core::criteria::validate(self.criteria.iter().map(String::as_str))
            .map_err(|e| invalid("criteria", e.to_string()))
    }
}

impl CommandConfig {
    /// The one population the program's output becomes.
    pub fn population_spec(&self) -> PopulationSpec {
        PopulationSpec {
            name: self.population.clone(),
            kind: self.kind.clone(),
            schema_version: 1,
            criteria: self.criteria.clone(),
            source: "external command".into(),
            mode: self.mode,
        }
    }
}
