//! Histograms of many values (a layer's weights, their gradients) for TensorBoard's
//! histogram and distribution dashboards.

use crate::proto::HistogramProto;

/// The histogram of the finite `values` in `bins` equal-width buckets between their minimum
/// and maximum, in TensorBoard's layout: `bucket_limit[i]` is the right edge of bucket `i`,
/// and bucket 0 is an empty bucket whose limit is the minimum (TensorBoard draws only right
/// edges, so it supplies the left edge of the first real bucket). Each value `x` counts in
/// bucket `k = clamp(⌈(x − min)/w⌉, 1, bins)` with `w = (max − min)/bins`; when every value is
/// equal the range is widened by `max(|x|, 1)·10⁻³` on each side. `min`, `max`, `num`, `sum` and
/// `sum_squares` are those of the values. NaN and ±∞ are left out.
///
/// Returns `None` when no value is finite.
///
/// ```
/// let h = strata_tensorboard::histogram([0.0, 1.0, 1.0, 2.0], 2).unwrap();
/// assert_eq!(h.bucket_limit, vec![0.0, 1.0, 2.0]);
/// assert_eq!(h.bucket, vec![0.0, 3.0, 1.0]);
/// assert_eq!((h.num, h.sum, h.sum_squares), (4.0, 4.0, 6.0));
/// ```
///
/// # Panics
/// If `bins` is 0.
pub fn histogram(values: impl IntoIterator<Item = f64>, bins: usize) -> Option<HistogramProto> {
    assert!(bins > 0, "histogram: bins must be at least 1");
    let values: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    if values.is_empty() {
        return None;
    }
    let (lo, hi) = if min < max {
        (min, max)
    } else {
        let pad = min.abs().max(1.0) * 1e-3;
        (min - pad, max + pad)
    };
    let width = (hi - lo) / bins as f64;
    let mut bucket = vec![0.0; bins + 1];
    for &x in &values {
        let k = ((x - lo) / width).ceil().clamp(1.0, bins as f64) as usize;
        bucket[k] += 1.0;
    }
    let mut bucket_limit: Vec<f64> = (0..=bins).map(|k| lo + width * k as f64).collect();
    bucket_limit[bins] = hi;
    Some(HistogramProto {
        min,
        max,
        num: values.len() as f64,
        sum: values.iter().sum(),
        sum_squares: values.iter().map(|x| x * x).sum(),
        bucket_limit,
        bucket,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Table: values, bins → bucket counts (bucket 0 is always the empty left edge).
    #[test]
    fn bucket_counts() {
        let cases: &[(&[f64], usize, &[f64])] = &[
            (&[0.0, 1.0, 1.0, 2.0], 2, &[0.0, 3.0, 1.0]),
            (
                &[0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0],
                3,
                &[0.0, 3.0, 2.0, 2.0],
            ),
            (&[5.0, 5.0, 5.0], 4, &[0.0, 0.0, 3.0, 0.0, 0.0]),
            (&[1.0, f64::NAN, 3.0, f64::INFINITY], 1, &[0.0, 2.0]),
            (&[-1.0], 1, &[0.0, 1.0]),
        ];
        for (values, bins, want) in cases {
            let h = histogram(values.iter().copied(), *bins).unwrap();
            assert_eq!(&h.bucket[..], *want, "{values:?} in {bins} bins");
            assert_eq!(h.bucket_limit.len(), h.bucket.len());
            assert!(h.bucket_limit.windows(2).all(|w| w[0] < w[1]), "{h:?}");
            assert_eq!(h.bucket.iter().sum::<f64>(), h.num);
        }
    }

    #[test]
    fn nothing_finite_is_none() {
        assert_eq!(histogram([f64::NAN, f64::NEG_INFINITY], 10), None);
        assert_eq!(histogram([], 10), None);
    }
}
