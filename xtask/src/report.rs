//! The benchmark report: parsing criterion's result files and rendering them as Markdown.
//!
//! Everything here is pure (strings in, strings out) so it can be unit-tested without running
//! a benchmark. Finding the files on disk is `bench.rs`'s job.
//!
//! Criterion 0.8 writes, for every benchmark, a directory
//! `target/criterion/<group>/<function>/<parameter>/new/` holding among others:
//!
//! - `benchmark.json`: the benchmark's identity,
//!   `{"group_id":"sgemm","function_id":"avx2","value_str":"256","throughput":{"Elements":33554432},…}`
//!   where `function_id`, `value_str` and `throughput` may be `null`, and `throughput` is one of
//!   `{"Bits":n}`, `{"Bytes":n}`, `{"BytesDecimal":n}`, `{"Elements":n}` or
//!   `{"ElementsAndBytes":{"elements":n,"bytes":m}}`;
//! - `estimates.json`: statistics of the time per iteration in nanoseconds,
//!   `{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":…,"upper_bound":…},
//!   "point_estimate":…,"standard_error":…},"median":{…},…}`.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

/// How much work one iteration of a benchmark does, as declared with criterion's
/// `BenchmarkGroup::throughput`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Throughput {
    /// Bits processed per iteration.
    Bits(u64),
    /// Bytes processed per iteration (criterion shows binary multiples; we always use 10⁹).
    Bytes(u64),
    /// Bytes processed per iteration, decimal multiples.
    BytesDecimal(u64),
    /// Elements processed per iteration; in FLOP groups (see [`is_flop_group`]) the number of
    /// floating-point operations.
    Elements(u64),
    /// Both an element count and a byte count per iteration.
    ElementsAndBytes {
        /// Elements (or FLOPs) per iteration.
        elements: u64,
        /// Bytes per iteration.
        bytes: u64,
    },
    /// A kind this version of the report does not know; it carries criterion's name for it.
    Unknown(String),
}

/// The identity of one benchmark, read from criterion's `benchmark.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchmarkId {
    /// The benchmark group (`sgemm`, `add`, …); for a lone `bench_function`, its name.
    pub group_id: String,
    /// The function id: for Strata's benches the SIMD/GEMM path, e.g. `avx2` or `avx512-2t`.
    pub function_id: Option<String>,
    /// The parameter, e.g. a size such as `1024` or `256x256x256`.
    pub value_str: Option<String>,
    /// The work done per iteration, if the bench declared it.
    pub throughput: Option<Throughput>,
}

impl BenchmarkId {
    /// The full benchmark id, `group/function/parameter` with absent parts left out, exactly
    /// as criterion prints it and as a `cargo bench` filter matches it.
    pub fn full_id(&self) -> String {
        let mut id = self.group_id.clone();
        for part in [&self.function_id, &self.value_str].into_iter().flatten() {
            id.push('/');
            id.push_str(part);
        }
        id
    }
}

/// One statistic of the time per iteration, in nanoseconds, with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The point estimate, in ns.
    pub point_ns: f64,
    /// Lower bound of the confidence interval, in ns.
    pub lower_ns: f64,
    /// Upper bound of the confidence interval, in ns.
    pub upper_ns: f64,
    /// The confidence level of the interval, e.g. `0.95`.
    pub confidence_level: f64,
}

/// The statistics of one benchmark that the report uses, read from `estimates.json`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimates {
    /// Median time per iteration.
    pub median: Estimate,
    /// Mean time per iteration.
    pub mean: Estimate,
}

/// One benchmark's identity and results.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchResult {
    /// Which benchmark this is.
    pub id: BenchmarkId,
    /// Its timing statistics.
    pub estimates: Estimates,
}

impl BenchResult {
    /// Parses a `benchmark.json` / `estimates.json` pair given as strings.
    ///
    /// The error names which of the two files is wrong and why; the caller knows the path.
    pub fn from_json(benchmark_json: &str, estimates_json: &str) -> Result<Self, ParseError> {
        let id = parse_benchmark_json(benchmark_json).map_err(|reason| ParseError {
            file: BENCHMARK_JSON,
            reason,
        })?;
        let estimates = parse_estimates_json(estimates_json).map_err(|reason| ParseError {
            file: ESTIMATES_JSON,
            reason,
        })?;
        Ok(Self { id, estimates })
    }
}

