//! The [`Dataset`] trait and the in-memory [`ArrayDataset`].

use std::sync::Arc;

/// The target of one example.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A class index in `0..num_classes`.
    Class(usize),
    /// Real-valued targets (regression, next-step prediction), row-major in the shape given
    /// by [`TargetSpec::Values`].
    Values(Vec<f32>),
    /// No target: an unlabeled example (what an autoencoder or an RBM learns from).
    None,
}

/// What kind of target every example of a dataset carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetSpec {
    /// A class index; the payload is the number of classes.
    Classes(usize),
    /// Real values of the given per-example shape.
    Values(Vec<usize>),
    /// No target: the examples are unlabeled.
    None,
}

/// One example: a real-valued input and its target.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// The input, row-major in the dataset's [`input_shape`](Dataset::input_shape).
    pub input: Vec<f32>,
    /// The target.
    pub target: Target,
}

/// A finite, indexable collection of examples with inputs of one fixed shape.
///
/// Implement [`len`](Dataset::len), [`input_shape`](Dataset::input_shape),
/// [`target_spec`](Dataset::target_spec) and [`get`](Dataset::get); override
/// [`get_into`](Dataset::get_into) to write inputs without allocating (the
/// [`DataLoader`](crate::DataLoader) calls it for every example).
///
/// `Send + Sync` because the loader reads the dataset from a background thread.
pub trait Dataset: Send + Sync {
    /// Number of examples.
    fn len(&self) -> usize;

    /// Whether there is no example.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Shape of one example's input (for MNIST `[1, 28, 28]`).
    fn input_shape(&self) -> Vec<usize>;

    /// The kind of target every example carries.
    fn target_spec(&self) -> TargetSpec;

    /// Example `index`.
    ///
    /// # Panics
    ///
    /// If `index >= len()`.
    fn get(&self, index: usize) -> Example;

    /// Writes the input of example `index` into `input` (length: the product of
    /// [`input_shape`](Dataset::input_shape)) and returns its target.
    ///
    /// # Panics
    ///
    /// If `index >= len()` or `input` has the wrong length.
    fn get_into(&self, index: usize, input: &mut [f32]) -> Target {
        let e = self.get(index);
        input.copy_from_slice(&e.input);
        e.target
    }
}

impl<D: Dataset + ?Sized> Dataset for Arc<D> {
    fn len(&self) -> usize {
        (**self).len()
    }
    fn input_shape(&self) -> Vec<usize> {
        (**self).input_shape()
    }
    fn target_spec(&self) -> TargetSpec {
        (**self).target_spec()
    }
    fn get(&self, index: usize) -> Example {
        (**self).get(index)
    }
    fn get_into(&self, index: usize, input: &mut [f32]) -> Target {
        (**self).get_into(index, input)
    }
}

impl<D: Dataset + ?Sized> Dataset for &D {
    fn len(&self) -> usize {
        (**self).len()
    }
    fn input_shape(&self) -> Vec<usize> {
        (**self).input_shape()
    }
    fn target_spec(&self) -> TargetSpec {
        (**self).target_spec()
    }
    fn get(&self, index: usize) -> Example {
        (**self).get(index)
    }
    fn get_into(&self, index: usize, input: &mut [f32]) -> Target {
        (**self).get_into(index, input)
    }
}

/// The targets of an [`ArrayDataset`].
#[derive(Clone, Debug, PartialEq)]
pub enum ArrayTargets {
    /// One class index per example.
    Classes {
        /// The labels, `[n]`.
        labels: Vec<usize>,
        /// Number of classes; every label is below it.
        num_classes: usize,
    },
    /// Real-valued targets.
    Values {
        /// The targets, `[n, shape…]` row-major.
        values: Vec<f32>,
        /// Per-example target shape.
        shape: Vec<usize>,
    },
    /// No targets: unlabeled examples.
    None {
        /// Number of examples.
        len: usize,
    },
}

/// An in-memory dataset: `n` inputs of one shape stored contiguously as `f32`, with class
/// labels or real-valued targets. Transforms work on [`inputs_mut`](ArrayDataset::inputs_mut)
/// in place.
#[derive(Clone, Debug, PartialEq)]
pub struct ArrayDataset {
    inputs: Vec<f32>,
    input_shape: Vec<usize>,
    targets: ArrayTargets,
}

