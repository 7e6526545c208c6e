//! The AWS collector against a fake AWS on wiremock (`aws_fake`), for what moto cannot do:
//! AccessDenied per service and region, throttling that the SDK retries, pagination markers,
//! root MFA and root keys both ways, and AWS Backup's ListBackupJobs / ListRestoreJobs
//! judged by the `backups.*` checks. The bodies follow the AWS API reference's shapes.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod aws_fake;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_fake::{FakeAws, ACCOUNT};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};
use soc2_evidence_core::{MapSecrets, RunManifest, Runner};

const PERIOD: &str = "2026-06-01..2026-06-07";
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// Every test binary pins the same instant: the day after a June period.
fn pin_clock() {
    soc2_evidence_core::clock::set_override("2026-07-01T00:00:00Z".parse().unwrap())
        .expect("every test pins the same instant");
}

fn secrets() -> MapSecrets {
    MapSecrets::default()
        .with("AWS_ACCESS_KEY_ID", "AKIAFAKEWIREMOCK0001")
        .with("AWS_SECRET_ACCESS_KEY", "wiremock-secret-canary-0123456789")
}

async fn run(endpoint: &str, extra: &str, out: &Path) -> RunManifest {
    let toml = format!(
        "[aws]\nregions = [\"us-east-1\", \"eu-west-1\"]\nendpoint_url = {endpoint:?}\n{extra}\n"
    );
    let config = soc2_collectors::registry()
        .parse_config(&toml, "soc2.toml", Path::new("."))
        .unwrap();
    Runner::from_config(&config, &secrets())
        .unwrap()
        .run(PERIOD.parse().unwrap(), out)
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

fn findings(out: &Path) -> Vec<Value> {
    lines(&out.join("findings.jsonl"))
}

fn of<'a>(findings: &'a [Value], check: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["check_id"] == check).collect()
}

fn statuses(findings: &[Value], check: &str) -> BTreeSet<String> {
    of(findings, check)
        .iter()
        .map(|f| f["status"].as_str().unwrap().to_string())
        .collect()
}

fn status_of(findings: &[Value], check: &str, needle: &str) -> String {
    let hits: Vec<&Value> = of(findings, check)
        .into_iter()
        .filter(|f| f["subject_id"].as_str().unwrap().contains(needle))
        .collect::<Vec<_>>();
    assert_eq!(hits.len(), 1, "{check} {needle}: {findings:#?}");
    hits[0]["status"].as_str().unwrap().to_string()
}

