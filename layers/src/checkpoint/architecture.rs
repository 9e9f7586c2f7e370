//! A model's architecture as a checkpoint records it: every module's path and description
//! ([`LayerDescription`], [`describe_architecture`]), and the first difference between two.

use serde::{Deserialize, Serialize};
use strata_tensor::Element;

use super::{CheckpointError, CheckpointErrorKind};
use crate::Module;

/// One module of a model: where it sits and what it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerDescription {
    /// Dotted path (`features.1`); empty for the model itself.
    pub path: String,
    /// Its kind and settings, [`Module::describe`] (`Activation(Relu)`,
    /// `MaxPool2d { kernel: (2, 2), … }`).
    pub kind: String,
}

/// Every module of `model`, the model itself first and then depth first in definition order
/// (through [`Module::children`]), each with its [`Module::describe`].
///
/// ```
/// use strata_layers::checkpoint::describe_architecture;
/// use strata_layers::{Activation, Linear, Sequential};
///
/// let net = Sequential::<f32>::new().add(Linear::new(4, 2)).add(Activation::Tanh);
/// let kinds: Vec<String> = describe_architecture(&net)
///     .into_iter()
///     .map(|l| format!("{}: {}", l.path, l.kind))
///     .collect();
/// assert_eq!(kinds, [": Sequential", "0: Linear", "1: Activation(Tanh)"]);
/// ```
pub fn describe_architecture<T: Element, M: Module<T> + ?Sized>(
    model: &M,
) -> Vec<LayerDescription> {
    let mut out = Vec::new();
    walk(model, String::new(), &mut out);
    out
}

fn walk<T: Element, M: Module<T> + ?Sized>(
    module: &M,
    path: String,
    out: &mut Vec<LayerDescription>,
) {
    out.push(LayerDescription {
        path: path.clone(),
        kind: module.describe(),
    });
    for (name, child) in module.children() {
        let child_path = if path.is_empty() {
            name
        } else {
            format!("{path}.{name}")
        };
        walk(child, child_path, out);
    }
}

/// `Ok` if the two lists are equal, else [`CheckpointErrorKind::ArchitectureMismatch`] for the
/// first position where they differ.
pub(super) fn compare(
    saved: &[LayerDescription],
    model: &[LayerDescription],
) -> Result<(), CheckpointError> {
    let n = saved.len().max(model.len());
    match (0..n).find(|&i| saved.get(i) != model.get(i)) {
        None => Ok(()),
        Some(i) => Err(CheckpointError::new(
            CheckpointErrorKind::ArchitectureMismatch {
                saved: saved.get(i).cloned(),
                model: model.get(i).cloned(),
            },
        )),
    }
}
