//! The `ModuleList` container.

use std::ops::{Index, IndexMut};

use strata_autograd::{Param, Var};
use strata_tensor::{Element, Tensor};

use crate::Module;
use crate::numbered::{Numbered, numbered_parts};

/// A list of modules (each `Send`) that a model's own `forward` uses as it likes, PyTorch's
/// `nn.ModuleList`: children are named by position (`0.weight`, `1.bias`, …), and parameters,
/// buffers, train/eval mode and reseeding reach every one of them, but the list has no forward
/// computation of its own.
///
/// ```
/// use strata_layers::{Linear, Module, ModuleList, module_parts};
/// use strata_autograd::Var;
///
/// /// Three linear layers with a residual connection around each.
/// struct Deep {
///     blocks: ModuleList,
/// }
///
/// impl Module for Deep {
///     fn forward(&mut self, x: &Var) -> Var {
///         let mut h = x.clone();
///         for block in self.blocks.iter_mut() {
///             h = h.add(&block.forward(&h).relu());
///         }
///         h
///     }
///     module_parts!(f32; children: [blocks]);
/// }
///
/// let mut blocks = ModuleList::new();
/// for _ in 0..3 {
///     blocks.push(Linear::new(4, 4));
/// }
/// let net = Deep { blocks };
/// assert_eq!(net.params()[2].0, "blocks.1.weight");
/// assert_eq!(net.num_params(), 3 * (4 * 4 + 4));
/// ```
///
/// [`Module::forward`] of the list itself panics: iterate over it instead
/// ([`ModuleList::iter_mut`]), or use a [`Sequential`](crate::Sequential) to chain the modules.
#[derive(Default)]
pub struct ModuleList<T: Element = f32> {
    layers: Numbered<T>,
}

impl<T: Element> ModuleList<T> {
    /// An empty list.
    pub fn new() -> Self {
        ModuleList {
            layers: Numbered::default(),
        }
    }

    /// Appends a module (PyTorch's `append`); it is named by its position, `len()` before the
    /// call.
    pub fn push(&mut self, module: impl Module<T> + Send + 'static) {
        self.layers.layers.push(Box::new(module));
    }

    /// Appends a boxed module.
    pub fn push_boxed(&mut self, module: Box<dyn Module<T> + Send>) {
        self.layers.layers.push(module);
    }

    /// Appends a module, builder style (as [`Sequential::add`](crate::Sequential::add)).
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, module: impl Module<T> + Send + 'static) -> Self {
        self.push(module);
        self
    }

    /// Number of modules.
    pub fn len(&self) -> usize {
        self.layers.layers.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.layers.layers.is_empty()
    }

    /// The modules, in order.
    pub fn iter(&self) -> impl Iterator<Item = &(dyn Module<T> + Send)> {
        self.layers.layers.iter().map(|m| m.as_ref())
    }

    /// The modules, mutable (to call their `forward`), in order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut (dyn Module<T> + Send + 'static)> {
        self.layers.layers.iter_mut().map(|m| m.as_mut())
    }

    /// Module `i`, or `None` if `i ≥ len()`.
    pub fn get(&self, i: usize) -> Option<&(dyn Module<T> + Send)> {
        self.layers.layers.get(i).map(|m| m.as_ref())
    }

    /// Module `i`, mutable, or `None` if `i ≥ len()`.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut (dyn Module<T> + Send + 'static)> {
        self.layers.layers.get_mut(i).map(|m| m.as_mut())
    }
}

impl<T: Element> Index<usize> for ModuleList<T> {
    type Output = dyn Module<T> + Send;

    /// Module `i`.
    ///
    /// # Panics
    /// If `i ≥ len()`, naming `ModuleList`, `i` and the length.
    fn index(&self, i: usize) -> &Self::Output {
        self.layers.get("ModuleList", i)
    }
}

impl<T: Element> IndexMut<usize> for ModuleList<T> {
    /// Module `i`, mutable.
    ///
    /// # Panics
    /// If `i ≥ len()`, naming `ModuleList`, `i` and the length.
    fn index_mut(&mut self, i: usize) -> &mut Self::Output {
        self.layers.get_mut("ModuleList", i)
    }
}

impl<T: Element> Module<T> for ModuleList<T> {
    /// A `ModuleList` has no forward computation (as PyTorch's `nn.ModuleList`): the model
    /// holding it calls its modules in its own `forward`.
    ///
    /// # Panics
    /// Always, naming `ModuleList` and the input shape.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        panic!(
            "ModuleList: has no forward of its own (input {:?}); iterate over it \
             (`for m in list.iter_mut() {{ h = m.forward(&h) }}`) in your module's forward, \
             or use Sequential to chain modules",
            x.shape()
        )
    }

    numbered_parts!(layers);
}
