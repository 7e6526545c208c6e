//! A ledger in an S3 bucket (or any S3-compatible store).

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use md5::{Digest as _, Md5};
use object_store::aws::S3ConditionalPut;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey, AwsAuthorizer, Checksum};
use object_store::client::{HttpClient, HttpConnector as _, HttpRequestBody, ReqwestConnector};
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore as _, ObjectStoreExt as _, PutMode, PutOptions,
    RetryConfig,
};
use tokio::sync::OnceCell;

use super::{LedgerLock, LedgerStorage};
use crate::LedgerError;

/// AWS's own default when no region is configured, as the AWS SDKs and object_store use it.
const DEFAULT_REGION: &str = "us-east-1";

/// A ledger under `s3://bucket/prefix`, through the `object_store` crate.
///
/// Credentials, region and endpoint come from the standard AWS environment, read by
/// [`S3Storage::from_env`]: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
/// `AWS_REGION` (or `AWS_DEFAULT_REGION`; `us-east-1` when neither is set), `AWS_ENDPOINT_URL`
/// (or `AWS_ENDPOINT_URL_S3`, or object_store's `AWS_ENDPOINT`) for an S3-compatible store, and
/// `AWS_ALLOW_HTTP=true` to allow a plain-http endpoint. Without static keys, object_store's
/// chain applies (web identity, ECS container credentials, EC2 instance metadata). Requests
/// use path-style URLs unless `AWS_VIRTUAL_HOSTED_STYLE_REQUEST=true`.
///
/// # Writes never replace
/// [`put_new`](LedgerStorage::put_new) is a conditional create (`If-None-Match: *`, which AWS
/// S3 honours since August 2024, as do MinIO, R2 and moto): of two runs writing the same key
/// exactly one lands and the other gets [`LedgerError::AlreadyExists`]. AWS may instead answer a
/// write that races another with `409 ConditionalRequestConflict`; that also reports
/// `AlreadyExists`, and at worst neither run lands, never both.
///
/// # Object Lock (WORM)
/// With `retain_until`, `put_new` first checks that the bucket has Object Lock enabled (nothing
/// is written when it has not), creates the object, then puts that object version under
/// retention in COMPLIANCE mode with a SigV4-signed `PutObjectRetention`
/// (`PUT /key?retention&versionId=…`, object_store cannot send the lock headers itself), and
/// reads the version's lock back with a `HEAD`. Between the create and the retention call
/// there is a window of one round trip in which the new version exists without retention (a
/// principal allowed `s3:DeleteObjectVersion` could delete it then). If the retention call or
/// the read-back fails, `put_new` fails saying the object was written but is not locked and
/// naming its key, so the run is never reported as sealed under WORM when it is not. A bucket
/// with a default COMPLIANCE retention rule closes the window, since S3 applies the rule at
/// create time. The credentials need `s3:PutObjectRetention` and `s3:GetObjectRetention`.
///
/// # Locking
/// S3 has no lock that its holder's death releases, so [`lock`](LedgerStorage::lock) holds
/// nothing: it returns at once. The fork guard on S3 is the conditional write itself. Two runs
/// started together both collect, and the second to seal fails with
/// [`LedgerError::AlreadyExists`] on the run key the first one wrote; nothing of it lands.
pub struct S3Storage {
    store: AmazonS3,
    /// Object Lock calls go out on a client built from the same options as object_store's.
    http: HttpClient,
    bucket: String,
    /// The key prefix without slashes at either end; empty for the bucket's root.
    prefix: String,
    region: String,
    /// Where the bucket's requests go: `https://s3.REGION.amazonaws.com/BUCKET`, or the
    /// configured endpoint (with `/BUCKET` unless virtual-hosted).
    bucket_url: String,
    /// Known secrets (static keys from the environment), wiped from any message we build.
    redact: Vec<String>,
    /// Set once the bucket is seen to have Object Lock enabled.
    object_lock_checked: OnceCell<()>,
}

