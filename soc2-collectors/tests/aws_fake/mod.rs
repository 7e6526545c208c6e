//! A fake AWS on one wiremock server, for what moto cannot serve: AccessDenied, throttling,
//! pagination markers and AWS Backup. Shared by `tests/aws_wiremock.rs` and the `aws_bench`
//! example (which includes this file by path).
//!
//! Every request is routed by what identifies it on the wire, as AWS's own front ends do:
//! the service and region from the SigV4 credential scope (`Credential=…/DATE/REGION/SERVICE/
//! aws4_request`), then the operation from the `Action` form field (query protocol: IAM,
//! STS, RDS, EC2), the `X-Amz-Target` header (JSON 1.1: CloudTrail, KMS) or the method and
//! path (REST: S3, S3 Control, AWS Backup). A test registers a handler per (service,
//! operation); anything else is answered with the service's own AccessDenied, in that
//! protocol's error shape, so a collector reading more than a test set up sees a principal
//! without that permission. The bodies follow the shapes of the AWS API reference.
#![allow(dead_code)] // each includer uses part of it
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The account the fake answers for.
pub const ACCOUNT: &str = "123456789012";

/// One request, as the fake understood it.
#[derive(Debug, Clone)]
pub struct Call {
    /// `iam`, `sts`, `s3`, `s3control`, `cloudtrail`, `rds`, `kms`, `ec2`, `backup`.
    pub service: String,
    /// The region of the credential scope.
    pub region: String,
    /// The API operation (`ListUsers`, `GetBucketEncryption`, …).
    pub operation: String,
    /// Query string, form fields and top-level JSON fields, by name.
    pub params: BTreeMap<String, String>,
    /// The bucket of an S3 request (path-style), if any.
    pub bucket: Option<String>,
}

impl Call {
    /// A parameter, or `""`.
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).map(String::as_str).unwrap_or("")
    }
}

type Handler = Arc<dyn Fn(&Call) -> ResponseTemplate + Send + Sync>;

#[derive(Default)]
struct State {
    handlers: Mutex<BTreeMap<(String, String), Handler>>,
    calls: Mutex<BTreeMap<String, u64>>,
    total: AtomicU64,
    delay: Mutex<Option<Duration>>,
}

/// The fake: clone it freely, every clone shares handlers and counters.
#[derive(Clone, Default)]
pub struct FakeAws {
    state: Arc<State>,
}

impl FakeAws {
    /// Starts a wiremock server answering through this fake.
    pub async fn start(&self) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(self.clone())
            .mount(&server)
            .await;
        server
    }

    /// Every answer waits this long first (latency of a remote API).
    pub fn delay(&self, d: Duration) {
        *self.state.delay.lock().unwrap() = Some(d);
    }

    /// Answers `service`'s `operation` with `f`.
    pub fn on(
        &self,
        service: &str,
        operation: &str,
        f: impl Fn(&Call) -> ResponseTemplate + Send + Sync + 'static,
    ) -> &Self {
        self.state
            .handlers
            .lock()
            .unwrap()
            .insert((service.into(), operation.into()), Arc::new(f));
        self
    }

    /// How many requests `service:operation` received (`"s3:GetBucketEncryption"`).
    pub fn calls(&self, key: &str) -> u64 {
        self.state
            .calls
            .lock()
            .unwrap()
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    /// Every request counted by `service:operation`.
    pub fn all_calls(&self) -> BTreeMap<String, u64> {
        self.state.calls.lock().unwrap().clone()
    }

    /// Requests received in all.
    pub fn total(&self) -> u64 {
        self.state.total.load(Ordering::Relaxed)
    }
}

impl Respond for FakeAws {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let call = parse(request);
        self.state.total.fetch_add(1, Ordering::Relaxed);
        *self
            .state
            .calls
            .lock()
            .unwrap()
            .entry(format!("{}:{}", call.service, call.operation))
            .or_default() += 1;
        let handler = self
            .state
            .handlers
            .lock()
            .unwrap()
            .get(&(call.service.clone(), call.operation.clone()))
            .cloned();
        let response = match handler {
            Some(h) => h(&call),
            None => denied(&call),
        };
        match *self.state.delay.lock().unwrap() {
            Some(d) => response.set_delay(d),
            None => response,
        }
    }
}

