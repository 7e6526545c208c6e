//! The AWS SDK as the collector sees it: one HTTPS client (rustls with ring), the SDK's
//! standard retry and backoff, a call counter, a tap that hands each raw response body to
//! provenance, and errors sorted into "denied", "absent" and "failed".

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_sdk_sts::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sts::error::{BoxError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use soc2_evidence_core::{CollectError, ProvenanceRecorder};

use super::config::AwsSettings;
use super::records::ReadError;

/// Counts HTTP requests sent (retries included), for the benchmark and provenance notes,
/// and remembers the paths of the first requests whose attempt failed, so a collector error
/// can name them.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallCounter(Arc<AtomicU64>, Arc<Mutex<Vec<String>>>);

/// The URL path of the attempt in flight, carried in the operation's config bag.
#[derive(Debug, Clone)]
struct AttemptPath(String);

impl aws_smithy_types::config_bag::Storable for AttemptPath {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// The path of a request URI (`https://host/a/b?x` → `/a/b`).
fn url_path(uri: &str) -> String {
    let no_query = uri.split('?').next().unwrap_or_default();
    match no_query.find("://") {
        Some(i) => match no_query[i + 3..].find('/') {
            Some(j) => no_query[i + 3 + j..].to_string(),
            None => "/".to_string(),
        },
        None => no_query.to_string(),
    }
}

/// Failed request paths kept for the collector's error.
const FAILED_PATHS_KEPT: usize = 20;

impl CallCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// The distinct paths of failed attempts, in the order they failed.
    pub fn failed_paths(&self) -> Vec<String> {
        match self.1.lock() {
            Ok(v) => v.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "soc2-evidence call counter"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        cfg.interceptor_state()
            .store_put(AttemptPath(url_path(ctx.request().uri())));
        Ok(())
    }

    fn read_after_execution(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // A failure worth naming: no response, a 5xx/401/429, or a body that broke. Not
        // 403 and 404: denials and "not configured" are answers, and would crowd the list.
        let errored = matches!(ctx.output_or_error(), Some(Err(_)));
        let failed = match ctx.response().map(|r| r.status().as_u16()) {
            Some(403 | 404) => false,
            Some(s) => !(200..300).contains(&s) || errored,
            None => true,
        };
        if let (true, Some(AttemptPath(path))) = (failed, cfg.load::<AttemptPath>()) {
            let mut v = match self.1.lock() {
                Ok(v) => v,
                Err(p) => p.into_inner(),
            };
            if v.len() < FAILED_PATHS_KEPT && !v.contains(path) {
                v.push(path.clone());
            }
        }
        Ok(())
    }
}

/// Captures the raw body of one call's (last) response, for the provenance digest.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tap(Arc<Mutex<Vec<u8>>>);

impl Tap {
    pub fn take(&self) -> Vec<u8> {
        match self.0.lock() {
            Ok(mut b) => std::mem::take(&mut *b),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        }
    }
}

impl Intercept for Tap {
    fn name(&self) -> &'static str {
        "soc2-evidence body tap"
    }

    fn read_after_deserialization(
        &self,
        ctx: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(bytes) = ctx.response().body().bytes() {
            let mut b = match self.0.lock() {
                Ok(b) => b,
                Err(p) => p.into_inner(),
            };
            b.clear();
            b.extend_from_slice(bytes);
        }
        Ok(())
    }
}

/// One page read: what provenance needs, recorded into a population afterwards.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub method: &'static str,
    pub endpoint: String,
    pub params: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub records: u64,
}

impl Page {
    /// `service:Operation` for a global call, `service:Operation@region` for a regional one.
    pub fn new(
        method: &'static str,
        service: &str,
        operation: &str,
        region: Option<&str>,
        tap: &Tap,
    ) -> Self {
        let endpoint = match region {
            Some(r) => format!("{service}:{operation}@{r}"),
            None => format!("{service}:{operation}"),
        };
        let mut params = Vec::new();
        if let Some(r) = region {
            params.push(("region".to_string(), r.to_string()));
        }
        Self {
            method,
            endpoint,
            params,
            body: tap.take(),
            records: 0,
        }
    }

    pub fn param(mut self, key: &str, value: impl Into<String>) -> Self {
        self.params.push((key.to_string(), value.into()));
        self
    }

    pub fn records(mut self, n: usize) -> Self {
        self.records = n as u64;
        self
    }

    pub fn record_into(&self, rec: &mut ProvenanceRecorder) {
        let params: Vec<(&str, &str)> = self
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        rec.page(self.method, &self.endpoint, &params, &self.body);
        rec.received(&self.endpoint, self.records);
    }
}

/// Error codes by which AWS services refuse a call for lack of permission.
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "AuthorizationErrorException",
    "Forbidden",
];

/// Error codes by which AWS says the thing asked about is not configured: an answer.
pub(crate) const ABSENT_CODES: &[&str] = &[
    "NoSuchEntity",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchPublicAccessBlockConfiguration",
    "ObjectLockConfigurationNotFoundError",
];

/// Error codes by which AWS says the region is not enabled for the account (opt-in regions)
/// or the credentials are not valid there: the region is lost, like a denial.
const REGION_CODES: &[&str] = &[
    "OptInRequired",
    "AuthFailure",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
];

/// A failed call, classified.
#[derive(Debug, Clone)]
pub(crate) struct CallError {
    pub code: Option<String>,
    pub message: String,
    pub denied: bool,
    pub status: Option<u16>,
}

