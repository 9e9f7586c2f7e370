//! Loading the image datasets the examples and tests train on, and their customary
//! preprocessing.

use std::path::PathBuf;

use strata_datasets::{ArrayDataset, Dataset as _, Mnist, train_val_indices};

use crate::TrainError;
pub use crate::preprocessing::Preprocessing;

/// Loads the dataset named by `spec`: `mnist-sample` (bundled, 10k/10k), `fashion` (full
/// Fashion-MNIST from `STRATA_DATA` or `/usr/share/datasets/fashion-mnist`), or a directory
/// holding the four MNIST-format IDX files. Returns it with a display name (printing nothing:
/// the examples print [`describe`]'s line).
///
/// # Errors
/// [`TrainError::Config`] for a `spec` that is none of these; [`TrainError::Data`] when the
/// files cannot be found or read.
pub fn load_mnist(spec: &str) -> Result<(Mnist, String), TrainError> {
    let data_error = |e: strata_datasets::DatasetError| TrainError::Data(e.to_string());
    match spec {
        "mnist-sample" => Ok((
            Mnist::bundled().map_err(data_error)?,
            "mnist-sample".to_string(),
        )),
        "fashion" => Ok((
            Mnist::fashion(None).map_err(data_error)?,
            "fashion-mnist".to_string(),
        )),
        dir => {
            let path = PathBuf::from(dir);
            if !path.is_dir() {
                return Err(TrainError::Config(format!(
                    "--data {dir:?}: expected `mnist-sample`, `fashion`, or a directory holding the four MNIST-format IDX files"
                )));
            }
            Ok((
                Mnist::load(Some(&path)).map_err(data_error)?,
                path.display().to_string(),
            ))
        }
    }
}

/// One line saying what was loaded: `data: <name>: <n> training and <m> test images`.
pub fn describe(data: &Mnist, name: &str) -> String {
    format!(
        "data: {name}: {} training and {} test images",
        data.train.len(),
        data.test.len()
    )
}

/// Which [`Preprocessing`] [`prepare`] fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreprocessingKind {
    /// [`Preprocessing::Scaled`].
    Scaled,
    /// [`Preprocessing::Standardized`].
    Standardized,
    /// [`Preprocessing::ZScored`].
    ZScored,
}

/// `(train, test, preprocessing)`: the training and test sets with pixels in [0, 1], both
/// transformed by a [`Preprocessing`] of `kind` fitted on the training images, and that
/// preprocessing (to save with the model: [`Trainer::with_preprocessing`](crate::Trainer::with_preprocessing)).
pub fn prepare(
    data: &Mnist,
    kind: PreprocessingKind,
) -> (ArrayDataset, ArrayDataset, Preprocessing) {
    let (train, test) = (data.train.to_array_dataset(), data.test.to_array_dataset());
    let preprocessing = match kind {
        PreprocessingKind::Scaled => Preprocessing::Scaled,
        PreprocessingKind::Standardized => Preprocessing::standardized_on(train.inputs()),
        PreprocessingKind::ZScored => {
            Preprocessing::zscored_on(train.inputs(), data.train.image_size())
        }
    };
    (
        preprocessing.applied(train),
        preprocessing.applied(test),
        preprocessing,
    )
}

/// Inputs scaled to [0, 1], then standardised with one scalar mean and standard deviation of
/// the training images (`x ← (x − μ)/σ`), as the modern reference scripts do
/// ([`prepare`] with [`PreprocessingKind::Standardized`], without the preprocessing).
pub fn globally_standardized(data: &Mnist) -> (ArrayDataset, ArrayDataset) {
    let (train, test, _) = prepare(data, PreprocessingKind::Standardized);
    (train, test)
}

/// Inputs scaled to [0, 1], then z-scored per pixel with the training statistics (the
/// DeepLearnToolbox `zscore` + `normalize`; [`prepare`] with [`PreprocessingKind::ZScored`]).
pub fn zscored(data: &Mnist) -> (ArrayDataset, ArrayDataset) {
    let (train, test, _) = prepare(data, PreprocessingKind::ZScored);
    (train, test)
}

