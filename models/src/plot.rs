//! Training history and learning-curve plots written as PNG images.
//!
//! [`History`] records one [`EpochMetrics`] per epoch and saves itself as CSV or JSON.
//! [`plot_learning_curves`] draws a history as two panels — loss and error rate against
//! epoch, training and validation — and [`plot_series`] is the general line plot behind it
//! (reconstruction error per epoch, free energy per step, …).
//!
//! Every file is written atomically: the bytes go to a temporary file in the same directory,
//! which is synced and then renamed over the target, so a crash never leaves half a file in
//! place of a good one. Missing parent directories are created.
//!
//! # Fonts
//!
//! Text (titles, tick labels, axis titles, legend entries) is rasterized from a TrueType or
//! OpenType font found once per process: the file named by the `STRATA_FONT` environment
//! variable if it is set, otherwise the first usable file of [`FONT_CANDIDATES`] (DejaVu Sans,
//! Liberation Sans, FreeSans, Arial or Helvetica at their usual Linux, macOS and Windows
//! paths). If none is usable the plots are still written — curves, axes, grid and legend
//! swatches, without any text — and a warning naming every path tried is printed once to
//! standard error; [`plot_font`] reports the same. On Debian and Ubuntu, `fonts-dejavu-core`
//! provides the default font.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Epoch records and the history
// ---------------------------------------------------------------------------------------------

/// What one epoch of training measured.
///
/// Losses are the mean per-example loss; error rates are fractions in `[0, 1]` (`0.02` is
/// 2 % misclassified) and are `None` when not measured (a regression or reconstruction task,
/// or no validation set). Non-finite values are kept as they are: plots skip them, CSV writes
/// `NaN`, `inf` and `-inf`, and JSON writes them as the strings `"NaN"`, `"inf"` and `"-inf"`
/// (JSON has no literal for them), all of which read back to the same value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Epoch number (the first epoch is usually 1).
    pub epoch: usize,
    /// Mean training loss over the epoch.
    #[serde(with = "json_f64")]
    pub train_loss: f64,
    /// Training error rate (fraction of misclassified examples), if measured.
    #[serde(default, with = "json_opt_f64")]
    pub train_error: Option<f64>,
    /// Mean validation loss, if a validation set was evaluated.
    #[serde(default, with = "json_opt_f64")]
    pub val_loss: Option<f64>,
    /// Validation error rate (fraction of misclassified examples), if measured.
    #[serde(default, with = "json_opt_f64")]
    pub val_error: Option<f64>,
    /// Wall-clock seconds the epoch took.
    #[serde(default, with = "json_f64")]
    pub seconds: f64,
    /// Training throughput over the epoch, in examples per second.
    #[serde(default, with = "json_f64")]
    pub examples_per_second: f64,
    /// Learning rate in effect during the epoch (the last one, if a schedule changed it).
    #[serde(default, with = "json_f64")]
    pub learning_rate: f64,
    /// The stage of a multi-stage run (0-based: the layer a layer-wise schedule trained);
    /// `None` for a single-stage run.
    #[serde(default)]
    pub stage: Option<usize>,
    /// Further metrics by name, epoch means: a learner's own (`free_energy`,
    /// `reconstruction`, …) and their validation values (`val_free_energy`, …).
    #[serde(default, with = "json_f64_map")]
    pub metrics: BTreeMap<String, f64>,
}

impl EpochMetrics {
    /// A record for `epoch` with its training loss; error rates and validation figures are
    /// `None`, timing and learning rate are 0. Fill the other public fields directly.
    pub fn new(epoch: usize, train_loss: f64) -> Self {
        EpochMetrics {
            epoch,
            train_loss,
            ..EpochMetrics::default()
        }
    }
}

/// The per-epoch record of a training run: a list of [`EpochMetrics`] in the order they were
/// pushed.
///
/// It serializes (serde) as a plain sequence of records, saves to and loads from CSV
/// ([`History::to_csv`], [`History::from_csv`]) and JSON ([`History::to_json`],
/// [`History::from_json`]), and plots with [`plot_learning_curves`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct History {
    epochs: Vec<EpochMetrics>,
}

/// CSV columns, in the order [`History::to_csv`] writes them.
const CSV_COLUMNS: [&str; 9] = [
    "epoch",
    "train_loss",
    "train_error",
    "val_loss",
    "val_error",
    "seconds",
    "examples_per_second",
    "learning_rate",
    "stage",
];

impl History {
    /// An empty history.
    pub fn new() -> Self {
        History::default()
    }

    /// Appends the record of one epoch.
    pub fn push(&mut self, metrics: EpochMetrics) {
        self.epochs.push(metrics);
    }

    /// Number of recorded epochs.
    pub fn len(&self) -> usize {
        self.epochs.len()
    }

    /// Whether no epoch has been recorded.
    pub fn is_empty(&self) -> bool {
        self.epochs.is_empty()
    }

