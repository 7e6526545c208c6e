//! AWS collector benchmark: a synthetic account (10 regions, 500 IAM users, 2,000 buckets,
//! 200 RDS instances by default) behind the tests' fake AWS (`tests/aws_fake`), which delays
//! every response by 20 ms, collected end to end through the registry and the runner.
//!
//! ```text
//! cargo run --release -p soc2-collectors --features aws --example aws_bench
//! BENCH_BUCKETS=100 BENCH_USERS=50 BENCH_DBS=20 BENCH_REGIONS=3 \
//!     cargo run --release -p soc2-collectors --features aws --example aws_bench
//! ```
//!
//! Environment: `BENCH_REGIONS` (10), `BENCH_USERS` (500), `BENCH_BUCKETS` (2000),
//! `BENCH_DBS` (200, spread over the regions), `BENCH_LATENCY_MS` (20),
//! `BENCH_ACCOUNT_BLOCK` (0; 1 turns all four account-level public access block settings on),
//! `BENCH_OBJECT_LOCK` (0; 1 sets `s3_object_lock = true`, one more call per versioned bucket),
//! `BENCH_CREDENTIAL_REPORT` (1; 0 sets `iam_credential_report = false`: every user per user).
//! The fake runs in a child process (this program with `AWS_BENCH_SERVE=1`), so the peak RSS
//! printed is the collector's and the runner's alone. Half of the buckets have their own
//! public access block; by default the account-level block is partial, so every bucket's own
//! block is read (the worst case for calls per bucket); a third of the buckets have
//! versioning on, so with `BENCH_OBJECT_LOCK=1` their object lock is read too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use soc2_evidence_core::{MapSecrets, Runner};

#[path = "../tests/aws_fake/mod.rs"]
mod aws_fake;
mod common;

use common::{announce_and_wait, env_num, peak_rss_mib, ServerProcess};

const ALL_REGIONS: [&str; 17] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "sa-east-1",
    "me-south-1",
];

struct Sizes {
    regions: Vec<String>,
    users: usize,
    buckets: usize,
    dbs: usize,
    /// Whether the account-level public access block has all four settings on (then no
    /// bucket's own block is read).
    account_block: bool,
}

fn sizes() -> Sizes {
    let n = (env_num("BENCH_REGIONS", 10) as usize).clamp(1, ALL_REGIONS.len());
    Sizes {
        regions: ALL_REGIONS[..n].iter().map(|r| r.to_string()).collect(),
        users: env_num("BENCH_USERS", 500) as usize,
        buckets: env_num("BENCH_BUCKETS", 2000) as usize,
        dbs: env_num("BENCH_DBS", 200) as usize,
        account_block: env_num("BENCH_ACCOUNT_BLOCK", 0) == 1,
    }
}

