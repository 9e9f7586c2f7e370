//! `cargo xtask bench`: run the criterion benchmarks and summarise them in Markdown.
//!
//! Criterion leaves each benchmark's latest results in
//! `<criterion home>/<group>/<function>/<parameter>/new/` (the home is `$CRITERION_HOME`, else
//! `$CARGO_TARGET_DIR/criterion`, else `target/criterion`). This module finds those
//! directories, keeps the ones written by this run, and hands them to [`crate::report`].

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Error;
use crate::report::{self, BenchResult, ReportMeta};

/// Help text for `cargo xtask bench --help`.
pub const HELP: &str = "\
Run Strata's criterion benchmarks and write a Markdown summary to target/bench-report.md.

Usage: cargo xtask bench [--all] [--report-only] [FILTER]

Runs `cargo bench --workspace --bench '*'` (every crate's bench targets), passing `-- FILTER`
when given: criterion then runs only the benchmarks whose id `group/path/parameter` matches
FILTER as a regular expression. Then reads criterion's results under target/criterion/ and
writes, per benchmark group, a table of benchmark | path | parameter | median | throughput.
Throughput is GFLOP/s for GEMM and convolution groups (`sgemm*`, `dgemm*`, `gemm*`, `conv*`,
`*_flops`), Melem/s or Gelem/s for other element counts and GB/s for byte counts. The header
records the date, CPU, core count, SIMD path (STRATA_SIMD, or auto), thread setting
(STRATA_NUM_THREADS) and command. Only results this run produced are reported unless --all
is given. The report's path is printed at the end.

Options:
  --all          Report every result under target/criterion, not only those this run produced
  --report-only  Do not run anything; rebuild the report from the existing results (all of
                 them, or those whose id contains FILTER as plain text)
  -h, --help     Print this help

Environment: STRATA_SIMD and STRATA_NUM_THREADS pass through to the benchmarks;
CRITERION_HOME and CARGO_TARGET_DIR move the results directory as they do for criterion.
";

/// Options of `cargo xtask bench`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Options {
    /// Passed to criterion as `-- FILTER`; with `--report-only`, a substring the benchmark id
    /// must contain.
    pub filter: Option<String>,
    /// Report every result found, not only those this run produced.
    pub all: bool,
    /// Skip running the benchmarks; report the existing results.
    pub report_only: bool,
}

/// Resolves a path from the environment against the workspace root when it is relative.
fn env_path(root: &Path, var: &str) -> Option<PathBuf> {
    let value = std::env::var_os(var).filter(|v| !v.is_empty())?;
    Some(root.join(value))
}

/// The cargo target directory: `$CARGO_TARGET_DIR`, else `<root>/target`.
fn target_dir(root: &Path) -> PathBuf {
    env_path(root, "CARGO_TARGET_DIR").unwrap_or_else(|| root.join("target"))
}

/// Where criterion writes its results: `$CRITERION_HOME`, else `<target>/criterion`.
fn criterion_dir(root: &Path, target: &Path) -> PathBuf {
    env_path(root, "CRITERION_HOME").unwrap_or_else(|| target.join("criterion"))
}

/// Quotes an argument for display in a shell-style command line when it needs it.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The arguments to `cargo` that run the benchmarks.
///
/// `--bench '*'` selects the bench targets only: without it `cargo bench` also builds every
/// library and binary as a libtest harness in the (LTO) bench profile, only to report their
/// unit tests as ignored — `#[bench]` functions need a nightly compiler, so Strata has none.
fn cargo_bench_args(options: &Options) -> Vec<String> {
    let mut args = ["bench", "--workspace", "--bench", "*"]
        .map(String::from)
        .to_vec();
    if let Some(filter) = &options.filter {
        args.push("--".to_string());
        args.push(filter.clone());
    }
    args
}

/// The `cargo xtask bench …` command line these options correspond to.
fn xtask_command(options: &Options) -> String {
    let mut line = "cargo xtask bench".to_string();
    if options.all {
        line.push_str(" --all");
    }
    if options.report_only {
        line.push_str(" --report-only");
    }
    if let Some(filter) = &options.filter {
        line.push(' ');
        if filter.starts_with('-') {
            line.push_str("-- ");
        }
        line.push_str(&shell_quote(filter));
    }
    line
}

