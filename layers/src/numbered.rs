//! [`Numbered`]: the children of the containers that name them by position
//! ([`Sequential`](crate::Sequential), [`ModuleList`](crate::ModuleList)) and the bookkeeping
//! both share: child `i`'s parameters and buffers are prefixed `i.`, modes and seeds are
//! passed on to every child.

use strata_autograd::Param;
use strata_tensor::{Element, Tensor};

use crate::{Module, child_seed, prefixed};

/// A boxed child of a numbered container (`Send`, so a model can move to another thread).
pub(crate) type Child<T> = Box<dyn Module<T> + Send>;

/// Children named `0`, `1`, … by position, with the [`Module`] bookkeeping over them.
pub(crate) struct Numbered<T: Element> {
    pub(crate) layers: Vec<Child<T>>,
}

impl<T: Element> Default for Numbered<T> {
    fn default() -> Self {
        Numbered { layers: Vec::new() }
    }
}

impl<T: Element> Numbered<T> {
    /// Child `i`, or a panic naming the container, `i` and the number of children.
    pub(crate) fn get_mut(
        &mut self,
        container: &str,
        i: usize,
    ) -> &mut (dyn Module<T> + Send + 'static) {
        let n = self.layers.len();
        self.layers
            .get_mut(i)
            .unwrap_or_else(|| {
                panic!("{container}: layer {i} of {n} does not exist (indices are 0..{n})")
            })
            .as_mut()
    }

    /// Child `i`, or a panic naming the container, `i` and the number of children.
    pub(crate) fn get(&self, container: &str, i: usize) -> &(dyn Module<T> + Send + 'static) {
        let n = self.layers.len();
        self.layers
            .get(i)
            .unwrap_or_else(|| {
                panic!("{container}: layer {i} of {n} does not exist (indices are 0..{n})")
            })
            .as_ref()
    }

    pub(crate) fn params(&self) -> Vec<(String, &Param<T>)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.params()))
            .collect()
    }

    pub(crate) fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        self.layers
            .iter_mut()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.params_mut()))
            .collect()
    }

    pub(crate) fn buffers(&self) -> Vec<(String, &Tensor<T>)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.buffers()))
            .collect()
    }

    pub(crate) fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor<T>)> {
        self.layers
            .iter_mut()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.buffers_mut()))
            .collect()
    }

    pub(crate) fn set_training(&mut self, training: bool) {
        self.layers
            .iter_mut()
            .for_each(|l| l.set_training(training));
    }

    pub(crate) fn reseed(&mut self, seed: u64) {
        for (i, l) in self.layers.iter_mut().enumerate() {
            l.reseed(child_seed(seed, i as u64));
        }
    }

    pub(crate) fn children(&self) -> Vec<(String, &dyn Module<T>)> {
        self.layers
            .iter()
            .enumerate()
            .map(|(i, l)| (i.to_string(), l.as_ref() as &dyn Module<T>))
            .collect()
    }

    pub(crate) fn children_mut(&mut self) -> Vec<(String, &mut dyn Module<T>)> {
        self.layers
            .iter_mut()
            .enumerate()
            .map(|(i, l)| (i.to_string(), l.as_mut() as &mut dyn Module<T>))
            .collect()
    }
}

/// Writes the [`Module`] bookkeeping methods of a container whose `field` is a [`Numbered`].
macro_rules! numbered_parts {
    ($field:ident) => {
        fn params(&self) -> Vec<(String, &Param<T>)> {
            self.$field.params()
        }
        fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
            self.$field.params_mut()
        }
        fn buffers(&self) -> Vec<(String, &Tensor<T>)> {
            self.$field.buffers()
        }
        fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor<T>)> {
            self.$field.buffers_mut()
        }
        fn as_any(&self) -> Option<&dyn std::any::Any> {
            Some(self)
        }
        fn set_training(&mut self, training: bool) {
            self.$field.set_training(training)
        }
        fn reseed(&mut self, seed: u64) {
            self.$field.reseed(seed)
        }
        fn children(&self) -> Vec<(String, &dyn Module<T>)> {
            self.$field.children()
        }
        fn children_mut(&mut self) -> Vec<(String, &mut dyn Module<T>)> {
            self.$field.children_mut()
        }
    };
}
pub(crate) use numbered_parts;
