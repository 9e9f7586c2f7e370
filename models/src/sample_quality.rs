//! One sample-quality score for every image generator Strata has (GAN, VAE, DBN, RBM): a
//! LeNet-5 classifier trained on the real training set judges `N` generated 28×28 images.
//!
//! - **confidence**: the mean of the classifier's top probability — high when samples look like
//!   *some* class;
//! - **class entropy**: the entropy (nats, at most `ln 10 ≈ 2.303`) of the histogram of
//!   predicted classes — high when the samples cover every class (low: mode collapse);
//! - **Fréchet distance**: between Gaussians fitted to the classifier's 84 penultimate features
//!   (after F6's ReLU) of real test images and of the samples,
//!   `‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2(Σ_r^{½} Σ_g Σ_r^{½})^{½})` — the MNIST analogue of FID
//!   (Heusel et al. 2017), lower is better, 0 for identical statistics.
//!
//! Limits: the features are those of a small classifier trained on the same data, not of an
//! ImageNet network, so figures compare generators on one data set only; the distance is biased
//! upward for small `N` (use the same `N` when comparing, ≥ 1000 advised); a generator that
//! copies training images scores perfectly; and the confidence rewards sharp digits, not
//! diversity within a class.

use std::path::Path;
use std::sync::Arc;

use strata_autograd::{Var, no_grad};
use strata_datasets::{ArrayDataset, Dataset as _};
use strata_layers::Module;
use strata_layers::checkpoint::{load_module, save_module};
use strata_tensor::Tensor;
use strata_tensor::linalg::{column_means, covariance, symmetric_eigen, symmetric_sqrt};

use crate::recipes::lenet5_trainer;
use crate::{LeNet5, LeNetConfig, LeNetStyle, TrainError};

/// The components of the classifier's feature vector (F6's width).
pub const FEATURES: usize = 84;

/// What [`SampleScorer::score`] reports for a set of samples.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleScore {
    /// How many images were scored.
    pub samples: usize,
    /// Mean top-class probability.
    pub confidence: f64,
    /// Entropy of the predicted-class histogram, nats (`ln 10` = uniform over ten classes).
    pub class_entropy: f64,
    /// Predicted-class counts.
    pub class_histogram: Vec<usize>,
    /// Fréchet distance to the real images' feature statistics.
    pub frechet_distance: f64,
}

/// A trained LeNet-5 and the feature statistics of real images.
pub struct SampleScorer {
    classifier: LeNet5,
    real_mean: Vec<f64>,
    real_cov: Vec<f64>,
}

impl SampleScorer {
    /// A scorer from a trained classifier (modern LeNet-5 on pixels in `[0, 1]`) and real
    /// images `[N, 1, 28, 28]` in `[0, 1]` for the reference statistics.
    pub fn new(classifier: LeNet5, real: &Tensor) -> Self {
        let mut scorer = SampleScorer {
            classifier,
            real_mean: Vec::new(),
            real_cov: Vec::new(),
        };
        let (_, features) = scorer.classify(real);
        scorer.real_mean = column_means(&features, FEATURES);
        scorer.real_cov = covariance(&features, FEATURES, &scorer.real_mean);
        scorer
    }

