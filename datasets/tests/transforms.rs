//! Transforms: scaling, normalization, z-score, PCA/ZCA, binarization, augmentation, splits.

mod common;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata_datasets::train_val_indices;
use strata_datasets::transforms::{
    Augment, Pca, ZScore, Zca, affine_bilinear, binarize, binarize_stochastic, normalize, scale_u8,
};

fn close(a: f32, b: f32, tol: f32) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

#[test]
fn scale_and_normalize() {
    assert_eq!(scale_u8(&[0, 51, 255]), vec![0.0, 0.2, 1.0]);
    let mut x = vec![0.1307, 1.0];
    normalize(&mut x, 0.1307, 0.3081);
    assert_eq!(x[0], 0.0);
    assert!(close(x[1], (1.0 - 0.1307) / 0.3081, 1e-6));
}

#[test]
#[should_panic(expected = "std 0 must be positive")]
fn normalize_rejects_zero_std() {
    normalize(&mut [1.0], 0.0, 0.0);
}

/// Per-feature covariance of `[n, d]` data.
fn cov(x: &[f32], d: usize) -> Vec<f64> {
    let n = x.len() / d;
    let mut mean = vec![0.0f64; d];
    for r in x.chunks_exact(d) {
        for j in 0..d {
            mean[j] += f64::from(r[j]) / n as f64;
        }
    }
    let mut c = vec![0.0f64; d * d];
    for r in x.chunks_exact(d) {
        for i in 0..d {
            for j in 0..d {
                c[i * d + j] += (f64::from(r[i]) - mean[i]) * (f64::from(r[j]) - mean[j]);
            }
        }
    }
    c.iter().map(|v| v / (n as f64 - 1.0)).collect()
}

#[test]
fn zscore_matches_deeplearntoolbox_and_guards_constant_features() {
    // Columns: varying, constant, varying.
    let train = vec![
        1.0, 5.0, 10.0, 2.0, 5.0, 20.0, 3.0, 5.0, 60.0, 6.0, 5.0, 10.0,
    ];
    let z = ZScore::fit(&train, 3);
    assert_eq!(z.features(), 3);
    assert_eq!(z.mean(), &[3.0, 5.0, 25.0]);
    // Sample standard deviation (divisor n − 1), as MATLAB's std.
    let s0 = ((4.0 + 1.0 + 0.0 + 9.0) / 3.0f32).sqrt();
    let s2 = ((225.0 + 25.0 + 1225.0 + 225.0) / 3.0f32).sqrt();
    assert!(close(z.std()[0], s0, 1e-6) && close(z.std()[2], s2, 1e-6));
    assert_eq!(z.std()[1], 1.0, "constant feature: sigma set to 1");
    let mut t = train.clone();
    z.apply(&mut t);
    assert!(t.iter().all(|v| v.is_finite()));
    for r in t.chunks_exact(3) {
        assert_eq!(r[1], 0.0);
    }
    assert!(close(t[0], (1.0 - 3.0) / s0, 1e-6));
    // Test set: same mu and sigma; the constant feature is only centred.
    let mut test = vec![4.0, 7.0, 25.0];
    z.apply(&mut test);
    assert!(close(test[0], 1.0 / s0, 1e-6));
    assert_eq!(test[1], 2.0);
    assert_eq!(test[2], 0.0);
    z.invert(&mut test);
    assert!(close(test[0], 4.0, 1e-6) && close(test[1], 7.0, 1e-6));
}

#[test]
fn zscore_on_mnist_gives_unit_variance_features() {
    let m = common::bundled();
    let mut train = m.train.to_f32();
    let z = ZScore::fit(&train, 784);
    let constant = z.std().iter().filter(|&&s| s == 1.0).count();
    assert!(constant > 0, "MNIST has blank border pixels");
    z.apply(&mut train);
    let mut test = m.test.to_f32();
    z.apply(&mut test);
    assert!(train.iter().chain(&test).all(|v| v.is_finite()));
    // Feature 14·28+14 (image centre) has mean 0 and sample std 1 on the train set.
    let j = 14 * 28 + 14;
    let col: Vec<f64> = train.chunks_exact(784).map(|r| f64::from(r[j])).collect();
    let mean = col.iter().sum::<f64>() / col.len() as f64;
    let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (col.len() - 1) as f64;
    assert!(
        mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
        "{mean} {var}"
    );
}

