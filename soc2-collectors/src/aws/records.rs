//! The evidence kinds the AWS collector emits, one population each.
//!
//! Records keep an explicit allow-list of fields read from the SDK's typed output: nothing
//! passes through unchosen, so a virtual MFA device's seed (which `ListVirtualMFADevices`
//! can return) or a credential can never reach the evidence.
//!
//! Subjects: the account id, IAM user names, bucket names, and `<region>/<id>` for
//! regional resources (so a region that could not be read is a subject-id prefix, the
//! incomplete scope that marks exactly its findings).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use soc2_evidence_core::{Evidence, Population};

use crate::backups::{BackupJob, BackupSource, RestoreJob};

/// Source system recorded in every AWS population's provenance.
pub const SOURCE: &str = "AWS APIs (AWS SDK for Rust)";

/// The account: its id and principal (STS) and root's MFA and keys (IAM account summary).
pub const ACCOUNT: Population<AwsAccount> = Population::state("account", SOURCE);
/// Every IAM user with console access, MFA devices and access keys: `aws/iam_users.jsonl`.
pub const IAM_USERS: Population<IamUser> = Population::state("iam_users", SOURCE);
/// The account password policy (one record, `present: false` when none is set).
pub const PASSWORD_POLICY: Population<PasswordPolicy> =
    Population::state("password_policy", SOURCE);
/// CloudTrail trails, each in its home region, with their logging status.
pub const TRAILS: Population<Trail> = Population::state("trails", SOURCE);
/// S3 buckets with encryption, public access block, versioning and object lock.
pub const BUCKETS: Population<Bucket> = Population::state("buckets", SOURCE);
/// RDS DB instances.
pub const DB_INSTANCES: Population<DbInstance> = Population::state("db_instances", SOURCE);
/// Customer-managed KMS keys with their rotation status.
pub const KMS_KEYS: Population<KmsKey> = Population::state("kms_keys", SOURCE);
/// EC2 security groups with their inbound rules.
pub const SECURITY_GROUPS: Population<SecurityGroup> = Population::state("security_groups", SOURCE);
/// AWS Backup backup jobs created in the period (`backup.job`, judged by `backups.*`).
pub const BACKUP_JOBS: Population<BackupJob> = Population::events("backup_jobs", SOURCE);
/// AWS Backup restore jobs created in the period (`backup.restore`).
pub const RESTORE_JOBS: Population<RestoreJob> = Population::events("restore_jobs", SOURCE);
/// One `backup.source` per region read for AWS Backup (`aws-backup/<region>`), with the
/// resources its jobs protect: what the `backups.*` checks judge.
pub const BACKUP_SOURCES: Population<BackupSource> = Population::state("backup_sources", SOURCE);
/// Every call that failed for a whole service in a region (AccessDenied, throttling beyond
/// the retries, a region not enabled): the checks turn these into `error` findings.
pub const READ_ERRORS: Population<ReadError> = Population::state("read_errors", SOURCE);

/// The account being read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AwsAccount {
    /// The 12-digit account id (STS `GetCallerIdentity`).
    pub account_id: String,
    /// The ARN of the principal the collector ran as.
    pub principal_arn: String,
    /// Regions read.
    pub regions: Vec<String>,
    /// `AccountMFAEnabled` of `GetAccountSummary`: whether root has MFA. `None` when the
    /// summary could not be read (see `errors`).
    pub root_mfa_enabled: Option<bool>,
    /// `AccountAccessKeysPresent`: root access keys (0 or 1 in AWS's summary).
    pub root_access_keys_present: Option<u32>,
    /// `Users` of the summary.
    pub users: Option<u32>,
    /// The account-level S3 public access block (S3 Control), when one is set.
    pub s3_public_access_block: Option<PublicAccessBlock>,
    /// Whether the account-level block was read (`false` with an error in `errors`).
    pub s3_public_access_block_read: bool,
    /// Calls about the account that failed, each naming the permission.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl Evidence for AwsAccount {
    const KIND: &'static str = "aws.account";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.1", "CC6.6"];
    fn subject_id(&self) -> String {
        self.account_id.clone()
    }
}

/// The four settings of an S3 public access block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PublicAccessBlock {
    /// `BlockPublicAcls`.
    pub block_public_acls: bool,
    /// `IgnorePublicAcls`.
    pub ignore_public_acls: bool,
    /// `BlockPublicPolicy`.
    pub block_public_policy: bool,
    /// `RestrictPublicBuckets`.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// Whether all four settings are on.
    pub fn all_on(&self) -> bool {
        self.block_public_acls
            && self.ignore_public_acls
            && self.block_public_policy
            && self.restrict_public_buckets
    }

    /// The settings that are off, by AWS's names.
    pub fn off(&self) -> Vec<&'static str> {
        [
            ("BlockPublicAcls", self.block_public_acls),
            ("IgnorePublicAcls", self.ignore_public_acls),
            ("BlockPublicPolicy", self.block_public_policy),
            ("RestrictPublicBuckets", self.restrict_public_buckets),
        ]
        .into_iter()
        .filter(|(_, on)| !on)
        .map(|(n, _)| n)
        .collect()
    }
}

