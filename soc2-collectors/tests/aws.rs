//! The AWS collector against moto's server mode (the AWS emulator, `pip install
//! "moto[server]"`), started on 127.0.0.1 per test and seeded with boto3: one compliant
//! account and one non-compliant account, collected through the registry and the runner as
//! `soc2-evidence collect` does, then every check shown passing and failing on purpose, and
//! the conformance suite run through its fault-injecting proxy in front of moto.
//!
//! Without moto these print "skipped: moto not installed" and pass, unless
//! `SOC2_REQUIRE_STOCK_TOOLS=1`.
//!
//! What moto cannot show is covered by `aws_wiremock.rs`: root MFA on and root access keys
//! present (moto fixes both in `GetAccountSummary`), AccessDenied, throttling, pagination
//! markers and AWS Backup (moto does not serve it; these configs set `aws_backup = false`).
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use chrono::{Duration, Utc};
use serde_json::Value;
use soc2_evidence_core::testing::Conformance;
use soc2_evidence_core::{MapSecrets, RunConfig, RunManifest, Runner};
use soc2_sample::moto::{Moto, ACCESS_KEY_ID, SECRET_ACCESS_KEY};

/// moto stamps what it creates with the real time. The clock is pinned 120 days ahead and
/// the period runs from today for 110 days, so access keys created now are about 110 days old
/// at the period's end: older than the default `max_key_age_days` (90).
fn pin_clock() {
    let pinned = today_midnight() + Duration::days(120);
    soc2_evidence_core::clock::set_override(pinned).expect("every test pins the same instant");
}

fn today_midnight() -> chrono::DateTime<Utc> {
    Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
}

fn period() -> String {
    let start = Utc::now().date_naive();
    format!("{start}..{}", start + Duration::days(110))
}

