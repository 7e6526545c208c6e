//! The AWS collector: identity, IAM, CloudTrail, S3, RDS, KMS, EC2 security groups and AWS
//! Backup, regions and services read concurrently.
//!
//! A call that AWS answers with a refusal for a whole service in a region (AccessDenied, a
//! region not enabled) is recorded in `read_errors`, and the populations it feeds are
//! finished incomplete for that scope (the region, or `global`): the other regions and
//! services keep their evidence and their verdicts, and the checks report `error` for the
//! scope, naming the permission. A call that gets no answer (5xx or throttling past the
//! SDK's retries, a timeout, a body that cannot be read) is recorded the same way, and
//! once everything else is read it also fails the collector, naming the operations: what
//! was read is kept as `.partial`, never presented as a complete collection. So does a
//! failure to learn who we are (STS `GetCallerIdentity`) or which regions exist.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::{stream, StreamExt};
use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::{
    CollectContext, CollectError, Collector, Evidence, EvidenceSink, EvidenceSinkExt, Population,
};

use crate::backups::{BackupJob, BackupSource, Resource, RestoreJob};

use super::api::{sdk_config, CallCounter, CallError, Page, Tap};
use super::config::AwsSettings;
use super::credential_report;
use super::records::{
    AccessKey, AwsAccount, Bucket, DbInstance, EncryptionRule, IamUser, InboundRule, KmsKey,
    MfaDevice, PasswordPolicy, PublicAccessBlock, ReadError, SecurityGroup, Trail,
    UserDetailsSource, ACCOUNT, BACKUP_JOBS, BACKUP_SOURCES, BUCKETS, DB_INSTANCES, IAM_USERS,
    KMS_KEYS, PASSWORD_POLICY, READ_ERRORS, RESTORE_JOBS, SECURITY_GROUPS, TRAILS,
};

/// Scope name of global services (IAM, the S3 bucket list) in `read_errors`.
pub const GLOBAL: &str = "global";
/// The tool name of AWS Backup records, as the backups collector writes it.
const BACKUP_TOOL: &str = "aws-backup";

/// The AWS collector. Build it from `[aws]` through the registry, or from [`AwsSettings`].
#[derive(Debug)]
pub struct AwsCollector {
    settings: AwsSettings,
    calls: CallCounter,
}

/// What one service read for one population: records, pages, scopes lost.
struct Gathered<E> {
    records: Vec<E>,
    pages: Vec<Page>,
    lost: Vec<String>,
    notes: Vec<String>,
}

impl<E> Default for Gathered<E> {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            pages: Vec::new(),
            lost: Vec::new(),
            notes: Vec::new(),
        }
    }
}

impl<E> Gathered<E> {
    fn absorb(&mut self, other: Gathered<E>) {
        self.records.extend(other.records);
        self.pages.extend(other.pages);
        self.lost.extend(other.lost);
        self.notes.extend(other.notes);
    }
}

/// `iam:GetAccessKeyLastUsed` from the SDK's error type for that operation.
fn operation_of<E>() -> String {
    let name = std::any::type_name::<E>();
    let mut parts = name.split("::");
    let service = parts
        .next()
        .and_then(|c| c.strip_prefix("aws_sdk_"))
        .unwrap_or("aws")
        .to_string();
    let op = name
        .rsplit("::")
        .next()
        .unwrap_or(name)
        .trim_end_matches("Error")
        .to_string();
    format!("{service}:{op}")
}

/// Shared state of one collection: clients' config, the call counter and the errors.
struct Run<'a> {
    settings: &'a AwsSettings,
    calls: &'a CallCounter,
    errors: Mutex<Vec<ReadError>>,
    fatal: Mutex<Vec<String>>,
}

impl Run<'_> {
    /// Classifies a failed call; one that is not an answer (see [`CallError::soft`]) is
    /// remembered, and fails the collector once everything else is read.
    fn call_error<E>(&self, e: &aws_sdk_sts::error::SdkError<E>) -> CallError
    where
        E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let err = CallError::from_sdk(e);
        if !err.soft() {
            let mut v = match self.fatal.lock() {
                Ok(v) => v,
                Err(p) => p.into_inner(),
            };
            v.push(err.describe(&operation_of::<E>()));
        }
        err
    }

    fn error(&self, e: ReadError) {
        match self.errors.lock() {
            Ok(mut v) => v.push(e),
            Err(p) => p.into_inner().push(e),
        }
    }

    fn conc(&self) -> usize {
        self.settings.concurrency.max(1)
    }
}

/// The SDK's time as chrono's, rounded to the microsecond: JSON services send epoch
/// seconds as floats (`1772596800.77`), which the SDK parses through an f64, so the
/// nanoseconds carry binary noise (`.769999980`). AWS keeps at most milliseconds.
pub(super) fn chrono_time(t: &aws_smithy_types_time::DateTime) -> Option<DateTime<Utc>> {
    let micros = (u64::from(t.subsec_nanos()) + 500) / 1000;
    let (secs, micros) = if micros >= 1_000_000 {
        (t.secs().checked_add(1)?, 0)
    } else {
        (t.secs(), micros)
    };
    DateTime::from_timestamp(secs, u32::try_from(micros * 1000).ok()?)
}

/// The SDK's time type (every service crate re-exports the same one).
mod aws_smithy_types_time {
    pub use aws_sdk_sts::primitives::DateTime;
}

fn num(v: Option<i32>) -> Option<u32> {
    v.and_then(|n| u32::try_from(n).ok())
}

impl AwsCollector {
    /// A collector with these settings.
    pub fn new(settings: AwsSettings) -> Result<Self, ConfigError> {
        if settings.name.trim().is_empty() {
            return Err(ConfigError::Invalid {
                section: super::module::TYPE.into(),
                key: "name".into(),
                message: "is empty".into(),
            });
        }
        Ok(Self {
            settings,
            calls: CallCounter::default(),
        })
    }

    /// HTTP requests sent so far by this collector (retries included).
    pub fn api_calls(&self) -> u64 {
        self.calls.get()
    }

