//! Control tests over the AWS populations.
//!
//! | check | subject | criteria | why these criteria |
//! |---|---|---|---|
//! | `aws.root_mfa` | account id | CC6.1 | root is the account's most privileged identity; MFA is the logical access safeguard CC6.1 asks for |
//! | `aws.root_access_keys` | account id | CC6.1, CC6.2 | long-lived root keys are credentials nobody is issued or reviewed for (CC6.2) and bypass MFA (CC6.1) |
//! | `aws.iam_console_mfa` | user name | CC6.1 | console sign-in with a password alone |
//! | `aws.access_key_rotation` | user name | CC6.1, CC6.2 | credential lifecycle: old keys are removed or replaced |
//! | `aws.password_policy` | account id | CC6.1 | authentication strength |
//! | `aws.cloudtrail_enabled` | account id | CC7.2, CC7.3 | the activity log that monitoring and incident evaluation rely on |
//! | `aws.s3_encryption` | bucket | C1.1, CC6.1 | confidential data protected at rest |
//! | `aws.s3_public_access_blocked` | bucket | CC6.6, C1.1 | no exposure outside the system boundary |
//! | `aws.rds_encrypted` | `<region>/<db>` | C1.1, CC6.1 | confidential data protected at rest |
//! | `aws.rds_backup_retention` | `<region>/<db>` | A1.2 | backups that let the database be recovered |
//! | `aws.kms_rotation` | `<region>/<key>` | CC6.1, C1.1 | key management: material is renewed |
//! | `aws.open_admin_ports` | `<region>/<sg>` | CC6.6 | SSH and RDP closed to the internet at the boundary |
//!
//! Every check follows the verdict rule: `pass` only when the evidence establishes the control
//! for everything in scope; `fail` with the gap named; `error` when a region or service
//! could not be read (one finding per scope lost, subject the region or `global`, naming the
//! denied permission) or a resource's details could not be read; `not_applicable` when
//! nothing is in scope. The AWS Backup jobs are judged by the four `backups.*` checks, built
//! over this instance's `backup_jobs`, `restore_jobs` and `backup_sources`.

use chrono::Duration;
use soc2_evidence_core::{Check, CheckError, Evidence, EvidenceStore, Finding, FindingStatus};

use crate::backups::{checks_for, CheckScope};

use super::config::AwsCheckSettings;
use super::records::{
    AwsAccount, Bucket, KmsKey, ReadError, ACCOUNT, BACKUP_JOBS, BACKUP_SOURCES, BUCKETS,
    DB_INSTANCES, IAM_USERS, KMS_KEYS, PASSWORD_POLICY, READ_ERRORS, RESTORE_JOBS, SECURITY_GROUPS,
    TRAILS,
};

/// Passwords a user may not reuse, at least (CIS AWS Foundations 1.9).
pub const MIN_PASSWORD_REUSE_PREVENTION: u32 = 24;
/// Ports that are administrative access: SSH and RDP.
pub const ADMIN_PORTS: &[i32] = &[22, 3389];

/// The checks of one instance: the twelve `aws.*` checks and the four `backups.*` checks
/// over its AWS Backup jobs.
pub fn checks(instance: &str, settings: &AwsCheckSettings) -> Vec<Box<dyn Check>> {
    let mut out: Vec<Box<dyn Check>> = Kind::ALL
        .iter()
        .map(|k| {
            Box::new(AwsCheck {
                kind: *k,
                instance: instance.to_string(),
                settings: settings.clone(),
            }) as Box<dyn Check>
        })
        .collect();
    if settings.aws_backup {
        out.extend(checks_for(
            CheckScope::with_populations(instance, BACKUP_JOBS, RESTORE_JOBS, BACKUP_SOURCES),
            settings.recovery_hours,
        ));
    }
    out
}

