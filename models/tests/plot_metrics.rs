//! Tests of `strata_models::metrics` (hand-computed examples) and `strata_models::plot`
//! (PNG output decoded back, CSV/JSON round trips of a training history).

use std::path::{Path, PathBuf};

use strata_models::metrics::{ConfusionMatrix, accuracy, argmax_rows, per_class_accuracy};
use strata_models::plot::{EpochMetrics, History, plot_learning_curves, plot_series};
use strata_tensor::Tensor;

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

/// Predictions and labels of 10 examples over 3 classes:
///
/// ```text
/// true\pred  0  1  2
///         0  3  1  0     recall 3/4
///         1  0  2  1     recall 2/3
///         2  1  0  2     recall 2/3
/// precision 3/4 2/3 2/3, accuracy 7/10
/// ```
fn example() -> (Vec<usize>, Vec<usize>) {
    let labels = vec![0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
    let predictions = vec![0, 0, 0, 1, 1, 1, 2, 0, 2, 2];
    (predictions, labels)
}

fn assert_close(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len());
    for (a, e) in actual.iter().zip(expected) {
        assert!(
            (a.is_nan() && e.is_nan()) || (a - e).abs() < 1e-12,
            "{actual:?} ≠ {expected:?}"
        );
    }
}

#[test]
fn accuracy_counts_matches() {
    let (p, l) = example();
    assert_eq!(accuracy(&p, &l), 0.7);
    assert_eq!(accuracy(&[1, 2, 3], &[1, 2, 3]), 1.0);
    assert_eq!(accuracy(&[0, 0], &[1, 1]), 0.0);
    assert!(accuracy(&[], &[]).is_nan());
}

#[test]
#[should_panic(expected = "accuracy: 2 predictions but 3 labels")]
fn accuracy_panics_on_length_mismatch() {
    accuracy(&[0, 1], &[0, 1, 2]);
}

#[test]
fn per_class_accuracy_is_recall() {
    let (p, l) = example();
    assert_close(
        &per_class_accuracy(&p, &l, 3),
        &[3.0 / 4.0, 2.0 / 3.0, 2.0 / 3.0],
    );
    // A class without examples has no accuracy.
    assert_close(
        &per_class_accuracy(&[0, 1], &[0, 0], 3),
        &[0.5, f64::NAN, f64::NAN],
    );
}

#[test]
#[should_panic(
    expected = "per_class_accuracy: label 3 at position 1 is out of range for 3 classes"
)]
fn per_class_accuracy_panics_on_out_of_range_label() {
    per_class_accuracy(&[0, 1], &[0, 3], 3);
}

#[test]
#[should_panic(expected = "per_class_accuracy: 1 predictions but 2 labels")]
fn per_class_accuracy_panics_on_length_mismatch() {
    per_class_accuracy(&[0], &[0, 1], 3);
}

#[test]
fn argmax_rows_picks_the_largest_logit() {
    let logits = Tensor::from_vec(
        vec![
            0.1f32, 2.0, -1.0, //
            5.0, 4.0, 3.0, //
            -2.0, -3.0, -1.5, //
            1.0, 1.0, 0.0, // tie: the first wins
        ],
        &[4, 3],
    );
    assert_eq!(argmax_rows(&logits), vec![1, 0, 2, 0]);
    let logits = Tensor::from_vec(vec![0.0f64, 1.0], &[1, 2]);
    assert_eq!(argmax_rows(&logits), vec![1]);
}

#[test]
#[should_panic(expected = "argmax_rows: expected [N, C] logits, got shape [6]")]
fn argmax_rows_panics_on_1d() {
    argmax_rows(&Tensor::from_vec(vec![0.0f32; 6], &[6]));
}

#[test]
fn confusion_matrix_on_a_hand_computed_example() {
    let (p, l) = example();
    let cm = ConfusionMatrix::from_predictions(&p, &l, 3);
    assert_eq!(cm.classes(), 3);
    assert_eq!(cm.counts(), &[3, 1, 0, 0, 2, 1, 1, 0, 2]);
    assert_eq!(cm.count(2, 0), 1);
    assert_eq!(cm.count(0, 2), 0);
    assert_eq!(cm.total(), 10);
    assert_eq!(cm.correct(), 7);
    assert_eq!(cm.support(), vec![4, 3, 3]);
    assert_eq!(cm.predicted_totals(), vec![4, 3, 3]);
    assert_eq!(cm.accuracy(), 0.7);
    assert_close(&cm.per_class_accuracy(), &[0.75, 2.0 / 3.0, 2.0 / 3.0]);
    assert_close(&cm.precision(), &[0.75, 2.0 / 3.0, 2.0 / 3.0]);

    // Built one example at a time, or in batches, it is the same matrix.
    let mut one_by_one = ConfusionMatrix::new(3);
    for (&pred, &label) in p.iter().zip(&l) {
        one_by_one.add(pred, label);
    }
    assert_eq!(one_by_one, cm);
    let mut batches = ConfusionMatrix::new(3);
    batches.add_all(&p[..4], &l[..4]);
    batches.add_all(&p[4..], &l[4..]);
    assert_eq!(batches, cm);
}

