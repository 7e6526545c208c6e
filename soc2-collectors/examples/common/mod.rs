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
