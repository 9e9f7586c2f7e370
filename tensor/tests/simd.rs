//! Every SIMD kernel table against the scalar one, plus the error bounds of the vectorised
//! transcendentals against an `f64` reference.
//!
//! Run with `cargo test -p strata-tensor --test simd` (add `-- --nocapture` to see the
//! measured errors).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata_tensor::Element;
use strata_tensor::simd::{
    Kernels, SimdPath, kernels_f32_for, kernels_f64_for, supported_paths, vectorize_on,
};

/// Awkward lengths: empty, shorter than every vector, around 16 and not multiples of it.
const LENS: [usize; 8] = [0, 1, 7, 15, 16, 17, 1000, 1023];

/// Start offsets into the backing buffer: 0 and 1 (the latter misaligns every vector access).
const OFFSETS: [usize; 2] = [0, 1];

/// Value written around each output slice to catch stores outside it.
const GUARD: f64 = 12345.0;

/// A table entry `(a, b, out)`.
type Zip<T> = fn(&[T], &[T], &mut [T]);
/// A table entry `(x, out)`.
type Map<T> = fn(&[T], &mut [T]);
/// An in-place kernel `(y, x)` (a table entry with its scalar argument bound).
type Update<T> = Box<dyn Fn(&mut [T], &[T])>;
/// An `f64` reference function.
type Reference = fn(f64) -> f64;

/// Access to the kernel tables of one element type.
trait Elem: Element + std::fmt::LowerExp {
    fn table(path: SimdPath) -> Option<&'static Kernels<Self>>;
}

impl Elem for f32 {
    fn table(path: SimdPath) -> Option<&'static Kernels<f32>> {
        kernels_f32_for(path)
    }
}

impl Elem for f64 {
    fn table(path: SimdPath) -> Option<&'static Kernels<f64>> {
        kernels_f64_for(path)
    }
}

/// The supported non-scalar tables of `T`.
fn simd_tables<T: Elem>() -> Vec<&'static Kernels<T>> {
    supported_paths()
        .into_iter()
        .filter(|&p| p != SimdPath::Scalar)
        .filter_map(T::table)
        .collect()
}

/// Every supported table of `T`, scalar first.
fn all_tables<T: Elem>() -> Vec<&'static Kernels<T>> {
    supported_paths().into_iter().filter_map(T::table).collect()
}

fn scalar<T: Elem>() -> &'static Kernels<T> {
    T::table(SimdPath::Scalar).expect("scalar table always exists")
}

fn cast<T: Elem>(x: f64) -> T {
    T::from_f64_lossy(x)
}

/// `len + 2` random values in `[lo, hi)`; the kernels see `[off..off + len]`.
fn random<T: Elem>(rng: &mut StdRng, len: usize, lo: f64, hi: f64) -> Vec<T> {
    (0..len + 2)
        .map(|_| cast(rng.random_range(lo..hi)))
        .collect()
}

/// An output buffer of `len + 2` guard values.
fn guarded<T: Elem>(len: usize) -> Vec<T> {
    vec![cast(GUARD); len + 2]
}

/// Checks that nothing outside `[off..off + len]` of `buf` was written.
fn check_guards<T: Elem>(buf: &[T], off: usize, len: usize, what: &str) {
    for (i, &v) in buf.iter().enumerate() {
        if i < off || i >= off + len {
            assert_eq!(
                v,
                cast::<T>(GUARD),
                "{what}: wrote outside the slice at {i}"
            );
        }
    }
}

/// Bitwise equality, except that any NaN equals any NaN.
fn same<T: Elem>(a: T, b: T) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_f64_lossless().to_bits() == b.to_f64_lossless().to_bits()
}

fn assert_same<T: Elem>(got: &[T], want: &[T], what: &str) {
    assert_eq!(got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(same(g, w), "{what}: element {i}: got {g:e}, scalar {w:e}");
    }
}

