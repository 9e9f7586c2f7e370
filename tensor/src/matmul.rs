//! Matrix products on top of the one GEMM entry point ([`crate::Element::gemm`]).
//!
//! Operands are passed to GEMM with their strides, so a transposed (or otherwise strided)
//! operand is read in place and never copied first.

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
        let c = self.as_mut_slice().as_mut_ptr();
        // SAFETY: `a` and `b` are valid views (their strides address only their storage),
        // `c` is this tensor's unique contiguous [m, n] storage, which `a` and `b` cannot share
        // since `as_mut_slice` made it unique.
        unsafe {
            gemm_views(
                m,
                k,
                n,
                alpha,
                a,
                a.offset(),
                b,
                b.offset(),
                beta,
                c,
                n as isize,
            )
        }
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

/// Calls GEMM on the last two dimensions of `a` (at storage offset `oa`) and `b` (at `ob`),
/// writing a row-major `[m, n]` block with row stride `rsc` at `c`.
///
/// # Safety
/// `c` must address `m` rows of `n` writable elements that `a` and `b` do not share.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_views<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: &Tensor<T>,
    oa: usize,
    b: &Tensor<T>,
    ob: usize,
    beta: T,
    c: *mut T,
    rsc: isize,
) {
    let (ra, ca) = (
        a.strides()[a.ndim() - 2] as isize,
        a.strides()[a.ndim() - 1] as isize,
    );
    let (rb, cb) = (
        b.strides()[b.ndim() - 2] as isize,
        b.strides()[b.ndim() - 1] as isize,
    );
    let (pa, pb) = (a.storage().as_ptr(), b.storage().as_ptr());
    // SAFETY: the offsets and strides come from valid views of these storages.
    unsafe {
        T::gemm(
            m,
            k,
            n,
            alpha,
            pa.add(oa),
            ra,
            ca,
            pb.add(ob),
            rb,
            cb,
            beta,
            c,
            rsc,
            1,
        )
    }
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
    let c = out.as_mut_ptr();
    let mut block = 0usize;
    for_each_offset2(&batch, (&sa, a.offset()), (&sb, b.offset()), |oa, ob| {
        // SAFETY: block `block` of `out` is m·n fresh elements, disjoint from `a` and `b`.
        unsafe {
            gemm_views(
                m,
                k,
                n,
                T::one(),
                a,
                oa,
                b,
                ob,
                T::zero(),
                c.add(block * m * n),
                n as isize,
            )
        };
        block += 1;
    });
    Tensor::from_vec(out, &shape)
}
