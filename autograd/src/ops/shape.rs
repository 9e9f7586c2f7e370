//! Shape and indexing ops. Their backward passes move gradients back to where the values came
//! from: reshape back, transpose back, pad a narrowed slice with zeros, scatter selected rows.

use strata_tensor::{Element, Indices, Tensor};

use crate::Var;

/// `g` placed at `start..start + g.shape[axis]` of a zero tensor of `shape`.
fn pad_along<T: Element>(g: &Tensor<T>, shape: &[usize], axis: usize, start: usize) -> Tensor<T> {
    let mut before = shape.to_vec();
    before[axis] = start;
    let mut after = shape.to_vec();
    after[axis] = shape[axis] - start - g.shape()[axis];
    Tensor::concat(&[&Tensor::zeros(&before), g, &Tensor::zeros(&after)], axis)
}

impl<T: Element> Var<T> {
    /// Same elements, new shape (see `Tensor::reshape`; `usize::MAX` infers one dimension).
    ///
    /// # Panics
    /// If the element counts differ.
    pub fn reshape(&self, shape: &[usize]) -> Var<T> {
        let from = self.shape().to_vec();
        Var::record(
            "reshape",
            self.value.reshape(shape),
            &[self],
            move |g, _| vec![Some(g.reshape(&from))],
        )
    }

    /// Collapses dimensions `start..` into one.
    ///
    /// # Panics
    /// If `start > ndim`.
    pub fn flatten_from(&self, start: usize) -> Var<T> {
        let from = self.shape().to_vec();
        Var::record(
            "flatten_from",
            self.value.flatten_from(start),
            &[self],
            move |g, _| vec![Some(g.reshape(&from))],
        )
    }

    /// Swaps dimensions `a` and `b`.
    ///
    /// # Panics
    /// If an axis is out of range.
    pub fn transpose(&self, a: usize, b: usize) -> Var<T> {
        Var::record(
            "transpose",
            self.value.transpose(a, b),
            &[self],
            move |g, _| vec![Some(g.transpose(a, b))],
        )
    }

    /// Transpose of a 2-D value.
    ///
    /// # Panics
    /// If the value is not 2-D.
    pub fn t(&self) -> Var<T> {
        assert_eq!(
            self.ndim(),
            2,
            "t: expects a 2-D value, got shape {:?}",
            self.shape()
        );
        self.transpose(0, 1)
    }

    /// Reorders dimensions (`order[i]` is the source of dimension `i`).
    ///
    /// # Panics
    /// If `order` is not a permutation.
    pub fn permute(&self, order: &[usize]) -> Var<T> {
        let mut inverse = vec![0; order.len()];
        for (i, &o) in order.iter().enumerate() {
            if o < inverse.len() {
                inverse[o] = i;
            }
        }
        Var::record(
            "permute",
            self.value.permute(order),
            &[self],
            move |g, _| vec![Some(g.permute(&inverse))],
        )
    }

    /// The slice `start..start + len` along `axis`; its gradient is zero outside the slice.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    ///
    /// let x = Var::leaf(Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]));
    /// let y = x.narrow(1, 1, 2); // columns 1 and 2
    /// assert_eq!(y.value().to_vec(), vec![2.0, 3.0, 5.0, 6.0]);
    /// // Column 0 was not read: its gradient is zero.
    /// let grads = y.sum().backward();
    /// assert_eq!(grads.wrt(&x).unwrap().to_vec(), vec![0.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
    /// ```
    ///
    /// # Panics
    /// If the range exceeds the dimension.
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Var<T> {
        let shape = self.shape().to_vec();
        Var::record(
            "narrow",
            self.value.narrow(axis, start, len),
            &[self],
            move |g, _| vec![Some(pad_along(g, &shape, axis, start))],
        )
    }

    /// The slice at `index` along `axis`, with the axis removed.
    ///
    /// # Panics
    /// If `axis` or `index` is out of range.
    pub fn select(&self, axis: usize, index: usize) -> Var<T> {
        self.narrow(axis, index, 1).squeeze(axis)
    }