/// Which control an [`AwsCheck`] tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `aws.root_mfa`.
    RootMfa,
    /// `aws.root_access_keys`.
    RootAccessKeys,
    /// `aws.iam_console_mfa`.
    IamConsoleMfa,
    /// `aws.access_key_rotation`.
    AccessKeyRotation,
    /// `aws.password_policy`.
    PasswordPolicy,
    /// `aws.cloudtrail_enabled`.
    CloudtrailEnabled,
    /// `aws.s3_encryption`.
    S3Encryption,
    /// `aws.s3_public_access_blocked`.
    S3PublicAccessBlocked,
    /// `aws.rds_encrypted`.
    RdsEncrypted,
    /// `aws.rds_backup_retention`.
    RdsBackupRetention,
    /// `aws.kms_rotation`.
    KmsRotation,
    /// `aws.open_admin_ports`.
    OpenAdminPorts,
}

impl Kind {
    /// Every AWS check, in report order.
    pub const ALL: &'static [Kind] = &[
        Kind::RootMfa,
        Kind::RootAccessKeys,
        Kind::IamConsoleMfa,
        Kind::AccessKeyRotation,
        Kind::PasswordPolicy,
        Kind::CloudtrailEnabled,
        Kind::S3Encryption,
        Kind::S3PublicAccessBlocked,
        Kind::RdsEncrypted,
        Kind::RdsBackupRetention,
        Kind::KmsRotation,
        Kind::OpenAdminPorts,
    ];

    /// The check id (contract).
    pub fn id(self) -> &'static str {
        match self {
            Kind::RootMfa => "aws.root_mfa",
            Kind::RootAccessKeys => "aws.root_access_keys",
            Kind::IamConsoleMfa => "aws.iam_console_mfa",
            Kind::AccessKeyRotation => "aws.access_key_rotation",
            Kind::PasswordPolicy => "aws.password_policy",
            Kind::CloudtrailEnabled => "aws.cloudtrail_enabled",
            Kind::S3Encryption => "aws.s3_encryption",
            Kind::S3PublicAccessBlocked => "aws.s3_public_access_blocked",
            Kind::RdsEncrypted => "aws.rds_encrypted",
            Kind::RdsBackupRetention => "aws.rds_backup_retention",
            Kind::KmsRotation => "aws.kms_rotation",
            Kind::OpenAdminPorts => "aws.open_admin_ports",
        }
    }

    fn criteria(self) -> &'static [&'static str] {
        match self {
            Kind::RootMfa | Kind::IamConsoleMfa | Kind::PasswordPolicy => &["CC6.1"],
            Kind::RootAccessKeys | Kind::AccessKeyRotation => &["CC6.1", "CC6.2"],
            Kind::CloudtrailEnabled => &["CC7.2", "CC7.3"],
            Kind::S3Encryption | Kind::RdsEncrypted => &["C1.1", "CC6.1"],
            Kind::S3PublicAccessBlocked => &["CC6.6", "C1.1"],
            Kind::RdsBackupRetention => &["A1.2"],
            Kind::KmsRotation => &["CC6.1", "C1.1"],
            Kind::OpenAdminPorts => &["CC6.6"],
        }
    }

    fn description(self) -> &'static str {
        match self {
            Kind::RootMfa => "The AWS account's root user has MFA enabled.",
            Kind::RootAccessKeys => "The AWS account's root user has no access keys.",
            Kind::IamConsoleMfa => "Every IAM user with console access has an MFA device.",
            Kind::AccessKeyRotation => {
                "No active IAM access key is older than the configured maximum age."
            }
            Kind::PasswordPolicy => {
                "The IAM password policy requires the configured minimum length and prevents \
                 reuse of recent passwords."
            }
            Kind::CloudtrailEnabled => {
                "At least one multi-region CloudTrail trail is logging with log file \
                 validation."
            }
            Kind::S3Encryption => {
                "Every S3 bucket encrypts objects at rest by default with a usable key."
            }
            Kind::S3PublicAccessBlocked => {
                "Every S3 bucket has all four public access block settings on, at the account \
                 or the bucket level."
            }
            Kind::RdsEncrypted => "Every RDS DB instance has storage encryption.",
            Kind::RdsBackupRetention => {
                "Every RDS DB instance keeps automated backups for at least the configured \
                 number of days."
            }
            Kind::KmsRotation => {
                "Every enabled customer-managed symmetric KMS key has automatic rotation on."
            }
            Kind::OpenAdminPorts => {
                "No security group admits SSH (22) or RDP (3389) from 0.0.0.0/0 or ::/0."
            }
        }
    }

    /// The population whose read errors make this check's scope incomplete.
    fn population(self) -> &'static str {
        match self {
            Kind::RootMfa | Kind::RootAccessKeys => ACCOUNT.name(),
            Kind::IamConsoleMfa | Kind::AccessKeyRotation => IAM_USERS.name(),
            Kind::PasswordPolicy => PASSWORD_POLICY.name(),
            Kind::CloudtrailEnabled => TRAILS.name(),
            Kind::S3Encryption | Kind::S3PublicAccessBlocked => BUCKETS.name(),
            Kind::RdsEncrypted | Kind::RdsBackupRetention => DB_INSTANCES.name(),
            Kind::KmsRotation => KMS_KEYS.name(),
            Kind::OpenAdminPorts => SECURITY_GROUPS.name(),
        }
    }
}