fn correlated(n: usize, seed: u64) -> Vec<f32> {
    // 4 features driven by 2 latent factors plus small noise.
    let mut rng = StdRng::seed_from_u64(seed);
    let mut x = Vec::with_capacity(n * 4);
    for _ in 0..n {
        let a: f32 = rng.random_range(-3.0..3.0);
        let b: f32 = rng.random_range(-1.0..1.0);
        let e = |rng: &mut StdRng| rng.random_range(-0.01..0.01f32);
        x.extend([
            a + b + 5.0 + e(&mut rng),
            2.0 * a - b + e(&mut rng),
            -a + e(&mut rng),
            b - 1.0 + e(&mut rng),
        ]);
    }
    x
}

#[test]
fn pca_projects_onto_the_top_components() {
    let x = correlated(2000, 1);
    let pca = Pca::fit(&x, 4, 2);
    assert_eq!((pca.features(), pca.components_len()), (4, 2));
    let ratio = pca.explained_variance_ratio();
    assert!(
        ratio[0] > ratio[1] && ratio[0] + ratio[1] > 0.9999,
        "{ratio:?}"
    );
    // Orthonormal components.
    let c = pca.components();
    let dot = |i: usize, j: usize| (0..4).map(|k| c[i * 4 + k] * c[j * 4 + k]).sum::<f32>();
    assert!(close(dot(0, 0), 1.0, 1e-5) && close(dot(1, 1), 1.0, 1e-5) && dot(0, 1).abs() < 1e-5);
    // Projections have variances λ and reconstruct the data almost exactly.
    let z = pca.transform(&x);
    assert_eq!(z.len(), 2000 * 2);
    let cz = cov(&z, 2);
    assert!(close(cz[0] as f32, pca.variances()[0], 1e-3), "{cz:?}");
    assert!((cz[1] as f32).abs() < 1e-3 * pca.variances()[0]);
    let back = pca.inverse_transform(&z);
    let err = back
        .iter()
        .zip(&x)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 0.05, "{err}");
    // Full rank: exact reconstruction.
    let full = Pca::fit(&x, 4, 4);
    let back = full.inverse_transform(&full.transform(&x));
    let err = back
        .iter()
        .zip(&x)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 1e-3, "{err}");
}

#[test]
fn pca_whitening_gives_identity_covariance() {
    let x = correlated(3000, 2);
    let pca = Pca::fit_whitening(&x, 4, 3, 0.0);
    assert_eq!(pca.epsilon(), Some(0.0));
    let z = pca.transform(&x);
    let c = cov(&z, 3);
    for i in 0..3 {
        for j in 0..3 {
            let want = if i == j { 1.0 } else { 0.0 };
            // The third component is the ±0.01 noise (variance 3e-5): f32 covariance
            // rounding shows at the 1e-2 level there.
            let tol = if i == 2 || j == 2 { 1e-2 } else { 2e-3 };
            assert!((c[i * 3 + j] - want).abs() < tol, "{c:?}");
        }
    }
    let back = pca.inverse_transform(&z);
    let err = back
        .iter()
        .zip(&x)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 0.05, "{err}");
}

