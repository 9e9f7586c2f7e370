//! [`OneCycleLr`]: the 1cycle policy — up to a peak rate, then down far below the start
//! (Smith & Topin's super-convergence; PyTorch's `OneCycleLR`).

use serde::{Deserialize, Serialize};

use super::LrSchedule;
use crate::OptimError;
use crate::error::{at_least_one, non_negative, unit_closed};

const OWNER: &str = "OneCycleLr";

/// How [`OneCycleLr`] moves between two rates within a phase (PyTorch's `anneal_strategy`),
/// as the fraction p of the phase goes from 0 to 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnnealStrategy {
    /// `end + (start − end)/2 · (1 + cos(π·p))` (PyTorch's `"cos"`, the default).
    #[default]
    Cos,
    /// `(end − start)·p + start` (`"linear"`).
    Linear,
}

impl AnnealStrategy {
    /// The rate a fraction `pct` of the way from `start` to `end`.
    fn anneal(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            AnnealStrategy::Cos => {
                let cos_out = (std::f64::consts::PI * pct).cos() + 1.0;
                end + (start - end) / 2.0 * cos_out
            }
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }
}

/// PyTorch's `OneCycleLR` (Smith & Topin, "Super-Convergence", 2017): over `total_steps`
/// steps N, the rate rises from `initial = max_lr / div_factor` to `max_lr`, then falls to
/// `min = initial / final_div_factor`. With p = `pct_start` and each phase annealed by the
/// [`AnnealStrategy`] from its start rate to its end rate as t goes from its start step to its
/// end step:
///
/// ```text
/// two phases (default)             three phases (with_three_phase(true))
/// phase  end step   rates          phase  end step     rates
/// 1      p·N − 1    initial → max  1      p·N − 1      initial → max
/// 2      N − 1      max → min      2      2·p·N − 2    max → initial
///                                  3      N − 1        initial → min
///
/// lr(t) = anneal(start rate, end rate, (t − start step) / (end step − start step))
/// ```
///
/// in the first phase whose end step is ≥ t (the last phase for every later t); a phase starts
/// where the one before ends (the first at 0). Step counts are doubles, as in PyTorch, so
/// `p·N` need not be whole.
///
/// Defaults (PyTorch's): `pct_start = 0.3`, [`AnnealStrategy::Cos`], `div_factor = 25`,
/// `final_div_factor = 1e4`, two phases. Meant to step once per batch: N = epochs × batches
/// per epoch. At t = N PyTorch extrapolates the last phase past its end (below `min`, and below
/// zero with linear annealing, which no optimizer accepts) and it refuses to step past N; here
/// `lr(t)` for t ≥ N is the final rate `min`, which the last phase reaches at t = N − 1.
///
/// Not implemented: PyTorch's momentum cycling (`cycle_momentum`, `base_momentum`,
/// `max_momentum`: momentum or β₁ moved inversely to the rate) — the momentum stays as the
/// optimizer has it, as with PyTorch's `cycle_momentum=False`.
///
/// ```
/// use strata_optim::{LrSchedule, OneCycleLr};
///
/// let s = OneCycleLr::new(0.1, 100).unwrap();
/// assert!((s.lr(0) - 0.004).abs() < 1e-15); // max_lr / 25
/// assert!((s.lr(29) - 0.1).abs() < 1e-15); // the peak, at p·N − 1
/// assert!((s.lr(99) - 4e-7).abs() < 1e-18); // max_lr / 25 / 1e4
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct OneCycleLr {
    max_lr: f64,
    total_steps: u64,
    pct_start: f64,
    anneal_strategy: AnnealStrategy,
    div_factor: f64,
    final_div_factor: f64,
    three_phase: bool,
}

/// One phase: where it ends and which rates it joins.
struct Phase {
    end_step: f64,
    start_lr: f64,
    end_lr: f64,
}

impl OneCycleLr {
    /// A 1cycle schedule peaking at `max_lr` (PyTorch's `max_lr`) over `total_steps` steps
    /// (PyTorch's `total_steps`, or `epochs × steps_per_epoch`), with PyTorch's defaults.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] if `max_lr` is negative or not finite, or if
    /// `total_steps` is 0.
    pub fn new(max_lr: f64, total_steps: u64) -> Result<Self, OptimError> {
        non_negative(OWNER, "max_lr", max_lr)?;
        at_least_one(OWNER, "total_steps", total_steps)?;
        OneCycleLr {
            max_lr,
            total_steps,
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
        .checked()
    }

    /// Sets the fraction of the steps spent rising (PyTorch's `pct_start`, default 0.3).
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] if `pct_start` is not in [0, 1], or if
    /// `pct_start · total_steps = 1` (a first phase of zero steps, where PyTorch divides by
    /// zero at the first step).
    pub fn with_pct_start(mut self, pct_start: f64) -> Result<Self, OptimError> {
        unit_closed(OWNER, "pct_start", pct_start)?;
        self.pct_start = pct_start;
        self.checked()
    }

