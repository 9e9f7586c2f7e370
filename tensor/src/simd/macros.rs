//! Code generators of the elementwise kernels, written once over the vocabulary of
//! [`crate::simd::isa`] (`$v` names one vocabulary module, `$feat` its target features).
//!
//! The generated safe functions check slice lengths and then call their `#[target_feature]`
//! body in an `unsafe` block. That is sound because these functions are private to their path
//! and reachable only through the path's static table, which `kernels_f32_for` /
//! `kernels_f64_for` hand out only from inside a [`crate::simd::isa::PathVisitor`] method that
//! received the path's token (the CPU has every feature the body was compiled for).

/// A lanewise kernel `out[i] = f(a[i], b[i])` over three slices of one length.
macro_rules! zip_kernel {
    ($feat:literal, $t:ty, $v:ident, $(#[$doc:meta])* $name:ident, |$a:ident, $b:ident| $e:expr) => {
        $(#[$doc])*
        pub(super) fn $name(a: &[$t], b: &[$t], out: &mut [$t]) {
            assert!(
                a.len() == b.len() && b.len() == out.len(),
                "simd: slice lengths differ ({}, {}, {})",
                a.len(),
                b.len(),
                out.len()
            );
            // SAFETY: the table holding this fn is only handed out when the CPU supports the
            // path's target features (see the `macros` module doc); lengths checked above.
            unsafe { imp(a, b, out) }

            #[target_feature(enable = $feat)]
            fn imp(a: &[$t], b: &[$t], out: &mut [$t]) {
                let n = out.len();
                let (pa, pb, po) = (a.as_ptr(), b.as_ptr(), out.as_mut_ptr());
                let mut i = 0;
                while i + $v::LANES <= n {
                    // SAFETY: lanes i..i+W lie inside all three slices, which have length n.
                    unsafe {
                        let $a = $v::load(pa.add(i));
                        let $b = $v::load(pb.add(i));
                        $v::store(po.add(i), $e);
                    }
                    i += $v::LANES;
                }
                if i < n {
                    let m = $v::mask(n - i);
                    // SAFETY: only lanes i..n (in bounds) are touched by the masked accesses.
                    unsafe {
                        let $a = $v::load_masked(pa.add(i), m);
                        let $b = $v::load_masked(pb.add(i), m);
                        $v::store_masked(po.add(i), m, $e);
                    }
                }
            }
        }
    };
}

/// An in-place kernel `y[i] = f(y[i], x[i])` over two slices of one length.
macro_rules! update_kernel {
    ($feat:literal, $t:ty, $v:ident, $(#[$doc:meta])* $name:ident, |$y:ident, $x:ident| $e:expr) => {
        $(#[$doc])*
        pub(super) fn $name(y: &mut [$t], x: &[$t]) {
            assert_eq!(y.len(), x.len(), "simd: slice lengths differ");
            #[target_feature(enable = $feat)]
            fn imp(y: &mut [$t], x: &[$t]) {
                let n = y.len();
                let (py, px) = (y.as_mut_ptr(), x.as_ptr());
                let mut i = 0;
                while i + $v::LANES <= n {
                    // SAFETY: lanes i..i+W lie inside both slices, which have length n.
                    unsafe {
                        let $y = $v::load(py.add(i));
                        let $x = $v::load(px.add(i));
                        $v::store(py.add(i), $e);
                    }
                    i += $v::LANES;
                }
                if i < n {
                    let m = $v::mask(n - i);
                    // SAFETY: only lanes i..n (in bounds) are touched by the masked accesses.
                    unsafe {
                        let $y = $v::load_masked(py.add(i), m);
                        let $x = $v::load_masked(px.add(i), m);
                        $v::store_masked(py.add(i), m, $e);
                    }
                }
            }

            // SAFETY: see `zip_kernel!`; lengths checked above.
            unsafe { imp(y, x) }
        }
    };
}

/// A unary kernel `out[i] = f(x[i])` over two slices of one length.
macro_rules! map_kernel {
    ($feat:literal, $t:ty, $v:ident, $(#[$doc:meta])* $name:ident, |$x:ident| $e:expr) => {
        $(#[$doc])*
        pub(super) fn $name(x: &[$t], out: &mut [$t]) {
            assert_eq!(x.len(), out.len(), "simd: slice lengths differ");
            #[target_feature(enable = $feat)]
            fn imp(x: &[$t], out: &mut [$t]) {
                let n = out.len();
                let (px, po) = (x.as_ptr(), out.as_mut_ptr());
                let mut i = 0;
                while i + $v::LANES <= n {
                    // SAFETY: lanes i..i+W lie inside both slices, which have length n.
                    unsafe {
                        let $x = $v::load(px.add(i));
                        $v::store(po.add(i), $e);
                    }
                    i += $v::LANES;
                }
                if i < n {
                    let m = $v::mask(n - i);
                    // SAFETY: only lanes i..n (in bounds) are touched by the masked accesses.
                    unsafe {
                        let $x = $v::load_masked(px.add(i), m);
                        $v::store_masked(po.add(i), m, $e);
                    }
                }
            }

            // SAFETY: see `zip_kernel!`; lengths checked above.
            unsafe { imp(x, out) }
        }
    };
}

/// The arithmetic and reduction kernels of one path and element type: `add`, `sub`, `mul`,
/// `div`, `add_assign`, `mul_assign`, `axpy`, `scale`, `relu`, `sum`, `max`, `dot`.
///
/// Everything except `sum` and `dot` gives bit-for-bit the scalar table's results (the same
/// IEEE operations, `axpy` fused like `mul_add`). `sum` and `dot` keep four vector
/// accumulators, so they add in a different order than the scalar path.
macro_rules! arith_kernels {
    ($feat:literal, $t:ty, $v:ident) => {
        zip_kernel!($feat, $t, $v, add, |a, b| $v::add(a, b));
        zip_kernel!($feat, $t, $v, sub, |a, b| $v::sub(a, b));
        zip_kernel!($feat, $t, $v, mul, |a, b| $v::mul(a, b));
        zip_kernel!($feat, $t, $v, div, |a, b| $v::div(a, b));
        update_kernel!($feat, $t, $v, add_assign, |y, x| $v::add(y, x));
        update_kernel!($feat, $t, $v, mul_assign, |y, x| $v::mul(y, x));
        // x86 MAX returns its second operand unless the first is greater: NaN → 0, −0 → +0,
        // exactly the scalar `if x > 0 { x } else { 0 }`.
        map_kernel!($feat, $t, $v, relu, |x| $v::max(x, $v::zero()));

        /// `y += α·x`, one rounding per element (as `mul_add`).
        pub(super) fn axpy(alpha: $t, x: &[$t], y: &mut [$t]) {
            assert_eq!(y.len(), x.len(), "simd: slice lengths differ");
            #[target_feature(enable = $feat)]
            fn imp(alpha: $t, x: &[$t], y: &mut [$t]) {
                let n = y.len();
                let (px, py) = (x.as_ptr(), y.as_mut_ptr());
                let va = $v::splat(alpha);
                let mut i = 0;
                while i + $v::LANES <= n {
                    // SAFETY: lanes i..i+W lie inside both slices, which have length n.
                    unsafe {
                        let r = $v::fma(va, $v::load(px.add(i)), $v::load(py.add(i)));
                        $v::store(py.add(i), r);
                    }
                    i += $v::LANES;
                }
                if i < n {
                    let m = $v::mask(n - i);
                    // SAFETY: only lanes i..n (in bounds) are touched by the masked accesses.
                    unsafe {
                        let xv = $v::load_masked(px.add(i), m);
                        let yv = $v::load_masked(py.add(i), m);
                        $v::store_masked(py.add(i), m, $v::fma(va, xv, yv));
                    }
                }
            }

            // SAFETY: see `zip_kernel!`; lengths checked above.
            unsafe { imp(alpha, x, y) }
        }

        /// `y ·= α`.
        pub(super) fn scale(alpha: $t, y: &mut [$t]) {
            #[target_feature(enable = $feat)]
            fn imp(alpha: $t, y: &mut [$t]) {
                let n = y.len();
                let py = y.as_mut_ptr();
                let va = $v::splat(alpha);
                let mut i = 0;
                while i + $v::LANES <= n {
                    // SAFETY: lanes i..i+W lie inside the slice of length n.
                    unsafe { $v::store(py.add(i), $v::mul($v::load(py.add(i)), va)) };
                    i += $v::LANES;
                }
                if i < n {
                    let m = $v::mask(n - i);
                    // SAFETY: only lanes i..n (in bounds) are touched by the masked accesses.
                    unsafe {
                        let yv = $v::load_masked(py.add(i), m);
                        $v::store_masked(py.add(i), m, $v::mul(yv, va));
                    }
                }
            }

            // SAFETY: see `zip_kernel!`.
            unsafe { imp(alpha, y) }
        }

        /// `Σ x` with four vector accumulators (`0` when empty).
        pub(super) fn sum(x: &[$t]) -> $t {
            #[target_feature(enable = $feat)]
            fn imp(x: &[$t]) -> $t {
                let n = x.len();
                let p = x.as_ptr();
                let (mut s0, mut s1, mut s2, mut s3) =
                    ($v::zero(), $v::zero(), $v::zero(), $v::zero());
                let mut i = 0;
                while i + 4 * $v::LANES <= n {
                    // SAFETY: lanes i..i+4W lie inside the slice of length n.
                    unsafe {
                        s0 = $v::add(s0, $v::load(p.add(i)));
                        s1 = $v::add(s1, $v::load(p.add(i + $v::LANES)));
                        s2 = $v::add(s2, $v::load(p.add(i + 2 * $v::LANES)));
                        s3 = $v::add(s3, $v::load(p.add(i + 3 * $v::LANES)));
                    }
                    i += 4 * $v::LANES;
                }
                while i + $v::LANES <= n {
                    // SAFETY: lanes i..i+W lie inside the slice.
                    s0 = $v::add(s0, unsafe { $v::load(p.add(i)) });
                    i += $v::LANES;
                }
                if i < n {
                    let m = $v::mask(n - i);
                    // SAFETY: only lanes i..n (in bounds) are read.
                    s1 = $v::add(s1, unsafe { $v::load_masked(p.add(i), m) });
                }
                $v::hsum($v::add($v::add(s0, s1), $v::add(s2, s3)))
            }

            // SAFETY: see `zip_kernel!`.
            unsafe { imp(x) }
        }

        /// `max x`: `-∞` when empty, NaN (the first one, as the scalar path) if any is NaN.
        pub(super) fn max(x: &[$t]) -> $t {
            /// The maximum ignoring NaN, and whether a NaN was seen.
            #[target_feature(enable = $feat)]
            fn imp(x: &[$t]) -> ($t, bool) {
                let n = x.len();
                let p = x.as_ptr();
                let ninf = $v::splat(<$t>::NEG_INFINITY);
                let (mut m0, mut m1, mut m2, mut m3) = (ninf, ninf, ninf, ninf);
                let mut nan = $v::no_lanes();
                let mut i = 0;
                while i + 4 * $v::LANES <= n {
                    // SAFETY: lanes i..i+4W lie inside the slice of length n.
                    let (a, b, c, d) = unsafe {
                        (
                            $v::load(p.add(i)),
                            $v::load(p.add(i + $v::LANES)),
                            $v::load(p.add(i + 2 * $v::LANES)),
                            $v::load(p.add(i + 3 * $v::LANES)),
                        )
                    };
                    nan = $v::mask_or($v::mask_or(nan, $v::is_nan(a)), $v::is_nan(b));
                    nan = $v::mask_or($v::mask_or(nan, $v::is_nan(c)), $v::is_nan(d));
                    m0 = $v::max(a, m0);
                    m1 = $v::max(b, m1);
                    m2 = $v::max(c, m2);
                    m3 = $v::max(d, m3);
                    i += 4 * $v::LANES;
                }
                while i + $v::LANES <= n {
                    // SAFETY: lanes i..i+W lie inside the slice.
                    let a = unsafe { $v::load(p.add(i)) };
                    nan = $v::mask_or(nan, $v::is_nan(a));
                    m0 = $v::max(a, m0);
                    i += $v::LANES;
                }
                if i < n {
                    let m = $v::mask(n - i);
                    // SAFETY: only lanes i..n (in bounds) are read; the others read as −∞.
                    let a = unsafe { $v::load_masked_or(p.add(i), m, ninf) };
                    nan = $v::mask_or(nan, $v::is_nan(a));
                    m1 = $v::max(a, m1);
                }
                let m = $v::max($v::max(m0, m1), $v::max(m2, m3));
                ($v::hmax(m), $v::any(nan))
            }

            // SAFETY: see `zip_kernel!`.
            let (m, nan) = unsafe { imp(x) };
            if nan { crate::simd::scalar::max(x) } else { m }
        }

        /// `Σ a·b` with four fused multiply-add vector accumulators (`0` when empty).
        pub(super) fn dot(a: &[$t], b: &[$t]) -> $t {
            assert_eq!(
                a.len(),
                b.len(),
                "dot: lengths {} and {} differ",
                a.len(),
                b.len()
            );
            #[target_feature(enable = $feat)]
            fn imp(a: &[$t], b: &[$t]) -> $t {
                let n = a.len();
                let (pa, pb) = (a.as_ptr(), b.as_ptr());
                let (mut s0, mut s1, mut s2, mut s3) =
                    ($v::zero(), $v::zero(), $v::zero(), $v::zero());
                let mut i = 0;
                while i + 4 * $v::LANES <= n {
                    // SAFETY: lanes i..i+4W lie inside both slices, which have length n.
                    unsafe {
                        s0 = $v::fma($v::load(pa.add(i)), $v::load(pb.add(i)), s0);
                        let j = i + $v::LANES;
                        s1 = $v::fma($v::load(pa.add(j)), $v::load(pb.add(j)), s1);
                        let j = i + 2 * $v::LANES;
                        s2 = $v::fma($v::load(pa.add(j)), $v::load(pb.add(j)), s2);
                        let j = i + 3 * $v::LANES;
                        s3 = $v::fma($v::load(pa.add(j)), $v::load(pb.add(j)), s3);
                    }
                    i += 4 * $v::LANES;
                }
                while i + $v::LANES <= n {
                    // SAFETY: lanes i..i+W lie inside both slices.
                    unsafe { s0 = $v::fma($v::load(pa.add(i)), $v::load(pb.add(i)), s0) };
                    i += $v::LANES;
                }
                if i < n {
                    let m = $v::mask(n - i);
                    // SAFETY: only lanes i..n (in bounds) are read; the others read as 0.
                    unsafe {
                        let x = $v::load_masked(pa.add(i), m);
                        let y = $v::load_masked(pb.add(i), m);
                        s1 = $v::fma(x, y, s1);
                    }
                }
                $v::hsum($v::add($v::add(s0, s1), $v::add(s2, s3)))
            }

            // SAFETY: see `zip_kernel!`; lengths checked above.
            unsafe { imp(a, b) }
        }
    };
}