    async fn collect_all(
        &self,
        ctx: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let s = &self.settings;
        let home = s
            .regions
            .first()
            .cloned()
            .unwrap_or_else(|| "us-east-1".to_string());
        let base = sdk_config(s, &home).await?;
        let run = Run {
            settings: s,
            calls: &self.calls,
            errors: Mutex::new(Vec::new()),
            fatal: Mutex::new(Vec::new()),
        };

        // Who we are: without it nothing can be attributed, so it fails the collector.
        ctx.message("aws: sts:GetCallerIdentity");
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&base)
                .interceptor(self.calls.clone())
                .build(),
        );
        let tap = Tap::default();
        let me = sts
            .get_caller_identity()
            .customize()
            .interceptor(tap.clone())
            .send()
            .await
            .map_err(|e| {
                CollectError::Source(format!(
                    "aws: sts:GetCallerIdentity failed, so the account is unknown: {} \
                     (request {})",
                    CallError::from_sdk(&e).describe("sts:GetCallerIdentity"),
                    self.calls.failed_paths().join(", ")
                ))
            })?;
        let identity_page = Page::new("POST", "sts", "GetCallerIdentity", None, &tap).records(1);
        let account_id = me.account().unwrap_or_default().to_string();
        let principal_arn = me.arn().unwrap_or_default().to_string();
        ctx.check_cancelled()?;

        let regions = if s.regions.is_empty() {
            ctx.message("aws: ec2:DescribeRegions");
            let ec2 = ec2_client(&base, &self.calls);
            let out = ec2.describe_regions().send().await.map_err(|e| {
                CollectError::Source(format!(
                    "aws: no regions configured and {} (request {}); list them in [aws] regions",
                    CallError::from_sdk(&e).describe("ec2:DescribeRegions"),
                    self.calls.failed_paths().join(", ")
                ))
            })?;
            let mut names: Vec<String> = out
                .regions()
                .iter()
                .filter_map(|r| r.region_name().map(str::to_string))
                .collect();
            names.sort();
            names
        } else {
            s.regions.clone()
        };

        ctx.message(&format!(
            "aws: account {account_id}, {} region(s)",
            regions.len()
        ));
        let per_region = regions.iter().map(|r| self.region(&run, &base, r, ctx));
        let (global, regional) = futures::join!(
            self.global(&run, &base, &account_id, &regions),
            futures::future::join_all(per_region)
        );
        ctx.check_cancelled()?;
        let (mut account, account_pages, users, policy, buckets) = global;
        account.account_id = account_id.clone();
        account.principal_arn = principal_arn;

        let mut trails = Gathered::default();
        let mut dbs = Gathered::default();
        let mut keys = Gathered::default();
        let mut sgs = Gathered::default();
        let mut jobs = Gathered::default();
        let mut restores = Gathered::default();
        let mut sources = Gathered::default();
        for r in regional {
            trails.absorb(r.trails);
            dbs.absorb(r.dbs);
            keys.absorb(r.keys);
            sgs.absorb(r.sgs);
            jobs.absorb(r.jobs);
            restores.absorb(r.restores);
            sources.absorb(r.sources);
        }

        let fatal = match run.fatal.into_inner() {
            Ok(v) => v,
            Err(p) => p.into_inner(),
        };
        let mut errors = match run.errors.into_inner() {
            Ok(v) => v,
            Err(p) => p.into_inner(),
        };
        errors.sort_by_key(|e| e.subject_id());
        let calls = self.calls.get();

        // The account record and its pages.
        let mut pages = vec![identity_page];
        pages.extend(account_pages);
        write(
            sink,
            &ACCOUNT,
            Gathered {
                records: vec![account],
                pages,
                lost: Vec::new(),
                notes: vec![format!(
                    "{calls} HTTP requests to AWS in this collection (retries included)"
                )],
            },
        )?;
        write(sink, &IAM_USERS, users)?;
        write(sink, &PASSWORD_POLICY, policy)?;
        write(sink, &BUCKETS, buckets)?;
        write(sink, &TRAILS, trails)?;
        write(sink, &DB_INSTANCES, dbs)?;
        write(sink, &KMS_KEYS, keys)?;
        write(sink, &SECURITY_GROUPS, sgs)?;
        if s.aws_backup {
            write(sink, &BACKUP_JOBS, jobs)?;
            write(sink, &RESTORE_JOBS, restores)?;
            write(sink, &BACKUP_SOURCES, sources)?;
        }
        write(
            sink,
            &READ_ERRORS,
            Gathered {
                records: errors,
                ..Gathered::default()
            },
        )?;
        if !fatal.is_empty() {
            // Everything was read that could be, and is kept as .partial for inspection;
            // but a failure that is not AWS's answer (a denial, a region not enabled)
            // leaves a gap the evidence cannot name, so the collection failed.
            let shown: Vec<&str> = fatal.iter().take(5).map(String::as_str).collect();
            return Err(CollectError::Source(format!(
                "aws: {} call(s) to AWS failed beyond the retries: {}{}; failed requests: {}",
                fatal.len(),
                shown.join("; "),
                if fatal.len() > shown.len() {
                    "; …"
                } else {
                    ""
                },
                self.calls.failed_paths().join(", ")
            )));
        }
        Ok(())
    }

    /// The account summary, IAM users, the password policy and the buckets.
    async fn global(
        &self,
        run: &Run<'_>,
        base: &aws_config::SdkConfig,
        account_id: &str,
        regions: &[String],
    ) -> (
        AwsAccount,
        Vec<Page>,
        Gathered<IamUser>,
        Gathered<PasswordPolicy>,
        Gathered<Bucket>,
    ) {
        let iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(base)
                .interceptor(self.calls.clone())
                .build(),
        );
        let (summary, users, policy, pab) = futures::join!(
            account_summary(run, &iam),
            iam_users(run, &iam),
            password_policy(run, &iam, account_id),
            account_public_access_block(run, base, account_id),
        );
        let (mut account, mut pages) = summary;
        account.regions = regions.to_vec();
        let (pab, pab_page, pab_error) = pab;
        pages.extend(pab_page);
        account.s3_public_access_block_read = pab_error.is_none();
        account.s3_public_access_block = pab;
        account.errors.extend(pab_error);
        let account_blocks_all = account.s3_public_access_block.is_some_and(|p| p.all_on());
        let buckets = buckets(run, base, account_blocks_all).await;
        (account, pages, users, policy, buckets)
    }

    /// Everything regional of one region.
    async fn region(
        &self,
        run: &Run<'_>,
        base: &aws_config::SdkConfig,
        region: &str,
        ctx: &CollectContext,
    ) -> Regional {
        let cfg = base
            .to_builder()
            .region(aws_config::Region::new(region.to_string()))
            .build();
        let (trails, dbs, keys, sgs, backup) = futures::join!(
            trails(run, &cfg, region),
            db_instances(run, &cfg, region),
            kms_keys(run, &cfg, region),
            security_groups(run, &cfg, region),
            async {
                if run.settings.aws_backup {
                    backup(run, &cfg, region, ctx).await
                } else {
                    Default::default()
                }
            },
        );
        let (jobs, restores, sources) = backup;
        Regional {
            trails,
            dbs,
            keys,
            sgs,
            jobs,
            restores,
            sources,
        }
    }
}

struct Regional {
    trails: Gathered<Trail>,
    dbs: Gathered<DbInstance>,
    keys: Gathered<KmsKey>,
    sgs: Gathered<SecurityGroup>,
    jobs: Gathered<BackupJob>,
    restores: Gathered<RestoreJob>,
    sources: Gathered<BackupSource>,
}