impl CallError {
    pub fn from_sdk<E>(e: &SdkError<E>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let status = e.raw_response().map(|r| r.status().as_u16());
        let code = e.code().map(str::to_string);
        let message = match e {
            SdkError::ServiceError(_) => e
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| format!("HTTP {}", status.unwrap_or_default())),
            _ => DisplayErrorContext(e).to_string(),
        };
        let denied = code.as_deref().is_some_and(|c| DENIED_CODES.contains(&c))
            || (code.is_none() && status == Some(403));
        Self {
            code,
            message,
            denied,
            status,
        }
    }

    /// Whether the failure is an answer the collector records and goes on from (a denial, a
    /// region not enabled, "not configured"); anything else (5xx after the retries,
    /// throttling past them, timeouts, broken responses) fails the collector.
    pub fn soft(&self) -> bool {
        self.denied
            || self
                .code
                .as_deref()
                .is_some_and(|c| ABSENT_CODES.contains(&c) || REGION_CODES.contains(&c))
    }

    /// Whether AWS said the thing asked about does not exist (`NoSuchEntity`, S3's
    /// `NoSuch…Configuration`, `…NotFoundError`), which is an answer, not a failure.
    pub fn is_absent(&self, codes: &[&str]) -> bool {
        self.code.as_deref().is_some_and(|c| codes.contains(&c))
    }

    /// "s3:GetEncryptionConfiguration denied (AccessDenied: …)", for a record's `errors`.
    pub fn describe(&self, permission: &str) -> String {
        let what = if self.denied { "denied" } else { "failed" };
        let code = match (&self.code, self.status) {
            (Some(c), _) => format!("{c}: "),
            (None, Some(s)) => format!("HTTP {s}: "),
            (None, None) => String::new(),
        };
        format!(
            "{permission} {what} ({code}{})",
            crate::backups::shorten(&self.message)
        )
    }

    pub fn read_error(
        &self,
        region: &str,
        service: &str,
        operation: &str,
        permission: &str,
        populations: &[&str],
    ) -> ReadError {
        ReadError {
            region: region.to_string(),
            service: service.to_string(),
            operation: operation.to_string(),
            permission: permission.to_string(),
            code: self.code.clone(),
            denied: self.denied,
            message: crate::backups::shorten(&self.message),
            populations: populations.iter().map(|p| p.to_string()).collect(),
        }
    }
}

/// The shared SDK configuration: credentials, retry, HTTP client and endpoint.
pub(crate) async fn sdk_config(
    settings: &AwsSettings,
    region: &str,
) -> Result<SdkConfig, CollectError> {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .http_client(http)
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts.max(1)))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(settings.timeout)
                .build(),
        );
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(c) = &settings.credentials {
        loader = loader.credentials_provider(aws_sdk_sts::config::Credentials::new(
            c.access_key_id.expose(),
            c.secret_access_key.expose(),
            c.session_token.as_ref().map(|t| t.expose().to_string()),
            None,
            "soc2-evidence",
        ));
    }
    let base = loader.load().await;
    let Some(role) = &settings.role_arn else {
        return Ok(base);
    };
    let provider = aws_config::sts::AssumeRoleProvider::builder(role)
        .session_name("soc2-evidence")
        .configure(&base)
        .build()
        .await;
    Ok(base
        .into_builder()
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
            provider,
        ))
        .build())
}

/// Targets whose TRACE events carry credentials: the SDK traces every request it sends
/// (`Authorization: … Credential=<access key id>/…`, `X-Amz-Security-Token`) and every
/// identity it resolves. The collector runs inside [`Redacting`], which drops them.
const LEAKY_TARGETS: &[&str] = &[
    "aws_smithy_runtime",
    "aws_sigv4",
    "aws_runtime",
    "aws_credential_types",
    "aws_config",
    "aws_smithy_http_client",
    "hyper",
    "h2",
];

fn leaky(meta: &tracing::Metadata<'_>) -> bool {
    *meta.level() == tracing::Level::TRACE
        && LEAKY_TARGETS
            .iter()
            .any(|t| meta.target() == *t || meta.target().starts_with(&format!("{t}::")))
}

/// A subscriber that forwards everything to the one in effect, except the SDK's and HTTP
/// stack's TRACE events (see [`LEAKY_TARGETS`]): secrets never reach the logs, whatever
/// `RUST_LOG` says.
pub(crate) struct Redacting(tracing::Dispatch);

impl Redacting {
    /// Wraps the current default dispatcher.
    pub fn current() -> tracing::Dispatch {
        let inner = tracing::dispatcher::get_default(|d| d.clone());
        tracing::Dispatch::new(Redacting(inner))
    }
}

impl tracing::Subscriber for Redacting {
    fn register_callsite(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if leaky(meta) {
            tracing::subscriber::Interest::sometimes()
        } else {
            self.0.register_callsite(meta)
        }
    }
    fn enabled(&self, meta: &tracing::Metadata<'_>) -> bool {
        !leaky(meta) && self.0.enabled(meta)
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        self.0.new_span(span)
    }
    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        self.0.record(span, values)
    }
    fn record_follows_from(&self, span: &tracing::span::Id, follows: &tracing::span::Id) {
        self.0.record_follows_from(span, follows)
    }
    fn event(&self, event: &tracing::Event<'_>) {
        if !leaky(event.metadata()) {
            self.0.event(event)
        }
    }
    fn enter(&self, span: &tracing::span::Id) {
        self.0.enter(span)
    }
    fn exit(&self, span: &tracing::span::Id) {
        self.0.exit(span)
    }
    fn clone_span(&self, id: &tracing::span::Id) -> tracing::span::Id {
        self.0.clone_span(id)
    }
    fn try_close(&self, id: tracing::span::Id) -> bool {
        self.0.try_close(id)
    }
}