fn secrets() -> MapSecrets {
    MapSecrets::default()
        .with("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .with("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
}

/// An `[aws]` section for moto at `endpoint`; `extra` adds keys.
fn section(endpoint: &str, extra: &str) -> String {
    format!(
        "[aws]\nregions = [\"us-east-1\", \"eu-west-1\"]\nendpoint_url = {endpoint:?}\n\
         aws_backup = false\n{extra}\n"
    )
}

fn parse(toml: &str) -> RunConfig {
    soc2_collectors::registry()
        .parse_config(toml, "soc2.toml", Path::new("."))
        .unwrap()
}

async fn run(toml: &str, out: &Path) -> RunManifest {
    Runner::from_config(&parse(toml), &secrets())
        .unwrap()
        .run(period().parse().unwrap(), out)
        .await
        .unwrap()
}

fn lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The records of a population: each line's `data`.
fn population(out: &Path, name: &str) -> Vec<Value> {
    lines(&out.join(format!("aws/{name}.jsonl")))
        .into_iter()
        .map(|l| l["data"].clone())
        .collect()
}

/// `check id -> subject -> status` over findings.jsonl.
fn verdicts(out: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut map: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for f in lines(&out.join("findings.jsonl")) {
        let previous = map
            .entry(f["check_id"].as_str().unwrap().to_string())
            .or_default()
            .insert(
                f["subject_id"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            );
        assert!(previous.is_none(), "two findings for one subject: {f}");
    }
    map
}

/// The statuses `check` gave, whatever the subjects.
fn statuses(v: &BTreeMap<String, BTreeMap<String, String>>, check: &str) -> BTreeSet<String> {
    v.get(check)
        .unwrap_or_else(|| panic!("no finding of {check}: {v:#?}"))
        .values()
        .cloned()
        .collect()
}

/// The status `check` gave the one subject that contains `needle`.
fn status_of(v: &BTreeMap<String, BTreeMap<String, String>>, check: &str, needle: &str) -> String {
    let hits: Vec<(&String, &String)> = v
        .get(check)
        .unwrap_or_else(|| panic!("no finding of {check}: {v:#?}"))
        .iter()
        .filter(|(s, _)| s.contains(needle))
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "{check}: subjects matching {needle:?}: {v:#?}"
    );
    hits[0].1.clone()
}

/// Seeds what both accounts share: a trail bucket and the IAM users' shapes.
const COMPLIANT: &str = r#"
iam = client("iam")
iam.create_user(UserName="alice")
iam.create_login_profile(UserName="alice", Password="Correct-Horse-Battery-1")
mfa = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
iam.enable_mfa_device(UserName="alice", SerialNumber=mfa["SerialNumber"],
                      AuthenticationCode1="123456", AuthenticationCode2="654321")
iam.create_user(UserName="deploy-bot")
iam.create_access_key(UserName="deploy-bot")
iam.update_account_password_policy(
    MinimumPasswordLength=16, RequireSymbols=True, RequireNumbers=True,
    RequireUppercaseCharacters=True, RequireLowercaseCharacters=True,
    PasswordReusePrevention=24, MaxPasswordAge=90, AllowUsersToChangePassword=True)

s3 = client("s3")
block = {"BlockPublicAcls": True, "IgnorePublicAcls": True,
         "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
client("s3control").put_public_access_block(
    AccountId="123456789012", PublicAccessBlockConfiguration=block)
s3.create_bucket(Bucket="trail-logs")
s3.put_bucket_encryption(Bucket="trail-logs", ServerSideEncryptionConfiguration={"Rules": [
    {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
s3.create_bucket(Bucket="customer-data")
kms = client("kms")
key = kms.create_key(Description="customer data")["KeyMetadata"]["KeyId"]
kms.enable_key_rotation(KeyId=key)
s3.put_bucket_encryption(Bucket="customer-data", ServerSideEncryptionConfiguration={"Rules": [
    {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})
s3.put_bucket_versioning(Bucket="customer-data", VersioningConfiguration={"Status": "Enabled"})
# Only S3's default encryption (moto answers NotFound here; real AWS returns SSE-S3).
s3.create_bucket(Bucket="default-only")

ct = client("cloudtrail")
ct.create_trail(Name="org-trail", S3BucketName="trail-logs", IsMultiRegionTrail=True,
                EnableLogFileValidation=True, KmsKeyId=key)
ct.start_logging(Name="org-trail")

rds = client("rds", "eu-west-1")
rds.create_db_instance(DBInstanceIdentifier="orders", DBInstanceClass="db.t3.micro",
    Engine="postgres", MasterUsername="app", MasterUserPassword="not-a-real-pass",
    AllocatedStorage=20, StorageEncrypted=True, BackupRetentionPeriod=14,
    DeletionProtection=True)

ec2 = client("ec2", "eu-west-1")
web = ec2.create_security_group(GroupName="web", Description="https from anywhere")["GroupId"]
ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
"#;

const NON_COMPLIANT: &str = r#"
iam = client("iam")
iam.create_user(UserName="bob")
iam.create_login_profile(UserName="bob", Password="Correct-Horse-Battery-1")
iam.create_access_key(UserName="bob")
iam.update_account_password_policy(MinimumPasswordLength=8, RequireSymbols=False,
    RequireNumbers=True, PasswordReusePrevention=1)

s3 = client("s3")
client("s3control").put_public_access_block(AccountId="123456789012",
    PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                    "BlockPublicPolicy": True, "RestrictPublicBuckets": False})
s3.create_bucket(Bucket="trail-logs")
s3.put_public_access_block(Bucket="trail-logs", PublicAccessBlockConfiguration={
    "BlockPublicAcls": True, "IgnorePublicAcls": True,
    "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
s3.create_bucket(Bucket="marketing-site")
s3.put_bucket_encryption(Bucket="marketing-site", ServerSideEncryptionConfiguration={"Rules": [
    {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})

# Default encryption with a KMS key that is disabled: nothing can be written with it.
kms_us = client("kms")
dead = kms_us.create_key(Description="disabled")["KeyMetadata"]["KeyId"]
kms_us.disable_key(KeyId=dead)
s3.create_bucket(Bucket="archive")
s3.put_bucket_encryption(Bucket="archive", ServerSideEncryptionConfiguration={"Rules": [
    {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": dead}}]})

ct = client("cloudtrail")
ct.create_trail(Name="local-only", S3BucketName="trail-logs", IsMultiRegionTrail=False,
                EnableLogFileValidation=False)

kms = client("kms", "eu-west-1")
kms.create_key(Description="never rotated")

rds = client("rds", "eu-west-1")
rds.create_db_instance(DBInstanceIdentifier="legacy", DBInstanceClass="db.t3.micro",
    Engine="mysql", MasterUsername="app", MasterUserPassword="not-a-real-pass",
    AllocatedStorage=20, StorageEncrypted=False, BackupRetentionPeriod=1,
    PubliclyAccessible=True)

ec2 = client("ec2", "us-east-1")
ssh = ec2.create_security_group(GroupName="ssh-anywhere", Description="ssh")["GroupId"]
ec2.authorize_security_group_ingress(GroupId=ssh, IpPermissions=[
    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
rdp = ec2.create_security_group(GroupName="rdp-v6", Description="rdp")["GroupId"]
ec2.authorize_security_group_ingress(GroupId=rdp, IpPermissions=[
    {"IpProtocol": "tcp", "FromPort": 3000, "ToPort": 4000,
     "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compliant_account_passes_what_moto_can_show() {
    pin_clock();
    let Some(moto) = Moto::start() else { return };
    moto.boto3(COMPLIANT).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    // The keys moto made now are ~110 days old at the period's end: allow a year here.
    let manifest = run(&section(&moto.endpoint(), "max_key_age_days = 365"), &out).await;
    let aws = manifest.collector("aws").unwrap();
    assert!(aws.error.is_none(), "{:?}", aws.error);

    // Populations, each with what was seeded.
    let account = population(&out, "account");
    assert_eq!(account.len(), 1);
    assert!(
        account[0].to_string().contains("123456789012"),
        "{account:?}"
    );
    let users: BTreeSet<String> = population(&out, "iam_users")
        .iter()
        .map(|u| u["user_name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(users, BTreeSet::from(["alice".into(), "deploy-bot".into()]));
    // moto serves the IAM credential report, so the users' details come from it.
    assert!(
        population(&out, "iam_users")
            .iter()
            .all(|u| u["details_from"] == "credential_report"),
        "{:?}",
        population(&out, "iam_users")
    );
    assert_eq!(population(&out, "password_policy").len(), 1);
    let buckets: BTreeSet<String> = population(&out, "buckets")
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        buckets,
        BTreeSet::from([
            "customer-data".into(),
            "default-only".into(),
            "trail-logs".into()
        ])
    );
    let trails = population(&out, "trails");
    assert!(trails.iter().any(|t| t.to_string().contains("org-trail")));
    let dbs = population(&out, "db_instances");
    assert_eq!(dbs.len(), 1, "{dbs:?}");
    assert!(dbs[0].to_string().contains("eu-west-1"), "{dbs:?}");
    assert!(population(&out, "kms_keys")
        .iter()
        .any(|k| k.to_string().contains("customer data") || k["rotation_enabled"] == true));
    assert!(population(&out, "security_groups")
        .iter()
        .any(|g| g.to_string().contains("\"web\"")));

    // Provenance names the calls, per region.
    let provenance: Value =
        serde_json::from_slice(&fs::read(out.join("aws/provenance.json")).unwrap()).unwrap();
    let text = provenance.to_string();
    for needle in [
        "eu-west-1",
        "us-east-1",
        "DescribeDBInstances",
        "ListBuckets",
    ] {
        assert!(
            text.contains(needle),
            "provenance lacks {needle}: {provenance:#}"
        );
    }

    let v = verdicts(&out);
    for check in [
        "aws.root_access_keys",
        "aws.iam_console_mfa",
        "aws.access_key_rotation",
        "aws.password_policy",
        "aws.cloudtrail_enabled",
        "aws.s3_encryption",
        "aws.s3_public_access_blocked",
        "aws.rds_encrypted",
        "aws.rds_backup_retention",
        "aws.kms_rotation",
        "aws.open_admin_ports",
    ] {
        // A region with nothing in it may add a not_applicable; nothing fails or errs.
        let s = statuses(&v, check);
        assert!(
            s.contains("pass") && !s.contains("fail") && !s.contains("error"),
            "{check}: {:#?}",
            v.get(check)
        );
    }
    // moto reports root MFA off for every account.
    assert_eq!(
        statuses(&v, "aws.root_mfa"),
        BTreeSet::from(["fail".into()])
    );
    // A bucket with only S3's default encryption and one with explicit SSE-S3 get one verdict.
    assert_eq!(
        status_of(&v, "aws.s3_encryption", "default-only"),
        status_of(&v, "aws.s3_encryption", "trail-logs")
    );
    // Nothing is an error when every read is allowed.
    assert!(v.values().flat_map(|m| m.values()).all(|s| s != "error"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_compliant_account_fails_every_check_moto_can_show() {
    pin_clock();
    let Some(moto) = Moto::start() else { return };
    moto.boto3(NON_COMPLIANT).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let manifest = run(&section(&moto.endpoint(), ""), &out).await;
    let aws = manifest.collector("aws").unwrap();
    assert!(aws.error.is_none(), "{:?}", aws.error);

    let v = verdicts(&out);
    for check in [
        "aws.root_mfa",
        "aws.iam_console_mfa",
        "aws.access_key_rotation",
        "aws.password_policy",
        "aws.cloudtrail_enabled",
        "aws.s3_encryption",
        "aws.s3_public_access_blocked",
        "aws.rds_encrypted",
        "aws.rds_backup_retention",
        "aws.kms_rotation",
        "aws.open_admin_ports",
    ] {
        assert!(
            statuses(&v, check).contains("fail"),
            "{check}: {:#?}",
            v.get(check)
        );
    }
    assert_eq!(status_of(&v, "aws.iam_console_mfa", "bob"), "fail");
    assert_eq!(status_of(&v, "aws.access_key_rotation", "bob"), "fail");
    assert_eq!(status_of(&v, "aws.rds_encrypted", "legacy"), "fail");
    // SSE-S3 passes; a default key that is disabled fails.
    assert_eq!(status_of(&v, "aws.s3_encryption", "marketing-site"), "pass");
    assert_eq!(status_of(&v, "aws.s3_encryption", "archive"), "fail");
    assert_eq!(status_of(&v, "aws.rds_backup_retention", "legacy"), "fail");
    // The bucket with its own four blocks passes; the one relying on the partial account
    // block fails.
    assert_eq!(
        status_of(&v, "aws.s3_public_access_blocked", "trail-logs"),
        "pass"
    );
    assert_eq!(
        status_of(&v, "aws.s3_public_access_blocked", "marketing-site"),
        "fail"
    );
    // Both world-open admin ports are found: SSH over IPv4 and RDP inside a range over IPv6.
    let open = &v["aws.open_admin_ports"];
    let failed: Vec<&String> = open
        .iter()
        .filter(|(_, s)| *s == "fail")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(failed.len(), 2, "{open:#?}");
    // The unrotated key is in eu-west-1: regions are all read.
    assert_eq!(status_of(&v, "aws.kms_rotation", "eu-west-1"), "fail");
    // Raising the limits makes the same evidence pass: the verdicts follow the config.
    let out2 = dir.path().join("lenient");
    run(
        &section(
            &moto.endpoint(),
            "max_key_age_days = 365\nmin_password_length = 8\nmin_backup_retention_days = 1",
        ),
        &out2,
    )
    .await;
    let lenient = verdicts(&out2);
    assert_eq!(
        status_of(&lenient, "aws.access_key_rotation", "bob"),
        "pass"
    );
    assert_eq!(
        status_of(&lenient, "aws.rds_backup_retention", "legacy"),
        "pass"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_module_passes_the_conformance_suite() {
    pin_clock();
    let Some(moto) = Moto::start() else { return };
    moto.boto3(NON_COMPLIANT).unwrap();
    // The access key id is not a secret (it is in every request's Authorization header,
    // which the SDK logs at TRACE), so only the secret key is the suite's canary. The
    // credentials reach the collector the way the CLI gives them: through the SDK's chain
    // from the environment. Every test of this binary uses these same values.
    std::env::set_var("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID);
    std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY);
    Conformance::new(soc2_collectors::registry(), "aws", &period())
        .http_upstream(&moto.endpoint())
        .secret("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .config(|env| {
            format!(
                "[aws]\nregions = [\"us-east-1\", \"eu-west-1\"]\nendpoint_url = {:?}\n\
                 aws_backup = false\ntimeout_secs = {}\nmax_attempts = 2\n",
                env.base_url, env.timeout_secs
            )
        })
        .run()
        .await
        .assert_ok();
}
