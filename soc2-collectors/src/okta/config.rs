//! `[okta]`: where the org is, how to authenticate, what to keep, and the check thresholds.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::http::{RetryPolicy, Secret};
use soc2_evidence_core::BuildContext;

use super::collector::OktaCollector;

/// Default environment variable holding the SSWS API token.
pub const DEFAULT_TOKEN_ENV: &str = "OKTA_API_TOKEN";
/// Default profile attribute holding a person's termination date.
pub const DEFAULT_TERMINATION_ATTRIBUTE: &str = "terminationDate";
/// Default number of per-user requests in flight.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// Default (and Okta's largest) page size for user and group-member lists.
pub const DEFAULT_PAGE_SIZE: u32 = 200;
/// Default seconds one request may take (the HTTP toolkit's default timeout).
pub const DEFAULT_TIMEOUT_SECS: u64 = soc2_evidence_core::http::DEFAULT_TIMEOUT.as_secs();
/// Default days between full reads of every user's factors and roles on incremental
/// (ledger) runs.
pub const DEFAULT_FULL_REFRESH_DAYS: u32 = 7;

fn default_token_env() -> String {
    DEFAULT_TOKEN_ENV.into()
}
fn default_termination_attribute() -> String {
    DEFAULT_TERMINATION_ATTRIBUTE.into()
}
fn default_concurrency() -> usize {
    DEFAULT_CONCURRENCY
}
fn default_page_size() -> u32 {
    DEFAULT_PAGE_SIZE
}
fn default_timeout_secs() -> u64 {
    DEFAULT_TIMEOUT_SECS
}
fn default_full_refresh_days() -> u32 {
    DEFAULT_FULL_REFRESH_DAYS
}
fn default_deprovision_hours() -> u32 {
    OktaCheckSettings::default().deprovision_within_hours
}
fn default_dormant_days() -> u32 {
    OktaCheckSettings::default().dormant_days
}
fn default_min_length() -> u32 {
    OktaCheckSettings::default().password_min_length
}
fn default_max_lockout() -> u32 {
    OktaCheckSettings::default().password_max_lockout_attempts
}
fn default_weak_factors() -> Vec<String> {
    OktaCheckSettings::default().weak_factors
}

/// Every `factorType` the Okta Factors API knows (Management API `FactorType`): what
/// `weak_factors` may name.
pub const KNOWN_FACTOR_TYPES: &[&str] = &[
    "call",
    "email",
    "hotp",
    "push",
    "question",
    "signed_nonce",
    "sms",
    "token",
    "token:hardware",
    "token:hotp",
    "token:software:totp",
    "u2f",
    "web",
    "webauthn",
];

