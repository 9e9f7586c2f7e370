//! `cargo xtask ci`: the checks CI runs, in order, stopping at the first failure.

use std::io::{self, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;

/// Help text for `cargo xtask ci --help`.
pub const HELP: &str = "\
Run the Strata CI gate from the workspace root, in order, stopping at the first failure:

  [1/9] fmt         cargo fmt --all --check
  [2/9] clippy      cargo clippy --workspace --all-targets -- -D warnings
  [3/9] test        cargo test --workspace
  [4/9] kernels     cargo test -p strata-tensor -p strata-optim --tests
                    (once per other SIMD path this CPU supports, with STRATA_SIMD set)
  [5/9] doc         RUSTDOCFLAGS=\"-D warnings\" cargo doc --workspace --no-deps
  [6/9] msrv        cargo check --workspace --all-targets --target-dir target/msrv
                    (with the toolchain of the workspace's rust-version: rustup run <version> cargo …)
  [7/9] mpi-clippy  cargo clippy -p strata-models -p strata-search --features strata-models/mpi,strata-search/mpi
                    --all-targets -- -D warnings
  [8/9] mpi-build   cargo build --profile test -p strata-models -p strata-search
                    --features strata-models/mpi,strata-search/mpi --example ddp --example search_mlp
  [9/9] mpi-test    cargo test -p strata-models -p strata-search --features strata-models/mpi,strata-search/mpi
                    --test mpi

Step 4 runs the kernel tests again on every SIMD path the test step did not use (the test
step runs the best one): `scalar`, and `avx2` on an AVX-512 CPU. Step 6 checks that every
target builds with the oldest Rust the crates declare (`rust-version` in Cargo.toml); it needs
that toolchain (`rustup toolchain install <version> --profile minimal`), and without it one
line says it was skipped and why. Steps 7-9 build Strata with MPI (rsmpi over the system's MPI library) and run the
multi-process tests (data-parallel training, search trials across ranks) under mpirun; they run whenever `mpirun` is on the PATH, and otherwise
one line says they were skipped and why (install openmpi-bin, libopenmpi-dev and
libclang-dev to run them).

Every step runs with CARGO_INCREMENTAL=0 unless the variable is set: incremental caches
only cost disk in a one-shot build.

Each step's output is streamed as it runs; the test step's stderr is merged into stdout so
that cargo test's summary lines and errors can all be read from stdout. A header announces
each step and its time is printed when it ends. On failure the failing step is named and the
exit code is non-zero; on success a summary line lists every step's time.

Usage: cargo xtask ci
";

/// One CI step: a cargo invocation.
struct Step {
    /// Short name shown in headers, e.g. `clippy`.
    name: &'static str,
    /// Arguments to `cargo`.
    args: &'static [&'static str],
    /// Flag variables to set; each is appended to any value already in the environment.
    flags_env: &'static [(&'static str, &'static str)],
    /// Whether the step's stderr goes to our stdout, so its whole output can be read there.
    stderr_to_stdout: bool,
    /// Whether the step needs MPI (`mpirun` and the MPI library).
    needs_mpi: bool,
    /// Whether the step runs once per SIMD path other than the best one, with `STRATA_SIMD`.
    per_simd_path: bool,
    /// Whether the step runs with the toolchain of the workspace's `rust-version`.
    msrv: bool,
}

/// The CI steps, in the order they run.
const STEPS: [Step; 9] = [
    Step {
        name: "fmt",
        args: &["fmt", "--all", "--check"],
        flags_env: &[],
        stderr_to_stdout: false,
        needs_mpi: false,
        per_simd_path: false,
        msrv: false,
    },
    Step {
        name: "clippy",
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        flags_env: &[],
        stderr_to_stdout: false,
        needs_mpi: false,
        per_simd_path: false,
        msrv: false,
    },
    Step {
        name: "test",
        args: &["test", "--workspace"],
        flags_env: &[],
        stderr_to_stdout: true,
        needs_mpi: false,
        per_simd_path: false,
        msrv: false,
    },
    Step {
        name: "kernels",
        args: &[
            "test",
            "-p",
            "strata-tensor",
            "-p",
            "strata-optim",
            "--tests",
        ],
        flags_env: &[],
        stderr_to_stdout: true,
        needs_mpi: false,
        per_simd_path: true,
        msrv: false,
    },
    Step {
        name: "doc",
        args: &["doc", "--workspace", "--no-deps"],
        flags_env: &[("RUSTDOCFLAGS", "-D warnings")],
        stderr_to_stdout: false,
        needs_mpi: false,
        per_simd_path: false,
        msrv: false,
    },
    Step {
        name: "msrv",
        args: &[
            "check",
            "--workspace",
            "--all-targets",
            "--target-dir",
            "target/msrv",
        ],
        flags_env: &[],
        stderr_to_stdout: false,
        needs_mpi: false,
        per_simd_path: false,
        msrv: true,
    },
    Step {
        name: "mpi-clippy",
        args: &[
            "clippy",
            "-p",
            "strata-models",
            "-p",
            "strata-search",
            "--features",
            "strata-models/mpi,strata-search/mpi",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        flags_env: &[],
        stderr_to_stdout: false,
        needs_mpi: true,
        per_simd_path: false,
        msrv: false,
    },
    Step {
        name: "mpi-build",
        args: &[
            "build",
            "--profile",
            "test",
            "-p",
            "strata-models",
            "-p",
            "strata-search",
            "--features",
            "strata-models/mpi,strata-search/mpi",
            "--example",
            "ddp",
            "--example",
            "search_mlp",
        ],
        flags_env: &[],
        stderr_to_stdout: false,
        needs_mpi: true,
        per_simd_path: false,
        msrv: false,
    },
    Step {
        name: "mpi-test",
        args: &[
            "test",
            "-p",
            "strata-models",
            "-p",
            "strata-search",
            "--features",
            "strata-models/mpi,strata-search/mpi",
            "--test",
            "mpi",
        ],
        flags_env: &[],
        stderr_to_stdout: true,
        needs_mpi: true,
        per_simd_path: false,
        msrv: false,
    },
];

/// The SIMD paths (`STRATA_SIMD` values) this CPU supports other than the best one, which
/// the test step already ran.
fn other_simd_paths() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut supported = vec!["scalar"];
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            supported.push("avx2");
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            supported.push("avx512");
        }
    }
    supported.pop();
    supported
}

