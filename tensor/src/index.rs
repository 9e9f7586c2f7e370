//! Joining, splitting and indexing: `concat`, `stack`, `split`, `chunk`, `index_select`,
//! `gather`, `scatter_add`, `one_hot`.

use crate::shape::{check_axis, contiguous_strides, for_each_offset};
use crate::{Element, Indices, Tensor};

impl<T: Element> Tensor<T> {
    /// Joins tensors along an existing `axis`: all shapes must agree except on `axis`, whose
    /// sizes add up. `[2, 3] ⊕ [4, 3]` along 0 gives `[6, 3]`.
    ///
    /// # Panics
    /// If `tensors` is empty, ranks differ, `axis` is out of range, or another dimension differs.
    pub fn concat(tensors: &[&Tensor<T>], axis: usize) -> Tensor<T> {
        assert!(!tensors.is_empty(), "concat: needs at least one tensor");
        let first = tensors[0].shape();
        check_axis("concat", axis, first);
        for t in tensors {
            let same = t.ndim() == first.len()
                && t.shape()
                    .iter()
                    .zip(first)
                    .enumerate()
                    .all(|(d, (a, b))| d == axis || a == b);
            let shapes: Vec<&[usize]> = tensors.iter().map(|t| t.shape()).collect();
            assert!(same, "concat: shapes {shapes:?} differ outside axis {axis}");
        }
        let mut shape = first.to_vec();
        shape[axis] = tensors.iter().map(|t| t.shape()[axis]).sum();
        let outer: usize = first[..axis].iter().product();
        let inner: usize = first[axis + 1..].iter().product();
        let parts: Vec<Tensor<T>> = tensors.iter().map(|t| t.contiguous()).collect();
        let mut out = crate::storage::with_capacity::<T>(crate::shape::numel(&shape));
        for o in 0..outer {
            for p in &parts {
                let block = p.shape()[axis] * inner;
                out.extend_from_slice(
                    &p.as_slice().expect("contiguous")[o * block..(o + 1) * block],
                );
            }
        }
        Tensor::from_vec(out, &shape)
    }

    /// Joins equally shaped tensors along a new `axis` (`0 ≤ axis ≤ ndim`): `n` tensors of
    /// `[a, b]` stacked on axis 0 give `[n, a, b]`.
    ///
    /// # Panics
    /// If `tensors` is empty, the shapes differ, or `axis > ndim`.
    pub fn stack(tensors: &[&Tensor<T>], axis: usize) -> Tensor<T> {
        assert!(!tensors.is_empty(), "stack: needs at least one tensor");
        for t in tensors {
            assert_eq!(
                t.shape(),
                tensors[0].shape(),
                "stack: shapes {:?} and {:?} differ",
                tensors[0].shape(),
                t.shape()
            );
        }
        let expanded: Vec<Tensor<T>> = tensors.iter().map(|t| t.unsqueeze(axis)).collect();
        Tensor::concat(&expanded.iter().collect::<Vec<_>>(), axis)
    }