/// One `[okta]` section (or one `[[okta]]` entry) of `soc2.toml`.
///
/// ```toml
/// [okta]
/// base_url = "https://acme.okta.com"       # or a custom domain
/// token_env = "OKTA_API_TOKEN"             # SSWS API token, read from the environment
/// termination_attribute = "terminationDate"
/// profile_attributes = ["title", "employeeNumber"]
/// concurrency = 16                         # per-user requests in flight, at most
/// page_size = 200
/// timeout_secs = 30                        # per request
/// full_refresh_days = 7                    # ledger runs: read every user's factors/roles this often
/// deprovision_within_hours = 24
/// dormant_days = 90
/// password_min_length = 12
/// password_max_lockout_attempts = 10
/// weak_factors = ["sms", "call", "email", "question"]
/// ```
///
/// Several orgs are several `[[okta]]` entries, each with a `name` (its directory in the run
/// output); the framework takes `name`, so it is not a field here. The section names the
/// token's environment variable, never the token, so the effective config saved with every
/// run holds no secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OktaConfig {
    /// The org URL, e.g. `https://acme.okta.com`.
    pub base_url: String,
    /// Environment variable holding the SSWS API token (default `OKTA_API_TOKEN`).
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// Profile attribute holding a person's termination date (default `terminationDate`).
    #[serde(default = "default_termination_attribute")]
    pub termination_attribute: String,
    /// Extra profile attributes to keep on each user record.
    #[serde(default)]
    pub profile_attributes: Vec<String>,
    /// Per-user requests in flight, at most (default 16); fewer when Okta's rate-limit
    /// headers say the window is running low.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Page size for user and group-member lists (1–200, default 200).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Seconds one request may take before it is abandoned (default 30). A timed-out request
    /// is retried like any transport error (at most 5 retries, 5 minutes in all), then the
    /// collector fails naming the endpoint.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// On an incremental (ledger) run, days after which factors and admin roles are read for
    /// every user again (default 7, at least 1). In between, only users created, updated or
    /// named in MFA or privilege events since the previous run are re-read, and the others'
    /// records are carried forward from that run.
    #[serde(default = "default_full_refresh_days")]
    pub full_refresh_days: u32,
    /// Hours after the termination date by which the account must be deactivated.
    #[serde(default = "default_deprovision_hours")]
    pub deprovision_within_hours: u32,
    /// Days without a sign-in after which an ACTIVE account counts as dormant.
    #[serde(default = "default_dormant_days")]
    pub dormant_days: u32,
    /// Smallest acceptable password minimum length.
    #[serde(default = "default_min_length")]
    pub password_min_length: u32,
    /// Largest acceptable number of failed attempts before lockout (0, "never", fails).
    #[serde(default = "default_max_lockout")]
    pub password_max_lockout_attempts: u32,
    /// Factor types (Okta `factorType` strings) that do not count as strong MFA for
    /// `okta.mfa_strength` (default `["sms", "call", "email", "question"]`). Each must be a
    /// known factor type ([`KNOWN_FACTOR_TYPES`]).
    #[serde(default = "default_weak_factors")]
    pub weak_factors: Vec<String>,
}

