//! Helpers shared by the tests that run the examples as programs.

use std::path::PathBuf;

/// Where the examples built for this test run live: `target/<profile>/examples` beside the test
/// binary (which `cargo test` builds), or `STRATA_EXAMPLES_DIR` when set (e.g. release builds).
pub fn examples_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("STRATA_EXAMPLES_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .join("examples")
}
