//! The [`Module`] trait, named parameter paths and the [`module_parts!`] helper macro.

use strata_autograd::{Param, Var};
use strata_tensor::{Element, Tensor};

/// A network part: a function of its input with trainable parameters and, sometimes, buffers
/// (running statistics) and a train/eval mode.
///
/// Parameters and buffers are listed with dotted paths (`features.0.weight`), PyTorch's
/// `state_dict` names, so checkpoints and safetensors files carry over between the two.
/// Containers prefix their children's names; [`module_parts!`](crate::module_parts) writes that
/// code for you.
pub trait Module<T: Element = f32> {
    /// The forward computation. Takes `&mut self` so layers can update buffers (batch-norm
    /// running statistics) and draw from their own random stream (dropout).
    fn forward(&mut self, x: &Var<T>) -> Var<T>;

    /// Every parameter with its dotted path, in a fixed order (definition order).
    fn params(&self) -> Vec<(String, &Param<T>)>;

    /// Every parameter with its dotted path, mutable, in the same order as [`Module::params`].
    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)>;

    /// Non-trainable state saved with the parameters (e.g. `running_mean`).
    fn buffers(&self) -> Vec<(String, &Tensor<T>)> {
        Vec::new()
    }

    /// The buffers, mutable, in the same order as [`Module::buffers`].
    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor<T>)> {
        Vec::new()
    }

    /// Switches between training (`true`: dropout active, batch norm uses batch statistics)
    /// and evaluation (`false`). Containers pass it on to their children.
    fn set_training(&mut self, training: bool) {
        let _ = training;
    }

    /// Whether the module is in training mode (see [`Module::set_training`]). Layers with a
    /// mode report it; by default a module is training if any of its
    /// [`children`](Module::children) is (so a module without modes, or without children,
    /// reports `false`).
    fn is_training(&self) -> bool {
        self.children().iter().any(|(_, child)| child.is_training())
    }

    /// The direct sub-modules with their names (the first segment of their parameters'
    /// dotted paths), in definition order; none for a leaf layer. Containers and
    /// [`module_parts!`](crate::module_parts) list them, so tools such as
    /// [`summary`](crate::summary()) can walk a whole model.
    fn children(&self) -> Vec<(String, &dyn Module<T>)> {
        Vec::new()
    }

    /// The direct sub-modules, mutable, in the same order as [`Module::children`].
    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module<T>)> {
        Vec::new()
    }

    /// The module's kind and those of its settings that are not parameters, on one line:
    /// `Conv2d(stride=(1, 1), padding=(2, 2), dilation=(1, 1), groups=1)`,
    /// `Activation(Relu)`, `MaxPool2d(kernel=(2, 2), stride=(2, 2), …)`. Two modules with the
    /// same description and the same parameter shapes compute the same function of their
    /// parameters; checkpoints record it ([`ModuleState`](crate::checkpoint::ModuleState)).
    /// The default is the short type name ([`short_type_name`] of [`Module::type_name`]).
    fn describe(&self) -> String {
        short_type_name(self.type_name())
    }

    /// Restarts every random stream inside (dropout masks) from `seed`, so a run resumed at an
    /// epoch boundary draws the same masks as an uninterrupted one.
    fn reseed(&mut self, seed: u64) {
        let _ = seed;
    }

    /// Training mode (see [`Module::set_training`]).
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Evaluation mode (see [`Module::set_training`]).
    fn eval(&mut self) {
        self.set_training(false);
    }

    /// This module as [`Any`](std::any::Any), so a tool outside this crate (the ONNX exporter)
    /// can tell which layer it is and read its settings. `None` by default;
    /// [`module_parts!`](crate::module_parts) and the containers return `Some(self)`.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }

    /// The module's Rust type name, for messages (`std::any::type_name`).
    fn type_name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }

    /// Number of trainable scalars, `Σ numel` over [`Module::params`].
    fn num_params(&self) -> usize {
        self.params().iter().map(|(_, p)| p.numel()).sum()
    }

    /// The forward pass as plain tensors under `no_grad` (inference).
    fn predict(&mut self, x: &Tensor<T>) -> Tensor<T> {
        strata_autograd::no_grad(|| self.forward(&Var::constant(x.clone())).into_value())
    }
}

/// A module borrowed mutably is a module: a training loop that takes its model by value
/// can train one the caller keeps (`Trainer::new(&mut net, …)`).
impl<T: Element, M: Module<T> + ?Sized> Module<T> for &mut M {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        (**self).forward(x)
    }
    fn params(&self) -> Vec<(String, &Param<T>)> {
        (**self).params()
    }
    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        (**self).params_mut()
    }
    fn buffers(&self) -> Vec<(String, &Tensor<T>)> {
        (**self).buffers()
    }
    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor<T>)> {
        (**self).buffers_mut()
    }
    fn set_training(&mut self, training: bool) {
        (**self).set_training(training)
    }
    fn reseed(&mut self, seed: u64) {
        (**self).reseed(seed)
    }
    fn is_training(&self) -> bool {
        (**self).is_training()
    }
    fn children(&self) -> Vec<(String, &dyn Module<T>)> {
        (**self).children()
    }
    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module<T>)> {
        (**self).children_mut()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// A Rust type name without module paths or references, for messages and summaries:
/// `strata_layers::conv::Conv2d<f32>` → `Conv2d`, `&mut strata_models::LeNet5<f64>` → `LeNet5`,
/// `(u8, alloc::string::String)` → `(u8, String)`. Generic arguments of a named type are
/// dropped; a type that does not start with a name (a tuple, an array) keeps its arguments.
pub fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut rest = full.trim_start_matches('&').trim_start_matches("mut ");
    while let Some(i) = rest.find("::") {
        out.push_str(&rest[..i]);
        // Drop the path segment just written: the identifier characters before `::`.
        while out.ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            out.pop();
        }
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    match out.find('<') {
        Some(i) if i > 0 && !out.starts_with(['(', '[']) => out[..i].to_string(),
        _ => out,
    }
}

