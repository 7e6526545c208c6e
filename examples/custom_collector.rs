//! A plugin: an HR roster collector registered next to the built-in modules, with the full
//! `soc2-evidence` CLI, and a cross-collector check against Okta.
//!
//! ```toml
//! [hr]
//! roster = "people.csv"     # columns email,name,status,termination_date; status active|terminated
//! max_hours = 24            # deactivation in Okta at most this long after the termination date
//!
//! [okta]
//! base_url = "https://acme.okta.com"
//! token_env = "OKTA_API_TOKEN"
//! ```
//!
//! `cargo run --release --example custom_collector -- collect --config F --period A..B --out DIR`
//! runs it like the built-in binary (every subcommand works: `check`, `bundle`, `verify` …).
//! With no arguments it demonstrates itself: it writes a roster, serves the sample Okta org on
//! 127.0.0.1, and collects into a temporary directory.

use std::path::Path;
use std::process::ExitCode;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use soc2_evidence::collectors::okta::{termination_instant, OktaUser, USERS as OKTA_USERS};
use soc2_evidence::core::{
    async_trait, BuildContext, Check, CheckContext, CheckError, CollectContext, CollectError,
    Collector, ConfigError, Evidence, EvidenceSink, EvidenceSinkExt, EvidenceStore, Finding,
    FindingStatus, Module, Population, PopulationSpec,
};

/// One person on the HR roster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Employee {
    /// Work e-mail, the key shared with Okta (compared case-insensitively).
    pub email: String,
    /// Full name.
    pub name: String,
    /// `active` or `terminated`.
    pub status: String,
    /// The last working day, for terminated employees.
    pub termination_date: Option<NaiveDate>,
}

impl Evidence for Employee {
    const KIND: &'static str = "hr.employee";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.2"];
    fn subject_id(&self) -> String {
        self.email.to_ascii_lowercase()
    }
}

/// `hr/employees`: the roster as HR exported it.
pub const EMPLOYEES: Population<Employee> = Population::state("employees", "HR roster (CSV)");

fn default_max_hours() -> u32 {
    24
}

/// `[hr]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HrConfig {
    /// The roster CSV, relative to the config file.
    pub roster: String,
    /// Hours after the termination date (end of that day, UTC) by which the Okta account
    /// must be deactivated.
    #[serde(default = "default_max_hours")]
    pub max_hours: u32,
}

/// Reads the roster file.
struct HrCollector {
    name: String,
    roster: std::path::PathBuf,
}

#[derive(Deserialize)]
struct Row {
    email: String,
    name: String,
    status: String,
    termination_date: Option<String>,
}

#[async_trait]
impl Collector for HrCollector {
    fn name(&self) -> &str {
        &self.name
    }

    async fn collect(
        &self,
        ctx: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let location = self.roster.display().to_string();
        let bytes = std::fs::read(&self.roster).map_err(|e| CollectError::Input {
            location: location.clone(),
            message: e.to_string(),
        })?;
        let mut employees = sink.open(&EMPLOYEES)?;
        employees.provenance().page("read", &location, &[], &bytes);
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        for (i, row) in reader.deserialize::<Row>().enumerate() {
            ctx.check_cancelled()?;
            // Line 1 is the header.
            let at = format!("{location}:{}", i + 2);
            let row = row.map_err(|e| CollectError::Input {
                location: at.clone(),
                message: e.to_string(),
            })?;
            let status = row.status.trim().to_ascii_lowercase();
            if status != "active" && status != "terminated" {
                return Err(CollectError::Input {
                    location: at,
                    message: format!("status {:?}: expected active or terminated", row.status),
                });
            }
            let termination_date = match row.termination_date.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(d) => Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|e| {
                    CollectError::Input {
                        location: at.clone(),
                        message: format!("termination_date {d:?}: {e} (use YYYY-MM-DD)"),
                    }
                })?),
            };
            if status == "terminated" && termination_date.is_none() {
                return Err(CollectError::Input {
                    location: at,
                    message: "a terminated employee needs a termination_date".into(),
                });
            }
            employees.emit(&Employee {
                email: row.email.trim().to_string(),
                name: row.name.trim().to_string(),
                status,
                termination_date,
            })?;
            employees.provenance().received(&location, 1);
        }
        employees.finish()?;
        Ok(())
    }
}