#[test]
fn confusion_matrix_precision_differs_from_recall() {
    // Everything predicted as class 0.
    let cm = ConfusionMatrix::from_predictions(&[0, 0, 0, 0], &[0, 0, 1, 2], 3);
    assert_close(&cm.per_class_accuracy(), &[1.0, 0.0, 0.0]);
    assert_close(&cm.precision(), &[0.5, f64::NAN, f64::NAN]);
    assert_eq!(cm.accuracy(), 0.5);
    assert!(ConfusionMatrix::new(2).accuracy().is_nan());
}

#[test]
fn confusion_matrix_display_is_an_aligned_table() {
    let (p, l) = example();
    let table = ConfusionMatrix::from_predictions(&p, &l, 3).to_string();
    let expected = "\
true\\pred |     0     1     2 | total recall
----------+-------------------+-------------
0         |     3     1     0 |     4  75.0%
1         |     0     2     1 |     3  66.7%
2         |     1     0     2 |     3  66.7%
----------+-------------------+-------------
total     |     4     3     3 |    10
precision | 75.0% 66.7% 66.7% |
accuracy 70.0% (7 of 10)";
    assert_eq!(table, expected, "\n{table}");

    let named = ConfusionMatrix::from_predictions(&p, &l, 3)
        .with_class_names(["cat", "dog", "hamster"])
        .to_string();
    let lines: Vec<&str> = named.lines().collect();
    assert!(lines[0].contains("hamster"), "\n{named}");
    assert!(lines[4].starts_with("hamster   |"), "\n{named}");
    // Every table line up to the accuracy line has its `|` in the same columns.
    let bars = |s: &str| s.match_indices('|').map(|(i, _)| i).collect::<Vec<_>>();
    for line in &lines[..lines.len() - 1] {
        if !line.starts_with('-') {
            assert_eq!(bars(line), bars(lines[0]), "\n{named}");
        }
    }
}

#[test]
#[should_panic(
    expected = "ConfusionMatrix::add: prediction 1 / label 5 out of range for 3 classes"
)]
fn confusion_matrix_add_panics_out_of_range() {
    ConfusionMatrix::new(3).add(1, 5);
}

#[test]
#[should_panic(
    expected = "ConfusionMatrix::from_predictions: prediction 4 at position 2 is out of range for 4 classes"
)]
fn confusion_matrix_from_predictions_panics_out_of_range() {
    ConfusionMatrix::from_predictions(&[0, 1, 4], &[0, 1, 2], 4);
}

#[test]
#[should_panic(expected = "ConfusionMatrix::from_predictions: 3 predictions but 2 labels")]
fn confusion_matrix_from_predictions_panics_on_length_mismatch() {
    ConfusionMatrix::from_predictions(&[0, 1, 1], &[0, 1], 2);
}

// ---------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------

/// A fresh directory for one test's files.
fn test_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("plot_metrics")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A plausible run of `epochs` epochs with validation.
fn history(epochs: usize) -> History {
    (1..=epochs)
        .map(|e| {
            let t = e as f64;
            EpochMetrics {
                epoch: e,
                train_loss: 2.3 / t.sqrt() - 0.2,
                train_error: Some(0.6 / t),
                val_loss: Some(2.3 / t.sqrt() - 0.1 + 0.01 * t),
                val_error: Some(0.6 / t + 0.02),
                seconds: 1.25 + 0.1 * t,
                examples_per_second: 48_000.0 / (1.25 + 0.1 * t),
                learning_rate: 0.1 * 0.9f64.powi(e as i32 - 1),
                stage: None,
                metrics: Default::default(),
            }
        })
        .collect()
}