    /// Inserts a size-1 dimension at `axis`.
    ///
    /// # Panics
    /// If `axis > ndim`.
    pub fn unsqueeze(&self, axis: usize) -> Var<T> {
        Var::record(
            "unsqueeze",
            self.value.unsqueeze(axis),
            &[self],
            move |g, _| vec![Some(g.squeeze(axis))],
        )
    }

    /// Removes the size-1 dimension `axis`.
    ///
    /// # Panics
    /// If that dimension is not 1.
    pub fn squeeze(&self, axis: usize) -> Var<T> {
        Var::record("squeeze", self.value.squeeze(axis), &[self], move |g, _| {
            vec![Some(g.unsqueeze(axis))]
        })
    }

    /// Broadcasts to `shape`; the gradient is summed back over the broadcast dimensions.
    ///
    /// # Panics
    /// If the shape does not broadcast to `shape`.
    pub fn broadcast_to(&self, shape: &[usize]) -> Var<T> {
        let from = self.shape().to_vec();
        Var::record(
            "broadcast_to",
            self.value.broadcast_to(shape),
            &[self],
            move |g, _| vec![Some(g.sum_to_shape(&from))],
        )
    }

    /// Joins values along `axis`; each gets its own slice of the gradient.
    ///
    /// # Panics
    /// As `Tensor::concat`.
    pub fn concat(vars: &[&Var<T>], axis: usize) -> Var<T> {
        let values: Vec<&Tensor<T>> = vars.iter().map(|v| &v.value).collect();
        let sizes: Vec<usize> = vars
            .iter()
            .map(|v| v.shape().get(axis).copied().unwrap_or(0))
            .collect();
        Var::record(
            "concat",
            Tensor::concat(&values, axis),
            vars,
            move |g, needs| {
                g.split(axis, &sizes)
                    .into_iter()
                    .zip(needs)
                    .map(|(piece, &need)| need.then(|| piece.contiguous()))
                    .collect()
            },
        )
    }

    /// Stacks equally shaped values along a new `axis`.
    ///
    /// # Panics
    /// As `Tensor::stack`.
    pub fn stack(vars: &[&Var<T>], axis: usize) -> Var<T> {
        let expanded: Vec<Var<T>> = vars.iter().map(|v| v.unsqueeze(axis)).collect();
        Var::concat(&expanded.iter().collect::<Vec<_>>(), axis)
    }

    /// Splits along `axis` into pieces of `sizes`.
    ///
    /// # Panics
    /// If the sizes do not add up to the dimension.
    pub fn split(&self, axis: usize, sizes: &[usize]) -> Vec<Var<T>> {
        let total: usize = sizes.iter().sum();
        assert_eq!(
            total,
            self.shape()[axis],
            "split: sizes {sizes:?} do not add up to dimension {axis} of {:?}",
            self.shape()
        );
        let mut start = 0;
        sizes
            .iter()
            .map(|&len| {
                let piece = self.narrow(axis, start, len);
                start += len;
                piece
            })
            .collect()
    }

    /// Rows (slices along `axis`) picked by `indices`; the gradient of a repeated index
    /// accumulates (an embedding lookup).
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn index_select(&self, axis: usize, indices: &[usize]) -> Var<T> {
        let shape = self.shape().to_vec();
        let idx = indices.to_vec();
        Var::record(
            "index_select",
            self.value.index_select(axis, indices),
            &[self],
            move |g, _| vec![Some(Tensor::zeros(&shape).index_add(axis, &idx, g))],
        )
    }

    /// `y[p] = x[p with p[axis] = index[p]]`; the gradient is scattered back (`scatter_add`).
    ///
    /// # Panics
    /// As `Tensor::gather`.
    pub fn gather(&self, axis: usize, index: &Indices) -> Var<T> {
        let shape = self.shape().to_vec();
        let idx = index.clone();
        Var::record(
            "gather",
            self.value.gather(axis, index),
            &[self],
            move |g, _| vec![Some(Tensor::zeros(&shape).scatter_add(axis, &idx, g))],
        )
    }
}
