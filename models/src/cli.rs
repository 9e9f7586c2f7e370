//! Parsers of command-line values for the examples (and any program's own flags): each takes
//! the text of one value and returns it, or a message saying what was expected. With clap,
//! `#[arg(long, value_parser = cli::positive, allow_negative_numbers = true)]` turns
//! `--epochs -1` into `invalid value '-1' for '--epochs <EPOCHS>': -1 is not a positive
//! integer (1 or more)` — the flag, the value and the allowed range.
//!
//! Every float parser refuses NaN and ±∞. Integer parsers refuse signs, fractions and values
//! above their bound; sizes that reach allocations take [`int_in`] with an upper bound, so a
//! typo cannot ask for terabytes.
//!
//! [`log_warnings_to_stderr`] shows the library's `log` warnings on stderr.

use strata_tensor::threads::max_threads;

fn integer(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(format!("{s} is negative"));
    }
    t.parse::<u64>()
        .map_err(|_| format!("{s} is not a whole number"))
}

/// `n` and `noun`, the noun in the plural unless `n` is 1: `1 epoch`, `3 epochs`, `0 epochs`.
pub fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A positive integer, `1..=2⁶⁴−1` (epochs, batch sizes, counts).
pub fn positive(s: &str) -> Result<usize, String> {
    match integer(s) {
        Ok(0) | Err(_) => Err(format!("{s} is not a positive integer (1 or more)")),
        Ok(n) => usize::try_from(n).map_err(|_| format!("{s} is too large")),
    }
}

/// A non-negative integer, `0..` (counts where zero means none).
pub fn count(s: &str) -> Result<usize, String> {
    integer(s)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| format!("{s} is not a whole number 0 or more"))
}

/// An integer in `lo..=hi`: a size with a bound that keeps the memory it implies sane (hidden
/// widths, sequence lengths, sample counts).
///
/// ```
/// let hidden = strata_models::cli::int_in(1, 65536);
/// assert_eq!(hidden("500"), Ok(500));
/// assert!(hidden("0").unwrap_err().contains("1..=65536"));
/// ```
pub fn int_in(
    lo: usize,
    hi: usize,
) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    move |s: &str| match integer(s) {
        Ok(n) if (lo as u64..=hi as u64).contains(&n) => Ok(n as usize),
        _ => Err(format!("{s} is not a whole number in {lo}..={hi}")),
    }
}

/// A seed: any integer `0..=2⁶⁴−1`.
pub fn seed(s: &str) -> Result<u64, String> {
    integer(s).map_err(|_| format!("{s} is not a seed (a whole number 0..=18446744073709551615)"))
}

/// A thread count: `1..=`[`max_threads`] (four per core, 8 on a two-core machine: the pool
/// size `strata_tensor::threads::try_with_threads` accepts).
pub fn threads(s: &str) -> Result<usize, String> {
    let max = max_threads();
    match integer(s) {
        Ok(n) if (1..=max as u64).contains(&n) => Ok(n as usize),
        _ => Err(format!(
            "{s} is not a thread count in 1..={max} (4 per core of this machine)"
        )),
    }
}

fn float(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        Ok(_) => Err(format!("{s} is not a finite number")),
        Err(_) => Err(format!("{s} is not a number")),
    }
}

/// A finite number.
pub fn finite(s: &str) -> Result<f64, String> {
    float(s)
}

/// A finite number above zero (learning rates, norms, temperatures, minutes).
pub fn positive_float(s: &str) -> Result<f64, String> {
    match float(s) {
        Ok(x) if x > 0.0 => Ok(x),
        _ => Err(format!("{s} is not a finite number above 0")),
    }
}

/// A number in `[0, 1)` (momentum, dropout and masking fractions).
pub fn fraction(s: &str) -> Result<f64, String> {
    match float(s) {
        Ok(x) if (0.0..1.0).contains(&x) => Ok(x),
        _ => Err(format!("{s} is not a number in [0, 1)")),
    }
}

/// The logger of [`log_warnings_to_stderr`]: `warning: …` and `error: …` lines on stderr.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            let level = match record.level() {
                log::Level::Error => "error",
                _ => "warning",
            };
            eprintln!("{level}: {}", record.args());
        }
    }

    fn flush(&self) {}
}

/// Shows the library's warnings and errors — which it sends through the `log` facade and
/// never prints itself — as `warning: …` and `error: …` lines on stderr, as the examples do
/// first thing. A program with a logger of its own (`env_logger`, `tracing`, …) does not call
/// it; once any logger is set, calling it changes nothing.
pub fn log_warnings_to_stderr() {
    static LOGGER: StderrLogger = StderrLogger;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_english() {
        for (n, text) in [
            (0, "0 epochs"),
            (1, "1 epoch"),
            (2, "2 epochs"),
            (10, "10 epochs"),
        ] {
            assert_eq!(counted(n, "epoch"), text);
        }
    }

    /// Table: parser, text → accepted value or a message containing the expected words.
    #[test]
    fn accepted_and_refused() {
        type Case = (
            &'static str,
            fn(&str) -> Result<f64, String>,
            Option<f64>,
            &'static str,
        );
        let pos = |s: &str| positive(s).map(|n| n as f64);
        let cnt = |s: &str| count(s).map(|n| n as f64);
        let sz = |s: &str| int_in(1, 16_777_216)(s).map(|n| n as f64);
        let cases: &[Case] = &[
            ("3", pos, Some(3.0), ""),
            ("0", pos, None, "positive integer"),
            ("-1", pos, None, "positive integer"),
            ("1.5", pos, None, "positive integer"),
            ("99999999999999999999", pos, None, "positive integer"),
            ("0", cnt, Some(0.0), ""),
            ("-2", cnt, None, "0 or more"),
            ("16777216", sz, Some(16_777_216.0), ""),
            ("16777217", sz, None, "1..=16777216"),
            ("0", sz, None, "1..=16777216"),
            ("1e-3", positive_float, Some(1e-3), ""),
            ("0", positive_float, None, "above 0"),
            ("NaN", positive_float, None, "above 0"),
            ("inf", finite, None, "finite"),
            ("-0.5", finite, Some(-0.5), ""),
            ("x", finite, None, "not a number"),
            ("0.9", fraction, Some(0.9), ""),
            ("1", fraction, None, "[0, 1)"),
            ("-0.1", fraction, None, "[0, 1)"),
        ];
        for (text, parse, want, message) in cases {
            match (parse(text), want) {
                (Ok(got), Some(want)) => assert_eq!(got, *want, "{text}"),
                (Err(e), None) => assert!(e.contains(message) && e.contains(text), "{text}: {e}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn threads_are_capped_by_the_cores() {
        assert_eq!(threads("1"), Ok(1));
        assert_eq!(threads(&max_threads().to_string()), Ok(max_threads()));
        let too_many = threads("100000").unwrap_err();
        assert!(too_many.contains("per core"), "{too_many}");
        assert!(threads("0").is_err());
    }
}