#[test]
fn zca_whitening_gives_identity_covariance_and_a_symmetric_matrix() {
    let mut rng = StdRng::seed_from_u64(3);
    let n = 4000;
    let mut x = Vec::new();
    for _ in 0..n {
        let a: f32 = rng.random_range(-1.0..1.0);
        let b: f32 = rng.random_range(-1.0..1.0);
        let c: f32 = rng.random_range(-1.0..1.0);
        x.extend([a, a + 0.5 * b, b - c + 2.0]);
    }
    let zca = Zca::fit(&x, 3, 0.0);
    let w = zca.matrix();
    for i in 0..3 {
        for j in 0..3 {
            assert!((w[i * 3 + j] - w[j * 3 + i]).abs() < 1e-4);
        }
    }
    let mut y = x.clone();
    zca.apply(&mut y);
    let c = cov(&y, 3);
    for i in 0..3 {
        for j in 0..3 {
            let want = if i == j { 1.0 } else { 0.0 };
            assert!((c[i * 3 + j] - want).abs() < 2e-3, "{c:?}");
        }
    }
}

#[test]
fn pca_and_zca_on_mnist_digits() {
    let m = common::bundled();
    let (sub, _) = m.train.split_at(3000);
    let x = sub.to_f32();
    let pca = Pca::fit(&x, 784, 50);
    let ratio: f32 = pca.explained_variance_ratio().iter().sum();
    // 50 components keep most of MNIST's variance (about 80-85%).
    assert!((0.75..0.95).contains(&ratio), "{ratio}");
    let z = pca.transform(&m.test.to_f32()[..784 * 10]);
    assert_eq!(z.len(), 500);
    // ZCA on the central 14×14 patch of each digit (196 features).
    let crop = |img: &[f32]| -> Vec<f32> {
        (7..21)
            .flat_map(|r| img[r * 28 + 7..r * 28 + 21].to_vec())
            .collect()
    };
    let patches: Vec<f32> = x.chunks_exact(784).flat_map(crop).collect();
    let zca = Zca::fit(&patches, 196, 0.1);
    let mut y: Vec<f32> = m.test.to_f32()[..784 * 10]
        .chunks_exact(784)
        .flat_map(crop)
        .collect();
    zca.apply(&mut y);
    assert!(y.iter().all(|v| v.is_finite()));
}

#[test]
fn binarization() {
    let mut x = vec![0.0, 0.49, 0.5, 0.51, 1.0];
    binarize(&mut x, 0.5);
    assert_eq!(x, vec![0.0, 0.0, 0.0, 1.0, 1.0]);
    let p = vec![0.3f32; 20_000];
    let mut a = p.clone();
    binarize_stochastic(&mut a, &mut StdRng::seed_from_u64(1));
    assert!(a.iter().all(|&v| v == 0.0 || v == 1.0));
    let mean = a.iter().sum::<f32>() / a.len() as f32;
    assert!((mean - 0.3).abs() < 0.015, "{mean}");
    let mut b = p.clone();
    binarize_stochastic(&mut b, &mut StdRng::seed_from_u64(1));
    assert_eq!(a, b, "seeded: reproducible");
    let mut ends = vec![0.0, 1.0, -2.0, 3.0];
    binarize_stochastic(&mut ends, &mut StdRng::seed_from_u64(2));
    assert_eq!(ends, vec![0.0, 1.0, 0.0, 1.0]);
}

#[test]
fn integer_shifts_are_exact_copies() {
    let (h, w) = (5, 6);
    let src: Vec<f32> = (0..h * w).map(|i| i as f32 + 1.0).collect();
    let mut dst = vec![0.0; h * w];
    affine_bilinear(&src, &mut dst, h, w, 0.0, 0.0, 0.0);
    assert_eq!(dst, src);
    affine_bilinear(&src, &mut dst, h, w, 0.0, 2.0, -1.0);
    for y in 0..h {
        for x in 0..w {
            let (sy, sx) = (y as isize + 1, x as isize - 2);
            let want = if sy < h as isize && sx >= 0 {
                src[sy as usize * w + sx as usize]
            } else {
                0.0
            };
            assert_eq!(dst[y * w + x], want, "({y}, {x})");
        }
    }
}