/// Opens one population, records its pages, emits its records sorted by subject, and
/// finishes it, incomplete for the scopes lost.
fn write<E: Evidence>(
    sink: &mut dyn EvidenceSink,
    population: &Population<E>,
    mut g: Gathered<E>,
) -> Result<(), CollectError> {
    let mut w = sink.open(population)?;
    for p in &g.pages {
        p.record_into(w.provenance());
    }
    for n in g.notes.drain(..) {
        w.provenance().note(n);
    }
    g.records.sort_by_cached_key(Evidence::subject_id);
    for r in &g.records {
        w.emit(r)?;
    }
    if g.lost.is_empty() {
        w.finish()?;
    } else {
        g.lost.sort();
        g.lost.dedup();
        let why = format!("not read for {} (see read_errors)", g.lost.join(", "));
        w.finish_incomplete_for(&g.lost, &why)?;
    }
    Ok(())
}

fn ec2_client(cfg: &aws_config::SdkConfig, calls: &CallCounter) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(cfg)
            .interceptor(calls.clone())
            .build(),
    )
}

/// Records a failed service-wide call: an error for `region`, and the population lost there.
fn lose<E>(
    run: &Run<'_>,
    g: &mut Gathered<E>,
    err: &CallError,
    region: &str,
    service: &str,
    operation: &str,
    populations: &[&str],
) {
    let permission = format!("{service}:{operation}");
    run.error(err.read_error(region, service, operation, &permission, populations));
    g.lost.push(region.to_string());
}

/// A listing call's answer; `None` when it failed, which is recorded as lost scope for
/// `populations` in `region` (the caller then returns what it has read).
#[allow(clippy::too_many_arguments)]
fn answer<T, E, R>(
    run: &Run<'_>,
    g: &mut Gathered<R>,
    res: Result<T, aws_sdk_sts::error::SdkError<E>>,
    region: &str,
    service: &str,
    operation: &str,
    populations: &[&str],
) -> Option<T>
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match res {
        Ok(o) => Some(o),
        Err(e) => {
            lose(
                run,
                g,
                &run.call_error(&e),
                region,
                service,
                operation,
                populations,
            );
            None
        }
    }
}

async fn account_summary(run: &Run<'_>, iam: &aws_sdk_iam::Client) -> (AwsAccount, Vec<Page>) {
    let mut account = AwsAccount {
        account_id: String::new(),
        principal_arn: String::new(),
        regions: Vec::new(),
        root_mfa_enabled: None,
        root_access_keys_present: None,
        users: None,
        s3_public_access_block: None,
        s3_public_access_block_read: false,
        errors: Vec::new(),
    };
    let tap = Tap::default();
    let mut pages = Vec::new();
    match iam
        .get_account_summary()
        .customize()
        .interceptor(tap.clone())
        .send()
        .await
    {
        Ok(out) => {
            pages.push(Page::new("POST", "iam", "GetAccountSummary", None, &tap).records(1));
            use aws_sdk_iam::types::SummaryKeyType as K;
            let map = out.summary_map();
            let get = |k: K| map.and_then(|m| m.get(&k).copied());
            account.root_mfa_enabled = get(K::AccountMfaEnabled).map(|v| v > 0);
            account.root_access_keys_present = num(get(K::AccountAccessKeysPresent));
            account.users = num(get(K::Users));
        }
        Err(e) => {
            let err = run.call_error(&e);
            account.errors.push(err.describe("iam:GetAccountSummary"));
            run.error(err.read_error(
                GLOBAL,
                "iam",
                "GetAccountSummary",
                "iam:GetAccountSummary",
                &["account"],
            ));
        }
    }
    (account, pages)
}

async fn account_public_access_block(
    run: &Run<'_>,
    base: &aws_config::SdkConfig,
    account_id: &str,
) -> (Option<PublicAccessBlock>, Option<Page>, Option<String>) {
    let mut b = aws_sdk_s3control::config::Builder::from(base).interceptor(run.calls.clone());
    if let Some(url) = &run.settings.endpoint_url {
        // The endpoint rules prefix the host with the account id, which an emulator on
        // 127.0.0.1 cannot answer: send S3 Control calls to the endpoint as given.
        b = b.endpoint_resolver(FixedEndpoint(url.clone()));
    }
    let client = aws_sdk_s3control::Client::from_conf(b.build());
    let tap = Tap::default();
    match client
        .get_public_access_block()
        .account_id(account_id)
        .customize()
        .interceptor(tap.clone())
        .send()
        .await
    {
        Ok(out) => {
            let page = Page::new("GET", "s3control", "GetPublicAccessBlock", None, &tap).records(1);
            let pab = out
                .public_access_block_configuration()
                .map(|c| PublicAccessBlock {
                    block_public_acls: c.block_public_acls().unwrap_or(false),
                    ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
                    block_public_policy: c.block_public_policy().unwrap_or(false),
                    restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
                });
            (pab, Some(page), None)
        }
        Err(e) => {
            let err = run.call_error(&e);
            if err.is_absent(&["NoSuchPublicAccessBlockConfiguration"]) {
                let page = Page::new("GET", "s3control", "GetPublicAccessBlock", None, &tap);
                return (None, Some(page), None);
            }
            let permission = "s3:GetAccountPublicAccessBlock";
            run.error(err.read_error(
                GLOBAL,
                "s3control",
                "GetPublicAccessBlock",
                permission,
                &["account"],
            ));
            (None, None, Some(err.describe(permission)))
        }
    }
}

/// An S3 Control endpoint resolver that always answers `url` (emulators).
#[derive(Debug, Clone)]
struct FixedEndpoint(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(
            aws_sdk_s3control::config::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}

async fn iam_users(run: &Run<'_>, iam: &aws_sdk_iam::Client) -> Gathered<IamUser> {
    let mut g = Gathered::default();
    let mut listed = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let tap = Tap::default();
        let res = iam
            .list_users()
            .set_marker(marker.clone())
            .customize()
            .interceptor(tap.clone())
            .send()
            .await;
        let Some(out) = answer(run, &mut g, res, GLOBAL, "iam", "ListUsers", &["iam_users"]) else {
            return g;
        };
        let mut page = Page::new("POST", "iam", "ListUsers", None, &tap).records(out.users().len());
        if let Some(m) = &marker {
            page = page.param("Marker", m.clone());
        }
        g.pages.push(page);
        listed.extend(out.users().iter().map(|u| IamUser {
            user_name: u.user_name().to_string(),
            user_id: u.user_id().to_string(),
            arn: u.arn().to_string(),
            created: chrono_time(u.create_date()),
            password_last_used: u.password_last_used().and_then(chrono_time),
            console_access: None,
            login_profile_created: None,
            mfa_devices: None,
            mfa_active: None,
            access_keys: None,
            details_from: UserDetailsSource::Api,
            credential_report_generated: None,
            errors: Vec::new(),
        }));
        match (out.is_truncated(), out.marker()) {
            (true, Some(m)) => marker = Some(m.to_string()),
            _ => break,
        }
    }
    let listed = if run.settings.iam_credential_report && !listed.is_empty() {
        from_credential_report(iam, listed, &mut g).await
    } else {
        listed
    };
    let details: Vec<(IamUser, Vec<Page>)> = stream::iter(listed)
        .map(|u| user_details(run, iam, u))
        .buffer_unordered(run.conc())
        .collect()
        .await;
    for (u, pages) in details {
        g.pages.extend(pages);
        g.records.push(u);
    }
    g
}