/// The name of criterion's file describing a benchmark.
pub const BENCHMARK_JSON: &str = "benchmark.json";
/// The name of criterion's file holding a benchmark's statistics.
pub const ESTIMATES_JSON: &str = "estimates.json";

/// Why a result file pair could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct ParseError {
    /// Which file is wrong: [`BENCHMARK_JSON`] or [`ESTIMATES_JSON`].
    pub file: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// Parses criterion's `benchmark.json`.
///
/// `group_id` is required; `function_id`, `value_str` and `throughput` may be missing or
/// `null`. An unrecognised throughput kind is kept as [`Throughput::Unknown`] rather than
/// failing the whole report.
pub fn parse_benchmark_json(text: &str) -> Result<BenchmarkId, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| "expected a JSON object at the top level".to_string())?;
    let group_id = match obj.get("group_id") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(format!("`group_id` should be a string, found {other}")),
        None => return Err("missing field `group_id`".to_string()),
    };
    let optional_string = |key: &str| -> Result<Option<String>, String> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("`{key}` should be a string or null, found {other}")),
        }
    };
    let function_id = optional_string("function_id")?;
    let value_str = optional_string("value_str")?;
    let throughput = match obj.get("throughput") {
        None | Some(Value::Null) => None,
        Some(t) => Some(parse_throughput(t)?),
    };
    Ok(BenchmarkId {
        group_id,
        function_id,
        value_str,
        throughput,
    })
}

/// Parses the serde form of criterion's `Throughput`: an object with a single key naming the
/// variant.
fn parse_throughput(value: &Value) -> Result<Throughput, String> {
    let obj = value
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| format!("`throughput` should be an object with one key, found {value}"))?;
    let (kind, inner) = obj.iter().next().expect("object has exactly one key");
    let count = |v: &Value, what: &str| -> Result<u64, String> {
        v.as_u64().ok_or_else(|| {
            format!("`throughput.{what}` should be a non-negative integer, found {v}")
        })
    };
    Ok(match kind.as_str() {
        "Bits" => Throughput::Bits(count(inner, kind)?),
        "Bytes" => Throughput::Bytes(count(inner, kind)?),
        "BytesDecimal" => Throughput::BytesDecimal(count(inner, kind)?),
        "Elements" => Throughput::Elements(count(inner, kind)?),
        "ElementsAndBytes" => {
            let field = |name: &str| -> Result<u64, String> {
                let v = inner
                    .get(name)
                    .ok_or_else(|| format!("missing field `throughput.{kind}.{name}`"))?;
                count(v, &format!("{kind}.{name}"))
            };
            Throughput::ElementsAndBytes {
                elements: field("elements")?,
                bytes: field("bytes")?,
            }
        }
        other => Throughput::Unknown(other.to_string()),
    })
}

/// Parses criterion's `estimates.json`, keeping the median and the mean.
pub fn parse_estimates_json(text: &str) -> Result<Estimates, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    if !value.is_object() {
        return Err("expected a JSON object at the top level".to_string());
    }
    Ok(Estimates {
        median: parse_estimate(&value, "median")?,
        mean: parse_estimate(&value, "mean")?,
    })
}

/// Reads the statistic `name` (e.g. `median`) out of a parsed `estimates.json`.
fn parse_estimate(root: &Value, name: &str) -> Result<Estimate, String> {
    let stat = root
        .get(name)
        .ok_or_else(|| format!("missing field `{name}`"))?;
    let number = |path: &[&str]| -> Result<f64, String> {
        let mut v = stat;
        for key in path {
            v = v
                .get(key)
                .ok_or_else(|| format!("missing field `{name}.{}`", path.join(".")))?;
        }
        v.as_f64()
            .ok_or_else(|| format!("`{name}.{}` should be a number, found {v}", path.join(".")))
    };
    Ok(Estimate {
        point_ns: number(&["point_estimate"])?,
        lower_ns: number(&["confidence_interval", "lower_bound"])?,
        upper_ns: number(&["confidence_interval", "upper_bound"])?,
        confidence_level: number(&["confidence_interval", "confidence_level"])?,
    })
}