    /// Splits along `axis` into pieces of the given `sizes` (views).
    ///
    /// # Panics
    /// If `axis` is out of range or the sizes do not add up to the dimension.
    pub fn split(&self, axis: usize, sizes: &[usize]) -> Vec<Tensor<T>> {
        check_axis("split", axis, self.shape());
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

    /// Splits along `axis` into `n` pieces of size `⌈d/n⌉` (the last may be smaller), like
    /// `torch.chunk`.
    ///
    /// # Panics
    /// If `n == 0` or `axis` is out of range.
    pub fn chunk(&self, n: usize, axis: usize) -> Vec<Tensor<T>> {
        assert!(n > 0, "chunk: the number of chunks must be positive");
        check_axis("chunk", axis, self.shape());
        let d = self.shape()[axis];
        let size = d.div_ceil(n).max(1);
        let mut sizes = vec![];
        let mut left = d;
        while left > 0 {
            sizes.push(size.min(left));
            left -= size.min(left);
        }
        self.split(axis, &sizes)
    }

    /// Picks the slices `indices[j]` along `axis`: `y[…, j, …] = x[…, indices[j], …]`; the
    /// result's `axis` has `indices.len()` entries (rows of an embedding table, a mini-batch).
    ///
    /// # Panics
    /// If `axis` is out of range or an index is `≥ shape[axis]`.
    pub fn index_select(&self, axis: usize, indices: &[usize]) -> Tensor<T> {
        check_axis("index_select", axis, self.shape());
        let (len, inner): (usize, usize) = (
            self.shape()[axis],
            self.shape()[axis + 1..].iter().product(),
        );
        let outer: usize = self.shape()[..axis].iter().product();
        if let Some(&bad) = indices.iter().find(|&&i| i >= len) {
            panic!(
                "index_select: index {bad} is out of range for dimension {axis} of shape {:?}",
                self.shape()
            );
        }
        let x = self.contiguous();
        let x = x.as_slice().expect("contiguous");
        let mut out = crate::storage::with_capacity::<T>(outer * indices.len() * inner);
        for o in 0..outer {
            for &i in indices {
                let start = (o * len + i) * inner;
                out.extend_from_slice(&x[start..start + inner]);
            }
        }
        let mut shape = self.shape().to_vec();
        shape[axis] = indices.len();
        Tensor::from_vec(out, &shape)
    }

    /// The adjoint of [`Tensor::index_select`]: a copy of `self` with slice `j` of `src` added
    /// at position `indices[j]` along `axis` (repeated indices accumulate). `src` has `self`'s
    /// shape except `src.shape[axis] = indices.len()`.
    ///
    /// # Panics
    /// If the shapes do not fit or an index is out of range.
    pub fn index_add(&self, axis: usize, indices: &[usize], src: &Tensor<T>) -> Tensor<T> {
        check_axis("index_add", axis, self.shape());
        let mut expected = self.shape().to_vec();
        expected[axis] = indices.len();
        assert_eq!(
            src.shape(),
            expected.as_slice(),
            "index_add: source shape {:?} does not fit {} indices into {:?} along axis {axis}",
            src.shape(),
            indices.len(),
            self.shape()
        );
        let (len, inner): (usize, usize) = (
            self.shape()[axis],
            self.shape()[axis + 1..].iter().product(),
        );
        let outer: usize = self.shape()[..axis].iter().product();
        let src = src.contiguous();
        let src = src.as_slice().expect("contiguous");
        let mut out = self.contiguous();
        let y = out.as_mut_slice();
        let add = T::kernels().add_assign;
        for o in 0..outer {
            for (j, &i) in indices.iter().enumerate() {
                assert!(
                    i < len,
                    "index_add: index {i} is out of range for dimension {axis} of shape {:?}",
                    self.shape()
                );
                let dst = (o * len + i) * inner;
                let from = (o * indices.len() + j) * inner;
                add(&mut y[dst..dst + inner], &src[from..from + inner]);
            }
        }
        out
    }

    /// Storage offsets (into the contiguous `self`) addressed by `gather`/`scatter_add`:
    /// position `p` of `index` maps to `x[p₀, …, index[p], …, pₙ]` with `index[p]` on `axis`.
    fn gather_offsets(&self, op: &str, axis: usize, index: &Indices) -> Vec<usize> {
        check_axis(op, axis, self.shape());
        assert_eq!(
            index.shape().len(),
            self.ndim(),
            "{op}: index shape {:?} and input shape {:?} differ in rank",
            index.shape(),
            self.shape()
        );
        for (d, (&i, &s)) in index.shape().iter().zip(self.shape()).enumerate() {
            assert!(
                d == axis || i <= s,
                "{op}: index shape {:?} exceeds input shape {:?} on axis {d}",
                index.shape(),
                self.shape()
            );
        }
        let mut strides = contiguous_strides(self.shape());
        let axis_stride = std::mem::replace(&mut strides[axis], 0);
        let mut offsets = Vec::with_capacity(index.len());
        let mut k = 0;
        for_each_offset(index.shape(), &strides, 0, |base| {
            let i = index.as_slice()[k];
            assert!(
                i < self.shape()[axis],
                "{op}: index {i} is out of range for dimension {axis} of shape {:?}",
                self.shape()
            );
            offsets.push(base + i * axis_stride);
            k += 1;
        });
        offsets
    }

    /// `y[p] = x[p with p[axis] replaced by index[p]]`; the result has `index`'s shape (the
    /// score of each example's target class: `logits.gather(1, targets)`).
    ///
    /// # Panics
    /// If ranks differ, `index` exceeds the input off `axis`, or an index is out of range.
    pub fn gather(&self, axis: usize, index: &Indices) -> Tensor<T> {
        let x = self.contiguous();
        let data = x.as_slice().expect("contiguous");
        let out = x
            .gather_offsets("gather", axis, index)
            .into_iter()
            .map(|o| data[o])
            .collect();
        Tensor::from_vec(out, index.shape())
    }

    /// The adjoint of [`Tensor::gather`]: returns a copy of `self` where, for every position `p`
    /// of `index`, `y[p with p[axis] = index[p]] += src[p]` (repeated indices accumulate).
    ///
    /// # Panics
    /// As `gather`, or if `src`'s shape differs from `index`'s.
    pub fn scatter_add(&self, axis: usize, index: &Indices, src: &Tensor<T>) -> Tensor<T> {
        assert_eq!(
            src.shape(),
            index.shape(),
            "scatter_add: source shape {:?} differs from index shape {:?}",
            src.shape(),
            index.shape()
        );
        let mut out = self.contiguous();
        let offsets = out.gather_offsets("scatter_add", axis, index);
        let y = out.as_mut_slice();
        for (o, v) in offsets.into_iter().zip(src.to_vec()) {
            y[o] = y[o] + v;
        }
        out
    }

    /// One-hot encoding: `y[p, c] = 1` if `indices[p] = c`, else 0; shape `indices.shape + [classes]`.
    ///
    /// # Panics
    /// If an index is `≥ classes`.
    pub fn one_hot(indices: &Indices, classes: usize) -> Tensor<T> {
        let mut data = crate::storage::zeroed::<T>(indices.len() * classes);
        for (row, &c) in indices.as_slice().iter().enumerate() {
            assert!(
                c < classes,
                "one_hot: index {c} is out of range for {classes} classes"
            );
            data[row * classes + c] = T::one();
        }
        let mut shape = indices.shape().to_vec();
        shape.push(classes);
        Tensor::from_vec(data, &shape)
    }
}