fn parse(request: &Request) -> Call {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    // Credential=AKID/20260101/us-east-1/iam/aws4_request
    let auth = header("authorization");
    let scope: Vec<&str> = auth
        .split("Credential=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .map(|s| s.split('/').collect())
        .unwrap_or_default();
    let region = scope.get(2).copied().unwrap_or("us-east-1").to_string();
    let mut service = scope.get(3).copied().unwrap_or("unknown").to_string();
    let mut params: BTreeMap<String, String> = request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let path = request.url.path().to_string();
    let mut bucket = None;
    let target = header("x-amz-target");
    let operation = if !target.is_empty() {
        if let Ok(serde_json::Value::Object(o)) =
            serde_json::from_slice::<serde_json::Value>(&request.body)
        {
            for (k, v) in o {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                params.insert(k, v);
            }
        }
        target.rsplit('.').next().unwrap_or("").to_string()
    } else if request.method.as_str() == "POST" && service != "s3" {
        for (k, v) in url::form_urlencoded::parse(&request.body) {
            params.insert(k.into_owned(), v.into_owned());
        }
        params.get("Action").cloned().unwrap_or_default()
    } else if path.starts_with("/v20180820/") {
        service = "s3control".into();
        match path.as_str() {
            "/v20180820/configuration/publicAccessBlock" => "GetPublicAccessBlock".into(),
            other => format!("{} {other}", request.method),
        }
    } else if service == "backup" {
        match path.trim_end_matches('/') {
            "/backup-jobs" => "ListBackupJobs".into(),
            "/restore-jobs" => "ListRestoreJobs".into(),
            other => format!("{} {other}", request.method),
        }
    } else if service == "s3" {
        let segments: Vec<&str> = path.trim_start_matches('/').splitn(2, '/').collect();
        if segments[0].is_empty() {
            "ListBuckets".into()
        } else {
            bucket = Some(segments[0].to_string());
            let has = |k: &str| params.contains_key(k);
            if has("encryption") {
                "GetBucketEncryption".into()
            } else if has("publicAccessBlock") {
                "GetPublicAccessBlock".into()
            } else if has("versioning") {
                "GetBucketVersioning".into()
            } else if has("object-lock") {
                "GetObjectLockConfiguration".into()
            } else if has("location") {
                "GetBucketLocation".into()
            } else if has("policyStatus") {
                "GetBucketPolicyStatus".into()
            } else {
                format!("{} /bucket", request.method)
            }
        }
    } else {
        format!("{} {path}", request.method)
    };
    Call {
        service,
        region,
        operation,
        params,
        bucket,
    }
}

fn request_id() -> String {
    format!(
        "{:08x}-fake-4aws-8000-{:012x}",
        fastrand_u32(),
        fastrand_u32()
    )
}

fn fastrand_u32() -> u32 {
    static N: AtomicU64 = AtomicU64::new(1);
    (N.fetch_add(1, Ordering::Relaxed) as u32).wrapping_mul(2654435761)
}

fn namespace(service: &str) -> &'static str {
    match service {
        "iam" => "https://iam.amazonaws.com/doc/2010-05-08/",
        "sts" => "https://sts.amazonaws.com/doc/2011-06-15/",
        "rds" => "http://rds.amazonaws.com/doc/2014-10-31/",
        "ec2" => "http://ec2.amazonaws.com/doc/2016-11-15/",
        _ => "http://s3.amazonaws.com/doc/2006-03-01/",
    }
}

/// The permission an operation needs, as IAM names it (S3's differ from the operation).
pub fn permission(call: &Call) -> String {
    let action = match (call.service.as_str(), call.operation.as_str()) {
        ("s3", "ListBuckets") => "ListAllMyBuckets",
        ("s3", "GetBucketEncryption") => "GetEncryptionConfiguration",
        ("s3", "GetPublicAccessBlock") => "GetBucketPublicAccessBlock",
        ("s3", "GetBucketVersioning") => "GetBucketVersioning",
        ("s3", "GetObjectLockConfiguration") => "GetBucketObjectLockConfiguration",
        ("s3control", "GetPublicAccessBlock") => "GetAccountPublicAccessBlock",
        (_, op) => op,
    };
    let service = if call.service == "s3control" {
        "s3"
    } else {
        call.service.as_str()
    };
    format!("{service}:{action}")
}

/// A successful query-protocol answer (IAM, STS, RDS): `inner` inside `<OpResult>`.
pub fn query_ok(call: &Call, inner: &str) -> ResponseTemplate {
    let op = &call.operation;
    let ns = namespace(&call.service);
    let body = if call.service == "ec2" {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{op}Response xmlns=\"{ns}\">\
             <requestId>{}</requestId>{inner}</{op}Response>",
            request_id()
        )
    } else {
        format!(
            "<{op}Response xmlns=\"{ns}\"><{op}Result>{inner}</{op}Result>\
             <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{op}Response>",
            request_id()
        )
    };
    ResponseTemplate::new(200).set_body_raw(body, "text/xml")
}