/// Fills in the users the credential report holds (into `g.records`) and returns the rest,
/// which are read per user; the notes say how many and why.
async fn from_credential_report(
    iam: &aws_sdk_iam::Client,
    listed: Vec<IamUser>,
    g: &mut Gathered<IamUser>,
) -> Vec<IamUser> {
    let report = match credential_report::fetch(iam, &mut g.pages).await {
        Ok(r) => r,
        Err(why) => {
            g.notes.push(format!(
                "credential report not used ({why}); every user read per user"
            ));
            return listed;
        }
    };
    let generated = report
        .generated
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "at an unknown time".into());
    let mut rest = Vec::new();
    for mut u in listed {
        match report.rows.get(&u.user_name) {
            Some(row) if credential_report::matches(row, &u.arn, u.created) => {
                u.console_access = Some(row.password_enabled);
                u.mfa_active = Some(row.mfa_active);
                u.access_keys = Some(row.keys.clone());
                u.details_from = UserDetailsSource::CredentialReport;
                u.credential_report_generated = report.generated;
                g.records.push(u);
            }
            _ => rest.push(u),
        }
    }
    // Rows that could not be read are not in `rows`, so those users are in `rest` too.
    let unreadable = report.unreadable.len().min(rest.len());
    g.notes.push(format!(
        "{} user(s) read from the credential report generated {generated}; {} not in it \
         (created or re-created since) read per user",
        g.records.len(),
        rest.len() - unreadable,
    ));
    if !report.unreadable.is_empty() {
        g.notes.push(format!(
            "credential report rows unreadable, read per user instead: {}",
            report.unreadable.join("; ")
        ));
    }
    rest
}

async fn user_details(
    run: &Run<'_>,
    iam: &aws_sdk_iam::Client,
    mut u: IamUser,
) -> (IamUser, Vec<Page>) {
    let mut pages = Vec::new();
    let name = u.user_name.clone();
    let (lp, mfa, keys) = {
        let (t1, t2, t3) = (Tap::default(), Tap::default(), Tap::default());
        let r = futures::join!(
            iam.get_login_profile()
                .user_name(&name)
                .customize()
                .interceptor(t1.clone())
                .send(),
            iam.list_mfa_devices()
                .user_name(&name)
                .customize()
                .interceptor(t2.clone())
                .send(),
            iam.list_access_keys()
                .user_name(&name)
                .customize()
                .interceptor(t3.clone())
                .send(),
        );
        pages.push(Page::new("POST", "iam", "GetLoginProfile", None, &t1));
        pages.push(Page::new("POST", "iam", "ListMFADevices", None, &t2));
        pages.push(Page::new("POST", "iam", "ListAccessKeys", None, &t3));
        r
    };
    match lp {
        Ok(out) => {
            u.console_access = Some(true);
            u.login_profile_created = out
                .login_profile()
                .and_then(|p| chrono_time(p.create_date()));
        }
        Err(e) => {
            let err = run.call_error(&e);
            if err.is_absent(&["NoSuchEntity"]) {
                u.console_access = Some(false);
            } else {
                u.errors.push(err.describe("iam:GetLoginProfile"));
            }
        }
    }
    match mfa {
        Ok(out) => {
            u.mfa_active = Some(!out.mfa_devices().is_empty());
            u.mfa_devices = Some(
                out.mfa_devices()
                    .iter()
                    .map(|d| MfaDevice {
                        serial_number: d.serial_number().to_string(),
                        enabled: chrono_time(d.enable_date()),
                    })
                    .collect(),
            );
        }
        Err(e) => u
            .errors
            .push(run.call_error(&e).describe("iam:ListMFADevices")),
    }
    match keys {
        Ok(out) => {
            let mut list = Vec::new();
            for k in out.access_key_metadata() {
                let Some(id) = k.access_key_id() else {
                    continue;
                };
                let mut key = AccessKey {
                    access_key_id: id.to_string(),
                    status: k
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    created: k.create_date().and_then(chrono_time),
                    last_used: None,
                    last_used_service: None,
                    last_used_region: None,
                };
                let tap = Tap::default();
                match iam
                    .get_access_key_last_used()
                    .access_key_id(id)
                    .customize()
                    .interceptor(tap.clone())
                    .send()
                    .await
                {
                    Ok(out) => {
                        pages.push(Page::new("POST", "iam", "GetAccessKeyLastUsed", None, &tap));
                        if let Some(l) = out.access_key_last_used() {
                            key.last_used = l.last_used_date().and_then(chrono_time);
                            key.last_used_service = Some(l.service_name().to_string())
                                .filter(|s| !s.is_empty() && s != "N/A");
                            key.last_used_region = Some(l.region().to_string())
                                .filter(|s| !s.is_empty() && s != "N/A");
                        }
                    }
                    Err(e) => u
                        .errors
                        .push(run.call_error(&e).describe("iam:GetAccessKeyLastUsed")),
                }
                list.push(key);
            }
            u.access_keys = Some(list);
        }
        Err(e) => u
            .errors
            .push(run.call_error(&e).describe("iam:ListAccessKeys")),
    }
    (u, pages)
}

async fn password_policy(
    run: &Run<'_>,
    iam: &aws_sdk_iam::Client,
    account_id: &str,
) -> Gathered<PasswordPolicy> {
    let mut g = Gathered::default();
    let tap = Tap::default();
    let mut rec = PasswordPolicy {
        account_id: account_id.to_string(),
        ..PasswordPolicy::default()
    };
    match iam
        .get_account_password_policy()
        .customize()
        .interceptor(tap.clone())
        .send()
        .await
    {
        Ok(out) => {
            g.pages
                .push(Page::new("POST", "iam", "GetAccountPasswordPolicy", None, &tap).records(1));
            rec.read = true;
            if let Some(p) = out.password_policy() {
                rec.present = true;
                rec.minimum_password_length = num(p.minimum_password_length());
                rec.require_symbols = p.require_symbols();
                rec.require_numbers = p.require_numbers();
                rec.require_uppercase = p.require_uppercase_characters();
                rec.require_lowercase = p.require_lowercase_characters();
                rec.allow_users_to_change = p.allow_users_to_change_password();
                rec.expire_passwords = p.expire_passwords();
                rec.max_password_age = num(p.max_password_age());
                rec.password_reuse_prevention = num(p.password_reuse_prevention());
                rec.hard_expiry = p.hard_expiry().unwrap_or(false);
            }
        }
        Err(e) => {
            let err = run.call_error(&e);
            if err.is_absent(&["NoSuchEntity"]) {
                g.pages.push(Page::new(
                    "POST",
                    "iam",
                    "GetAccountPasswordPolicy",
                    None,
                    &tap,
                ));
                rec.read = true;
            } else {
                rec.error = Some(err.describe("iam:GetAccountPasswordPolicy"));
                run.error(err.read_error(
                    GLOBAL,
                    "iam",
                    "GetAccountPasswordPolicy",
                    "iam:GetAccountPasswordPolicy",
                    &["password_policy"],
                ));
            }
        }
    }
    g.records.push(rec);
    g
}