/// A kernel `(a, b, out)` applied on `path` and on scalar must agree bitwise.
fn check_zip<T: Elem>(name: &str, pick: fn(&Kernels<T>) -> Zip<T>) {
    let mut rng = StdRng::seed_from_u64(1);
    for k in simd_tables::<T>() {
        for len in LENS {
            for off in OFFSETS {
                let a = random::<T>(&mut rng, len, -10.0, 10.0);
                let b = random::<T>(&mut rng, len, -10.0, 10.0);
                let (a, b) = (&a[off..off + len], &b[off..off + len]);
                let mut got = guarded::<T>(len);
                let mut want = guarded::<T>(len);
                pick(k)(a, b, &mut got[off..off + len]);
                pick(scalar())(a, b, &mut want[off..off + len]);
                let what = format!("{} {name} {} len {len} off {off}", k.path.name(), T::DTYPE);
                check_guards(&got, off, len, &what);
                assert_same(&got, &want, &what);
            }
        }
    }
}

/// A unary kernel `(x, out)` applied on `path` and on scalar must agree to `rel` relative
/// error (bitwise when `rel` is 0), on inputs in `[lo, hi)`.
fn check_map<T: Elem>(name: &str, pick: fn(&Kernels<T>) -> Map<T>, lo: f64, hi: f64, rel: f64) {
    let mut rng = StdRng::seed_from_u64(2);
    let subnormal_ulp = (T::min_positive_value() * T::epsilon()).to_f64_lossless();
    for k in simd_tables::<T>() {
        for len in LENS {
            for off in OFFSETS {
                let x = random::<T>(&mut rng, len, lo, hi);
                let x = &x[off..off + len];
                let mut got = guarded::<T>(len);
                let mut want = guarded::<T>(len);
                pick(k)(x, &mut got[off..off + len]);
                pick(scalar())(x, &mut want[off..off + len]);
                let what = format!("{} {name} {} len {len} off {off}", k.path.name(), T::DTYPE);
                check_guards(&got, off, len, &what);
                if rel == 0.0 {
                    assert_same(&got, &want, &what);
                } else {
                    for i in off..off + len {
                        if same(got[i], want[i]) {
                            continue;
                        }
                        let (g, w) = (got[i].to_f64_lossless(), want[i].to_f64_lossless());
                        // Subnormal results carry fewer bits: allow two of their ulps besides.
                        let ok = (g - w).abs() <= rel * w.abs() + 2.0 * subnormal_ulp;
                        assert!(ok, "{what}: x = {:e}: got {g:e}, scalar {w:e}", x[i - off]);
                    }
                }
            }
        }
    }
}

/// An in-place kernel `(y, x)` on `path` and on scalar must agree bitwise.
fn check_update<T: Elem>(name: &str, pick: fn(&Kernels<T>) -> Update<T>) {
    let mut rng = StdRng::seed_from_u64(3);
    for k in simd_tables::<T>() {
        for len in LENS {
            for off in OFFSETS {
                let x = random::<T>(&mut rng, len, -10.0, 10.0);
                let x = &x[off..off + len];
                let mut y = random::<T>(&mut rng, len, -10.0, 10.0);
                for (i, v) in y.iter_mut().enumerate() {
                    if i < off || i >= off + len {
                        *v = cast(GUARD);
                    }
                }
                let mut want = y.clone();
                pick(k)(&mut y[off..off + len], x);
                pick(scalar())(&mut want[off..off + len], x);
                let what = format!("{} {name} {} len {len} off {off}", k.path.name(), T::DTYPE);
                check_guards(&y, off, len, &what);
                assert_same(&y, &want, &what);
            }
        }
    }
}