impl ArrayDataset {
    /// A classification dataset: `inputs` is `[n, input_shape…]` row-major, `labels` is `[n]`.
    ///
    /// # Panics
    ///
    /// If `input_shape` has a zero-sized dimension, if `inputs.len()` is not
    /// `labels.len() * ∏ input_shape`, or if a label is `>= num_classes`.
    pub fn classification(
        inputs: Vec<f32>,
        input_shape: Vec<usize>,
        labels: Vec<usize>,
        num_classes: usize,
    ) -> Self {
        let f = features(&input_shape, "ArrayDataset::classification");
        assert_eq!(
            inputs.len(),
            labels.len() * f,
            "ArrayDataset::classification: {} input values for {} labels of shape {input_shape:?}",
            inputs.len(),
            labels.len()
        );
        if let Some(bad) = labels.iter().find(|&&l| l >= num_classes) {
            panic!("ArrayDataset::classification: label {bad} ≥ num_classes {num_classes}");
        }
        Self {
            inputs,
            input_shape,
            targets: ArrayTargets::Classes {
                labels,
                num_classes,
            },
        }
    }

    /// A dataset with real-valued targets: `inputs` is `[n, input_shape…]`, `targets` is
    /// `[n, target_shape…]`, both row-major.
    ///
    /// # Panics
    ///
    /// If a shape has a zero-sized dimension or the lengths do not give the same `n`.
    pub fn regression(
        inputs: Vec<f32>,
        input_shape: Vec<usize>,
        targets: Vec<f32>,
        target_shape: Vec<usize>,
    ) -> Self {
        let f = features(&input_shape, "ArrayDataset::regression");
        let t = features(&target_shape, "ArrayDataset::regression");
        assert!(
            inputs.len().is_multiple_of(f)
                && targets.len().is_multiple_of(t)
                && inputs.len() / f == targets.len() / t,
            "ArrayDataset::regression: {} input values of shape {input_shape:?} and {} target \
             values of shape {target_shape:?} do not give the same number of examples",
            inputs.len(),
            targets.len()
        );
        Self {
            inputs,
            input_shape,
            targets: ArrayTargets::Values {
                values: targets,
                shape: target_shape,
            },
        }
    }

    /// An unlabeled dataset: `inputs` is `[n, input_shape…]` row-major; every example's
    /// target is [`Target::None`].
    ///
    /// # Panics
    ///
    /// If `input_shape` has a zero-sized dimension or `inputs.len()` is not a multiple of
    /// `∏ input_shape`.
    pub fn unlabeled(inputs: Vec<f32>, input_shape: Vec<usize>) -> Self {
        let f = features(&input_shape, "ArrayDataset::unlabeled");
        assert!(
            inputs.len().is_multiple_of(f),
            "ArrayDataset::unlabeled: {} input values are not a whole number of examples of shape {input_shape:?}",
            inputs.len()
        );
        let len = inputs.len() / f;
        Self {
            inputs,
            input_shape,
            targets: ArrayTargets::None { len },
        }
    }

    /// An unlabeled dataset of the rows of `x: [n, …]`: example `i` is `x[i]`, of shape
    /// `x.shape()[1..]` (`[1]` for a 1-D `x`).
    ///
    /// # Panics
    ///
    /// If `x` is 0-D or has a zero-sized dimension.
    pub fn from_rows(x: &strata_tensor::Tensor) -> Self {
        assert!(
            x.ndim() >= 1,
            "ArrayDataset::from_rows: needs at least one axis, got shape {:?}",
            x.shape()
        );
        let shape = if x.ndim() == 1 {
            vec![1]
        } else {
            x.shape()[1..].to_vec()
        };
        Self::unlabeled(x.to_vec(), shape)
    }