/// One IAM user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamUser {
    /// `UserName`.
    pub user_name: String,
    /// `UserId`.
    pub user_id: String,
    /// `Arn`.
    pub arn: String,
    /// `CreateDate`.
    pub created: Option<DateTime<Utc>>,
    /// `PasswordLastUsed`.
    pub password_last_used: Option<DateTime<Utc>>,
    /// Whether the user has a console password (a login profile); `None` when
    /// `GetLoginProfile` failed (see `errors`).
    pub console_access: Option<bool>,
    /// The login profile's `CreateDate`.
    pub login_profile_created: Option<DateTime<Utc>>,
    /// MFA devices (`ListMFADevices`); `None` when they could not be read, or when the
    /// user was read from the credential report (which says only whether MFA is active).
    pub mfa_devices: Option<Vec<MfaDevice>>,
    /// Whether the user has an MFA device: the credential report's `mfa_active`, or
    /// whether `ListMFADevices` listed any; `None` when neither could be read.
    #[serde(default)]
    pub mfa_active: Option<bool>,
    /// Access keys (`ListAccessKeys` + `GetAccessKeyLastUsed`, or the credential report's
    /// two key slots); `None` when unreadable.
    pub access_keys: Option<Vec<AccessKey>>,
    /// Where the console, MFA and key details come from.
    #[serde(default)]
    pub details_from: UserDetailsSource,
    /// When the credential report these details come from was generated (AWS regenerates
    /// it only when it is older than four hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_report_generated: Option<DateTime<Utc>>,
    /// Calls about this user that failed, each naming the permission.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Where an [`IamUser`]'s console, MFA and access key details were read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserDetailsSource {
    /// Per-user calls: `GetLoginProfile`, `ListMFADevices`, `ListAccessKeys`,
    /// `GetAccessKeyLastUsed`.
    #[default]
    Api,
    /// The account's IAM credential report (`GetCredentialReport`).
    CredentialReport,
}

impl Evidence for IamUser {
    const KIND: &'static str = "aws.iam_user";
    const SCHEMA_VERSION: u32 = 2;
    const CRITERIA: &'static [&'static str] = &["CC6.1", "CC6.2", "CC6.3"];
    fn subject_id(&self) -> String {
        self.user_name.clone()
    }
}

/// One MFA device of a user: its serial (an ARN for virtual devices) and when it was enabled.
/// Never the seed or QR code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaDevice {
    /// `SerialNumber`.
    pub serial_number: String,
    /// `EnableDate`.
    pub enabled: Option<DateTime<Utc>>,
}

/// One access key of a user (the key id identifies it; the secret is never readable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    /// `AccessKeyId`; for a key read from the credential report, which gives no ids, the
    /// report's slot: `access_key_1` or `access_key_2`.
    pub access_key_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// `CreateDate` (the credential report's `access_key_N_last_rotated`).
    pub created: Option<DateTime<Utc>>,
    /// `AccessKeyLastUsed.LastUsedDate`.
    pub last_used: Option<DateTime<Utc>>,
    /// `AccessKeyLastUsed.ServiceName`.
    pub last_used_service: Option<String>,
    /// `AccessKeyLastUsed.Region`.
    pub last_used_region: Option<String>,
}

/// The account password policy.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PasswordPolicy {
    /// The account id (the subject).
    pub account_id: String,
    /// `false` when the account has no custom policy (`NoSuchEntity`): AWS's defaults apply.
    pub present: bool,
    /// Whether the policy could be read (`false` with the reason in `error`).
    pub read: bool,
    /// `MinimumPasswordLength`.
    pub minimum_password_length: Option<u32>,
    /// `RequireSymbols`.
    pub require_symbols: bool,
    /// `RequireNumbers`.
    pub require_numbers: bool,
    /// `RequireUppercaseCharacters`.
    pub require_uppercase: bool,
    /// `RequireLowercaseCharacters`.
    pub require_lowercase: bool,
    /// `AllowUsersToChangePassword`.
    pub allow_users_to_change: bool,
    /// `ExpirePasswords`.
    pub expire_passwords: bool,
    /// `MaxPasswordAge`, days.
    pub max_password_age: Option<u32>,
    /// `PasswordReusePrevention`: how many previous passwords cannot be reused.
    pub password_reuse_prevention: Option<u32>,
    /// `HardExpiry`.
    pub hard_expiry: bool,
    /// Why the policy could not be read, naming the permission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Evidence for PasswordPolicy {
    const KIND: &'static str = "aws.password_policy";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.1"];
    fn subject_id(&self) -> String {
        self.account_id.clone()
    }
}

