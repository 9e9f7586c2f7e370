//! Observation and action spaces, as Gymnasium's `Discrete` and `Box`.

use serde::{Deserialize, Serialize};

/// A set of observations or actions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Space {
    /// The integers `{0, …, n − 1}` (Gymnasium `Discrete(n)`).
    Discrete(usize),
    /// Vectors `x` with `low[i] ≤ x[i] ≤ high[i]` (Gymnasium `Box`; bounds may be ±∞).
    Box {
        /// Lower bound of each component.
        low: Vec<f32>,
        /// Upper bound of each component.
        high: Vec<f32>,
    },
}

impl Space {
    /// A box with the given bounds.
    ///
    /// # Panics
    /// If the bounds differ in length or a lower bound exceeds its upper bound.
    pub fn bounded(low: &[f32], high: &[f32]) -> Self {
        assert_eq!(
            low.len(),
            high.len(),
            "Space::bounded: {} lower and {} upper bounds",
            low.len(),
            high.len()
        );
        assert!(
            low.iter().zip(high).all(|(l, h)| l <= h),
            "Space::bounded: a lower bound exceeds its upper bound: {low:?} > {high:?}"
        );
        Space::Box {
            low: low.to_vec(),
            high: high.to_vec(),
        }
    }

    /// The number of components of a vector in this space (1 for `Discrete`).
    pub fn dim(&self) -> usize {
        match self {
            Space::Discrete(_) => 1,
            Space::Box { low, .. } => low.len(),
        }
    }

    /// The number of actions of a `Discrete` space, `None` for a box.
    pub fn actions(&self) -> Option<usize> {
        match self {
            Space::Discrete(n) => Some(*n),
            Space::Box { .. } => None,
        }
    }

    /// Whether `x` lies in the space (a `Discrete` space holds the one-component `[k]`).
    pub fn contains(&self, x: &[f32]) -> bool {
        match self {
            Space::Discrete(n) => {
                x.len() == 1 && x[0] >= 0.0 && (x[0] as usize) < *n && x[0].fract() == 0.0
            }
            Space::Box { low, high } => {
                x.len() == low.len()
                    && x.iter()
                        .zip(low.iter().zip(high))
                        .all(|(v, (l, h))| l <= v && v <= h)
            }
        }
    }
}