    /// Sets how each phase is annealed (PyTorch's `anneal_strategy`, default
    /// [`AnnealStrategy::Cos`]).
    pub fn with_anneal_strategy(mut self, anneal_strategy: AnnealStrategy) -> Self {
        self.anneal_strategy = anneal_strategy;
        self
    }

    /// Sets the divisor of `max_lr` giving the initial rate, `initial = max_lr / div_factor`
    /// (PyTorch's `div_factor`, default 25).
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] if `div_factor` is not finite and > 0.
    pub fn with_div_factor(mut self, div_factor: f64) -> Result<Self, OptimError> {
        positive("div_factor", div_factor)?;
        self.div_factor = div_factor;
        Ok(self)
    }

    /// Sets the divisor of the initial rate giving the final one,
    /// `min = initial / final_div_factor` (PyTorch's `final_div_factor`, default 1e4).
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] if `final_div_factor` is not finite and > 0.
    pub fn with_final_div_factor(mut self, final_div_factor: f64) -> Result<Self, OptimError> {
        positive("final_div_factor", final_div_factor)?;
        self.final_div_factor = final_div_factor;
        Ok(self)
    }

    /// Uses three phases (up, back down to the initial rate symmetrically, then down to `min`)
    /// instead of two (PyTorch's `three_phase`, default `false`).
    pub fn with_three_phase(mut self, three_phase: bool) -> Self {
        self.three_phase = three_phase;
        self
    }

    /// The initial rate `max_lr / div_factor`.
    pub fn initial_lr(&self) -> f64 {
        self.max_lr / self.div_factor
    }

    /// The final rate `initial_lr / final_div_factor`.
    pub fn min_lr(&self) -> f64 {
        self.initial_lr() / self.final_div_factor
    }

    /// Refuses a first phase of zero steps (PyTorch's `0 / 0` at t = 0).
    fn checked(self) -> Result<Self, OptimError> {
        if self.pct_start * self.total_steps as f64 - 1.0 == 0.0 {
            return Err(OptimError::InvalidHyperParameter {
                owner: OWNER,
                name: "pct_start",
                value: self.pct_start,
                expected: "≠ 1 / total_steps (a first phase of at least one step)",
            });
        }
        Ok(self)
    }

    /// The phases, as PyTorch lists them.
    fn phases(&self) -> Vec<Phase> {
        let (initial, min) = (self.initial_lr(), self.min_lr());
        let n = self.total_steps as f64;
        let p = self.pct_start;
        let mut phases = vec![Phase {
            end_step: p * n - 1.0,
            start_lr: initial,
            end_lr: self.max_lr,
        }];
        if self.three_phase {
            phases.push(Phase {
                end_step: 2.0 * p * n - 2.0,
                start_lr: self.max_lr,
                end_lr: initial,
            });
            phases.push(Phase {
                end_step: n - 1.0,
                start_lr: initial,
                end_lr: min,
            });
        } else {
            phases.push(Phase {
                end_step: n - 1.0,
                start_lr: self.max_lr,
                end_lr: min,
            });
        }
        phases
    }
}

/// Checks `0 < value < ∞`.
fn positive(name: &'static str, value: f64) -> Result<(), OptimError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperParameter {
            owner: OWNER,
            name,
            value,
            expected: "finite and > 0",
        })
    }
}

impl LrSchedule for OneCycleLr {
    fn lr(&self, t: u64) -> f64 {
        if t >= self.total_steps {
            return self.min_lr();
        }
        let step = t as f64;
        let phases = self.phases();
        let last = phases.len() - 1;
        let mut start_step = 0.0;
        for (i, phase) in phases.iter().enumerate() {
            if step <= phase.end_step || i == last {
                let span = phase.end_step - start_step;
                if span == 0.0 {
                    // A last phase of zero steps, reached at t = N only (pct_start = 1, or
                    // three phases with 2·p·N − 2 = N − 1; PyTorch divides by zero there): the
                    // phase is over.
                    return phase.end_lr;
                }
                let pct = (step - start_step) / span;
                return self
                    .anneal_strategy
                    .anneal(phase.start_lr, phase.end_lr, pct);
            }
            start_step = phase.end_step;
        }
        unreachable!("the last phase always answers")
    }
}
