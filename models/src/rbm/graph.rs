//! An RBM's conditionals and free energy as differentiable functions of graph variables, so
//! they can sit inside a loss (a free-energy objective, a discriminative RBM) and be
//! gradient-checked.

use strata_autograd::Var;
use strata_tensor::Element;

use super::{Rbm, VisibleUnits};

/// An RBM's parameters as graph variables: `weight [H, V]`, `visible_bias [V]`,
/// `hidden_bias [H]`. [`Rbm::vars`] gives the model's own (tracked) parameters;
/// [`RbmVars::new`] takes any variables, e.g. gradient-check leaves.
#[derive(Clone)]
pub struct RbmVars<T: Element = f32> {
    /// `W`, `[H, V]`.
    pub weight: Var<T>,
    /// `b`, `[V]`.
    pub visible_bias: Var<T>,
    /// `c`, `[H]`.
    pub hidden_bias: Var<T>,
    /// Bernoulli or Gaussian visible units.
    pub visible_units: VisibleUnits,
}

impl<T: Element> RbmVars<T> {
    /// The functions of an RBM with these parameters.
    ///
    /// # Panics
    /// If the shapes are not `[H, V]`, `[V]`, `[H]`.
    pub fn new(
        weight: Var<T>,
        visible_bias: Var<T>,
        hidden_bias: Var<T>,
        visible_units: VisibleUnits,
    ) -> Self {
        let (w, b, c) = (weight.shape(), visible_bias.shape(), hidden_bias.shape());
        assert!(
            w.len() == 2 && b == [w[1]] && c == [w[0]],
            "RbmVars::new: weight {w:?}, visible bias {b:?}, hidden bias {c:?} (expects [H, V], \
             [V], [H])"
        );
        RbmVars {
            weight,
            visible_bias,
            hidden_bias,
            visible_units,
        }
    }

    /// `p(h = 1 | v) = σ(v·Wᵀ + c)` for `v: [N, V]`, giving `[N, H]`.
    ///
    /// # Panics
    /// If `v` is not `[N, V]`.
    pub fn prob_h_given_v(&self, v: &Var<T>) -> Var<T> {
        v.linear(&self.weight, Some(&self.hidden_bias)).sigmoid()
    }

    /// The visible mean given `h: [N, H]`: `σ(h·W + b)` (Bernoulli) or `h·W + b` (Gaussian),
    /// `[N, V]`.
    ///
    /// # Panics
    /// If `h` is not `[N, H]`.
    pub fn prob_v_given_h(&self, h: &Var<T>) -> Var<T> {
        let a = h.matmul(&self.weight).add(&self.visible_bias);
        match self.visible_units {
            VisibleUnits::Bernoulli => a.sigmoid(),
            VisibleUnits::Gaussian => a,
        }
    }

    /// The free energy of each row of `v: [N, V]`, `[N]`:
    /// `F(v) = −bᵀv − Σⱼ softplus(cⱼ + Wⱼ·v)` (Bernoulli) or
    /// `F(v) = ½‖v − b‖² − Σⱼ softplus(cⱼ + Wⱼ·v)` (Gaussian). Its gradient in the parameters,
    /// `∂F/∂W = −p(h | v)·vᵀ`, `∂F/∂b = −v` (Bernoulli), `∂F/∂c = −p(h | v)`, makes
    /// `mean F(v₀) − mean F(v_k)` (with `v_k` held fixed) a loss whose gradient is the CD
    /// estimate of [`CdStates::probabilities`](super::CdStates::probabilities).
    ///
    /// # Panics
    /// If `v` is not `[N, V]`.
    pub fn free_energy(&self, v: &Var<T>) -> Var<T> {
        let hidden = v
            .linear(&self.weight, Some(&self.hidden_bias))
            .softplus()
            .sum_axis(1, false);
        let visible = match self.visible_units {
            VisibleUnits::Bernoulli => v.matmul(&self.visible_bias).neg(),
            VisibleUnits::Gaussian => v
                .sub(&self.visible_bias)
                .square()
                .sum_axis(1, false)
                .mul_scalar(T::from_f64_lossy(0.5)),
        };
        visible.sub(&hidden)
    }
}

impl<T: Element> Rbm<T> {
    /// This RBM's parameters as tracked graph variables: gradients of anything built from
    /// [`RbmVars`]' functions flow into `weight`, `visible_bias` and `hidden_bias`.
    pub fn vars(&self) -> RbmVars<T> {
        RbmVars {
            weight: self.weight.var(),
            visible_bias: self.visible_bias.var(),
            hidden_bias: self.hidden_bias.var(),
            visible_units: self.config().visible_units,
        }
    }
}