impl std::fmt::Debug for S3Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hand-written so that no field of object_store's client (credentials among them) or
        // the redaction list can ever be printed.
        f.debug_struct("S3Storage")
            .field("location", &self.location())
            .field("region", &self.region)
            .field("bucket_url", &self.bucket_url)
            .field("credentials", &"<from the AWS environment, not shown>")
            .finish()
    }
}

impl S3Storage {
    /// Opens `bucket/prefix` (what follows `s3://`) with the process's AWS environment.
    pub fn from_env(bucket_and_prefix: &str) -> Result<Self, LedgerError> {
        Self::from_env_with(
            bucket_and_prefix,
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// Opens `bucket/prefix` with `vars` standing in for the process environment: only names
    /// starting with `AWS_` are read, as [`from_env`](Self::from_env) reads them. Tests and
    /// embedders use this to configure a store without touching the process's environment.
    pub fn from_env_with<I, K, V>(bucket_and_prefix: &str, vars: I) -> Result<Self, LedgerError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let location = format!("s3://{bucket_and_prefix}");
        let bad = |message: String| LedgerError::Location {
            location: location.clone(),
            message,
        };
        let (bucket, prefix) = bucket_and_prefix
            .split_once('/')
            .unwrap_or((bucket_and_prefix, ""));
        let prefix = prefix.trim_matches('/');
        if !valid_bucket(bucket) {
            return Err(bad(format!(
                "{bucket:?} is not a valid S3 bucket name (3 to 63 of a-z, 0-9, '.' and '-')"
            )));
        }
        if !prefix.is_empty() && !valid_key(prefix) {
            return Err(bad(format!(
                "prefix {prefix:?}: use /-separated segments of A-Z, a-z, 0-9, '.', '_', '-' and '~'"
            )));
        }

        let mut builder = AmazonS3Builder::new();
        let mut client_options = ClientOptions::new();
        let mut redact = Vec::new();
        for (name, value) in vars {
            let name = name.as_ref();
            if !name.starts_with("AWS_") {
                continue;
            }
            let value: String = value.into();
            // Unknown AWS_* names are other tools' settings; from_env skips them too.
            let Ok(key) = name.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() else {
                continue;
            };
            if matches!(
                key,
                AmazonS3ConfigKey::SecretAccessKey | AmazonS3ConfigKey::Token
            ) && !value.is_empty()
            {
                redact.push(value.clone());
            }
            if let AmazonS3ConfigKey::Client(client_key) = &key {
                client_options = client_options.with_config(*client_key, value.clone());
            }
            builder = builder.with_config(key, value);
        }
        let region = builder
            .get_config_value(&AmazonS3ConfigKey::Region)
            .or_else(|| builder.get_config_value(&AmazonS3ConfigKey::DefaultRegion))
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| DEFAULT_REGION.to_string());
        let virtual_hosted = builder
            .get_config_value(&AmazonS3ConfigKey::VirtualHostedStyleRequest)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let endpoint = builder
            .get_config_value(&AmazonS3ConfigKey::S3Endpoint)
            .or_else(|| builder.get_config_value(&AmazonS3ConfigKey::Endpoint))
            .filter(|e| !e.is_empty());
        let bucket_url = match (endpoint, virtual_hosted) {
            (Some(e), true) => e.trim_end_matches('/').to_string(),
            (Some(e), false) => format!("{}/{bucket}", e.trim_end_matches('/')),
            (None, true) => format!("https://{bucket}.s3.{region}.amazonaws.com"),
            (None, false) => format!("https://s3.{region}.amazonaws.com/{bucket}"),
        };

        let store = builder
            .with_region(region.clone())
            .with_bucket_name(bucket)
            // The ledger's no-fork guarantee rests on `If-None-Match: *`; an environment that
            // turned it off would make every run fail, so it is not left configurable.
            .with_conditional_put(S3ConditionalPut::ETagMatch)
            // An end-to-end checksum of every object; it also satisfies Object Lock buckets,
            // which refuse uploads that carry no checksum.
            .with_checksum_algorithm(Checksum::SHA256)
            // A ledger run is interactive or a cron job: give up on a dead endpoint within
            // seconds rather than object_store's default of three minutes.
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
            })
            .build()
            .map_err(|e| bad(redacted(&redact, &error_chain(&e))))?;
        let http = ReqwestConnector::default()
            .connect(&client_options)
            .map_err(|e| bad(redacted(&redact, &error_chain(&e))))?;
        Ok(Self {
            store,
            http,
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            region,
            bucket_url,
            redact,
            object_lock_checked: OnceCell::new(),
        })
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key prefix under which the ledger lives, without slashes at either end.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn full_key(&self, key: &str) -> Result<String, LedgerError> {
        if !valid_key(key) {
            return Err(LedgerError::Malformed {
                location: self.location(),
                key: key.to_string(),
                message: "not a valid ledger key".into(),
            });
        }
        Ok(if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        })
    }

    fn path(&self, key: &str) -> Result<Path, LedgerError> {
        let full = self.full_key(key)?;
        Path::parse(&full).map_err(|e| LedgerError::Malformed {
            location: self.location(),
            key: key.to_string(),
            message: e.to_string(),
        })
    }

    fn err(&self, key: &str, message: String) -> LedgerError {
        LedgerError::Storage {
            location: self.location(),
            key: key.to_string(),
            message: redacted(&self.redact, &message),
        }
    }

    /// Says what an object_store error means for someone fixing their setup. object_store
    /// maps a 403 to `PermissionDenied` on some calls and leaves it `Generic` on others (list),
    /// so the S3 error code in the response is read too.
    fn store_err(&self, key: &str, doing: &str, e: &object_store::Error) -> LedgerError {
        let detail = error_chain(e);
        let code = s3_code(&detail);
        let said = match (&code, xml_text(&detail, "Message")) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.clone(),
            _ => String::new(),
        };
        // The request line and status, without the XML document that follows them.
        let context = detail
            .split_once('<')
            .map_or(detail.as_str(), |(before, _)| before)
            .trim_end_matches([' ', ':'])
            .to_string();
        let hint = match (e, code.as_deref()) {
            (
                _,
                Some(
                    "InvalidAccessKeyId"
                    | "SignatureDoesNotMatch"
                    | "ExpiredToken"
                    | "InvalidToken"
                    | "TokenRefreshRequired",
                ),
            )
            | (object_store::Error::Unauthenticated { .. }, _) => Some(
                "the credentials were refused: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY \
                 and AWS_SESSION_TOKEN"
                    .to_string(),
            ),
            (_, Some("AccessDenied" | "AllAccessDisabled"))
            | (object_store::Error::PermissionDenied { .. }, _) => Some(
                "access denied (HTTP 403): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and \
                 AWS_SESSION_TOKEN, and that the IAM and bucket policies allow this on the bucket"
                    .to_string(),
            ),
            (_, Some("NoSuchBucket")) | (object_store::Error::NotFound { .. }, _) => {
                Some(format!("not found: does the bucket {} exist?", self.bucket))
            }
            _ => None,
        };
        let message = match (hint, said.is_empty()) {
            (Some(hint), false) => format!("{doing}: {hint} ({said}; {context})"),
            (Some(hint), true) => format!("{doing}: {hint} ({context})"),
            (None, false) => format!("{doing}: {said} ({context})"),
            (None, true) => format!("{doing}: {detail}"),
        };
        self.err(key, message)
    }

    /// Signs `request` with the store's current credentials and sends it once.
    async fn send_signed(
        &self,
        key: &str,
        mut request: http::Request<HttpRequestBody>,
    ) -> Result<(http::StatusCode, http::HeaderMap, String), LedgerError> {
        let credential = self
            .store
            .credentials()
            .get_credential()
            .await
            .map_err(|e| self.store_err(key, "getting AWS credentials", &e))?;
        AwsAuthorizer::new(&credential, "s3", &self.region).authorize(&mut request, None);
        let what = format!("{} {}", request.method(), request.uri().path());
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| self.err(key, format!("{what}: {}", error_chain(&e))))?;
        let (parts, body) = response.into_parts();
        let body = body.bytes().await.map_err(|e| {
            self.err(
                key,
                format!("{what}: reading the response: {}", error_chain(&e)),
            )
        })?;
        Ok((
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&body).into_owned(),
        ))
    }

    /// Fails, before anything is written, unless the bucket has Object Lock enabled.
    async fn check_object_lock(&self, key: &str) -> Result<(), LedgerError> {
        self.object_lock_checked
            .get_or_try_init(|| async {
                let request = build(
                    http::Method::GET,
                    &format!("{}?object-lock", self.bucket_url),
                    None,
                )
                .map_err(|e| self.err(key, e))?;
                let (status, _, body) = self.send_signed(key, request).await?;
                if status.is_success()
                    && body.contains("<ObjectLockEnabled>Enabled</ObjectLockEnabled>")
                {
                    return Ok(());
                }
                let why = if status.is_success()
                    || s3_code(&body).as_deref() == Some("ObjectLockConfigurationNotFoundError")
                {
                    format!("bucket {} does not have Object Lock enabled", self.bucket)
                } else {
                    format!(
                        "could not read bucket {}'s Object Lock configuration: {}",
                        self.bucket,
                        s3_failure(status, &body)
                    )
                };
                Err(self.err(
                    key,
                    format!(
                        "{why}; [ledger] object_lock_days needs a bucket created with Object Lock \
                         (and s3:GetBucketObjectLockConfiguration); nothing was written"
                    ),
                ))
            })
            .await
            .map(|_| ())
    }

    /// Puts the version just written under COMPLIANCE retention until `until` and reads the
    /// lock back.
    async fn retain(
        &self,
        key: &str,
        version: Option<&str>,
        until: DateTime<Utc>,
    ) -> Result<(), LedgerError> {
        let not_locked = |why: String| {
            self.err(
                key,
                format!(
                    "the object was written but is NOT locked (Object Lock COMPLIANCE until {}): \
                     {why}",
                    until.to_rfc3339_opts(SecondsFormat::Secs, true)
                ),
            )
        };
        let Some(version) = version else {
            return Err(not_locked(
                "the store returned no version id for it (is versioning on?)".into(),
            ));
        };
        if !version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-~".contains(&b))
        {
            return Err(not_locked(format!("unexpected version id {version:?}")));
        }
        let full = self.full_key(key)?;
        let until_text = until.to_rfc3339_opts(SecondsFormat::Millis, true);
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <Mode>COMPLIANCE</Mode><RetainUntilDate>{until_text}</RetainUntilDate></Retention>"
        );
        let url = format!("{}/{full}?retention&versionId={version}", self.bucket_url);
        let request =
            build(http::Method::PUT, &url, Some(Bytes::from(body))).map_err(&not_locked)?;
        let (status, _, response) = self
            .send_signed(key, request)
            .await
            .map_err(|e| not_locked(e.to_string()))?;
        if !status.is_success() {
            return Err(not_locked(format!(
                "PutObjectRetention failed: {}",
                s3_failure(status, &response)
            )));
        }

        // Read the lock back: a store that accepts the call but keeps no lock must not pass.
        let url = format!("{}/{full}?versionId={version}", self.bucket_url);
        let request = build(http::Method::HEAD, &url, None).map_err(&not_locked)?;
        let (status, headers, _) = self
            .send_signed(key, request)
            .await
            .map_err(|e| not_locked(e.to_string()))?;
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let mode = header("x-amz-object-lock-mode");
        let kept_until = header("x-amz-object-lock-retain-until-date")
            .and_then(|d| DateTime::parse_from_rfc3339(&d).ok())
            .map(|d| d.with_timezone(&Utc));
        // S3 keeps the date to the second or millisecond; a second's slack covers that.
        let held = status.is_success()
            && mode.as_deref() == Some("COMPLIANCE")
            && kept_until.is_some_and(|d| d >= until - chrono::Duration::seconds(1));
        if !held {
            return Err(not_locked(format!(
                "reading the lock back (HEAD, needs s3:GetObjectRetention) gave HTTP {status}, \
                 mode {}, retain-until {}",
                mode.as_deref().unwrap_or("none"),
                kept_until.map_or("none".to_string(), |d| d.to_rfc3339())
            )));
        }
        Ok(())
    }
}