/// Field-by-field equality that treats NaN as equal to NaN.
fn same(a: &History, b: &History) -> bool {
    let f = |x: f64, y: f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
    let o = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (None, None) => true,
        (Some(x), Some(y)) => f(x, y),
        _ => false,
    };
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.epoch == y.epoch
                && f(x.train_loss, y.train_loss)
                && o(x.train_error, y.train_error)
                && o(x.val_loss, y.val_loss)
                && o(x.val_error, y.val_error)
                && f(x.seconds, y.seconds)
                && f(x.examples_per_second, y.examples_per_second)
                && f(x.learning_rate, y.learning_rate)
                && x.stage == y.stage
                && x.metrics.len() == y.metrics.len()
                && x.metrics
                    .iter()
                    .zip(&y.metrics)
                    .all(|((kx, vx), (ky, vy))| kx == ky && f(*vx, *vy))
        })
}

/// A history with every awkward value: NaN, ±∞, `None`, `Some(NaN)`.
fn awkward_history() -> History {
    let mut h = history(4);
    let mut extra = EpochMetrics::new(5, f64::NAN);
    extra.val_loss = Some(f64::INFINITY);
    extra.val_error = Some(f64::NAN);
    extra.seconds = f64::NEG_INFINITY;
    extra.stage = Some(1);
    extra.metrics.insert("free_energy".into(), f64::NAN);
    h.push(extra);
    let mut last = EpochMetrics::new(6, 0.1);
    last.stage = Some(2);
    last.metrics.insert("free_energy".into(), -312.5);
    last.metrics.insert("val_free_energy".into(), f64::INFINITY);
    h.push(last);
    h
}

#[test]
fn history_accessors() {
    let mut h = History::new();
    assert!(h.is_empty() && h.last().is_none());
    assert!(h.best_by(|m| m.train_loss).is_none());
    h.push(EpochMetrics {
        val_error: Some(0.3),
        ..EpochMetrics::new(1, 0.9)
    });
    h.push(EpochMetrics {
        val_error: Some(0.1),
        ..EpochMetrics::new(2, 0.5)
    });
    h.push(EpochMetrics {
        val_error: Some(0.1),
        ..EpochMetrics::new(3, f64::NAN)
    });
    h.push(EpochMetrics::new(4, 0.7));
    assert_eq!(h.len(), 4);
    assert_eq!(h.last().unwrap().epoch, 4);
    assert_eq!(h.iter().map(|m| m.epoch).collect::<Vec<_>>(), [1, 2, 3, 4]);
    // Lowest key wins, ties go to the earliest, NaN and None are skipped.
    assert_eq!(h.best_by(|m| m.val_error).unwrap().epoch, 2);
    assert_eq!(h.best_by(|m| m.train_loss).unwrap().epoch, 2);
    assert_eq!(h.best_by(|m| -m.train_loss).unwrap().epoch, 1);
}

#[test]
fn history_csv_round_trip() {
    let dir = test_dir("csv");
    let path = dir.join("history.csv");
    let h = awkward_history();
    h.to_csv(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(
        "epoch,train_loss,train_error,val_loss,val_error,seconds,examples_per_second,\
         learning_rate,stage,free_energy,val_free_energy\n1,"
    ));
    assert!(
        text.contains("\n5,NaN,,inf,NaN,-inf,0,0,1,NaN,\n"),
        "{text}"
    );
    assert!(text.contains(",2,-312.5,inf\n"), "{text}");
    let back = History::from_csv(&path).unwrap();
    assert!(same(&h, &back), "{h:?}\n{back:?}");
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

    // Columns are found by name; missing optional ones read as None / 0.
    let reordered = dir.join("reordered.csv");
    std::fs::write(
        &reordered,
        "train_loss,epoch,val_loss\n0.5,1,0.75\r\n\n0.25,2,\n",
    )
    .unwrap();
    let back = History::from_csv(&reordered).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(back.as_slice()[0].val_loss, Some(0.75));
    assert_eq!(back.as_slice()[1].val_loss, None);
    assert_eq!(back.as_slice()[1].train_loss, 0.25);
    assert_eq!(back.as_slice()[1].learning_rate, 0.0);
}

