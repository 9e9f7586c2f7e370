//! Weight initializers, and the seeded random stream layers draw their initial weights from.
//!
//! Fans follow PyTorch: for a weight of shape `[out, in, k…]`, `fan_in = in·Πk` and
//! `fan_out = out·Πk`.

use std::cell::RefCell;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata_tensor::{Element, Tensor};

thread_local! {
    static INIT_RNG: RefCell<StdRng> = RefCell::new(StdRng::seed_from_u64(0));
}

/// Restarts this thread's initialisation stream (like `torch.manual_seed`): layers built
/// afterwards get the same initial weights on every run with the same seed. The stream starts
/// from seed 0, so runs are reproducible even without a call.
pub fn manual_seed(seed: u64) {
    INIT_RNG.with(|r| *r.borrow_mut() = StdRng::seed_from_u64(seed));
}

/// Runs `f` with this thread's initialisation stream.
pub fn with_init_rng<R>(f: impl FnOnce(&mut StdRng) -> R) -> R {
    INIT_RNG.with(|r| f(&mut r.borrow_mut()))
}

/// `(fan_in, fan_out)` of a weight shape (`[n]` counts as `fan_in = fan_out = n`).
///
/// # Panics
/// On a rank-0 shape.
pub fn fans(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] => panic!("init: a scalar has no fan-in or fan-out"),
        [n] => (*n, *n),
        [out, inp, rest @ ..] => {
            let receptive: usize = rest.iter().product();
            (inp * receptive, out * receptive)
        }
    }
}

/// The recommended gain for a nonlinearity (PyTorch's `calculate_gain`): linear, conv and
/// sigmoid 1, tanh 5/3, ReLU √2, leaky ReLU √(2/(1 + slope²)), SELU 3/4.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nonlinearity {
    /// Gain 1.
    Linear,
    /// Gain 1.
    Sigmoid,
    /// Gain 5/3.
    Tanh,
    /// Gain √2.
    Relu,
    /// Gain √(2/(1 + slope²)).
    LeakyRelu(f64),
    /// Gain 3/4.
    Selu,
}

impl Nonlinearity {
    /// The gain.
    pub fn gain(self) -> f64 {
        match self {
            Nonlinearity::Linear | Nonlinearity::Sigmoid => 1.0,
            Nonlinearity::Tanh => 5.0 / 3.0,
            Nonlinearity::Relu => 2f64.sqrt(),
            Nonlinearity::LeakyRelu(slope) => (2.0 / (1.0 + slope * slope)).sqrt(),
            Nonlinearity::Selu => 0.75,
        }
    }
}

/// Which fan Kaiming initialisation preserves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    /// Preserve the variance of activations in the forward pass.
    FanIn,
    /// Preserve the variance of gradients in the backward pass.
    FanOut,
}

/// How to fill a new tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// All `c`.
    Constant(f64),
    /// U(low, high).
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// N(mean, std²).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// Glorot & Bengio (2010): U(±a), `a = gain·√(6/(fan_in + fan_out))`.
    XavierUniform {
        /// Multiplier (see [`Nonlinearity::gain`]).
        gain: f64,
    },
    /// N(0, σ²), `σ = gain·√(2/(fan_in + fan_out))`.
    XavierNormal {
        /// Multiplier.
        gain: f64,
    },
    /// He et al. (2015): U(±b), `b = gain·√(3/fan)`.
    KaimingUniform {
        /// Which fan.
        mode: FanMode,
        /// The nonlinearity after the layer (its gain).
        nonlinearity: Nonlinearity,
    },
    /// N(0, σ²), `σ = gain/√fan`.
    KaimingNormal {
        /// Which fan.
        mode: FanMode,
        /// The nonlinearity after the layer.
        nonlinearity: Nonlinearity,
    },
    /// LeCun: U(±√(3/fan_in)) (variance 1/fan_in).
    LecunUniform,
    /// LeCun: N(0, 1/fan_in).
    LecunNormal,
    /// A (semi-)orthogonal matrix (Saxe et al. 2013) of the weight flattened to
    /// `[shape[0], Π rest]`, times `gain`.
    Orthogonal {
        /// Multiplier.
        gain: f64,
    },
    /// N(0, 0.01²), Hinton's recommendation for RBM weights.
    RbmNormal,
    /// PyTorch's default for `Linear` and `Conv` weights: Kaiming-uniform with `a = √5`,
    /// i.e. U(±1/√fan_in).
    PytorchDefault,
}