/// Where `mpirun` is, if it is on the PATH.
fn find_mpirun() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("mpirun"))
        .find(|candidate| candidate.is_file())
}

impl Step {
    /// The step as a shell-style command line, for headers and messages.
    fn display(&self) -> String {
        let mut line = String::new();
        for (key, value) in self.flags_env {
            line.push_str(&format!("{key}=\"{value}\" "));
        }
        line.push_str("cargo ");
        line.push_str(&self.args.join(" "));
        line
    }

    /// Runs the step in `root` (once per path of [`other_simd_paths`] for a per-path step,
    /// stopping at the first failure), streaming its output, and returns how it ended.
    fn run(&self, root: &Path) -> Result<std::process::ExitStatus, Error> {
        if !self.per_simd_path {
            return self.run_once(root, None);
        }
        for path in other_simd_paths() {
            println!("==> STRATA_SIMD={path} {}", self.display());
            let _ = io::stdout().flush();
            let status = self.run_once(root, Some(path))?;
            if !status.success() {
                return Ok(status);
            }
        }
        // Nothing left to run (a CPU with one path) is a success.
        Ok(std::process::ExitStatus::default())
    }

    /// One run of the step, with `STRATA_SIMD=simd` when given.
    fn run_once(&self, root: &Path, simd: Option<&str>) -> Result<std::process::ExitStatus, Error> {
        let mut cmd = if self.msrv {
            let mut rustup = Command::new("rustup");
            rustup.args(["run", &rust_version(root)?, "cargo"]);
            rustup
        } else {
            Command::new(crate::cargo())
        };
        cmd.args(self.args).current_dir(root);
        if let Some(path) = simd {
            cmd.env("STRATA_SIMD", path);
        }
        // A one-shot build gains nothing from incremental caches, and they tripled the
        // target directory (disk is what CI machines run out of). An explicit setting wins.
        if std::env::var_os("CARGO_INCREMENTAL").is_none() {
            cmd.env("CARGO_INCREMENTAL", "0");
        }
        for (key, value) in self.flags_env {
            let merged = match std::env::var(key) {
                Ok(existing) if !existing.trim().is_empty() => format!("{existing} {value}"),
                _ => value.to_string(),
            };
            cmd.env(key, merged);
        }
        if self.stderr_to_stdout {
            cmd.stderr(Stdio::from(io::stdout()));
        }
        cmd.status().map_err(|source| Error::Spawn {
            command: self.display(),
            source,
        })
    }
}

/// The `rust-version` of the workspace's `[workspace.package]` (the oldest Rust the crates
/// build with).
fn rust_version(root: &Path) -> Result<String, Error> {
    let path = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
        action: "reading",
        path: path.clone(),
        source,
    })?;
    parse_rust_version(&text).ok_or_else(|| Error::Parse {
        path,
        reason: "no `rust-version = \"…\"` line under [workspace.package]".into(),
    })
}

/// The `rust-version = "x.y"` value of the `[workspace.package]` table of a `Cargo.toml`.
fn parse_rust_version(cargo_toml: &str) -> Option<String> {
    let mut in_table = false;
    for line in cargo_toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[workspace.package]";
        } else if in_table && let Some(value) = line.strip_prefix("rust-version") {
            let value = value.trim_start().strip_prefix('=')?.trim();
            return Some(value.trim_matches('"').to_string());
        }
    }
    None
}

