//! Throughput benchmark: bundle and verify a ~1 GiB payload of 1,000 JSON Lines files, beside
//! `zip -qr` + `sha256sum` over the same files, with peak RSS.
//!
//! ```text
//! cargo run --release -p soc2-bundle --example bundle_bench            # 1 GiB
//! BENCH_MB=20 cargo run --release -p soc2-bundle --example bundle_bench # quick (CI)
//! ```
//!
//! Environment: `BENCH_MB` (payload size, default 1024), `BENCH_FILES` (default 1000),
//! `BENCH_COMPRESSION` (`deflate1` default, `stored`, `deflate6`), `BENCH_THREADS` (verify
//! threads, 0 = all cores), `BENCH_DIR` (where the temporary files go), `BENCH_KEEP=1` (keep them). Bundle and verify run in child processes of this example so each
//! reports its own peak RSS (VmHWM).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use soc2_bundle::{
    build_bundle, verify_bundle, BundleMetadata, BundleOptions, Compression, SigningKey,
    TrustedKey, VerifyOptions,
};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn vm_hwm_kib() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn options() -> BundleOptions {
    let compression = match std::env::var("BENCH_COMPRESSION").as_deref() {
        Ok("stored") => Compression::Stored,
        Ok("deflate6") => Compression::Deflated { level: 6 },
        _ => Compression::Deflated { level: 1 },
    };
    BundleOptions {
        compression,
        ..BundleOptions::default()
    }
}

fn meta() -> BundleMetadata {
    BundleMetadata {
        organization: "Bench Corp".into(),
        period_start: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        period_end: chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        collected_at: "2026-07-01T00:00:00Z".parse().unwrap(),
        external_identifier: None,
        previous_bundle_sha256: None,
        extra_info: Vec::new(),
    }
}

