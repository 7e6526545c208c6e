//! Command-line parsing and dispatch (DESIGN §7, a contract).

mod bundle;
mod check;
mod collect;
#[cfg(feature = "demo")]
mod demo;
#[cfg(feature = "demo")]
mod demo_ledger;
mod diff;
mod error;
mod keys;
pub mod ledger;
mod progress;
mod sample;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use soc2_evidence_core::Registry;

pub use error::CliError;

/// Exit status when everything worked.
pub const EXIT_OK: u8 = 0;
/// Exit status when a collector failed or verification found problems.
pub const EXIT_FAILED: u8 = 1;
/// Exit status for bad usage, an invalid config or unreadable input.
pub const EXIT_USAGE: u8 = 2;

/// Runs the whole command-line tool with the collector modules in `registry`: parses the
/// command line, sets up logging, runs the command and maps the outcome to an exit status.
///
/// A plugin crate builds its own binary with the full CLI by registering its module next to
/// the built-in ones:
///
/// ```no_run
/// # use soc2_evidence::core::Registry;
/// # fn my_module() -> Registry { Registry::new() }
/// fn main() -> std::process::ExitCode {
///     let registry = soc2_evidence::collectors::registry(); // .with(MyModule)
///     soc2_evidence::cli::main_with(registry)
/// }
/// ```
pub fn main_with(registry: Registry) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    ExitCode::from(runtime.block_on(run_args(registry, std::env::args_os())))
}

