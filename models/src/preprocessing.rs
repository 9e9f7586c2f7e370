//! [`Preprocessing`]: how images with pixels in [0, 1] become a model's inputs, as a value that
//! is saved with the model ([`Trainer::with_preprocessing`](crate::Trainer::with_preprocessing)),
//! so that inference in another program prepares its inputs exactly as training did.

use serde::{Deserialize, Serialize};
use strata_datasets::ArrayDataset;
use strata_datasets::transforms::{self, ZScore};

/// The input transform a model was trained with, fitted on its training images.
///
/// Pixels are first scaled to [0, 1] (`byte / 255`, what every loader here returns); then:
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Preprocessing {
    /// Nothing more: inputs are the pixels in [0, 1] (the DeepLearnToolbox CNN).
    Scaled,
    /// `x ← (x − mean) / std` with one scalar mean and standard deviation of all training
    /// pixels (the modern reference scripts).
    Standardized {
        /// Mean of every training pixel.
        mean: f32,
        /// Standard deviation of every training pixel (population form), positive.
        std: f32,
    },
    /// `x_j ← (x_j − mean_j) / std_j` per feature `j` (the DeepLearnToolbox `zscore`; a
    /// constant feature has `std_j = 1`).
    ZScored {
        /// Per-feature means, one per input value.
        mean: Vec<f32>,
        /// Per-feature standard deviations (sample form), positive.
        std: Vec<f32>,
    },
}

impl Preprocessing {
    /// [`Preprocessing::Standardized`] fitted on `inputs` (all training pixels, in [0, 1]);
    /// sums in `f64`.
    ///
    /// # Panics
    /// If `inputs` is empty or all equal (no spread to divide by).
    pub fn standardized_on(inputs: &[f32]) -> Self {
        assert!(
            !inputs.is_empty(),
            "Preprocessing::standardized_on: no inputs"
        );
        let n = inputs.len() as f64;
        let mean = inputs.iter().map(|&v| v as f64).sum::<f64>() / n;
        let std = (inputs
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        assert!(
            std > 0.0,
            "Preprocessing::standardized_on: all {} inputs equal {mean}",
            inputs.len()
        );
        Preprocessing::Standardized {
            mean: mean as f32,
            std: std as f32,
        }
    }

    /// [`Preprocessing::ZScored`] fitted on `inputs`, rows of `features` values.
    ///
    /// # Panics
    /// As [`ZScore::fit`]: `features` is 0, does not divide `inputs.len()`, or there are fewer
    /// than two rows.
    pub fn zscored_on(inputs: &[f32], features: usize) -> Self {
        let z = ZScore::fit(inputs, features);
        Preprocessing::ZScored {
            mean: z.mean().to_vec(),
            std: z.std().to_vec(),
        }
    }

    /// Transforms `inputs` (pixels in [0, 1], rows of the fitted feature count) in place.
    ///
    /// # Panics
    /// For [`Preprocessing::ZScored`], if `inputs.len()` is not a multiple of its feature
    /// count.
    pub fn apply(&self, inputs: &mut [f32]) {
        match self {
            Preprocessing::Scaled => {}
            Preprocessing::Standardized { mean, std } => transforms::normalize(inputs, *mean, *std),
            Preprocessing::ZScored { mean, std } => {
                ZScore::from_parts(mean.clone(), std.clone()).apply(inputs)
            }
        }
    }

    /// `dataset` with its inputs transformed (see [`Preprocessing::apply`]).
    pub fn applied(&self, mut dataset: ArrayDataset) -> ArrayDataset {
        self.apply(dataset.inputs_mut());
        dataset
    }
}

impl std::fmt::Display for Preprocessing {
    /// One line: `pixels in [0, 1]`, `(x − 0.1307) / 0.3081`, or `per-pixel z-score of 784
    /// features`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Preprocessing::Scaled => write!(f, "pixels in [0, 1]"),
            Preprocessing::Standardized { mean, std } => {
                write!(f, "pixels in [0, 1], then (x − {mean}) / {std}")
            }
            Preprocessing::ZScored { mean, .. } => write!(
                f,
                "pixels in [0, 1], then a z-score per feature ({} features)",
                mean.len()
            ),
        }
    }
}
