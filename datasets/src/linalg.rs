//! The little dense linear algebra the fitted transforms need beyond `strata_tensor::linalg`
//! (whose eigensolver, column means and covariance they use): a product of row-major slices
//! through `strata_tensor`'s GEMM.

use strata_tensor::Tensor;

/// `a · b` for row-major `a: [m, k]` and `b: [k, n]`, through the tensor GEMM.
pub(crate) fn matmul(a: Vec<f32>, m: usize, k: usize, b: &[f32], n: usize) -> Vec<f32> {
    let a = Tensor::from_vec(a, &[m, k]);
    let b = Tensor::from_vec(b.to_vec(), &[k, n]);
    a.matmul(&b).into_vec()
}
