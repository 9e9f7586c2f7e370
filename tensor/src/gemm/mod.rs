//! General matrix multiply: the one entry point every matmul, convolution and linear layer uses.
//!
//! `C ← α·A·B + β·C` over strided operands (a transposed operand is a stride swap, never a copy).
//! The portable path, and the reference in tests, is `matrixmultiply`.

/// `C ← α·A·B + β·C` in `f32`; see [`crate::Element::gemm`] for the contract.
///
/// # Safety
/// As [`crate::Element::gemm`].
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
) {
    // SAFETY: forwarded contract.
    unsafe { matrixmultiply::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
}

/// `C ← α·A·B + β·C` in `f64`; see [`crate::Element::gemm`] for the contract.
///
/// # Safety
/// As [`crate::Element::gemm`].
#[allow(clippy::too_many_arguments)]
pub unsafe fn dgemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f64,
    a: *const f64,
    rsa: isize,
    csa: isize,
    b: *const f64,
    rsb: isize,
    csb: isize,
    beta: f64,
    c: *mut f64,
    rsc: isize,
    csc: isize,
) {
    // SAFETY: forwarded contract.
    unsafe { matrixmultiply::dgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
}