/// Child mode: the synthetic account on the fake, until stdin closes; then the call counts.
async fn serve(s: Sizes, latency: Duration) {
    let fake = aws_fake::FakeAws::default();
    fake.delay(latency);
    fake.on("sts", "GetCallerIdentity", aws_fake::caller_identity);
    let users = s.users;
    fake.on("iam", "GetAccountSummary", move |c| {
        aws_fake::account_summary(c, true, false, users)
    });
    let account_block = s.account_block;
    fake.on("s3control", "GetPublicAccessBlock", move |_| {
        aws_fake::public_access_block([true, true, true, account_block])
    });
    fake.on("iam", "GetAccountPasswordPolicy", |c| {
        aws_fake::query_ok(
            c,
            "<PasswordPolicy><MinimumPasswordLength>14</MinimumPasswordLength>\
             <RequireSymbols>true</RequireSymbols><RequireNumbers>true</RequireNumbers>\
             <RequireUppercaseCharacters>true</RequireUppercaseCharacters>\
             <RequireLowercaseCharacters>true</RequireLowercaseCharacters>\
             <PasswordReusePrevention>24</PasswordReusePrevention></PasswordPolicy>",
        )
    });
    let names: Arc<Vec<String>> = Arc::new((0..s.users).map(|i| format!("user{i:05}")).collect());
    fake.on("iam", "ListUsers", move |c| {
        aws_fake::list_users(c, &names, 100, "2025-11-01T09:00:00Z")
    });
    // The credential report holds every user but the last 1% (created since it was
    // generated: those are read per user). The first request only starts the generation.
    let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
    fake.on("iam", "GenerateCredentialReport", move |c| {
        let state = if started.swap(true, std::sync::atomic::Ordering::SeqCst) {
            "COMPLETE"
        } else {
            "STARTED"
        };
        aws_fake::generate_credential_report(c, state)
    });
    let in_report = s.users - s.users / 100;
    let report: Arc<String> = Arc::new(
        std::iter::once(aws_fake::CREDENTIAL_REPORT_HEADER.to_string())
            .chain((0..in_report).map(|i| {
                aws_fake::credential_report_row(
                    &format!("user{i:05}"),
                    "2025-11-01T09:00:00+00:00",
                    i % 2 == 0,
                    true,
                    Some((true, "2025-11-01T09:00:00+00:00")),
                )
            }))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    fake.on("iam", "GetCredentialReport", move |c| {
        aws_fake::get_credential_report(c, &report, "2026-06-30T08:00:00Z")
    });
    fake.on("iam", "GetLoginProfile", |c| {
        let n: usize = c.param("UserName").trim_start_matches("user").parse().unwrap_or(0);
        if n % 2 == 0 {
            aws_fake::query_ok(
                c,
                &format!(
                    "<LoginProfile><UserName>{}</UserName><CreateDate>2025-11-01T09:00:00Z\
                     </CreateDate><PasswordResetRequired>false</PasswordResetRequired></LoginProfile>",
                    c.param("UserName")
                ),
            )
        } else {
            aws_fake::error(c, 404, "NoSuchEntity", "Login Profile cannot be found.")
        }
    });
    fake.on("iam", "ListMFADevices", |c| {
        let user = c.param("UserName");
        aws_fake::query_ok(
            c,
            &format!(
                "<MFADevices><member><UserName>{user}</UserName><SerialNumber>\
                 arn:aws:iam::{}:mfa/{user}</SerialNumber><EnableDate>2025-11-01T09:05:00Z\
                 </EnableDate></member></MFADevices><IsTruncated>false</IsTruncated>",
                aws_fake::ACCOUNT
            ),
        )
    });
    fake.on("iam", "ListAccessKeys", |c| {
        let user = c.param("UserName");
        aws_fake::query_ok(
            c,
            &format!(
                "<UserName>{user}</UserName><AccessKeyMetadata><member><UserName>{user}</UserName>\
                 <AccessKeyId>AKIA{:0>16}</AccessKeyId><Status>Active</Status>\
                 <CreateDate>2025-11-01T09:00:00Z</CreateDate></member></AccessKeyMetadata>\
                 <IsTruncated>false</IsTruncated>",
                user.trim_start_matches("user")
            ),
        )
    });
    fake.on("iam", "GetAccessKeyLastUsed", |c| {
        aws_fake::query_ok(
            c,
            "<UserName>u</UserName><AccessKeyLastUsed><LastUsedDate>2026-06-20T10:00:00Z\
             </LastUsedDate><ServiceName>s3</ServiceName><Region>us-east-1</Region>\
             </AccessKeyLastUsed>",
        )
    });
    let regions = s.regions.clone();
    let buckets: Arc<Vec<(String, String)>> = Arc::new(
        (0..s.buckets)
            .map(|i| {
                (
                    format!("acme-bench-{i:05}"),
                    regions[i % regions.len()].clone(),
                )
            })
            .collect(),
    );
    fake.on("s3", "ListBuckets", move |c| {
        aws_fake::list_buckets(c, &buckets, 1000)
    });
    let index = |c: &aws_fake::Call| -> usize {
        c.bucket
            .as_deref()
            .unwrap_or("")
            .trim_start_matches("acme-bench-")
            .parse()
            .unwrap_or(0)
    };
    fake.on("s3", "GetBucketEncryption", |_| {
        aws_fake::bucket_encryption("AES256")
    });
    fake.on("s3", "GetPublicAccessBlock", move |c| {
        if index(c) % 2 == 0 {
            aws_fake::public_access_block([true; 4])
        } else {
            aws_fake::error(
                c,
                404,
                "NoSuchPublicAccessBlockConfiguration",
                "The public access block configuration was not found",
            )
        }
    });
    fake.on("s3", "GetBucketVersioning", move |c| {
        aws_fake::bucket_versioning((index(c) % 3 == 0).then_some("Enabled"))
    });
    fake.on("s3", "GetObjectLockConfiguration", |c| {
        aws_fake::error(
            c,
            404,
            "ObjectLockConfigurationNotFoundError",
            "Object Lock configuration does not exist for this bucket",
        )
    });
    let per_region = s.dbs.div_ceil(s.regions.len());
    let total_dbs = s.dbs;
    let region_list = s.regions.clone();
    fake.on("rds", "DescribeDBInstances", move |c| {
        let r = region_list.iter().position(|x| *x == c.region).unwrap_or(0);
        let dbs: Vec<String> = (r * per_region..((r + 1) * per_region).min(total_dbs))
            .map(|i| aws_fake::db_instance(&c.region, &format!("db-{i:04}"), i % 10 != 0, 7))
            .collect();
        aws_fake::describe_db_instances(c, &dbs, 100)
    });
    fake.on("cloudtrail", "DescribeTrails", |c| {
        aws_fake::json_ok(
            c,
            serde_json::json!({ "trailList": [{
                "Name": "org-trail", "S3BucketName": "acme-trail-logs",
                "IsMultiRegionTrail": true, "HomeRegion": "us-east-1",
                "TrailARN": format!("arn:aws:cloudtrail:us-east-1:{}:trail/org-trail", aws_fake::ACCOUNT),
                "LogFileValidationEnabled": true, "IsOrganizationTrail": false
            }]}),
        )
    });
    fake.on("cloudtrail", "GetTrailStatus", |c| {
        aws_fake::json_ok(c, serde_json::json!({ "IsLogging": true }))
    });
    for (service, op) in [
        ("kms", "ListKeys"),
        ("ec2", "DescribeSecurityGroups"),
        ("backup", "ListBackupJobs"),
        ("backup", "ListRestoreJobs"),
    ] {
        fake.on(service, op, aws_fake::empty);
    }
    let server = fake.start().await;
    announce_and_wait(&server.uri()).await;
    println!("REQUESTS {}", fake.total());
    let calls = fake.all_calls();
    let s3: u64 = calls
        .iter()
        .filter(|(k, _)| k.starts_with("s3:Get"))
        .map(|(_, v)| v)
        .sum();
    println!("S3_PER_BUCKET_CALLS {s3}");
    println!(
        "CALLS {}",
        calls
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    println!("RSS {:.1}", peak_rss_mib());
}

#[tokio::main]
async fn main() {
    let s = sizes();
    let latency = Duration::from_millis(env_num("BENCH_LATENCY_MS", 20));
    if std::env::var_os("AWS_BENCH_SERVE").is_some() {
        serve(s, latency).await;
        return;
    }
    let server = ServerProcess::spawn("AWS_BENCH_SERVE");
    let regions = s
        .regions
        .iter()
        .map(|r| format!("{r:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let object_lock = env_num("BENCH_OBJECT_LOCK", 0) == 1;
    let use_report = env_num("BENCH_CREDENTIAL_REPORT", 1) == 1;
    let toml = format!(
        "[aws]\nregions = [{regions}]\nendpoint_url = {:?}\ns3_object_lock = {object_lock}\n\
         iam_credential_report = {use_report}\n",
        server.base_url
    );
    let config = soc2_collectors::registry()
        .parse_config(&toml, "soc2.toml", Path::new("."))
        .unwrap();
    let secrets = MapSecrets::default()
        .with("AWS_ACCESS_KEY_ID", "AKIAFAKEBENCH0000001")
        .with("AWS_SECRET_ACCESS_KEY", "bench-secret-not-used-by-the-fake");
    let rss_before = peak_rss_mib();
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let started = Instant::now();
    let manifest = Runner::from_config(&config, &secrets)
        .unwrap()
        .run("2026-06-01..2026-06-30".parse().unwrap(), &run_dir)
        .await
        .unwrap();
    let total = started.elapsed();
    let c = manifest.collector("aws").unwrap();
    assert!(c.error.is_none(), "collector failed: {:?}", c.error);
    let collect = (c.finished_at - c.started_at).to_std().unwrap_or_default();

    let report = server.finish();
    let field = |name: &str| report.field(name);
    let requests: u64 = field("REQUESTS ").parse().unwrap_or(0);
    let s3_calls: u64 = field("S3_PER_BUCKET_CALLS ").parse().unwrap_or(0);
    let per_bucket = if s.buckets == 0 {
        0.0
    } else {
        s3_calls as f64 / s.buckets as f64
    };
    println!(
        "aws_bench: {} regions, {} IAM users, {} buckets, {} RDS instances, {} ms latency per request, account public access block {}, object lock {}, credential report {}",
        s.regions.len(),
        s.users,
        s.buckets,
        s.dbs,
        latency.as_millis(),
        if s.account_block { "all on" } else { "partial" },
        if object_lock { "read" } else { "not read" },
        if use_report { "used (1% of users created since: read per user)" } else { "off" }
    );
    println!("  records:            {:?}", c.records);
    println!("  API calls:          {requests}");
    println!("  calls per bucket:   {per_bucket:.2} (target <= 3; GetBucket* / GetPublicAccessBlock / GetObjectLock)");
    println!("  by operation:       {}", field("CALLS "));
    println!("  collection wall:    {:.2} s", collect.as_secs_f64());
    println!(
        "  run wall (+checks): {:.2} s ({} findings)",
        total.as_secs_f64(),
        manifest.findings.total()
    );
    let sequential = latency * requests as u32;
    println!(
        "  one at a time:      >= {:.1} s (calls x latency); speed-up >= {:.1}x",
        sequential.as_secs_f64(),
        sequential.as_secs_f64() / collect.as_secs_f64().max(1e-9)
    );
    println!(
        "  peak RSS collector: {:.1} MiB (target < 100; before the run: {rss_before:.1} MiB)",
        peak_rss_mib()
    );
    println!(
        "  peak RSS server:    {} MiB (separate process)",
        field("RSS ")
    );
}