/// A successful S3 (REST-XML) answer.
pub fn s3_ok(xml: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("x-amz-request-id", request_id().as_str())
        .set_body_raw(
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{xml}"),
            "application/xml",
        )
}

/// A successful JSON answer (CloudTrail and KMS speak JSON 1.1, AWS Backup REST-JSON).
pub fn json_ok(call: &Call, body: serde_json::Value) -> ResponseTemplate {
    let content_type = if call.service == "backup" {
        "application/json"
    } else {
        "application/x-amz-json-1.1"
    };
    ResponseTemplate::new(200)
        .insert_header("x-amzn-requestid", request_id().as_str())
        .set_body_raw(body.to_string(), content_type)
}

/// An error in the service's own shape.
pub fn error(call: &Call, status: u16, code: &str, message: &str) -> ResponseTemplate {
    let id = request_id();
    match call.service.as_str() {
        "iam" | "sts" | "rds" => ResponseTemplate::new(status).set_body_raw(
            format!(
                "<ErrorResponse xmlns=\"{}\"><Error><Type>Sender</Type><Code>{code}</Code>\
                 <Message>{message}</Message></Error><RequestId>{id}</RequestId></ErrorResponse>",
                namespace(&call.service)
            ),
            "text/xml",
        ),
        "ec2" => ResponseTemplate::new(status).set_body_raw(
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>\
                 <Code>{code}</Code><Message>{message}</Message></Error></Errors>\
                 <RequestID>{id}</RequestID></Response>"
            ),
            "text/xml",
        ),
        "s3" | "s3control" => ResponseTemplate::new(status)
            .insert_header("x-amz-request-id", id.as_str())
            .set_body_raw(
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                     <Message>{message}</Message><RequestId>{id}</RequestId>\
                     <HostId>fakehost</HostId></Error>"
                ),
                "application/xml",
            ),
        "backup" => ResponseTemplate::new(status)
            .insert_header("x-amzn-errortype", code)
            .insert_header("x-amzn-requestid", id.as_str())
            .set_body_raw(
                serde_json::json!({ "Message": message, "Code": code }).to_string(),
                "application/json",
            ),
        _ => ResponseTemplate::new(status)
            .insert_header("x-amzn-requestid", id.as_str())
            .set_body_raw(
                serde_json::json!({ "__type": code, "message": message }).to_string(),
                "application/x-amz-json-1.1",
            ),
    }
}

/// The service's AccessDenied for this call, worded as AWS words it.
pub fn denied(call: &Call) -> ResponseTemplate {
    let message = format!(
        "User: arn:aws:iam::{ACCOUNT}:user/auditor is not authorized to perform: {} \
         because no identity-based policy allows the {} action",
        permission(call),
        permission(call)
    );
    match call.service.as_str() {
        "ec2" => error(call, 403, "UnauthorizedOperation", &message),
        "cloudtrail" | "kms" => error(call, 400, "AccessDeniedException", &message),
        "backup" => error(call, 403, "AccessDeniedException", &message),
        _ => error(call, 403, "AccessDenied", &message),
    }
}

/// The service's throttling error for this call (retried by the SDK).
pub fn throttled(call: &Call) -> ResponseTemplate {
    match call.service.as_str() {
        "ec2" => error(call, 503, "RequestLimitExceeded", "Request limit exceeded."),
        "s3" | "s3control" => error(call, 503, "SlowDown", "Please reduce your request rate."),
        "iam" | "sts" | "rds" => error(call, 400, "Throttling", "Rate exceeded"),
        _ => error(call, 400, "ThrottlingException", "Rate exceeded"),
    }
}

