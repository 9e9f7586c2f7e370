//! Reductions over one axis or all elements, and the numerically stable softmax family.
//!
//! A reduction over `axis` views the (contiguous) input as `[outer, len, inner]`: when
//! `inner = 1` each output is a SIMD row reduction, otherwise rows of `inner` accumulators are
//! combined with vector kernels, so no transposed copy is ever made.

use crate::shape::check_axis;
use crate::{Element, Indices, Tensor};

/// `(outer, len, inner)` of a reduction over `axis`.
fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        shape[..axis].iter().product(),
        shape[axis],
        shape[axis + 1..].iter().product(),
    )
}

fn reduced_shape(shape: &[usize], axis: usize, keepdim: bool) -> Vec<usize> {
    let mut s = shape.to_vec();
    if keepdim {
        s[axis] = 1;
    } else {
        s.remove(axis);
    }
    s
}

impl<T: Element> Tensor<T> {
    /// Reduces along `axis`: `row(x[o, :, i])` for each `(o, i)`, with `combine(acc, row)`
    /// folding rows of length `inner` when the axis is not the last.
    fn reduce_axis(
        &self,
        op: &str,
        axis: usize,
        keepdim: bool,
        init: T,
        row: fn(&[T]) -> T,
        combine: impl Fn(&mut [T], &[T]),
    ) -> Tensor<T> {
        check_axis(op, axis, self.shape());
        let (outer, len, inner) = split_at_axis(self.shape(), axis);
        let x = self.contiguous();
        let x = x.as_slice().expect("contiguous");
        let mut out = vec![init; outer * inner];
        if inner == 1 {
            for (o, chunk) in out.iter_mut().zip(x.chunks_exact(len.max(1))) {
                *o = row(&chunk[..len]);
            }
        } else {
            for o in 0..outer {
                let acc = &mut out[o * inner..(o + 1) * inner];
                for l in 0..len {
                    combine(acc, &x[(o * len + l) * inner..(o * len + l + 1) * inner]);
                }
            }
        }
        Tensor::from_vec(out, &reduced_shape(self.shape(), axis, keepdim))
    }

    /// `Σ` of all elements (0 for an empty tensor).
    pub fn sum(&self) -> T {
        (T::kernels().sum)(self.contiguous().as_slice().expect("contiguous"))
    }

    /// Mean of all elements (NaN for an empty tensor).
    pub fn mean(&self) -> T {
        self.sum() / T::from_f64_lossy(self.numel() as f64)
    }

    /// Largest element (−∞ when empty, NaN if any is NaN).
    pub fn max(&self) -> T {
        (T::kernels().max)(self.contiguous().as_slice().expect("contiguous"))
    }

    /// Smallest element (+∞ when empty, NaN if any is NaN).
    pub fn min(&self) -> T {
        -self.neg().max()
    }

    /// `y = Σ_axis x`; shape is the input's without `axis` (or with it set to 1 if `keepdim`).
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    pub fn sum_axis(&self, axis: usize, keepdim: bool) -> Tensor<T> {
        let k = T::kernels();
        self.reduce_axis("sum_axis", axis, keepdim, T::zero(), k.sum, k.add_assign)
    }

    /// `y = (1/n)·Σ_axis x` with `n = shape[axis]`.
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    pub fn mean_axis(&self, axis: usize, keepdim: bool) -> Tensor<T> {
        check_axis("mean_axis", axis, self.shape());
        let n = T::from_f64_lossy(self.shape()[axis] as f64);
        let mut s = self.sum_axis(axis, keepdim);
        s.scale_(T::one() / n);
        s
    }

    /// Variance along `axis`: `Σ (x − x̄)² / (n − correction)`; `correction = 1` is the unbiased
    /// estimate (PyTorch's default), `0` the population variance.
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    pub fn var_axis(&self, axis: usize, correction: usize, keepdim: bool) -> Tensor<T> {
        check_axis("var_axis", axis, self.shape());
        let n = self.shape()[axis];
        let centered = self.sub(&self.mean_axis(axis, true));
        let mut v = centered.square().sum_axis(axis, keepdim);
        v.scale_(T::one() / T::from_f64_lossy(n.saturating_sub(correction) as f64));
        v
    }

    /// Maximum along `axis` (NaN propagates).
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    pub fn max_axis(&self, axis: usize, keepdim: bool) -> Tensor<T> {
        let k = T::kernels();
        self.reduce_axis(
            "max_axis",
            axis,
            keepdim,
            T::neg_infinity(),
            k.max,
            |acc, row| {
                acc.iter_mut().zip(row).for_each(|(a, &r)| {
                    if r > *a || r.is_nan() {
                        *a = r
                    }
                })
            },
        )
    }

    /// Minimum along `axis` (NaN propagates).
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    pub fn min_axis(&self, axis: usize, keepdim: bool) -> Tensor<T> {
        self.neg().max_axis(axis, keepdim).neg()
    }

    /// Index of the largest element along `axis` (the first one on ties; NaN counts as the
    /// largest). Shape: the input's without `axis`.
    ///
    /// # Panics
    /// If `axis ≥ ndim` or the axis has length 0.
    pub fn argmax_axis(&self, axis: usize) -> Indices {
        self.arg_extreme("argmax_axis", axis, |v, best| {
            v > best || (v.is_nan() && !best.is_nan())
        })
    }