/// One CloudTrail trail, recorded in its home region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trail {
    /// The home region.
    pub region: String,
    /// `Name`.
    pub name: String,
    /// `TrailARN`.
    pub arn: String,
    /// `IsMultiRegionTrail`.
    pub multi_region: bool,
    /// `IsOrganizationTrail`.
    pub organization_trail: bool,
    /// `LogFileValidationEnabled`.
    pub log_file_validation: bool,
    /// `KmsKeyId`: logs encrypted with this key (SSE-KMS), else SSE-S3.
    pub kms_key_id: Option<String>,
    /// `S3BucketName`.
    pub s3_bucket: Option<String>,
    /// `GetTrailStatus.IsLogging`; `None` when the status could not be read.
    pub is_logging: Option<bool>,
    /// `GetTrailStatus.LatestDeliveryError`.
    pub latest_delivery_error: Option<String>,
    /// Why the status could not be read, naming the permission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_error: Option<String>,
}

impl Evidence for Trail {
    const KIND: &'static str = "aws.trail";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC7.2", "CC7.3"];
    fn subject_id(&self) -> String {
        format!("{}/{}", self.region, self.name)
    }
}

/// One default-encryption rule of a bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionRule {
    /// `SSEAlgorithm`: `AES256` (SSE-S3), `aws:kms`, `aws:kms:dsse`.
    pub algorithm: String,
    /// `KMSMasterKeyID`, for KMS.
    pub kms_key_id: Option<String>,
    /// `BucketKeyEnabled`.
    pub bucket_key_enabled: bool,
}

/// One S3 bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// The bucket name.
    pub name: String,
    /// Its region (`BucketRegion` of `ListBuckets`).
    pub region: Option<String>,
    /// `CreationDate`.
    pub created: Option<DateTime<Utc>>,
    /// Default encryption rules; `None` when they could not be read. Empty when the bucket
    /// reports no configuration (possible only before 2023, or on emulators; S3 encrypts
    /// new objects with SSE-S3 regardless).
    pub encryption: Option<Vec<EncryptionRule>>,
    /// The bucket's own public access block: `Some` when set, `None` when none is set or it
    /// was not read (see `public_access_block_read`).
    pub public_access_block: Option<PublicAccessBlock>,
    /// Whether the bucket's block was read. It is not read when the account-level block
    /// already has all four settings on (that decides `aws.s3_public_access_blocked`).
    pub public_access_block_read: bool,
    /// `Enabled`, `Suspended`, or `None` for never enabled.
    pub versioning: Option<String>,
    /// Whether object lock is enabled: `false` when versioning is off (object lock requires
    /// it); for a versioned bucket read only with `[aws] s3_object_lock = true`, `None`
    /// (not read) otherwise.
    pub object_lock: Option<bool>,
    /// Calls about this bucket that failed, each naming the permission.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl Evidence for Bucket {
    const KIND: &'static str = "aws.bucket";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.1", "CC6.6", "C1.1"];
    fn subject_id(&self) -> String {
        self.name.clone()
    }
}

/// One RDS DB instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbInstance {
    /// The region.
    pub region: String,
    /// `DBInstanceIdentifier`.
    pub identifier: String,
    /// `DBInstanceArn`.
    pub arn: Option<String>,
    /// `Engine`.
    pub engine: Option<String>,
    /// `DBInstanceStatus`.
    pub status: Option<String>,
    /// `StorageEncrypted`.
    pub storage_encrypted: bool,
    /// `KmsKeyId`.
    pub kms_key_id: Option<String>,
    /// `BackupRetentionPeriod`, days (0: automated backups off).
    pub backup_retention_days: u32,
    /// `DeletionProtection`.
    pub deletion_protection: bool,
    /// `PubliclyAccessible`.
    pub publicly_accessible: bool,
    /// `MultiAZ`.
    pub multi_az: bool,
}

impl Evidence for DbInstance {
    const KIND: &'static str = "aws.db_instance";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.1", "A1.2", "C1.1"];
    fn subject_id(&self) -> String {
        format!("{}/{}", self.region, self.identifier)
    }
}

