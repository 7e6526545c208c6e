//! A local RFC 3161 time-stamp authority on 127.0.0.1, answered by the stock `openssl ts
//! -reply` with a throwaway CA and TSA certificate made when it starts.
//!
//! Tests and the demo time-stamp bundles against it; `openssl ts -verify` and our verifier
//! then check the tokens against its [`ca_pem`](LocalTsa::ca_pem). It speaks HTTP as public
//! TSAs do: `POST` an `application/timestamp-query`, get an `application/timestamp-reply`.
//! When `openssl` is missing, [`LocalTsa::start`] prints `skipped: ...` and returns `None`
//! (panics when [`REQUIRE_ENV`](crate::stock_tools::REQUIRE_ENV)`=1`).
//!
//! ```no_run
//! let Some(tsa) = soc2_sample::tsa::LocalTsa::start("Test TSA") else { return };
//! println!("POST time-stamp queries to {}", tsa.url());
//! let ca = std::fs::read(tsa.ca_pem()).unwrap();
//! assert!(ca.starts_with(b"-----BEGIN CERTIFICATE-----"));
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::stock_tools::{find, StockTool};

/// How the TSA answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Time-stamps every request.
    Grant,
    /// Answers HTTP 503, as an overloaded TSA does.
    Unavailable,
}

/// A running local TSA; stops when dropped.
#[derive(Debug)]
pub struct LocalTsa {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    openssl: PathBuf,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LocalTsa {
    /// Makes a CA and a TSA certificate named `name` and starts answering, or returns `None`
    /// when `openssl` is missing.
    #[track_caller]
    pub fn start(name: &str) -> Option<LocalTsa> {
        Self::start_with(name, Behaviour::Grant)
    }

    /// [`start`](Self::start), answering as `behaviour` says.
    #[track_caller]
    pub fn start_with(name: &str, behaviour: Behaviour) -> Option<LocalTsa> {
        let [openssl] = find([StockTool::Openssl])?;
        let dir = tempfile::tempdir().ok()?;
        if let Err(e) = make_pki(&openssl, dir.path(), name) {
            panic!(
                "making the local TSA's certificates with {}: {e}",
                openssl.display()
            );
        }
        let listener = TcpListener::bind("127.0.0.1:0").ok()?;
        let addr = listener.local_addr().ok()?;
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, answered) = (stop.clone(), answered.clone());
            let (openssl, root) = (openssl.clone(), dir.path().to_path_buf());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Ok(s) = stream {
                        let _ = serve(s, &openssl, &root, behaviour);
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        };
        Some(LocalTsa {
            addr,
            dir,
            openssl,
            stop,
            answered,
            thread: Some(thread),
        })
    }

    /// The URL to POST time-stamp queries to.
    pub fn url(&self) -> String {
        format!("http://{}/tsa", self.addr)
    }

    /// The CA certificate (PEM) that issued the TSA's certificate: the trust anchor.
    pub fn ca_pem(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// The TSA's own certificate (PEM), for `openssl ts -verify -untrusted`.
    pub fn tsa_pem(&self) -> PathBuf {
        self.dir.path().join("tsa.crt")
    }

    /// HTTP requests answered so far.
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }

    /// Answers one DER `TimeStampReq` directly, without HTTP.
    pub fn reply(&self, query: &[u8]) -> Result<Vec<u8>, String> {
        reply(&self.openssl, self.dir.path(), query)
    }
}

impl Drop for LocalTsa {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(openssl: &Path, dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new(openssl)
        .current_dir(dir)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A root CA, and a TSA certificate it signs with the critical timeStamping key usage that
/// RFC 3161 requires.
fn make_pki(openssl: &Path, dir: &Path, name: &str) -> Result<(), String> {
    let ca_subject = format!("/O=soc2-evidence tests/CN={name} Root CA");
    let tsa_subject = format!("/O=soc2-evidence tests/CN={name}");
    std::fs::write(
        dir.join("tsa-ext.cnf"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    )
    .map_err(|e| e.to_string())?;
    run(
        openssl,
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "3650",
            "-subj",
            &ca_subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    )?;
    run(
        openssl,
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "tsa.key",
            "-out",
            "tsa.csr",
            "-subj",
            &tsa_subject,
        ],
    )?;
    run(
        openssl,
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "tsa.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "tsa.crt",
            "-days",
            "3650",
            "-sha256",
            "-extfile",
            "tsa-ext.cnf",
        ],
    )?;
    std::fs::write(dir.join("serial"), "01\n").map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("tsa.cnf"),
        format!(
            "[ tsa ]\ndefault_tsa = tsa_config\n\n[ tsa_config ]\ndir = {}\nserial = $dir/serial\ncrypto_device = builtin\nsigner_cert = $dir/tsa.crt\ncerts = $dir/ca.crt\nsigner_key = $dir/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.3.6.1.4.1.55555.1\nother_policies = 1.3.6.1.4.1.55555.2\ndigests = sha256, sha384, sha512\naccuracy = secs:1\nordering = no\ntsa_name = yes\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n",
            dir.display()
        ),
    )
    .map_err(|e| e.to_string())
}

/// `openssl ts -reply` over one query. Requests are answered one at a time (the serial file).
fn reply(openssl: &Path, dir: &Path, query: &[u8]) -> Result<Vec<u8>, String> {
    // Distinct file names for replies made at once (the TSA answers tests in parallel).
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let q = dir.join(format!("q-{n}.tsq"));
    let r = dir.join(format!("r-{n}.tsr"));
    std::fs::write(&q, query).map_err(|e| e.to_string())?;
    let result = run(
        openssl,
        dir,
        &[
            "ts",
            "-reply",
            "-config",
            "tsa.cnf",
            "-queryfile",
            &q.display().to_string(),
            "-out",
            &r.display().to_string(),
        ],
    )
    .and_then(|()| std::fs::read(&r).map_err(|e| e.to_string()));
    let _ = std::fs::remove_file(&q);
    let _ = std::fs::remove_file(&r);
    result
}

fn serve(
    stream: TcpStream,
    openssl: &Path,
    dir: &Path,
    behaviour: Behaviour,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    reader.read_exact(&mut body)?;
    let mut out = stream;
    let (status, ctype, payload) = match behaviour {
        Behaviour::Unavailable => ("503 Service Unavailable", "text/plain", b"busy".to_vec()),
        Behaviour::Grant => match reply(openssl, dir, &body) {
            Ok(der) => ("200 OK", "application/timestamp-reply", der),
            Err(e) => ("500 Internal Server Error", "text/plain", e.into_bytes()),
        },
    };
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    )?;
    out.write_all(&payload)?;
    out.flush()
}

/// The README's stock recipe, run in an unzipped bag: `openssl ts -verify -data
/// tagmanifest-sha256.txt -in signatures/tagmanifest-sha256.txt.tsr -CAfile CA`. Returns
/// what openssl printed; an error when it did not say `Verification: OK`.
pub fn openssl_ts_verify(openssl: &Path, bag: &Path, ca: &Path) -> Result<String, String> {
    let o = Command::new(openssl)
        .current_dir(bag)
        .args([
            "ts",
            "-verify",
            "-data",
            "tagmanifest-sha256.txt",
            "-in",
            "signatures/tagmanifest-sha256.txt.tsr",
            "-CAfile",
        ])
        .arg(ca)
        .output()
        .map_err(|e| e.to_string())?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    if o.status.success() && said.contains("Verification: OK") {
        Ok(said)
    } else {
        Err(said)
    }
}
