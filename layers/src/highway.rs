//! Highway layer (Srivastava, Greff & Schmidhuber 2015).

use strata_autograd::Var;
use strata_tensor::Element;

use crate::{Activation, Init, Linear, Module, module_parts};

/// A highway layer: a learned gate `T` mixes a transform `H` of the input with the input
/// itself,
///
/// `y = T(x) ⊙ H(x) + (1 − T(x)) ⊙ x`, `H(x) = act(x·W_Hᵀ + b_H)`, `T(x) = σ(x·W_Tᵀ + b_T)`,
///
/// `x: [.., d]` → `y: [.., d]`; both maps are square `Linear` layers `[d → d]`, named
/// `transform` (H) and `gate` (T): parameters `transform.weight`, `transform.bias`,
/// `gate.weight`, `gate.bias`. Weights and `b_H` use `Linear`'s default init
/// (`U(±1/√d)`, PyTorch's); the gate bias `b_T` starts at [`Highway::DEFAULT_GATE_BIAS`]
/// (−1), the negative value the paper recommends, so the layer starts close to the identity
/// (`T ≈ 0.27`) and information passes through deep stacks. The activation defaults to ReLU.
pub struct Highway<T: Element = f32> {
    /// `H`: the transform, `[d → d]`.
    pub transform: Linear<T>,
    /// `T`: the gate (before the sigmoid), `[d → d]`.
    pub gate: Linear<T>,
    /// The activation of `H`.
    pub activation: Activation,
}

impl<T: Element> Highway<T> {
    /// The initial gate bias `b_T`: −1.
    pub const DEFAULT_GATE_BIAS: f64 = -1.0;

    /// A highway layer of width `d`, ReLU transform, gate bias −1.
    ///
    /// # Panics
    /// If `d` is 0.
    pub fn new(d: usize) -> Self {
        assert!(d > 0, "Highway: width must be positive, got 0");
        let mut gate = Linear::new(d, d);
        if let Some(b) = &mut gate.bias {
            b.set(Init::Constant(Self::DEFAULT_GATE_BIAS).fill(&[d]));
        }
        Highway {
            transform: Linear::new(d, d),
            gate,
            activation: Activation::Relu,
        }
    }

    /// Sets the activation of `H`.
    pub fn with_activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Sets every entry of the gate bias `b_T` to `bias` (more negative: closer to the
    /// identity at the start).
    pub fn with_gate_bias(mut self, bias: f64) -> Self {
        if let Some(b) = &mut self.gate.bias {
            let shape = b.shape().to_vec();
            b.set(Init::Constant(bias).fill(&shape));
        }
        self
    }

    /// The width `d`.
    pub fn width(&self) -> usize {
        self.transform.in_features()
    }
}

impl<T: Element> Module<T> for Highway<T> {
    /// `y = T ⊙ H + (1 − T) ⊙ x`, computed as `x + T ⊙ (H − x)`.
    ///
    /// # Panics
    /// If the input's last dimension is not `d`.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let d = self.width();
        assert!(
            x.ndim() >= 1 && x.shape()[x.ndim() - 1] == d,
            "Highway: input {:?} does not end in the layer's width {d}",
            x.shape()
        );
        let h = self.activation.apply(&self.transform.forward(x));
        let t = self.gate.forward(x).sigmoid();
        crate::record_output(x.add(&t.mul(&h.sub(x))), &*self)
    }

    /// `Highway(Relu)`: the activation of the transform.
    fn describe(&self) -> String {
        format!("Highway({:?})", self.activation)
    }
    module_parts!(T; children: [transform, gate]);
}