    /// The records, oldest first.
    pub fn iter(&self) -> std::slice::Iter<'_, EpochMetrics> {
        self.epochs.iter()
    }

    /// The records as a slice, oldest first.
    pub fn as_slice(&self) -> &[EpochMetrics] {
        &self.epochs
    }

    /// The most recent record, if any.
    pub fn last(&self) -> Option<&EpochMetrics> {
        self.epochs.last()
    }

    /// The record with the lowest `key`, e.g. `history.best_by(|m| m.val_error)` or
    /// `history.best_by(|m| m.train_loss)`.
    ///
    /// `key` returns an `f64` or an `Option<f64>`; records whose key is `None` or NaN are
    /// skipped, and the earliest record wins a tie. `None` if no record has a key.
    pub fn best_by<K: Into<Option<f64>>>(
        &self,
        key: impl Fn(&EpochMetrics) -> K,
    ) -> Option<&EpochMetrics> {
        let mut best: Option<(&EpochMetrics, f64)> = None;
        for m in &self.epochs {
            let Some(value) = key(m).into() else {
                continue;
            };
            if value.is_nan() {
                continue;
            }
            if best.is_none_or(|(_, b)| value < b) {
                best = Some((m, value));
            }
        }
        best.map(|(m, _)| m)
    }

    /// Writes the history as CSV: a header line naming the columns `epoch, train_loss,
    /// train_error, val_loss, val_error, seconds, examples_per_second, learning_rate, stage`
    /// and then every metric name that occurs (sorted), then one line per epoch. A `None` field is empty; numbers use the shortest text that reads back
    /// to the same `f64`, and non-finite ones are `NaN`, `inf` or `-inf`.
    ///
    /// The file is written atomically (temporary file, sync, rename); missing parent
    /// directories are created.
    ///
    /// # Errors
    /// [`HistoryError::Io`] if the file cannot be written.
    pub fn to_csv(&self, path: impl AsRef<Path>) -> Result<(), HistoryError> {
        let path = path.as_ref();
        write_atomically(path, self.csv_text().as_bytes()).map_err(|source| HistoryError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a history written by [`History::to_csv`].
    ///
    /// Columns are matched by their header name, in any order; `epoch` and `train_loss` are
    /// required, a missing optional column reads as `None` (error rates, validation loss,
    /// stage) or 0 (timing, learning rate), and columns of other names are read as
    /// [`EpochMetrics::metrics`] (an empty field: no value that epoch). Blank lines are
    /// skipped.
    ///
    /// # Errors
    /// [`HistoryError::Io`] if the file cannot be read; [`HistoryError::Csv`] with the line
    /// number if the header lacks a required column or names one twice, a line has the wrong
    /// number of fields, or a field is not a number.
    pub fn from_csv(path: impl AsRef<Path>) -> Result<History, HistoryError> {
        let path = path.as_ref();
        let text = fs::read_to_string(path).map_err(|source| HistoryError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        parse_csv(&text).map_err(|(line, message)| HistoryError::Csv {
            path: path.to_path_buf(),
            line,
            message,
        })
    }

    /// Writes the history as pretty-printed JSON: an array of objects with the fields of
    /// [`EpochMetrics`] (`null` for `None`, `"NaN"`, `"inf"`, `"-inf"` for non-finite numbers).
    ///
    /// The file is written atomically (temporary file, sync, rename); missing parent
    /// directories are created.
    ///
    /// # Errors
    /// [`HistoryError::Io`] if the file cannot be written.
    pub fn to_json(&self, path: impl AsRef<Path>) -> Result<(), HistoryError> {
        let path = path.as_ref();
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|source| HistoryError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        bytes.push(b'\n');
        write_atomically(path, &bytes).map_err(|source| HistoryError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a history written by [`History::to_json`].
    ///
    /// # Errors
    /// [`HistoryError::Io`] if the file cannot be read; [`HistoryError::Json`] (with line and
    /// column) if it is not such a JSON array.
    pub fn from_json(path: impl AsRef<Path>) -> Result<History, HistoryError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|source| HistoryError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| HistoryError::Json {
            path: path.to_path_buf(),
            source,
        })
    }

    fn csv_text(&self) -> String {
        use std::fmt::Write as _;
        let names: std::collections::BTreeSet<&str> = self
            .epochs
            .iter()
            .flat_map(|m| m.metrics.keys().map(String::as_str))
            .collect();
        let mut out = CSV_COLUMNS.join(",");
        for name in &names {
            out.push(',');
            out.push_str(name);
        }
        out.push('\n');
        let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        for m in &self.epochs {
            // Writing to a String cannot fail.
            let _ = write!(
                out,
                "{},{},{},{},{},{},{},{},{}",
                m.epoch,
                m.train_loss,
                opt(m.train_error),
                opt(m.val_loss),
                opt(m.val_error),
                m.seconds,
                m.examples_per_second,
                m.learning_rate,
                m.stage.map(|s| s.to_string()).unwrap_or_default()
            );
            for name in &names {
                out.push(',');
                out.push_str(&opt(m.metrics.get(*name).copied()));
            }
            out.push('\n');
        }
        out
    }
}

/// Parses CSV text; an error carries the 1-based line number and what is wrong.
fn parse_csv(text: &str) -> Result<History, (usize, String)> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Err((1, "empty file: expected a header line".into()));
    };
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    // column[k] = position of CSV_COLUMNS[k] in the file, if present.
    let mut column = [None; CSV_COLUMNS.len()];
    // (name, position) of every other column: a metric.
    let mut metric_columns: Vec<(&str, usize)> = Vec::new();
    for (pos, name) in names.iter().enumerate() {
        let twice = || Err((header_line, format!("column `{name}` appears twice")));
        if let Some(k) = CSV_COLUMNS.iter().position(|c| c == name) {
            if column[k].is_some() {
                return twice();
            }
            column[k] = Some(pos);
        } else if !name.is_empty() {
            if metric_columns.iter().any(|(n, _)| n == name) {
                return twice();
            }
            metric_columns.push((name, pos));
        }
    }
    for required in [0, 1] {
        if column[required].is_none() {
            return Err((
                header_line,
                format!(
                    "header lacks the required column `{}` (found: {header})",
                    CSV_COLUMNS[required]
                ),
            ));
        }
    }

    let mut history = History::new();
    for (line_no, line) in lines {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != names.len() {
            return Err((
                line_no,
                format!(
                    "expected {} fields (as in the header), found {}",
                    names.len(),
                    fields.len()
                ),
            ));
        }
        let field = |k: usize| column[k].map(|pos| fields[pos]).filter(|f| !f.is_empty());
        let float = |k: usize| -> Result<Option<f64>, (usize, String)> {
            field(k)
                .map(|f| {
                    f.parse::<f64>().map_err(|_| {
                        (
                            line_no,
                            format!("column `{}`: `{f}` is not a number", CSV_COLUMNS[k]),
                        )
                    })
                })
                .transpose()
        };
        let epoch_text = field(0).ok_or_else(|| (line_no, "column `epoch` is empty".into()))?;
        let epoch = epoch_text.parse::<usize>().map_err(|_| {
            (
                line_no,
                format!("column `epoch`: `{epoch_text}` is not a non-negative integer"),
            )
        })?;
        let train_loss =
            float(1)?.ok_or_else(|| (line_no, "column `train_loss` is empty".to_string()))?;
        let stage = field(8)
            .map(|f| {
                f.parse::<usize>().map_err(|_| {
                    (
                        line_no,
                        format!("column `stage`: `{f}` is not a non-negative integer"),
                    )
                })
            })
            .transpose()?;
        let mut metrics = BTreeMap::new();
        for (name, pos) in &metric_columns {
            let f = fields[*pos];
            if f.is_empty() {
                continue;
            }
            let value = f
                .parse::<f64>()
                .map_err(|_| (line_no, format!("column `{name}`: `{f}` is not a number")))?;
            metrics.insert(name.to_string(), value);
        }
        history.push(EpochMetrics {
            epoch,
            train_loss,
            train_error: float(2)?,
            val_loss: float(3)?,
            val_error: float(4)?,
            seconds: float(5)?.unwrap_or(0.0),
            examples_per_second: float(6)?.unwrap_or(0.0),
            learning_rate: float(7)?.unwrap_or(0.0),
            stage,
            metrics,
        });
    }
    Ok(history)
}

