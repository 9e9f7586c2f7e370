//! Classification metrics: accuracy, per-class accuracy (recall), precision and the confusion
//! matrix.
//!
//! Classes are `usize` indices `0..classes`; predictions usually come from
//! [`argmax_rows`] of a model's `[N, C]` logits.
//!
//! ```
//! use strata_models::metrics::{ConfusionMatrix, accuracy};
//!
//! let predictions = [0, 1, 1, 2];
//! let labels = [0, 1, 2, 2];
//! assert_eq!(accuracy(&predictions, &labels), 0.75);
//!
//! let cm = ConfusionMatrix::from_predictions(&predictions, &labels, 3);
//! assert_eq!(cm.count(2, 1), 1); // one example of class 2 predicted as 1
//! println!("{cm}");
//! ```

use std::fmt;

use strata_tensor::{Element, Tensor};

/// Panics unless the two slices have the same length, naming `op` and both lengths.
fn check_lengths(op: &str, predictions: &[usize], labels: &[usize]) {
    assert_eq!(
        predictions.len(),
        labels.len(),
        "{op}: {} predictions but {} labels",
        predictions.len(),
        labels.len()
    );
}

/// Fraction of positions where `predictions[i] == labels[i]`, in `[0, 1]`; NaN if both are
/// empty.
///
/// # Panics
/// If the slices differ in length.
pub fn accuracy(predictions: &[usize], labels: &[usize]) -> f64 {
    check_lengths("accuracy", predictions, labels);
    let correct = predictions
        .iter()
        .zip(labels)
        .filter(|(p, l)| p == l)
        .count();
    correct as f64 / labels.len() as f64
}

/// The predicted class of each row of `[N, C]` logits (or probabilities): the index of the
/// row's largest value (the first one on ties; NaN counts as the largest, as in
/// [`Tensor::argmax_axis`]).
///
/// # Panics
/// If `logits` is not 2-D or has no columns (`C = 0`).
pub fn argmax_rows<T: Element>(logits: &Tensor<T>) -> Vec<usize> {
    let shape = logits.shape();
    assert!(
        shape.len() == 2,
        "argmax_rows: expected [N, C] logits, got shape {shape:?}"
    );
    assert!(
        shape[1] > 0,
        "argmax_rows: logits of shape {shape:?} have no classes"
    );
    logits.argmax_axis(1).into_vec()
}

/// Accuracy within each class (the recall of each class): for class `c`, the fraction of
/// examples labelled `c` that were predicted `c`. NaN for a class with no examples.
///
/// # Panics
/// If the slices differ in length or a prediction or label is `≥ classes`.
pub fn per_class_accuracy(predictions: &[usize], labels: &[usize], classes: usize) -> Vec<f64> {
    check_lengths("per_class_accuracy", predictions, labels);
    let mut correct = vec![0u64; classes];
    let mut total = vec![0u64; classes];
    for (i, (&p, &l)) in predictions.iter().zip(labels).enumerate() {
        check_class("per_class_accuracy", "label", l, i, classes);
        check_class("per_class_accuracy", "prediction", p, i, classes);
        total[l] += 1;
        if p == l {
            correct[l] += 1;
        }
    }
    ratios(&correct, &total)
}

/// Panics if `class ≥ classes`, naming `op`, which value (`what`) and its position.
fn check_class(op: &str, what: &str, class: usize, position: usize, classes: usize) {
    assert!(
        class < classes,
        "{op}: {what} {class} at position {position} is out of range for {classes} classes"
    );
}

fn ratios(numerators: &[u64], denominators: &[u64]) -> Vec<f64> {
    numerators
        .iter()
        .zip(denominators)
        .map(|(&n, &d)| {
            if d == 0 {
                f64::NAN
            } else {
                n as f64 / d as f64
            }
        })
        .collect()
}

/// Counts of (true class, predicted class) pairs for `classes` classes.
///
/// Rows are true classes, columns predicted ones: [`count(label, predicted)`]. Its
/// [`Display`](fmt::Display) prints an aligned table with row and column totals, per-class
/// recall and precision, and the overall accuracy, using class names if given with
/// [`ConfusionMatrix::with_class_names`].
///
/// [`count(label, predicted)`]: ConfusionMatrix::count
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    /// Row-major `[classes, classes]`, indexed `[label][predicted]`.
    counts: Vec<u64>,
    names: Option<Vec<String>>,
}

