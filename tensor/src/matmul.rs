//! Matrix products on top of the one GEMM entry point ([`crate::gemm::gemm`]).
//!
//! Operands are passed to GEMM with their strides, so a transposed (or otherwise strided)
//! operand is read in place and never copied first.

use crate::gemm::{MatMut, MatRef, gemm};
use crate::shape::{broadcast_shapes, broadcast_strides, for_each_offset2};
use crate::{Element, Tensor};

impl<T: Element> Tensor<T> {
    /// Matrix product with PyTorch's `matmul` semantics:
    /// - `[k] · [k]` → `[]` (dot product);
    /// - `[m, k] · [k, n]` → `[m, n]`, `yᵢⱼ = Σₗ aᵢₗ·bₗⱼ`;
    /// - `[k] · [.., k, n]` → `[.., n]` and `[.., m, k] · [k]` → `[.., m]`;
    /// - `[..a, m, k] · [..b, k, n]` → `[broadcast(..a, ..b), m, n]` (batched; batch
    ///   dimensions broadcast).
    ///
    /// # Panics
    /// On rank-0 operands, when the inner dimensions differ
    /// (`matmul: [2, 3] × [4, 5]: inner dimensions 3 ≠ 4`) or the batch dimensions do not
    /// broadcast.
    pub fn matmul(&self, other: &Tensor<T>) -> Tensor<T> {
        assert!(
            self.ndim() > 0 && other.ndim() > 0,
            "matmul: [{}] × [{}]: both operands need at least one dimension",
            fmt_shape(self.shape()),
            fmt_shape(other.shape())
        );
        match (self.ndim(), other.ndim()) {
            (1, 1) => {
                check_inner(
                    self.shape(),
                    other.shape(),
                    self.shape()[0],
                    other.shape()[0],
                );
                Tensor::scalar(self.dot(other))
            }
            (1, _) => {
                let y = self.unsqueeze(0).matmul(other);
                let row_axis = y.ndim() - 2;
                y.squeeze(row_axis)
            }
            (_, 1) => {
                let y = self.matmul(&other.unsqueeze(1));
                let last = y.ndim() - 1;
                y.squeeze(last)
            }
            _ => batched(self, other),
        }
    }

    /// Dot product `Σᵢ aᵢ·bᵢ` of two 1-D tensors of one length.
    ///
    /// # Panics
    /// If either is not 1-D or the lengths differ.
    pub fn dot(&self, other: &Tensor<T>) -> T {
        assert!(
            self.ndim() == 1 && other.ndim() == 1 && self.shape() == other.shape(),
            "dot: expects two 1-D tensors of one length, got {:?} and {:?}",
            self.shape(),
            other.shape()
        );
        let (a, b) = (self.contiguous(), other.contiguous());
        (T::kernels().dot)(
            a.as_slice().expect("contiguous"),
            b.as_slice().expect("contiguous"),
        )
    }

    /// Outer product of 1-D tensors: `[m] ⊗ [n] → [m, n]`, `yᵢⱼ = aᵢ·bⱼ`.
    ///
    /// # Panics
    /// If either is not 1-D.
    pub fn outer(&self, other: &Tensor<T>) -> Tensor<T> {
        assert!(
            self.ndim() == 1 && other.ndim() == 1,
            "outer: expects two 1-D tensors, got {:?} and {:?}",
            self.shape(),
            other.shape()
        );
        self.unsqueeze(1).matmul(&other.unsqueeze(0))
    }

    /// `self ← α·a·b + β·self` for 2-D `a: [m, k]`, `b: [k, n]`, `self: [m, n]` — GEMM into an
    /// existing tensor (e.g. accumulating a weight gradient). `a` and `b` may be any strided
    /// views (e.g. transposes). When `β = 0` the old contents are ignored.
    ///
    /// # Panics
    /// If the shapes do not fit as above.
    pub fn gemm_(&mut self, alpha: T, a: &Tensor<T>, b: &Tensor<T>, beta: T) {
        assert!(
            a.ndim() == 2 && b.ndim() == 2 && self.ndim() == 2,
            "gemm_: expects 2-D operands, got [{}] × [{}] into [{}]",
            fmt_shape(a.shape()),
            fmt_shape(b.shape()),
            fmt_shape(self.shape())
        );
        let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
        check_inner(a.shape(), b.shape(), k, b.shape()[0]);
        assert!(
            self.shape() == [m, n],
            "gemm_: [{}] × [{}] gives [{m}, {n}], but the output is [{}]",
            fmt_shape(a.shape()),
            fmt_shape(b.shape()),
            fmt_shape(self.shape())
        );
        // `as_mut_slice` makes this tensor's storage unique, so `a` and `b` cannot share it.
        let c = MatMut::row_major(self.as_mut_slice(), m, n);
        gemm(
            alpha,
            mat_view(a, a.offset()),
            mat_view(b, b.offset()),
            beta,
            c,
        );
    }
}

/// `[2, 3]` → `2, 3` for messages.
fn fmt_shape(s: &[usize]) -> String {
    s.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_inner(a: &[usize], b: &[usize], ka: usize, kb: usize) {
    assert!(
        ka == kb,
        "matmul: [{}] × [{}]: inner dimensions {ka} ≠ {kb}",
        fmt_shape(a),
        fmt_shape(b)
    );
}

/// The matrix formed by the last two dimensions of `t`, starting at storage offset `offset`
/// (a batch element of `t`, or `t` itself at `t.offset()`).
///
/// # Panics
/// If that matrix reaches outside `t`'s storage (never for an offset `t`'s own shape and
/// strides produce).
fn mat_view<T: Element>(t: &Tensor<T>, offset: usize) -> MatRef<'_, T> {
    let r = t.ndim();
    let data = t.storage().get(offset..).unwrap_or(&[]);
    MatRef::from_slice(
        data,
        t.shape()[r - 2],
        t.shape()[r - 1],
        t.strides()[r - 2] as isize,
        t.strides()[r - 1] as isize,
    )
}

/// `[..a, m, k] · [..b, k, n]` with broadcast batch dimensions.
fn batched<T: Element>(a: &Tensor<T>, b: &Tensor<T>) -> Tensor<T> {
    let (ra, rb) = (a.ndim(), b.ndim());
    let (m, k) = (a.shape()[ra - 2], a.shape()[ra - 1]);
    let (kb, n) = (b.shape()[rb - 2], b.shape()[rb - 1]);
    check_inner(a.shape(), b.shape(), k, kb);
    let batch = broadcast_shapes("matmul", &a.shape()[..ra - 2], &b.shape()[..rb - 2]);
    let sa = broadcast_strides(
        "matmul",
        &a.shape()[..ra - 2],
        &a.strides()[..ra - 2],
        &batch,
    );
    let sb = broadcast_strides(
        "matmul",
        &b.shape()[..rb - 2],
        &b.strides()[..rb - 2],
        &batch,
    );
    let mut shape = batch.clone();
    shape.extend([m, n]);
    let mut out = crate::storage::stale::<T>(crate::shape::numel(&shape));
    if m * n > 0 {
        // One row-major [m, n] block of `out` per batch element, in order.
        let mut blocks = out.chunks_exact_mut(m * n);
        for_each_offset2(&batch, (&sa, a.offset()), (&sb, b.offset()), |oa, ob| {
            let c = blocks.next().expect("one block per batch element");
            gemm(
                T::one(),
                mat_view(a, oa),
                mat_view(b, ob),
                T::zero(),
                MatMut::row_major(c, m, n),
            );
        });
    }
    Tensor::from_vec(out, &shape)
}
