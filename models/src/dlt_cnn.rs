//! The DeepLearnToolbox CNN (`test_example_CNN`).

use strata_autograd::Var;
use strata_layers::{
    Activation, AvgPool2d, Conv2d, Flatten, Init, Linear, Module, Sequential, module_parts,
};
use strata_tensor::Element;

/// The DeepLearnToolbox `test_example_CNN` network, "6c5-2s-12c5-2s": on `[N, 1, 28, 28]`,
///
/// conv 6@5×5 (valid) → σ → 2×2 mean-pool → conv 12@5×5 → σ → 2×2 mean-pool → flatten 192 →
/// fully connected 10 → σ,
///
/// trained with the squared error `½·Σ(y − t)²/N` (`strata_layers::loss::half_sse`) on one-hot
/// targets. Initialised as `cnnsetup`: kernels `U(±√(6/(fan_in + fan_out)))` with
/// `fan = maps·5²`, the output layer `U(±√(6/(192 + 10)))`, biases 0. 3,958 parameters.
pub struct DltCnn<T: Element = f32> {
    /// The layers, in order (parameters `net.0.*`, `net.3.*`, `net.7.*`).
    pub net: Sequential<T>,
}

impl<T: Element> DltCnn<T> {
    /// Builds the network.
    pub fn new() -> Self {
        let range = |fan_in: usize, fan_out: usize| {
            let r = (6.0 / (fan_in + fan_out) as f64).sqrt();
            Init::Uniform { low: -r, high: r }
        };
        let net = Sequential::new()
            .add(Conv2d::new(1, 6, (5, 5)).with_init(range(25, 150), Init::Zeros))
            .add(Activation::Sigmoid)
            .add(AvgPool2d::new((2, 2)))
            .add(Conv2d::new(6, 12, (5, 5)).with_init(range(150, 300), Init::Zeros))
            .add(Activation::Sigmoid)
            .add(AvgPool2d::new((2, 2)))
            .add(Flatten)
            .add(Linear::new(192, 10).with_init(range(192, 10), Init::Zeros))
            .add(Activation::Sigmoid);
        DltCnn { net }
    }
}

impl<T: Element> Default for DltCnn<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Element> Module<T> for DltCnn<T> {
    /// # Panics
    /// If the input is not `[N, 1, 28, 28]`.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        self.net.forward(x)
    }
    module_parts!(T; children: [net]);
}