/// S3 clients by region, made on first use.
struct S3Clients<'a> {
    base: &'a aws_config::SdkConfig,
    run: &'a Run<'a>,
    clients: Mutex<HashMap<String, aws_sdk_s3::Client>>,
}

impl S3Clients<'_> {
    fn get(&self, region: &str) -> aws_sdk_s3::Client {
        let mut map = match self.clients.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        map.entry(region.to_string())
            .or_insert_with(|| {
                let mut b = aws_sdk_s3::config::Builder::from(self.base)
                    .region(aws_config::Region::new(region.to_string()))
                    .interceptor(self.run.calls.clone());
                if self.run.settings.endpoint_url.is_some() {
                    b = b.force_path_style(true);
                }
                aws_sdk_s3::Client::from_conf(b.build())
            })
            .clone()
    }
}

async fn buckets(
    run: &Run<'_>,
    base: &aws_config::SdkConfig,
    account_blocks_all: bool,
) -> Gathered<Bucket> {
    let mut g = Gathered::default();
    let clients = S3Clients {
        base,
        run,
        clients: Mutex::new(HashMap::new()),
    };
    let home = base
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".into());
    let list = clients.get(&home);
    let mut listed = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let tap = Tap::default();
        let res = list
            .list_buckets()
            .max_buckets(1000)
            .set_continuation_token(token.clone())
            .customize()
            .interceptor(tap.clone())
            .send()
            .await;
        let Some(out) = answer(
            run,
            &mut g,
            res,
            GLOBAL,
            "s3",
            "ListAllMyBuckets",
            &["buckets"],
        ) else {
            return g;
        };
        g.pages
            .push(Page::new("GET", "s3", "ListBuckets", None, &tap).records(out.buckets().len()));
        for b in out.buckets() {
            let Some(name) = b.name() else { continue };
            listed.push(Bucket {
                name: name.to_string(),
                region: b.bucket_region().map(str::to_string),
                created: b.creation_date().and_then(chrono_time),
                encryption: None,
                public_access_block: None,
                public_access_block_read: false,
                versioning: None,
                object_lock: None,
                errors: Vec::new(),
            });
        }
        match out.continuation_token() {
            Some(t) if !t.is_empty() && token.as_deref() != Some(t) => token = Some(t.to_string()),
            _ => break,
        }
    }
    if account_blocks_all {
        g.notes.push(
            "bucket-level public access blocks not read: the account-level block has all four \
             settings on, which governs every bucket"
                .into(),
        );
    }
    g.notes.push(if run.settings.s3_object_lock {
        "object lock read only for buckets with versioning enabled (object lock requires it)".into()
    } else {
        "object lock not read (object_lock is null; set [aws] s3_object_lock = true to read \
         it, one more call per versioned bucket); false only where versioning is off, since \
         object lock requires it"
            .into()
    });
    let details: Vec<(Bucket, Vec<Page>)> = stream::iter(listed)
        .map(|b| bucket_details(&clients, b, &home, account_blocks_all))
        .buffer_unordered(run.conc() * 2)
        .collect()
        .await;
    for (b, pages) in details {
        g.pages.extend(pages);
        g.records.push(b);
    }
    g
}

async fn bucket_details(
    clients: &S3Clients<'_>,
    mut b: Bucket,
    home: &str,
    account_blocks_all: bool,
) -> (Bucket, Vec<Page>) {
    let mut pages = Vec::new();
    let mut region = b.region.clone();
    if region.is_none() {
        let tap = Tap::default();
        match clients
            .get(home)
            .get_bucket_location()
            .bucket(&b.name)
            .customize()
            .interceptor(tap.clone())
            .send()
            .await
        {
            Ok(out) => {
                pages.push(Page::new("GET", "s3", "GetBucketLocation", None, &tap));
                // An empty location constraint is us-east-1.
                let r = out
                    .location_constraint()
                    .map(|c| c.as_str().to_string())
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| "us-east-1".into());
                region = Some(r);
            }
            Err(e) => b
                .errors
                .push(clients.run.call_error(&e).describe("s3:GetBucketLocation")),
        }
    }
    let region = region.unwrap_or_else(|| home.to_string());
    b.region = Some(region.clone());
    let s3 = clients.get(&region);
    let (t1, t2, t3) = (Tap::default(), Tap::default(), Tap::default());
    let pab = async {
        if account_blocks_all {
            None
        } else {
            Some(
                s3.get_public_access_block()
                    .bucket(&b.name)
                    .customize()
                    .interceptor(t2.clone())
                    .send()
                    .await,
            )
        }
    };
    let (enc, pab, ver) = futures::join!(
        s3.get_bucket_encryption()
            .bucket(&b.name)
            .customize()
            .interceptor(t1.clone())
            .send(),
        pab,
        s3.get_bucket_versioning()
            .bucket(&b.name)
            .customize()
            .interceptor(t3.clone())
            .send(),
    );
    pages.push(Page::new(
        "GET",
        "s3",
        "GetBucketEncryption",
        Some(&region),
        &t1,
    ));
    match enc {
        Ok(out) => {
            let rules = out
                .server_side_encryption_configuration()
                .map(|c| c.rules())
                .unwrap_or_default();
            b.encryption = Some(
                rules
                    .iter()
                    .filter_map(|r| {
                        let d = r.apply_server_side_encryption_by_default()?;
                        Some(EncryptionRule {
                            algorithm: d.sse_algorithm().as_str().to_string(),
                            kms_key_id: d.kms_master_key_id().map(str::to_string),
                            bucket_key_enabled: r.bucket_key_enabled().unwrap_or(false),
                        })
                    })
                    .collect(),
            );
        }
        Err(e) => {
            let err = clients.run.call_error(&e);
            if err.is_absent(&["ServerSideEncryptionConfigurationNotFoundError"]) {
                b.encryption = Some(Vec::new());
            } else {
                b.errors.push(err.describe("s3:GetEncryptionConfiguration"));
            }
        }
    }
    if let Some(pab) = pab {
        pages.push(Page::new(
            "GET",
            "s3",
            "GetPublicAccessBlock",
            Some(&region),
            &t2,
        ));
        match pab {
            Ok(out) => {
                b.public_access_block_read = true;
                b.public_access_block =
                    out.public_access_block_configuration()
                        .map(|c| PublicAccessBlock {
                            block_public_acls: c.block_public_acls().unwrap_or(false),
                            ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
                            block_public_policy: c.block_public_policy().unwrap_or(false),
                            restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
                        });
            }
            Err(e) => {
                let err = clients.run.call_error(&e);
                if err.is_absent(&["NoSuchPublicAccessBlockConfiguration"]) {
                    b.public_access_block_read = true;
                } else {
                    b.errors.push(err.describe("s3:GetBucketPublicAccessBlock"));
                }
            }
        }
    }
    pages.push(Page::new(
        "GET",
        "s3",
        "GetBucketVersioning",
        Some(&region),
        &t3,
    ));
    match ver {
        Ok(out) => {
            b.versioning = out.status().map(|s| s.as_str().to_string());
        }
        Err(e) => {
            // moto answers a never-versioned bucket with a `GetBucketVersioningResponse`
            // root the SDK cannot read (AWS answers `VersioningConfiguration`): an HTTP 200
            // it could not parse is recorded on the bucket, not a failed collection.
            let direct = CallError::from_sdk(&e);
            let err = if direct.status == Some(200) && direct.code.is_none() {
                direct
            } else {
                clients.run.call_error(&e)
            };
            b.errors.push(err.describe("s3:GetBucketVersioning"));
        }
    }
    let versioned = b.versioning.as_deref() == Some("Enabled");
    if versioned && clients.run.settings.s3_object_lock {
        let tap = Tap::default();
        let res = s3
            .get_object_lock_configuration()
            .bucket(&b.name)
            .customize()
            .interceptor(tap.clone())
            .send()
            .await;
        pages.push(Page::new(
            "GET",
            "s3",
            "GetObjectLockConfiguration",
            Some(&region),
            &tap,
        ));
        match res {
            Ok(out) => {
                b.object_lock = Some(
                    out.object_lock_configuration()
                        .and_then(|c| c.object_lock_enabled())
                        .is_some_and(|e| e.as_str() == "Enabled"),
                );
            }
            Err(e) => {
                let err = clients.run.call_error(&e);
                if err.is_absent(&["ObjectLockConfigurationNotFoundError"]) {
                    b.object_lock = Some(false);
                } else {
                    b.errors
                        .push(err.describe("s3:GetBucketObjectLockConfiguration"));
                }
            }
        }
    } else if !versioned && (b.versioning.is_some() || b.errors.is_empty()) {
        b.object_lock = Some(false);
    }
    (b, pages)
}

