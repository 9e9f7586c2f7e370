//! [`WeightDecay`]: how Adam shrinks the weights — an L2 penalty on the gradient (PyTorch's
//! `Adam`) or a decoupled decay of the parameter (PyTorch's `AdamW`).

use serde::{Deserialize, Serialize};

/// How weight decay with coefficient λ ≥ 0 enters an update of a parameter θ (any shape) with
/// gradient g (θ's shape) and learning rate γ:
///
/// ```text
/// None          the update uses g as is
/// L2(λ)         g ← g + λ·θ               before the update (PyTorch's Adam)
/// Decoupled(λ)  θ ← θ·(1 − γ·λ)           before the update, g as is (PyTorch's AdamW)
/// ```
///
/// With an adaptive rule the two differ: an L2 penalty is rescaled per coordinate like the
/// rest of the gradient, a decoupled decay shrinks every weight by the same factor (Loshchilov
/// & Hutter, "Decoupled Weight Decay Regularization", 2019). λ = 0 leaves the update as with
/// `None`, but `Decoupled(0)` still makes an optimizer of kind `"adamw"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum WeightDecay {
    /// No weight decay.
    #[default]
    None,
    /// An L2 penalty λ·‖θ‖²/2: λ·θ added to the gradient.
    L2(f64),
    /// Decoupled weight decay: θ multiplied by 1 − γ·λ before the update.
    Decoupled(f64),
}

impl WeightDecay {
    /// The coefficient λ (0 for [`WeightDecay::None`]).
    pub fn coefficient(&self) -> f64 {
        match *self {
            WeightDecay::None => 0.0,
            WeightDecay::L2(lambda) | WeightDecay::Decoupled(lambda) => lambda,
        }
    }

    /// The same mode with coefficient `lambda`; [`WeightDecay::None`] becomes
    /// [`WeightDecay::L2`].
    pub fn with_coefficient(self, lambda: f64) -> Self {
        match self {
            WeightDecay::Decoupled(_) => WeightDecay::Decoupled(lambda),
            WeightDecay::None | WeightDecay::L2(_) => WeightDecay::L2(lambda),
        }
    }

    /// Whether the decay is [`WeightDecay::Decoupled`].
    pub fn is_decoupled(&self) -> bool {
        matches!(self, WeightDecay::Decoupled(_))
    }
}
