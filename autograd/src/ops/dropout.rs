//! Inverted dropout.

use rand::Rng;
use strata_tensor::{Element, Tensor};

use crate::Var;

impl<T: Element> Var<T> {
    /// Inverted dropout: in training, `y = x ⊙ m / (1 − p)` with `m ~ Bernoulli(1 − p)` drawn
    /// from `rng`, so `E[y] = x`; the mask is kept for the backward pass
    /// (`∂L/∂x = g ⊙ m / (1 − p)`). With `training = false` or `p = 0` it is the identity.
    ///
    /// # Panics
    /// If `p` is outside `[0, 1)`.
    pub fn dropout(&self, p: f64, training: bool, rng: &mut impl Rng) -> Var<T> {
        assert!(
            (0.0..1.0).contains(&p),
            "dropout: probability {p} is outside [0, 1)"
        );
        if !training || p == 0.0 {
            return self.clone();
        }
        let scale = T::from_f64_lossy(1.0 / (1.0 - p));
        let mask = Tensor::<T>::rand_bernoulli(self.shape(), 1.0 - p, rng).mul_scalar(scale);
        let y = self.value.mul(&mask);
        Var::record("dropout", y, &[self], move |g, _| vec![Some(g.mul(&mask))])
    }
}