/// CC6.2: a terminated employee's Okta account was deactivated within `max_hours` of the end
/// of their termination date. Each terminated employee (termination in the period) is one
/// subject: `fail` when a matching Okta user is still active or was deactivated late, `pass`
/// when deactivated in time or when no Okta account matches (the Okta population includes
/// DEPROVISIONED users, so absence is evidence), `error` when no Okta instance ran or its
/// users are unavailable, `not_applicable` when nobody was terminated in the period.
struct TerminatedAccessRemoved {
    instance: String,
    okta: Vec<String>,
    max_hours: u32,
}

impl TerminatedAccessRemoved {
    fn finding(&self, status: FindingStatus, subject: &str, summary: String) -> Finding {
        Finding::new(self.id(), self.criteria(), status, subject, summary)
            .with_evidence(EMPLOYEES.at(&self.instance).evidence(subject))
    }
}

impl Check for TerminatedAccessRemoved {
    fn id(&self) -> &str {
        "hr.terminated_access_removed"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC6.2"]
    }
    fn description(&self) -> &str {
        "Every employee HR terminated in the period lost Okta access within the allowed hours."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let period = store.period();
        let terminated: Vec<Employee> = store
            .records_all(&EMPLOYEES.at(&self.instance))?
            .into_iter()
            .filter(|e| e.status == "terminated")
            .filter(|e| e.termination_date.is_some_and(|d| period.contains_date(d)))
            .collect();
        if terminated.is_empty() {
            return Ok(vec![Finding::new(
                self.id(),
                self.criteria(),
                FindingStatus::NotApplicable,
                "roster",
                "no employee was terminated in the period",
            )
            .with_evidence(EMPLOYEES.at(&self.instance).evidence_file())]);
        }
        // Every Okta instance's users, read through the Okta module's typed population.
        let mut okta_users: Vec<(String, OktaUser)> = Vec::new();
        let mut unavailable = Vec::new();
        for name in &self.okta {
            match store.records_all(&OKTA_USERS.at(name)) {
                Ok(users) => okta_users.extend(users.into_iter().map(|u| (name.clone(), u))),
                Err(e) => unavailable.push(format!("{name}: {e}")),
            }
        }
        let now = store.collected_at();
        let allowed = Duration::hours(i64::from(self.max_hours));
        let mut out = Vec::new();
        for emp in &terminated {
            let subject = emp.subject_id();
            let Some(deadline) = emp
                .termination_date
                .and_then(|d| termination_instant(&d.to_string()))
                .map(|t| t + allowed)
            else {
                continue;
            };
            if self.okta.is_empty() || !unavailable.is_empty() {
                let why = if self.okta.is_empty() {
                    "no Okta instance ran in this run".to_string()
                } else {
                    format!("Okta users unavailable ({})", unavailable.join("; "))
                };
                out.push(self.finding(
                    FindingStatus::Error,
                    &subject,
                    format!("cannot establish that access was removed: {why}"),
                ));
                continue;
            }
            let matches: Vec<&(String, OktaUser)> = okta_users
                .iter()
                .filter(|(_, u)| {
                    [u.email.as_deref(), u.login.as_deref()]
                        .into_iter()
                        .flatten()
                        .any(|m| m.eq_ignore_ascii_case(&emp.email))
                })
                .collect();
            if matches.is_empty() {
                out.push(self.finding(
                    FindingStatus::Pass,
                    &subject,
                    format!("terminated {}; no Okta account", date(emp)),
                ));
                continue;
            }
            for (instance, user) in matches {
                let (status, summary) = judge(user, deadline, now, self.max_hours);
                out.push(
                    self.finding(
                        status,
                        &subject,
                        format!(
                            "terminated {}; Okta {instance} {}: {summary}",
                            date(emp),
                            user.id
                        ),
                    )
                    .with_evidence(OKTA_USERS.at(instance).evidence(&user.id)),
                );
            }
        }
        Ok(out)
    }
}