impl ConfusionMatrix {
    /// An all-zero matrix for `classes` classes.
    ///
    /// # Panics
    /// If `classes` is 0.
    pub fn new(classes: usize) -> Self {
        assert!(classes > 0, "ConfusionMatrix::new: need at least one class");
        ConfusionMatrix {
            classes,
            counts: vec![0; classes * classes],
            names: None,
        }
    }

    /// The matrix of `predictions` against `labels` for `classes` classes.
    ///
    /// # Panics
    /// If `classes` is 0, the slices differ in length, or a prediction or label is
    /// `≥ classes`.
    pub fn from_predictions(predictions: &[usize], labels: &[usize], classes: usize) -> Self {
        check_lengths("ConfusionMatrix::from_predictions", predictions, labels);
        let mut matrix = ConfusionMatrix::new(classes);
        for (i, (&p, &l)) in predictions.iter().zip(labels).enumerate() {
            check_class("ConfusionMatrix::from_predictions", "label", l, i, classes);
            check_class(
                "ConfusionMatrix::from_predictions",
                "prediction",
                p,
                i,
                classes,
            );
            matrix.counts[l * classes + p] += 1;
        }
        matrix
    }

    /// Names the classes for [`Display`](fmt::Display) (e.g. `["T-shirt", "Trouser", …]`).
    ///
    /// # Panics
    /// If the number of names differs from the number of classes.
    pub fn with_class_names<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        assert_eq!(
            names.len(),
            self.classes,
            "ConfusionMatrix::with_class_names: {} names for {} classes",
            names.len(),
            self.classes
        );
        self.names = Some(names);
        self
    }

    /// The class names, if set.
    pub fn class_names(&self) -> Option<&[String]> {
        self.names.as_deref()
    }

    /// Records one example of true class `label` predicted as `predicted`.
    ///
    /// # Panics
    /// If `predicted` or `label` is `≥ classes`.
    pub fn add(&mut self, predicted: usize, label: usize) {
        assert!(
            predicted < self.classes && label < self.classes,
            "ConfusionMatrix::add: prediction {predicted} / label {label} out of range for {} \
             classes",
            self.classes
        );
        self.counts[label * self.classes + predicted] += 1;
    }

    /// Records a batch: `add(predictions[i], labels[i])` for every `i`.
    ///
    /// # Panics
    /// If the slices differ in length or a prediction or label is `≥ classes` (nothing of the
    /// batch is recorded then).
    pub fn add_all(&mut self, predictions: &[usize], labels: &[usize]) {
        check_lengths("ConfusionMatrix::add_all", predictions, labels);
        for (i, (&p, &l)) in predictions.iter().zip(labels).enumerate() {
            check_class("ConfusionMatrix::add_all", "label", l, i, self.classes);
            check_class("ConfusionMatrix::add_all", "prediction", p, i, self.classes);
        }
        for (&p, &l) in predictions.iter().zip(labels) {
            self.counts[l * self.classes + p] += 1;
        }
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Number of examples of true class `label` predicted as `predicted`.
    ///
    /// # Panics
    /// If `label` or `predicted` is `≥ classes`.
    pub fn count(&self, label: usize, predicted: usize) -> u64 {
        assert!(
            predicted < self.classes && label < self.classes,
            "ConfusionMatrix::count: label {label} / prediction {predicted} out of range for {} \
             classes",
            self.classes
        );
        self.counts[label * self.classes + predicted]
    }

    /// All counts, row-major `[classes, classes]`: entry `label * classes + predicted`.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Number of recorded examples.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Number of correctly classified examples (the diagonal).
    pub fn correct(&self) -> u64 {
        (0..self.classes)
            .map(|c| self.counts[c * self.classes + c])
            .sum()
    }

    /// Number of examples of each true class (row sums).
    pub fn support(&self) -> Vec<u64> {
        self.counts
            .chunks(self.classes)
            .map(|row| row.iter().sum())
            .collect()
    }

    /// Number of examples predicted as each class (column sums).
    pub fn predicted_totals(&self) -> Vec<u64> {
        (0..self.classes)
            .map(|p| {
                (0..self.classes)
                    .map(|l| self.counts[l * self.classes + p])
                    .sum()
            })
            .collect()
    }

    /// Fraction of examples classified correctly; NaN if the matrix is empty.
    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total() as f64
    }

    /// Accuracy within each true class (recall): the diagonal over the row sums. NaN for a
    /// class with no examples.
    pub fn per_class_accuracy(&self) -> Vec<f64> {
        let diagonal: Vec<u64> = (0..self.classes)
            .map(|c| self.counts[c * self.classes + c])
            .collect();
        ratios(&diagonal, &self.support())
    }

    /// Precision of each class: of the examples predicted as the class, the fraction that
    /// belong to it (the diagonal over the column sums). NaN for a class never predicted.
    pub fn precision(&self) -> Vec<f64> {
        let diagonal: Vec<u64> = (0..self.classes)
            .map(|c| self.counts[c * self.classes + c])
            .collect();
        ratios(&diagonal, &self.predicted_totals())
    }

    fn class_label(&self, c: usize) -> String {
        match &self.names {
            Some(names) => names[c].clone(),
            None => c.to_string(),
        }
    }
}