/// An unsigned request for [`S3Storage::send_signed`]; Content-MD5 goes on any body, as S3
/// requires it on Object Lock calls.
fn build(
    method: http::Method,
    url: &str,
    body: Option<Bytes>,
) -> Result<http::Request<HttpRequestBody>, String> {
    let mut builder = http::Request::builder().method(method).uri(url);
    let body = match body {
        Some(body) => {
            let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&body));
            builder = builder
                .header("content-md5", md5)
                .header("content-type", "application/xml")
                .header("content-length", body.len());
            HttpRequestBody::from(body)
        }
        None => HttpRequestBody::empty(),
    };
    builder
        .body(body)
        .map_err(|e| format!("building the request to {url}: {e}"))
}

/// `HTTP 403 Forbidden, AccessDenied: Access Denied` from an S3 error response.
fn s3_failure(status: http::StatusCode, body: &str) -> String {
    match (s3_code(body), xml_text(body, "Message")) {
        (Some(code), Some(message)) => format!("HTTP {status}, {code}: {message}"),
        (Some(code), None) => format!("HTTP {status}, {code}"),
        _ => format!("HTTP {status}"),
    }
}

fn s3_code(body: &str) -> Option<String> {
    xml_text(body, "Code")
}

/// The text of the first `<tag>` in an S3 error document (flat, so no XML parser is needed).
fn xml_text(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let len = body[start..].find(&format!("</{tag}>"))?;
    Some(body[start..start + len].to_string())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = s.source();
    }
    message
}

