//! The AWS collector (issue 14): identities, logging, encryption, network exposure and
//! AWS Backup jobs of one AWS account, read through the official AWS SDK for Rust.
//!
//! ```toml
//! [aws]
//! regions = ["eu-west-1", "us-east-1"]   # default: every region enabled for the account
//! # profile = "audit"                     # optional: a named profile
//! # role_arn = "arn:aws:iam::123456789012:role/soc2-evidence-readonly"   # optional: assume it
//! # endpoint_url = "http://127.0.0.1:5000"   # optional: LocalStack or moto, for tests
//! max_key_age_days = 90
//! min_password_length = 14
//! min_backup_retention_days = 7
//! ```
//!
//! Used as a library:
//!
//! ```no_run
//! use soc2_evidence_core::{EnvSecrets, Runner};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = soc2_collectors::registry().parse_config(
//!     "[aws]\nregions = [\"eu-west-1\"]\n",
//!     "soc2.toml",
//!     ".".as_ref(),
//! )?;
//! let manifest = Runner::from_config(&config, &EnvSecrets)?
//!     .run("2026-01-01..2026-06-30".parse()?, "evidence".as_ref())
//!     .await?;
//! # let _ = manifest; Ok(()) }
//! ```

mod api;
mod checks;
mod collector;
mod config;
mod credential_report;
mod module;
mod records;

pub use checks::{checks, AwsCheck, Kind, ADMIN_PORTS, MIN_PASSWORD_REUSE_PREVENTION};
pub use collector::{backup_source_name, AwsCollector, GLOBAL};
pub use config::{
    AwsCheckSettings, AwsConfig, AwsSettings, StaticCredentials, ACCESS_KEY_ID_VAR,
    DEFAULT_CONCURRENCY, DEFAULT_MAX_KEY_AGE_DAYS, DEFAULT_MIN_BACKUP_RETENTION_DAYS,
    DEFAULT_MIN_PASSWORD_LENGTH, DEFAULT_RECOVERY_HOURS, SECRET_ACCESS_KEY_VAR, SESSION_TOKEN_VAR,
};
pub use module::AwsModule;
pub use records::{
    AccessKey, AwsAccount, Bucket, DbInstance, EncryptionRule, IamUser, InboundRule, KmsKey,
    MfaDevice, PasswordPolicy, PublicAccessBlock, ReadError, SecurityGroup, Trail,
    UserDetailsSource, ACCOUNT, BACKUP_JOBS, BACKUP_SOURCES, BUCKETS, DB_INSTANCES, IAM_USERS,
    KMS_KEYS, PASSWORD_POLICY, READ_ERRORS, RESTORE_JOBS, SECURITY_GROUPS, SOURCE, TRAILS,
};
