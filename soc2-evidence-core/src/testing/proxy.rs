//! A fault-injecting HTTP/1.1 proxy on 127.0.0.1, put between a collector and its fixture
//! server so the suite can break one request half-way through a collection without knowing
//! anything about the API.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// A failure the proxy injects from the armed request on.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and a small JSON error body.
    Status(u16),
    /// Accept the request and never answer.
    Hang,
    /// Send the headers and half of the body, then close the connection.
    TruncatedBody,
    /// Cancel this token when the request arrives, then answer normally.
    Cancel(CancellationToken),
}

impl Fault {
    /// A short name for directories.
    pub fn slug(&self) -> String {
        match self {
            Fault::Status(s) => format!("status-{s}"),
            Fault::Hang => "hang".into(),
            Fault::TruncatedBody => "truncated".into(),
            Fault::Cancel(_) => "cancel".into(),
        }
    }

    /// What it does, in words.
    pub fn describe(&self) -> String {
        match self {
            Fault::Status(s) => format!("HTTP {s}"),
            Fault::Hang => "a hang".into(),
            Fault::TruncatedBody => "a truncated body".into(),
            Fault::Cancel(_) => "cancellation".into(),
        }
    }
}

#[derive(Default)]
struct State {
    requests: usize,
    armed: Option<(Fault, usize)>,
    /// Path (without query) of the first request the armed fault hit.
    faulted: Option<String>,
}

pub(super) struct Proxy {
    url: String,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl Proxy {
    pub(super) async fn start(upstream: &str) -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("proxy: bind 127.0.0.1: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("proxy: local address: {e}"))?;
        let url = format!("http://{addr}");
        let state = Arc::new(Mutex::new(State::default()));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("proxy: client: {e}"))?;
        let shared = Shared {
            upstream: upstream.to_string(),
            me: url.clone(),
            client,
            state: state.clone(),
        };
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = shared.serve(stream).await;
                });
            }
        });
        Ok(Self { url, state })
    }

    pub(super) fn url(&self) -> String {
        self.url.clone()
    }

    /// Requests forwarded since the start (or the last `arm`).
    pub(super) fn requests(&self) -> usize {
        lock(&self.state).requests
    }

    /// From the `at`-th request on (1-based, counted from now), inject `fault`.
    pub(super) fn arm(&self, fault: Fault, at: usize) {
        let mut s = lock(&self.state);
        s.requests = 0;
        s.faulted = None;
        s.armed = Some((fault, at));
    }

    /// Stops injecting; returns the endpoint the fault hit first, if it hit any.
    pub(super) fn disarm(&self) -> Option<String> {
        let mut s = lock(&self.state);
        s.armed = None;
        s.faulted.take()
    }
}

#[derive(Clone)]
struct Shared {
    upstream: String,
    me: String,
    client: reqwest::Client,
    state: Arc<Mutex<State>>,
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn read_request(stream: &mut BufReader<TcpStream>) -> Result<Option<Request>, String> {
    let mut line = String::new();
    if stream
        .read_line(&mut line)
        .await
        .map_err(|e| e.to_string())?
        == 0
    {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(format!("bad request line {line:?}"));
    };
    let (method, target) = (method.to_string(), target.to_string());
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        line.clear();
        stream
            .read_line(&mut line)
            .await
            .map_err(|e| e.to_string())?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            if k.eq_ignore_ascii_case("content-length") {
                length = v.parse().map_err(|_| format!("bad content-length {v:?}"))?;
            }
            headers.push((k, v));
        }
        if headers.len() > 200 {
            return Err("too many headers".into());
        }
    }
    let mut body = vec![0; length];
    stream
        .read_exact(&mut body)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}

impl Shared {
    async fn serve(self, stream: TcpStream) -> Result<(), String> {
        let mut stream = BufReader::new(stream);
        let Some(req) = read_request(&mut stream).await? else {
            return Ok(());
        };
        let path = req.target.split('?').next().unwrap_or_default().to_string();
        let fault = {
            let mut s = lock(&self.state);
            s.requests += 1;
            let n = s.requests;
            match &s.armed {
                Some((fault, at)) if n >= *at => {
                    let f = fault.clone();
                    if s.faulted.is_none() {
                        s.faulted = Some(path.clone());
                    }
                    Some(f)
                }
                _ => None,
            }
        };
        let out = stream.get_mut();
        match fault {
            Some(Fault::Status(status)) => {
                let body = format!("{{\"error\":\"injected {status} by the conformance suite\"}}");
                write_response(
                    out,
                    status,
                    &[("content-type", "application/json")],
                    body.as_bytes(),
                    None,
                )
                .await
            }
            Some(Fault::Hang) => {
                // Hold the connection; the collector's timeout must notice.
                tokio::time::sleep(Duration::from_secs(600)).await;
                Ok(())
            }
            Some(Fault::TruncatedBody) => {
                let (status, headers, body) = self.forward(&req).await?;
                let refs: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let cut = body.len() / 2;
                write_response(out, status, &refs, &body, Some(cut)).await
            }
            Some(Fault::Cancel(token)) => {
                token.cancel();
                self.relay(&req, out).await
            }
            None => self.relay(&req, out).await,
        }
    }

    async fn relay(&self, req: &Request, out: &mut TcpStream) -> Result<(), String> {
        let (status, headers, body) = self.forward(req).await?;
        let refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        write_response(out, status, &refs, &body, None).await
    }

    async fn forward(
        &self,
        req: &Request,
    ) -> Result<(u16, Vec<(String, String)>, Vec<u8>), String> {
        let method =
            reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|e| e.to_string())?;
        let mut r = self
            .client
            .request(method, format!("{}{}", self.upstream, req.target))
            .body(req.body.clone());
        for (k, v) in &req.headers {
            if !is_hop_header(k) && !k.eq_ignore_ascii_case("host") {
                r = r.header(k.as_str(), v.as_str());
            }
        }
        let resp = r.send().await.map_err(|e| format!("proxy upstream: {e}"))?;
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .filter(|(k, _)| !is_hop_header(k.as_str()))
            .map(|(k, v)| {
                let v = String::from_utf8_lossy(v.as_bytes()).replace(&self.upstream, &self.me);
                (k.as_str().to_string(), v)
            })
            .collect();
        let body = resp
            .bytes()
            .await
            .map_err(|e| format!("proxy upstream body: {e}"))?;
        // Absolute links (Link headers, `next` URLs in bodies) must lead back through us.
        let body = match std::str::from_utf8(&body) {
            Ok(text) if text.contains(&self.upstream) => {
                text.replace(&self.upstream, &self.me).into_bytes()
            }
            _ => body.to_vec(),
        };
        Ok((status, headers, body))
    }
}

fn is_hop_header(name: &str) -> bool {
    [
        "connection",
        "content-length",
        "transfer-encoding",
        "keep-alive",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

async fn write_response(
    out: &mut TcpStream,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    cut_at: Option<usize>,
) -> Result<(), String> {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let io = |e: std::io::Error| e.to_string();
    out.write_all(head.as_bytes()).await.map_err(io)?;
    out.write_all(&body[..cut_at.unwrap_or(body.len())])
        .await
        .map_err(io)?;
    out.flush().await.map_err(io)?;
    out.shutdown().await.map_err(io)
}