#[test]
fn rotations_turn_about_the_centre() {
    // A single bright pixel right of centre in a 5×5 image moves above the centre after a
    // 90° counter-clockwise rotation.
    let mut img = vec![0.0f32; 25];
    img[2 * 5 + 4] = 1.0;
    let mut out = vec![0.0; 25];
    affine_bilinear(&img, &mut out, 5, 5, 90.0, 0.0, 0.0);
    assert!((out[2] - 1.0).abs() < 1e-5, "{out:?}");
    assert!((out.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    // Small rotations of a digit keep its ink roughly constant (bilinear resampling).
    let digit = common::bundled().train.to_f32()[..784].to_vec();
    let mut r = vec![0.0; 784];
    affine_bilinear(&digit, &mut r, 28, 28, 15.0, 0.0, 0.0);
    let (a, b) = (digit.iter().sum::<f32>(), r.iter().sum::<f32>());
    assert!((a - b).abs() / a < 0.05, "{a} {b}");
    assert!(r.iter().all(|&v| (0.0..=1.0 + 1e-6).contains(&v)));
}

#[test]
fn random_augmentation_is_bounded_and_seeded() {
    let digit = common::bundled().train.to_f32()[..784].to_vec();
    let aug = Augment::new(28, 28);
    let mut a = digit.clone();
    aug.apply(&mut a, &mut StdRng::seed_from_u64(9));
    let mut b = digit.clone();
    aug.apply(&mut b, &mut StdRng::seed_from_u64(9));
    assert_eq!(a, b);
    assert_ne!(a, digit);
    // Shift-only augmentation moves the ink's centre of mass by at most 2 pixels per axis.
    let centre = |img: &[f32]| {
        let m: f32 = img.iter().sum();
        let cx = img
            .iter()
            .enumerate()
            .map(|(i, v)| (i % 28) as f32 * v)
            .sum::<f32>()
            / m;
        let cy = img
            .iter()
            .enumerate()
            .map(|(i, v)| (i / 28) as f32 * v)
            .sum::<f32>()
            / m;
        (cx, cy)
    };
    let (x0, y0) = centre(&digit);
    let shift = Augment::new(28, 28).with_max_rotation(0.0);
    let mut rng = StdRng::seed_from_u64(4);
    let mut moved = 0;
    for _ in 0..50 {
        let mut s = digit.clone();
        shift.apply(&mut s, &mut rng);
        let (x1, y1) = centre(&s);
        assert!((x1 - x0).abs() <= 2.01 && (y1 - y0).abs() <= 2.01);
        moved += usize::from((x1 - x0).abs() > 0.5 || (y1 - y0).abs() > 0.5);
    }
    assert!(moved > 30);
    // Two channels get the same transform.
    let mut two = [digit.clone(), digit.clone()].concat();
    Augment::new(28, 28).apply_with(&mut two, 10.0, 1.0, 0.0);
    assert_eq!(two[..784], two[784..]);
    let none = Augment::new(28, 28)
        .with_max_shift(0)
        .with_max_rotation(0.0);
    let mut same = digit.clone();
    none.apply(&mut same, &mut rng);
    assert_eq!(same, digit);
}

#[test]
fn train_validation_splits() {
    let (t, v) = train_val_indices(10, 0.2, None);
    assert_eq!(t, (0..8).collect::<Vec<_>>());
    assert_eq!(v, vec![8, 9]);
    let (t, v) = train_val_indices(60_000, 1.0 / 6.0, Some(1));
    assert_eq!((t.len(), v.len()), (50_000, 10_000));
    assert!(t.windows(2).all(|w| w[0] < w[1]));
    let mut all = [t.clone(), v.clone()].concat();
    all.sort_unstable();
    assert_eq!(all, (0..60_000).collect::<Vec<_>>());
    assert_eq!(train_val_indices(60_000, 1.0 / 6.0, Some(1)).1, v);
    assert_ne!(v, (50_000..60_000).collect::<Vec<_>>());
}