fn arithmetic<T: Elem>() {
    check_zip::<T>("add", |k| k.add);
    check_zip::<T>("sub", |k| k.sub);
    check_zip::<T>("mul", |k| k.mul);
    check_zip::<T>("div", |k| k.div);
    check_update::<T>("add_assign", |k| Box::new(k.add_assign));
    check_update::<T>("mul_assign", |k| Box::new(k.mul_assign));
    check_update::<T>("axpy", |k| {
        let f = k.axpy;
        Box::new(move |y, x| f(cast(-0.75), x, y))
    });
    check_update::<T>("scale", |k| {
        let f = k.scale;
        Box::new(move |y, _| f(cast(1.3), y))
    });
    check_map::<T>("relu", |k| k.relu, -10.0, 10.0, 0.0);
}

#[test]
fn arithmetic_matches_scalar_f32() {
    arithmetic::<f32>();
}

#[test]
fn arithmetic_matches_scalar_f64() {
    arithmetic::<f64>();
}

/// `sum`, `dot` and `max` against scalar: `max` bitwise (up to the sign of zero), the sums to
/// `2·n·ε·Σ|terms|`, a bound on the difference of any two summation orders.
fn reductions<T: Elem>() {
    let mut rng = StdRng::seed_from_u64(4);
    let eps = T::epsilon().to_f64_lossless();
    for k in simd_tables::<T>() {
        for len in LENS {
            for off in OFFSETS {
                let what = format!("{} {} len {len} off {off}", k.path.name(), T::DTYPE);
                let a = random::<T>(&mut rng, len, -10.0, 10.0);
                let b = random::<T>(&mut rng, len, -10.0, 10.0);
                let (a, b) = (&a[off..off + len], &b[off..off + len]);
                let tol = |abs_sum: f64| 2.0 * (len as f64) * eps * abs_sum;

                let (got, want) = (
                    (k.sum)(a).to_f64_lossless(),
                    (scalar::<T>().sum)(a).to_f64_lossless(),
                );
                let abs_sum: f64 = a.iter().map(|v| v.to_f64_lossless().abs()).sum();
                assert!(
                    (got - want).abs() <= tol(abs_sum),
                    "sum {what}: got {got}, scalar {want}"
                );

                let (got, want) = (
                    (k.dot)(a, b).to_f64_lossless(),
                    (scalar::<T>().dot)(a, b).to_f64_lossless(),
                );
                let abs_dot: f64 = a
                    .iter()
                    .zip(b)
                    .map(|(x, y)| (x.to_f64_lossless() * y.to_f64_lossless()).abs())
                    .sum();
                assert!(
                    (got - want).abs() <= tol(abs_dot),
                    "dot {what}: got {got}, scalar {want}"
                );

                let (got, want) = ((k.max)(a), (scalar::<T>().max)(a));
                assert!(got == want, "max {what}: got {got}, scalar {want}");
                // All-negative data: a zero-filled tail would wrongly win.
                let neg: Vec<T> = a.iter().map(|&v| -v.abs() - T::one()).collect();
                assert!(
                    (k.max)(&neg) == (scalar::<T>().max)(&neg),
                    "max of negatives {what}"
                );
            }
        }
    }
}

#[test]
fn reductions_match_scalar_f32() {
    reductions::<f32>();
}

#[test]
fn reductions_match_scalar_f64() {
    reductions::<f64>();
}

