//! Fully connected layer.

use strata_autograd::{Param, Var};
use strata_tensor::Element;

use crate::{Init, Module, module_parts};

/// `y = x·Wᵀ + b`: `x: [.., in]`, `weight: [out, in]`, `bias: [out]`, `y: [.., out]`.
///
/// Default initialisation (PyTorch's): `W, b ~ U(±1/√in)`.
pub struct Linear<T: Element = f32> {
    /// `[out, in]`.
    pub weight: Param<T>,
    /// `[out]`, absent after [`Linear::without_bias`].
    pub bias: Option<Param<T>>,
}

impl<T: Element> Linear<T> {
    /// A layer from `in_features` to `out_features` with a bias, PyTorch's default init.
    ///
    /// # Panics
    /// If either size is 0.
    pub fn new(in_features: usize, out_features: usize) -> Self {
        assert!(
            in_features > 0 && out_features > 0,
            "Linear: sizes must be positive, got {in_features} → {out_features}"
        );
        let bound = 1.0 / (in_features as f64).sqrt();
        Linear {
            weight: Param::new(Init::PytorchDefault.fill(&[out_features, in_features])),
            bias: Some(Param::new(
                Init::Uniform {
                    low: -bound,
                    high: bound,
                }
                .fill(&[out_features]),
            )),
        }
    }

    /// Drops the bias (`y = x·Wᵀ`).
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }

    /// Re-initialises the weight with `weight` and the bias with `bias`.
    pub fn with_init(mut self, weight: Init, bias: Init) -> Self {
        let shape = self.weight.shape().to_vec();
        self.weight.set(weight.fill(&shape));
        if let Some(b) = &mut self.bias {
            let shape = b.shape().to_vec();
            b.set(bias.fill(&shape));
        }
        self
    }

    /// `in_features`.
    pub fn in_features(&self) -> usize {
        self.weight.shape()[1]
    }

    /// `out_features`.
    pub fn out_features(&self) -> usize {
        self.weight.shape()[0]
    }
}

impl<T: Element> Module<T> for Linear<T> {
    /// # Panics
    /// If the input's last dimension is not `in_features`.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let bias = self.bias.as_ref().map(Param::var);
        crate::record_output(x.linear(&self.weight.var(), bias.as_ref()), &*self)
    }
    module_parts!(T; params: [weight]; optional: [bias]);
}
