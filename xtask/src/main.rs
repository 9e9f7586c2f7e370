//! Strata developer tasks, run from anywhere in the workspace as `cargo xtask <task>`.
//!
//! - `cargo xtask ci`: format check, clippy with warnings denied, all tests, docs with warnings
//!   denied — the same gate CI applies.
//! - `cargo xtask bench [FILTER]`: runs the criterion benchmarks and writes a Markdown summary to
//!   `target/bench-report.md`.
//! - `cargo xtask readme`: writes each library crate's `README.md` from its crate docs.
//!
//! `cargo xtask --help` and `cargo xtask <task> --help` describe the options.

mod bench;
mod ci;
mod readme;
mod report;

use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, ExitStatus};

/// Top-level usage text.
const USAGE: &str = "\
Strata developer tasks

Usage: cargo xtask <TASK> [OPTIONS]

Tasks:
  ci      Run the CI gate: fmt check, clippy (-D warnings), tests, docs (-D warnings)
  bench   Run the criterion benchmarks and write target/bench-report.md
  readme  Write each library crate's README.md from its crate docs (src/lib.rs)

Run `cargo xtask <TASK> --help` for the options of a task.
";

/// Everything that can make a task fail. Each variant says what failed, where and why.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command-line arguments; the message says what was wrong.
    #[error("{0}")]
    Usage(String),
    /// Reading or writing a file or directory failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "reading".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// A file was read but its contents are not what was expected.
    #[error("{}: {reason}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A command could not be started.
    #[error("could not run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The operating system's reason.
        source: io::Error,
    },
    /// A command ran and failed.
    #[error("{what} failed ({status})")]
    Command {
        /// What was running, e.g. "step [2/4] clippy".
        what: String,
        /// How it ended.
        status: ExitStatus,
    },
    /// There were no benchmark results to report.
    #[error("{0}")]
    NoResults(String),
}

impl Error {
    /// The process exit code for this error: 2 for usage errors, 1 otherwise.
    fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
enum Task {
    /// Print the top-level usage.
    Help,
    /// `ci`.
    Ci,
    /// `ci --help`.
    CiHelp,
    /// `bench` with its options.
    Bench(bench::Options),
    /// `bench --help`.
    BenchHelp,
    /// `readme`.
    Readme,
    /// `readme --help`.
    ReadmeHelp,
}

/// Parses the arguments after `cargo xtask`.
fn parse_args(args: &[String]) -> Result<Task, Error> {
    let is_help = |a: &str| a == "-h" || a == "--help" || a == "help";
    let Some((task, rest)) = args.split_first() else {
        return Ok(Task::Help);
    };
    match task.as_str() {
        t if is_help(t) => Ok(Task::Help),
        "ci" => match rest {
            [] => Ok(Task::Ci),
            [a] if is_help(a) => Ok(Task::CiHelp),
            [a, ..] => Err(Error::Usage(format!(
                "`cargo xtask ci` takes no arguments, got `{a}` (see `cargo xtask ci --help`)"
            ))),
        },
        "bench" => {
            let mut options = bench::Options::default();
            let mut rest = rest.iter();
            while let Some(arg) = rest.next() {
                match arg.as_str() {
                    a if is_help(a) => return Ok(Task::BenchHelp),
                    "--all" => options.all = true,
                    "--report-only" => options.report_only = true,
                    "--" => {
                        if let Some(filter) = rest.next() {
                            set_filter(&mut options, filter)?;
                        }
                        if let Some(extra) = rest.next() {
                            return Err(unexpected_bench_arg(extra));
                        }
                    }
                    a if a.starts_with('-') => return Err(unexpected_bench_arg(a)),
                    filter => set_filter(&mut options, filter)?,
                }
            }
            Ok(Task::Bench(options))
        }
        "readme" => match rest {
            [] => Ok(Task::Readme),
            [a] if is_help(a) => Ok(Task::ReadmeHelp),
            [a, ..] => Err(Error::Usage(format!(
                "`cargo xtask readme` takes no arguments, got `{a}` (see `cargo xtask readme --help`)"
            ))),
        },
        other => Err(Error::Usage(format!(
            "unknown task `{other}`; expected `ci`, `bench` or `readme` (see `cargo xtask --help`)"
        ))),
    }
}

/// Records the benchmark filter, refusing a second one.
fn set_filter(options: &mut bench::Options, filter: &str) -> Result<(), Error> {
    if options.filter.is_some() {
        return Err(unexpected_bench_arg(filter));
    }
    options.filter = Some(filter.to_string());
    Ok(())
}

/// The usage error for an argument `cargo xtask bench` does not take.
fn unexpected_bench_arg(arg: &str) -> Error {
    Error::Usage(format!(
        "unexpected argument `{arg}` to `cargo xtask bench` (see `cargo xtask bench --help`)"
    ))
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in a subdirectory of the workspace")
}

/// The `cargo` to run: the one that launched us (`$CARGO`), else `cargo` from `PATH`.
fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Runs the task named on the command line.
fn run(args: &[String]) -> Result<(), Error> {
    match parse_args(args)? {
        Task::Help => {
            print!("{USAGE}");
            Ok(())
        }
        Task::Ci => ci::run(workspace_root()),
        Task::CiHelp => {
            print!("{}", ci::HELP);
            Ok(())
        }
        Task::Bench(options) => bench::run(workspace_root(), &options),
        Task::BenchHelp => {
            print!("{}", bench::HELP);
            Ok(())
        }
        Task::Readme => readme::run(workspace_root()),
        Task::ReadmeHelp => {
            print!("{}", readme::HELP);
            Ok(())
        }
    }
}

/// Entry point: runs the task, reports an error on stderr and sets the exit code.
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Task, Error> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse_args(&args)
    }

    fn bench(filter: Option<&str>, all: bool, report_only: bool) -> Task {
        Task::Bench(bench::Options {
            filter: filter.map(str::to_string),
            all,
            report_only,
        })
    }

    #[test]
    fn parses_tasks_and_help() {
        assert_eq!(parse(&[]).unwrap(), Task::Help);
        assert_eq!(parse(&["--help"]).unwrap(), Task::Help);
        assert_eq!(parse(&["ci"]).unwrap(), Task::Ci);
        assert_eq!(parse(&["ci", "--help"]).unwrap(), Task::CiHelp);
        assert_eq!(parse(&["ci", "-h"]).unwrap(), Task::CiHelp);
        assert_eq!(parse(&["bench", "--help"]).unwrap(), Task::BenchHelp);
        assert_eq!(parse(&["readme"]).unwrap(), Task::Readme);
        assert_eq!(parse(&["readme", "--help"]).unwrap(), Task::ReadmeHelp);
    }

    #[test]
    fn parses_bench_options() {
        assert_eq!(parse(&["bench"]).unwrap(), bench(None, false, false));
        assert_eq!(
            parse(&["bench", "sgemm"]).unwrap(),
            bench(Some("sgemm"), false, false)
        );
        assert_eq!(
            parse(&["bench", "--all", "gemm", "--report-only"]).unwrap(),
            bench(Some("gemm"), true, true)
        );
        assert_eq!(
            parse(&["bench", "--", "-odd"]).unwrap(),
            bench(Some("-odd"), false, false)
        );
    }

    #[test]
    fn rejects_bad_arguments() {
        for args in [
            &["build"][..],
            &["ci", "--fast"],
            &["readme", "--check"],
            &["bench", "--fast"],
            &["bench", "a", "b"],
            &["bench", "--", "a", "b"],
        ] {
            let err = parse(args).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{args:?}: {err}");
        }
    }
}
