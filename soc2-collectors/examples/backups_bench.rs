//! Throughput and memory of the restic run-log parser.
//!
//! Generates `BENCH_MB` (default 1024) MiB of realistic `restic backup --json` run logs in a
//! temporary directory — mostly `status` lines, with `error`, `summary` and `exit_error` lines
//! and shell noise — then reads them through the backup collector's source reader and prints
//! MB/s and the peak resident set size (VmHWM). Run it in release mode:
//!
//! ```text
//! BENCH_MB=1024 cargo run --release -p soc2-collectors --example backups_bench
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Instant;

use soc2_collectors::backups::{read_source, BackupsConfig};

mod common;

use common::{env_num, proc_status_kib};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mb = env_num("BENCH_MB", 1024);
    let target = mb * 1024 * 1024;
    let dir = tempfile::tempdir()?;
    let files = 8u64;
    let per_file = target / files;
    let gen_started = Instant::now();
    let mut written = 0u64;
    let mut runs = 0u64;
    for f in 0..files {
        let path = dir.path().join(format!("backup-2026-03-{:02}.log", f + 1));
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        let mut in_file = 0u64;
        let mut i = 0u64;
        w.write_all(b"+ restic backup --json /var/lib/postgresql\n")?;
        while in_file < per_file {
            i += 1;
            let line = if i % 2_000 == 0 {
                runs += 1;
                let day = (runs % 28) + 1;
                if runs % 10 == 0 {
                    "{\"message_type\":\"exit_error\",\"code\":11,\"message\":\"Fatal: unable to create lock in backend: repository is already locked\"}\n".to_string()
                } else {
                    format!(
                        "{{\"message_type\":\"summary\",\"files_new\":2,\"files_changed\":14,\"files_unmodified\":1187,\"dirs_new\":0,\"dirs_changed\":3,\"dirs_unmodified\":212,\"data_blobs\":31,\"tree_blobs\":4,\"data_added\":48211934,\"data_added_packed\":20117004,\"total_files_processed\":1203,\"total_bytes_processed\":524288000,\"total_duration\":191.2,\"backup_start\":\"2026-03-{day:02}T00:30:02.000000123+01:00\",\"backup_end\":\"2026-03-{day:02}T00:33:13.000000456+01:00\",\"snapshot_id\":\"{runs:064x}\"}}\n"
                    )
                }
            } else if i % 700 == 0 {
                "{\"message_type\":\"error\",\"error\":{\"message\":\"open /var/lib/postgresql/16/main/pg_stat_tmp/global.stat: permission denied\"},\"during\":\"archival\",\"item\":\"/var/lib/postgresql/16/main/pg_stat_tmp/global.stat\"}\n".to_string()
            } else if i % 7_919 == 0 {
                "Warning: at least one source file could not be read\n".to_string()
            } else {
                format!(
                    "{{\"message_type\":\"status\",\"seconds_elapsed\":{i},\"seconds_remaining\":120,\"percent_done\":0.{:06},\"total_files\":1203,\"files_done\":{},\"total_bytes\":524288000,\"bytes_done\":{},\"current_files\":[\"/var/lib/postgresql/16/main/base/16384/2619\"]}}\n",
                    i % 1_000_000,
                    i % 1203,
                    i * 4096
                )
            };
            w.write_all(line.as_bytes())?;
            in_file += line.len() as u64;
        }
        w.flush()?;
        written += in_file;
    }
    eprintln!(
        "generated {:.0} MiB in {} files in {:.1}s",
        written as f64 / 1048576.0,
        files,
        gen_started.elapsed().as_secs_f64()
    );
    let rss_before = proc_status_kib("VmHWM:");

    let config: BackupsConfig = toml::from_str(&format!(
        "[[source]]\nname = \"bench\"\nformat = \"restic\"\npath = \"{}/*.log\"\n",
        dir.path().display()
    ))?;
    let window = (
        chrono::DateTime::<chrono::Utc>::MIN_UTC,
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
    );
    let started = Instant::now();
    // The path is absolute, so it is the glob as it stands (nothing to resolve against).
    let outcome = read_source(&config.source[0], &config.source[0].path, window);
    let secs = started.elapsed().as_secs_f64();
    if let Some((at, why)) = &outcome.failure {
        return Err(format!("{at}: {why}").into());
    }
    let bytes: u64 = outcome.record.files.iter().map(|f| f.bytes).sum();
    let lines: u64 = outcome.record.files.iter().map(|f| f.lines).sum();
    let mb_s = bytes as f64 / 1_000_000.0 / secs;
    println!(
        "parsed {:.0} MB ({lines} lines, {} runs) in {secs:.2}s: {mb_s:.0} MB/s",
        bytes as f64 / 1_000_000.0,
        outcome.jobs.len()
    );
    println!(
        "peak RSS (VmHWM): {} KiB after generating, {} KiB after parsing",
        rss_before.unwrap_or(0),
        proc_status_kib("VmHWM:").unwrap_or(0)
    );
    Ok(())
}