/// Whether a group's `Elements` throughput counts floating-point operations: groups whose
/// name starts with `sgemm`, `dgemm`, `gemm` or `conv`, or ends with `_flops`
/// (case-insensitive).
pub fn is_flop_group(group_id: &str) -> bool {
    let g = group_id.to_ascii_lowercase();
    ["sgemm", "dgemm", "gemm", "conv"]
        .iter()
        .any(|prefix| g.starts_with(prefix))
        || g.ends_with("_flops")
}

/// Formats a number with about four significant digits: `3.489`, `27.20`, `569.5`.
fn sig4(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 10.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// Formats a duration given in nanoseconds with a fitting unit: `569.5 ns`, `3.489 µs`,
/// `27.20 ms`, `1.250 s`.
pub fn format_time(ns: f64) -> String {
    if !ns.is_finite() {
        return format!("{ns} ns");
    }
    // The thresholds sit where `sig4` would round up to 1000.0, so that shows as 1.000 of the
    // next unit instead.
    let a = ns.abs();
    if a < 999.95 {
        format!("{} ns", sig4(ns))
    } else if a < 999.95e3 {
        format!("{} µs", sig4(ns / 1e3))
    } else if a < 999.95e6 {
        format!("{} ms", sig4(ns / 1e6))
    } else {
        format!("{} s", sig4(ns / 1e9))
    }
}

/// Formats an element rate given in elements per second: Melem/s below 10⁹, Gelem/s above.
fn format_elem_rate(per_s: f64) -> String {
    if per_s >= 999.95e6 {
        format!("{} Gelem/s", sig4(per_s / 1e9))
    } else {
        format!("{} Melem/s", sig4(per_s / 1e6))
    }
}

/// Formats the throughput of one iteration taking `median_ns`, following the report's
/// conventions: `Elements` in FLOP groups (see [`is_flop_group`]) → GFLOP/s, other `Elements`
/// → Melem/s or Gelem/s, bytes → GB/s (10⁹ bytes), bits → Gbit/s. Returns `—` when there is no
/// throughput or the time is not positive.
pub fn format_throughput(
    group_id: &str,
    throughput: Option<&Throughput>,
    median_ns: f64,
) -> String {
    let Some(throughput) = throughput else {
        return "—".to_string();
    };
    if !(median_ns.is_finite() && median_ns > 0.0) {
        return "—".to_string();
    }
    // Work per nanosecond is work per second in units of 10⁹.
    let giga_per_s = |n: u64| n as f64 / median_ns;
    let elements = |n: u64| {
        if is_flop_group(group_id) {
            format!("{} GFLOP/s", sig4(giga_per_s(n)))
        } else {
            format_elem_rate(giga_per_s(n) * 1e9)
        }
    };
    let bytes = |n: u64| format!("{} GB/s", sig4(giga_per_s(n)));
    match throughput {
        Throughput::Elements(n) => elements(*n),
        Throughput::Bytes(n) | Throughput::BytesDecimal(n) => bytes(*n),
        Throughput::Bits(n) => format!("{} Gbit/s", sig4(giga_per_s(*n))),
        Throughput::ElementsAndBytes {
            elements: e,
            bytes: b,
        } => format!("{}, {}", elements(*e), bytes(*b)),
        Throughput::Unknown(kind) => format!("— (unknown kind `{kind}`)"),
    }
}

/// Compares two strings in "natural" order: runs of ASCII digits compare as numbers, so
/// `64 < 128 < 1024` and `avx2 < avx512`, and `avx512 < avx512-2t`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let split = |s: &'_ [u8]| {
                    s.iter()
                        .position(|c| !c.is_ascii_digit())
                        .unwrap_or(s.len())
                };
                let (da, ra) = a.split_at(split(a));
                let (db, rb) = b.split_at(split(b));
                let strip = |d: &'_ [u8]| {
                    let zeros = d.iter().take_while(|&&c| c == b'0').count();
                    d[zeros..].to_vec()
                };
                let (na, nb) = (strip(da), strip(db));
                // Without leading zeros, a longer run is a larger number; equal lengths compare
                // digit by digit.
                let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(&nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                (a, b) = (ra, rb);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (&a[1..], &b[1..]);
            }
        }
    }
}

