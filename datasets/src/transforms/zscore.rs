//! Per-feature standardization fitted on a training set (DeepLearnToolbox `zscore` +
//! `normalize`).

/// Per-feature z-score: `x_j ← (x_j − μ_j) / σ_j` with `μ_j` and `σ_j` the mean and sample
/// standard deviation (divisor `n − 1`, as MATLAB's `std`) of feature `j` over the training
/// set.
///
/// DeepLearnToolbox computes these with `[train_x, mu, sigma] = zscore(train_x)` and applies
/// the same `mu`, `sigma` to the test set with `normalize(test_x, mu, sigma)`; [`ZScore::fit`]
/// and [`ZScore::apply`] are those two steps.
///
/// Constant features: a feature that takes a single value over the training set (σ = 0, for
/// MNIST the always-blank border pixels) would give `0/0 = NaN` on the training set and ±∞
/// on any test value that differs. Strata sets σ = 1 for such a feature, so it is only
/// centred: training values become exactly 0 and test values `x − μ`, which stays bounded.
/// (DeepLearnToolbox's later `max(std(x), eps)` instead divides by 2.2e-16, which turns the
/// slightest test-set difference into values near 1e16.)
#[derive(Clone, Debug, PartialEq)]
pub struct ZScore {
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl ZScore {
    /// Fits per-feature means and standard deviations on `data` (`[n, features]` row-major).
    /// Statistics are accumulated in `f64`.
    ///
    /// # Panics
    ///
    /// If `features` is 0, `data.len()` is not a multiple of `features`, or `data` holds
    /// fewer than two examples.
    pub fn fit(data: &[f32], features: usize) -> ZScore {
        assert!(
            features > 0 && data.len().is_multiple_of(features),
            "ZScore::fit: {} values do not form rows of {features} features",
            data.len()
        );
        let n = data.len() / features;
        assert!(n >= 2, "ZScore::fit: need at least 2 examples, got {n}");
        let mut sum = vec![0.0f64; features];
        let mut min = vec![f32::INFINITY; features];
        let mut max = vec![f32::NEG_INFINITY; features];
        for row in data.chunks_exact(features) {
            for (j, &x) in row.iter().enumerate() {
                sum[j] += f64::from(x);
                min[j] = min[j].min(x);
                max[j] = max[j].max(x);
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n as f64).collect();
        let mut ss = vec![0.0f64; features];
        for row in data.chunks_exact(features) {
            for (j, &x) in row.iter().enumerate() {
                let d = f64::from(x) - mean[j];
                ss[j] += d * d;
            }
        }
        let std = ss
            .iter()
            .enumerate()
            .map(|(j, s)| {
                if min[j] == max[j] {
                    1.0
                } else {
                    (s / (n - 1) as f64).sqrt() as f32
                }
            })
            .collect();
        ZScore {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std,
        }
    }

    /// A z-score with given per-feature means and standard deviations.
    ///
    /// # Panics
    ///
    /// If the lengths differ or a standard deviation is not positive and finite.
    pub fn from_parts(mean: Vec<f32>, std: Vec<f32>) -> ZScore {
        assert_eq!(
            mean.len(),
            std.len(),
            "ZScore::from_parts: {} means and {} standard deviations",
            mean.len(),
            std.len()
        );
        assert!(
            std.iter().all(|s| *s > 0.0 && s.is_finite()),
            "ZScore::from_parts: standard deviations must be positive and finite"
        );
        ZScore { mean, std }
    }

    /// Per-feature means `μ`, `[features]`.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// Per-feature standard deviations `σ` (1 for constant features), `[features]`.
    pub fn std(&self) -> &[f32] {
        &self.std
    }

    /// Number of features.
    pub fn features(&self) -> usize {
        self.mean.len()
    }

    /// In place `x_j ← (x_j − μ_j) / σ_j` on every row of `data` (`[n, features]`).
    ///
    /// # Panics
    ///
    /// If `data.len()` is not a multiple of the number of features.
    pub fn apply(&self, data: &mut [f32]) {
        let f = self.features();
        assert!(
            data.len().is_multiple_of(f),
            "ZScore::apply: {} values do not form rows of {f} features",
            data.len()
        );
        let inv: Vec<f32> = self.std.iter().map(|s| 1.0 / s).collect();
        for row in data.chunks_exact_mut(f) {
            for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&inv) {
                *x = (*x - m) * s;
            }
        }
    }

    /// In place inverse `x_j ← x_j · σ_j + μ_j`.
    ///
    /// # Panics
    ///
    /// If `data.len()` is not a multiple of the number of features.
    pub fn invert(&self, data: &mut [f32]) {
        let f = self.features();
        assert!(
            data.len().is_multiple_of(f),
            "ZScore::invert: {} values do not form rows of {f} features",
            data.len()
        );
        for row in data.chunks_exact_mut(f) {
            for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *x = *x * s + m;
            }
        }
    }
}