/// Prepends `prefix.` to every name (`prefixed("fc1", [("weight", w)])` → `fc1.weight`).
pub fn prefixed<V>(prefix: &str, items: Vec<(String, V)>) -> Vec<(String, V)> {
    items
        .into_iter()
        .map(|(name, v)| (format!("{prefix}.{name}"), v))
        .collect()
}

/// A seed for child `index` derived from a parent's seed (SplitMix64 step), so siblings get
/// independent streams.
pub fn child_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(index + 1));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Writes the bookkeeping methods of [`Module`] — `params`, `params_mut`, `buffers`,
/// `buffers_mut`, `set_training`, `reseed`, `children`, `children_mut`, `as_any` — for a struct made of parameters, optional
/// parameters and child modules. Use it inside `impl Module<T> for …`, naming the element type:
///
/// ```
/// use strata_autograd::{Param, Var};
/// use strata_layers::{Linear, Module, module_parts};
///
/// /// A two-layer perceptron with a learned output scale.
/// struct Net {
///     fc1: Linear,
///     fc2: Linear,
///     scale: Param,
/// }
///
/// impl Module for Net {
///     fn forward(&mut self, x: &Var) -> Var {
///         let h = self.fc1.forward(x).relu();
///         self.fc2.forward(&h).mul(&self.scale.var())
///     }
///     module_parts!(f32; params: [scale]; children: [fc1, fc2]);
/// }
///
/// let net = Net { fc1: Linear::new(4, 8), fc2: Linear::new(8, 2), scale: Param::new(strata_tensor::Tensor::ones(&[1])) };
/// let names: Vec<String> = net.params().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
/// assert_eq!(net.num_params(), 1 + 4 * 8 + 8 + 8 * 2 + 2);
/// ```
///
/// Sections are separated by `;` and may be omitted (`module_parts!(f32)` for a module with
/// nothing to list); `optional: [bias]` lists `Option<Param<T>>` fields.
#[macro_export]
macro_rules! module_parts {
    ($t:ty $(; params: [$($p:ident),* $(,)?])? $(; optional: [$($o:ident),* $(,)?])? $(; children: [$($c:ident),* $(,)?])? $(;)?) => {
        #[allow(clippy::vec_init_then_push)]
        fn params(&self) -> Vec<(String, &$crate::Param<$t>)> {
            #[allow(unused_mut)]
            let mut out: Vec<(String, &$crate::Param<$t>)> = Vec::new();
            $($(out.push((stringify!($p).to_string(), &self.$p));)*)?
            $($(if let Some(p) = &self.$o { out.push((stringify!($o).to_string(), p)); })*)?
            $($(out.extend($crate::prefixed(stringify!($c), $crate::Module::<$t>::params(&self.$c)));)*)?
            out
        }
        #[allow(clippy::vec_init_then_push)]
        fn params_mut(&mut self) -> Vec<(String, &mut $crate::Param<$t>)> {
            #[allow(unused_mut)]
            let mut out: Vec<(String, &mut $crate::Param<$t>)> = Vec::new();
            $($(out.push((stringify!($p).to_string(), &mut self.$p));)*)?
            $($(if let Some(p) = &mut self.$o { out.push((stringify!($o).to_string(), p)); })*)?
            $($(out.extend($crate::prefixed(stringify!($c), $crate::Module::<$t>::params_mut(&mut self.$c)));)*)?
            out
        }
        fn buffers(&self) -> Vec<(String, &$crate::Tensor<$t>)> {
            #[allow(unused_mut)]
            let mut out = Vec::new();
            $($(out.extend($crate::prefixed(stringify!($c), $crate::Module::<$t>::buffers(&self.$c)));)*)?
            out
        }
        fn buffers_mut(&mut self) -> Vec<(String, &mut $crate::Tensor<$t>)> {
            #[allow(unused_mut)]
            let mut out = Vec::new();
            $($(out.extend($crate::prefixed(stringify!($c), $crate::Module::<$t>::buffers_mut(&mut self.$c)));)*)?
            out
        }
        fn set_training(&mut self, training: bool) {
            let _ = training;
            $($($crate::Module::<$t>::set_training(&mut self.$c, training);)*)?
        }
        fn as_any(&self) -> Option<&dyn ::std::any::Any> {
            Some(self)
        }
        #[allow(clippy::vec_init_then_push)]
        fn children(&self) -> Vec<(String, &dyn $crate::Module<$t>)> {
            #[allow(unused_mut)]
            let mut out: Vec<(String, &dyn $crate::Module<$t>)> = Vec::new();
            $($(out.push((stringify!($c).to_string(), &self.$c as &dyn $crate::Module<$t>));)*)?
            out
        }
        #[allow(clippy::vec_init_then_push)]
        fn children_mut(&mut self) -> Vec<(String, &mut dyn $crate::Module<$t>)> {
            #[allow(unused_mut)]
            let mut out: Vec<(String, &mut dyn $crate::Module<$t>)> = Vec::new();
            $($(out.push((stringify!($c).to_string(), &mut self.$c as &mut dyn $crate::Module<$t>));)*)?
            out
        }
        fn reseed(&mut self, seed: u64) {
            let _ = seed;
            #[allow(unused_mut, unused_variables, unused_assignments)]
            let mut index = 0u64;
            $($(
                $crate::Module::<$t>::reseed(&mut self.$c, $crate::child_seed(seed, index));
                #[allow(unused_assignments)]
                {
                    index += 1;
                }
            )*)?
        }
    };
}