    /// Index of the smallest element along `axis` (the first one on ties; NaN counts as the
    /// smallest).
    ///
    /// # Panics
    /// If `axis ≥ ndim` or the axis has length 0.
    pub fn argmin_axis(&self, axis: usize) -> Indices {
        self.arg_extreme("argmin_axis", axis, |v, best| {
            v < best || (v.is_nan() && !best.is_nan())
        })
    }

    fn arg_extreme(&self, op: &str, axis: usize, better: impl Fn(T, T) -> bool) -> Indices {
        check_axis(op, axis, self.shape());
        let (outer, len, inner) = split_at_axis(self.shape(), axis);
        assert!(
            len > 0,
            "{op}: axis {axis} of shape {:?} is empty",
            self.shape()
        );
        let x = self.contiguous();
        let x = x.as_slice().expect("contiguous");
        let mut out = Vec::with_capacity(outer * inner);
        for o in 0..outer {
            for i in 0..inner {
                let at = |l: usize| x[(o * len + l) * inner + i];
                let mut best = 0;
                for l in 1..len {
                    if better(at(l), at(best)) {
                        best = l;
                    }
                }
                out.push(best);
            }
        }
        Indices::new(out, &reduced_shape(self.shape(), axis, false))
    }

    /// `log Σ_axis eˣ`, computed as `m + log Σ e^{x − m}` with `m = max_axis x` so it never
    /// overflows.
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    pub fn logsumexp_axis(&self, axis: usize, keepdim: bool) -> Tensor<T> {
        check_axis("logsumexp_axis", axis, self.shape());
        // An all −∞ slice has m = −∞; shift by 0 there to avoid −∞ − (−∞) = NaN.
        let m = self
            .max_axis(axis, true)
            .map(|v| if v.is_finite() { v } else { T::zero() });
        let s = self.sub(&m).exp().sum_axis(axis, true).ln().add(&m);
        if keepdim { s } else { s.squeeze(axis) }
    }

    /// Softmax along `axis`: `yᵢ = e^{xᵢ − m} / Σⱼ e^{xⱼ − m}` (`m` the maximum, for stability).
    /// Same shape as the input.
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    pub fn softmax(&self, axis: usize) -> Tensor<T> {
        check_axis("softmax", axis, self.shape());
        self.along_rows(axis, |row, out, shifted| {
            let k = T::kernels();
            let m = (k.max)(row);
            shifted.iter_mut().zip(row).for_each(|(s, &x)| *s = x - m);
            (k.exp)(shifted, out);
            let total = (k.sum)(out);
            (k.scale)(T::one() / total, out);
        })
    }

    /// Log-softmax along `axis`: `yᵢ = xᵢ − m − log Σⱼ e^{xⱼ − m}`. Same shape as the input.
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    pub fn log_softmax(&self, axis: usize) -> Tensor<T> {
        check_axis("log_softmax", axis, self.shape());
        self.along_rows(axis, |row, out, shifted| {
            let k = T::kernels();
            let m = (k.max)(row);
            shifted.iter_mut().zip(row).for_each(|(s, &x)| *s = x - m);
            (k.exp)(shifted, out);
            let lse = (k.sum)(out).ln();
            out.iter_mut()
                .zip(shifted.iter())
                .for_each(|(o, &s)| *o = s - lse);
        })
    }

    /// Applies `f(row, out, scratch)` to every 1-D slice along `axis` (moved last and made
    /// contiguous when it is not already the last axis), returning a tensor of the input's
    /// shape. `scratch` is a buffer of the row's length, reused across rows.
    fn along_rows(&self, axis: usize, f: impl Fn(&[T], &mut [T], &mut [T])) -> Tensor<T> {
        let last = self.ndim() - 1;
        let moved = if axis == last {
            self.contiguous()
        } else {
            self.transpose(axis, last).contiguous()
        };
        let len = moved.shape()[last];
        let x = moved.as_slice().expect("contiguous");
        let mut out = crate::storage::zeroed::<T>(x.len());
        let mut scratch = crate::storage::zeroed::<T>(len);
        if len > 0 {
            for (row, o) in x.chunks_exact(len).zip(out.chunks_exact_mut(len)) {
                f(row, o, &mut scratch);
            }
        }
        let y = Tensor::from_vec(out, moved.shape());
        if axis == last {
            y
        } else {
            y.transpose(axis, last).contiguous()
        }
    }

    /// Sums over broadcast dimensions so the result has `shape` — the reverse of
    /// [`Tensor::broadcast_to`], used for gradients of broadcasting ops.
    ///
    /// # Panics
    /// If `shape` does not broadcast to this tensor's shape.
    pub fn sum_to_shape(&self, shape: &[usize]) -> Tensor<T> {
        if self.shape() == shape {
            return self.clone();
        }
        // Validates that `shape` broadcasts to ours.
        crate::shape::broadcast_strides(
            "sum_to_shape",
            shape,
            &crate::shape::contiguous_strides(shape),
            self.shape(),
        );
        let lead = self.ndim() - shape.len();
        let mut t = self.clone();
        for _ in 0..lead {
            t = t.sum_axis(0, false);
        }
        for (axis, &d) in shape.iter().enumerate() {
            if d == 1 && t.shape()[axis] != 1 {
                t = t.sum_axis(axis, true);
            }
        }
        t.reshape(shape)
    }
}
