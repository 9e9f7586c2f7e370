//! A convolutional autoencoder in the spirit of the DeepLearnToolbox CAE: strided
//! convolutions down, transposed convolutions up.
//!
//! For `x: [N, C, H, W]` with `H` and `W` divisible by 4 (MNIST: `[N, 1, 28, 28]`):
//!
//! ```text
//! encode: h₁ = relu(conv₃ₓ₃,s2,p1(x))      [N, c₁, H/2, W/2]
//!         h  = relu(conv₃ₓ₃,s2,p1(h₁))     [N, c₂, H/4, W/4]
//! decode: u₁ = relu(convᵀ₃ₓ₃,s2,p1,op1(h)) [N, c₁, H/2, W/2]
//!         x̂  = σ(convᵀ₃ₓ₃,s2,p1,op1(u₁))   [N, C, H, W]
//! loss:   Σ(x̂ − x)² / (N·C·H·W)
//! ```

use strata_autograd::{Reduction, Var, no_grad};
use strata_layers::{Conv2d, ConvTranspose2d, Module, module_parts};
use strata_tensor::Tensor;

use crate::reconstruction::ReconstructionModel;

/// Channel widths of a [`ConvAutoEncoder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvAutoEncoderConfig {
    /// Input channels `C`.
    pub channels: usize,
    /// Channels after the first strided convolution, `c₁`.
    pub hidden1: usize,
    /// Code channels, `c₂`.
    pub hidden2: usize,
}

impl Default for ConvAutoEncoderConfig {
    /// One input channel, `c₁ = 16`, `c₂ = 8` (a 392-value code for a 28×28 image).
    fn default() -> Self {
        ConvAutoEncoderConfig {
            channels: 1,
            hidden1: 16,
            hidden2: 8,
        }
    }
}

/// The convolutional autoencoder of the [module documentation](self). Parameters:
/// `enc1.*`, `enc2.*` (`Conv2d`), `dec1.*`, `dec2.*` (`ConvTranspose2d`). As a [`Module`],
/// `forward` is the reconstruction.
pub struct ConvAutoEncoder {
    /// `C → c₁`, 3×3, stride 2, padding 1.
    pub enc1: Conv2d,
    /// `c₁ → c₂`, 3×3, stride 2, padding 1.
    pub enc2: Conv2d,
    /// `c₂ → c₁`, 3×3 transposed, stride 2, padding 1, output padding 1.
    pub dec1: ConvTranspose2d,
    /// `c₁ → C`, 3×3 transposed, stride 2, padding 1, output padding 1.
    pub dec2: ConvTranspose2d,
}

impl ConvAutoEncoder {
    /// Builds the layers (PyTorch's default init, from the initialisation stream).
    ///
    /// # Panics
    /// If a channel count is 0.
    pub fn new(config: ConvAutoEncoderConfig) -> Self {
        let c = config;
        ConvAutoEncoder {
            enc1: Conv2d::new(c.channels, c.hidden1, (3, 3))
                .with_stride((2, 2))
                .with_padding((1, 1)),
            enc2: Conv2d::new(c.hidden1, c.hidden2, (3, 3))
                .with_stride((2, 2))
                .with_padding((1, 1)),
            dec1: ConvTranspose2d::new(c.hidden2, c.hidden1, (3, 3)).with_stride_padding(
                (2, 2),
                (1, 1),
                (1, 1),
            ),
            dec2: ConvTranspose2d::new(c.hidden1, c.channels, (3, 3)).with_stride_padding(
                (2, 2),
                (1, 1),
                (1, 1),
            ),
        }
    }

    /// The code `[N, c₂, H/4, W/4]` of `x: [N, C, H, W]`.
    ///
    /// # Panics
    /// If `x` is not `[N, C, H, W]` with `H` and `W` divisible by 4.
    pub fn encode(&mut self, x: &Var) -> Var {
        let s = x.shape();
        assert!(
            s.len() == 4 && s[2] % 4 == 0 && s[3] % 4 == 0,
            "ConvAutoEncoder::encode: input {s:?} is not [N, C, H, W] with H and W divisible by 4"
        );
        let h = self.enc1.forward(x).relu();
        self.enc2.forward(&h).relu()
    }

    /// The reconstruction `[N, C, H, W]` of a code `[N, c₂, H/4, W/4]`.
    pub fn decode(&mut self, h: &Var) -> Var {
        let u = self.dec1.forward(h).relu();
        self.dec2.forward(&u).sigmoid()
    }

    /// The mean squared reconstruction error `Σ(x̂ − x)² / (N·C·H·W)` of `x` (no graph).
    ///
    /// # Panics
    /// As [`ConvAutoEncoder::encode`].
    pub fn reconstruction_error(&mut self, x: &Tensor) -> f64 {
        let y = self.predict(x);
        y.sub(x).square().mean() as f64
    }
}

impl Module for ConvAutoEncoder {
    /// `decode(encode(x))`.
    fn forward(&mut self, x: &Var) -> Var {
        let h = self.encode(x);
        self.decode(&h)
    }
    module_parts!(f32; children: [enc1, enc2, dec1, dec2]);
}

impl ReconstructionModel for ConvAutoEncoder {
    /// `Σ(x̂ − x)² / (N·C·H·W)` against the clean input.
    fn reconstruction_loss(&mut self, x: &Var) -> (Var, Vec<(&'static str, f64)>) {
        let target = x.detach();
        (
            self.forward(x).mse_loss(&target, Reduction::Mean),
            Vec::new(),
        )
    }
}

/// The error of the trivial baseline that predicts the mean training image: the mean of
/// `(x − μ)²` over `test` with `μ` the per-pixel mean of `train` (both `[N, …]`).
///
/// # Panics
/// If the per-example shapes differ.
pub fn mean_image_baseline(train: &Tensor, test: &Tensor) -> f64 {
    assert_eq!(
        train.shape()[1..],
        test.shape()[1..],
        "mean_image_baseline: train {:?} and test {:?} differ per example",
        train.shape(),
        test.shape()
    );
    no_grad(|| {
        let mu = train.mean_axis(0, true);
        test.sub(&mu).square().mean() as f64
    })
}