/// Scaled to [0, 1] only (the DeepLearnToolbox CNN's preprocessing).
pub fn scaled(data: &Mnist) -> (ArrayDataset, ArrayDataset) {
    (data.train.to_array_dataset(), data.test.to_array_dataset())
}

/// Scaled to `[−1, 1]` (`x ← 2x − 1`): the range of a `tanh` generator's images.
pub fn signed_unit(data: &Mnist) -> (ArrayDataset, ArrayDataset) {
    let (mut train, mut test) = scaled(data);
    for v in train.inputs_mut().iter_mut().chain(test.inputs_mut()) {
        *v = 2.0 * *v - 1.0;
    }
    (train, test)
}

/// The fraction of the training set the examples hold out for validation unless told
/// otherwise (`--val-split`).
pub const DEFAULT_VAL_SPLIT: f64 = 0.1;

/// Holds out a validation set from `train`, so that model selection (early stopping,
/// `best.ckpt`, the printed validation error) never sees the test set: the indices are
/// shuffled with `seed` and the last `round(N·fraction)` of them validate, the rest train (both
/// in their original order; see [`train_val_indices`]). A `fraction` of 0, or one that rounds
/// to no example, gives no validation set.
///
/// Preprocessing statistics computed before the split (the global mean and deviation of
/// [`globally_standardized`], the per-pixel z-score of [`zscored`]) include the held-out
/// images; they use no labels.
///
/// # Panics
/// If `fraction` is not in `[0, 1)`.
pub fn hold_out(
    train: &ArrayDataset,
    fraction: f64,
    seed: u64,
) -> (ArrayDataset, Option<ArrayDataset>) {
    assert!(
        (0.0..1.0).contains(&fraction),
        "hold_out: validation fraction {fraction} is outside [0, 1)"
    );
    let (fit, val) = train_val_indices(train.len(), fraction, Some(seed));
    if val.is_empty() {
        return (train.clone(), None);
    }
    (train.select(&fit), Some(train.select(&val)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_datasets::Dataset;

    /// Ten examples whose single feature is their index, labelled by parity.
    fn numbered(n: usize) -> ArrayDataset {
        let inputs = (0..n).map(|i| i as f32).collect();
        ArrayDataset::classification(inputs, vec![1], (0..n).map(|i| i % 2).collect(), 2)
    }

    #[test]
    fn hold_out_is_a_seeded_partition() {
        let data = numbered(10);
        let (fit, val) = hold_out(&data, 0.2, 3);
        let val = val.expect("two examples held out");
        assert_eq!((fit.len(), val.len()), (8, 2));
        let mut all: Vec<f32> = fit.inputs().iter().chain(val.inputs()).copied().collect();
        all.sort_by(f32::total_cmp);
        assert_eq!(all, (0..10).map(|i| i as f32).collect::<Vec<_>>());
        // Labels travel with their examples.
        for (x, y) in val.inputs().iter().zip(val.labels().unwrap()) {
            assert_eq!(*x as usize % 2, *y);
        }
        // The same seed holds out the same examples; another seed, others.
        assert_eq!(hold_out(&data, 0.2, 3).1.unwrap().inputs(), val.inputs());
        let others: Vec<_> = (0..20)
            .map(|seed| hold_out(&data, 0.2, seed).1.unwrap().inputs().to_vec())
            .collect();
        assert!(others.iter().any(|o| o.as_slice() != val.inputs()));
    }

    #[test]
    fn no_fraction_holds_out_nothing() {
        let data = numbered(10);
        let (fit, val) = hold_out(&data, 0.0, 1);
        assert!(val.is_none());
        assert_eq!(fit.inputs(), data.inputs());
        // A fraction that rounds to no example of a tiny set holds out nothing either.
        assert!(hold_out(&data, 0.01, 1).1.is_none());
    }

    #[test]
    #[should_panic(expected = "hold_out: validation fraction 1 is outside [0, 1)")]
    fn all_of_it_is_refused() {
        let _ = hold_out(&numbered(4), 1.0, 0);
    }
}
