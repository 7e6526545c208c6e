//! `[aws]`: which account and regions to read, how to get credentials, and the check
//! thresholds.

use serde::{Deserialize, Serialize};
use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::http::Secret;
use soc2_evidence_core::BuildContext;

use super::collector::AwsCollector;

/// Default age in days after which an active access key counts as unrotated (CIS 1.14).
pub const DEFAULT_MAX_KEY_AGE_DAYS: u32 = 90;
/// Default smallest acceptable IAM password minimum length (CIS AWS Foundations 1.8).
pub const DEFAULT_MIN_PASSWORD_LENGTH: u32 = 14;
/// Default smallest acceptable RDS automated backup retention, in days.
pub const DEFAULT_MIN_BACKUP_RETENTION_DAYS: u32 = 7;
/// Default number of API calls in flight per service and region, at most.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Default hours within which a failed AWS Backup job must be followed by a successful one.
pub const DEFAULT_RECOVERY_HOURS: u32 = 24;
/// Secret names read, when the secret source has them, as static credentials (tests and
/// library use); otherwise the SDK's standard credential chain applies.
pub const ACCESS_KEY_ID_VAR: &str = "AWS_ACCESS_KEY_ID";
/// See [`ACCESS_KEY_ID_VAR`].
pub const SECRET_ACCESS_KEY_VAR: &str = "AWS_SECRET_ACCESS_KEY";
/// See [`ACCESS_KEY_ID_VAR`].
pub const SESSION_TOKEN_VAR: &str = "AWS_SESSION_TOKEN";

fn default_max_key_age_days() -> u32 {
    DEFAULT_MAX_KEY_AGE_DAYS
}
fn default_min_password_length() -> u32 {
    DEFAULT_MIN_PASSWORD_LENGTH
}
fn default_min_backup_retention_days() -> u32 {
    DEFAULT_MIN_BACKUP_RETENTION_DAYS
}
fn default_concurrency() -> usize {
    DEFAULT_CONCURRENCY
}
fn default_recovery_hours() -> u32 {
    DEFAULT_RECOVERY_HOURS
}
fn default_true() -> bool {
    true
}
fn default_timeout_secs() -> u64 {
    DEFAULT_TIMEOUT_SECS
}
fn default_max_attempts() -> u32 {
    DEFAULT_MAX_ATTEMPTS
}

/// Default seconds one attempt of one call may take.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// Default attempts per call, retries included (the SDK's standard retry with backoff).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// One `[aws]` section (or one `[[aws]]` entry, one per account) of `soc2.toml`.
///
/// ```toml
/// [aws]
/// regions = ["eu-west-1", "us-east-1"]   # default: every region enabled for the account
/// # profile = "audit"                     # optional: a named profile
/// # role_arn = "arn:aws:iam::123456789012:role/soc2-evidence-readonly"   # optional: assume it
/// # endpoint_url = "http://127.0.0.1:5000"   # optional: LocalStack or moto, for tests
/// max_key_age_days = 90
/// min_password_length = 14
/// min_backup_retention_days = 7
/// concurrency = 8                          # calls in flight per service and region
/// recovery_hours = 24                      # backups.recovery_after_failure
/// aws_backup = true                        # read AWS Backup jobs (false: emulators without it)
/// iam_credential_report = true            # users' details from the credential report
/// s3_object_lock = false                   # read versioned buckets' object lock (one more call each)
/// timeout_secs = 30                        # per attempt of one call
/// max_attempts = 5                         # per call, retries with backoff included
/// ```
///
/// Credentials come from the SDK's standard chain (environment, shared config and
/// credentials files, SSO profiles, web identity, container and instance metadata); the
/// section names none, so the effective config saved with every run holds no secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// Regions to read. Empty or absent: every region enabled for the account (EC2
    /// `DescribeRegions`, which then needs `ec2:DescribeRegions`).
    #[serde(default)]
    pub regions: Vec<String>,
    /// A named profile of the shared config files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// A role to assume (STS `AssumeRole`) with the chain's credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Send every call to this endpoint instead of AWS's (LocalStack, moto).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    /// `aws.access_key_rotation`: active keys older than this many days fail (default 90).
    #[serde(default = "default_max_key_age_days")]
    pub max_key_age_days: u32,
    /// `aws.password_policy`: smallest acceptable minimum length (default 14).
    #[serde(default = "default_min_password_length")]
    pub min_password_length: u32,
    /// `aws.rds_backup_retention`: smallest acceptable retention in days (default 7).
    #[serde(default = "default_min_backup_retention_days")]
    pub min_backup_retention_days: u32,
    /// Calls in flight per service and region, at most (default 8, 1–64).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// `backups.recovery_after_failure` over AWS Backup jobs: hours (default 24).
    #[serde(default = "default_recovery_hours")]
    pub recovery_hours: u32,
    /// Read AWS Backup jobs (default true). `false` leaves the `backup_*` populations and
    /// the `backups.*` checks out: for emulators without AWS Backup (moto), or accounts
    /// that do not use it.
    #[serde(default = "default_true")]
    pub aws_backup: bool,
    /// Read IAM users' console, MFA and access key details from the account's credential
    /// report (default true): about three calls for the account instead of three or more
    /// per user. Users the report lacks, and everyone when it cannot be had, are read per
    /// user. `false`: per-user calls only (always current, where the report may be up to
    /// four hours old).
    #[serde(default = "default_true")]
    pub iam_credential_report: bool,
    /// Read the object lock configuration of every versioned bucket (default false). It
    /// costs a fourth call per versioned bucket and no check judges it, so by default the
    /// `buckets` population records `object_lock: null` ("not read") and says so in its
    /// provenance notes.
    #[serde(default)]
    pub s3_object_lock: bool,
    /// Seconds one attempt of one call may take (default 30).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Attempts per call, retries included, with the SDK's standard backoff (default 5,
    /// 1–10). Throttling and 5xx answers are retried; AccessDenied is not.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
}