/// `2026-06-01T00:00:00Z` style for XML.
pub fn xml_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Epoch seconds (float), as the JSON protocols send timestamps.
pub fn epoch(t: chrono::DateTime<chrono::Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

// ---- Common answers, built from the API reference's shapes. ----

/// STS `GetCallerIdentity` for the fake account.
pub fn caller_identity(call: &Call) -> ResponseTemplate {
    query_ok(
        call,
        &format!(
            "<Arn>arn:aws:iam::{ACCOUNT}:user/auditor</Arn><UserId>AIDAFAKEAUDITOR00001</UserId>\
             <Account>{ACCOUNT}</Account>"
        ),
    )
}

/// IAM `GetAccountSummary` with root's MFA and access keys as given.
pub fn account_summary(
    call: &Call,
    root_mfa: bool,
    root_keys: bool,
    users: usize,
) -> ResponseTemplate {
    let entry = |k: &str, v: usize| format!("<entry><key>{k}</key><value>{v}</value></entry>");
    let map = [
        entry("AccountMFAEnabled", usize::from(root_mfa)),
        entry("AccountAccessKeysPresent", usize::from(root_keys)),
        entry("AccountSigningCertificatesPresent", 0),
        entry("Users", users),
        entry("UsersQuota", 5000),
        entry("MFADevices", 0),
        entry("Groups", 0),
        entry("Roles", 3),
    ]
    .concat();
    query_ok(call, &format!("<SummaryMap>{map}</SummaryMap>"))
}

/// IAM `ListUsers`, paginated by `Marker` over `names`, `page` users per page.
pub fn list_users(call: &Call, names: &[String], page: usize, created: &str) -> ResponseTemplate {
    let start: usize = call.param("Marker").parse().unwrap_or(0);
    let page = call.param("MaxItems").parse().unwrap_or(page).min(page);
    let end = (start + page).min(names.len());
    let users: String = names[start..end]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            format!(
                "<member><Path>/</Path><UserName>{n}</UserName><UserId>AIDAFAKE{:012}</UserId>\
                 <Arn>arn:aws:iam::{ACCOUNT}:user/{n}</Arn><CreateDate>{created}</CreateDate></member>",
                start + i
            )
        })
        .collect();
    let more = if end < names.len() {
        format!("<IsTruncated>true</IsTruncated><Marker>{end}</Marker>")
    } else {
        "<IsTruncated>false</IsTruncated>".to_string()
    };
    query_ok(call, &format!("<Users>{users}</Users>{more}"))
}

/// S3 `ListBuckets`, paginated by `continuation-token` over `(name, region)`.
pub fn list_buckets(call: &Call, buckets: &[(String, String)], page: usize) -> ResponseTemplate {
    let start: usize = call.param("continuation-token").parse().unwrap_or(0);
    let page = call.param("max-buckets").parse().unwrap_or(page).min(page);
    let end = (start + page).min(buckets.len());
    let items: String = buckets[start..end]
        .iter()
        .map(|(n, r)| {
            format!(
                "<Bucket><Name>{n}</Name><CreationDate>2025-01-15T10:00:00.000Z</CreationDate>\
                 <BucketRegion>{r}</BucketRegion></Bucket>"
            )
        })
        .collect();
    let token = if end < buckets.len() {
        format!("<ContinuationToken>{end}</ContinuationToken>")
    } else {
        String::new()
    };
    s3_ok(&format!(
        "<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <Owner><ID>fakeowner</ID></Owner><Buckets>{items}</Buckets>{token}\
         </ListAllMyBucketsResult>"
    ))
}

/// S3 `GetBucketEncryption` with one SSE rule.
pub fn bucket_encryption(algorithm: &str) -> ResponseTemplate {
    s3_ok(&format!(
        "<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>{algorithm}</SSEAlgorithm>\
         </ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule>\
         </ServerSideEncryptionConfiguration>"
    ))
}

/// A public access block (bucket or account) with the four settings as given.
pub fn public_access_block(on: [bool; 4]) -> ResponseTemplate {
    s3_ok(&format!(
        "<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <BlockPublicAcls>{}</BlockPublicAcls><IgnorePublicAcls>{}</IgnorePublicAcls>\
         <BlockPublicPolicy>{}</BlockPublicPolicy><RestrictPublicBuckets>{}</RestrictPublicBuckets>\
         </PublicAccessBlockConfiguration>",
        on[0], on[1], on[2], on[3]
    ))
}

/// S3 `GetBucketVersioning`: `Some("Enabled")`, `Some("Suspended")` or never enabled.
pub fn bucket_versioning(status: Option<&str>) -> ResponseTemplate {
    let inner = status
        .map(|s| format!("<Status>{s}</Status>"))
        .unwrap_or_default();
    s3_ok(&format!(
        "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{inner}\
         </VersioningConfiguration>"
    ))
}

/// One RDS `DBInstance` member.
pub fn db_instance(region: &str, id: &str, encrypted: bool, retention: u32) -> String {
    format!(
        "<DBInstance><DBInstanceIdentifier>{id}</DBInstanceIdentifier>\
         <DBInstanceClass>db.t3.micro</DBInstanceClass><Engine>postgres</Engine>\
         <DBInstanceStatus>available</DBInstanceStatus>\
         <StorageEncrypted>{encrypted}</StorageEncrypted>\
         <BackupRetentionPeriod>{retention}</BackupRetentionPeriod>\
         <DeletionProtection>true</DeletionProtection><PubliclyAccessible>false</PubliclyAccessible>\
         <MultiAZ>false</MultiAZ>\
         <DBInstanceArn>arn:aws:rds:{region}:{ACCOUNT}:db:{id}</DBInstanceArn></DBInstance>"
    )
}