fn reduction_edge_cases<T: Elem>() {
    for k in all_tables::<T>() {
        let p = k.path.name();
        assert_eq!((k.sum)(&[]), T::zero(), "{p}: sum of empty");
        assert_eq!((k.dot)(&[], &[]), T::zero(), "{p}: dot of empty");
        assert_eq!((k.max)(&[]), T::neg_infinity(), "{p}: max of empty");
        for len in LENS.into_iter().filter(|&n| n > 0) {
            let base: Vec<T> = (0..len).map(|i| cast((i as f64 * 0.37).sin())).collect();
            // A NaN anywhere: first, middle, last (often the masked tail), every position for
            // short slices.
            let spots: Vec<usize> = if len <= 33 {
                (0..len).collect()
            } else {
                vec![0, len / 2, len - 17, len - 1]
            };
            for i in spots {
                let mut x = base.clone();
                x[i] = T::nan();
                assert!(
                    (k.max)(&x).is_nan(),
                    "{p} {}: max of len {len} with NaN at {i}",
                    T::DTYPE
                );
            }
            let mut x = base.clone();
            x[len - 1] = T::infinity();
            assert_eq!((k.max)(&x), T::infinity(), "{p}: +inf is the max");
            let x = vec![T::neg_infinity(); len];
            assert_eq!((k.max)(&x), T::neg_infinity(), "{p}: all −inf");
            let x = vec![T::max_value(); len];
            assert_eq!((k.max)(&x), T::max_value(), "{p}: all MAX");
        }
    }
}

#[test]
fn reduction_edge_cases_f32() {
    reduction_edge_cases::<f32>();
}

#[test]
fn reduction_edge_cases_f64() {
    reduction_edge_cases::<f64>();
}

#[test]
fn transcendentals_match_scalar_f32() {
    check_map::<f32>("exp", |k| k.exp, -90.0, 90.0, 1e-6);
    check_map::<f32>("tanh", |k| k.tanh, -10.0, 10.0, 1e-6);
    check_map::<f32>("sigmoid", |k| k.sigmoid, -30.0, 30.0, 1e-6);
}

#[test]
fn transcendentals_match_scalar_f64() {
    // The f64 tables use the scalar transcendentals; any future vector version must stay
    // within a few ulp.
    check_map::<f64>("exp", |k| k.exp, -700.0, 700.0, 1e-14);
    check_map::<f64>("tanh", |k| k.tanh, -10.0, 10.0, 1e-14);
    check_map::<f64>("sigmoid", |k| k.sigmoid, -30.0, 30.0, 1e-14);
}

/// The test grid: every 1/1024 on [lo, hi], plus ±2^(k/8) for magnitudes from 2^-126 up to
/// `hi`, so tiny arguments are covered too.
fn grid(lo: f64, hi: f64) -> Vec<f32> {
    let mut x: Vec<f32> = Vec::new();
    let mut v = lo;
    while v <= hi {
        x.push(v as f32);
        v += 1.0 / 1024.0;
    }
    let mut k = -126 * 8;
    while 2f64.powf(k as f64 / 8.0) <= hi.max(-lo) {
        let m = 2f64.powf(k as f64 / 8.0);
        for s in [m, -m] {
            if (lo..=hi).contains(&s) {
                x.push(s as f32);
            }
        }
        k += 1;
    }
    x
}

/// Max relative error of `f` over `x` against the `f64` function `reference`, over the points
/// whose true value is a normal `f32`, and the worst argument.
fn max_rel_error(f: Map<f32>, x: &[f32], reference: Reference) -> (f64, f32) {
    let mut y = vec![0.0f32; x.len()];
    f(x, &mut y);
    let mut worst = (0.0, 0.0f32);
    for (&xi, &yi) in x.iter().zip(&y) {
        let r = reference(xi as f64);
        if !(f32::MIN_POSITIVE as f64..=f32::MAX as f64).contains(&r.abs()) {
            continue;
        }
        let err = (yi as f64 - r).abs() / r.abs();
        if err > worst.0 || err.is_nan() {
            worst = (err, xi);
        }
    }
    worst
}

fn sigmoid64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        x.exp() / (1.0 + x.exp())
    }
}

/// The bounds stated in the SIMD kernels' doc comments: the exhaustive test below measures
/// 8.5e-8, 1.42e-7 and 2.0e-7 over every `f32` in [−80, 80]. Every path (scalar included) must
/// also stay within 1e-6.
const BOUNDS: [(&str, f64); 3] = [("exp", 1.0e-7), ("tanh", 1.5e-7), ("sigmoid", 2.5e-7)];

