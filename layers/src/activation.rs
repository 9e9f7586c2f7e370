//! Activations as layers: fixed functions ([`Activation`]) and learned ones ([`PRelu`],
//! [`Maxout`]). The functions themselves are methods of `Var` (`x.relu()`, …).

use strata_autograd::{Param, Var};
use strata_tensor::{Element, Tensor};

use crate::{Init, Linear, Module, module_parts};

/// A fixed elementwise (or softmax) activation, usable as a layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `x`.
    Identity,
    /// `σ(x) = 1/(1 + e⁻ˣ)`.
    Sigmoid,
    /// `tanh x`.
    Tanh,
    /// LeCun's `1.7159·tanh(2x/3)` (DeepLearnToolbox `tanh_opt`).
    LecunTanh,
    /// `max(x, 0)`.
    Relu,
    /// `x` if `x > 0` else `slope·x`.
    LeakyRelu(f64),
    /// `x` if `x > 0` else `α(eˣ − 1)`.
    Elu(f64),
    /// `x·Φ(x)`.
    Gelu,
    /// `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`, PyTorch's `GELU(approximate="tanh")`.
    GeluTanh,
    /// `ln(1 + eˣ)`.
    Softplus,
    /// SiLU (swish) `x·σ(x)`, PyTorch's `nn.SiLU`.
    Silu,
    /// Mish `x·tanh(ln(1 + eˣ))`, PyTorch's `nn.Mish`.
    Mish,
    /// SELU `λx` if `x > 0` else `λα(eˣ − 1)` (λ ≈ 1.0507, α ≈ 1.6733), PyTorch's `nn.SELU`.
    Selu,
    /// `ln σ(x)`, PyTorch's `nn.LogSigmoid`.
    LogSigmoid,
    /// `clamp(x, min, max)`, PyTorch's `nn.Hardtanh(min_val, max_val)` (`Hardtanh(0, 6)` is
    /// `nn.ReLU6`); the gradient passes strictly inside `(min, max)`.
    Hardtanh(f64, f64),
    /// `e^{xᵢ}/Σⱼe^{xⱼ}` along the given axis.
    Softmax(usize),
    /// `xᵢ − log Σⱼ e^{xⱼ}` along the given axis.
    LogSoftmax(usize),
}

impl Activation {
    /// Applies the activation.
    pub fn apply<T: Element>(self, x: &Var<T>) -> Var<T> {
        let t = T::from_f64_lossy;
        match self {
            Activation::Identity => x.clone(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::LecunTanh => x.lecun_tanh(),
            Activation::Relu => x.relu(),
            Activation::LeakyRelu(slope) => x.leaky_relu(t(slope)),
            Activation::Elu(alpha) => x.elu(t(alpha)),
            Activation::Gelu => x.gelu(),
            Activation::GeluTanh => x.gelu_tanh(),
            Activation::Softplus => x.softplus(),
            Activation::Silu => x.silu(),
            Activation::Mish => x.mish(),
            Activation::Selu => x.selu(),
            Activation::LogSigmoid => x.log_sigmoid(),
            Activation::Hardtanh(min, max) => x.hardtanh(t(min), t(max)),
            Activation::Softmax(axis) => x.softmax(axis),
            Activation::LogSoftmax(axis) => x.log_softmax(axis),
        }
    }
}

impl<T: Element> Module<T> for Activation {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        crate::record_output(self.apply(x), &*self)
    }
    module_parts!(T);

    /// `Activation(Relu)`, `Activation(LeakyRelu(0.01))`, …
    fn describe(&self) -> String {
        format!("Activation({self:?})")
    }
}

/// Parametric ReLU (He et al. 2015): `y = max(0, x) + a·min(0, x)` with a learned slope `a`,
/// one shared (`[1]`) or one per channel (`[C]`, channels on axis 1 of `[N, C, …]`).
/// PyTorch's default initial slope is 0.25.
pub struct PRelu<T: Element = f32> {
    /// The slopes, `[1]` or `[C]`.
    pub weight: Param<T>,
}

impl<T: Element> PRelu<T> {
    /// `num_parameters` slopes (1 or the channel count), each starting at `init`.
    ///
    /// # Panics
    /// If `num_parameters` is 0.
    pub fn new(num_parameters: usize, init: f64) -> Self {
        assert!(num_parameters > 0, "PRelu: needs at least one slope");
        PRelu {
            weight: Param::new(Tensor::full(&[num_parameters], T::from_f64_lossy(init))),
        }
    }
}

impl<T: Element> Module<T> for PRelu<T> {
    /// # Panics
    /// If there are `C > 1` slopes and the input's axis 1 is not `C`.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let c = self.weight.shape()[0];
        let a = if c == 1 {
            self.weight.var()
        } else {
            assert!(
                x.ndim() >= 2 && x.shape()[1] == c,
                "PRelu: input {:?} needs {c} channels on axis 1 for {c} slopes",
                x.shape()
            );
            let mut shape = vec![c];
            shape.extend(std::iter::repeat_n(1, x.ndim() - 2));
            self.weight.var().reshape(&shape)
        };
        // relu(x) − a·relu(−x) = max(0, x) + a·min(0, x)
        crate::record_output(x.relu().sub(&a.mul(&x.neg().relu())), &*self)
    }
    module_parts!(T; params: [weight]);
}

/// Maxout (Goodfellow et al. 2013): `yⱼ = max_{k<K} (x·W_{j,k}ᵀ + b_{j,k})`, a learned convex
/// piecewise-linear activation with `K` pieces. `x: [N, in]` → `y: [N, out]`; the underlying
/// linear map has `out·K` outputs (`linear.weight: [out·K, in]`, pieces of unit `j` adjacent).
pub struct Maxout<T: Element = f32> {
    /// The `in → out·K` affine map.
    pub linear: Linear<T>,
    pieces: usize,
}

impl<T: Element> Maxout<T> {
    /// Maxout from `in_features` to `out_features` units of `pieces` pieces each.
    ///
    /// # Panics
    /// If any size is 0.
    pub fn new(in_features: usize, out_features: usize, pieces: usize) -> Self {
        assert!(pieces > 0, "Maxout: needs at least one piece");
        Maxout {
            linear: Linear::new(in_features, out_features * pieces),
            pieces,
        }
    }

    /// Re-initialises the underlying linear map.
    pub fn with_init(mut self, weight: Init, bias: Init) -> Self {
        self.linear = self.linear.with_init(weight, bias);
        self
    }
}

impl<T: Element> Module<T> for Maxout<T> {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        assert!(
            x.ndim() == 2,
            "Maxout: expects a 2-D input [N, in], got {:?}",
            x.shape()
        );
        let z = self.linear.forward(x);
        let n = z.shape()[0];
        let out = z.shape()[1] / self.pieces;
        crate::record_output(z.reshape(&[n, out, self.pieces]).max_axis(2, false), &*self)
    }
    module_parts!(T; children: [linear]);
}
