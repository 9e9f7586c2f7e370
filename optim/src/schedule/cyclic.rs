//! [`CyclicLr`]: the rate cycles between two bounds along triangles (Smith's cyclical
//! learning rates; PyTorch's `CyclicLR`).

use serde::{Deserialize, Serialize};

use super::LrSchedule;
use crate::OptimError;
use crate::error::{at_least_one, non_negative};

const OWNER: &str = "CyclicLr";

/// How [`CyclicLr`] scales the height of each triangle (PyTorch's `mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CyclicMode {
    /// Every cycle reaches `max_lr`: scale 1 (PyTorch's `"triangular"`, the default).
    #[default]
    Triangular,
    /// The height halves every cycle: scale `1 / 2^(cycle − 1)`, cycle = 1, 2, …
    /// (`"triangular2"`).
    Triangular2,
    /// The height decays every step: scale `γ^t` (`"exp_range"`).
    ExpRange,
}

/// PyTorch's `CyclicLR` (Smith, "Cyclical Learning Rates for Training Neural Networks",
/// 2017): the rate climbs from `base_lr` towards `max_lr` over `step_size_up` steps, comes back
/// over `step_size_down` steps, and starts again; the height of each triangle is scaled by the
/// mode. With S = step_size_up + step_size_down and r = step_size_up / S:
///
/// ```text
/// cycle = ⌊1 + t / S⌋                                     1, 2, …
/// x     = 1 + t / S − cycle                               position in the cycle, in [0, 1)
/// s     = x / r               if x ≤ r                    rising
///         (x − 1) / (r − 1)   otherwise                   falling
/// lr(t) = base_lr + (max_lr − base_lr) · s · scale
/// scale = 1                    Triangular
///         1 / 2^(cycle − 1)    Triangular2
///         γ^t                  ExpRange
/// ```
///
/// Defaults (PyTorch's): `step_size_up = 2000`, `step_size_down = step_size_up`,
/// [`CyclicMode::Triangular`], `γ = 1`. Meant to step once per batch.
///
/// Not implemented: PyTorch's momentum cycling (`cycle_momentum`, `base_momentum`,
/// `max_momentum`: momentum moved inversely to the rate) — the momentum stays as the
/// optimizer has it, as with PyTorch's `cycle_momentum=False` — and custom scale functions
/// (`scale_fn`, `scale_mode`).
///
/// ```
/// use strata_optim::{CyclicLr, LrSchedule};
///
/// let s = CyclicLr::new(0.01, 0.1).unwrap().with_step_size_up(4).unwrap();
/// let lrs: Vec<f64> = (0..9).map(|t| s.lr(t)).collect();
/// assert!((lrs[2] - 0.055).abs() < 1e-15 && (lrs[4] - 0.1).abs() < 1e-15);
/// assert!((lrs[8] - 0.01).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CyclicLr {
    base_lr: f64,
    max_lr: f64,
    step_size_up: u64,
    step_size_down: Option<u64>,
    mode: CyclicMode,
    gamma: f64,
}

impl CyclicLr {
    /// Cycles between `base_lr` (the lower bound, and the rate at t = 0) and `max_lr` (the
    /// upper bound), with PyTorch's defaults: 2000 steps up, as many down, triangular, γ = 1.
    /// `max_lr` below `base_lr` turns the triangles upside down, as in PyTorch.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] if `base_lr` or `max_lr` is negative or not
    /// finite.
    pub fn new(base_lr: f64, max_lr: f64) -> Result<Self, OptimError> {
        non_negative(OWNER, "base_lr", base_lr)?;
        non_negative(OWNER, "max_lr", max_lr)?;
        Ok(CyclicLr {
            base_lr,
            max_lr,
            step_size_up: 2000,
            step_size_down: None,
            mode: CyclicMode::Triangular,
            gamma: 1.0,
        })
    }

    /// Sets the number of steps of the rising half of a cycle (PyTorch's `step_size_up`,
    /// default 2000).
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] if `step_size_up` is 0 (PyTorch divides by zero
    /// at the first step).
    pub fn with_step_size_up(mut self, step_size_up: u64) -> Result<Self, OptimError> {
        at_least_one(OWNER, "step_size_up", step_size_up)?;
        self.step_size_up = step_size_up;
        Ok(self)
    }

    /// Sets the number of steps of the falling half (PyTorch's `step_size_down`; by default
    /// `None`, the same as `step_size_up`). 0 gives a sawtooth: up, then back to `base_lr` at
    /// once.
    pub fn with_step_size_down(mut self, step_size_down: Option<u64>) -> Self {
        self.step_size_down = step_size_down;
        self
    }

    /// Sets how the height of the triangles is scaled (PyTorch's `mode`, default
    /// [`CyclicMode::Triangular`]).
    pub fn with_mode(mut self, mode: CyclicMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets γ, the per-step decay of the height in [`CyclicMode::ExpRange`] (PyTorch's
    /// `gamma`, default 1; unused by the other modes).
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] if `gamma` is negative or not finite.
    pub fn with_gamma(mut self, gamma: f64) -> Result<Self, OptimError> {
        non_negative(OWNER, "gamma", gamma)?;
        self.gamma = gamma;
        Ok(self)
    }
}

impl LrSchedule for CyclicLr {
    fn lr(&self, t: u64) -> f64 {
        // The operations and their order are PyTorch's, on the same doubles.
        let up = self.step_size_up as f64;
        let down = self.step_size_down.map_or(up, |d| d as f64);
        let total = up + down;
        let ratio = up / total;
        let t = t as f64;
        let cycle = (1.0 + t / total).floor();
        let x = 1.0 + t / total - cycle;
        let scale_factor = if x <= ratio {
            x / ratio
        } else {
            (x - 1.0) / (ratio - 1.0)
        };
        let base_height = (self.max_lr - self.base_lr) * scale_factor;
        let scale = match self.mode {
            CyclicMode::Triangular => 1.0,
            CyclicMode::Triangular2 => 1.0 / 2f64.powf(cycle - 1.0),
            CyclicMode::ExpRange => self.gamma.powf(t),
        };
        self.base_lr + base_height * scale
    }
}
