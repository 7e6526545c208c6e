//! The `soc2-evidence` command-line tool: the full CLI over the built-in collector modules.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::process::ExitCode;

fn main() -> ExitCode {
    soc2_evidence::cli::main_with(soc2_evidence::collectors::registry())
}