fn date(e: &Employee) -> String {
    e.termination_date
        .map(|d| d.to_string())
        .unwrap_or_default()
}

fn judge(
    user: &OktaUser,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
    max_hours: u32,
) -> (FindingStatus, String) {
    let deactivated = matches!(user.status.as_str(), "DEPROVISIONED" | "SUSPENDED");
    match (deactivated, user.status_changed) {
        (true, Some(at)) if at <= deadline => (
            FindingStatus::Pass,
            format!("{} at {at}, within {max_hours} h", user.status),
        ),
        (true, Some(at)) => (
            FindingStatus::Fail,
            format!(
                "{} at {at}, later than {max_hours} h ({deadline})",
                user.status
            ),
        ),
        (true, None) => (
            FindingStatus::Error,
            format!("{} but Okta gives no statusChanged time", user.status),
        ),
        (false, _) if now <= deadline => (
            FindingStatus::NotApplicable,
            format!(
                "still {} but the deadline {deadline} had not passed at collection",
                user.status
            ),
        ),
        (false, _) => (
            FindingStatus::Fail,
            format!("still {} after the deadline {deadline}", user.status),
        ),
    }
}

/// The plugin's module: `[hr]`, `hr/employees`, `hr.terminated_access_removed`.
pub struct HrModule;

impl Module for HrModule {
    type Config = HrConfig;
    const TYPE: &'static str = "hr";

    fn version(&self) -> &'static str {
        "1.0.0"
    }
    fn populations(&self, _: &HrConfig) -> Vec<PopulationSpec> {
        vec![EMPLOYEES.spec()]
    }
    fn validate(&self, c: &HrConfig, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        if c.roster.trim().is_empty() {
            return Err(ctx.invalid("roster", "is empty"));
        }
        if c.max_hours == 0 {
            return Err(ctx.invalid("max_hours", "must be at least 1"));
        }
        Ok(())
    }
    fn collector(
        &self,
        c: &HrConfig,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn Collector>, ConfigError> {
        Ok(Box::new(HrCollector {
            name: ctx.instance().to_string(),
            roster: ctx.resolve(&c.roster),
        }))
    }
    fn checks(&self, c: &HrConfig, ctx: &CheckContext<'_>) -> Vec<Box<dyn Check>> {
        vec![Box::new(TerminatedAccessRemoved {
            instance: ctx.instance().to_string(),
            okta: ctx.instances_of("okta"),
            max_hours: c.max_hours,
        })]
    }
}

/// The roster of the self-demonstration: Frank left Okta three days late, Grace is still
/// active in Okta, Hiro was deactivated in time, Zoe never had an Okta account.
pub const DEMO_ROSTER: &str = "email,name,status,termination_date
alice@acme.example,Alice Example,active,
frank@acme.example,Frank Example,terminated,2026-03-13
grace@acme.example,Grace Example,terminated,2026-02-12
hiro@acme.example,Hiro Example,terminated,2026-04-30
zoe@acme.example,Zoe Example,terminated,2026-05-20
";

fn registry() -> soc2_evidence::core::Registry {
    soc2_evidence::collectors::registry().with(HrModule)
}

fn main() -> ExitCode {
    if std::env::args().len() > 1 {
        return soc2_evidence::cli::main_with(registry());
    }
    match self_demo() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// No arguments: write a roster and a config, serve the sample Okta org, and collect.
fn self_demo() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let okta = runtime.block_on(soc2_sample::okta::start());
    std::fs::write(dir.path().join("people.csv"), DEMO_ROSTER)?;
    let config = dir.path().join("soc2.toml");
    std::fs::write(
        &config,
        format!(
            "[hr]\nroster = \"people.csv\"\n\n[okta]\nbase_url = {:?}\ntoken_env = \"HR_DEMO_OKTA_TOKEN\"\n",
            okta.base_url()
        ),
    )?;
    // The sample server's token; the CLI reads it from the environment like any secret.
    std::env::set_var("HR_DEMO_OKTA_TOKEN", okta.token());
    let out = dir.path().join("run");
    let args = [
        "soc2-evidence",
        "collect",
        "--config",
        &config.display().to_string(),
        "--period",
        "2026-01-01..2026-06-30",
        "--out",
        &out.display().to_string(),
    ]
    .map(String::from);
    let code = runtime.block_on(soc2_evidence::cli::run_args(registry(), args));
    print_hr_findings(&out)?;
    drop(okta);
    Ok(ExitCode::from(code))
}

