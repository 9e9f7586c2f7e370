//! Dense linear algebra beyond GEMM: the QR decomposition (orthogonal initialisation).

use crate::{Element, Tensor};

/// Thin QR decomposition by Householder reflections: `A = Q·R` for `A: [m, n]` with `m ≥ n`,
/// giving `Q: [m, n]` with orthonormal columns and upper-triangular `R: [n, n]`.
///
/// # Panics
/// If `A` is not 2-D or has more columns than rows.
pub fn qr<T: Element>(a: &Tensor<T>) -> (Tensor<T>, Tensor<T>) {
    assert!(
        a.ndim() == 2 && a.shape()[0] >= a.shape()[1],
        "qr: expects a 2-D [m, n] matrix with m ≥ n, got {:?}",
        a.shape()
    );
    let (m, n) = (a.shape()[0], a.shape()[1]);
    // Work in f64 on a row-major copy; `r` becomes R in its upper triangle.
    let mut r: Vec<f64> = a.to_vec().iter().map(|v| v.to_f64_lossless()).collect();
    let mut reflectors: Vec<Vec<f64>> = Vec::with_capacity(n);
    for j in 0..n {
        // v = x + sign(x₀)·‖x‖·e₀ over rows j.., normalised.
        let mut v: Vec<f64> = (j..m).map(|i| r[i * n + j]).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 0.0 {
            v[0] += if v[0] >= 0.0 { norm } else { -norm };
            let vn = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            v.iter_mut().for_each(|x| *x /= vn);
            // R ← (I − 2vvᵀ)·R on rows j.., columns j..
            for c in j..n {
                let dot: f64 = (j..m).map(|i| v[i - j] * r[i * n + c]).sum();
                for i in j..m {
                    r[i * n + c] -= 2.0 * v[i - j] * dot;
                }
            }
        }
        reflectors.push(v);
    }
    // Q = H₀·H₁·…·H_{n−1} applied to the first n columns of the identity.
    let mut q = vec![0.0; m * n];
    for i in 0..n {
        q[i * n + i] = 1.0;
    }
    for j in (0..n).rev() {
        let v = &reflectors[j];
        for c in 0..n {
            let dot: f64 = (j..m).map(|i| v[i - j] * q[i * n + c]).sum();
            for i in j..m {
                q[i * n + c] -= 2.0 * v[i - j] * dot;
            }
        }
    }
    let r_upper: Vec<T> = (0..n * n)
        .map(|k| {
            if k / n <= k % n {
                T::from_f64_lossy(r[k])
            } else {
                T::zero()
            }
        })
        .collect();
    let q: Vec<T> = q.into_iter().map(T::from_f64_lossy).collect();
    (
        Tensor::from_vec(q, &[m, n]),
        Tensor::from_vec(r_upper, &[n, n]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn q_is_orthonormal_and_qr_reconstructs_a() {
        let a = Tensor::<f64>::rand_normal(
            &[7, 4],
            0.0,
            1.0,
            &mut rand::rngs::StdRng::seed_from_u64(3),
        );
        let (q, r) = qr(&a);
        assert!(q.t().matmul(&q).allclose(&Tensor::eye(4), 1e-12, 1e-12));
        assert!(q.matmul(&r).allclose(&a, 1e-12, 1e-12));
        assert_eq!(r.get(&[3, 0]), 0.0);
    }
}