/// `message` with every known secret replaced. S3's errors carry no secret keys, but a proxy's
/// or an emulator's might echo a header back; this makes sure none reaches a log.
fn redacted(secrets: &[String], message: &str) -> String {
    secrets.iter().fold(message.to_string(), |m, s| {
        m.replace(s.as_str(), "<redacted>")
    })
}

fn valid_bucket(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

/// Ledger keys and prefixes are `/`-separated segments of RFC 3986 unreserved characters, so
/// that a key reads the same in a URL, in a SigV4 canonical request and in object_store's path.
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-~".contains(&b))
        })
}

/// The S3 "lock": a guard that holds nothing, since the conditional write of the run's key is
/// what keeps two runs from forking the ledger (see [`S3Storage`]).
struct ConditionalWriteGuard;

impl LedgerLock for ConditionalWriteGuard {}

#[async_trait]
impl LedgerStorage for S3Storage {
    fn location(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    /// The objects directly under `prefix` (not deeper), relative to the ledger root, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, LedgerError> {
        let dir = prefix.trim_matches('/');
        let path = if dir.is_empty() {
            (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()))
        } else {
            Some(self.path(dir)?)
        };
        let listing = self
            .store
            .list_with_delimiter(path.as_ref())
            .await
            .map_err(|e| self.store_err(prefix, "listing", &e))?;
        let root = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut keys = Vec::with_capacity(listing.objects.len());
        for object in listing.objects {
            let full = object.location.to_string();
            match full.strip_prefix(&root) {
                Some(key) => keys.push(key.to_string()),
                None => {
                    return Err(self.err(
                        prefix,
                        format!("listing returned {full:?}, outside the ledger's prefix"),
                    ))
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, LedgerError> {
        let path = self.path(key)?;
        let result = match self.store.get(&path).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.store_err(key, "reading", &e)),
        };
        result
            .bytes()
            .await
            .map(Some)
            .map_err(|e| self.store_err(key, "reading", &e))
    }

    async fn put_new(
        &self,
        key: &str,
        body: Bytes,
        retain_until: Option<DateTime<Utc>>,
    ) -> Result<(), LedgerError> {
        let path = self.path(key)?;
        if retain_until.is_some() {
            self.check_object_lock(key).await?;
        }
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        let written = match self.store.put_opts(&path, body.into(), options).await {
            Ok(w) => w,
            Err(object_store::Error::AlreadyExists { .. }) => {
                return Err(LedgerError::AlreadyExists {
                    location: self.location(),
                    key: key.to_string(),
                })
            }
            Err(e) => return Err(self.store_err(key, "writing", &e)),
        };
        if let Some(until) = retain_until {
            self.retain(key, written.version.as_deref(), until).await?;
        }
        Ok(())
    }

    async fn lock(&self, _holder: &str) -> Result<Box<dyn LedgerLock>, LedgerError> {
        Ok(Box::new(ConditionalWriteGuard))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(location: &str) -> Result<S3Storage, LedgerError> {
        S3Storage::from_env_with(
            location,
            [
                ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "very-secret-key-value"),
                ("AWS_SESSION_TOKEN", "very-secret-session-token"),
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
                ("AWS_ALLOW_HTTP", "true"),
                ("AWS_REGION", "eu-west-3"),
                ("HOME", "/not/read"),
            ],
        )
    }

    #[test]
    fn locations_prefixes_and_endpoint_from_the_environment() {
        let s = open("ledger-bucket/a/b/").unwrap();
        assert_eq!(s.location(), "s3://ledger-bucket/a/b");
        assert_eq!(s.prefix(), "a/b");
        assert_eq!(s.bucket(), "ledger-bucket");
        assert_eq!(s.bucket_url, "http://127.0.0.1:9/ledger-bucket");
        assert_eq!(s.region, "eu-west-3");
        assert_eq!(
            s.full_key("runs/000001.zip").unwrap(),
            "a/b/runs/000001.zip"
        );
        let root = open("ledger-bucket").unwrap();
        assert_eq!(root.location(), "s3://ledger-bucket");
        assert_eq!(root.full_key("runs/x").unwrap(), "runs/x");
        assert!(root.full_key("../x").is_err());
        assert!(root.full_key("runs//x").is_err());
        assert!(open("Bad_Bucket/x").is_err());
        assert!(open("ledger-bucket/a b").is_err());
    }

    #[test]
    fn debug_and_errors_show_no_secret() {
        let s = open("ledger-bucket/p").unwrap();
        let debug = format!("{s:?}");
        assert!(debug.contains("s3://ledger-bucket/p"), "{debug}");
        assert!(!debug.contains("very-secret"), "{debug}");
        let e = s.err(
            "k",
            "echoed very-secret-key-value and very-secret-session-token".into(),
        );
        let text = e.to_string();
        assert!(!text.contains("very-secret"), "{text}");
        assert!(text.contains("s3://ledger-bucket/p: k:"), "{text}");
    }

    #[test]
    fn s3_error_documents_are_summarised() {
        let body = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code>\
                    <Message>Access Denied</Message></Error>";
        assert_eq!(
            s3_failure(http::StatusCode::FORBIDDEN, body),
            "HTTP 403 Forbidden, AccessDenied: Access Denied"
        );
        assert_eq!(
            s3_failure(http::StatusCode::BAD_GATEWAY, "<html>"),
            "HTTP 502 Bad Gateway"
        );
    }
}