/// Whether rustup can run the toolchain `version` (it is installed).
fn toolchain_installed(version: &str) -> bool {
    Command::new("rustup")
        .args(["run", version, "cargo", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Formats a duration for humans: `0.4s`, `12.3s`, `2m 03s`, `1h 02m 03s`.
fn format_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        return format!("{secs:.1}s");
    }
    let whole = d.as_secs();
    let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else {
        format!("{m}m {s:02}s")
    }
}

/// Runs every CI step from the workspace `root`, stopping at the first failure.
pub fn run(root: &Path) -> Result<(), Error> {
    let total = STEPS.len();
    let started = Instant::now();
    let mut times = Vec::with_capacity(total);
    let mpirun = find_mpirun();
    let mut skipped = 0;
    let mut skipped_msrv = false;
    for (i, step) in STEPS.iter().enumerate() {
        let label = format!("[{}/{total}] {}", i + 1, step.name);
        if step.needs_mpi && mpirun.is_none() {
            if skipped == 0 {
                println!(
                    "==> MPI steps SKIPPED: `mpirun` is not on the PATH, so the multi-process tests did not run (install openmpi-bin, libopenmpi-dev and libclang-dev)"
                );
            }
            skipped += 1;
            continue;
        }
        if step.msrv {
            let version = rust_version(root)?;
            if !toolchain_installed(&version) {
                println!(
                    "==> {label} SKIPPED: Rust {version} (the workspace's rust-version) is not installed (`rustup toolchain install {version} --profile minimal`)"
                );
                skipped_msrv = true;
                continue;
            }
            println!("==> {label}: rustup run {version} {}", step.display());
            let _ = io::stdout().flush();
        } else {
            println!("==> {label}: {}", step.display());
        }
        // Our header must come out before the child's output.
        let _ = io::stdout().flush();
        let step_start = Instant::now();
        let status = step.run(root);
        let took = format_duration(step_start.elapsed());
        let status = match status {
            Ok(status) => status,
            Err(err) => {
                println!("==> {label} could not start after {took}");
                return Err(err);
            }
        };
        if !status.success() {
            // The blank line keeps the verdict off a last output line that lacks a newline.
            println!("\n==> {label} FAILED ({status}) after {took}");
            println!(
                "==> ci FAILED at step {label} after {}",
                format_duration(started.elapsed())
            );
            let _ = io::stdout().flush();
            return Err(Error::Command {
                what: format!("ci step {label} (`{}`)", step.display()),
                status,
            });
        }
        println!("==> {label} passed in {took}");
        times.push(format!("{} {took}", step.name));
    }
    let ran = total - skipped - usize::from(skipped_msrv);
    println!(
        "==> ci passed: {ran}/{total} steps in {} ({}){}{}",
        format_duration(started.elapsed()),
        times.join(", "),
        if skipped > 0 {
            format!("; {skipped} MPI steps skipped: no mpirun")
        } else {
            String::new()
        },
        if skipped_msrv {
            "; the msrv step skipped: toolchain not installed"
        } else {
            ""
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_workspace_rust_version() {
        let toml = "[package]\nrust-version = \"1.70\"\n[workspace.package]\nversion = \"0.1.0\"\nrust-version = \"1.89\"\n[x]\n";
        assert_eq!(parse_rust_version(toml).as_deref(), Some("1.89"));
        assert_eq!(
            parse_rust_version("[package]\nrust-version = \"1.70\"\n"),
            None
        );
        let root = crate::workspace_root();
        let version = rust_version(root).unwrap();
        assert!(version.starts_with("1."), "{version}");
    }

    #[test]
    fn formats_durations() {
        assert_eq!(format_duration(Duration::from_millis(420)), "0.4s");
        assert_eq!(format_duration(Duration::from_millis(12_345)), "12.3s");
        assert_eq!(format_duration(Duration::from_secs(123)), "2m 03s");
        assert_eq!(format_duration(Duration::from_secs(3723)), "1h 02m 03s");
    }

    #[test]
    fn steps_match_the_documented_commands() {
        let lines: Vec<String> = STEPS.iter().map(Step::display).collect();
        assert_eq!(
            lines,
            [
                "cargo fmt --all --check",
                "cargo clippy --workspace --all-targets -- -D warnings",
                "cargo test --workspace",
                "cargo test -p strata-tensor -p strata-optim --tests",
                "RUSTDOCFLAGS=\"-D warnings\" cargo doc --workspace --no-deps",
                "cargo check --workspace --all-targets --target-dir target/msrv",
                "cargo clippy -p strata-models -p strata-search --features strata-models/mpi,strata-search/mpi --all-targets -- -D warnings",
                "cargo build --profile test -p strata-models -p strata-search --features strata-models/mpi,strata-search/mpi --example ddp --example search_mlp",
                "cargo test -p strata-models -p strata-search --features strata-models/mpi,strata-search/mpi --test mpi",
            ]
        );
        // The help text wraps long commands: compare with its whitespace folded.
        let help = HELP.split_whitespace().collect::<Vec<_>>().join(" ");
        for line in &lines {
            assert!(help.contains(line.trim_start_matches("RUSTDOCFLAGS=\"-D warnings\" ")));
        }
    }
}