/// RDS `DescribeDBInstances`, paginated by `Marker`.
pub fn describe_db_instances(call: &Call, members: &[String], page: usize) -> ResponseTemplate {
    let start: usize = call.param("Marker").parse().unwrap_or(0);
    let page = call.param("MaxRecords").parse().unwrap_or(page).min(page);
    let end = (start + page).min(members.len());
    let marker = if end < members.len() {
        format!("<Marker>{end}</Marker>")
    } else {
        String::new()
    };
    query_ok(
        call,
        &format!(
            "<DBInstances>{}</DBInstances>{marker}",
            members[start..end].concat()
        ),
    )
}

/// Empty answers for the regional list calls, so a test can leave a service empty.
pub fn empty(call: &Call) -> ResponseTemplate {
    match (call.service.as_str(), call.operation.as_str()) {
        ("rds", "DescribeDBInstances") => query_ok(call, "<DBInstances></DBInstances>"),
        ("ec2", "DescribeSecurityGroups") => {
            query_ok(call, "<securityGroupInfo></securityGroupInfo>")
        }
        ("iam", "ListUsers") => query_ok(call, "<Users></Users><IsTruncated>false</IsTruncated>"),
        ("iam", "ListMFADevices") => query_ok(
            call,
            "<MFADevices></MFADevices><IsTruncated>false</IsTruncated>",
        ),
        ("iam", "ListAccessKeys") => query_ok(
            call,
            "<AccessKeyMetadata></AccessKeyMetadata><IsTruncated>false</IsTruncated>",
        ),
        ("cloudtrail", "DescribeTrails") => json_ok(call, serde_json::json!({ "trailList": [] })),
        ("kms", "ListKeys") => json_ok(call, serde_json::json!({ "Keys": [], "Truncated": false })),
        ("backup", "ListBackupJobs") => json_ok(call, serde_json::json!({ "BackupJobs": [] })),
        ("backup", "ListRestoreJobs") => json_ok(call, serde_json::json!({ "RestoreJobs": [] })),
        ("s3", "ListBuckets") => list_buckets(call, &[], 1000),
        _ => denied(call),
    }
}

/// IAM `GenerateCredentialReport`: `state` is `STARTED`, `INPROGRESS` or `COMPLETE`.
pub fn generate_credential_report(call: &Call, state: &str) -> ResponseTemplate {
    query_ok(
        call,
        &format!("<State>{state}</State><Description>report generation</Description>"),
    )
}

/// The credential report's header line, as AWS writes it.
pub const CREDENTIAL_REPORT_HEADER: &str = "user,arn,user_creation_time,password_enabled,\
password_last_used,password_last_changed,password_next_rotation,mfa_active,\
access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,\
access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,\
access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,\
access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,\
cert_2_last_rotated";

/// One user's row of the credential report: `key` is the first access key's
/// `(active, created)`, the second slot empty.
pub fn credential_report_row(
    user: &str,
    created: &str,
    password: bool,
    mfa: bool,
    key: Option<(bool, &str)>,
) -> String {
    let (password_used, password_changed) = if password {
        ("2026-06-01T08:00:00+00:00", created)
    } else {
        ("not_supported", "N/A")
    };
    let key_cols = match key {
        Some((active, rotated)) => {
            format!("{active},{rotated},2026-06-20T10:00:00+00:00,us-east-1,s3")
        }
        None => "false,N/A,N/A,N/A,N/A".into(),
    };
    format!(
        "{user},arn:aws:iam::{ACCOUNT}:user/{user},{created},{password},{password_used},\
         {password_changed},N/A,{mfa},{key_cols},false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
    )
}

/// IAM `GetCredentialReport` with `csv` as its content (base64, as AWS sends it).
pub fn get_credential_report(call: &Call, csv: &str, generated: &str) -> ResponseTemplate {
    use base64::Engine as _;
    query_ok(
        call,
        &format!(
            "<Content>{}</Content><ReportFormat>text/csv</ReportFormat>\
             <GeneratedTime>{generated}</GeneratedTime>",
            base64::engine::general_purpose::STANDARD.encode(csv)
        ),
    )
}