    /// Loads the classifier from `cache` or, if that file is missing or unreadable, trains one
    /// (modern LeNet-5, Adam 10⁻³, batch 64, `epochs`, `seed`) on `train` (pixels in `[0, 1]`,
    /// labels) and writes it there; then takes the reference statistics of `real`.
    ///
    /// # Errors
    /// [`TrainError`] if training fails or the cache cannot be written.
    pub fn load_or_train(
        cache: &Path,
        train: ArrayDataset,
        real: &Tensor,
        epochs: usize,
        seed: u64,
    ) -> Result<Self, TrainError> {
        let mut classifier = LeNet5::new(LeNetConfig {
            style: LeNetStyle::Modern,
            ..LeNetConfig::default()
        });
        if load_module(&mut classifier, cache).is_err() {
            let mut trainer = lenet5_trainer(LeNetStyle::Modern, seed, epochs, 64)?;
            trainer.config_mut().verbose = false;
            trainer.fit(Arc::new(train), None)?;
            classifier = trainer.model;
            if let Some(dir) = cache.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| TrainError::Io(format!("creating {}: {e}", dir.display())))?;
            }
            save_module(&classifier, cache).map_err(TrainError::Checkpoint)?;
        }
        classifier.eval();
        Ok(SampleScorer::new(classifier, real))
    }

    /// The scorer the generative examples use: the classifier cached as
    /// `<dir>/sample-scorer-<data>.ckpt` (trained for 3 epochs with seed 0 on `train`, pixels in
    /// `[0, 1]`, if missing), the first 2000 images of `test` as the real reference.
    ///
    /// # Errors
    /// As [`SampleScorer::load_or_train`].
    pub fn for_data(
        dir: &Path,
        data: &str,
        train: ArrayDataset,
        test: &ArrayDataset,
    ) -> Result<Self, TrainError> {
        let real = reference_images(test, 0, REFERENCE_IMAGES);
        let cache = dir.join(format!("sample-scorer-{data}.ckpt"));
        Self::load_or_train(&cache, train, &real, 3, 0)
    }

    /// Class probabilities `[N, 10]` and features (`N × 84`, row-major) of images
    /// `[N, 1, 28, 28]` (or `[N, 784]`) in `[0, 1]`.
    pub fn classify(&mut self, images: &Tensor) -> (Tensor, Vec<f32>) {
        let n = images.shape()[0];
        let x = images.reshape(&[n, 1, 28, 28]);
        let mut probs = Vec::with_capacity(n * 10);
        let mut features = Vec::with_capacity(n * FEATURES);
        for start in (0..n).step_by(1000) {
            let len = (n - start).min(1000);
            let chunk = Var::constant(x.narrow(0, start, len).contiguous());
            let (p, f) = no_grad(|| {
                let mut h = self.classifier.features.forward(&chunk);
                for i in 0..4 {
                    h = self.classifier.classifier.layer_mut(i).forward(&h);
                }
                let logits = self.classifier.classifier.layer_mut(4).forward(&h);
                (logits.value().softmax(1), h.into_value())
            });
            probs.extend(p.to_vec());
            features.extend(f.to_vec());
        }
        (Tensor::from_vec(probs, &[n, 10]), features)
    }

    /// Scores `images` `[N, 1, 28, 28]` (or `[N, 784]`) in `[0, 1]`.
    ///
    /// # Panics
    /// If there are fewer than two images.
    pub fn score(&mut self, images: &Tensor) -> SampleScore {
        let n = images.shape()[0];
        assert!(
            n >= 2,
            "SampleScorer::score: needs at least two samples, got {n}"
        );
        let (probs, features) = self.classify(images);
        let probs = probs.to_vec();
        let mut histogram = vec![0usize; 10];
        let mut confidence = 0.0;
        for row in probs.chunks(10) {
            let (best, p) = row
                .iter()
                .enumerate()
                .fold((0, 0.0f32), |b, (i, &p)| if p > b.1 { (i, p) } else { b });
            histogram[best] += 1;
            confidence += p as f64;
        }
        let class_entropy = 0.0
            - histogram
                .iter()
                .filter(|&&c| c > 0)
                .map(|&c| {
                    let q = c as f64 / n as f64;
                    q * q.ln()
                })
                .sum::<f64>();
        let mean = column_means(&features, FEATURES);
        let cov = covariance(&features, FEATURES, &mean);
        SampleScore {
            samples: n,
            confidence: confidence / n as f64,
            class_entropy,
            class_histogram: histogram,
            frechet_distance: frechet_distance(&self.real_mean, &self.real_cov, &mean, &cov),
        }
    }
}

/// Test images [`SampleScorer::for_data`] takes as the real reference.
pub const REFERENCE_IMAGES: usize = 2000;

/// Up to `count` images of `data` from `first` on, as `[n, 1, 28, 28]`.
///
/// # Panics
/// If `first` is past the end or the images are not 28×28.
pub fn reference_images(data: &ArrayDataset, first: usize, count: usize) -> Tensor {
    let n = count.min(data.len().saturating_sub(first));
    assert!(
        n > 0,
        "reference_images: no image from {first} on in a set of {}",
        data.len()
    );
    Tensor::from_vec(
        data.inputs()[first * 784..(first + n) * 784].to_vec(),
        &[n, 1, 28, 28],
    )
}

/// The Fréchet distance between `N(μ₁, Σ₁)` and `N(μ₂, Σ₂)` (`d`-dimensional, covariances
/// row-major): `‖μ₁ − μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr (Σ₁^{½} Σ₂ Σ₁^{½})^{½}`, with the symmetric
/// square roots from eigendecompositions (negative eigenvalues of rounding clamped to 0).
///
/// # Panics
/// If the sizes disagree.
pub fn frechet_distance(mean1: &[f64], cov1: &[f64], mean2: &[f64], cov2: &[f64]) -> f64 {
    let d = mean1.len();
    assert!(
        mean2.len() == d && cov1.len() == d * d && cov2.len() == d * d,
        "frechet_distance: means of {d} and {}, covariances of {} and {} values",
        mean2.len(),
        cov1.len(),
        cov2.len()
    );
    let sq: f64 = mean1
        .iter()
        .zip(mean2)
        .map(|(a, b)| (a - b) * (a - b))
        .sum();
    let trace = |c: &[f64]| (0..d).map(|i| c[i * d + i]).sum::<f64>();
    let root1 = Tensor::from_vec(symmetric_sqrt(cov1, d), &[d, d]);
    let middle = root1
        .matmul(&Tensor::from_vec(cov2.to_vec(), &[d, d]))
        .matmul(&root1);
    // Symmetrised against the product's rounding before the eigensolver.
    let middle = middle.add(&middle.t()).mul_scalar(0.5).to_vec();
    let cross: f64 = symmetric_eigen(&middle, d)
        .values
        .iter()
        .map(|&l| l.max(0.0).sqrt())
        .sum();
    (sq + trace(cov1) + trace(cov2) - 2.0 * cross).max(0.0)
}
