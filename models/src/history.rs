//! The record of a training run: one [`EpochMetrics`] per epoch in a [`History`], saved and
//! read back as CSV or JSON (written atomically through `strata_io`: a crash never leaves half
//! a file in place of a good one; missing parent folders are created).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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
/// [`History::from_json`]), and plots with [`plot_learning_curves`](crate::plot::plot_learning_curves).
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
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// Reading or writing the file failed.
    #[error("training history {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file is not valid history JSON (or the history could not be encoded as JSON).
    #[error("training history {}: invalid JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error, which gives the line and column.
        source: serde_json::Error,
    },
    /// The file is not valid history CSV.
    #[error("training history {}, line {line}: invalid CSV: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the offending line.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
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
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    strata_io::write_atomically_creating_folders(path, bytes)
        .map_err(|e| io::Error::new(e.source.kind(), format!("{}: {}", e.action, e.source)))
}
