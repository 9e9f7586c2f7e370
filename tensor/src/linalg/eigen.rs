//! The symmetric eigensolver: Householder tridiagonalisation followed by the implicit QL
//! algorithm (after EISPACK `tred2`/`tql2`), in `f64` (PCA and ZCA whitening of a data set's
//! covariance).

/// Eigenvalues and eigenvectors of a symmetric matrix.
pub struct SymmetricEigen {
    /// Eigenvalues in descending order.
    pub values: Vec<f64>,
    /// Eigenvectors, `[n, n]` row-major: row `k` is the unit eigenvector of `values[k]`.
    pub vectors: Vec<f64>,
}

/// Eigendecomposition of the symmetric `n × n` matrix `a` (row-major; only its symmetry is
/// assumed, both triangles are read): `A = Vᵀ diag(λ) V` with the eigenvalues `λ` descending
/// and the rows of `V` orthonormal.
///
/// ```
/// let eig = strata_tensor::linalg::symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
/// assert!((eig.values[0] - 3.0).abs() < 1e-12 && (eig.values[1] - 1.0).abs() < 1e-12);
/// ```
///
/// # Panics
/// If `a` does not hold `n · n` values.
pub fn symmetric_eigen(a: &[f64], n: usize) -> SymmetricEigen {
    assert_eq!(
        a.len(),
        n * n,
        "symmetric_eigen: {} values for {n}×{n}",
        a.len()
    );
    if n == 0 {
        return SymmetricEigen {
            values: vec![],
            vectors: vec![],
        };
    }
    // `v` stores the matrix V column-major (V[r][c] = v[c * n + r]) so that the column
    // sweeps of both phases run over contiguous memory. A is symmetric, so copying it
    // verbatim gives V = A.
    let mut v = a.to_vec();
    let mut d = vec![0.0f64; n];
    let mut e = vec![0.0f64; n];
    tred2(&mut v, &mut d, &mut e, n);
    tql2(&mut v, &mut d, &mut e, n);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| d[j].total_cmp(&d[i]));
    let values = order.iter().map(|&i| d[i]).collect();
    let mut vectors = Vec::with_capacity(n * n);
    for &i in &order {
        vectors.extend_from_slice(&v[i * n..(i + 1) * n]);
    }
    SymmetricEigen { values, vectors }
}

/// Householder reduction of V (holding A) to tridiagonal form: on return `d` is the
/// diagonal, `e[1..]` the subdiagonal and V the accumulated orthogonal transformation.
fn tred2(v: &mut [f64], d: &mut [f64], e: &mut [f64], n: usize) {
    macro_rules! m {
        ($r:expr, $c:expr) => {
            v[($c) * n + ($r)]
        };
    }
    for j in 0..n {
        d[j] = m!(n - 1, j);
    }
    for i in (1..n).rev() {
        let mut scale = 0.0;
        let mut h = 0.0;
        for &dk in &d[..i] {
            scale += dk.abs();
        }
        if scale == 0.0 {
            e[i] = d[i - 1];
            for j in 0..i {
                d[j] = m!(i - 1, j);
                m!(i, j) = 0.0;
                m!(j, i) = 0.0;
            }
        } else {
            for dk in &mut d[..i] {
                *dk /= scale;
                h += *dk * *dk;
            }
            let mut f = d[i - 1];
            let mut g = h.sqrt();
            if f > 0.0 {
                g = -g;
            }
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            e[..i].fill(0.0);
            for j in 0..i {
                f = d[j];
                m!(j, i) = f;
                g = e[j] + m!(j, j) * f;
                let col = &v[j * n..j * n + i];
                for k in j + 1..i {
                    g += col[k] * d[k];
                    e[k] += col[k] * f;
                }
                e[j] = g;
            }
            f = 0.0;
            for j in 0..i {
                e[j] /= h;
                f += e[j] * d[j];
            }
            let hh = f / (h + h);
            for j in 0..i {
                e[j] -= hh * d[j];
            }
            for j in 0..i {
                let f = d[j];
                let g = e[j];
                let col = &mut v[j * n..j * n + i];
                for k in j..i {
                    col[k] -= f * e[k] + g * d[k];
                }
                d[j] = m!(i - 1, j);
                m!(i, j) = 0.0;
            }
        }
        d[i] = h;
    }
    // Accumulate transformations.
    for i in 0..n - 1 {
        m!(n - 1, i) = m!(i, i);
        m!(i, i) = 1.0;
        let h = d[i + 1];
        if h != 0.0 {
            for k in 0..=i {
                d[k] = m!(k, i + 1) / h;
            }
            for j in 0..=i {
                let mut g = 0.0;
                for k in 0..=i {
                    g += m!(k, i + 1) * m!(k, j);
                }
                let col = &mut v[j * n..j * n + i + 1];
                for k in 0..=i {
                    col[k] -= g * d[k];
                }
            }
        }
        for k in 0..=i {
            m!(k, i + 1) = 0.0;
        }
    }
    for j in 0..n {
        d[j] = m!(n - 1, j);
        m!(n - 1, j) = 0.0;
    }
    m!(n - 1, n - 1) = 1.0;
    e[0] = 0.0;
}