/// Runs `cargo xtask bench` with `options` from the workspace `root`.
pub fn run(root: &Path, options: &Options) -> Result<(), Error> {
    let target = target_dir(root);
    let criterion = criterion_dir(root, &target);
    let report_path = target.join("bench-report.md");
    let xtask_line = xtask_command(options);

    if options.report_only {
        let results = collect_results(&criterion, None, options.filter.as_deref())?;
        let scope = match &options.filter {
            Some(f) => format!("existing results whose id contains `{f}`"),
            None => "all existing results".to_string(),
        };
        return write_report(&report_path, &results, &xtask_line, None, &scope);
    }

    // Criterion rewrites `new/estimates.json` for every benchmark it runs. Truncating the start
    // to a whole second keeps results from this run even on filesystems with coarse mtimes.
    let start_secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let since = UNIX_EPOCH + Duration::from_secs(start_secs);

    let args = cargo_bench_args(options);
    let cargo_line = format!(
        "cargo {}",
        args.iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("==> {cargo_line}");
    let _ = io::stdout().flush();
    let status = Command::new(crate::cargo())
        .args(&args)
        .current_dir(root)
        .status()
        .map_err(|source| Error::Spawn {
            command: cargo_line.clone(),
            source,
        })?;

    let (cutoff, scope) = if options.all {
        (None, "all results under the criterion directory")
    } else {
        (Some(since), "results produced by this run")
    };

    if !status.success() {
        // Keep whatever finished before the failure: a long run should not be lost entirely.
        if let Ok(results) = collect_results(&criterion, cutoff, None)
            && !results.is_empty()
        {
            let scope = format!("{scope}; INCOMPLETE: `cargo bench` failed ({status})");
            write_report(
                &report_path,
                &results,
                &xtask_line,
                Some(&cargo_line),
                &scope,
            )?;
        }
        return Err(Error::Command {
            what: format!("`{cargo_line}`"),
            status,
        });
    }

    let results = collect_results(&criterion, cutoff, None).map_err(|err| match err {
        Error::NoResults(_) if cutoff.is_some() => Error::NoResults(format!(
            "`{cargo_line}` wrote no results under {}{}; `--all` reports earlier results too",
            criterion.display(),
            match &options.filter {
                Some(f) => format!(" (does `{f}` match any benchmark id?)"),
                None => " (do the benches use criterion?)".to_string(),
            }
        )),
        other => other,
    })?;
    write_report(
        &report_path,
        &results,
        &xtask_line,
        Some(&cargo_line),
        scope,
    )
}

/// Renders the report for `results` and writes it to `path`, then prints where it went.
///
/// `command` is the `cargo xtask bench …` line, `runs` the `cargo bench …` line it ran (if
/// any) and `scope` says which results are included.
fn write_report(
    path: &Path,
    results: &[BenchResult],
    command: &str,
    runs: Option<&str>,
    scope: &str,
) -> Result<(), Error> {
    let meta = ReportMeta {
        date: report::format_utc(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        ),
        cpu: cpu_model(),
        cores: core_count(),
        simd: simd_path(),
        threads: match std::env::var("STRATA_NUM_THREADS") {
            Ok(n) if !n.is_empty() => format!("{n} (STRATA_NUM_THREADS)"),
            _ => "library default (STRATA_NUM_THREADS unset)".to_string(),
        },
        command: command.to_string(),
        runs: runs.map(str::to_string),
        scope: scope.to_string(),
    };
    let text = report::render(&meta, results);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|source| Error::Io {
            action: "creating",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    fs::write(path, text).map_err(|source| Error::Io {
        action: "writing",
        path: path.to_path_buf(),
        source,
    })?;
    let groups: std::collections::BTreeSet<&str> =
        results.iter().map(|r| r.id.group_id.as_str()).collect();
    println!(
        "==> benchmark report ({} in {}): {}",
        report::count(results.len(), "benchmark"),
        report::count(groups.len(), "group"),
        path.display()
    );
    Ok(())
}

/// Reads every benchmark result under the criterion directory `dir`.
///
/// With `since`, keeps only results whose `new/estimates.json` was modified at or after it;
/// with `id_contains`, only benchmarks whose full id contains that text. Results are
/// returned sorted by id. It is an error if `dir` does not exist, if a kept result's files
/// cannot be read or parsed, or if nothing is left.
pub fn collect_results(
    dir: &Path,
    since: Option<SystemTime>,
    id_contains: Option<&str>,
) -> Result<Vec<BenchResult>, Error> {
    if !dir.is_dir() {
        return Err(Error::NoResults(format!(
            "no criterion results: {} is not a directory (run `cargo xtask bench` first)",
            dir.display()
        )));
    }
    let mut new_dirs = Vec::new();
    find_new_dirs(dir, &mut new_dirs)?;

    let mut results = Vec::new();
    for new_dir in new_dirs {
        let estimates_path = new_dir.join(report::ESTIMATES_JSON);
        if let Some(since) = since {
            let modified = fs::metadata(&estimates_path)
                .and_then(|m| m.modified())
                .map_err(|source| Error::Io {
                    action: "reading the modification time of",
                    path: estimates_path.clone(),
                    source,
                })?;
            if modified < since {
                continue;
            }
        }
        let result = read_result(&new_dir)?;
        if id_contains.is_some_and(|needle| !result.id.full_id().contains(needle)) {
            continue;
        }
        results.push(result);
    }
    if results.is_empty() {
        return Err(Error::NoResults(format!(
            "no matching benchmark results under {}",
            dir.display()
        )));
    }
    results.sort_by_key(|r| r.id.full_id());
    Ok(results)
}

/// Reads and parses `benchmark.json` and `estimates.json` in one `new/` directory.
fn read_result(new_dir: &Path) -> Result<BenchResult, Error> {
    let read = |name: &str| -> Result<String, Error> {
        let path = new_dir.join(name);
        fs::read_to_string(&path).map_err(|source| Error::Io {
            action: "reading",
            path,
            source,
        })
    };
    let benchmark = read(report::BENCHMARK_JSON)?;
    let estimates = read(report::ESTIMATES_JSON)?;
    BenchResult::from_json(&benchmark, &estimates).map_err(|err| Error::Parse {
        path: new_dir.join(err.file),
        reason: err.reason,
    })
}

/// Collects, depth first, every directory named `new` under `dir` that holds a
/// `benchmark.json` — criterion's latest result for one benchmark. Symbolic links are not
/// followed.
fn find_new_dirs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io_err = |source| Error::Io {
        action: "listing",
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = fs::read_dir(dir)
        .map_err(io_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io_err)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let file_type = entry.file_type().map_err(|source| Error::Io {
            action: "inspecting",
            path: entry.path(),
            source,
        })?;
        if !file_type.is_dir() {
            continue;
        }
        let path = entry.path();
        if entry.file_name() == OsStr::new("new") && path.join(report::BENCHMARK_JSON).is_file() {
            out.push(path.clone());
        }
        find_new_dirs(&path, out)?;
    }
    Ok(())
}

/// Extracts the CPU model from the text of `/proc/cpuinfo` (`model name` on x86, `Hardware`,
/// `Model` or `cpu model` elsewhere).
fn cpu_model_from_cpuinfo(cpuinfo: &str) -> Option<String> {
    ["model name", "Hardware", "Model", "cpu model", "cpu"]
        .iter()
        .find_map(|key| {
            cpuinfo.lines().find_map(|line| {
                let (k, v) = line.split_once(':')?;
                (k.trim() == *key && !v.trim().is_empty()).then(|| v.trim().to_string())
            })
        })
}

/// The CPU model of this machine, or a note saying why it is unknown.
fn cpu_model() -> String {
    match fs::read_to_string("/proc/cpuinfo") {
        Ok(text) => cpu_model_from_cpuinfo(&text)
            .unwrap_or_else(|| "unknown (no model in /proc/cpuinfo)".to_string()),
        Err(err) => format!("unknown (/proc/cpuinfo: {err})"),
    }
}

/// The number of logical CPUs available to this process.
fn core_count() -> String {
    match std::thread::available_parallelism() {
        Ok(n) => format!("{n} logical CPUs available"),
        Err(err) => format!("unknown ({err})"),
    }
}

/// The SIMD path: `STRATA_SIMD` if set, else `auto` with the relevant CPU features found.
fn simd_path() -> String {
    match std::env::var("STRATA_SIMD") {
        Ok(path) if !path.is_empty() => format!("{path} (forced by STRATA_SIMD)"),
        _ => {
            let features = simd_features();
            if features.is_empty() {
                "auto (no vector extension detected)".to_string()
            } else {
                format!("auto (CPU has {})", features.join(", "))
            }
        }
    }
}

/// The CPU features Strata's SIMD dispatch chooses between, as detected at run time.
fn simd_features() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut found = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            found.push("avx512f");
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            found.push("avx2");
        }
        if std::arch::is_x86_feature_detected!("fma") {
            found.push("fma");
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            found.push("neon");
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        /// Creates an empty scratch directory unique to this process and `name`.
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("strata-xtask-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// Writes a fake criterion result for `group/function/value` under `home`, as criterion
    /// lays it out, and returns its `new/` directory.
    fn fake_result(home: &Path, group: &str, function: &str, value: &str) -> PathBuf {
        let new_dir = home.join(group).join(function).join(value).join("new");
        fs::create_dir_all(&new_dir).unwrap();
        fs::write(
            new_dir.join("benchmark.json"),
            format!(
                r#"{{"group_id":"{group}","function_id":"{function}","value_str":"{value}","throughput":{{"Elements":1000}},"full_id":"{group}/{function}/{value}","directory_name":"{group}/{function}/{value}","title":"{group}/{function}/{value}"}}"#
            ),
        )
        .unwrap();
        let estimate = r#"{"confidence_interval":{"confidence_level":0.95,"lower_bound":90.0,"upper_bound":110.0},"point_estimate":100.0,"standard_error":1.0}"#;
        fs::write(
            new_dir.join("estimates.json"),
            format!(r#"{{"mean":{estimate},"median":{estimate},"slope":null}}"#),
        )
        .unwrap();
        // Criterion keeps a copy as the comparison baseline; it must not be reported twice.
        let base = new_dir.with_file_name("base");
        fs::create_dir_all(&base).unwrap();
        for f in ["benchmark.json", "estimates.json"] {
            fs::copy(new_dir.join(f), base.join(f)).unwrap();
        }
        new_dir
    }

    /// Sets the modification time of a result's `estimates.json`.
    fn set_mtime(new_dir: &Path, time: SystemTime) {
        fs::File::options()
            .write(true)
            .open(new_dir.join("estimates.json"))
            .unwrap()
            .set_modified(time)
            .unwrap();
    }

    fn ids(results: &[BenchResult]) -> Vec<String> {
        results.iter().map(|r| r.id.full_id()).collect()
    }

    #[test]
    fn finds_results_and_filters_by_time_and_id() {
        let scratch = Scratch::new("collect");
        let home = scratch.0.join("criterion");
        let old = fake_result(&home, "sgemm", "scalar", "64");
        fake_result(&home, "sgemm", "avx2", "64");
        fake_result(&home, "add", "avx512-2t", "4096");
        fs::create_dir_all(home.join("report")).unwrap();
        fs::write(home.join("report").join("index.html"), "<html>").unwrap();

        let all = collect_results(&home, None, None).unwrap();
        assert_eq!(
            ids(&all),
            ["add/avx512-2t/4096", "sgemm/avx2/64", "sgemm/scalar/64"]
        );
        assert_eq!(all[0].estimates.median.point_ns, 100.0);

        let run_start = SystemTime::now() - Duration::from_secs(60);
        set_mtime(&old, run_start - Duration::from_secs(3600));
        let fresh = collect_results(&home, Some(run_start), None).unwrap();
        assert_eq!(ids(&fresh), ["add/avx512-2t/4096", "sgemm/avx2/64"]);

        let sgemm = collect_results(&home, None, Some("sgemm/")).unwrap();
        assert_eq!(ids(&sgemm), ["sgemm/avx2/64", "sgemm/scalar/64"]);

        let none = collect_results(&home, None, Some("conv")).unwrap_err();
        assert!(matches!(none, Error::NoResults(_)), "{none}");
    }

    #[test]
    fn reports_missing_and_corrupt_results_with_their_path() {
        let scratch = Scratch::new("errors");
        let home = scratch.0.join("criterion");
        let err = collect_results(&home, None, None).unwrap_err();
        assert!(matches!(err, Error::NoResults(_)));
        assert!(
            err.to_string().contains(&home.display().to_string()),
            "{err}"
        );

        let new_dir = fake_result(&home, "add", "avx2", "64");
        fs::write(new_dir.join("estimates.json"), "{\"median\": ").unwrap();
        let err = collect_results(&home, None, None).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Parse { .. }), "{msg}");
        assert!(msg.contains("/new/estimates.json: invalid JSON"), "{msg}");

        fs::remove_file(new_dir.join("estimates.json")).unwrap();
        let err = collect_results(&home, None, None).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Io { .. }), "{msg}");
        assert!(msg.starts_with("reading "), "{msg}");
        assert!(msg.contains("estimates.json"), "{msg}");
    }

    #[test]
    fn reads_the_cpu_model() {
        let x86 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 17\nmodel name\t: AMD EPYC 9B14\n";
        assert_eq!(
            cpu_model_from_cpuinfo(x86).as_deref(),
            Some("AMD EPYC 9B14")
        );
        let arm =
            "processor\t: 0\nBogoMIPS\t: 50.00\n\nHardware\t: BCM2835\nModel\t: Raspberry Pi 4\n";
        assert_eq!(cpu_model_from_cpuinfo(arm).as_deref(), Some("BCM2835"));
        assert_eq!(cpu_model_from_cpuinfo("processor\t: 0\n"), None);
    }

    #[test]
    fn builds_command_lines() {
        let options = Options {
            filter: Some("sgemm/avx2".into()),
            ..Options::default()
        };
        assert_eq!(
            cargo_bench_args(&options),
            ["bench", "--workspace", "--bench", "*", "--", "sgemm/avx2"]
        );
        assert_eq!(xtask_command(&options), "cargo xtask bench sgemm/avx2");
        let options = Options {
            filter: Some("gemm (256|512)".into()),
            all: true,
            report_only: true,
        };
        assert_eq!(
            xtask_command(&options),
            "cargo xtask bench --all --report-only 'gemm (256|512)'"
        );
        assert_eq!(
            cargo_bench_args(&Options::default()),
            ["bench", "--workspace", "--bench", "*"]
        );
    }
}