#[test]
fn history_csv_errors_name_the_line() {
    let dir = test_dir("csv_errors");
    let path = dir.join("bad.csv");
    std::fs::write(&path, "epoch,train_loss\n1,0.5\n2,zero\n").unwrap();
    let err = History::from_csv(&path).unwrap_err().to_string();
    assert!(err.contains("line 3") && err.contains("`zero`"), "{err}");
    std::fs::write(&path, "epoch,val_loss\n1,0.5\n").unwrap();
    let err = History::from_csv(&path).unwrap_err().to_string();
    assert!(
        err.contains("line 1") && err.contains("train_loss"),
        "{err}"
    );
    std::fs::write(&path, "epoch,train_loss\n1,0.5,7\n").unwrap();
    let err = History::from_csv(&path).unwrap_err().to_string();
    assert!(
        err.contains("line 2") && err.contains("expected 2 fields"),
        "{err}"
    );
    let err = History::from_csv(dir.join("missing.csv"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.csv"), "{err}");
}

#[test]
fn history_json_round_trip() {
    let dir = test_dir("json");
    let path = dir.join("history.json");
    let h = awkward_history();
    h.to_json(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.trim_start().starts_with('['), "{text}");
    assert!(text.contains("\"train_loss\": \"NaN\""), "{text}");
    assert!(text.contains("\"val_loss\": \"inf\""), "{text}");
    assert!(text.contains("\"train_error\": null"), "{text}");
    let back = History::from_json(&path).unwrap();
    assert!(same(&h, &back), "{h:?}\n{back:?}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

    std::fs::write(&path, "[{\"epoch\": 1}]").unwrap();
    let err = History::from_json(&path).unwrap_err().to_string();
    assert!(
        err.contains("history.json") && err.contains("train_loss"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Plots
// ---------------------------------------------------------------------------------------------

/// Decodes a PNG file; returns its size and RGB(A) pixels as distinct colors counted.
fn decode_png(path: &Path) -> (u32, u32, usize) {
    let file = std::fs::File::open(path).unwrap();
    let decoder = png::Decoder::new(std::io::BufReader::new(file));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let mut colors: Vec<&[u8]> = bytes.chunks(channels).collect();
    colors.sort_unstable();
    colors.dedup();
    (info.width, info.height, colors.len())
}

#[test]
fn learning_curves_ten_epochs() {
    let path = test_dir("curves10").join("curves.png");
    plot_learning_curves(&history(10), &path, "MLP on MNIST: 10 epochs").unwrap();
    let (w, h, colors) = decode_png(&path);
    assert_eq!((w, h), (900, 400));
    assert!(colors > 10, "{colors} distinct colors");
}

#[test]
fn learning_curves_one_epoch() {
    let path = test_dir("curves1").join("curves.png");
    plot_learning_curves(&history(1), &path, "one epoch").unwrap();
    let (w, h, colors) = decode_png(&path);
    assert_eq!((w, h), (900, 400));
    assert!(colors > 10, "{colors} distinct colors");
}

#[test]
fn learning_curves_skip_nan_and_missing_values() {
    let dir = test_dir("curves_nan");
    let mut h = history(12);
    let mut records: Vec<EpochMetrics> = h.into_iter().collect();
    records[3].train_loss = f64::NAN;
    records[4].val_loss = Some(f64::INFINITY);
    records[6].val_error = None;
    records[7].train_error = Some(f64::NAN);
    h = records.into();
    let path = dir.join("nan.png");
    plot_learning_curves(&h, &path, "with NaN").unwrap();
    let (w, hgt, colors) = decode_png(&path);
    assert_eq!((w, hgt), (900, 400));
    assert!(colors > 10);

    // All-NaN losses, no error rates, an empty history: still a plot.
    let nan: History = (1..=3).map(|e| EpochMetrics::new(e, f64::NAN)).collect();
    plot_learning_curves(&nan, dir.join("all_nan.png"), "all NaN").unwrap();
    plot_learning_curves(&History::new(), dir.join("empty.png"), "empty").unwrap();
    assert_eq!(decode_png(&dir.join("empty.png")).0, 900);
    // Only the plots are left, no temporary files.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
}

#[test]
fn series_plot() {
    let dir = test_dir("series");
    let recon: Vec<(f64, f64)> = (1..=20).map(|e| (e as f64, 40.0 / e as f64)).collect();
    let sparse: Vec<(f64, f64)> = vec![(0.5, 3.0), (2.5, f64::NAN), (4.5, 2.0), (7.0, 1.5)];
    let path = dir.join("nested/dirs/series.png");
    plot_series(
        &path,
        "Autoencoder reconstruction error",
        "Epoch",
        "Squared error per image",
        &[("denoising", &recon), ("sparse", &sparse)],
    )
    .unwrap();
    let (w, h, colors) = decode_png(&path);
    assert_eq!((w, h), (720, 450));
    assert!(colors > 10);
    // Tiny and huge values, a single point, no series at all.
    let tiny = [(0.0, 1e-7), (1.0, 3e-7)];
    let huge = [(0.0, 2e9)];
    plot_series(
        dir.join("scales.png"),
        "",
        "x",
        "y",
        &[("tiny", &tiny), ("huge", &huge)],
    )
    .unwrap();
    plot_series(dir.join("none.png"), "nothing", "x", "y", &[]).unwrap();
    assert_eq!(decode_png(&dir.join("none.png")).0, 720);
}
