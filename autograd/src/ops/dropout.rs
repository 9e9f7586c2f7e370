//! Inverted dropout.

use rand::Rng;
use strata_tensor::{Element, Tensor};

use crate::Var;

impl<T: Element> Var<T> {
    /// Inverted dropout: in training, `y = x ⊙ m / (1 − p)` with `m ~ Bernoulli(1 − p)` drawn
    /// from `rng`, so `E[y] = x`; the mask is kept for the backward pass
    /// (`∂L/∂x = g ⊙ m / (1 − p)`). With `training = false` or `p = 0` it is the identity.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use rand::rngs::StdRng;
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    ///
    /// let x = Var::leaf(Tensor::<f64>::ones(&[8]));
    /// let y = x.dropout(0.5, true, &mut StdRng::seed_from_u64(0));
    /// // Each value is dropped or kept and scaled by 1/(1 − p) = 2, and the gradient takes the
    /// // same mask.
    /// let kept = y.value().to_vec();
    /// assert!(kept.iter().all(|&v| v == 0.0 || v == 2.0));
    /// assert_eq!(y.sum().backward().wrt(&x).unwrap().to_vec(), kept);
    /// // Outside training it is the identity.
    /// let same = x.dropout(0.5, false, &mut StdRng::seed_from_u64(0));
    /// assert_eq!(same.value().to_vec(), vec![1.0; 8]);
    /// ```
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
