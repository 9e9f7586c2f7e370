//! PCA projection and PCA/ZCA whitening fitted on a training set.
//!
//! Both start from the eigendecomposition `Σ = U Λ Uᵀ` of the training covariance
//! `Σ = X̃ᵀX̃ / (n − 1)` (`X̃`: training rows minus their mean μ). The covariance is one GEMM
//! (784 × 60,000 × 784 for MNIST); the eigendecomposition is a Householder tridiagonalisation
//! plus implicit QL in `f64`.

use crate::linalg::matmul;
use strata_tensor::linalg::{column_means, covariance, symmetric_eigen};

fn check_rows(data: &[f32], d: usize, op: &str) -> usize {
    assert!(
        d > 0 && data.len().is_multiple_of(d),
        "{op}: {} values do not form rows of {d} features",
        data.len()
    );
    data.len() / d
}

fn centre(data: &[f32], mean: &[f32]) -> Vec<f32> {
    let mut out = Vec::with_capacity(data.len());
    for row in data.chunks_exact(mean.len()) {
        out.extend(row.iter().zip(mean).map(|(x, m)| x - m));
    }
    out
}

/// Principal component analysis: `z = (x − μ) Uₖ`, optionally whitened to
/// `zᵢ = (x − μ)·uᵢ / √(λᵢ + ε)` so each component has unit variance on the training set.
///
/// `Uₖ` holds the `k` eigenvectors of the training covariance with the largest eigenvalues
/// `λ₁ ≥ … ≥ λₖ`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    mean: Vec<f32>,
    components: Vec<f32>,
    variances: Vec<f32>,
    total_variance: f64,
    epsilon: Option<f32>,
    /// `[d, k]`: `Uₖ`, columns divided by `√(λ + ε)` when whitening.
    project: Vec<f32>,
    /// `[k, d]`: `Uₖᵀ`, rows multiplied by `√(λ + ε)` when whitening.
    back: Vec<f32>,
}

impl Pca {
    /// Fits a `k`-component PCA on `data` (`[n, d]` row-major).
    ///
    /// # Panics
    ///
    /// If `d` is 0, `data.len()` is not a multiple of `d`, `n < 2`, or `k` is 0 or `> d`.
    pub fn fit(data: &[f32], d: usize, k: usize) -> Pca {
        Self::fit_impl(data, d, k, None)
    }

    /// Fits a `k`-component whitening PCA on `data` (`[n, d]`): components are divided by
    /// `√(λᵢ + epsilon)`. `epsilon` regularises components of tiny variance (around `1e-2`
    /// for pixels scaled to `[0, 1]`).
    ///
    /// # Panics
    ///
    /// As [`Pca::fit`], and if `epsilon` is negative or not finite.
    pub fn fit_whitening(data: &[f32], d: usize, k: usize, epsilon: f32) -> Pca {
        assert!(
            epsilon >= 0.0 && epsilon.is_finite(),
            "Pca::fit_whitening: epsilon {epsilon} must be finite and ≥ 0"
        );
        Self::fit_impl(data, d, k, Some(epsilon))
    }

    fn fit_impl(data: &[f32], d: usize, k: usize, epsilon: Option<f32>) -> Pca {
        let n = check_rows(data, d, "Pca::fit");
        assert!(n >= 2, "Pca::fit: need at least 2 examples, got {n}");
        assert!(
            k >= 1 && k <= d,
            "Pca::fit: k = {k} components is outside 1..={d}"
        );
        let mean = column_means(data, d);
        let cov = covariance(data, d, &mean);
        let total_variance = (0..d).map(|i| cov[i * d + i]).sum();
        let eig = symmetric_eigen(&cov, d);
        let components: Vec<f32> = eig.vectors[..k * d].iter().map(|&x| x as f32).collect();
        let variances: Vec<f32> = eig.values[..k].iter().map(|&l| l.max(0.0) as f32).collect();
        let scale: Vec<f32> = match epsilon {
            Some(eps) => variances.iter().map(|&l| (l + eps).sqrt()).collect(),
            None => vec![1.0; k],
        };
        let mut project = vec![0.0; d * k];
        for c in 0..k {
            for j in 0..d {
                project[j * k + c] = components[c * d + j] / scale[c];
            }
        }
        let mut back = components.clone();
        for (c, row) in back.chunks_exact_mut(d).enumerate() {
            for x in row {
                *x *= scale[c];
            }
        }
        Pca {
            mean: mean.iter().map(|&m| m as f32).collect(),
            components,
            variances,
            total_variance,
            epsilon,
            project,
            back,
        }
    }

    /// Number of input features `d`.
    pub fn features(&self) -> usize {
        self.mean.len()
    }

    /// Number of components `k`.
    pub fn components_len(&self) -> usize {
        self.variances.len()
    }

    /// The training mean μ, `[d]`.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// The principal axes, `[k, d]` row-major: row `i` is the unit eigenvector `uᵢ`.
    pub fn components(&self) -> &[f32] {
        &self.components
    }