/// One customer-managed KMS key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsKey {
    /// The region.
    pub region: String,
    /// `KeyId`.
    pub key_id: String,
    /// `Arn`.
    pub arn: Option<String>,
    /// `KeyState`: `Enabled`, `Disabled`, `PendingDeletion`, …
    pub state: Option<String>,
    /// `KeySpec`: rotation applies to `SYMMETRIC_DEFAULT` keys.
    pub key_spec: Option<String>,
    /// `Origin`: `AWS_KMS`, `EXTERNAL`, `AWS_CLOUDHSM`, …
    pub origin: Option<String>,
    /// `GetKeyRotationStatus.KeyRotationEnabled`; `None` when not applicable or unreadable.
    pub rotation_enabled: Option<bool>,
    /// `RotationPeriodInDays`.
    pub rotation_period_days: Option<u32>,
    /// Calls about this key that failed, each naming the permission.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl Evidence for KmsKey {
    const KIND: &'static str = "aws.kms_key";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.1", "C1.1"];
    fn subject_id(&self) -> String {
        format!("{}/{}", self.region, self.key_id)
    }
}

impl KmsKey {
    /// Whether automatic rotation applies: an enabled symmetric key with key material AWS
    /// KMS made (imported and custom-key-store keys cannot rotate automatically).
    pub fn rotatable(&self) -> bool {
        self.state.as_deref() == Some("Enabled")
            && self.key_spec.as_deref().unwrap_or("SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
            && self.origin.as_deref().unwrap_or("AWS_KMS") == "AWS_KMS"
    }
}

/// One inbound rule of a security group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundRule {
    /// `IpProtocol`: `tcp`, `udp`, `icmp`, or `-1` for all.
    pub protocol: String,
    /// `FromPort` (absent for all protocols).
    pub from_port: Option<i32>,
    /// `ToPort`.
    pub to_port: Option<i32>,
    /// IPv4 CIDR ranges.
    #[serde(default)]
    pub ipv4_ranges: Vec<String>,
    /// IPv6 CIDR ranges.
    #[serde(default)]
    pub ipv6_ranges: Vec<String>,
    /// Source security groups.
    #[serde(default)]
    pub source_groups: Vec<String>,
    /// Source prefix lists.
    #[serde(default)]
    pub prefix_lists: Vec<String>,
}

impl InboundRule {
    /// Whether the rule admits TCP traffic to `port`.
    pub fn admits_tcp(&self, port: i32) -> bool {
        match self.protocol.as_str() {
            "-1" | "all" => true,
            "tcp" | "6" => match (self.from_port, self.to_port) {
                (Some(from), Some(to)) => (from..=to).contains(&port) || (from == -1 && to == -1),
                _ => true,
            },
            _ => false,
        }
    }

    /// The ranges open to the whole internet (`0.0.0.0/0`, `::/0`).
    pub fn world_ranges(&self) -> Vec<&str> {
        self.ipv4_ranges
            .iter()
            .chain(&self.ipv6_ranges)
            .map(String::as_str)
            .filter(|r| matches!(*r, "0.0.0.0/0" | "::/0"))
            .collect()
    }
}

/// One EC2 security group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroup {
    /// The region.
    pub region: String,
    /// `GroupId`.
    pub group_id: String,
    /// `GroupName`.
    pub name: Option<String>,
    /// `VpcId`.
    pub vpc_id: Option<String>,
    /// `IpPermissions`.
    pub inbound: Vec<InboundRule>,
}

impl Evidence for SecurityGroup {
    const KIND: &'static str = "aws.security_group";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.6"];
    fn subject_id(&self) -> String {
        format!("{}/{}", self.region, self.group_id)
    }
}

/// A call that failed for a whole service in a region (or a global service).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadError {
    /// The scope lost: the region (`eu-west-1`), or `global` for IAM and the bucket list.
    pub region: String,
    /// The service: `iam`, `s3`, `cloudtrail`, `rds`, `kms`, `ec2`, `backup`.
    pub service: String,
    /// The operation, e.g. `DescribeDBInstances`.
    pub operation: String,
    /// The IAM permission the call needs, e.g. `rds:DescribeDBInstances`.
    pub permission: String,
    /// The error code AWS returned (`AccessDenied`, `Throttling`), if any.
    pub code: Option<String>,
    /// Whether AWS refused the call for lack of permission.
    pub denied: bool,
    /// AWS's message, or the transport error.
    pub message: String,
    /// The populations this leaves incomplete for the scope.
    pub populations: Vec<String>,
}

impl Evidence for ReadError {
    const KIND: &'static str = "aws.read_error";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.1"];
    fn subject_id(&self) -> String {
        format!("{}/{}:{}", self.region, self.service, self.operation)
    }
}

impl ReadError {
    /// "rds:DescribeDBInstances was denied in eu-west-1 (AccessDenied: …)", for a finding.
    pub fn describe(&self) -> String {
        let what = if self.denied { "was denied" } else { "failed" };
        let place = if self.region == "global" {
            String::new()
        } else {
            format!(" in {}", self.region)
        };
        let code = self
            .code
            .as_deref()
            .map(|c| format!("{c}: "))
            .unwrap_or_default();
        format!(
            "{} {what}{place} ({code}{})",
            self.permission,
            crate::backups::shorten(&self.message)
        )
    }
}