/// xorshift64*: deterministic, fast, good enough for payload generation.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Writes run.json and `files` JSON Lines files totalling about `total` bytes, in four
/// collector folders, sizes spread log-uniformly (a few large populations, many small ones).
fn generate(run: &Path, total: u64, files: u64) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let collectors = ["okta", "github", "jira", "backups"];
    for c in collectors {
        fs::create_dir_all(run.join(c)).unwrap();
    }
    fs::write(
        run.join("run.json"),
        r#"{"status":"complete","tool_version":"bench"}"#,
    )
    .unwrap();
    // Log-uniform weights between 1 and 1000, scaled to the total.
    let weights: Vec<f64> = (0..files)
        .map(|_| 10f64.powf((rng.next() % 3000) as f64 / 1000.0))
        .collect();
    let sum: f64 = weights.iter().sum();
    let statuses = ["ACTIVE", "SUSPENDED", "DEPROVISIONED", "STAGED"];
    let factors = ["push", "totp", "webauthn", "sms"];
    let mut line = Vec::with_capacity(512);
    for (i, w) in weights.iter().enumerate() {
        let size = ((w / sum) * total as f64) as u64;
        let c = collectors[i % collectors.len()];
        let path = run.join(c).join(format!("population-{i:04}.jsonl"));
        let mut f = std::io::BufWriter::with_capacity(1 << 20, fs::File::create(path).unwrap());
        let mut written = 0u64;
        while written < size.max(1) {
            line.clear();
            let r = rng.next();
            writeln!(
                line,
                "{{\"id\":\"00u{:016x}\",\"login\":\"user{}@bench.example\",\"status\":\"{}\",\"created\":\"2026-{:02}-{:02}T{:02}:{:02}:{:02}Z\",\"mfa\":[\"{}\"],\"sha\":\"{:016x}{:016x}\",\"groups\":[\"eng-{}\",\"all\"]}}",
                rng.next(),
                r % 100_000,
                statuses[(r >> 20) as usize % 4],
                1 + (r >> 24) % 12,
                1 + (r >> 28) % 28,
                (r >> 33) % 24,
                (r >> 38) % 60,
                (r >> 44) % 60,
                factors[(r >> 50) as usize % 4],
                rng.next(),
                rng.next(),
                (r >> 54) % 40,
            )
            .unwrap();
            f.write_all(&line).unwrap();
            written += line.len() as u64;
        }
        f.flush().unwrap();
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn timed(label: &str, cmd: &mut Command) -> f64 {
    let t = Instant::now();
    let st = cmd.status().unwrap_or_else(|e| panic!("{label}: {e}"));
    assert!(st.success(), "{label} failed");
    t.elapsed().as_secs_f64()
}

/// Runs this example as a child for one phase; returns (seconds, peak RSS KiB).
fn child(phase: &str, args: &[&Path]) -> (f64, u64) {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe).arg(phase).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{phase}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8_lossy(&out.stdout);
    let mut it = s.split_whitespace();
    let secs: f64 = it.next().unwrap().parse().unwrap();
    let hwm: u64 = it.next().unwrap().parse().unwrap();
    (secs, hwm)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--child-bundle") => {
            let key = SigningKey::load(Path::new(&args[4]), None).unwrap();
            let t = Instant::now();
            build_bundle(
                Path::new(&args[2]),
                &key,
                &meta(),
                Path::new(&args[3]),
                &options(),
            )
            .unwrap();
            println!("{} {}", t.elapsed().as_secs_f64(), vm_hwm_kib());
            return;
        }
        Some("--child-verify") => {
            let trust = TrustedKey::from_file(Path::new(&args[3])).unwrap();
            let opts = VerifyOptions {
                threads: env_u64("BENCH_THREADS", 0) as usize,
                ..Default::default()
            };
            let t = Instant::now();
            let r = verify_bundle(Path::new(&args[2]), &trust, &opts).unwrap();
            assert!(r.is_ok(), "{r}");
            println!("{} {}", t.elapsed().as_secs_f64(), vm_hwm_kib());
            return;
        }
        _ => {}
    }

    let mb = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| env_u64("BENCH_MB", 1024));
    let nfiles = env_u64("BENCH_FILES", 1000);
    let tmp = tempfile::tempdir_in(
        std::env::var("BENCH_DIR").unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
    )
    .unwrap();
    let run = tmp.path().join("run");
    let t = Instant::now();
    generate(&run, mb << 20, nfiles);
    let mut files = Vec::new();
    files_under(&run, &mut files);
    files.sort();
    let payload: u64 = files.iter().map(|f| fs::metadata(f).unwrap().len()).sum();
    let mib = payload as f64 / (1024.0 * 1024.0);
    println!(
        "payload: {} files, {:.1} MiB (generated in {:.1}s), compression {:?}, {} cores",
        files.len(),
        mib,
        t.elapsed().as_secs_f64(),
        options().compression,
        std::thread::available_parallelism().map_or(1, usize::from)
    );

    // Warm the page cache so every contender reads from memory alike.
    let _ = Command::new("cat")
        .args(&files)
        .stdout(std::process::Stdio::null())
        .status();

    let key_path = tmp.path().join("bench-key");
    SigningKey::generate().write(&key_path).unwrap();
    let pub_path = soc2_bundle::pub_path(&key_path);
    let zip_out = tmp.path().join("bundle.zip");

    let (b_secs, b_hwm) = child("--child-bundle", &[&run, &zip_out, &key_path]);
    let (v_secs, v_hwm) = child("--child-verify", &[&zip_out, &pub_path]);
    let zip_size = fs::metadata(&zip_out).unwrap().len();

    let stock_zip = tmp.path().join("stock.zip");
    let z_secs = timed(
        "zip -qr",
        Command::new("zip")
            .arg("-qr")
            .arg(&stock_zip)
            .arg("run")
            .current_dir(tmp.path()),
    );
    let stock_size = fs::metadata(&stock_zip).unwrap().len();
    let s_secs = timed(
        "sha256sum",
        Command::new("sha256sum")
            .args(&files)
            .stdout(std::process::Stdio::null()),
    );

    println!();
    println!(
        "{:<34}{:>9}{:>11}{:>12}",
        "", "seconds", "MiB/s", "peak RSS"
    );
    println!(
        "{:<34}{:>9.2}{:>11.0}{:>9.1} MB   archive {:.0} MiB",
        "soc2-bundle build",
        b_secs,
        mib / b_secs,
        b_hwm as f64 / 1024.0,
        zip_size as f64 / 1048576.0
    );
    println!(
        "{:<34}{:>9.2}{:>11.0}{:>9.1} MB",
        "soc2-bundle verify",
        v_secs,
        mib / v_secs,
        v_hwm as f64 / 1024.0
    );
    println!(
        "{:<34}{:>9.2}{:>11.0}              archive {:.0} MiB",
        "zip -qr (level 6)",
        z_secs,
        mib / z_secs,
        stock_size as f64 / 1048576.0
    );
    println!("{:<34}{:>9.2}{:>11.0}", "sha256sum", s_secs, mib / s_secs);
    println!(
        "{:<34}{:>9.2}{:>11.0}",
        "zip -qr + sha256sum",
        z_secs + s_secs,
        mib / (z_secs + s_secs)
    );
    println!();
    let bundle_ok = b_secs <= (z_secs + s_secs) / 2.0;
    let verify_ok = v_secs <= s_secs;
    let rss_ok = b_hwm < 100 * 1024 && v_hwm < 100 * 1024;
    println!(
        "targets: build <= half of zip+sha256sum: {} ({:.2}s vs {:.2}s); verify <= sha256sum: {} ({:.2}s vs {:.2}s); peak RSS < 100 MB: {}",
        if bundle_ok { "MET" } else { "MISSED" },
        b_secs,
        (z_secs + s_secs) / 2.0,
        if verify_ok { "MET" } else { "MISSED" },
        v_secs,
        s_secs,
        if rss_ok { "MET" } else { "MISSED" },
    );
    if std::env::var("BENCH_KEEP").as_deref() == Ok("1") {
        println!("kept {}", tmp.keep().display());
    }
}
