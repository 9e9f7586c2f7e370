//! Train/validation splits and index subsets of any [`Dataset`].

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::dataset::{Dataset, Example, Target, TargetSpec};

/// Splits the indices `0..len` into training and validation indices.
///
/// The validation part holds `round(len * val_fraction)` indices. With `seed: None` the split
/// is by position (the first indices train, the last validate: MNIST's 50,000/10,000 split);
/// with `Some(seed)` the indices are shuffled reproducibly first and each part is returned in
/// ascending order.
///
/// # Panics
///
/// If `val_fraction` is not within `[0, 1]`.
pub fn train_val_indices(
    len: usize,
    val_fraction: f64,
    seed: Option<u64>,
) -> (Vec<usize>, Vec<usize>) {
    assert!(
        (0.0..=1.0).contains(&val_fraction),
        "train_val_indices: val_fraction {val_fraction} is outside [0, 1]"
    );
    let n_val = ((len as f64) * val_fraction).round() as usize;
    let n_train = len - n_val.min(len);
    let mut idx: Vec<usize> = (0..len).collect();
    if let Some(seed) = seed {
        idx.shuffle(&mut StdRng::seed_from_u64(seed));
    }
    let mut val = idx.split_off(n_train);
    if seed.is_some() {
        idx.sort_unstable();
        val.sort_unstable();
    }
    (idx, val)
}

/// A view of some examples of another dataset, by index.
#[derive(Clone, Debug)]
pub struct Subset<D> {
    dataset: D,
    indices: Vec<usize>,
}

impl<D: Dataset> Subset<D> {
    /// The examples of `dataset` at `indices`, in that order. Pass an `Arc<D>` or `&D` to
    /// share one dataset between several subsets.
    ///
    /// # Panics
    ///
    /// If an index is `>= dataset.len()`.
    pub fn new(dataset: D, indices: Vec<usize>) -> Self {
        if let Some(bad) = indices.iter().find(|&&i| i >= dataset.len()) {
            panic!(
                "Subset::new: index {bad} ≥ dataset length {}",
                dataset.len()
            );
        }
        Self { dataset, indices }
    }

    /// The indices into the underlying dataset.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// The underlying dataset.
    pub fn inner(&self) -> &D {
        &self.dataset
    }
}

impl<D: Dataset + Clone> Subset<D> {
    /// Splits `dataset` into a training and a validation subset as
    /// [`train_val_indices`] does.
    ///
    /// # Panics
    ///
    /// If `val_fraction` is not within `[0, 1]`.
    pub fn train_val(dataset: D, val_fraction: f64, seed: Option<u64>) -> (Subset<D>, Subset<D>) {
        let (t, v) = train_val_indices(dataset.len(), val_fraction, seed);
        (Subset::new(dataset.clone(), t), Subset::new(dataset, v))
    }
}

impl<D: Dataset> Dataset for Subset<D> {
    fn len(&self) -> usize {
        self.indices.len()
    }
    fn input_shape(&self) -> Vec<usize> {
        self.dataset.input_shape()
    }
    fn target_spec(&self) -> TargetSpec {
        self.dataset.target_spec()
    }
    fn get(&self, index: usize) -> Example {
        self.dataset.get(self.indices[index])
    }
    fn get_into(&self, index: usize, input: &mut [f32]) -> Target {
        self.dataset.get_into(self.indices[index], input)
    }
}