    /// The variances `λ₁ ≥ … ≥ λₖ` along the principal axes, `[k]`.
    pub fn variances(&self) -> &[f32] {
        &self.variances
    }

    /// Fraction of the total training variance each component explains, `[k]`.
    pub fn explained_variance_ratio(&self) -> Vec<f32> {
        self.variances
            .iter()
            .map(|&l| (f64::from(l) / self.total_variance.max(f64::MIN_POSITIVE)) as f32)
            .collect()
    }

    /// The whitening regulariser ε, or `None` for a plain projection.
    pub fn epsilon(&self) -> Option<f32> {
        self.epsilon
    }

    /// Projects `data` (`[n, d]`) onto the components: returns `[n, k]`.
    ///
    /// # Panics
    ///
    /// If `data.len()` is not a multiple of `d`.
    pub fn transform(&self, data: &[f32]) -> Vec<f32> {
        let d = self.features();
        let n = check_rows(data, d, "Pca::transform");
        matmul(
            centre(data, &self.mean),
            n,
            d,
            &self.project,
            self.components_len(),
        )
    }

    /// Maps projections `z` (`[n, k]`) back to input space: returns `[n, d]`, the
    /// reconstruction `μ + z Uₖᵀ` (undoing the whitening scale if any).
    ///
    /// # Panics
    ///
    /// If `z.len()` is not a multiple of `k`.
    pub fn inverse_transform(&self, z: &[f32]) -> Vec<f32> {
        let k = self.components_len();
        let d = self.features();
        let n = check_rows(z, k, "Pca::inverse_transform");
        let mut x = matmul(z.to_vec(), n, k, &self.back, d);
        for row in x.chunks_exact_mut(d) {
            for (v, m) in row.iter_mut().zip(&self.mean) {
                *v += m;
            }
        }
        x
    }
}

/// ZCA whitening: `x ← (x − μ) W` with `W = U (Λ + εI)^(−1/2) Uᵀ`, the symmetric whitening
/// matrix that decorrelates the features while keeping the result as close as possible to
/// the input (whitened images still look like images, with edges emphasised).
#[derive(Clone, Debug, PartialEq)]
pub struct Zca {
    mean: Vec<f32>,
    matrix: Vec<f32>,
    epsilon: f32,
}

impl Zca {
    /// Fits ZCA whitening on `data` (`[n, d]` row-major). `epsilon` regularises directions of
    /// tiny variance (around `1e-2`–`1e-1` for pixels scaled to `[0, 1]`).
    ///
    /// # Panics
    ///
    /// If `d` is 0, `data.len()` is not a multiple of `d`, `n < 2`, or `epsilon` is negative
    /// or not finite.
    pub fn fit(data: &[f32], d: usize, epsilon: f32) -> Zca {
        let n = check_rows(data, d, "Zca::fit");
        assert!(n >= 2, "Zca::fit: need at least 2 examples, got {n}");
        assert!(
            epsilon >= 0.0 && epsilon.is_finite(),
            "Zca::fit: epsilon {epsilon} must be finite and ≥ 0"
        );
        let mean = column_means(data, d);
        let cov = covariance(data, d, &mean);
        let eig = symmetric_eigen(&cov, d);
        // W = Σᵢ uᵢ uᵢᵀ / √(λᵢ + ε) = (S Uᵀ)ᵀ (S Uᵀ) with S = diag((λ + ε)^(−1/4)): one GEMM.
        // Directions with λ + ε = 0 are dropped (pseudo-inverse).
        let mut su = vec![0.0f32; d * d];
        for i in 0..d {
            let s = (eig.values[i].max(0.0) + f64::from(epsilon)).powf(-0.25);
            if s.is_finite() {
                for j in 0..d {
                    su[i * d + j] = (eig.vectors[i * d + j] * s) as f32;
                }
            }
        }
        let mut sut = vec![0.0f32; d * d];
        for i in 0..d {
            for j in 0..d {
                sut[j * d + i] = su[i * d + j];
            }
        }
        let matrix = matmul(sut, d, d, &su, d);
        Zca {
            mean: mean.iter().map(|&m| m as f32).collect(),
            matrix,
            epsilon,
        }
    }

    /// Number of features `d`.
    pub fn features(&self) -> usize {
        self.mean.len()
    }

    /// The training mean μ, `[d]`.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// The whitening matrix `W`, `[d, d]` row-major (symmetric).
    pub fn matrix(&self) -> &[f32] {
        &self.matrix
    }

    /// The regulariser ε.
    pub fn epsilon(&self) -> f32 {
        self.epsilon
    }

    /// Whitens `data` (`[n, d]`) in place.
    ///
    /// # Panics
    ///
    /// If `data.len()` is not a multiple of `d`.
    pub fn apply(&self, data: &mut [f32]) {
        let d = self.features();
        let n = check_rows(data, d, "Zca::apply");
        let out = matmul(centre(data, &self.mean), n, d, &self.matrix, d);
        data.copy_from_slice(&out);
    }
}
