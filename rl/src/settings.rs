//! [`Check`]: the range checks the algorithms' `validate` share, each failing with
//! [`RlError::Config`] naming the algorithm, the setting and its value.

use crate::RlError;

/// The checks of one algorithm's settings.
pub(crate) struct Check(pub &'static str);

impl Check {
    /// A configuration error with `message`.
    pub fn fail(&self, message: String) -> RlError {
        RlError::Config {
            algorithm: self.0,
            message,
        }
    }

    /// `value` must be positive and finite.
    pub fn positive(&self, name: &str, value: f64) -> Result<(), RlError> {
        if value.is_finite() && value > 0.0 {
            Ok(())
        } else {
            Err(self.fail(format!("{name} must be positive and finite, got {value}")))
        }
    }

    /// `value` must lie in `[0, 1]`.
    pub fn unit(&self, name: &str, value: f64) -> Result<(), RlError> {
        if (0.0..=1.0).contains(&value) {
            Ok(())
        } else {
            Err(self.fail(format!("{name} must be in [0, 1], got {value}")))
        }
    }

    /// `value` must be finite and non-negative.
    pub fn non_negative(&self, name: &str, value: f64) -> Result<(), RlError> {
        if value.is_finite() && value >= 0.0 {
            Ok(())
        } else {
            Err(self.fail(format!(
                "{name} must be finite and non-negative, got {value}"
            )))
        }
    }

    /// A gradient-norm limit, if set, must be positive and finite.
    pub fn grad_norm(&self, value: Option<f64>) -> Result<(), RlError> {
        value.map_or(Ok(()), |v| self.positive("max_grad_norm", v))
    }
}