async fn trails(run: &Run<'_>, cfg: &aws_config::SdkConfig, region: &str) -> Gathered<Trail> {
    let mut g = Gathered::default();
    let ct = aws_sdk_cloudtrail::Client::from_conf(
        aws_sdk_cloudtrail::config::Builder::from(cfg)
            .interceptor(run.calls.clone())
            .build(),
    );
    let tap = Tap::default();
    let res = ct
        .describe_trails()
        .include_shadow_trails(false)
        .customize()
        .interceptor(tap.clone())
        .send()
        .await;
    let Some(out) = answer(
        run,
        &mut g,
        res,
        region,
        "cloudtrail",
        "DescribeTrails",
        &["trails"],
    ) else {
        return g;
    };
    g.pages.push(
        Page::new("POST", "cloudtrail", "DescribeTrails", Some(region), &tap)
            .param("includeShadowTrails", "false")
            .records(out.trail_list().len()),
    );
    let mut seen = std::collections::BTreeSet::new();
    for t in out.trail_list() {
        // Only trails whose home is this region: a multi-region trail is recorded once.
        if t.home_region().is_some_and(|h| h != region) {
            continue;
        }
        let Some(arn) = t.trail_arn().or(t.name()) else {
            continue;
        };
        if !seen.insert(arn.to_string()) {
            continue;
        }
        let mut trail = Trail {
            region: region.to_string(),
            name: t.name().unwrap_or(arn).to_string(),
            arn: arn.to_string(),
            multi_region: t.is_multi_region_trail().unwrap_or(false),
            organization_trail: t.is_organization_trail().unwrap_or(false),
            log_file_validation: t.log_file_validation_enabled().unwrap_or(false),
            kms_key_id: t.kms_key_id().map(str::to_string),
            s3_bucket: t.s3_bucket_name().map(str::to_string),
            is_logging: None,
            latest_delivery_error: None,
            status_error: None,
        };
        let tap = Tap::default();
        match ct
            .get_trail_status()
            .name(arn)
            .customize()
            .interceptor(tap.clone())
            .send()
            .await
        {
            Ok(s) => {
                g.pages.push(Page::new(
                    "POST",
                    "cloudtrail",
                    "GetTrailStatus",
                    Some(region),
                    &tap,
                ));
                trail.is_logging = s.is_logging();
                trail.latest_delivery_error = s.latest_delivery_error().map(str::to_string);
            }
            Err(e) => {
                trail.status_error = Some(run.call_error(&e).describe("cloudtrail:GetTrailStatus"));
            }
        }
        g.records.push(trail);
    }
    g
}

async fn db_instances(
    run: &Run<'_>,
    cfg: &aws_config::SdkConfig,
    region: &str,
) -> Gathered<DbInstance> {
    let mut g = Gathered::default();
    let rds = aws_sdk_rds::Client::from_conf(
        aws_sdk_rds::config::Builder::from(cfg)
            .interceptor(run.calls.clone())
            .build(),
    );
    let mut marker: Option<String> = None;
    loop {
        let tap = Tap::default();
        let res = rds
            .describe_db_instances()
            .set_marker(marker.clone())
            .max_records(100)
            .customize()
            .interceptor(tap.clone())
            .send()
            .await;
        let Some(out) = answer(
            run,
            &mut g,
            res,
            region,
            "rds",
            "DescribeDBInstances",
            &["db_instances"],
        ) else {
            return g;
        };
        let mut page = Page::new("POST", "rds", "DescribeDBInstances", Some(region), &tap)
            .records(out.db_instances().len());
        if let Some(m) = &marker {
            page = page.param("Marker", m.clone());
        }
        g.pages.push(page);
        for d in out.db_instances() {
            let Some(id) = d.db_instance_identifier() else {
                continue;
            };
            g.records.push(DbInstance {
                region: region.to_string(),
                identifier: id.to_string(),
                arn: d.db_instance_arn().map(str::to_string),
                engine: d.engine().map(str::to_string),
                status: d.db_instance_status().map(str::to_string),
                storage_encrypted: d.storage_encrypted().unwrap_or(false),
                kms_key_id: d.kms_key_id().map(str::to_string),
                backup_retention_days: num(d.backup_retention_period()).unwrap_or(0),
                deletion_protection: d.deletion_protection().unwrap_or(false),
                publicly_accessible: d.publicly_accessible().unwrap_or(false),
                multi_az: d.multi_az().unwrap_or(false),
            });
        }
        match out.marker() {
            Some(m) if !m.is_empty() && marker.as_deref() != Some(m) => marker = Some(m.into()),
            _ => break,
        }
    }
    g
}

