//! A local moto server (the AWS emulator from PyPI, `pip install "moto[server]"`) for tests of
//! S3 ledgers and the AWS collector.
//!
//! [`Moto::start`] finds a free port on 127.0.0.1, starts moto there, waits until it answers
//! and stops it when dropped. When Python or moto is missing it prints
//! `skipped: moto not installed ...` and returns `None`, unless
//! [`stock_tools::REQUIRE_ENV`](crate::stock_tools::REQUIRE_ENV)`=1`, when it panics instead.
//!
//! Moto accepts any credentials unless started [with authentication](Moto::start_with_auth);
//! tests use [`ACCESS_KEY_ID`] and [`SECRET_ACCESS_KEY`].
//!
//! ```no_run
//! let Some(moto) = soc2_sample::moto::Moto::start() else { return };
//! moto.create_bucket("ledger", true).unwrap();
//! let (status, _, _) = moto.request("GET", "/ledger?object-lock", &[]).unwrap();
//! assert_eq!(status, 200);
//! ```
//!
//! An account for the AWS collector is seeded with boto3 (installed with moto), through
//! [`Moto::boto3`]: the script gets a `client(service, region)` bound to this server.
//!
//! ```no_run
//! let Some(moto) = soc2_sample::moto::Moto::start() else { return };
//! moto.boto3(r#"
//! iam = client("iam")
//! iam.create_user(UserName="alice")
//! print(client("sts").get_caller_identity()["Account"])
//! "#).unwrap();
//! ```

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::stock_tools::REQUIRE_ENV;

/// The access key id tests give moto.
pub const ACCESS_KEY_ID: &str = "AKIAMOTOTESTKEY00001";
/// The secret key tests give moto (moto does not check signatures unless told to).
pub const SECRET_ACCESS_KEY: &str = "moto-test-secret-key-do-not-log";

/// The account id moto answers for the test credentials (moto's default account).
pub const ACCOUNT_ID: &str = "123456789012";

/// What every [`Moto::boto3`] script starts with: a boto3 session with the test credentials
/// and `client(service, region="us-east-1")` bound to this server. S3 Control addresses the
/// account as a host prefix (`123456789012.s3-control…`), which a custom endpoint turns into
/// `123456789012.127.0.0.1`; the hook strips that prefix before the request is signed.
const BOTO3_PRELUDE: &str = r#"
import os, re, sys, json, datetime
import boto3
from botocore.config import Config
_session = boto3.Session(
    aws_access_key_id=os.environ["SOC2_MOTO_KEY_ID"],
    aws_secret_access_key=os.environ["SOC2_MOTO_SECRET"],
    region_name="us-east-1",
)
_endpoint = os.environ["SOC2_MOTO_ENDPOINT"]
def _strip_account_host(request, **kwargs):
    request.url = re.sub(r"//\d{12}\.", "//", request.url)
def client(service, region="us-east-1"):
    c = _session.client(service, endpoint_url=_endpoint, region_name=region,
                        config=Config(retries={"max_attempts": 2}))
    if service == "s3control":
        c.meta.events.register("before-sign.s3-control", _strip_account_host)
    return c
"#;

/// Runs moto's own WSGI app single-threaded. moto's `If-None-Match: *` is a check, then a
/// write, in Python: atomic only when requests are served one at a time, as AWS S3's are
/// atomic. Served in parallel, a race test would measure moto's race rather than ours.
const LAUNCHER: &str = r#"
import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
app = DomainDispatcherApplication(create_backend_app)
run_simple(sys.argv[1], int(sys.argv[2]), app, threaded=sys.argv[3] == "threaded", use_reloader=False)
"#;

/// A response from moto: the status, the headers (names lower-cased) and the body.
pub type Response = (u16, Vec<(String, String)>, Vec<u8>);

/// A running moto server on 127.0.0.1, stopped when dropped.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    addr: SocketAddr,
}

impl Moto {
    /// Starts moto, or prints why it is skipped and returns `None` (panics instead when
    /// [`REQUIRE_ENV`]`=1`).
    #[track_caller]
    pub fn start() -> Option<Moto> {
        Self::start_inner(false, false)
    }

    /// Starts moto serving requests on several threads, for benchmarks whose clients keep
    /// many requests in flight (conditional writes are then not atomic). Skips like
    /// [`start`](Self::start).
    #[track_caller]
    pub fn start_threaded() -> Option<Moto> {
        Self::start_inner(false, true)
    }

    /// Starts moto with its IAM authentication on (`INITIAL_NO_AUTH_ACTION_COUNT=0`), so it
    /// refuses keys it does not know, as AWS does. Skips like [`start`](Self::start).
    #[track_caller]
    pub fn start_with_auth() -> Option<Moto> {
        Self::start_inner(true, false)
    }