/// Runs the CLI on `args` (the first is the program name) inside an async runtime and
/// returns the exit status; errors are printed on stderr. `--help` and usage errors print
/// clap's text and return its status.
pub async fn run_args<I, T>(registry: Registry, args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    init_logging(&cli);
    // A malformed clock override is a usage error, never a silently real clock.
    if let Err(e) = soc2_evidence_core::clock::override_from_env() {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    #[cfg(feature = "demo")]
    let is_demo = matches!(cli.command, Command::Demo { .. });
    #[cfg(not(feature = "demo"))]
    let is_demo = false;
    #[cfg(feature = "demo")]
    if is_demo {
        // Reported by the demo itself; it must come before anything reads the clock.
        let _ = demo::pin_clock();
    }
    if let Some(t) = soc2_evidence_core::clock::overridden() {
        if !cli.quiet && !is_demo {
            eprintln!(
                "note: the clock is overridden: now is {t} ({})",
                soc2_evidence_core::clock::NOW_ENV
            );
        }
    }
    match run(cli, &registry).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// Collect SOC 2 audit evidence, test controls, and build a signed bundle for the auditor.
#[derive(Debug, Parser)]
#[command(name = "soc2-evidence", version, about, long_about = None)]
pub struct Cli {
    /// Print only errors (no progress, no summary).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect evidence for a period into a new run directory, then run the checks; or, with
    /// --ledger, one incremental run sealed into a ledger.
    Collect {
        /// The config file (TOML).
        #[arg(long, short)]
        config: PathBuf,
        /// The audit period, START..END, e.g. 2026-01-01..2026-06-30.
        #[arg(
            long,
            short,
            required_unless_present = "ledger",
            conflicts_with = "ledger"
        )]
        period: Option<String>,
        /// The run directory to create (must not exist or be empty).
        #[arg(
            long,
            short,
            required_unless_present = "ledger",
            conflicts_with = "ledger"
        )]
        out: Option<PathBuf>,
        /// Append one incremental run to this ledger: a directory or s3://bucket/prefix.
        /// Each collector continues from its last successful run.
        #[arg(long, requires = "key")]
        ledger: Option<String>,
        /// The signing key for the ledger's run bundles (OpenSSH Ed25519).
        #[arg(long, short, requires = "ledger")]
        key: Option<PathBuf>,
        /// The first day of a new ledger (later runs ignore it).
        #[arg(long, requires = "ledger")]
        since: Option<String>,
        /// Print the run summary (run.json) as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Inspect or maintain a ledger of incremental runs.
    Ledger {
        /// What to do with it.
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Assemble a run directory for a period from a ledger, then run every check over the
    /// whole period and every observed version of state.
    Period {
        /// The ledger: a directory or s3://bucket/prefix.
        #[arg(long)]
        ledger: String,
        /// The period, START..END, e.g. 2026-01-01..2026-06-30.
        #[arg(long, short)]
        period: String,
        /// The run directory to create (must not exist or be empty).
        #[arg(long, short)]
        out: PathBuf,
        /// Pin the ledger's key (the key it started with; a .pub or allowed_signers file).
        #[arg(long)]
        pubkey: Option<PathBuf>,
        /// The TSA's CA certificate(s), PEM: every run must carry an RFC 3161 time-stamp that
        /// verifies against it, and its time becomes the run's proven collection time.
        #[arg(long)]
        tsa_ca: Option<PathBuf>,
        /// Print the summary as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Re-run the checks over an existing run directory and rewrite findings.jsonl.
    Check {
        /// The run directory.
        dir: PathBuf,
        /// Config file for check settings; without it the run's saved config.json is used,
        /// which reproduces the run's findings exactly.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Print the findings counts as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Write the auditor's report into a run directory and pack it into a signed bundle.
    Bundle {
        /// The run directory (its run.json must say `complete`).
        dir: PathBuf,
        /// The OpenSSH Ed25519 private key to sign with (from `keygen` or `ssh-keygen -t ed25519`;
        /// a passphrase comes from SOC2_EVIDENCE_KEY_PASSPHRASE).
        #[arg(long, short)]
        key: PathBuf,
        /// The zip file to write (written to a temporary file and renamed when complete).
        #[arg(long = "out", short = 'o')]
        out: PathBuf,
        /// The previous bundle, whose SHA-256 is recorded to chain the bundles; the report
        /// also lists what changed since it.
        #[arg(long)]
        previous: Option<PathBuf>,
        /// Time-stamp the tag manifest at this RFC 3161 time-stamp authority (default: the
        /// run's `[bundle] tsa_url`). If it fails, no bundle is written.
        #[arg(long)]
        tsa_url: Option<String>,
        /// Print the bundle summary as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Verify a bundle against a pinned public key (a .pub file or an allowed_signers file).
    Verify {
        /// The bundle zip.
        bundle: PathBuf,
        /// The signer's public key, or an allowed_signers file.
        #[arg(long)]
        pubkey: PathBuf,
        /// The previous bundle: checks the chain link.
        #[arg(long)]
        previous: Option<PathBuf>,
        /// The TSA's CA certificate(s), PEM: the bundle must carry an RFC 3161 time-stamp that
        /// chains to it; its time is printed.
        #[arg(long)]
        tsa_ca: Option<PathBuf>,
        /// Print the verification report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Draw a reproducible sample from a population of a run directory or bundle: records
    /// ranked by sha256(SEED:subject_id), the first N taken.
    Sample {
        /// The run directory or bundle zip.
        src: PathBuf,
        /// The population, COLLECTOR/POPULATION (e.g. okta/users).
        #[arg(long)]
        population: String,
        /// The sample size.
        #[arg(
            long,
            required_unless_present = "frequency",
            conflicts_with = "frequency"
        )]
        size: Option<usize>,
        /// Take the size from the frequency table: annual, quarterly, monthly, weekly, daily,
        /// recurring.
        #[arg(long)]
        frequency: Option<crate::sample::Frequency>,
        /// The seed (any string; agree on it with the auditor).
        #[arg(long)]
        seed: String,
        /// Write the sample as CSV here.
        #[arg(long = "out", short = 'o')]
        out: Option<PathBuf>,
        /// Print the sample as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Compare two runs (run directories or bundles): subjects added, removed and changed per
    /// population, then findings whose status changed or that exist on one side only. Exits 0
    /// when nothing differs and 1 otherwise, like diff(1).
    Diff {
        /// The earlier run directory or bundle.
        old: PathBuf,
        /// The later run directory or bundle.
        new: PathBuf,
        /// Print the differences as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run the whole job offline on the built-in sample organisation: local fake Okta, GitHub
    /// and Jira servers, sample backup logs, every check, a signed and verified bundle.
    #[cfg(feature = "demo")]
    Demo {
        /// Directory for the demo's output (replaced if an earlier demo wrote it).
        #[arg(long, short, default_value = "soc2-demo")]
        out: PathBuf,
    },
    /// Generate an Ed25519 signing key: NAME (private, mode 0600) and NAME.pub.
    Keygen {
        /// Path of the private key to write.
        #[arg(long, short)]
        out: PathBuf,
        /// The principal for the allowed_signers line printed for the auditor.
        #[arg(long, default_value = "evidence@organisation")]
        principal: String,
    },
}

/// `soc2-evidence ledger ...`.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// List the runs, with each collector's window and status.
    List {
        /// The ledger: a directory or s3://bucket/prefix.
        ledger: String,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Verify every run bundle and that the chain is linear and unbroken (exit 0 only then).
    Verify {
        /// The ledger: a directory or s3://bucket/prefix.
        ledger: String,
        /// The key the ledger started with (a .pub or allowed_signers file).
        #[arg(long)]
        pubkey: PathBuf,
        /// The TSA's CA certificate(s), PEM: every run must carry an RFC 3161 time-stamp that
        /// verifies against it.
        #[arg(long)]
        tsa_ca: Option<PathBuf>,
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Hand the ledger on to a new signing key, in a record the current key signs.
    RotateKey {
        /// The ledger: a directory or s3://bucket/prefix.
        ledger: String,
        /// The ledger's current private key.
        #[arg(long, short)]
        key: PathBuf,
        /// The new key's public half (.pub).
        #[arg(long)]
        new_pubkey: PathBuf,
    },
}

/// Sets up `tracing` logging from `RUST_LOG` (default: warnings and errors; only errors with
/// `--quiet` and in the demo, whose rate-limit retries are planted on purpose) on stderr.
pub fn init_logging(cli: &Cli) {
    #[cfg(feature = "demo")]
    let demo = matches!(cli.command, Command::Demo { .. });
    #[cfg(not(feature = "demo"))]
    let demo = false;
    let default = if cli.quiet || demo { "error" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Runs a parsed command line with the modules in `registry`; returns the exit status.
pub async fn run(cli: Cli, registry: &Registry) -> Result<u8, CliError> {
    match cli.command {
        Command::Collect {
            config,
            period,
            out,
            ledger,
            key,
            since,
            json,
        } => match (ledger, key, period, out) {
            (Some(ledger), Some(key), _, _) => {
                ledger::collect(
                    registry,
                    &config,
                    &ledger,
                    &key,
                    since.as_deref(),
                    json,
                    cli.quiet,
                )
                .await
            }
            (None, _, Some(period), Some(out)) => {
                collect::run(registry, &config, &period, &out, json, cli.quiet).await
            }
            _ => Err(CliError::Usage(
                "collect needs --period and --out, or --ledger and --key".into(),
            )),
        },
        Command::Ledger { command } => match command {
            LedgerCommand::List { ledger, json } => ledger::list(&ledger, json).await,
            LedgerCommand::Verify {
                ledger,
                pubkey,
                tsa_ca,
                json,
            } => ledger::verify(&ledger, &pubkey, tsa_ca.as_deref(), json, cli.quiet).await,
            LedgerCommand::RotateKey {
                ledger,
                key,
                new_pubkey,
            } => ledger::rotate_key(&ledger, &key, &new_pubkey, cli.quiet).await,
        },
        Command::Period {
            ledger,
            period,
            out,
            pubkey,
            tsa_ca,
            json,
        } => {
            ledger::period(
                registry,
                &ledger,
                &period,
                &out,
                pubkey.as_deref(),
                tsa_ca.as_deref(),
                json,
                cli.quiet,
            )
            .await
        }
        Command::Check { dir, config, json } => {
            check::run(registry, &dir, config.as_deref(), json, cli.quiet)
        }
        Command::Bundle {
            dir,
            key,
            out,
            previous,
            tsa_url,
            json,
        } => bundle::bundle(
            &dir,
            &key,
            &out,
            previous.as_deref(),
            tsa_url.as_deref(),
            json,
            cli.quiet,
        ),
        Command::Verify {
            bundle,
            pubkey,
            previous,
            tsa_ca,
            json,
        } => bundle::verify(
            &bundle,
            &pubkey,
            previous.as_deref(),
            tsa_ca.as_deref(),
            json,
            cli.quiet,
        ),
        Command::Sample {
            src,
            population,
            size,
            frequency,
            seed,
            out,
            json,
        } => {
            let size = match (size, frequency) {
                (Some(n), _) => crate::sample::SampleSize::Exact(n),
                (None, Some(f)) => crate::sample::SampleSize::Frequency(f),
                (None, None) => {
                    return Err(CliError::Usage("sample needs --size or --frequency".into()))
                }
            };
            sample::run(
                &src,
                &population,
                size,
                &seed,
                out.as_deref(),
                json,
                cli.quiet,
            )
        }
        Command::Diff { old, new, json } => diff::run(&old, &new, json, cli.quiet),
        Command::Keygen { out, principal } => keys::keygen(&out, &principal, cli.quiet),
        #[cfg(feature = "demo")]
        Command::Demo { out } => demo::run(registry, &out, cli.quiet).await,
    }
}