/// What the report's header says about the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMeta {
    /// When the report was made, e.g. `2026-05-01 12:00:00 UTC`.
    pub date: String,
    /// The CPU model.
    pub cpu: String,
    /// The number of logical CPUs available.
    pub cores: String,
    /// The SIMD path benchmarks ran with (`STRATA_SIMD`, or `auto`), plus what the CPU offers.
    pub simd: String,
    /// The thread setting (`STRATA_NUM_THREADS`, or the library default).
    pub threads: String,
    /// The command that made the report, e.g. `cargo xtask bench sgemm`.
    pub command: String,
    /// The command that produced the results, when the report's command ran one.
    pub runs: Option<String>,
    /// Which results are included, e.g. "results produced by this run".
    pub scope: String,
}

/// `n` and `noun`, with the noun in the plural unless `n` is 1: `1 group`, `3 groups`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Escapes text for a Markdown table cell (pipes would end the cell).
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The group whose rows are the FMA peaks of the cores (`gemm_fma_peak/<path>-<N>t/f32`).
pub const PEAK_GROUP: &str = "gemm_fma_peak";

/// The FLOPs one iteration of a benchmark does, if its group counts FLOPs.
fn flops(group_id: &str, throughput: Option<&Throughput>) -> Option<u64> {
    if !is_flop_group(group_id) {
        return None;
    }
    match throughput? {
        Throughput::Elements(n) => Some(*n),
        Throughput::ElementsAndBytes { elements, .. } => Some(*elements),
        _ => None,
    }
}

/// The f32 FMA peak of each `<path>-<N>t` measured among `results`, in GFLOP/s.
pub fn fma_peaks(results: &[BenchResult]) -> BTreeMap<String, f64> {
    results
        .iter()
        .filter(|r| r.id.group_id == PEAK_GROUP && r.id.value_str.as_deref() == Some("f32"))
        .filter_map(|r| {
            let gflops =
                flops(PEAK_GROUP, r.id.throughput.as_ref())? as f64 / r.estimates.median.point_ns;
            Some((r.id.function_id.clone()?, gflops))
        })
        .filter(|(_, g)| g.is_finite() && *g > 0.0)
        .collect()
}

/// The fraction of the measured FMA peak of its path and thread count (its function id, e.g.
/// `avx512-1t`) that a FLOP-group row reaches: `GFLOP/s ÷ peak`, against half the f32 peak in
/// `dgemm*` groups (f64 vectors hold half the lanes). `None` outside FLOP groups, for the peak
/// rows themselves and where no peak of that path and thread count was measured.
pub fn peak_fraction(result: &BenchResult, peaks: &BTreeMap<String, f64>) -> Option<f64> {
    let group = result.id.group_id.as_str();
    if group == PEAK_GROUP {
        return None;
    }
    let work = flops(group, result.id.throughput.as_ref())? as f64;
    let peak = peaks.get(result.id.function_id.as_deref()?)?;
    let peak = if group.to_ascii_lowercase().starts_with("dgemm") {
        peak / 2.0
    } else {
        *peak
    };
    let gflops = work / result.estimates.median.point_ns;
    gflops.is_finite().then_some(gflops / peak)
}