#[test]
fn transcendental_error_bounds_f32() {
    for k in all_tables::<f32>() {
        let cases: [(&str, Map<f32>, Reference, Vec<f32>); 5] = [
            ("exp", k.exp, f64::exp, grid(-80.0, 80.0)),
            // The whole range with normal results: e^-87.33 ≈ f32::MIN_POSITIVE, e^88.72 ≈ MAX.
            ("exp", k.exp, f64::exp, grid(-87.33, 88.72)),
            ("tanh", k.tanh, f64::tanh, grid(-80.0, 80.0)),
            ("sigmoid", k.sigmoid, sigmoid64, grid(-80.0, 80.0)),
            ("sigmoid", k.sigmoid, sigmoid64, grid(-87.33, 88.72)),
        ];
        for (name, f, reference, x) in cases {
            let (err, at) = max_rel_error(f, &x, reference);
            let (lo, hi) = (x[0], x.iter().copied().fold(f32::MIN, f32::max));
            println!(
                "{:>6} {name:<7} on [{lo}, {hi}] ({} points): max relative error {err:.3e} at x = {at:e}",
                k.path.name(),
                x.len()
            );
            assert!(
                err <= 1e-6,
                "{} {name}: relative error {err:e} at x = {at:e}",
                k.path.name()
            );
            if k.path != SimdPath::Scalar {
                let bound = BOUNDS.iter().find(|b| b.0 == name).unwrap().1;
                assert!(
                    err <= bound,
                    "{} {name}: relative error {err:e} at {at:e} > {bound:e}",
                    k.path.name()
                );
            }
        }
    }
}

/// Below x ≈ −87.34 e^x is subnormal: the absolute error must stay within one subnormal ulp
/// (2^-149), and below ≈ −103.97 the result is +0.
#[test]
fn exp_subnormal_results_f32() {
    let tiny = 2f64.powi(-149);
    for k in all_tables::<f32>() {
        let x = grid(-110.0, -87.0);
        let mut y = vec![0.0f32; x.len()];
        (k.exp)(&x, &mut y);
        let mut worst = 0.0f64;
        for (&xi, &yi) in x.iter().zip(&y) {
            let r = (xi as f64).exp();
            worst = worst.max((yi as f64 - r).abs());
            assert!(
                (yi as f64 - r).abs() <= tiny,
                "{} exp({xi}) = {yi:e}, want {r:e}",
                k.path.name()
            );
            if xi < -104.0 {
                assert_eq!(yi, 0.0, "{} exp({xi}) must underflow to 0", k.path.name());
            }
        }
        println!(
            "{:>6} exp on [-110, -87]: max absolute error {:.3} × 2^-149",
            k.path.name(),
            worst / tiny
        );
    }
}

/// Special values, placed at every lane position of a 37-element slice (main loop and tail).
fn check_special(name: &str, f: fn(&Kernels<f32>) -> Map<f32>, cases: &[(f32, f32)]) {
    for k in all_tables::<f32>() {
        for &(x, want) in cases {
            for pos in 0..37 {
                let mut input = vec![0.5f32; 37];
                input[pos] = x;
                let mut out = vec![0.0f32; 37];
                f(k)(&input, &mut out);
                let got = out[pos];
                let ok = if want.is_nan() {
                    got.is_nan()
                } else {
                    got.to_bits() == want.to_bits()
                };
                assert!(
                    ok,
                    "{} {name}({x:e}) at lane {pos}: got {got:e}, want {want:e}",
                    k.path.name()
                );
            }
        }
    }
}