impl OktaConfig {
    /// Checks what serde cannot, naming the instance's section and the key.
    pub fn validate(&self, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        ctx.base_url("base_url", &self.base_url, "https://acme.okta.com")?;
        if self.token_env.trim().is_empty() {
            return Err(ctx.invalid("token_env", "is empty"));
        }
        if self.termination_attribute.trim().is_empty() {
            return Err(ctx.invalid("termination_attribute", "is empty"));
        }
        if !(1..=64).contains(&self.concurrency) {
            return Err(ctx.invalid("concurrency", "must be between 1 and 64"));
        }
        if !(1..=200).contains(&self.page_size) {
            return Err(ctx.invalid(
                "page_size",
                "must be between 1 and 200 (Okta's largest page)",
            ));
        }
        for (key, v) in [
            ("timeout_secs", self.timeout_secs),
            ("full_refresh_days", u64::from(self.full_refresh_days)),
            (
                "deprovision_within_hours",
                u64::from(self.deprovision_within_hours),
            ),
            ("dormant_days", u64::from(self.dormant_days)),
            ("password_min_length", u64::from(self.password_min_length)),
            (
                "password_max_lockout_attempts",
                u64::from(self.password_max_lockout_attempts),
            ),
        ] {
            if v == 0 {
                return Err(ctx.invalid(key, "must be at least 1"));
            }
        }
        for f in &self.weak_factors {
            if !KNOWN_FACTOR_TYPES.contains(&f.as_str()) {
                return Err(ctx.invalid(
                    "weak_factors",
                    format!(
                        "{f:?} is not an Okta factorType; known types: {}",
                        KNOWN_FACTOR_TYPES.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The check thresholds this section sets.
    pub fn check_settings(&self) -> OktaCheckSettings {
        OktaCheckSettings {
            deprovision_within_hours: self.deprovision_within_hours,
            dormant_days: self.dormant_days,
            password_min_length: self.password_min_length,
            password_max_lockout_attempts: self.password_max_lockout_attempts,
            weak_factors: self.weak_factors.clone(),
        }
    }

    /// The collector's settings: this section's values and the token read through `ctx`
    /// from `token_env`, named after the instance.
    pub fn settings(&self, ctx: &BuildContext<'_>) -> Result<OktaSettings, ConfigError> {
        self.validate(ctx)?;
        let token = ctx.require_secret(&self.token_env, "Okta API token (SSWS)")?;
        let mut settings = OktaSettings::new(self.base_url.trim(), token);
        settings.name = ctx.instance().to_string();
        settings.termination_attribute = self.termination_attribute.clone();
        settings.profile_attributes = self.profile_attributes.clone();
        settings.concurrency = self.concurrency;
        settings.page_size = self.page_size;
        settings.timeout = Duration::from_secs(self.timeout_secs);
        settings.full_refresh_days = self.full_refresh_days;
        Ok(settings)
    }

    /// Builds the collector for the instance `ctx` describes.
    pub fn build(&self, ctx: &BuildContext<'_>) -> Result<OktaCollector, ConfigError> {
        OktaCollector::new(self.settings(ctx)?)
    }
}

/// Everything the collector needs, for use as a library without a config file or env vars.
///
/// ```
/// use soc2_collectors::okta::{OktaCollector, OktaSettings};
/// use soc2_evidence_core::http::Secret;
/// let mut settings = OktaSettings::new("https://acme.okta.com", Secret::new("00example"));
/// settings.profile_attributes = vec!["title".into()];
/// let collector = OktaCollector::new(settings).unwrap();
/// assert!(!format!("{collector:?}").contains("00example"));
/// ```
#[derive(Debug, Clone)]
pub struct OktaSettings {
    /// The instance name: the collector's directory in the run output (default `okta`).
    pub name: String,
    /// The org URL.
    pub base_url: String,
    /// The SSWS API token.
    pub token: Secret,
    /// Profile attribute holding the termination date.
    pub termination_attribute: String,
    /// Extra profile attributes to keep.
    pub profile_attributes: Vec<String>,
    /// Per-user requests in flight, at most.
    pub concurrency: usize,
    /// Page size for user and group-member lists (≤ 200).
    pub page_size: u32,
    /// Retry policy for every request.
    pub retry: RetryPolicy,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Days between full reads of factors and roles on incremental runs (≥ 1).
    pub full_refresh_days: u32,
}

impl OktaSettings {
    /// Settings with the defaults for everything but the org URL and token.
    pub fn new(base_url: &str, token: Secret) -> Self {
        Self {
            name: super::module::TYPE.to_string(),
            base_url: base_url.to_string(),
            token,
            termination_attribute: DEFAULT_TERMINATION_ATTRIBUTE.into(),
            profile_attributes: Vec::new(),
            concurrency: DEFAULT_CONCURRENCY,
            page_size: DEFAULT_PAGE_SIZE,
            retry: RetryPolicy::default(),
            timeout: soc2_evidence_core::http::DEFAULT_TIMEOUT,
            full_refresh_days: DEFAULT_FULL_REFRESH_DAYS,
        }
    }
}

/// Thresholds of the Okta checks (set by the `[okta]` keys of the same names).
///
/// ```
/// use soc2_collectors::okta::OktaCheckSettings;
/// let strict = OktaCheckSettings { password_min_length: 14, ..OktaCheckSettings::default() };
/// assert_eq!(strict.dormant_days, 90);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaCheckSettings {
    /// Hours after the termination date by which the account must be deactivated (24).
    pub deprovision_within_hours: u32,
    /// Days without a sign-in before the period end that make an ACTIVE account dormant (90).
    pub dormant_days: u32,
    /// Smallest acceptable password minimum length (12).
    pub password_min_length: u32,
    /// Largest acceptable failed attempts before lockout (10).
    pub password_max_lockout_attempts: u32,
    /// Factor types that are not strong MFA (`sms`, `call`, `email`, `question`).
    pub weak_factors: Vec<String>,
}

impl Default for OktaCheckSettings {
    fn default() -> Self {
        Self {
            deprovision_within_hours: 24,
            dormant_days: 90,
            password_min_length: 12,
            password_max_lockout_attempts: 10,
            weak_factors: super::checks::WEAK_FACTORS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}