impl Init {
    /// A tensor of `shape` filled by this rule, drawing from `rng`.
    ///
    /// # Panics
    /// If a fan-based rule gets a rank-0 shape.
    pub fn tensor<T: Element>(self, shape: &[usize], rng: &mut impl Rng) -> Tensor<T> {
        let t = |x: f64| T::from_f64_lossy(x);
        let uniform =
            |bound: f64, rng: &mut _| Tensor::rand_uniform(shape, t(-bound), t(bound), rng);
        let normal = |std: f64, rng: &mut _| Tensor::rand_normal(shape, T::zero(), t(std), rng);
        let fan = |mode: FanMode| {
            let (fan_in, fan_out) = fans(shape);
            (match mode {
                FanMode::FanIn => fan_in,
                FanMode::FanOut => fan_out,
            }) as f64
        };
        match self {
            Init::Zeros => Tensor::zeros(shape),
            Init::Constant(c) => Tensor::full(shape, t(c)),
            Init::Uniform { low, high } => Tensor::rand_uniform(shape, t(low), t(high), rng),
            Init::Normal { mean, std } => Tensor::rand_normal(shape, t(mean), t(std), rng),
            Init::XavierUniform { gain } => {
                let (i, o) = fans(shape);
                uniform(gain * (6.0 / (i + o) as f64).sqrt(), rng)
            }
            Init::XavierNormal { gain } => {
                let (i, o) = fans(shape);
                normal(gain * (2.0 / (i + o) as f64).sqrt(), rng)
            }
            Init::KaimingUniform { mode, nonlinearity } => {
                uniform(nonlinearity.gain() * (3.0 / fan(mode)).sqrt(), rng)
            }
            Init::KaimingNormal { mode, nonlinearity } => {
                normal(nonlinearity.gain() / fan(mode).sqrt(), rng)
            }
            Init::LecunUniform => uniform((3.0 / fan(FanMode::FanIn)).sqrt(), rng),
            Init::LecunNormal => normal((1.0 / fan(FanMode::FanIn)).sqrt(), rng),
            Init::Orthogonal { gain } => orthogonal(shape, gain, rng),
            Init::RbmNormal => normal(0.01, rng),
            Init::PytorchDefault => uniform(1.0 / fan(FanMode::FanIn).sqrt(), rng),
        }
    }

    /// As [`Init::tensor`], drawing from this thread's initialisation stream.
    pub fn fill<T: Element>(self, shape: &[usize]) -> Tensor<T> {
        with_init_rng(|rng| self.tensor(shape, rng))
    }
}

/// `gain·Q` where `Q` comes from the QR decomposition of a standard normal matrix (with the
/// signs of `R`'s diagonal folded in, so `Q` is uniformly distributed), as PyTorch's
/// `orthogonal_`.
fn orthogonal<T: Element>(shape: &[usize], gain: f64, rng: &mut impl Rng) -> Tensor<T> {
    assert!(
        shape.len() >= 2,
        "init: orthogonal needs at least 2 dimensions, got {shape:?}"
    );
    let rows = shape[0];
    let cols: usize = shape[1..].iter().product();
    let tall = rows >= cols;
    let a = Tensor::<f64>::rand_normal(
        &if tall { [rows, cols] } else { [cols, rows] },
        0.0,
        1.0,
        rng,
    );
    let (q, r) = strata_tensor::linalg::qr(&a);
    let k = q.shape()[1];
    let signs: Vec<f64> = (0..k)
        .map(|i| if r.get(&[i, i]) < 0.0 { -1.0 } else { 1.0 })
        .collect();
    let q = q.mul(&Tensor::from_vec(signs, &[k])).mul_scalar(gain);
    let q = if tall { q } else { q.t().contiguous() };
    q.cast::<T>().reshape(shape)
}