async fn kms_keys(run: &Run<'_>, cfg: &aws_config::SdkConfig, region: &str) -> Gathered<KmsKey> {
    let mut g = Gathered::default();
    let kms = aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::config::Builder::from(cfg)
            .interceptor(run.calls.clone())
            .build(),
    );
    let mut ids = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let tap = Tap::default();
        let res = kms
            .list_keys()
            .set_marker(marker.clone())
            .customize()
            .interceptor(tap.clone())
            .send()
            .await;
        let Some(out) = answer(run, &mut g, res, region, "kms", "ListKeys", &["kms_keys"]) else {
            return g;
        };
        g.pages.push(
            Page::new("POST", "kms", "ListKeys", Some(region), &tap).records(out.keys().len()),
        );
        ids.extend(
            out.keys()
                .iter()
                .filter_map(|k| k.key_id().map(str::to_string)),
        );
        match (out.truncated(), out.next_marker()) {
            (true, Some(m)) => marker = Some(m.to_string()),
            _ => break,
        }
    }
    let details: Vec<(Option<KmsKey>, Vec<Page>, Option<CallError>)> = stream::iter(ids)
        .map(|id| key_details(run, &kms, region, id))
        .buffer_unordered(run.conc())
        .collect()
        .await;
    let mut denied = None;
    for (k, pages, err) in details {
        g.pages.extend(pages);
        g.records.extend(k);
        if let Some(e) = err {
            denied.get_or_insert(e);
        }
    }
    // Keys that could not be described cannot be told customer-managed or not: the region's
    // key population is then incomplete.
    if let Some(e) = denied {
        lose(run, &mut g, &e, region, "kms", "DescribeKey", &["kms_keys"]);
    }
    g
}

async fn key_details(
    run: &Run<'_>,
    kms: &aws_sdk_kms::Client,
    region: &str,
    id: String,
) -> (Option<KmsKey>, Vec<Page>, Option<CallError>) {
    let mut pages = Vec::new();
    let tap = Tap::default();
    let meta = match kms
        .describe_key()
        .key_id(&id)
        .customize()
        .interceptor(tap.clone())
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => return (None, pages, Some(run.call_error(&e))),
    };
    pages.push(Page::new("POST", "kms", "DescribeKey", Some(region), &tap));
    let Some(m) = meta.key_metadata() else {
        return (None, pages, None);
    };
    if m.key_manager().map(|k| k.as_str()) != Some("CUSTOMER") {
        return (None, pages, None);
    }
    let mut key = KmsKey {
        region: region.to_string(),
        key_id: m.key_id().to_string(),
        arn: m.arn().map(str::to_string),
        state: m.key_state().map(|s| s.as_str().to_string()),
        key_spec: m.key_spec().map(|s| s.as_str().to_string()),
        origin: m.origin().map(|s| s.as_str().to_string()),
        rotation_enabled: None,
        rotation_period_days: None,
        errors: Vec::new(),
    };
    if key.rotatable() {
        let tap = Tap::default();
        match kms
            .get_key_rotation_status()
            .key_id(&id)
            .customize()
            .interceptor(tap.clone())
            .send()
            .await
        {
            Ok(r) => {
                pages.push(Page::new(
                    "POST",
                    "kms",
                    "GetKeyRotationStatus",
                    Some(region),
                    &tap,
                ));
                key.rotation_enabled = Some(r.key_rotation_enabled());
                key.rotation_period_days = num(r.rotation_period_in_days());
            }
            Err(e) => key
                .errors
                .push(run.call_error(&e).describe("kms:GetKeyRotationStatus")),
        }
    }
    (Some(key), pages, None)
}

async fn security_groups(
    run: &Run<'_>,
    cfg: &aws_config::SdkConfig,
    region: &str,
) -> Gathered<SecurityGroup> {
    let mut g = Gathered::default();
    let ec2 = ec2_client(cfg, run.calls);
    let mut token: Option<String> = None;
    loop {
        let tap = Tap::default();
        let res = ec2
            .describe_security_groups()
            .set_next_token(token.clone())
            .max_results(1000)
            .customize()
            .interceptor(tap.clone())
            .send()
            .await;
        let Some(out) = answer(
            run,
            &mut g,
            res,
            region,
            "ec2",
            "DescribeSecurityGroups",
            &["security_groups"],
        ) else {
            return g;
        };
        g.pages.push(
            Page::new("POST", "ec2", "DescribeSecurityGroups", Some(region), &tap)
                .records(out.security_groups().len()),
        );
        for sg in out.security_groups() {
            let Some(id) = sg.group_id() else { continue };
            g.records.push(SecurityGroup {
                region: region.to_string(),
                group_id: id.to_string(),
                name: sg.group_name().map(str::to_string),
                vpc_id: sg.vpc_id().map(str::to_string),
                inbound: sg
                    .ip_permissions()
                    .iter()
                    .map(|p| InboundRule {
                        protocol: p.ip_protocol().unwrap_or("-1").to_string(),
                        from_port: p.from_port(),
                        to_port: p.to_port(),
                        ipv4_ranges: p
                            .ip_ranges()
                            .iter()
                            .filter_map(|r| r.cidr_ip().map(str::to_string))
                            .collect(),
                        ipv6_ranges: p
                            .ipv6_ranges()
                            .iter()
                            .filter_map(|r| r.cidr_ipv6().map(str::to_string))
                            .collect(),
                        source_groups: p
                            .user_id_group_pairs()
                            .iter()
                            .filter_map(|r| r.group_id().map(str::to_string))
                            .collect(),
                        prefix_lists: p
                            .prefix_list_ids()
                            .iter()
                            .filter_map(|r| r.prefix_list_id().map(str::to_string))
                            .collect(),
                    })
                    .collect(),
            });
        }
        match out.next_token() {
            Some(t) if !t.is_empty() && token.as_deref() != Some(t) => token = Some(t.into()),
            _ => break,
        }
    }
    g
}

fn aws_time(t: Option<&aws_smithy_types_time::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(chrono_time)
}

/// The AWS Backup name of the region's source: `aws-backup/<region>`.
pub fn backup_source_name(region: &str) -> String {
    format!("{BACKUP_TOOL}/{region}")
}