/// A ratio as a percentage with one decimal, or `-` for NaN.
fn percent(value: f64) -> String {
    if value.is_nan() {
        "-".to_string()
    } else {
        format!("{:.1}%", 100.0 * value)
    }
}

impl fmt::Display for ConfusionMatrix {
    /// An aligned table: one row per true class with its counts per predicted class, the row
    /// total and the class's recall; then the column totals, each class's precision, and the
    /// overall accuracy.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const CORNER: &str = "true\\pred";
        const TOTAL: &str = "total";
        const PRECISION: &str = "precision";
        const RECALL: &str = "recall";
        let n = self.classes;
        let labels: Vec<String> = (0..n).map(|c| self.class_label(c)).collect();
        let support = self.support();
        let predicted = self.predicted_totals();
        let recall = self.per_class_accuracy();
        let precision: Vec<String> = self.precision().into_iter().map(percent).collect();
        let total = self.total();

        let label_width = labels
            .iter()
            .map(|l| l.chars().count())
            .chain([CORNER.len(), PRECISION.len()])
            .max()
            .unwrap_or(0);
        let cell = labels
            .iter()
            .map(|l| l.chars().count())
            .chain(self.counts.iter().map(|c| c.to_string().len()))
            .chain(predicted.iter().map(|c| c.to_string().len()))
            .chain(precision.iter().map(String::len))
            .max()
            .unwrap_or(1);
        let total_width = total.to_string().len().max(TOTAL.len());
        let recall_width = "100.0%".len().max(RECALL.len());
        let middle = n * (cell + 1) + 1;
        let rule = format!(
            "{}+{}+{}",
            "-".repeat(label_width + 1),
            "-".repeat(middle),
            "-".repeat(total_width + recall_width + 2)
        );

        write!(f, "{CORNER:<label_width$} |")?;
        for l in &labels {
            write!(f, " {l:>cell$}")?;
        }
        writeln!(f, " | {TOTAL:>total_width$} {RECALL:>recall_width$}")?;
        writeln!(f, "{rule}")?;
        for (c, label) in labels.iter().enumerate() {
            write!(f, "{label:<label_width$} |")?;
            for count in &self.counts[c * n..(c + 1) * n] {
                write!(f, " {count:>cell$}")?;
            }
            writeln!(
                f,
                " | {:>total_width$} {:>recall_width$}",
                support[c],
                percent(recall[c])
            )?;
        }
        writeln!(f, "{rule}")?;
        write!(f, "{TOTAL:<label_width$} |")?;
        for count in &predicted {
            write!(f, " {count:>cell$}")?;
        }
        writeln!(f, " | {total:>total_width$}")?;
        write!(f, "{PRECISION:<label_width$} |")?;
        for p in &precision {
            write!(f, " {p:>cell$}")?;
        }
        writeln!(f, " |")?;
        write!(
            f,
            "accuracy {} ({} of {total})",
            percent(self.accuracy()),
            self.correct()
        )
    }
}
