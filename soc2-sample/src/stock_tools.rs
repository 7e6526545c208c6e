//! The stock command-line tools that end-to-end tests check bundles and reports with.
//!
//! `cargo test --workspace` must pass on a machine with only a Rust toolchain and a C compiler,
//! so a missing tool skips the part of a test that needs it and says what to install. CI sets
//! [`REQUIRE_ENV`]`=1`: there a missing tool fails the test, because a skipped check proves
//! nothing.
//!
//! ```
//! use soc2_sample::stock_tools::{self, StockTool};
//!
//! if let Some([sha256sum]) = stock_tools::find([StockTool::Sha256sum]) {
//!     assert!(sha256sum.ends_with("sha256sum"));
//! }
//! ```

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Set to `1` to make a missing stock tool fail the test instead of skipping it.
pub const REQUIRE_ENV: &str = "SOC2_REQUIRE_STOCK_TOOLS";

/// A stock tool a test runs, and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockTool {
    /// `unzip`.
    Unzip,
    /// `ssh-keygen`, for `-Y verify` and `-Y sign`.
    SshKeygen,
    /// `sha256sum`, for `-c --strict` over the manifests.
    Sha256sum,
    /// Debian's headless Chromium, which renders the auditor's report.
    Chromium,
    /// The Library of Congress BagIt validator.
    BagitPy,
    /// compliance-trestle's `trestle`, which validates OSCAL documents (the 3.x line reads
    /// OSCAL 1.1).
    Trestle,
    /// `openssl`, whose `ts` command answers and verifies RFC 3161 time-stamps.
    Openssl,
}

impl StockTool {
    /// The command looked up on `PATH`.
    pub fn command(self) -> &'static str {
        match self {
            StockTool::Unzip => "unzip",
            StockTool::SshKeygen => "ssh-keygen",
            StockTool::Sha256sum => "sha256sum",
            StockTool::Chromium => "chromium",
            StockTool::BagitPy => "bagit.py",
            StockTool::Trestle => "trestle",
            StockTool::Openssl => "openssl",
        }
    }

    /// The package that provides it: a Debian package, or one from PyPI.
    pub fn package(self) -> &'static str {
        match self {
            StockTool::Unzip => "unzip",
            StockTool::SshKeygen => "openssh-client",
            StockTool::Sha256sum => "coreutils",
            StockTool::Chromium => "chromium",
            StockTool::BagitPy => "bagit from PyPI",
            StockTool::Trestle => "compliance-trestle>=3.12,<4 from PyPI",
            StockTool::Openssl => "openssl",
        }
    }
}

/// Finds every tool on `PATH` and returns their paths in order.
///
/// When any is missing it prints `skipped: <tool> not found (install <package>)` to stderr for
/// each and returns `None`, so the caller skips that part; with [`REQUIRE_ENV`]`=1` it panics
/// with the same words instead.
#[track_caller]
pub fn find<const N: usize>(tools: [StockTool; N]) -> Option<[PathBuf; N]> {
    let missing = match resolve(&tools, std::env::var_os("PATH").as_deref()) {
        Ok(paths) => return paths.try_into().ok(),
        Err(missing) => missing,
    };
    if std::env::var(REQUIRE_ENV).as_deref() == Ok("1") {
        panic!(
            "{REQUIRE_ENV}=1 and a stock tool is missing: {}",
            missing.join("; ")
        );
    }
    // Straight to stderr, not eprintln!: the test harness captures eprintln! of a passing test,
    // and a skip nobody sees looks like a pass.
    let mut stderr = std::io::stderr().lock();
    for m in missing {
        let _ = writeln!(stderr, "skipped: {m}");
    }
    None
}

/// Every tool's path, or what is missing and how to get it.
fn resolve(tools: &[StockTool], path: Option<&OsStr>) -> Result<Vec<PathBuf>, Vec<String>> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for tool in tools {
        match path.and_then(|p| on_path(p, tool.command())) {
            Some(p) => found.push(p),
            None => missing.push(format!(
                "{} not found (install {})",
                tool.command(),
                tool.package()
            )),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(missing)
    }
}

fn on_path(path: &OsStr, command: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(command))
        .find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tools_say_what_to_install() {
        let missing = resolve(
            &[StockTool::Unzip, StockTool::BagitPy],
            Some(OsStr::new("/nonexistent-soc2-stock-tools")),
        );
        assert_eq!(
            missing,
            Err(vec![
                "unzip not found (install unzip)".to_string(),
                "bagit.py not found (install bagit from PyPI)".to_string(),
            ])
        );
        assert!(resolve(&[StockTool::Sha256sum], None).is_err());
        assert_eq!(resolve(&[], None), Ok(vec![]));
    }
}
