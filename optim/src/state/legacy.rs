//! The hyper-parameters of a state in the unversioned format — a kind and a map from
//! PyTorch's names to numbers, flags stored as `0` or `1` — as an [`OptimizerConfig`].

use std::collections::BTreeMap;

use super::OptimizerConfig;
use crate::{
    AdadeltaConfig, AdagradConfig, AdamConfig, OptimError, RmsPropConfig, SgdConfig, WeightDecay,
};

/// The configuration the unversioned state of `kind` with `map` describes. Values are not
/// range-checked here: loading the state validates the configuration.
///
/// # Errors
/// [`OptimError::InvalidState`] for an unknown kind; [`OptimError::MissingHyperParameter`] or
/// [`OptimError::UnknownHyperParameter`] if `map` lacks a name of the kind or has another;
/// [`OptimError::InvalidHyperParameter`] for a flag other than `0` or `1`.
pub(super) fn config(
    kind: &str,
    map: &BTreeMap<String, f64>,
) -> Result<OptimizerConfig, OptimError> {
    match kind {
        "sgd" => {
            let mut h = Hyper::new("sgd", map);
            let config = SgdConfig {
                lr: h.get("lr")?,
                momentum: h.get("momentum")?,
                dampening: h.get("dampening")?,
                weight_decay: h.get("weight_decay")?,
                nesterov: h.flag("Sgd", "nesterov")?,
            };
            h.finish()?;
            Ok(OptimizerConfig::Sgd(config))
        }
        "adam" | "adamw" => {
            let (kind, owner) = if kind == "adam" {
                ("adam", "Adam")
            } else {
                ("adamw", "AdamW")
            };
            let mut h = Hyper::new(kind, map);
            let lr = h.get("lr")?;
            let betas = (h.get("beta1")?, h.get("beta2")?);
            let eps = h.get("eps")?;
            let lambda = h.get("weight_decay")?;
            let amsgrad = h.flag(owner, "amsgrad")?;
            h.finish()?;
            // Adam applied λ as an L2 penalty (none when λ = 0), AdamW decoupled.
            let weight_decay = match kind {
                "adamw" => WeightDecay::Decoupled(lambda),
                _ if lambda == 0.0 => WeightDecay::None,
                _ => WeightDecay::L2(lambda),
            };
            Ok(OptimizerConfig::Adam(AdamConfig {
                lr,
                betas,
                eps,
                weight_decay,
                amsgrad,
            }))
        }
        "adagrad" => {
            let mut h = Hyper::new("adagrad", map);
            let config = AdagradConfig {
                lr: h.get("lr")?,
                lr_decay: h.get("lr_decay")?,
                weight_decay: h.get("weight_decay")?,
                initial_accumulator_value: h.get("initial_accumulator_value")?,
                eps: h.get("eps")?,
            };
            h.finish()?;
            Ok(OptimizerConfig::Adagrad(config))
        }
        "rmsprop" => {
            let mut h = Hyper::new("rmsprop", map);
            let config = RmsPropConfig {
                lr: h.get("lr")?,
                alpha: h.get("alpha")?,
                eps: h.get("eps")?,
                weight_decay: h.get("weight_decay")?,
                momentum: h.get("momentum")?,
                centered: h.flag("RmsProp", "centered")?,
            };
            h.finish()?;
            Ok(OptimizerConfig::RmsProp(config))
        }
        "adadelta" => {
            let mut h = Hyper::new("adadelta", map);
            let config = AdadeltaConfig {
                lr: h.get("lr")?,
                rho: h.get("rho")?,
                eps: h.get("eps")?,
                weight_decay: h.get("weight_decay")?,
            };
            h.finish()?;
            Ok(OptimizerConfig::Adadelta(config))
        }
        other => Err(OptimError::InvalidState {
            owner: "optimizer",
            reason: format!(
                "unknown optimizer kind '{other}' (expected sgd, adam, adamw, adagrad, rmsprop \
                 or adadelta)"
            ),
        }),
    }
}

/// Reads hyper-parameters out of the map, each exactly once; [`Hyper::finish`] rejects names
/// that were not read.
struct Hyper<'a> {
    kind: &'static str,
    map: &'a BTreeMap<String, f64>,
    read: Vec<&'static str>,
}

impl<'a> Hyper<'a> {
    fn new(kind: &'static str, map: &'a BTreeMap<String, f64>) -> Self {
        Hyper {
            kind,
            map,
            read: Vec::new(),
        }
    }

    /// The value of `name`.
    fn get(&mut self, name: &'static str) -> Result<f64, OptimError> {
        self.read.push(name);
        self.map
            .get(name)
            .copied()
            .ok_or(OptimError::MissingHyperParameter {
                kind: self.kind,
                name,
            })
    }

    /// A flag stored as `0` or `1`.
    fn flag(&mut self, owner: &'static str, name: &'static str) -> Result<bool, OptimError> {
        let v = self.get(name)?;
        if v == 0.0 {
            Ok(false)
        } else if v == 1.0 {
            Ok(true)
        } else {
            Err(OptimError::InvalidHyperParameter {
                owner,
                name,
                value: v,
                expected: "0 or 1 (a flag)",
            })
        }
    }

    /// Fails on the first name in the map that was never read.
    fn finish(self) -> Result<(), OptimError> {
        match self.map.keys().find(|k| !self.read.contains(&k.as_str())) {
            Some(k) => Err(OptimError::UnknownHyperParameter {
                kind: self.kind,
                name: k.clone(),
            }),
            None => Ok(()),
        }
    }
}
