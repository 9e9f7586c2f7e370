//! Dropout as a layer.

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::Var;
use strata_tensor::Element;

use crate::Module;

/// Inverted dropout (Srivastava et al. 2014): in training, each element is zeroed with
/// probability `p` and the rest scaled by `1/(1 − p)`; in evaluation, the identity. The layer
/// owns its random stream (see [`Module::reseed`]).
pub struct Dropout {
    p: f64,
    training: bool,
    rng: StdRng,
}

impl Dropout {
    /// Dropout with probability `p`, in training mode.
    ///
    /// # Panics
    /// If `p` is outside `[0, 1)`.
    pub fn new(p: f64) -> Self {
        assert!(
            (0.0..1.0).contains(&p),
            "Dropout: probability {p} is outside [0, 1)"
        );
        Dropout {
            p,
            training: true,
            rng: StdRng::seed_from_u64(0x0D20_9047),
        }
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl<T: Element> Module<T> for Dropout {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        crate::record_output(x.dropout(self.p, self.training, &mut self.rng), &*self)
    }
    fn params(&self) -> Vec<(String, &crate::Param<T>)> {
        Vec::new()
    }
    fn params_mut(&mut self) -> Vec<(String, &mut crate::Param<T>)> {
        Vec::new()
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    fn is_training(&self) -> bool {
        self.training
    }
    /// `Dropout(p=0.5)`.
    fn describe(&self) -> String {
        format!("Dropout(p={})", self.p)
    }
    fn reseed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }
}