/// Renders the Markdown report: a header from `meta`, then per group (in name order) a table
/// `benchmark | path | parameter | median | throughput | median CI`, with rows ordered by
/// parameter then path in natural order. Where the results hold the FMA peak of a row's path
/// and thread count ([`PEAK_GROUP`]), its FLOP group's table has a column `of peak` (see
/// [`peak_fraction`]).
pub fn render(meta: &ReportMeta, results: &[BenchResult]) -> String {
    let peaks = fma_peaks(results);
    let mut groups: BTreeMap<&str, Vec<&BenchResult>> = BTreeMap::new();
    for r in results {
        groups.entry(r.id.group_id.as_str()).or_default().push(r);
    }

    let mut out = String::new();
    // Writing to a String cannot fail, so the `fmt::Result`s below are ignored.
    let _ = writeln!(out, "# Strata benchmark report\n");
    let _ = writeln!(out, "- **Date:** {}", meta.date);
    let _ = writeln!(out, "- **CPU:** {}", meta.cpu);
    let _ = writeln!(out, "- **Cores:** {}", meta.cores);
    let _ = writeln!(out, "- **SIMD path:** {}", meta.simd);
    let _ = writeln!(out, "- **Threads:** {}", meta.threads);
    let _ = write!(out, "- **Command:** `{}`", meta.command);
    if let Some(runs) = &meta.runs {
        let _ = write!(out, " (runs `{runs}`)");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "- **Results:** {} in {} ({})",
        count(results.len(), "benchmark"),
        count(groups.len(), "group"),
        meta.scope
    );
    let _ = writeln!(
        out,
        "\n*median* is criterion's median time per iteration; *throughput* is computed from it: \
         GFLOP/s for groups named `sgemm*`, `dgemm*`, `gemm*`, `conv*` or `*_flops` (their element \
         count is the FLOPs per iteration), Melem/s or Gelem/s for other element counts, GB/s \
         (10⁹ bytes) for byte counts. *path* is the SIMD/GEMM path the benchmark ran \
         (a `-Nt` suffix: N threads). *of peak* is the throughput as a fraction of the FMA peak \
         of the same path and threads measured in this report (`{PEAK_GROUP}`; half of it for \
         `dgemm*`)."
    );

    for (group, mut rows) in groups {
        rows.sort_by(|x, y| {
            let key = |r: &BenchResult| {
                (
                    r.id.value_str.clone().unwrap_or_default(),
                    r.id.function_id.clone().unwrap_or_default(),
                )
            };
            let (kx, ky) = (key(x), key(y));
            natural_cmp(&kx.0, &ky.0).then_with(|| natural_cmp(&kx.1, &ky.1))
        });
        let fractions: Vec<Option<f64>> = rows.iter().map(|r| peak_fraction(r, &peaks)).collect();
        let with_peak = fractions.iter().any(Option::is_some);
        let _ = writeln!(out, "\n## {}\n", cell(group));
        let (peak_head, peak_rule) = if with_peak {
            (" of peak |", " ---: |")
        } else {
            ("", "")
        };
        let _ = writeln!(
            out,
            "| benchmark | path | parameter | median | throughput |{peak_head} median CI |"
        );
        let _ = writeln!(out, "| --- | --- | --- | ---: | ---: |{peak_rule} --- |");
        for (r, fraction) in rows.iter().zip(&fractions) {
            let m = &r.estimates.median;
            let peak_cell = match (with_peak, fraction) {
                (false, _) => String::new(),
                (true, Some(f)) => format!(" {:.0}% |", 100.0 * f),
                (true, None) => " — |".to_string(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |{peak_cell} {} |",
                cell(&r.id.full_id()),
                cell(r.id.function_id.as_deref().unwrap_or("—")),
                cell(r.id.value_str.as_deref().unwrap_or("—")),
                format_time(m.point_ns),
                format_throughput(group, r.id.throughput.as_ref(), m.point_ns),
                format_args!(
                    "{:.0}%: {} – {}",
                    m.confidence_level * 100.0,
                    format_time(m.lower_ns),
                    format_time(m.upper_ns)
                ),
            );
        }
    }
    out
}

/// Formats seconds since the Unix epoch as a UTC date and time, `YYYY-MM-DD HH:MM:SS UTC`.
pub fn format_utc(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of the 400-year era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the year from March 1st
    let mp = (5 * doy + 2) / 153; // month from March, [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SGEMM_BENCHMARK: &str = r#"{"group_id":"sgemm","function_id":"avx512-2t","value_str":"256x256x256","throughput":{"Elements":33554432},"full_id":"sgemm/avx512-2t/256x256x256","directory_name":"sgemm/avx512-2t/256x256x256","title":"sgemm/avx512-2t/256x256x256"}"#;

    const PLAIN_BENCHMARK: &str = r#"{"group_id":"plain","function_id":null,"value_str":null,"throughput":null,"full_id":"plain","directory_name":"plain","title":"plain"}"#;

    /// Estimates with a median of 1 ms (CI 0.9–1.1 ms) and a mean of 1.2 ms.
    const ESTIMATES: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1100000.0,"upper_bound":1300000.0},"point_estimate":1200000.0,"standard_error":100.0},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":900000.0,"upper_bound":1100000.0},"point_estimate":1000000.0,"standard_error":50.0},"median_abs_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":1.5,"standard_error":0.1},"slope":null,"std_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":1.5,"standard_error":0.1}}"#;

    fn meta() -> ReportMeta {
        ReportMeta {
            date: "2026-01-01 00:00:00 UTC".into(),
            cpu: "Test CPU".into(),
            cores: "2 logical CPUs".into(),
            simd: "auto".into(),
            threads: "library default".into(),
            command: "cargo xtask bench".into(),
            runs: Some("cargo bench --workspace".into()),
            scope: "results produced by this run".into(),
        }
    }

    fn result(
        group: &str,
        function: &str,
        value: &str,
        throughput: Throughput,
        ns: f64,
    ) -> BenchResult {
        let estimate = Estimate {
            point_ns: ns,
            lower_ns: ns * 0.9,
            upper_ns: ns * 1.1,
            confidence_level: 0.95,
        };
        BenchResult {
            id: BenchmarkId {
                group_id: group.into(),
                function_id: Some(function.into()),
                value_str: Some(value.into()),
                throughput: Some(throughput),
            },
            estimates: Estimates {
                median: estimate,
                mean: estimate,
            },
        }
    }

    #[test]
    fn parses_a_real_pair() {
        let r = BenchResult::from_json(SGEMM_BENCHMARK, ESTIMATES).unwrap();
        assert_eq!(r.id.group_id, "sgemm");
        assert_eq!(r.id.function_id.as_deref(), Some("avx512-2t"));
        assert_eq!(r.id.value_str.as_deref(), Some("256x256x256"));
        assert_eq!(r.id.throughput, Some(Throughput::Elements(33_554_432)));
        assert_eq!(r.id.full_id(), "sgemm/avx512-2t/256x256x256");
        assert_eq!(r.estimates.median.point_ns, 1e6);
        assert_eq!(r.estimates.median.lower_ns, 9e5);
        assert_eq!(r.estimates.median.upper_ns, 1.1e6);
        assert_eq!(r.estimates.median.confidence_level, 0.95);
        assert_eq!(r.estimates.mean.point_ns, 1.2e6);
    }

    #[test]
    fn parses_nulls_and_missing_optionals() {
        let id = parse_benchmark_json(PLAIN_BENCHMARK).unwrap();
        assert_eq!(id.full_id(), "plain");
        assert_eq!(id.function_id, None);
        assert_eq!(id.throughput, None);
        let id = parse_benchmark_json(r#"{"group_id":"g","value_str":"64"}"#).unwrap();
        assert_eq!(id.full_id(), "g/64");
    }

    #[test]
    fn parses_every_throughput_kind() {
        let tp = |json: &str| {
            parse_benchmark_json(&format!(r#"{{"group_id":"g","throughput":{json}}}"#))
                .unwrap()
                .throughput
                .unwrap()
        };
        assert_eq!(tp(r#"{"Bytes":10}"#), Throughput::Bytes(10));
        assert_eq!(tp(r#"{"BytesDecimal":11}"#), Throughput::BytesDecimal(11));
        assert_eq!(tp(r#"{"Bits":12}"#), Throughput::Bits(12));
        assert_eq!(tp(r#"{"Elements":13}"#), Throughput::Elements(13));
        assert_eq!(
            tp(r#"{"ElementsAndBytes":{"elements":3,"bytes":12}}"#),
            Throughput::ElementsAndBytes {
                elements: 3,
                bytes: 12
            }
        );
        assert_eq!(
            tp(r#"{"Furlongs":1}"#),
            Throughput::Unknown("Furlongs".into())
        );
    }

    #[test]
    fn reports_bad_input_with_a_reason() {
        let err = BenchResult::from_json("{not json", ESTIMATES).unwrap_err();
        assert_eq!(err.file, BENCHMARK_JSON);
        assert!(
            err.to_string().starts_with("benchmark.json: invalid JSON"),
            "{err}"
        );
        let err = BenchResult::from_json(SGEMM_BENCHMARK, "").unwrap_err();
        assert_eq!(err.file, ESTIMATES_JSON);
        assert!(
            err.to_string().starts_with("estimates.json: invalid JSON"),
            "{err}"
        );
        let err = parse_benchmark_json(r#"{"function_id":"x"}"#).unwrap_err();
        assert_eq!(err, "missing field `group_id`");
        let err = parse_benchmark_json(r#"{"group_id":3}"#).unwrap_err();
        assert!(err.contains("`group_id` should be a string"), "{err}");
        let err =
            parse_benchmark_json(r#"{"group_id":"g","throughput":{"Elements":-1}}"#).unwrap_err();
        assert!(err.contains("throughput.Elements"), "{err}");
        let err = parse_estimates_json(r#"{"mean":{}}"#).unwrap_err();
        assert_eq!(err, "missing field `median`");
        let err = parse_estimates_json(
            r#"{"median":{"point_estimate":"fast"},"mean":{"point_estimate":1}}"#,
        )
        .unwrap_err();
        assert!(
            err.contains("`median.point_estimate` should be a number"),
            "{err}"
        );
        let err = parse_estimates_json("[]").unwrap_err();
        assert!(err.contains("object"), "{err}");
    }

    #[test]
    fn formats_times_with_units() {
        assert_eq!(format_time(0.98), "0.980 ns");
        assert_eq!(format_time(569.52), "569.5 ns");
        assert_eq!(format_time(3_488.7), "3.489 µs");
        assert_eq!(format_time(27_197.0), "27.20 µs");
        assert_eq!(format_time(999_940.0), "999.9 µs");
        assert_eq!(format_time(999_999.0), "1.000 ms");
        assert_eq!(format_time(1_000_000.0), "1.000 ms");
        assert_eq!(format_time(123_456_789.0), "123.5 ms");
        assert_eq!(format_time(2.5e9), "2.500 s");
    }

    #[test]
    fn recognises_flop_groups() {
        for g in [
            "sgemm",
            "dgemm_square",
            "gemm",
            "conv2d",
            "im2col_flops",
            "SGEMM",
        ] {
            assert!(is_flop_group(g), "{g}");
        }
        for g in ["add", "softmax", "flops_total", "my_conv"] {
            assert!(!is_flop_group(g), "{g}");
        }
    }

    #[test]
    fn formats_throughput_per_convention() {
        // 2·256³ FLOPs in 1 ms = 33.55 GFLOP/s.
        let flops = Throughput::Elements(33_554_432);
        assert_eq!(
            format_throughput("sgemm", Some(&flops), 1e6),
            "33.55 GFLOP/s"
        );
        assert_eq!(
            format_throughput("conv2d", Some(&flops), 1e6),
            "33.55 GFLOP/s"
        );
        assert_eq!(
            format_throughput("pool_flops", Some(&flops), 1e6),
            "33.55 GFLOP/s"
        );
        // Other element counts: Gelem/s from 10⁹ up, Melem/s below.
        let e = Throughput::Elements(4096);
        assert_eq!(format_throughput("add", Some(&e), 3_374.4), "1.214 Gelem/s");
        assert_eq!(format_throughput("add", Some(&e), 1e6), "4.096 Melem/s");
        // Bytes in decimal GB/s whatever the flavour.
        let b = Throughput::Bytes(16_384);
        assert_eq!(format_throughput("copy", Some(&b), 569.52), "28.77 GB/s");
        let b = Throughput::BytesDecimal(1_000_000);
        assert_eq!(format_throughput("copy", Some(&b), 1e6), "1.000 GB/s");
        let bits = Throughput::Bits(8_000);
        assert_eq!(format_throughput("copy", Some(&bits), 1e3), "8.000 Gbit/s");
        let both = Throughput::ElementsAndBytes {
            elements: 1000,
            bytes: 4000,
        };
        assert_eq!(
            format_throughput("relu", Some(&both), 1e3),
            "1.000 Gelem/s, 4.000 GB/s"
        );
        assert_eq!(format_throughput("add", None, 1e3), "—");
        assert_eq!(format_throughput("add", Some(&e), 0.0), "—");
    }

    #[test]
    fn natural_order_treats_digit_runs_as_numbers() {
        let mut v = vec![
            "1024",
            "128",
            "64x64x64",
            "64",
            "0064",
            "avx512-2t",
            "avx512",
            "avx2",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "64",
                "0064",
                "64x64x64",
                "128",
                "1024",
                "avx2",
                "avx512",
                "avx512-2t"
            ]
        );
    }

    #[test]
    fn renders_grouped_sorted_tables() {
        let results = vec![
            result(
                "sgemm",
                "scalar",
                "1024",
                Throughput::Elements(2 * 1024 * 1024 * 1024),
                1e9,
            ),
            result(
                "sgemm",
                "avx2",
                "128",
                Throughput::Elements(2 * 128 * 128 * 128),
                1e5,
            ),
            result("add", "avx2|x", "4096", Throughput::Bytes(16_384), 1e3),
            result(
                "sgemm",
                "avx512",
                "128",
                Throughput::Elements(2 * 128 * 128 * 128),
                5e4,
            ),
        ];
        let md = render(&meta(), &results);
        assert!(md.starts_with("# Strata benchmark report\n"));
        assert!(md.contains("- **CPU:** Test CPU\n"));
        assert!(
            md.contains("- **Command:** `cargo xtask bench` (runs `cargo bench --workspace`)\n")
        );
        assert!(
            md.contains("- **Results:** 4 benchmarks in 2 groups (results produced by this run)\n")
        );
        // Groups in name order.
        let add = md.find("\n## add\n").unwrap();
        let sgemm = md.find("\n## sgemm\n").unwrap();
        assert!(add < sgemm);
        // Rows by parameter, then path.
        let r128a = md.find("| sgemm/avx2/128 |").unwrap();
        let r128b = md.find("| sgemm/avx512/128 |").unwrap();
        let r1024 = md.find("| sgemm/scalar/1024 |").unwrap();
        assert!(r128a < r128b && r128b < r1024);
        assert!(md.contains(
            "| sgemm/avx512/128 | avx512 | 128 | 50.00 µs | 83.89 GFLOP/s | 95%: 45.00 µs – 55.00 µs |"
        ));
        assert!(md.contains("| sgemm/scalar/1024 | scalar | 1024 | 1.000 s | 2.147 GFLOP/s |"));
        // Pipes are escaped so they do not split the cell.
        assert!(md.contains("| add/avx2\\|x/4096 | avx2\\|x | 4096 | 1.000 µs | 16.38 GB/s |"));
        assert_eq!(md.matches("| benchmark | path | parameter |").count(), 2);
    }

    /// GEMM rows get the fraction of their own path and thread count's measured peak (half of
    /// it for f64); rows without a measured peak, and tables without any, get none.
    #[test]
    fn gemm_rows_show_their_fraction_of_the_measured_peak() {
        let peak = |fid, gflops: f64| {
            // 10⁹ FLOPs per iteration: the median in ns is 10⁹ / GFLOP/s.
            result(
                PEAK_GROUP,
                fid,
                "f32",
                Throughput::Elements(1_000_000_000),
                1e9 / gflops,
            )
        };
        let gemm = |group, fid, gflops: f64| {
            result(
                group,
                fid,
                "256",
                Throughput::Elements(1_000_000_000),
                1e9 / gflops,
            )
        };
        let results = vec![
            peak("avx512-1t", 250.0),
            peak("avx512-2t", 500.0),
            gemm("sgemm", "avx512-1t", 200.0),
            gemm("sgemm", "avx512-2t", 250.0),
            gemm("sgemm", "matrixmultiply-1t", 50.0),
            gemm("dgemm", "avx512-1t", 100.0),
            result("add", "avx512", "4096", Throughput::Bytes(16_384), 1e3),
        ];
        let peaks = fma_peaks(&results);
        assert_eq!(peaks.len(), 2);
        let fraction = |i: usize| peak_fraction(&results[i], &peaks);
        let close = |got: Option<f64>, want: f64| {
            assert!(
                got.is_some_and(|g| (g - want).abs() < 1e-9),
                "{got:?} vs {want}"
            )
        };
        close(fraction(2), 0.8);
        close(fraction(3), 0.5);
        assert_eq!(fraction(4), None, "no matrixmultiply peak");
        close(fraction(5), 0.8);
        assert_eq!(fraction(0), None, "a peak row");
        assert_eq!(fraction(6), None, "not a FLOP group");
        let md = render(&meta(), &results);
        assert!(
            md.contains(
                "| sgemm/avx512-1t/256 | avx512-1t | 256 | 5.000 ms | 200.0 GFLOP/s | 80% |"
            ),
            "{md}"
        );
        assert!(md.contains("| sgemm/matrixmultiply-1t/256 | matrixmultiply-1t | 256 | 20.00 ms | 50.00 GFLOP/s | — |"), "{md}");
        assert!(
            md.contains(
                "| dgemm/avx512-1t/256 | avx512-1t | 256 | 10.00 ms | 100.0 GFLOP/s | 80% |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| add/avx512/4096 | avx512 | 4096 | 1.000 µs | 16.38 GB/s | 95%"),
            "{md}"
        );
        assert_eq!(md.matches(" of peak |").count(), 2, "sgemm and dgemm only");
    }

    #[test]
    fn formats_utc_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(format_utc(4_107_542_399), "2100-02-28 23:59:59 UTC");
    }
}
