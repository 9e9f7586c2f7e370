//! Starting a program on several ranks from Rust — the MPI tests of the workspace start the
//! examples of their own build this way.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `program` on `ranks` ranks: `mpirun --allow-run-as-root --oversubscribe -np <ranks>
/// <program>` (more ranks than cores are allowed, and root may run it, as in containers), or
/// `program` itself, without MPI, for one rank. hwloc's GL plugin is turned off: where X11
/// libraries are installed without a display it can block `mpirun` at start-up. The two
/// options are Open MPI's (the MPI the workspace's tests and CI use); MPICH's `mpirun` does not
/// take them.
pub fn on_ranks(ranks: usize, program: &Path) -> Command {
    if ranks == 1 {
        return Command::new(program);
    }
    let mut cmd = Command::new("mpirun");
    cmd.args(["--allow-run-as-root", "--oversubscribe", "-np"])
        .arg(ranks.to_string())
        .env("HWLOC_COMPONENTS", "-gl")
        .arg(program);
    cmd
}

/// The example `name` of the build the running test belongs to:
/// `target/<profile>/examples/<name>`, found from the test's own path
/// (`target/<profile>/deps/<test>`).
///
/// # Panics
/// If the example has not been built, with `build` (the command that builds it) in the
/// message.
#[track_caller]
pub fn built_example(name: &str, build: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("built_example: the running test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("built_example: the test runs from target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "built_example: {} is missing: build it first with `{build}`",
        path.display()
    );
    path
}