#[test]
fn special_values_f32() {
    let inf = f32::INFINITY;
    let nan = f32::NAN;
    check_special(
        "exp",
        |k| k.exp,
        &[
            (0.0, 1.0),
            (-0.0, 1.0),
            (inf, inf),
            (-inf, 0.0),
            (nan, nan),
            (88.73, inf),
            (100.0, inf),
            (f32::MAX, inf),
            (-104.5, 0.0),
            (-1000.0, 0.0),
            (f32::MIN, 0.0),
            (1e-30, 1.0),
            (-1e-30, 1.0),
            (f32::from_bits(1), 1.0),
        ],
    );
    check_special(
        "tanh",
        |k| k.tanh,
        &[
            (0.0, 0.0),
            (-0.0, -0.0),
            (inf, 1.0),
            (-inf, -1.0),
            (nan, nan),
            (20.0, 1.0),
            (-20.0, -1.0),
            (f32::MAX, 1.0),
            (f32::MIN, -1.0),
            (1e-30, 1e-30),
            (-1e-30, -1e-30),
            (f32::from_bits(1), f32::from_bits(1)),
        ],
    );
    check_special(
        "sigmoid",
        |k| k.sigmoid,
        &[
            (0.0, 0.5),
            (-0.0, 0.5),
            (inf, 1.0),
            (-inf, 0.0),
            (nan, nan),
            (50.0, 1.0),
            (f32::MAX, 1.0),
            (f32::MIN, 0.0),
            (-200.0, 0.0),
            (1e-30, 0.5),
            (-1e-30, 0.5),
        ],
    );
    check_special(
        "relu",
        |k| k.relu,
        &[
            (0.0, 0.0),
            (-0.0, 0.0),
            (inf, inf),
            (-inf, 0.0),
            // The scalar definition `if x > 0 { x } else { 0 }` maps NaN to 0; every path agrees.
            (nan, 0.0),
            (f32::MAX, f32::MAX),
            (f32::MIN, 0.0),
            (f32::from_bits(1), f32::from_bits(1)),
            (-f32::from_bits(1), 0.0),
        ],
    );
    // Deep in the subnormal range sigmoid(x) ≈ e^x: tiny, non-negative, never NaN.
    for k in all_tables::<f32>() {
        let mut out = [1.0f32; 3];
        (k.sigmoid)(&[-90.0, -100.0, -103.0], &mut out);
        for (x, y) in [-90.0f64, -100.0, -103.0].into_iter().zip(out) {
            assert!(
                (y as f64 - x.exp()).abs() <= 2f64.powi(-149),
                "{} sigmoid({x}) = {y:e}",
                k.path.name()
            );
        }
    }
}

#[test]
fn special_values_f64() {
    let inf = f64::INFINITY;
    for k in simd_tables::<f64>() {
        let x = [0.0, -0.0, inf, -inf, f64::NAN, 700.0, -750.0, 3.5, -3.5];
        let mut got = [0.0f64; 9];
        let mut want = [0.0f64; 9];
        for (name, f, g) in [
            ("exp", k.exp, scalar::<f64>().exp),
            ("tanh", k.tanh, scalar::<f64>().tanh),
            ("sigmoid", k.sigmoid, scalar::<f64>().sigmoid),
            ("relu", k.relu, scalar::<f64>().relu),
        ] {
            f(&x, &mut got);
            g(&x, &mut want);
            assert_same(
                &got,
                &want,
                &format!("{} {name} f64 specials", k.path.name()),
            );
        }
    }
}

#[test]
#[should_panic(expected = "lengths differ")]
fn mismatched_lengths_panic() {
    let k = all_tables::<f32>().pop().expect("a table");
    let mut out = [0.0f32; 3];
    (k.add)(&[1.0; 4], &[1.0; 4], &mut out);
}