impl<'a> IntoIterator for &'a History {
    type Item = &'a EpochMetrics;
    type IntoIter = std::slice::Iter<'a, EpochMetrics>;

    fn into_iter(self) -> Self::IntoIter {
        self.epochs.iter()
    }
}

impl IntoIterator for History {
    type Item = EpochMetrics;
    type IntoIter = std::vec::IntoIter<EpochMetrics>;

    fn into_iter(self) -> Self::IntoIter {
        self.epochs.into_iter()
    }
}

impl FromIterator<EpochMetrics> for History {
    fn from_iter<I: IntoIterator<Item = EpochMetrics>>(iter: I) -> Self {
        History {
            epochs: iter.into_iter().collect(),
        }
    }
}

impl Extend<EpochMetrics> for History {
    fn extend<I: IntoIterator<Item = EpochMetrics>>(&mut self, iter: I) {
        self.epochs.extend(iter);
    }
}

impl From<Vec<EpochMetrics>> for History {
    fn from(epochs: Vec<EpochMetrics>) -> Self {
        History { epochs }
    }
}

/// Why a [`History`] could not be saved or loaded.
#[derive(Debug)]
#[non_exhaustive]
pub enum HistoryError {
    /// Reading or writing the file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file is not valid history JSON (or the history could not be encoded as JSON).
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error, which gives the line and column.
        source: serde_json::Error,
    },
    /// The file is not valid history CSV.
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the offending line.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::Io { path, source } => {
                write!(f, "training history {}: {source}", path.display())
            }
            HistoryError::Json { path, source } => {
                write!(
                    f,
                    "training history {}: invalid JSON: {source}",
                    path.display()
                )
            }
            HistoryError::Csv {
                path,
                line,
                message,
            } => write!(
                f,
                "training history {}, line {line}: invalid CSV: {message}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for HistoryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HistoryError::Io { source, .. } => Some(source),
            HistoryError::Json { source, .. } => Some(source),
            HistoryError::Csv { .. } => None,
        }
    }
}

/// Serde adapter for `f64` fields: human-readable formats (JSON) write non-finite values as
/// the strings `"NaN"`, `"inf"`, `"-inf"` and read them (and `null`, as NaN) back; binary
/// formats store the plain `f64`.
mod json_f64 {
    use serde::de::{self, Visitor};
    use serde::{Deserialize, Deserializer, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() || !serializer.is_human_readable() {
            serializer.serialize_f64(*value)
        } else {
            serializer.serialize_str(&value.to_string())
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(FloatVisitor)
        } else {
            f64::deserialize(deserializer)
        }
    }

    struct FloatVisitor;

    impl Visitor<'_> for FloatVisitor {
        type Value = f64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number or one of the strings \"NaN\", \"inf\", \"-inf\"")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            v.trim()
                .parse::<f64>()
                .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
        }
        fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
            Ok(f64::NAN)
        }
        fn visit_none<E: de::Error>(self) -> Result<f64, E> {
            Ok(f64::NAN)
        }
    }

    /// An `f64` serialized through this adapter (for use inside `Option`).
    pub struct Wrapped(pub f64);

    impl serde::Serialize for Wrapped {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serialize(&self.0, serializer)
        }
    }

    impl<'de> Deserialize<'de> for Wrapped {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserialize(deserializer).map(Wrapped)
        }
    }
}

/// Serde adapter for `Option<f64>` fields: `None` is `null`, `Some` goes through
/// [`json_f64`], so `Some(NaN)` survives a JSON round trip.
mod json_opt_f64 {
    use super::json_f64::Wrapped;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
        value.map(Wrapped).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<f64>, D::Error> {
        Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|w| w.0))
    }
}

/// Serde adapter for maps of `f64`: each value goes through [`json_f64`], so non-finite
/// metrics survive a JSON round trip.
mod json_f64_map {
    use super::json_f64::Wrapped;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(
        value: &BTreeMap<String, f64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(value.iter().map(|(k, v)| (k, Wrapped(*v))))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, f64>, D::Error> {
        let map = BTreeMap::<String, Wrapped>::deserialize(deserializer)?;
        Ok(map.into_iter().map(|(k, w)| (k, w.0)).collect())
    }
}

/// Writes `bytes` to `path` with the one atomic writer ([`strata_io`]), creating missing
/// folders.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    strata_io::write_atomically_creating_folders(path, bytes)
        .map_err(|e| io::Error::new(e.source.kind(), format!("{}: {}", e.action, e.source)))
}

// ---------------------------------------------------------------------------------------------
// Fonts
// ---------------------------------------------------------------------------------------------

/// Environment variable naming the font file plots use, tried before [`FONT_CANDIDATES`].
pub const FONT_ENV: &str = "STRATA_FONT";

/// Font files tried, in order, when `STRATA_FONT` is unset or unusable: DejaVu Sans,
/// Liberation Sans and FreeSans at their Debian/Ubuntu, Fedora and Arch paths, then Arial and
/// Helvetica on macOS and Arial on Windows.
pub const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans-fonts/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/opt/homebrew/share/fonts/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "/Library/Fonts/Arial.ttf",
    "/System/Library/Fonts/Helvetica.ttc",
    "C:\\Windows\\Fonts\\arial.ttf",
];

/// The font plots use, looked up once per process (see the [module docs](self)).
pub struct PlotFont {
    font: Option<FontVec>,
    path: Option<PathBuf>,
    tried: Vec<(PathBuf, String)>,
    env_failed: bool,
}

impl fmt::Debug for PlotFont {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlotFont")
            .field("path", &self.path)
            .field("tried", &self.tried)
            .finish()
    }
}