fn no_secret_in(out: &Path) {
    for entry in walk(out) {
        let text = fs::read_to_string(&entry).unwrap_or_default();
        assert!(
            !text.contains("wiremock-secret-canary"),
            "secret in {}",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A compliant baseline: STS, the account summary (root MFA on, no root keys), the account
/// public access block all on, a strong password policy, one logging multi-region trail
/// (seen as a shadow trail in the other region), and every list empty.
fn baseline(fake: &FakeAws) {
    fake.on("sts", "GetCallerIdentity", aws_fake::caller_identity);
    fake.on("iam", "GetAccountSummary", |c| {
        aws_fake::account_summary(c, true, false, 0)
    });
    fake.on("s3control", "GetPublicAccessBlock", |_| {
        aws_fake::public_access_block([true; 4])
    });
    fake.on("iam", "GetAccountPasswordPolicy", |c| {
        aws_fake::query_ok(
            c,
            "<PasswordPolicy><AllowUsersToChangePassword>true</AllowUsersToChangePassword>\
             <RequireLowercaseCharacters>true</RequireLowercaseCharacters>\
             <RequireUppercaseCharacters>true</RequireUppercaseCharacters>\
             <MinimumPasswordLength>16</MinimumPasswordLength>\
             <RequireNumbers>true</RequireNumbers>\
             <PasswordReusePrevention>24</PasswordReusePrevention>\
             <RequireSymbols>true</RequireSymbols><ExpirePasswords>true</ExpirePasswords>\
             <MaxPasswordAge>90</MaxPasswordAge><HardExpiry>false</HardExpiry></PasswordPolicy>",
        )
    });
    fake.on("cloudtrail", "DescribeTrails", |c| {
        aws_fake::json_ok(
            c,
            json!({ "trailList": [{
                "Name": "org-trail", "S3BucketName": "acme-trail-logs",
                "IncludeGlobalServiceEvents": true, "IsMultiRegionTrail": true,
                "HomeRegion": "us-east-1",
                "TrailARN": format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-trail"),
                "LogFileValidationEnabled": true, "HasCustomEventSelectors": false,
                "HasInsightSelectors": false, "IsOrganizationTrail": false
            }]}),
        )
    });
    fake.on("cloudtrail", "GetTrailStatus", |c| {
        aws_fake::json_ok(
            c,
            json!({ "IsLogging": true, "LatestDeliveryTime": 1782864000.0,
                    "StartLoggingTime": 1735689600.0, "TimeLoggingStarted": "2025-01-01T00:00:00Z",
                    "TimeLoggingStopped": "" }),
        )
    });
    for (service, op) in [
        ("iam", "ListUsers"),
        ("s3", "ListBuckets"),
        ("rds", "DescribeDBInstances"),
        ("kms", "ListKeys"),
        ("ec2", "DescribeSecurityGroups"),
        ("backup", "ListBackupJobs"),
        ("backup", "ListRestoreJobs"),
    ] {
        fake.on(service, op, aws_fake::empty);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_denied_everything_gets_errors_naming_permissions_never_a_pass() {
    pin_clock();
    let fake = FakeAws::default();
    // Only the caller's identity, which needs no permission, is answered.
    fake.on("sts", "GetCallerIdentity", aws_fake::caller_identity);
    let server = fake.start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let m = run(&server.uri(), "", &out).await;
    let aws = m.collector("aws").unwrap();
    assert!(
        aws.error.is_none(),
        "denied reads must not fail the collector: {:?}",
        aws.error
    );

    let all = findings(&out);
    let checks: BTreeSet<&str> = all
        .iter()
        .map(|f| f["check_id"].as_str().unwrap())
        .collect();
    for check in [
        "aws.root_mfa",
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
        "backups.daily_coverage",
        "backups.restore_tested",
    ] {
        assert!(checks.contains(check), "no finding of {check}");
        let s = statuses(&all, check);
        assert!(
            !s.contains("pass"),
            "{check} passed without evidence: {all:#?}"
        );
        assert!(s.contains("error"), "{check}: {s:?}");
    }
    let text = serde_json::to_string(&all).unwrap();
    for permission in [
        "iam:GetAccountSummary",
        "iam:ListUsers",
        "iam:GetAccountPasswordPolicy",
        "cloudtrail:DescribeTrails",
        "s3:ListAllMyBuckets",
        "rds:DescribeDBInstances",
        "kms:ListKeys",
        "ec2:DescribeSecurityGroups",
        "backup:ListBackupJobs",
    ] {
        assert!(text.contains(permission), "no finding names {permission}");
    }
    // Both regions were tried for every regional service.
    for op in [
        "rds:DescribeDBInstances",
        "ec2:DescribeSecurityGroups",
        "kms:ListKeys",
    ] {
        assert!(
            fake.calls(op) >= REGIONS.len() as u64,
            "{op}: {:?}",
            fake.all_calls()
        );
    }
    no_secret_in(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_mfa_and_root_keys_pass_and_fail() {
    pin_clock();
    for (mfa, keys, mfa_verdict, keys_verdict) in
        [(true, false, "pass", "pass"), (false, true, "fail", "fail")]
    {
        let fake = FakeAws::default();
        baseline(&fake);
        fake.on("iam", "GetAccountSummary", move |c| {
            aws_fake::account_summary(c, mfa, keys, 0)
        });
        let server = fake.start().await;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        run(&server.uri(), "", &out).await;
        let all = findings(&out);
        assert_eq!(status_of(&all, "aws.root_mfa", ACCOUNT), mfa_verdict);
        assert_eq!(
            status_of(&all, "aws.root_access_keys", ACCOUNT),
            keys_verdict
        );
        let account = population(&out, "account");
        assert_eq!(account[0]["root_mfa_enabled"], mfa);
        // The baseline's trail passes; nothing in it is an error.
        assert_eq!(
            statuses(&all, "aws.cloudtrail_enabled"),
            BTreeSet::from(["pass".into()])
        );
        assert_eq!(
            statuses(&all, "aws.password_policy"),
            BTreeSet::from(["pass".into()])
        );
        // The shadow copy of the trail in eu-west-1 is one trail, not two.
        assert_eq!(population(&out, "trails").len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_region_denied_keeps_the_other_regions_evidence() {
    pin_clock();
    let fake = FakeAws::default();
    baseline(&fake);
    fake.on("rds", "DescribeDBInstances", |c| {
        if c.region == "eu-west-1" {
            return aws_fake::denied(c);
        }
        let dbs = vec![
            aws_fake::db_instance(&c.region, "orders", true, 14),
            aws_fake::db_instance(&c.region, "analytics", false, 3),
        ];
        aws_fake::describe_db_instances(c, &dbs, 100)
    });
    fake.on("ec2", "DescribeSecurityGroups", |c| {
        if c.region == "us-east-1" {
            return aws_fake::denied(c);
        }
        aws_fake::query_ok(
            c,
            "<securityGroupInfo><item><ownerId>123456789012</ownerId><groupId>sg-0a1b2c3d</groupId>\
             <groupName>bastion</groupName><groupDescription>ssh</groupDescription>\
             <vpcId>vpc-1</vpcId><ipPermissions><item><ipProtocol>tcp</ipProtocol>\
             <fromPort>22</fromPort><toPort>22</toPort><groups/><ipRanges><item>\
             <cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item>\
             </ipPermissions><ipPermissionsEgress/></item></securityGroupInfo>",
        )
    });
    let server = fake.start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let m = run(&server.uri(), "", &out).await;
    assert!(m.collector("aws").unwrap().error.is_none());

    let dbs = population(&out, "db_instances");
    let ids: BTreeSet<&str> = dbs
        .iter()
        .map(|d| d["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(ids, BTreeSet::from(["analytics", "orders"]));
    assert!(dbs.iter().all(|d| d["region"] == "us-east-1"));

    let all = findings(&out);
    assert_eq!(
        status_of(&all, "aws.rds_encrypted", "us-east-1/orders"),
        "pass"
    );
    assert_eq!(
        status_of(&all, "aws.rds_encrypted", "us-east-1/analytics"),
        "fail"
    );
    assert_eq!(
        status_of(&all, "aws.rds_backup_retention", "us-east-1/orders"),
        "pass"
    );
    assert_eq!(
        status_of(&all, "aws.rds_backup_retention", "us-east-1/analytics"),
        "fail"
    );
    // The denied region is an error naming the permission, never silence.
    let eu: Vec<&Value> = of(&all, "aws.rds_encrypted")
        .into_iter()
        .filter(|f| f["subject_id"].as_str().unwrap().contains("eu-west-1"))
        .collect::<Vec<_>>();
    assert!(!eu.is_empty(), "{all:#?}");
    assert!(eu.iter().all(|f| f["status"] == "error"));
    assert!(eu.iter().any(|f| f["summary"]
        .as_str()
        .unwrap()
        .contains("rds:DescribeDBInstances")));
    // And the other way round for security groups.
    assert_eq!(
        status_of(&all, "aws.open_admin_ports", "eu-west-1/sg-0a1b2c3d"),
        "fail"
    );
    let us: Vec<&Value> = of(&all, "aws.open_admin_ports")
        .into_iter()
        .filter(|f| f["subject_id"].as_str().unwrap().contains("us-east-1"))
        .collect::<Vec<_>>();
    assert!(
        !us.is_empty() && us.iter().all(|f| f["status"] == "error"),
        "{all:#?}"
    );
    assert!(us.iter().any(|f| f["summary"]
        .as_str()
        .unwrap()
        .contains("ec2:DescribeSecurityGroups")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_within_the_sdk_backoff() {
    pin_clock();
    let fake = FakeAws::default();
    baseline(&fake);
    let attempts = Arc::new(AtomicU64::new(0));
    let seen = attempts.clone();
    fake.on("rds", "DescribeDBInstances", move |c| {
        // The first two attempts in us-east-1 are throttled; the SDK retries.
        if c.region == "us-east-1" && seen.fetch_add(1, Ordering::SeqCst) < 2 {
            return aws_fake::throttled(c);
        }
        aws_fake::describe_db_instances(
            c,
            &[aws_fake::db_instance(&c.region, "orders", true, 7)],
            100,
        )
    });
    let listed = Arc::new(AtomicU64::new(0));
    let l = listed.clone();
    fake.on("s3", "ListBuckets", move |c| {
        if l.fetch_add(1, Ordering::SeqCst) == 0 {
            return aws_fake::throttled(c);
        }
        aws_fake::list_buckets(c, &[("acme-logs".into(), "us-east-1".into())], 1000)
    });
    fake.on("s3", "GetBucketEncryption", |_| {
        aws_fake::bucket_encryption("AES256")
    });
    fake.on("s3", "GetBucketVersioning", |_| {
        aws_fake::bucket_versioning(None)
    });
    let server = fake.start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let m = run(&server.uri(), "max_attempts = 3", &out).await;
    assert!(m.collector("aws").unwrap().error.is_none());
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        3,
        "us-east-1: two throttled attempts, then the one that succeeds"
    );
    assert_eq!(listed.load(Ordering::SeqCst), 2);
    let dbs = population(&out, "db_instances");
    assert_eq!(dbs.len(), 2, "{dbs:?}");
    let all = findings(&out);
    assert_eq!(
        status_of(&all, "aws.rds_encrypted", "us-east-1/orders"),
        "pass"
    );
    assert_eq!(status_of(&all, "aws.s3_encryption", "acme-logs"), "pass");
    assert!(!statuses(&all, "aws.rds_encrypted").contains("error"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_beyond_the_retries_is_an_error_not_a_pass() {
    pin_clock();
    let fake = FakeAws::default();
    baseline(&fake);
    fake.on("kms", "ListKeys", |c| {
        if c.region == "eu-west-1" {
            aws_fake::throttled(c)
        } else {
            aws_fake::empty(c)
        }
    });
    let server = fake.start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let m = run(&server.uri(), "max_attempts = 2", &out).await;
    let all = findings(&out);
    let kms = statuses(&all, "aws.kms_rotation");
    // Either the collector failed (and every check errs) or the region is an error finding.
    if m.collector("aws").unwrap().error.is_none() {
        assert!(kms.contains("error"), "{all:#?}");
    }
    assert!(!kms.contains("pass"), "{all:#?}");
    assert_eq!(
        fake.calls("kms:ListKeys"),
        1 + 2,
        "one call in us-east-1, two attempts in eu-west-1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_markers_are_followed_and_recorded() {
    pin_clock();
    let fake = FakeAws::default();
    baseline(&fake);
    let users: Vec<String> = (0..230).map(|i| format!("user{i:03}")).collect();
    let names = users.clone();
    fake.on("iam", "ListUsers", move |c| {
        aws_fake::list_users(c, &names, 100, "2026-01-10T09:00:00Z")
    });
    fake.on("iam", "GetLoginProfile", |c| {
        aws_fake::error(
            c,
            404,
            "NoSuchEntity",
            "Login Profile for User cannot be found.",
        )
    });
    fake.on("iam", "ListMFADevices", aws_fake::empty);
    fake.on("iam", "ListAccessKeys", aws_fake::empty);
    let buckets: Vec<(String, String)> = (0..25)
        .map(|i| (format!("acme-bucket-{i:02}"), REGIONS[i % 2].to_string()))
        .collect();
    let b = buckets.clone();
    fake.on("s3", "ListBuckets", move |c| {
        aws_fake::list_buckets(c, &b, 10)
    });
    fake.on("s3", "GetBucketEncryption", |_| {
        aws_fake::bucket_encryption("aws:kms")
    });
    fake.on("s3", "GetBucketVersioning", |_| {
        aws_fake::bucket_versioning(Some("Suspended"))
    });
    fake.on("rds", "DescribeDBInstances", |c| {
        let dbs: Vec<String> = (0..7)
            .map(|i| aws_fake::db_instance(&c.region, &format!("db{i}"), true, 7))
            .collect();
        aws_fake::describe_db_instances(c, &dbs, 3)
    });
    let server = fake.start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let m = run(&server.uri(), "", &out).await;
    assert!(m.collector("aws").unwrap().error.is_none());

    assert_eq!(population(&out, "iam_users").len(), 230);
    assert_eq!(fake.calls("iam:ListUsers"), 3);
    assert_eq!(population(&out, "buckets").len(), 25);
    assert_eq!(fake.calls("s3:ListBuckets"), 3);
    assert_eq!(population(&out, "db_instances").len(), 14);
    assert_eq!(fake.calls("rds:DescribeDBInstances"), 2 * 3);
    // Calls per bucket stay within the target of 3 (here 2: the account block is all on).
    let per_bucket = (fake.calls("s3:GetBucketEncryption")
        + fake.calls("s3:GetPublicAccessBlock")
        + fake.calls("s3:GetBucketVersioning")
        + fake.calls("s3:GetObjectLockConfiguration")) as f64
        / 25.0;
    assert!(
        per_bucket <= 3.0,
        "{per_bucket} calls per bucket: {:?}",
        fake.all_calls()
    );

    // Provenance names every page.
    let provenance: Value =
        serde_json::from_slice(&fs::read(out.join("aws/provenance.json")).unwrap()).unwrap();
    let users_prov = provenance.to_string();
    assert!(users_prov.contains("ListUsers"), "{provenance:#}");
    let all = findings(&out);
    assert_eq!(of(&all, "aws.s3_encryption").len(), 25);
    assert_eq!(
        statuses(&all, "aws.s3_encryption"),
        BTreeSet::from(["pass".into()])
    );
    // No console user: console MFA has nothing in scope.
    assert_eq!(
        statuses(&all, "aws.iam_console_mfa"),
        BTreeSet::from(["not_applicable".into()])
    );
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, day, hour, 0, 0).unwrap()
}

/// One ListBackupJobs entry, as the raw API sends it (epoch-second floats).
fn backup_job(region: &str, resource: &str, day: u32, state: &str) -> Value {
    let id = format!("{resource}-{day:02}-{state}");
    let mut job = json!({
        "AccountId": ACCOUNT,
        "BackupJobId": format!("D{:X}", id.len() as u64 * 7919 + u64::from(day)) + &id,
        "BackupVaultName": "Default",
        "BackupVaultArn": format!("arn:aws:backup:{region}:{ACCOUNT}:backup-vault:Default"),
        "ResourceArn": format!("arn:aws:rds:{region}:{ACCOUNT}:db:{resource}"),
        "ResourceName": resource,
        "ResourceType": "RDS",
        "CreationDate": aws_fake::epoch(at(day, 3)) + 0.77,
        "State": state,
        "PercentDone": "100.0",
        "IamRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"),
        "CreatedBy": {
            "BackupPlanId": "8f4f1b2e-0000-4000-8000-000000000001",
            "BackupPlanArn": format!("arn:aws:backup:{region}:{ACCOUNT}:backup-plan:8f4f1b2e"),
            "BackupPlanVersion": "ZmFrZQ==",
            "BackupRuleId": "daily"
        },
        "BackupType": "",
        "IsParent": false
    });
    if state == "COMPLETED" || state == "PARTIAL" {
        job["CompletionDate"] = json!(aws_fake::epoch(at(day, 3) + Duration::minutes(40)));
        job["BackupSizeInBytes"] = json!(21474836480u64);
        job["RecoveryPointArn"] = json!(format!(
            "arn:aws:rds:{region}:{ACCOUNT}:snapshot:awsbackup:job-{resource}-{day}"
        ));
    } else {
        job["StatusMessage"] =
            json!("Backup job failed because the DB instance is not in available state.");
    }
    job
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_backup_jobs_are_read_through_the_api_and_judged_by_the_backups_checks() {
    pin_clock();
    let fake = FakeAws::default();
    baseline(&fake);
    // us-east-1: "orders" backed up every day; "legacy" fails on the 3rd and is never
    // backed up again. eu-west-1 has no jobs.
    let mut jobs: Vec<Value> = (1..=7)
        .map(|d| backup_job("us-east-1", "orders", d, "COMPLETED"))
        .collect();
    jobs.extend((1..=2).map(|d| backup_job("us-east-1", "legacy", d, "COMPLETED")));
    jobs.push(backup_job("us-east-1", "legacy", 3, "FAILED"));
    // A second run of "orders" on the 4th finished with warnings: restorable, not clean.
    jobs.push(backup_job("us-east-1", "orders", 4, "PARTIAL"));
    let pages = Arc::new(jobs);
    let p = pages.clone();
    fake.on("backup", "ListBackupJobs", move |c| {
        if c.region != "us-east-1" {
            return aws_fake::empty(c);
        }
        // Pages of four, chained by NextToken.
        let start: usize = c.param("nextToken").parse().unwrap_or(0);
        let end = (start + 4).min(p.len());
        let mut body = json!({ "BackupJobs": p[start..end] });
        if end < p.len() {
            body["NextToken"] = json!(end.to_string());
        }
        aws_fake::json_ok(c, body)
    });
    fake.on("backup", "ListRestoreJobs", |c| {
        if c.region != "us-east-1" {
            return aws_fake::empty(c);
        }
        aws_fake::json_ok(
            c,
            json!({ "RestoreJobs": [{
                "AccountId": ACCOUNT,
                "RestoreJobId": "5E9C1B3A-0000-4000-8000-00000000AAAA",
                "RecoveryPointArn": format!("arn:aws:rds:us-east-1:{ACCOUNT}:snapshot:awsbackup:job-orders-5"),
                "CreationDate": aws_fake::epoch(at(5, 10)),
                "CompletionDate": aws_fake::epoch(at(5, 11)),
                "Status": "COMPLETED",
                "PercentDone": "100.00%",
                "BackupSizeInBytes": 21474836480u64,
                "IamRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"),
                "CreatedResourceArn": format!("arn:aws:rds:us-east-1:{ACCOUNT}:db:orders-restore-test"),
                "ResourceType": "RDS",
                "RecoveryPointCreationDate": aws_fake::epoch(at(5, 3)),
                "CreatedBy": { "RestoreTestingPlanArn": format!("arn:aws:backup:us-east-1:{ACCOUNT}:restore-testing-plan:weekly") },
                "ValidationStatus": "SUCCESSFUL"
            }]}),
        )
    });
    let server = fake.start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let m = run(&server.uri(), "", &out).await;
    assert!(m.collector("aws").unwrap().error.is_none());

    // Pagination: 11 jobs in pages of 4 is three calls in us-east-1, one in eu-west-1.
    assert_eq!(fake.calls("backup:ListBackupJobs"), 3 + 1);
    let jobs = population(&out, "backup_jobs");
    assert_eq!(jobs.len(), 11, "{jobs:#?}");
    assert!(jobs.iter().all(|j| j["tool"] == "aws-backup"), "{jobs:#?}");
    // Epoch floats land on the right millisecond (exactly: see the test below).
    let expected = at(1, 3) + Duration::milliseconds(770);
    assert!(
        jobs.iter().any(|j| {
            let t: DateTime<Utc> = j["started"].as_str().unwrap().parse().unwrap();
            (t - expected).num_microseconds().unwrap().abs() < 500
        }),
        "{jobs:#?}"
    );
    let restores = population(&out, "restore_jobs");
    assert_eq!(restores.len(), 1);
    assert_eq!(restores[0]["validation"], "SUCCESSFUL");

    let all = findings(&out);
    let coverage: BTreeMap<String, String> = of(&all, "backups.daily_coverage")
        .iter()
        .map(|f| {
            (
                f["subject_id"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let orders: BTreeSet<&String> = coverage
        .iter()
        .filter(|(k, _)| k.contains(":db:orders/"))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(
        orders,
        BTreeSet::from([&"pass".to_string()]),
        "{coverage:#?}"
    );
    let legacy_fails = coverage
        .iter()
        .filter(|(k, v)| k.contains(":db:legacy/") && *v == "fail")
        .count();
    assert_eq!(
        legacy_fails, 5,
        "days 3–7 lack a completed backup: {coverage:#?}"
    );
    assert_eq!(
        status_of(&all, "backups.completed_cleanly", "orders-04-PARTIAL"),
        "fail"
    );
    assert!(statuses(&all, "backups.recovery_after_failure").contains("fail"));
    assert!(
        statuses(&all, "backups.restore_tested").contains("pass"),
        "{all:#?}"
    );
    no_secret_in(&out);
}

/// API-NOTES: "epoch floats such as 1600721724.77 must not drift in conversion (keep
/// milliseconds)". The SDK parses the raw API's epoch-second floats through an f64
/// (`.769999980`); the collector rounds to the microsecond, so `.77` stays `.77`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_backup_epoch_floats_keep_their_milliseconds_exactly() {
    pin_clock();
    let fake = FakeAws::default();
    baseline(&fake);
    fake.on("backup", "ListBackupJobs", |c| {
        let jobs = if c.region == "us-east-1" {
            vec![backup_job("us-east-1", "orders", 1, "COMPLETED")]
        } else {
            Vec::new()
        };
        aws_fake::json_ok(c, json!({ "BackupJobs": jobs }))
    });
    let server = fake.start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run(&server.uri(), "", &out).await;
    let jobs = population(&out, "backup_jobs");
    let started = jobs[0]["started"].as_str().unwrap();
    assert!(started.contains("03:00:00.77"), "{started}");
    assert!(!started.contains("03:00:00.7699"), "{started}");
}

/// Object lock costs a fourth call per versioned bucket, so it is read only on request: by
/// default a versioned bucket's `object_lock` is null (not read) and the provenance says
/// why; with `s3_object_lock = true` it is read for versioned buckets alone. A bucket
/// without versioning cannot have object lock, so it is `false` either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_lock_is_read_only_on_request() {
    pin_clock();
    let fake = FakeAws::default();
    baseline(&fake);
    fake.on("s3", "ListBuckets", |c| {
        let buckets: Vec<(String, String)> = ["locked", "versioned", "plain"]
            .iter()
            .map(|b| (b.to_string(), "us-east-1".to_string()))
            .collect();
        aws_fake::list_buckets(c, &buckets, 1000)
    });
    fake.on("s3", "GetBucketEncryption", |_| {
        aws_fake::bucket_encryption("AES256")
    });
    fake.on("s3", "GetBucketVersioning", |c| {
        aws_fake::bucket_versioning((c.bucket.as_deref() != Some("plain")).then_some("Enabled"))
    });
    fake.on("s3", "GetObjectLockConfiguration", |c| {
        if c.bucket.as_deref() == Some("locked") {
            aws_fake::s3_ok(
                "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>",
            )
        } else {
            aws_fake::error(
                c,
                404,
                "ObjectLockConfigurationNotFoundError",
                "Object Lock configuration does not exist for this bucket",
            )
        }
    });
    let server = fake.start().await;
    let lock_of = |out: &Path| -> BTreeMap<String, Value> {
        population(out, "buckets")
            .into_iter()
            .map(|b| {
                (
                    b["name"].as_str().unwrap().to_string(),
                    b["object_lock"].clone(),
                )
            })
            .collect()
    };
    let dir = tempfile::tempdir().unwrap();

    let out = dir.path().join("default");
    run(&server.uri(), "", &out).await;
    let locks = lock_of(&out);
    assert_eq!(locks["locked"], Value::Null, "{locks:?}");
    assert_eq!(locks["versioned"], Value::Null, "{locks:?}");
    assert_eq!(locks["plain"], Value::Bool(false), "{locks:?}");
    assert_eq!(fake.calls("s3:GetObjectLockConfiguration"), 0);
    let provenance = fs::read_to_string(out.join("aws/provenance.json")).unwrap();
    assert!(provenance.contains("object lock not read"), "{provenance}");

    let out = dir.path().join("with-lock");
    run(&server.uri(), "s3_object_lock = true", &out).await;
    let locks = lock_of(&out);
    assert_eq!(locks["locked"], Value::Bool(true), "{locks:?}");
    assert_eq!(locks["versioned"], Value::Bool(false), "{locks:?}");
    assert_eq!(locks["plain"], Value::Bool(false), "{locks:?}");
    assert_eq!(fake.calls("s3:GetObjectLockConfiguration"), 2);
    let provenance = fs::read_to_string(out.join("aws/provenance.json")).unwrap();
    assert!(
        provenance.contains("GetObjectLockConfiguration"),
        "{provenance}"
    );
}

/// Four users: two in the credential report (read from it), one created since it was
/// generated and one re-created since (other creation time), both read per user.
fn report_account(fake: &FakeAws, report: bool) {
    baseline(fake);
    let names: Vec<String> = ["alice", "bob", "carol", "dave"]
        .iter()
        .map(|n| n.to_string())
        .collect();
    fake.on("iam", "ListUsers", move |c| {
        aws_fake::list_users(c, &names, 100, "2025-11-01T09:00:00Z")
    });
    let generated = Arc::new(AtomicU64::new(0));
    fake.on("iam", "GenerateCredentialReport", move |c| {
        let state = if generated.fetch_add(1, Ordering::SeqCst) == 0 {
            "STARTED"
        } else {
            "COMPLETE"
        };
        aws_fake::generate_credential_report(c, state)
    });
    if report {
        let csv = [
            aws_fake::CREDENTIAL_REPORT_HEADER.to_string(),
            aws_fake::credential_report_row("alice", "2025-11-01T09:00:00+00:00", true, true, None),
            aws_fake::credential_report_row(
                "bob",
                "2025-11-01T09:00:00+00:00",
                true,
                false,
                Some((true, "2025-01-01T00:00:00+00:00")),
            ),
            aws_fake::credential_report_row(
                "dave",
                "2024-01-01T00:00:00+00:00",
                false,
                false,
                Some((true, "2024-01-01T00:00:00+00:00")),
            ),
        ]
        .join("\n");
        fake.on("iam", "GetCredentialReport", move |c| {
            aws_fake::get_credential_report(c, &csv, "2026-06-30T08:00:00Z")
        });
    } else {
        fake.on("iam", "GetCredentialReport", aws_fake::denied);
    }
    // Per user: alice and bob as the report has them, carol and dave without password,
    // MFA or keys.
    fake.on("iam", "GetLoginProfile", |c| match c.param("UserName") {
        "alice" | "bob" => aws_fake::query_ok(
            c,
            &format!(
                "<LoginProfile><UserName>{}</UserName><CreateDate>2025-11-01T09:00:00Z\
                 </CreateDate></LoginProfile>",
                c.param("UserName")
            ),
        ),
        _ => aws_fake::error(c, 404, "NoSuchEntity", "Login Profile cannot be found."),
    });
    fake.on("iam", "ListMFADevices", |c| {
        let user = c.param("UserName");
        let devices = if user == "alice" {
            format!(
                "<member><UserName>alice</UserName><SerialNumber>arn:aws:iam::{ACCOUNT}:mfa/alice\
                 </SerialNumber><EnableDate>2025-11-01T09:05:00Z</EnableDate></member>"
            )
        } else {
            String::new()
        };
        aws_fake::query_ok(
            c,
            &format!("<MFADevices>{devices}</MFADevices><IsTruncated>false</IsTruncated>"),
        )
    });
    fake.on("iam", "ListAccessKeys", |c| {
        let user = c.param("UserName");
        let keys = if user == "bob" {
            "<member><UserName>bob</UserName><AccessKeyId>AKIAFAKEBOB000000001</AccessKeyId>\
             <Status>Active</Status><CreateDate>2025-01-01T00:00:00Z</CreateDate></member>"
        } else {
            ""
        };
        aws_fake::query_ok(
            c,
            &format!(
                "<AccessKeyMetadata>{keys}</AccessKeyMetadata><IsTruncated>false</IsTruncated>"
            ),
        )
    });
    fake.on("iam", "GetAccessKeyLastUsed", |c| {
        aws_fake::query_ok(
            c,
            "<UserName>bob</UserName><AccessKeyLastUsed><LastUsedDate>2026-06-20T10:00:00Z\
             </LastUsedDate><ServiceName>s3</ServiceName><Region>us-east-1</Region>\
             </AccessKeyLastUsed>",
        )
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_credential_report_replaces_per_user_calls_where_it_holds_the_user() {
    pin_clock();
    let fake = FakeAws::default();
    report_account(&fake, true);
    let server = fake.start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let m = run(&server.uri(), "", &out).await;
    assert!(m.collector("aws").unwrap().error.is_none());

    let from: BTreeMap<String, String> = population(&out, "iam_users")
        .iter()
        .map(|u| {
            (
                u["user_name"].as_str().unwrap().to_string(),
                u["details_from"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(from["alice"], "credential_report");
    assert_eq!(from["bob"], "credential_report");
    // carol is not in the report; dave's row has another creation time (re-created since).
    assert_eq!(from["carol"], "api");
    assert_eq!(from["dave"], "api");
    // Generation polled until complete, the report read once, per-user calls only for two.
    assert_eq!(fake.calls("iam:GenerateCredentialReport"), 2);
    assert_eq!(fake.calls("iam:GetCredentialReport"), 1);
    assert_eq!(fake.calls("iam:ListMFADevices"), 2);
    assert_eq!(fake.calls("iam:GetLoginProfile"), 2);
    assert_eq!(fake.calls("iam:ListAccessKeys"), 2);

    let all = findings(&out);
    assert_eq!(status_of(&all, "aws.iam_console_mfa", "alice"), "pass");
    assert_eq!(status_of(&all, "aws.iam_console_mfa", "bob"), "fail");
    let bob = of(&all, "aws.access_key_rotation")
        .into_iter()
        .find(|f| f["subject_id"] == "bob")
        .unwrap()
        .clone();
    assert_eq!(bob["status"], "fail", "{bob}");
    assert!(
        bob["summary"].as_str().unwrap().contains("access_key_1"),
        "{bob}"
    );
    let provenance = fs::read_to_string(out.join("aws/provenance.json")).unwrap();
    assert!(
        provenance
            .contains("2 user(s) read from the credential report generated 2026-06-30T08:00:00Z"),
        "{provenance}"
    );
    no_secret_in(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_credential_report_every_user_is_read_per_user_with_the_same_verdicts() {
    pin_clock();
    let fake = FakeAws::default();
    report_account(&fake, false);
    let server = fake.start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let m = run(&server.uri(), "", &out).await;
    assert!(m.collector("aws").unwrap().error.is_none());
    assert!(population(&out, "iam_users")
        .iter()
        .all(|u| u["details_from"] == "api"));
    assert_eq!(fake.calls("iam:ListMFADevices"), 4);
    let provenance = fs::read_to_string(out.join("aws/provenance.json")).unwrap();
    assert!(
        provenance.contains("credential report not used")
            && provenance.contains("iam:GetCredentialReport"),
        "{provenance}"
    );
    let all = findings(&out);
    assert_eq!(status_of(&all, "aws.iam_console_mfa", "alice"), "pass");
    assert_eq!(status_of(&all, "aws.iam_console_mfa", "bob"), "fail");
    assert_eq!(status_of(&all, "aws.access_key_rotation", "bob"), "fail");
    // A denied report is not a read error of the population: the per-user calls stand in.
    assert!(!statuses(&all, "aws.iam_console_mfa").contains("error"));

    // `iam_credential_report = false` never asks for it.
    let fake = FakeAws::default();
    report_account(&fake, true);
    let server = fake.start().await;
    let out = dir.path().join("off");
    run(&server.uri(), "iam_credential_report = false", &out).await;
    assert_eq!(fake.calls("iam:GenerateCredentialReport"), 0);
    assert_eq!(fake.calls("iam:ListMFADevices"), 4);
}
