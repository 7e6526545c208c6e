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