async fn backup(
    run: &Run<'_>,
    cfg: &aws_config::SdkConfig,
    region: &str,
    ctx: &CollectContext,
) -> (
    Gathered<BackupJob>,
    Gathered<RestoreJob>,
    Gathered<BackupSource>,
) {
    let mut jobs = Gathered::default();
    let mut restores = Gathered::default();
    let mut sources = Gathered::default();
    let client = aws_sdk_backup::Client::from_conf(
        aws_sdk_backup::config::Builder::from(cfg)
            .interceptor(run.calls.clone())
            .build(),
    );
    let source = backup_source_name(region);
    let period = ctx.period();
    let from = aws_sdk_backup::primitives::DateTime::from_secs(period.start_utc().timestamp());
    let until =
        aws_sdk_backup::primitives::DateTime::from_secs(period.end_exclusive_utc().timestamp());
    let mut failure: Option<String> = None;

    let mut token: Option<String> = None;
    let mut n = 0;
    loop {
        n += 1;
        let tap = Tap::default();
        let out = match client
            .list_backup_jobs()
            .by_created_after(from)
            .by_created_before(until)
            .set_next_token(token.clone())
            .customize()
            .interceptor(tap.clone())
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => {
                let err = run.call_error(&e);
                failure = Some(err.describe("backup:ListBackupJobs"));
                lose(
                    run,
                    &mut jobs,
                    &err,
                    region,
                    "backup",
                    "ListBackupJobs",
                    &["backup_jobs"],
                );
                jobs.records.clear();
                break;
            }
        };
        let endpoint = format!("backup:ListBackupJobs@{region}");
        jobs.pages.push(
            Page::new("GET", "backup", "ListBackupJobs", Some(region), &tap)
                .param("ByCreatedAfter", period.start_utc().to_rfc3339())
                .param("ByCreatedBefore", period.end_exclusive_utc().to_rfc3339())
                .records(out.backup_jobs().len()),
        );
        for j in out.backup_jobs() {
            let Some(started) = aws_time(j.creation_date()) else {
                continue;
            };
            let state = j.state().map(|s| s.as_str()).unwrap_or("UNKNOWN");
            let started = started.fixed_offset();
            jobs.records.push(BackupJob {
                source: source.clone(),
                tool: BACKUP_TOOL.into(),
                id: j.backup_job_id().unwrap_or_default().to_string(),
                local_date: started.date_naive(),
                started,
                finished: aws_time(j.completion_date()).map(|t| t.fixed_offset()),
                status: crate::backups::formats::aws::status(state),
                tool_status: state.to_string(),
                size: j.backup_size_in_bytes().and_then(|s| u64::try_from(s).ok()),
                target: j.resource_name().or(j.resource_arn()).map(str::to_string),
                message: j.status_message().map(crate::backups::shorten),
                origins: vec![format!("{endpoint}#page{n}")],
                estimated_time: false,
                resource: Some(
                    j.resource_arn()
                        .or(j.resource_name())
                        .unwrap_or("unknown-resource")
                        .to_string(),
                ),
                conflicts: Vec::new(),
            });
        }
        match out.next_token() {
            Some(t) if !t.is_empty() && token.as_deref() != Some(t) => token = Some(t.into()),
            _ => break,
        }
    }

    let mut token: Option<String> = None;
    let mut n = 0;
    loop {
        n += 1;
        let tap = Tap::default();
        let out = match client
            .list_restore_jobs()
            .by_created_after(from)
            .by_created_before(until)
            .set_next_token(token.clone())
            .customize()
            .interceptor(tap.clone())
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => {
                let err = run.call_error(&e);
                failure.get_or_insert(err.describe("backup:ListRestoreJobs"));
                lose(
                    run,
                    &mut restores,
                    &err,
                    region,
                    "backup",
                    "ListRestoreJobs",
                    &["restore_jobs"],
                );
                restores.records.clear();
                break;
            }
        };
        let endpoint = format!("backup:ListRestoreJobs@{region}");
        restores.pages.push(
            Page::new("GET", "backup", "ListRestoreJobs", Some(region), &tap)
                .param("ByCreatedAfter", period.start_utc().to_rfc3339())
                .param("ByCreatedBefore", period.end_exclusive_utc().to_rfc3339())
                .records(out.restore_jobs().len()),
        );
        for j in out.restore_jobs() {
            let Some(started) = aws_time(j.creation_date()) else {
                continue;
            };
            let state = j.status().map(|s| s.as_str()).unwrap_or("UNKNOWN");
            let validation = j.validation_status().map(|v| v.as_str().to_string());
            let mut message = j.status_message().map(str::to_string);
            if let Some(m) = j.validation_status_message() {
                message = Some(match message {
                    Some(s) => format!("{s}; validation: {m}"),
                    None => format!("validation: {m}"),
                });
            }
            let started = started.fixed_offset();
            restores.records.push(RestoreJob {
                source: Some(source.clone()),
                tool: BACKUP_TOOL.into(),
                id: j.restore_job_id().unwrap_or_default().to_string(),
                local_date: started.date_naive(),
                started,
                finished: aws_time(j.completion_date()).map(|t| t.fixed_offset()),
                status: crate::backups::formats::aws::status(state),
                tool_status: state.to_string(),
                validated: validation.as_deref().map(|v| v == "SUCCESSFUL"),
                validation,
                target: j
                    .recovery_point_arn()
                    .or(j.created_resource_arn())
                    .map(str::to_string),
                message: message.map(|m| crate::backups::shorten(&m)),
                origins: vec![format!("{endpoint}#page{n}")],
            });
        }
        match out.next_token() {
            Some(t) if !t.is_empty() && token.as_deref() != Some(t) => token = Some(t.into()),
            _ => break,
        }
    }

    // A region where AWS Backup has nothing in the period is not a backup source: it is
    // left out (the backups checks judge the sources that exist). A region that could not
    // be read is a failed source, so every backups check reports an error for it.
    if failure.is_some() || !jobs.records.is_empty() || !restores.records.is_empty() {
        let mut resources: BTreeMap<String, Resource> = BTreeMap::new();
        for j in &jobs.records {
            let id = j.resource.clone().unwrap_or_default();
            let r = resources.entry(id.clone()).or_insert_with(|| Resource {
                id,
                name: j.target.clone(),
                seen: true,
                jobs: 0,
                status: None,
                unreadable: false,
            });
            r.jobs += 1;
        }
        sources.records.push(BackupSource {
            name: source.clone(),
            format: BACKUP_TOOL.into(),
            schedule: "daily".into(),
            timezone: "UTC".into(),
            path: format!("backup:ListBackupJobs@{region}, backup:ListRestoreJobs@{region}"),
            require_restore_tests: false,
            files: Vec::new(),
            jobs: jobs.records.len() as u64,
            restores: restores.records.len() as u64,
            status: if failure.is_some() { "failed" } else { "ok" }.into(),
            error: failure,
            resources: resources.into_values().collect(),
            resources_filter: Vec::new(),
        });
    }
    (jobs, restores, sources)
}

#[async_trait]
impl Collector for AwsCollector {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn collector_type(&self) -> &str {
        super::module::TYPE
    }

    async fn collect(
        &self,
        ctx: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        use tracing::instrument::WithSubscriber;
        // The SDK traces requests with their Authorization header and resolved
        // credentials: collect under a subscriber that drops those events.
        self.collect_all(ctx, sink)
            .with_subscriber(super::api::Redacting::current())
            .await
    }
}