/// Implicit QL iterations on the tridiagonal matrix (`d`, `e`), accumulating the rotations
/// into V; on return `d` holds the eigenvalues and column `k` of V the eigenvector of `d[k]`.
fn tql2(v: &mut [f64], d: &mut [f64], e: &mut [f64], n: usize) {
    for i in 1..n {
        e[i - 1] = e[i];
    }
    e[n - 1] = 0.0;
    let mut f = 0.0f64;
    let mut tst1 = 0.0f64;
    let eps = f64::EPSILON;
    for l in 0..n {
        tst1 = tst1.max(d[l].abs() + e[l].abs());
        let mut m = l;
        while m < n - 1 && e[m].abs() > eps * tst1 {
            m += 1;
        }
        if m > l {
            let mut iter = 0;
            loop {
                iter += 1;
                assert!(
                    iter <= 100,
                    "symmetric_eigen: QL iteration did not converge"
                );
                let mut g = d[l];
                let mut p = (d[l + 1] - g) / (2.0 * e[l]);
                let mut r = p.hypot(1.0);
                if p < 0.0 {
                    r = -r;
                }
                d[l] = e[l] / (p + r);
                d[l + 1] = e[l] * (p + r);
                let dl1 = d[l + 1];
                let mut h = g - d[l];
                for di in &mut d[l + 2..n] {
                    *di -= h;
                }
                f += h;
                p = d[m];
                let mut c = 1.0;
                let mut c2 = c;
                let mut c3 = c;
                let el1 = e[l + 1];
                let mut s = 0.0;
                let mut s2 = 0.0;
                for i in (l..m).rev() {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    g = c * e[i];
                    h = c * p;
                    r = p.hypot(e[i]);
                    e[i + 1] = s * r;
                    s = e[i] / r;
                    c = p / r;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    let (lo, hi) = v.split_at_mut((i + 1) * n);
                    let vi = &mut lo[i * n..];
                    let vi1 = &mut hi[..n];
                    for (a, b) in vi.iter_mut().zip(vi1.iter_mut()) {
                        let hk = *b;
                        *b = s * *a + c * hk;
                        *a = c * *a - s * hk;
                    }
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
                if e[l].abs() <= eps * tst1 {
                    break;
                }
            }
        }
        d[l] += f;
        e[l] = 0.0;
    }
}

/// The symmetric square root `A^{½} = Vᵀ diag(√λ) V` of the symmetric positive semi-definite
/// `n × n` matrix `a` (row-major), from [`symmetric_eigen`]; eigenvalues that rounding made
/// slightly negative count as 0.
///
/// ```
/// let r = strata_tensor::linalg::symmetric_sqrt(&[4.0, 0.0, 0.0, 9.0], 2);
/// assert!((r[0] - 2.0).abs() < 1e-12 && (r[3] - 3.0).abs() < 1e-12 && r[1].abs() < 1e-12);
/// ```
///
/// # Panics
/// If `a` does not hold `n · n` values.
pub fn symmetric_sqrt(a: &[f64], n: usize) -> Vec<f64> {
    let eig = symmetric_eigen(a, n);
    let mut out = vec![0.0; n * n];
    for (k, &l) in eig.values.iter().enumerate() {
        let s = l.max(0.0).sqrt();
        let v = &eig.vectors[k * n..(k + 1) * n];
        for i in 0..n {
            for j in 0..n {
                out[i * n + j] += s * v[i] * v[j];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    fn check(a: &[f64], n: usize) {
        let eig = symmetric_eigen(a, n);
        let scale = a.iter().map(|x| x.abs()).fold(1.0, f64::max);
        for k in 0..n {
            let vk = &eig.vectors[k * n..(k + 1) * n];
            let norm: f64 = vk.iter().map(|x| x * x).sum();
            assert!((norm - 1.0).abs() < 1e-10, "eigenvector {k} norm² {norm}");
            for i in 0..n {
                let av: f64 = (0..n).map(|j| a[i * n + j] * vk[j]).sum();
                assert!(
                    (av - eig.values[k] * vk[i]).abs() < 1e-9 * scale * n as f64,
                    "A v ≠ λ v for k={k}, i={i}"
                );
            }
            for j in 0..k {
                let vj = &eig.vectors[j * n..(j + 1) * n];
                let dot: f64 = vk.iter().zip(vj).map(|(a, b)| a * b).sum();
                assert!(
                    dot.abs() < 1e-9,
                    "eigenvectors {j} and {k} not orthogonal: {dot}"
                );
            }
        }
        for w in eig.values.windows(2) {
            assert!(w[0] >= w[1], "eigenvalues not descending");
        }
    }

    #[test]
    fn eigen_of_random_symmetric_matrices() {
        let mut rng = StdRng::seed_from_u64(7);
        for n in [1, 2, 3, 5, 17, 40] {
            let mut a = vec![0.0; n * n];
            for i in 0..n {
                for j in 0..=i {
                    let x: f64 = rng.random_range(-1.0..1.0);
                    a[i * n + j] = x;
                    a[j * n + i] = x;
                }
            }
            check(&a, n);
        }
    }

    #[test]
    fn eigen_of_diagonal_and_degenerate_matrices() {
        let a = [3.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 2.0];
        let eig = symmetric_eigen(&a, 3);
        assert_eq!(eig.values, vec![3.0, 2.0, 1.0]);
        check(&a, 3);
        // Rank-deficient covariance-like matrix with repeated zero eigenvalues.
        let n = 6;
        let mut b = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                b[i * n + j] = ((i + 1) * (j + 1)) as f64;
            }
        }
        check(&b, n);
        check(&[0.0; 16], 4);
    }
}
