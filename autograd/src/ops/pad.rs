//! Zero padding with its own amount on each side of each axis: [`Var::pad`].

use strata_tensor::{Element, Tensor};

use crate::Var;

/// `x` with `before` zeros ahead of it and `after` zeros behind it along `axis`.
fn pad_axis<T: Element>(x: &Tensor<T>, axis: usize, before: usize, after: usize) -> Tensor<T> {
    if before == 0 && after == 0 {
        return x.clone();
    }
    let side = |n: usize| {
        let mut shape = x.shape().to_vec();
        shape[axis] = n;
        Tensor::zeros(&shape)
    };
    Tensor::concat(&[&side(before), x, &side(after)], axis)
}

impl<T: Element> Var<T> {
    /// Zero padding: `padding[i] = (before, after)` zeros are added ahead of and behind the
    /// values along axis `i`, one pair per axis (NumPy's `np.pad` with `constant` mode;
    /// PyTorch's `F.pad` lists the same amounts last axis first). The output has shape
    /// `shape[i] + before + after`; `y[.., before + j, ..] = x[.., j, ..]`. The gradient is the
    /// output gradient's slice at the input's place.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    ///
    /// let x = Var::leaf(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]));
    /// let y = x.pad(&[(0, 0), (1, 2)]); // one zero column before, two after
    /// assert_eq!(y.shape(), [2, 5]);
    /// assert_eq!(y.value().to_vec(), [0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 3.0, 4.0, 0.0, 0.0]);
    /// ```
    ///
    /// # Panics
    /// If `padding` does not have one pair per axis, naming the op, the shape and the pairs.
    pub fn pad(&self, padding: &[(usize, usize)]) -> Var<T> {
        let shape = self.shape().to_vec();
        assert_eq!(
            padding.len(),
            shape.len(),
            "pad: input of shape {shape:?} needs one (before, after) pair per axis, got {padding:?}"
        );
        let mut value = self.value.clone();
        for (axis, &(before, after)) in padding.iter().enumerate() {
            value = pad_axis(&value, axis, before, after);
        }
        let padding = padding.to_vec();
        Var::record("pad", value, &[self], move |g, _| {
            let mut grad = g.clone();
            for (axis, &(before, _)) in padding.iter().enumerate() {
                if grad.shape()[axis] != shape[axis] {
                    grad = grad.narrow(axis, before, shape[axis]);
                }
            }
            vec![Some(grad.contiguous())]
        })
    }
}