/// One AWS check over one instance.
#[derive(Debug, Clone)]
pub struct AwsCheck {
    kind: Kind,
    instance: String,
    settings: AwsCheckSettings,
}

impl AwsCheck {
    /// The check `kind` over instance `instance`.
    pub fn new(kind: Kind, instance: &str, settings: AwsCheckSettings) -> Self {
        Self {
            kind,
            instance: instance.to_string(),
            settings,
        }
    }

    fn finding(&self, status: FindingStatus, subject: &str, summary: String) -> Finding {
        Finding::new(
            self.kind.id(),
            self.kind.criteria(),
            status,
            subject,
            summary,
        )
    }

    fn pass_fail(&self, ok: bool, subject: &str, summary: String) -> Finding {
        let status = if ok {
            FindingStatus::Pass
        } else {
            FindingStatus::Fail
        };
        self.finding(status, subject, summary)
    }

    /// One `error` per scope (region, or `global`) whose read failed for this population.
    fn scope_errors(&self, errors: &[ReadError]) -> Vec<Finding> {
        let population = self.kind.population();
        let mut out: Vec<Finding> = Vec::new();
        for e in errors
            .iter()
            .filter(|e| e.populations.iter().any(|p| p == population))
        {
            out.push(
                self.finding(
                    FindingStatus::Error,
                    &e.region,
                    format!(
                        "{} could not be read{}, so it was not judged there: {}",
                        population,
                        if e.region == super::collector::GLOBAL {
                            String::new()
                        } else {
                            format!(" in {}", e.region)
                        },
                        e.describe()
                    ),
                )
                .with_evidence(READ_ERRORS.at(&self.instance).evidence(e.subject_id())),
            );
        }
        out
    }

    fn account(&self, store: &EvidenceStore) -> Result<Option<AwsAccount>, CheckError> {
        Ok(store
            .records_all(&ACCOUNT.at(&self.instance))?
            .into_iter()
            .next())
    }