fn print_hr_findings(run: &Path) -> Result<(), Box<dyn std::error::Error>> {
    println!("\nhr.terminated_access_removed:");
    for line in std::fs::read_to_string(run.join("findings.jsonl"))?.lines() {
        let f: Finding = serde_json::from_str(line)?;
        if f.check_id == "hr.terminated_access_removed" {
            println!(
                "  {:<15} {:<22} {}",
                f.status.to_string(),
                f.subject_id,
                f.summary
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use soc2_evidence::core::testing::Conformance;
    use soc2_evidence::core::{MapSecrets, Runner};

    const TOKEN_VAR: &str = "HR_TEST_OKTA_TOKEN";

    fn config(roster_dir: &Path, okta: &str, extra: &str) -> String {
        std::fs::write(roster_dir.join("people.csv"), DEMO_ROSTER).unwrap();
        format!(
            "[hr]\nroster = \"people.csv\"\n{extra}\n[okta]\nbase_url = {okta:?}\ntoken_env = \"{TOKEN_VAR}\"\n"
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_hr_plugin_passes_the_conformance_suite() {
        let okta = soc2_sample::okta::start().await;
        let url = okta.base_url();
        Conformance::new(registry(), "hr", "2026-01-01..2026-06-30")
            .secret(TOKEN_VAR, okta.token())
            .config(move |env| config(&env.work_dir, &url, ""))
            .run()
            .await
            .assert_ok();
    }

    async fn findings(extra: &str) -> Vec<Finding> {
        let okta = soc2_sample::okta::start().await;
        let tmp = tempfile::tempdir().unwrap();
        let text = config(tmp.path(), &okta.base_url(), extra);
        let cfg = registry()
            .parse_config(&text, "soc2.toml", tmp.path())
            .unwrap();
        let out = tmp.path().join("run");
        let m = Runner::from_config(&cfg, &MapSecrets::default().with(TOKEN_VAR, okta.token()))
            .unwrap()
            .run("2026-01-01..2026-06-30".parse().unwrap(), &out)
            .await
            .unwrap();
        assert!(m.all_collectors_ok(), "{:?}", m.collectors);
        std::fs::read_to_string(out.join("findings.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Finding>(l).unwrap())
            .filter(|f| f.check_id == "hr.terminated_access_removed")
            .collect()
    }

    fn status_of<'a>(findings: &'a [Finding], who: &str) -> Vec<&'a FindingStatus> {
        findings
            .iter()
            .filter(|f| f.subject_id == who)
            .map(|f| &f.status)
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn late_and_missing_deactivations_fail_and_no_account_passes() {
        let f = findings("").await;
        // Frank: terminated 2026-03-13, DEPROVISIONED 2026-03-16 10:05, more than 24 h late.
        assert_eq!(status_of(&f, "frank@acme.example"), [&FindingStatus::Fail]);
        // Grace: terminated in HR, still ACTIVE in Okta.
        assert_eq!(status_of(&f, "grace@acme.example"), [&FindingStatus::Fail]);
        // Hiro: deactivated the same evening.
        assert_eq!(status_of(&f, "hiro@acme.example"), [&FindingStatus::Pass]);
        // Zoe: no Okta account at all.
        assert_eq!(status_of(&f, "zoe@acme.example"), [&FindingStatus::Pass]);
        // Alice is active: not in scope.
        assert!(status_of(&f, "alice@acme.example").is_empty());
        let frank = f
            .iter()
            .find(|x| x.subject_id == "frank@acme.example")
            .unwrap();
        assert!(
            frank.evidence.iter().any(|e| e.file == "okta/users.jsonl"),
            "{frank:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn max_hours_comes_from_the_config() {
        // Frank was deactivated 58 hours after the end of his last day: within 96.
        let f = findings("max_hours = 96").await;
        assert_eq!(status_of(&f, "frank@acme.example"), [&FindingStatus::Pass]);
    }
}
