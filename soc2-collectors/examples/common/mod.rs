//! Helpers shared by the benchmark examples: numbers from the environment and the process's
//! memory figures from `/proc/self/status`. A directory inside `examples/` is not built as an
//! example of its own; each benchmark includes this file with `mod common;`.

/// The environment variable `name` as a number, or `default` when it is unset or not a number.
pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A memory figure of this process from `/proc/self/status`, in KiB: `field` names the line
/// with its colon, e.g. `"VmHWM:"` (peak resident set size) or `"VmRSS:"`. `None` where the
/// file or the line cannot be read (not Linux).
pub fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak resident set size of this process (VmHWM), in MiB; NaN where it cannot be read.
#[allow(dead_code)] // Only the benchmarks that print MiB use it.
pub fn peak_rss_mib() -> f64 {
    proc_status_kib("VmHWM:").map_or(f64::NAN, |kb| kb as f64 / 1024.0)
}

/// The benchmark's fake server, run as a child process (this same program with `serve_env`
/// set) so the parent's peak RSS is the collector's alone. The child prints `URL <base>`,
/// serves until its stdin closes, then prints `NAME value` lines for the parent to read.
#[allow(dead_code)] // Only the benchmarks with a child server use it.
pub struct ServerProcess {
    child: std::process::Child,
    out: std::io::BufReader<std::process::ChildStdout>,
    /// The child server's base URL.
    pub base_url: String,
}

#[allow(dead_code)]
impl ServerProcess {
    /// Starts this program again with `serve_env=1` and waits for its `URL` line.
    pub fn spawn(serve_env: &str) -> Self {
        use std::io::BufRead;
        let exe = std::env::current_exe().expect("path of this benchmark");
        let mut child = std::process::Command::new(exe)
            .env(serve_env, "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the server process");
        let mut out = std::io::BufReader::new(child.stdout.take().expect("server stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("read the server URL");
        let base_url = line
            .trim()
            .strip_prefix("URL ")
            .expect("server URL")
            .to_string();
        Self {
            child,
            out,
            base_url,
        }
    }

    /// Closes the child's stdin, waits for it, and returns what it reported.
    pub fn finish(mut self) -> ServerReport {
        use std::io::Read;
        drop(self.child.stdin.take());
        let mut rest = String::new();
        self.out
            .read_to_string(&mut rest)
            .expect("read the server report");
        let _ = self.child.wait();
        ServerReport(rest)
    }
}

/// What the child server printed after it stopped.
#[allow(dead_code)]
pub struct ServerReport(String);

#[allow(dead_code)]
impl ServerReport {
    /// The value after `name` (which includes its trailing space), or "" when absent.
    pub fn field(&self, name: &str) -> String {
        self.0
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    }
}

/// Child side: announces the URL, then blocks until the parent closes stdin.
#[allow(dead_code)]
pub async fn announce_and_wait(base_url: &str) {
    use std::io::{Read, Write};
    println!("URL {base_url}");
    std::io::stdout().flush().expect("flush stdout");
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
    })
    .await
    .expect("stdin watcher");
}