impl Default for AwsConfig {
    fn default() -> Self {
        Self {
            regions: Vec::new(),
            profile: None,
            role_arn: None,
            endpoint_url: None,
            max_key_age_days: DEFAULT_MAX_KEY_AGE_DAYS,
            min_password_length: DEFAULT_MIN_PASSWORD_LENGTH,
            min_backup_retention_days: DEFAULT_MIN_BACKUP_RETENTION_DAYS,
            concurrency: DEFAULT_CONCURRENCY,
            recovery_hours: DEFAULT_RECOVERY_HOURS,
            aws_backup: true,
            iam_credential_report: true,
            s3_object_lock: false,
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

/// Whether `s` looks like an AWS region name (`eu-west-1`, `us-gov-west-1`, `cn-north-1`).
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

impl AwsConfig {
    /// Checks what serde cannot, naming the instance's section and the key.
    pub fn validate(&self, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        for r in &self.regions {
            if !is_region(r) {
                return Err(ctx.invalid(
                    "regions",
                    format!("{r:?} is not an AWS region name (like \"eu-west-1\")"),
                ));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for r in &self.regions {
            if !seen.insert(r) {
                return Err(ctx.invalid("regions", format!("{r:?} is listed twice")));
            }
        }
        if let Some(p) = &self.profile {
            if p.trim().is_empty() {
                return Err(ctx.invalid("profile", "is empty"));
            }
        }
        if let Some(arn) = &self.role_arn {
            if !(arn.starts_with("arn:aws") && arn.contains(":role/")) {
                return Err(ctx.invalid(
                    "role_arn",
                    "must be a role ARN like \"arn:aws:iam::123456789012:role/soc2-evidence\"",
                ));
            }
        }
        if let Some(url) = &self.endpoint_url {
            ctx.base_url("endpoint_url", url, "http://127.0.0.1:5000")?;
        }
        for (key, v) in [
            ("max_key_age_days", self.max_key_age_days),
            ("min_password_length", self.min_password_length),
            ("min_backup_retention_days", self.min_backup_retention_days),
            ("recovery_hours", self.recovery_hours),
        ] {
            if v == 0 {
                return Err(ctx.invalid(key, "must be at least 1"));
            }
        }
        if self.timeout_secs == 0 {
            return Err(ctx.invalid("timeout_secs", "must be at least 1"));
        }
        if !(1..=10).contains(&self.max_attempts) {
            return Err(ctx.invalid("max_attempts", "must be between 1 and 10"));
        }
        if !(1..=64).contains(&self.concurrency) {
            return Err(ctx.invalid("concurrency", "must be between 1 and 64"));
        }
        Ok(())
    }

    /// The check thresholds this section sets.
    pub fn check_settings(&self) -> AwsCheckSettings {
        AwsCheckSettings {
            max_key_age_days: self.max_key_age_days,
            min_password_length: self.min_password_length,
            min_backup_retention_days: self.min_backup_retention_days,
            recovery_hours: self.recovery_hours,
            aws_backup: self.aws_backup,
        }
    }

    /// The collector's settings for the instance `ctx` describes. Static credentials are
    /// taken from the secret source when it holds both [`ACCESS_KEY_ID_VAR`] and
    /// [`SECRET_ACCESS_KEY_VAR`]; otherwise the SDK's chain finds them at collection time.
    pub fn settings(&self, ctx: &BuildContext<'_>) -> Result<AwsSettings, ConfigError> {
        self.validate(ctx)?;
        let mut settings = AwsSettings::new(self.regions.clone());
        settings.name = ctx.instance().to_string();
        settings.profile = self.profile.clone();
        settings.role_arn = self.role_arn.clone();
        settings.endpoint_url = self
            .endpoint_url
            .as_ref()
            .map(|u| u.trim().trim_end_matches('/').to_string());
        settings.concurrency = self.concurrency;
        settings.aws_backup = self.aws_backup;
        settings.s3_object_lock = self.s3_object_lock;
        settings.iam_credential_report = self.iam_credential_report;
        settings.timeout = std::time::Duration::from_secs(self.timeout_secs);
        settings.max_attempts = self.max_attempts;
        let secret = |var: &str| ctx.require_secret(var, "AWS credentials").ok();
        // With a named profile, the profile decides; otherwise keys in the secret source (the
        // environment, for the CLI) are used as the SDK's environment provider would.
        if let (None, Some(id), Some(key)) = (
            &self.profile,
            secret(ACCESS_KEY_ID_VAR),
            secret(SECRET_ACCESS_KEY_VAR),
        ) {
            settings.credentials = Some(StaticCredentials {
                access_key_id: id,
                secret_access_key: key,
                session_token: secret(SESSION_TOKEN_VAR),
            });
        }
        Ok(settings)
    }

    /// Builds the collector for the instance `ctx` describes.
    pub fn build(&self, ctx: &BuildContext<'_>) -> Result<AwsCollector, ConfigError> {
        AwsCollector::new(self.settings(ctx)?)
    }
}

/// Access keys given directly instead of through the SDK's chain. `Debug` shows no secret.
#[derive(Clone)]
pub struct StaticCredentials {
    /// The access key id.
    pub access_key_id: Secret,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// A session token, for temporary credentials.
    pub session_token: Option<Secret>,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticCredentials(redacted)")
    }
}

/// Everything the collector needs, for use as a library without a config file.
///
/// ```
/// use soc2_collectors::aws::{AwsCollector, AwsSettings};
/// let mut settings = AwsSettings::new(vec!["eu-west-1".into()]);
/// settings.endpoint_url = Some("http://127.0.0.1:5000".into());
/// let collector = AwsCollector::new(settings).unwrap();
/// assert!(format!("{collector:?}").contains("eu-west-1"));
/// ```
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// The instance name: the collector's directory in the run output (default `aws`).
    pub name: String,
    /// Regions to read; empty means every region enabled for the account.
    pub regions: Vec<String>,
    /// Named profile.
    pub profile: Option<String>,
    /// Role to assume.
    pub role_arn: Option<String>,
    /// Custom endpoint for every service (moto, LocalStack).
    pub endpoint_url: Option<String>,
    /// Static credentials instead of the SDK's chain.
    pub credentials: Option<StaticCredentials>,
    /// Calls in flight per service and region, at most.
    pub concurrency: usize,
    /// Attempts per call, retries included, with the SDK's standard backoff (default 5).
    pub max_attempts: u32,
    /// Per-attempt timeout of one call.
    pub timeout: std::time::Duration,
    /// Whether to read AWS Backup jobs.
    pub aws_backup: bool,
    /// Whether to read versioned buckets' object lock configuration (one call each).
    pub s3_object_lock: bool,
    /// Whether to read IAM users' details from the credential report first.
    pub iam_credential_report: bool,
}

impl AwsSettings {
    /// Settings with the defaults for everything but the regions.
    pub fn new(regions: Vec<String>) -> Self {
        Self {
            name: super::module::TYPE.to_string(),
            regions,
            profile: None,
            role_arn: None,
            endpoint_url: None,
            credentials: None,
            concurrency: DEFAULT_CONCURRENCY,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            timeout: std::time::Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            aws_backup: true,
            s3_object_lock: false,
            iam_credential_report: true,
        }
    }
}

/// Thresholds of the AWS checks (set by the `[aws]` keys of the same names).
///
/// ```
/// use soc2_collectors::aws::AwsCheckSettings;
/// let s = AwsCheckSettings::default();
/// assert_eq!((s.max_key_age_days, s.min_password_length, s.min_backup_retention_days), (90, 14, 7));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsCheckSettings {
    /// Largest acceptable age of an active access key, in days.
    pub max_key_age_days: u32,
    /// Smallest acceptable password minimum length.
    pub min_password_length: u32,
    /// Smallest acceptable RDS backup retention, in days.
    pub min_backup_retention_days: u32,
    /// Hours within which a failed AWS Backup job must be followed by a success.
    pub recovery_hours: u32,
    /// Whether AWS Backup is read, and so whether the `backups.*` checks are built.
    pub aws_backup: bool,
}

impl Default for AwsCheckSettings {
    fn default() -> Self {
        AwsConfig::default().check_settings()
    }
}

#[cfg(test)]
mod tests {
    use super::is_region;

    #[test]
    fn region_names() {
        for ok in ["eu-west-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5"] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "",
            "eu-west",
            "EU-WEST-1",
            "eu_west_1",
            "eu--1",
            "eu-west-1a",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }
}