impl PlotFont {
    /// The font file in use, or `None` if no usable font was found and plots carry no text.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The files tried before the one in use (all of them if none was usable), each with
    /// why it was not used.
    pub fn tried(&self) -> &[(PathBuf, String)] {
        &self.tried
    }

    /// A warning to show the user: `Some` if no font was found (plots have no text), or if
    /// `STRATA_FONT` names an unusable file and another font was used instead.
    pub fn warning(&self) -> Option<String> {
        let tried = || {
            self.tried
                .iter()
                .map(|(p, why)| format!("{} ({why})", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match &self.path {
            None => Some(format!(
                "Strata plots: no usable font found, so plots are drawn without text; tried: \
                 {}. Set {FONT_ENV} to a .ttf file or install a font such as DejaVu Sans \
                 (Debian/Ubuntu: fonts-dejavu-core).",
                tried()
            )),
            Some(used) if self.env_failed => Some(format!(
                "Strata plots: {FONT_ENV} is unusable; using {} instead; tried: {}",
                used.display(),
                tried()
            )),
            Some(_) => None,
        }
    }
}

/// The plot font, found and loaded on first use (see the [module docs](self)).
pub fn plot_font() -> &'static PlotFont {
    static FONT: OnceLock<PlotFont> = OnceLock::new();
    FONT.get_or_init(load_font)
}

fn load_font() -> PlotFont {
    let env = std::env::var_os(FONT_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let has_env = env.is_some();
    let mut tried = Vec::new();
    let candidates = env
        .into_iter()
        .chain(FONT_CANDIDATES.iter().map(PathBuf::from));
    for (i, path) in candidates.enumerate() {
        let why = match fs::read(&path) {
            Ok(bytes) => match FontVec::try_from_vec(bytes) {
                // A font without Latin letters and digits would draw empty boxes.
                Ok(font) if "Epoch0123456789.%".chars().all(|c| font.glyph_id(c).0 != 0) => {
                    return PlotFont {
                        font: Some(font),
                        path: Some(path),
                        tried,
                        env_failed: has_env && i > 0,
                    };
                }
                Ok(_) => "lacks Latin letters or digits".to_string(),
                Err(_) => "not a TrueType/OpenType font".to_string(),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => "not found".to_string(),
            Err(e) => e.to_string(),
        };
        tried.push((path, why));
    }
    PlotFont {
        font: None,
        path: None,
        tried,
        env_failed: has_env,
    }
}

/// The font to draw text with, if any; prints the font warning, if any, once per process.
fn text_font() -> Option<&'static FontVec> {
    static WARNED: AtomicBool = AtomicBool::new(false);
    let font = plot_font();
    if let Some(warning) = font.warning()
        && !WARNED.swap(true, Ordering::Relaxed)
    {
        eprintln!("warning: {warning}");
    }
    font.font.as_ref()
}

/// Where a text box sits relative to its anchor point, along one axis.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Align {
    /// The anchor is the box's left (or top) edge.
    Start,
    /// The anchor is the box's center.
    Center,
    /// The anchor is the box's right (or bottom) edge.
    End,
}

/// A piece of text to draw once the shapes are drawn, in image pixels.
struct Label {
    text: String,
    x: i32,
    y: i32,
    size: f32,
    horizontal: Align,
    vertical: Align,
    /// Rotated a quarter turn counter-clockwise (reads bottom to top).
    rotated: bool,
}

/// Width in pixels of `text` set at `size` px (0 without a font).
fn text_width(font: Option<&FontVec>, text: &str, size: f32) -> i32 {
    let Some(font) = font else {
        return 0;
    };
    let scaled = font.as_scaled(PxScale::from(size));
    let mut width = 0.0;
    let mut previous = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        previous = Some(id);
    }
    width.ceil() as i32
}

/// Rasterizes `label` and blends it in `TEXT_COLOR` into a packed RGB image.
fn draw_label(rgb: &mut [u8], (width, height): (u32, u32), font: &FontVec, label: &Label) {
    const PAD: i32 = 2;
    let scale = PxScale::from(label.size);
    let scaled = font.as_scaled(scale);
    let box_w = text_width(Some(font), &label.text, label.size);
    let box_h = (scaled.ascent() - scaled.descent()).ceil() as i32;
    // Coverage of the horizontal text, with a margin for glyphs overhanging their advance.
    let (cw, ch) = (box_w + 2 * PAD, box_h + 2 * PAD);
    let mut coverage = vec![0f32; (cw * ch) as usize];
    let mut caret = PAD as f32;
    let mut previous = None;
    for c in label.text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scale, point(caret, PAD as f32 + scaled.ascent()));
        caret += scaled.h_advance(id);
        previous = Some(id);
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outline.px_bounds();
        outline.draw(|x, y, a| {
            let px = bounds.min.x as i32 + x as i32;
            let py = bounds.min.y as i32 + y as i32;
            if (0..cw).contains(&px) && (0..ch).contains(&py) {
                let cell = &mut coverage[(py * cw + px) as usize];
                *cell = (*cell + a).min(1.0);
            }
        });
    }

    // Place the text box (rotated if asked) by its anchor.
    let (bw, bh) = if label.rotated {
        (box_h, box_w)
    } else {
        (box_w, box_h)
    };
    let place = |anchor: i32, size: i32, align: Align| match align {
        Align::Start => anchor,
        Align::Center => anchor - size / 2,
        Align::End => anchor - size,
    };
    let left = place(label.x, bw, label.horizontal) - PAD;
    let top = place(label.y, bh, label.vertical) - PAD;
    let color = [TEXT_COLOR.0, TEXT_COLOR.1, TEXT_COLOR.2];
    for j in 0..ch {
        for i in 0..cw {
            let a = coverage[(j * cw + i) as usize];
            if a <= 0.0 {
                continue;
            }
            let (x, y) = if label.rotated {
                (left + j, top + (cw - 1 - i))
            } else {
                (left + i, top + j)
            };
            if x < 0 || y < 0 || x >= width as i32 || y >= height as i32 {
                continue;
            }
            let at = (y as usize * width as usize + x as usize) * 3;
            for (dst, src) in rgb[at..at + 3].iter_mut().zip(color) {
                *dst = (*dst as f32 * (1.0 - a) + src as f32 * a).round() as u8;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Plot errors
// ---------------------------------------------------------------------------------------------

/// Why a plot could not be written.
#[derive(Debug)]
#[non_exhaustive]
pub enum PlotError {
    /// Writing the image file failed.
    Io {
        /// The image file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Encoding the image as PNG failed.
    Encode {
        /// The image file.
        path: PathBuf,
        /// The encoder's message.
        message: String,
    },
    /// Drawing into the image buffer failed.
    Draw {
        /// The image file.
        path: PathBuf,
        /// The renderer's message.
        message: String,
    },
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlotError::Io { path, source } => write!(f, "plot {}: {source}", path.display()),
            PlotError::Encode { path, message } => {
                write!(f, "plot {}: PNG encoding failed: {message}", path.display())
            }
            PlotError::Draw { path, message } => {
                write!(f, "plot {}: drawing failed: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for PlotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PlotError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Public plots
// ---------------------------------------------------------------------------------------------

/// Size of a learning-curve image, in pixels.
const LEARNING_CURVES_SIZE: (u32, u32) = (900, 400);
/// Size of a [`plot_series`] image, in pixels.
const SERIES_SIZE: (u32, u32) = (720, 450);

const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VAL_COLOR: RGBColor = RGBColor(255, 127, 14);
/// Colors of successive [`plot_series`] curves (a colorblind-friendly categorical palette).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Draws a history as a 900 × 400 PNG with two panels — loss (training and validation) and
/// error rate in percent (training and validation) against epoch — with tick labels, axis
/// titles, a legend in each panel and `title` above both. A history without error rates but
/// with [`EpochMetrics::metrics`] (an autoencoder, an RBM) shows those in the second panel.
///
/// Curves whose values are all `None` are left out (no validation set, no error rate); a panel
/// with no curve at all shows empty axes. NaN and infinite values are skipped, breaking the
/// line there; isolated points and short runs (up to 30 epochs) are marked with dots, so a
/// single epoch still shows. The file is written atomically and missing parent directories are
/// created. Without a usable font (see the [module docs](self)) the image is written without
/// text.
///
/// # Errors
/// [`PlotError::Io`] if the file cannot be written; [`PlotError::Draw`] or
/// [`PlotError::Encode`] if rendering fails.
pub fn plot_learning_curves(
    history: &History,
    path: impl AsRef<Path>,
    title: &str,
) -> Result<(), PlotError> {
    let path = path.as_ref();
    let font = text_font();
    let panels = learning_curve_panels(history);
    let png = render_png(path, LEARNING_CURVES_SIZE, title, &panels, font)?;
    write_png(path, &png)
}

/// Draws line plots of `series` — each a legend name and its `(x, y)` points, in drawing
/// order — on one set of axes, as a 720 × 450 PNG with tick labels, axis titles `x_label` and
/// `y_label`, a legend (if any series has a name) and `title` above.
///
/// Non-finite points are skipped, breaking the line there; isolated points and series of at
/// most 30 points are marked with dots. When every x is an integer (epochs, steps) the x ticks
/// fall on integers. The file is written atomically and missing parent directories are
/// created. Without a usable font (see the [module docs](self)) the image is written without
/// text.
///
/// # Errors
/// [`PlotError::Io`] if the file cannot be written; [`PlotError::Draw`] or
/// [`PlotError::Encode`] if rendering fails.
pub fn plot_series(
    path: impl AsRef<Path>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(&str, &[(f64, f64)])],
) -> Result<(), PlotError> {
    let path = path.as_ref();
    let font = text_font();
    let curves: Vec<Curve> = series
        .iter()
        .enumerate()
        .map(|(i, (name, points))| Curve {
            name: name.to_string(),
            color: PALETTE[i % PALETTE.len()],
            points: points.to_vec(),
        })
        .collect();
    let integer_x = curves
        .iter()
        .flat_map(|c| &c.points)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .all(|(x, _)| x.fract() == 0.0 && x.abs() < 1e15);
    let panel = Panel {
        x_label: x_label.to_string(),
        y_label: y_label.to_string(),
        curves,
        integer_x,
        y_scale: YScale::Free,
    };
    let png = render_png(path, SERIES_SIZE, title, &[panel], font)?;
    write_png(path, &png)
}

fn write_png(path: &Path, png: &[u8]) -> Result<(), PlotError> {
    write_atomically(path, png).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// One curve: legend name, color, points (non-finite ones break the line).
struct Curve {
    name: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

/// How the y range is chosen.
#[derive(Clone, Copy, PartialEq)]
enum YScale {
    /// Around the data (down to 0 if the data are non-negative and close to it).
    Free,
    /// From 0 up to a little above the largest value (error rates in percent).
    FromZero,
}

/// One set of axes with its curves.
struct Panel {
    x_label: String,
    y_label: String,
    curves: Vec<Curve>,
    integer_x: bool,
    y_scale: YScale,
}

fn learning_curve_panels(history: &History) -> [Panel; 2] {
    let curve = |name: &str, color, value: &dyn Fn(&EpochMetrics) -> Option<f64>| {
        if history.iter().all(|m| value(m).is_none()) {
            return None;
        }
        Some(Curve {
            name: name.to_string(),
            color,
            points: history
                .iter()
                .map(|m| (m.epoch as f64, value(m).unwrap_or(f64::NAN)))
                .collect(),
        })
    };
    let loss = Panel {
        x_label: "Epoch".into(),
        y_label: "Loss".into(),
        curves: [
            curve("training", TRAIN_COLOR, &|m| Some(m.train_loss)),
            curve("validation", VAL_COLOR, &|m| m.val_loss),
        ]
        .into_iter()
        .flatten()
        .collect(),
        integer_x: true,
        y_scale: YScale::Free,
    };
    let error_curves: Vec<Curve> = [
        curve("training", TRAIN_COLOR, &|m| {
            m.train_error.map(|e| 100.0 * e)
        }),
        curve("validation", VAL_COLOR, &|m| m.val_error.map(|e| 100.0 * e)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let metric_names: std::collections::BTreeSet<&str> = history
        .iter()
        .flat_map(|m| m.metrics.keys().map(String::as_str))
        .collect();
    // A learner without error rates (autoencoder, RBM) shows its own metrics instead.
    let error = if error_curves.is_empty() && !metric_names.is_empty() {
        Panel {
            x_label: "Epoch".into(),
            y_label: "Metric".into(),
            curves: metric_names
                .iter()
                .enumerate()
                .filter_map(|(i, name)| {
                    curve(name, PALETTE[(i + 2) % PALETTE.len()], &|m| {
                        m.metrics.get(*name).copied()
                    })
                })
                .collect(),
            integer_x: true,
            y_scale: YScale::Free,
        }
    } else {
        Panel {
            x_label: "Epoch".into(),
            y_label: "Error rate (%)".into(),
            curves: error_curves,
            integer_x: true,
            y_scale: YScale::FromZero,
        }
    };
    [loss, error]
}

/// Renders panels side by side under a title and encodes them as PNG.
fn render_png(
    path: &Path,
    size: (u32, u32),
    title: &str,
    panels: &[Panel],
    font: Option<&FontVec>,
) -> Result<Vec<u8>, PlotError> {
    let rgb = render_rgb(size, title, panels, font).map_err(|message| PlotError::Draw {
        path: path.to_path_buf(),
        message,
    })?;
    encode_png(&rgb, size).map_err(|e| PlotError::Encode {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn encode_png(rgb: &[u8], (width, height): (u32, u32)) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

const TITLE_HEIGHT: u32 = 34;
const TITLE_SIZE: f32 = 19.0;
const TICK_LABEL_SIZE: f32 = 12.5;
const AXIS_TITLE_SIZE: f32 = 14.0;
const LEGEND_SIZE: f32 = 12.5;
const TICK_LENGTH: i32 = 5;
const TEXT_COLOR: RGBColor = RGBColor(30, 30, 30);
const AXIS_COLOR: RGBColor = RGBColor(80, 80, 80);
const GRID_COLOR: RGBColor = RGBColor(228, 228, 228);
/// Curves with at most this many points get a dot on every point.
const MARKER_LIMIT: usize = 30;

/// Renders into a packed RGB buffer: shapes first, then the text on top. Errors are the
/// renderer's message.
fn render_rgb(
    size: (u32, u32),
    title: &str,
    panels: &[Panel],
    font: Option<&FontVec>,
) -> Result<Vec<u8>, String> {
    let (width, height) = size;
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    let mut labels = Vec::new();
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let body = if title.is_empty() || font.is_none() {
            root.clone()
        } else {
            labels.push(Label {
                text: title.to_string(),
                x: width as i32 / 2,
                y: TITLE_HEIGHT as i32 / 2 + 3,
                size: TITLE_SIZE,
                horizontal: Align::Center,
                vertical: Align::Center,
                rotated: false,
            });
            root.split_vertically(TITLE_HEIGHT).1
        };
        let cells = body.split_evenly((1, panels.len().max(1)));
        for (cell, panel) in cells.iter().zip(panels) {
            draw_panel(cell, panel, font, &mut labels)?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    if let Some(font) = font {
        for label in &labels {
            draw_label(&mut rgb, size, font, label);
        }
    }
    Ok(rgb)
}

/// Finite `(x, y)` points of the curves.
fn finite_points(curves: &[Curve]) -> impl Iterator<Item = (f64, f64)> + '_ {
    curves
        .iter()
        .flat_map(|c| c.points.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
}

/// Whether every point of `curve` gets a dot (short curves).
fn has_markers(curve: &Curve) -> bool {
    finite_points(std::slice::from_ref(curve)).count() <= MARKER_LIMIT
}

/// The maximal runs of consecutive finite points of a curve.
fn finite_runs(points: &[(f64, f64)]) -> impl Iterator<Item = &[(f64, f64)]> {
    points
        .split(|(x, y)| !(x.is_finite() && y.is_finite()))
        .filter(|run| !run.is_empty())
}

/// The x and y ranges of a panel.
fn panel_ranges(panel: &Panel) -> ((f64, f64), (f64, f64)) {
    let bounds = finite_points(&panel.curves).fold(None, |acc, (x, y)| match acc {
        None => Some(((x, x), (y, y))),
        Some(((x0, x1), (y0, y1))) => Some(((x.min(x0), x.max(x1)), (y.min(y0), y.max(y1)))),
    });
    let Some(((x_lo, x_hi), (y_lo, y_hi))) = bounds else {
        return ((0.0, 1.0), (0.0, 1.0));
    };

    // x: a single value gets one unit (epoch) either side; otherwise 3 % padding keeps the
    // end dots inside the frame.
    let (x_lo, x_hi) = if x_lo == x_hi {
        let half = if panel.integer_x {
            1.0
        } else {
            (x_lo.abs() * 0.5).max(0.5)
        };
        (x_lo - half, x_hi + half)
    } else {
        let pad = (x_hi - x_lo) * 0.03;
        (x_lo - pad, x_hi + pad)
    };

    let (y_lo, y_hi) = match panel.y_scale {
        YScale::FromZero => {
            let hi = if y_hi > 0.0 { y_hi * 1.08 } else { 1.0 };
            (y_lo.min(0.0) * 1.08, hi)
        }
        YScale::Free => {
            let pad = if y_lo == y_hi {
                if y_lo == 0.0 { 1.0 } else { y_lo.abs() * 0.1 }
            } else {
                (y_hi - y_lo) * 0.06
            };
            let lo = if y_lo >= 0.0 && y_lo - pad < 0.0 {
                0.0
            } else {
                y_lo - pad
            };
            (lo, y_hi + pad)
        }
    };
    ((x_lo, x_hi), (y_lo, y_hi))
}

/// Tick positions in `[lo, hi]` and their spacing: multiples of a 1-2-5 step giving at most
/// about `max_ticks` ticks; integers only when `integer`.
fn ticks(lo: f64, hi: f64, max_ticks: usize, integer: bool) -> (Vec<f64>, f64) {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return (Vec::new(), 1.0);
    }
    let raw = span / (max_ticks.max(2) - 1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let normalized = raw / magnitude;
    let nice = if normalized <= 1.0 {
        1.0
    } else if normalized <= 2.0 {
        2.0
    } else if normalized <= 5.0 {
        5.0
    } else {
        10.0
    };
    let mut step = nice * magnitude;
    if integer {
        step = step.max(1.0).round();
    }
    let first = (lo / step - 1e-9).ceil();
    let last = (hi / step + 1e-9).floor();
    if !(first.is_finite() && last.is_finite()) || last - first > 100.0 || last < first {
        return (Vec::new(), step);
    }
    let ticks = (first as i64..=last as i64)
        .map(|k| k as f64 * step)
        .collect();
    (ticks, step)
}

/// How tick values are printed: enough decimals to tell ticks `step` apart, or scientific
/// notation for very large or very small magnitudes.
#[derive(Clone, Copy)]
struct TickFormat {
    decimals: usize,
    scientific: bool,
    step: f64,
}

impl TickFormat {
    fn new(ticks: &[f64], step: f64) -> Self {
        let largest = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
        let decimals = if step >= 1.0 {
            0
        } else {
            (-step.log10() - 1e-9).ceil().max(0.0) as usize
        };
        let scientific = largest >= 1e6 || decimals > 4;
        TickFormat {
            decimals,
            scientific,
            step,
        }
    }

    fn format(&self, value: f64) -> String {
        // Print ticks that are zero up to rounding as "0", never "-0" or "1e-17".
        let value = if value.abs() < self.step * 1e-6 {
            0.0
        } else {
            value
        };
        if self.scientific && value != 0.0 {
            format!("{value:.1e}")
        } else if self.scientific {
            "0".to_string()
        } else {
            format!("{value:.*}", self.decimals)
        }
    }
}

/// A linear `f64` axis whose ticks (grid lines) are exactly the given values.
struct TickedAxis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl TickedAxis {
    fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        TickedAxis {
            inner: (lo..hi).into(),
            ticks,
        }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Only bold grid lines, one per tick.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

/// Draws one panel's grid, frame, ticks and curves into `area`, and queues its text (tick
/// labels, axis titles, legend entries) in `labels`.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    font: Option<&FontVec>,
    labels: &mut Vec<Label>,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let ((x_lo, x_hi), (y_lo, y_hi)) = panel_ranges(panel);
    let (x_ticks, x_step) = ticks(x_lo, x_hi, 11, panel.integer_x);
    let (y_ticks, y_step) = ticks(y_lo, y_hi, 7, false);
    let x_format = TickFormat::new(&x_ticks, x_step);
    let y_format = TickFormat::new(&y_ticks, y_step);
    let y_tick_labels: Vec<String> = y_ticks.iter().map(|&t| y_format.format(t)).collect();

    // Room for the tick marks, tick labels and axis titles left of and below the plot.
    let line = |size: f32| (size * 1.2).ceil() as i32;
    let (left, bottom) = if font.is_some() {
        let widest = y_tick_labels
            .iter()
            .map(|l| text_width(font, l, TICK_LABEL_SIZE))
            .max()
            .unwrap_or(0);
        (
            TICK_LENGTH + 4 + widest + 8 + line(AXIS_TITLE_SIZE) + 2,
            TICK_LENGTH + 3 + line(TICK_LABEL_SIZE) + 6 + line(AXIS_TITLE_SIZE),
        )
    } else {
        (TICK_LENGTH + 4, TICK_LENGTH + 4)
    };

    let mut chart = ChartBuilder::on(area)
        .margin_top(12)
        .margin_right(20)
        .margin_left(8 + left as u32)
        .margin_bottom(8 + bottom as u32)
        .build_cartesian_2d(
            TickedAxis::new(x_lo, x_hi, x_ticks.clone()),
            TickedAxis::new(y_lo, y_hi, y_ticks.clone()),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .bold_line_style(GRID_COLOR)
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(err)?;

    for curve in &panel.curves {
        for run in finite_runs(&curve.points) {
            if run.len() > 1 {
                chart
                    .draw_series(LineSeries::new(
                        run.iter().copied(),
                        curve.color.stroke_width(2),
                    ))
                    .map_err(err)?;
            }
            if run.len() == 1 || has_markers(curve) {
                let radius = if run.len() == 1 { 4 } else { 3 };
                chart
                    .draw_series(
                        run.iter()
                            .map(|&p| Circle::new(p, radius, curve.color.filled())),
                    )
                    .map_err(err)?;
            }
        }
    }

    // The frame, then outward tick marks with their labels (in image pixels).
    let plot = chart.plotting_area().strip_coord_spec();
    let (plot_x, plot_y) = plot.get_pixel_range();
    let (x0, x1, y0, y1) = (plot_x.start, plot_x.end - 1, plot_y.start, plot_y.end - 1);
    let (cell_x, cell_y) = area.get_base_pixel();
    let (_, cell_h) = area.dim_in_pixel();
    let in_cell = |(x, y): (i32, i32)| (x - cell_x, y - cell_y);
    area.draw(&PathElement::new(
        vec![
            in_cell((x0, y0)),
            in_cell((x1, y0)),
            in_cell((x1, y1)),
            in_cell((x0, y1)),
            in_cell((x0, y0)),
        ],
        AXIS_COLOR.stroke_width(1),
    ))
    .map_err(err)?;
    for &t in &x_ticks {
        let (x, _) = chart.backend_coord(&(t, y_lo));
        area.draw(&PathElement::new(
            vec![in_cell((x, y1)), in_cell((x, y1 + TICK_LENGTH))],
            AXIS_COLOR.stroke_width(1),
        ))
        .map_err(err)?;
        labels.push(Label {
            text: x_format.format(t),
            x,
            y: y1 + TICK_LENGTH + 3,
            size: TICK_LABEL_SIZE,
            horizontal: Align::Center,
            vertical: Align::Start,
            rotated: false,
        });
    }
    for (&t, text) in y_ticks.iter().zip(y_tick_labels) {
        let (_, y) = chart.backend_coord(&(x_lo, t));
        area.draw(&PathElement::new(
            vec![in_cell((x0 - TICK_LENGTH, y)), in_cell((x0, y))],
            AXIS_COLOR.stroke_width(1),
        ))
        .map_err(err)?;
        labels.push(Label {
            text,
            x: x0 - TICK_LENGTH - 4,
            y,
            size: TICK_LABEL_SIZE,
            horizontal: Align::End,
            vertical: Align::Center,
            rotated: false,
        });
    }
    labels.push(Label {
        text: panel.x_label.clone(),
        x: (x0 + x1) / 2,
        y: cell_y + cell_h as i32 - 8,
        size: AXIS_TITLE_SIZE,
        horizontal: Align::Center,
        vertical: Align::End,
        rotated: false,
    });
    labels.push(Label {
        text: panel.y_label.clone(),
        x: cell_x + 8,
        y: (y0 + y1) / 2,
        size: AXIS_TITLE_SIZE,
        horizontal: Align::Start,
        vertical: Align::Center,
        rotated: true,
    });
    if finite_points(&panel.curves).next().is_none() {
        labels.push(Label {
            text: "no data".to_string(),
            x: (x0 + x1) / 2,
            y: (y0 + y1) / 2,
            size: TICK_LABEL_SIZE,
            horizontal: Align::Center,
            vertical: Align::Center,
            rotated: false,
        });
    }

    // Curve samples in image pixels, to place the legend where it hides least.
    let mut samples = Vec::new();
    for curve in &panel.curves {
        for run in finite_runs(&curve.points) {
            let pixels: Vec<(i32, i32)> = run.iter().map(|p| chart.backend_coord(p)).collect();
            samples.extend_from_slice(&pixels);
            for pair in pixels.windows(2) {
                let ((xa, ya), (xb, yb)) = (pair[0], pair[1]);
                for k in 1..16 {
                    let t = k as f64 / 16.0;
                    samples.push((
                        xa + ((xb - xa) as f64 * t) as i32,
                        ya + ((yb - ya) as f64 * t) as i32,
                    ));
                }
            }
        }
    }
    let plot_box = (x0, y0, x1, y1);
    draw_legend(area, plot_box, &panel.curves, &samples, font, labels).map_err(err)
}

/// Draws the legend box in the corner of the plot (`(x0, y0, x1, y1)` in image pixels) that
/// covers the fewest curve samples (top right, top left, bottom right, bottom left, in order
/// of preference), and queues its entries' names.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x0, y0, x1, y1): (i32, i32, i32, i32),
    curves: &[Curve],
    samples: &[(i32, i32)],
    font: Option<&FontVec>,
    labels: &mut Vec<Label>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    if curves.is_empty() || curves.iter().all(|c| c.name.is_empty()) {
        return Ok(());
    }
    const PAD: i32 = 7;
    const ROW: i32 = 19;
    const SWATCH: i32 = 24;
    const INSET: i32 = 8;
    let text_width = curves
        .iter()
        .map(|c| text_width(font, &c.name, LEGEND_SIZE))
        .max()
        .unwrap_or(0);
    let width = PAD + SWATCH + if font.is_some() { 6 + text_width } else { 0 } + PAD;
    let height = 2 * PAD + ROW * curves.len() as i32 - 4;
    let (left, right) = (x0 + INSET, x1 - INSET - width);
    let (top, bottom) = (y0 + INSET, y1 - INSET - height);
    let corners = [(right, top), (left, top), (right, bottom), (left, bottom)];
    let covered = |(bx, by): (i32, i32)| {
        samples
            .iter()
            .filter(|&&(x, y)| {
                x >= bx - 4 && x <= bx + width + 4 && y >= by - 4 && y <= by + height + 4
            })
            .count()
    };
    let (bx, by) = corners
        .iter()
        .copied()
        .min_by_key(|&c| covered(c))
        .unwrap_or((right, top));

    let (cell_x, cell_y) = area.get_base_pixel();
    let at = |x: i32, y: i32| (x - cell_x, y - cell_y);
    area.draw(&Rectangle::new(
        [at(bx, by), at(bx + width, by + height)],
        WHITE.mix(0.9).filled(),
    ))?;
    area.draw(&Rectangle::new(
        [at(bx, by), at(bx + width, by + height)],
        RGBColor(200, 200, 200).stroke_width(1),
    ))?;
    for (i, curve) in curves.iter().enumerate() {
        let cy = by + PAD + ROW * i as i32 + (ROW - 4) / 2;
        let sx = bx + PAD;
        area.draw(&PathElement::new(
            vec![at(sx, cy), at(sx + SWATCH, cy)],
            curve.color.stroke_width(2),
        ))?;
        if has_markers(curve) {
            area.draw(&Circle::new(
                at(sx + SWATCH / 2, cy),
                3,
                curve.color.filled(),
            ))?;
        }
        labels.push(Label {
            text: curve.name.clone(),
            x: sx + SWATCH + 6,
            y: cy,
            size: LEGEND_SIZE,
            horizontal: Align::Start,
            vertical: Align::Center,
            rotated: false,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_history() -> History {
        (1..=5)
            .map(|e| EpochMetrics {
                train_error: Some(0.5 / e as f64),
                val_loss: Some(1.2 / e as f64),
                ..EpochMetrics::new(e, 1.0 / e as f64)
            })
            .collect()
    }

    #[test]
    fn renders_without_text_when_no_font() {
        let panels = learning_curve_panels(&sample_history());
        let rgb = render_rgb(LEARNING_CURVES_SIZE, "no font", &panels, None).unwrap();
        assert_eq!(rgb.len(), 900 * 400 * 3);
        // Curves in both colors are drawn.
        let has = |c: RGBColor| rgb.chunks(3).any(|p| p == [c.0, c.1, c.2]);
        assert!(has(TRAIN_COLOR) && has(VAL_COLOR));
        // No text: nothing in the text color.
        assert!(!has(TEXT_COLOR));
        assert!(encode_png(&rgb, LEARNING_CURVES_SIZE).is_ok());
    }

    #[test]
    fn ticks_are_nice() {
        let (t, step) = ticks(0.7, 10.3, 11, true);
        assert_eq!(step, 1.0);
        assert_eq!(t, (1..=10).map(f64::from).collect::<Vec<_>>());
        let (t, step) = ticks(0.4, 30.6, 11, true);
        assert_eq!(step, 5.0);
        assert_eq!(t, vec![5.0, 10.0, 15.0, 20.0, 25.0, 30.0]);
        let (t, _) = ticks(0.0, 2.0, 11, true);
        assert_eq!(t, vec![0.0, 1.0, 2.0]);
        let (t, step) = ticks(0.0, 1.0, 7, false);
        assert_eq!(step, 0.2);
        let f = TickFormat::new(&t, step);
        let labels: Vec<String> = t.iter().map(|&v| f.format(v)).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let (t, step) = ticks(1e-7, 3e-7, 7, false);
        let f = TickFormat::new(&t, step);
        assert_eq!(f.format(t[0]), "1.0e-7");
    }
}