#[test]
fn tables_report_their_path() {
    for path in supported_paths() {
        if let Some(k) = kernels_f32_for(path) {
            assert_eq!(k.path, path);
        }
        if let Some(k) = kernels_f64_for(path) {
            assert_eq!(k.path, path);
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        assert!(kernels_f32_for(SimdPath::Neon).is_none());
        assert_eq!(
            kernels_f32_for(SimdPath::Avx512).is_some(),
            std::arch::is_x86_feature_detected!("avx512f")
        );
    }
}

/// Every `f32` in [−80, 80] (about 2.2·10⁹ values) through each SIMD path's `exp`, `tanh` and
/// `sigmoid`, against the `f64` reference. Slow (about a minute on two cores), so ignored by
/// default: `cargo test -p strata-tensor --test simd -- --ignored --nocapture exhaustive`.
#[test]
#[ignore]
fn exhaustive_transcendental_errors_f32() {
    type Kernel = fn(&Kernels<f32>) -> Map<f32>;
    let kernels: [(&str, Kernel, Reference); 3] = [
        ("exp", |k| k.exp, f64::exp),
        ("tanh", |k| k.tanh, f64::tanh),
        ("sigmoid", |k| k.sigmoid, sigmoid64),
    ];
    // Non-negative f32 bit patterns up to 80.0; each is also tried negated.
    let top = 80.0f32.to_bits();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    for k in simd_tables::<f32>() {
        for (name, pick, reference) in kernels {
            let f = pick(k);
            let worst = std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        s.spawn(move || {
                            let mut worst = (0.0f64, 0.0f32);
                            let mut x = Vec::with_capacity(1 << 16);
                            let mut y = vec![0.0f32; 1 << 16];
                            let mut bits = t * (1 << 15);
                            while bits <= top {
                                x.clear();
                                for b in bits..(bits + (1 << 15)).min(top + 1) {
                                    let v = f32::from_bits(b);
                                    x.extend([v, -v]);
                                }
                                f(&x, &mut y[..x.len()]);
                                for (&xi, &yi) in x.iter().zip(&y) {
                                    let r = reference(xi as f64);
                                    if !(f32::MIN_POSITIVE as f64..=f32::MAX as f64)
                                        .contains(&r.abs())
                                    {
                                        continue;
                                    }
                                    let err = (yi as f64 - r).abs() / r.abs();
                                    if err > worst.0 || err.is_nan() {
                                        worst = (err, xi);
                                    }
                                }
                                bits += threads * (1 << 15);
                            }
                            worst
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap())
                    .fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a })
            });
            println!(
                "{:>6} {name:<7} all f32 in [-80, 80]: max relative error {:.3e} at x = {:e}",
                k.path.name(),
                worst.0,
                worst.1
            );
            let bound = BOUNDS.iter().find(|b| b.0 == name).unwrap().1;
            assert!(
                worst.0 <= bound,
                "{} {name}: {:e} at {:e}",
                k.path.name(),
                worst.0,
                worst.1
            );
        }
    }
}

/// A closure loop run through `vectorize_on` computes the scalar path's bits on every path
/// (branches become lane selects; division and square root round the same everywhere).
fn closure_loops<T: Elem>() {
    let mut rng = StdRng::seed_from_u64(11);
    for len in LENS.into_iter().chain([(1 << 17) + 3]) {
        let x: Vec<T> = random(&mut rng, len, -4.0, 4.0);
        let run = |path| {
            vectorize_on(path, || {
                x.iter()
                    .map(|&v| {
                        let leaky = if v > T::zero() { v } else { cast::<T>(0.2) * v };
                        leaky / (v.abs().sqrt() + T::one())
                    })
                    .collect::<Vec<T>>()
            })
        };
        let want = run(SimdPath::Scalar).expect("scalar is always supported");
        for path in supported_paths() {
            let got = run(path).expect("a supported path runs");
            assert_same(
                &got,
                &want,
                &format!("closure loop on {}, len {len}", path.name()),
            );
        }
        assert_eq!(
            vectorize_on(SimdPath::Neon, || ()).is_some(),
            SimdPath::Neon.is_supported()
        );
    }
}

#[test]
fn closure_loops_match_scalar_f32() {
    closure_loops::<f32>();
}

#[test]
fn closure_loops_match_scalar_f64() {
    closure_loops::<f64>();
}