    fn run_kind(
        &self,
        store: &EvidenceStore,
        errors: &[ReadError],
    ) -> Result<Vec<Finding>, CheckError> {
        let i = &self.instance;
        let mut out = self.scope_errors(errors);
        match self.kind {
            Kind::RootMfa | Kind::RootAccessKeys => {
                let Some(a) = self.account(store)? else {
                    // The runner turns this into an error when the population is incomplete.
                    return Ok(vec![self.nothing(i, "no account record in the evidence")]);
                };
                let ev = ACCOUNT.at(i).evidence(&a.account_id);
                let why = a.errors.join("; ");
                let f = if self.kind == Kind::RootMfa {
                    match a.root_mfa_enabled {
                        Some(on) => self.pass_fail(
                            on,
                            &a.account_id,
                            if on {
                                "root has MFA enabled (AccountMFAEnabled = 1)".into()
                            } else {
                                "root has no MFA (AccountMFAEnabled = 0)".into()
                            },
                        ),
                        None => self.finding(
                            FindingStatus::Error,
                            &a.account_id,
                            format!("the account summary could not be read: {why}"),
                        ),
                    }
                } else {
                    match a.root_access_keys_present {
                        Some(n) => self.pass_fail(
                            n == 0,
                            &a.account_id,
                            if n == 0 {
                                "root has no access keys (AccountAccessKeysPresent = 0)".into()
                            } else {
                                format!("root has access keys (AccountAccessKeysPresent = {n})")
                            },
                        ),
                        None => self.finding(
                            FindingStatus::Error,
                            &a.account_id,
                            format!("the account summary could not be read: {why}"),
                        ),
                    }
                };
                // The summary's failure is already this finding's error.
                out.retain(|f| f.subject_id != super::collector::GLOBAL);
                out.push(f.with_evidence(ev));
            }
            Kind::IamConsoleMfa => {
                for u in store.records_all(&IAM_USERS.at(i))? {
                    let ev = IAM_USERS.at(i).evidence(&u.user_name);
                    let mfa = u
                        .mfa_active
                        .or_else(|| u.mfa_devices.as_ref().map(|d| !d.is_empty()));
                    let f = match (u.console_access, mfa) {
                        (Some(false), _) => continue,
                        (None, _) | (Some(true), None) => self.finding(
                            FindingStatus::Error,
                            &u.user_name,
                            format!(
                                "console access or MFA devices could not be read: {}",
                                u.errors.join("; ")
                            ),
                        ),
                        (Some(true), Some(on)) => {
                            let devices = u.mfa_devices.as_deref().unwrap_or_default();
                            let how = if !devices.is_empty() {
                                format!(
                                    " with {} MFA device(s): {}",
                                    devices.len(),
                                    devices
                                        .iter()
                                        .map(|d| d.serial_number.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )
                            } else {
                                let state = if on {
                                    " with MFA active"
                                } else {
                                    " and no MFA device"
                                };
                                match u.credential_report_generated {
                                    Some(t) => format!(
                                        "{state} (credential report of {})",
                                        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                                    ),
                                    None => state.to_string(),
                                }
                            };
                            self.pass_fail(on, &u.user_name, format!("console password{how}"))
                        }
                    };
                    out.push(f.with_evidence(ev));
                }
                if out.is_empty() {
                    out.push(self.nothing(i, "no IAM user has a console password"));
                }
            }
            Kind::AccessKeyRotation => {
                let now = store.collected_at();
                let max = i64::from(self.settings.max_key_age_days);
                for u in store.records_all(&IAM_USERS.at(i))? {
                    let ev = IAM_USERS.at(i).evidence(&u.user_name);
                    let Some(keys) = &u.access_keys else {
                        out.push(
                            self.finding(
                                FindingStatus::Error,
                                &u.user_name,
                                format!("access keys could not be read: {}", u.errors.join("; ")),
                            )
                            .with_evidence(ev),
                        );
                        continue;
                    };
                    let active: Vec<_> = keys.iter().filter(|k| k.status == "Active").collect();
                    if active.is_empty() {
                        continue;
                    }
                    let mut old = Vec::new();
                    let mut unknown = Vec::new();
                    for k in &active {
                        match k.created {
                            Some(c) if now - c > Duration::days(max) => old.push(format!(
                                "{} is {} days old",
                                k.access_key_id,
                                (now - c).num_days()
                            )),
                            Some(_) => {}
                            None => unknown.push(k.access_key_id.clone()),
                        }
                    }
                    let f = if !old.is_empty() {
                        self.finding(
                            FindingStatus::Fail,
                            &u.user_name,
                            format!("active key(s) older than {max} days: {}", old.join(", ")),
                        )
                    } else if !unknown.is_empty() {
                        self.finding(
                            FindingStatus::Error,
                            &u.user_name,
                            format!("creation date unknown for {}", unknown.join(", ")),
                        )
                    } else {
                        self.finding(
                            FindingStatus::Pass,
                            &u.user_name,
                            format!(
                                "{} active key(s), each at most {max} days old",
                                active.len()
                            ),
                        )
                    };
                    out.push(f.with_evidence(ev));
                }
                if out.is_empty() {
                    out.push(self.nothing(i, "no IAM user has an active access key"));
                }
            }
            Kind::PasswordPolicy => {
                out.clear();
                for p in store.records_all(&PASSWORD_POLICY.at(i))? {
                    let ev = PASSWORD_POLICY.at(i).evidence(&p.account_id);
                    let f = if !p.read {
                        self.finding(
                            FindingStatus::Error,
                            &p.account_id,
                            format!(
                                "the password policy could not be read: {}",
                                p.error.as_deref().unwrap_or("unknown error")
                            ),
                        )
                    } else if !p.present {
                        self.finding(
                            FindingStatus::Fail,
                            &p.account_id,
                            "no account password policy is set (NoSuchEntity): AWS's default \
                             allows 8-character passwords and reuse"
                                .into(),
                        )
                    } else {
                        let min = self.settings.min_password_length;
                        let mut problems = Vec::new();
                        match p.minimum_password_length {
                            Some(n) if n >= min => {}
                            Some(n) => problems.push(format!("minimum length {n} is below {min}")),
                            None => problems.push("no minimum length is set".into()),
                        }
                        match p.password_reuse_prevention {
                            Some(n) if n >= MIN_PASSWORD_REUSE_PREVENTION => {}
                            Some(n) => problems.push(format!(
                                "reuse prevention remembers {n} passwords, fewer than \
                                 {MIN_PASSWORD_REUSE_PREVENTION}"
                            )),
                            None => problems.push("password reuse is not prevented".into()),
                        }
                        if problems.is_empty() {
                            self.finding(
                                FindingStatus::Pass,
                                &p.account_id,
                                format!(
                                    "minimum length {}, the last {} passwords cannot be reused \
                                     (AWS has no lockout setting; sign-in throttling is AWS's)",
                                    p.minimum_password_length.unwrap_or_default(),
                                    p.password_reuse_prevention.unwrap_or_default()
                                ),
                            )
                        } else {
                            self.finding(FindingStatus::Fail, &p.account_id, problems.join("; "))
                        }
                    };
                    out.push(f.with_evidence(ev));
                }
                if out.is_empty() {
                    out.push(self.nothing(i, "no password policy record in the evidence"));
                }
            }
            Kind::CloudtrailEnabled => {
                let Some(account) = self.account(store)?.map(|a| a.account_id) else {
                    return Ok(vec![self.nothing(i, "no account record in the evidence")]);
                };
                let trails = store.records_all(&TRAILS.at(i))?;
                let completeness = store.completeness(&TRAILS.at(i));
                if !completeness.complete && !completeness.scopes.is_empty() {
                    // Lost regions are named by the scope errors already.
                } else if !completeness.complete {
                    out.push(self.finding(
                        FindingStatus::Error,
                        &account,
                        completeness.incomplete_reason(),
                    ));
                }
                let good = trails.iter().find(|t| {
                    t.multi_region && t.is_logging == Some(true) && t.log_file_validation
                });
                let unknown: Vec<_> = trails
                    .iter()
                    .filter(|t| t.multi_region && t.log_file_validation && t.is_logging.is_none())
                    .collect();
                let lost = !out.is_empty();
                let f = if let Some(t) = good {
                    self.finding(
                        FindingStatus::Pass,
                        &account,
                        format!(
                            "trail {} ({}) is multi-region, logging, with log file validation",
                            t.name, t.region
                        ),
                    )
                    .with_evidence(TRAILS.at(i).evidence(t.subject_id()))
                } else if lost || !unknown.is_empty() {
                    let mut why: Vec<String> = out.iter().map(|f| f.summary.clone()).collect();
                    why.extend(unknown.iter().map(|t| {
                        format!(
                            "trail {} status unreadable: {}",
                            t.name,
                            t.status_error.as_deref().unwrap_or("unknown")
                        )
                    }));
                    self.finding(
                        FindingStatus::Error,
                        &account,
                        format!(
                            "no qualifying trail among those read, and not everything could be \
                             read: {}",
                            why.join("; ")
                        ),
                    )
                    .with_evidence(TRAILS.at(i).evidence_file())
                } else {
                    let seen: Vec<String> = trails
                        .iter()
                        .map(|t| {
                            format!(
                                "{} ({}: multi-region {}, logging {}, validation {})",
                                t.name,
                                t.region,
                                t.multi_region,
                                t.is_logging.unwrap_or(false),
                                t.log_file_validation
                            )
                        })
                        .collect();
                    self.finding(
                        FindingStatus::Fail,
                        &account,
                        if seen.is_empty() {
                            "no CloudTrail trail in the regions read".into()
                        } else {
                            format!(
                                "no multi-region trail is logging with log file validation: {}",
                                seen.join("; ")
                            )
                        },
                    )
                    .with_evidence(TRAILS.at(i).evidence_file())
                };
                // One finding per account.
                out = vec![f];
            }
            Kind::S3Encryption | Kind::S3PublicAccessBlocked => {
                let buckets = store.records_all(&BUCKETS.at(i))?;
                let account = self.account(store)?;
                let keys = if self.kind == Kind::S3Encryption {
                    store.records_all(&KMS_KEYS.at(i))?
                } else {
                    Vec::new()
                };
                for b in &buckets {
                    let f = if self.kind == Kind::S3Encryption {
                        self.s3_encryption(b, &keys)
                    } else {
                        self.s3_public(b, account.as_ref())
                    };
                    out.push(f.with_evidence(BUCKETS.at(i).evidence(&b.name)));
                }
                if out.is_empty() {
                    out.push(self.nothing(i, "no S3 bucket"));
                }
            }
            Kind::RdsEncrypted | Kind::RdsBackupRetention => {
                let min = self.settings.min_backup_retention_days;
                for d in store.records_all(&DB_INSTANCES.at(i))? {
                    let subject = format!("{}/{}", d.region, d.identifier);
                    let f = if self.kind == Kind::RdsEncrypted {
                        self.pass_fail(
                            d.storage_encrypted,
                            &subject,
                            if d.storage_encrypted {
                                format!(
                                    "storage encrypted{}",
                                    d.kms_key_id
                                        .as_deref()
                                        .map(|k| format!(" with {k}"))
                                        .unwrap_or_default()
                                )
                            } else {
                                "storage not encrypted (StorageEncrypted = false)".into()
                            },
                        )
                    } else {
                        self.pass_fail(
                            d.backup_retention_days >= min,
                            &subject,
                            if d.backup_retention_days == 0 {
                                "automated backups are off (BackupRetentionPeriod = 0)".into()
                            } else {
                                format!(
                                    "automated backups kept {} day(s); at least {min} required",
                                    d.backup_retention_days
                                )
                            },
                        )
                    };
                    out.push(f.with_evidence(DB_INSTANCES.at(i).evidence(&subject)));
                }
                if out.is_empty() {
                    out.push(self.nothing(i, "no RDS DB instance in the regions read"));
                }
            }
            Kind::KmsRotation => {
                for k in store.records_all(&KMS_KEYS.at(i))? {
                    if !k.rotatable() {
                        continue;
                    }
                    let subject = format!("{}/{}", k.region, k.key_id);
                    let f = match k.rotation_enabled {
                        Some(on) => self.pass_fail(
                            on,
                            &subject,
                            if on {
                                format!(
                                    "automatic rotation on{}",
                                    k.rotation_period_days
                                        .map(|d| format!(", every {d} days"))
                                        .unwrap_or_default()
                                )
                            } else {
                                "automatic rotation off".into()
                            },
                        ),
                        None => self.finding(
                            FindingStatus::Error,
                            &subject,
                            format!("rotation status could not be read: {}", k.errors.join("; ")),
                        ),
                    };
                    out.push(f.with_evidence(KMS_KEYS.at(i).evidence(&subject)));
                }
                if out.is_empty() {
                    out.push(self.nothing(
                        i,
                        "no enabled customer-managed symmetric KMS key in the regions read",
                    ));
                }
            }
            Kind::OpenAdminPorts => {
                for sg in store.records_all(&SECURITY_GROUPS.at(i))? {
                    let subject = format!("{}/{}", sg.region, sg.group_id);
                    let mut open = Vec::new();
                    for r in &sg.inbound {
                        let world = r.world_ranges();
                        if world.is_empty() {
                            continue;
                        }
                        for p in ADMIN_PORTS {
                            if r.admits_tcp(*p) {
                                open.push(format!("port {p} open to {}", world.join(" and ")));
                            }
                        }
                    }
                    open.dedup();
                    let f = self.pass_fail(
                        open.is_empty(),
                        &subject,
                        if open.is_empty() {
                            format!(
                                "{} inbound rule(s), none admits 22 or 3389 from the internet",
                                sg.inbound.len()
                            )
                        } else {
                            open.join("; ")
                        },
                    );
                    out.push(f.with_evidence(SECURITY_GROUPS.at(i).evidence(&subject)));
                }
                if out.is_empty() {
                    out.push(self.nothing(i, "no security group in the regions read"));
                }
            }
        }
        Ok(out)
    }

    fn nothing(&self, instance: &str, reason: &str) -> Finding {
        Finding::nothing_in_scope(self.kind.id(), self.kind.criteria(), instance, reason)
    }

    fn s3_encryption(&self, b: &Bucket, keys: &[KmsKey]) -> Finding {
        const WHAT: &str = "judged: the bucket's default encryption is readable and uses a \
                            usable key; S3 has encrypted every new object with SSE-S3 since \
                            January 2023, so the default and an explicit SSE-S3 rule are \
                            judged alike";
        let Some(rules) = &b.encryption else {
            return self.finding(
                FindingStatus::Error,
                &b.name,
                format!(
                    "default encryption could not be read: {}",
                    b.errors.join("; ")
                ),
            );
        };
        if rules.is_empty() {
            return self.finding(
                FindingStatus::Pass,
                &b.name,
                format!("no rule reported, so S3's default SSE-S3 applies ({WHAT})"),
            );
        }
        let mut problems = Vec::new();
        for r in rules {
            if !matches!(r.algorithm.as_str(), "AES256" | "aws:kms" | "aws:kms:dsse") {
                problems.push(format!("unknown algorithm {}", r.algorithm));
            }
            if let Some(id) = &r.kms_key_id {
                let key = keys.iter().find(|k| {
                    &k.key_id == id || k.arn.as_deref() == Some(id) || id.ends_with(&k.key_id)
                });
                if let Some(k) = key {
                    if k.state.as_deref() != Some("Enabled") {
                        problems.push(format!(
                            "KMS key {id} is {}: objects cannot be encrypted or read with it",
                            k.state.as_deref().unwrap_or("in an unknown state")
                        ));
                    }
                }
            }
        }
        let algos: Vec<&str> = rules.iter().map(|r| r.algorithm.as_str()).collect();
        if problems.is_empty() {
            self.finding(
                FindingStatus::Pass,
                &b.name,
                format!("default encryption {} ({WHAT})", algos.join(", ")),
            )
        } else {
            self.finding(FindingStatus::Fail, &b.name, problems.join("; "))
        }
    }

    fn s3_public(&self, b: &Bucket, account: Option<&AwsAccount>) -> Finding {
        let account_all = account
            .and_then(|a| a.s3_public_access_block)
            .is_some_and(|p| p.all_on());
        if account_all {
            return self.finding(
                FindingStatus::Pass,
                &b.name,
                "the account-level public access block has all four settings on".into(),
            );
        }
        if b.public_access_block.is_some_and(|p| p.all_on()) {
            return self.finding(
                FindingStatus::Pass,
                &b.name,
                "the bucket's public access block has all four settings on".into(),
            );
        }
        let account_read = account.is_some_and(|a| a.s3_public_access_block_read);
        if !account_read || !b.public_access_block_read {
            let mut why: Vec<String> = account.map(|a| a.errors.clone()).unwrap_or_default();
            why.extend(b.errors.iter().cloned());
            return self.finding(
                FindingStatus::Error,
                &b.name,
                format!(
                    "the public access blocks could not all be read: {}",
                    why.join("; ")
                ),
            );
        }
        let off = b
            .public_access_block
            .map(|p| p.off().join(", "))
            .unwrap_or_else(|| "no bucket-level block is set".into());
        let acct = account
            .and_then(|a| a.s3_public_access_block)
            .map(|p| p.off().join(", "))
            .unwrap_or_else(|| "no account-level block is set".into());
        self.finding(
            FindingStatus::Fail,
            &b.name,
            format!("public access not fully blocked: bucket off: {off}; account off: {acct}"),
        )
    }
}

impl Check for AwsCheck {
    fn id(&self) -> &str {
        self.kind.id()
    }
    fn criteria(&self) -> &[&'static str] {
        self.kind.criteria()
    }
    fn description(&self) -> &str {
        self.kind.description()
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let errors = store.records_all(&READ_ERRORS.at(&self.instance))?;
        self.run_kind(store, &errors)
    }
}