    /// Values per input (the product of the input shape).
    pub fn feature_len(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// All inputs, `[n, input_shape…]` row-major.
    pub fn inputs(&self) -> &[f32] {
        &self.inputs
    }

    /// All inputs, mutable (for in-place transforms).
    pub fn inputs_mut(&mut self) -> &mut [f32] {
        &mut self.inputs
    }

    /// The input of example `i`.
    ///
    /// # Panics
    ///
    /// If `i >= len()`.
    pub fn input(&self, i: usize) -> &[f32] {
        let f = self.feature_len();
        &self.inputs[i * f..(i + 1) * f]
    }

    /// The targets.
    pub fn targets(&self) -> &ArrayTargets {
        &self.targets
    }

    /// The class labels, or `None` for real-valued targets.
    pub fn labels(&self) -> Option<&[usize]> {
        match &self.targets {
            ArrayTargets::Classes { labels, .. } => Some(labels),
            ArrayTargets::Values { .. } | ArrayTargets::None { .. } => None,
        }
    }

    /// Replaces the inputs, possibly with another per-example shape (for example after a PCA
    /// projection to `[k]`).
    ///
    /// # Panics
    ///
    /// If `inputs.len()` is not `len() * ∏ input_shape`.
    pub fn with_inputs(self, inputs: Vec<f32>, input_shape: Vec<usize>) -> Self {
        let f = features(&input_shape, "ArrayDataset::with_inputs");
        assert_eq!(
            inputs.len(),
            self.len() * f,
            "ArrayDataset::with_inputs: {} values for {} examples of shape {input_shape:?}",
            inputs.len(),
            self.len()
        );
        Self {
            inputs,
            input_shape,
            targets: self.targets,
        }
    }

    /// The examples at `indices`, in that order (repeats allowed).
    ///
    /// # Panics
    ///
    /// If an index is `>= len()`.
    pub fn select(&self, indices: &[usize]) -> ArrayDataset {
        let f = self.feature_len();
        let mut inputs = Vec::with_capacity(indices.len() * f);
        for &i in indices {
            inputs.extend_from_slice(self.input(i));
        }
        let targets = match &self.targets {
            ArrayTargets::Classes {
                labels,
                num_classes,
            } => ArrayTargets::Classes {
                labels: indices.iter().map(|&i| labels[i]).collect(),
                num_classes: *num_classes,
            },
            ArrayTargets::Values { values, shape } => {
                let t: usize = shape.iter().product();
                let mut v = Vec::with_capacity(indices.len() * t);
                for &i in indices {
                    v.extend_from_slice(&values[i * t..(i + 1) * t]);
                }
                ArrayTargets::Values {
                    values: v,
                    shape: shape.clone(),
                }
            }
            ArrayTargets::None { .. } => ArrayTargets::None { len: indices.len() },
        };
        ArrayDataset {
            inputs,
            input_shape: self.input_shape.clone(),
            targets,
        }
    }

    /// Splits into the first `n` examples and the rest.
    ///
    /// # Panics
    ///
    /// If `n > len()`.
    pub fn split_at(&self, n: usize) -> (ArrayDataset, ArrayDataset) {
        assert!(
            n <= self.len(),
            "ArrayDataset::split_at: {n} > len {}",
            self.len()
        );
        let first: Vec<usize> = (0..n).collect();
        let rest: Vec<usize> = (n..self.len()).collect();
        (self.select(&first), self.select(&rest))
    }
}

fn features(shape: &[usize], op: &str) -> usize {
    assert!(
        shape.iter().all(|&d| d > 0),
        "{op}: per-example shape {shape:?} has a zero-sized dimension"
    );
    shape.iter().product()
}

impl Dataset for ArrayDataset {
    fn len(&self) -> usize {
        match &self.targets {
            ArrayTargets::Classes { labels, .. } => labels.len(),
            ArrayTargets::Values { values, shape } => {
                values.len() / shape.iter().product::<usize>()
            }
            ArrayTargets::None { len } => *len,
        }
    }

    fn input_shape(&self) -> Vec<usize> {
        self.input_shape.clone()
    }

    fn target_spec(&self) -> TargetSpec {
        match &self.targets {
            ArrayTargets::Classes { num_classes, .. } => TargetSpec::Classes(*num_classes),
            ArrayTargets::Values { shape, .. } => TargetSpec::Values(shape.clone()),
            ArrayTargets::None { .. } => TargetSpec::None,
        }
    }

    fn get(&self, index: usize) -> Example {
        let mut input = vec![0.0; self.feature_len()];
        let target = self.get_into(index, &mut input);
        Example { input, target }
    }

    fn get_into(&self, index: usize, input: &mut [f32]) -> Target {
        input.copy_from_slice(self.input(index));
        match &self.targets {
            ArrayTargets::Classes { labels, .. } => Target::Class(labels[index]),
            ArrayTargets::Values { values, shape } => {
                let t: usize = shape.iter().product();
                Target::Values(values[index * t..(index + 1) * t].to_vec())
            }
            ArrayTargets::None { .. } => Target::None,
        }
    }
}
