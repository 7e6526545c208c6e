//! What the CLI tests share: the binary, shell-script collectors, and readable failures.
#![allow(dead_code, clippy::unwrap_used)]

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// The `soc2-evidence` binary, with no log filter and no clock override inherited.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_soc2-evidence"));
    c.env_remove("RUST_LOG").env_remove("SOC2_EVIDENCE_NOW");
    c
}

/// Writes an executable `#!/bin/sh` script `name` into `dir`.
pub fn script(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A command's status, stdout and stderr, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs `c` and returns its stdout; panics with the whole output when it fails.
pub fn ok(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// Writes `soc2.toml` for Acme Corp with `extra` sections and one command collector `laptops`
/// running `./hosts.sh` (written from `script_body`, records keyed by `serial`), and a signing
/// key `key`.
pub fn laptops_config(dir: &Path, script_body: &str, extra: &str) {
    script(dir, "hosts.sh", script_body);
    fs::write(
        dir.join("soc2.toml"),
        format!("[organization]\nname = \"Acme Corp\"\n{extra}[[command]]\nname = \"laptops\"\nprogram = \"{}\"\nkind = \"mdm.laptop\"\nsubject_field = \"serial\"\ncriteria = [\"CC6.1\"]\n", dir.join("hosts.sh").display()),
    )
    .unwrap();
    ok(bin()
        .current_dir(dir)
        .args(["-q", "keygen", "--out", "key"]));
}

/// `collect` of `soc2.toml` for 2026-01-01..2026-06-30 into `dir/out`.
pub fn collect_run(dir: &Path, out: &str) {
    ok(bin().current_dir(dir).args([
        "-q",
        "collect",
        "-c",
        "soc2.toml",
        "-p",
        "2026-01-01..2026-06-30",
        "-o",
        out,
    ]));
}