    #[track_caller]
    fn start_inner(auth: bool, threaded: bool) -> Option<Moto> {
        let probe = Command::new("python3")
            .args(["-c", "import moto.server, werkzeug"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !probe.is_ok_and(|s| s.success()) {
            if std::env::var(REQUIRE_ENV).as_deref() == Ok("1") {
                panic!("{REQUIRE_ENV}=1 and moto is missing: install it with pip install \"moto[server]\"");
            }
            // Straight to stderr: the harness captures eprintln! of a passing test.
            let _ = writeln!(
                std::io::stderr().lock(),
                "skipped: moto not installed (pip install \"moto[server]\")"
            );
            return None;
        }
        // The port is free when we look; another process could take it before moto binds, so
        // a start that fails is retried on a new port.
        let mut last = String::new();
        for _ in 0..3 {
            match Self::spawn(auth, threaded) {
                Ok(m) => return Some(m),
                Err(e) => last = e,
            }
        }
        panic!("moto is installed but did not start: {last}");
    }

    fn spawn(auth: bool, threaded: bool) -> Result<Moto, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let mut command = Command::new("python3");
        command
            .args(["-c", LAUNCHER, "127.0.0.1", &port.to_string()])
            .arg(if threaded { "threaded" } else { "single" })
            .env("MOTO_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if auth {
            command.env("INITIAL_NO_AUTH_ACTION_COUNT", "0");
        }
        let child = command
            .spawn()
            .map_err(|e| format!("running python3: {e}"))?;
        let mut moto = Moto {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = moto.child.try_wait() {
                return Err(format!("moto exited with {status} on port {port}"));
            }
            if moto.request("GET", "/moto-api/", &[]).is_ok() {
                return Ok(moto);
            }
            if Instant::now() > deadline {
                return Err(format!("moto did not answer on port {port} within 30 s"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `AWS_*` variables that point a client at this server with the test credentials.
    pub fn aws_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Runs `script` with python3 after a prelude that defines `client(service,
    /// region="us-east-1")`, a boto3 client for this server with the test credentials (S3
    /// Control included, its account host prefix stripped). Returns what the script printed;
    /// an error holds its stderr when it fails.
    pub fn boto3(&self, script: &str) -> Result<String, String> {
        let program = format!("{BOTO3_PRELUDE}\n{script}");
        let output = Command::new("python3")
            .args(["-c", &program])
            .env("SOC2_MOTO_ENDPOINT", self.endpoint())
            .env("SOC2_MOTO_KEY_ID", ACCESS_KEY_ID)
            .env("SOC2_MOTO_SECRET", SECRET_ACCESS_KEY)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running python3 for a boto3 script: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "boto3 script failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Forgets everything the server holds (moto's `POST /moto-api/reset`).
    pub fn reset(&self) -> Result<(), String> {
        let (status, _, body) = self.request("POST", "/moto-api/reset", &[])?;
        if status != 200 {
            return Err(format!(
                "resetting moto: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(())
    }

    /// Creates `bucket`, with Object Lock enabled (and so versioning) when `object_lock`.
    pub fn create_bucket(&self, bucket: &str, object_lock: bool) -> Result<(), String> {
        let lock = [("x-amz-bucket-object-lock-enabled", "true")];
        let headers: &[(&str, &str)] = if object_lock { &lock } else { &[] };
        let (status, _, body) = self.request("PUT", &format!("/{bucket}"), headers)?;
        if status != 200 {
            return Err(format!(
                "creating bucket {bucket}: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(())
    }

    /// One request to moto, with an `Authorization` header naming [`ACCESS_KEY_ID`] (moto
    /// reads the account from it and checks no signature). Returns the status, the headers
    /// (names lower-cased) and the body.
    pub fn request(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Response, String> {
        let fail = |e: std::io::Error| format!("{method} {path_and_query} to moto: {e}");
        let mut stream =
            TcpStream::connect_timeout(&self.addr, Duration::from_secs(5)).map_err(fail)?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(fail)?;
        let mut head = format!(
            "{method} {path_and_query} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Content-Length: 0\r\nAuthorization: AWS4-HMAC-SHA256 \
             Credential={ACCESS_KEY_ID}/20260101/us-east-1/s3/aws4_request, \
             SignedHeaders=host, Signature=0\r\n",
            self.addr
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).map_err(fail)?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).map_err(fail)?;
        parse_response(&response, method == "HEAD")
            .ok_or_else(|| format!("{method} {path_and_query}: moto sent no valid HTTP response"))
    }
}

fn parse_response(raw: &[u8], head_only: bool) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = if head_only {
        Vec::new()
    } else {
        raw[split + 4..].to_vec()
    };
    Some((status, headers, body))
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boto3_scripts_reach_the_server_and_s3_control_works() {
        let Some(moto) = Moto::start() else { return };
        let out = moto
            .boto3(
                r#"
sc = client("s3control")
sc.put_public_access_block(AccountId="123456789012", PublicAccessBlockConfiguration={
    "BlockPublicAcls": True, "IgnorePublicAcls": True,
    "BlockPublicPolicy": True, "RestrictPublicBuckets": False})
print(sc.get_public_access_block(AccountId="123456789012")
      ["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"])
print(client("sts").get_caller_identity()["Account"])
"#,
            )
            .unwrap();
        assert_eq!(out, format!("False\n{ACCOUNT_ID}\n"));
        let err = moto.boto3("raise SystemExit(3)").unwrap_err();
        assert!(err.contains("exit status: 3"), "{err}");
        moto.reset().unwrap();
    }

    #[test]
    fn responses_are_parsed() {
        let raw = b"HTTP/1.1 404 NOT FOUND\r\nContent-Type: application/xml\r\nX-Amz-A: b\r\n\r\n<Error/>";
        let (status, headers, body) = parse_response(raw, false).unwrap();
        assert_eq!(status, 404);
        assert_eq!(headers[1], ("x-amz-a".to_string(), "b".to_string()));
        assert_eq!(body, b"<Error/>");
        assert!(parse_response(b"garbage", false).is_none());
    }
}
