//! Column means and the sample covariance of data rows (PCA and ZCA whitening, the Fréchet
//! distance of sample statistics).

use crate::Tensor;

/// Column means `μⱼ = Σᵢ xᵢⱼ / n` of `data` (`[n, d]` row-major), accumulated in `f64`.
///
/// # Panics
/// If `d` is 0 or `data` holds no row.
pub fn column_means(data: &[f32], d: usize) -> Vec<f64> {
    assert!(
        d > 0 && data.len() >= d,
        "column_means: {} values for rows of {d}",
        data.len()
    );
    let n = data.len() / d;
    let mut sum = vec![0.0f64; d];
    for row in data.chunks_exact(d) {
        for (s, &x) in sum.iter_mut().zip(row) {
            *s += f64::from(x);
        }
    }
    sum.iter().map(|s| s / n as f64).collect()
}

/// Sample covariance `Σ = X̃ᵀX̃ / (n − 1)` of `data` (`[n, d]` row-major), where `X̃` is `data`
/// with `mean` subtracted from each row (one GEMM); returns `[d, d]` row-major in `f64`,
/// symmetrised.
///
/// # Panics
/// If `mean` does not have `d` values or there are fewer than two rows.
pub fn covariance(data: &[f32], d: usize, mean: &[f64]) -> Vec<f64> {
    let n = data.len() / d.max(1);
    assert!(
        mean.len() == d && n >= 2,
        "covariance: {n} rows of {d} with a mean of {}",
        mean.len()
    );
    let mean32: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
    let mut centred = Vec::with_capacity(data.len());
    for row in data.chunks_exact(d) {
        centred.extend(row.iter().zip(&mean32).map(|(x, m)| x - m));
    }
    let x = Tensor::from_vec(centred, &[n, d]);
    let c = x.t().matmul(&x).to_vec();
    let scale = 1.0 / (n as f64 - 1.0);
    // Symmetrised to remove the rounding asymmetry of the product.
    let mut out = vec![0.0f64; d * d];
    for i in 0..d {
        for j in 0..d {
            out[i * d + j] = 0.5 * (f64::from(c[i * d + j]) + f64::from(c[j * d + i])) * scale;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covariance_matches_definition() {
        let data = [1.0f32, 2.0, 3.0, 5.0, 4.0, 1.0, 0.0, 0.0];
        let mean = column_means(&data, 2);
        assert_eq!(mean, vec![2.0, 2.0]);
        let c = covariance(&data, 2, &mean);
        // x: 1,3,4,0 (dev -1,1,2,-2); y: 2,5,1,0 (dev 0,3,-1,-2)
        let expect = [10.0 / 3.0, 5.0 / 3.0, 5.0 / 3.0, 14.0 / 3.0];
        for (a, b) in c.iter().zip(expect) {
            assert!((a - b).abs() < 1e-6, "{c:?}");
        }
    }
}
