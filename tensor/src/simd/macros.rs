//! Code generators shared by the x86_64 SIMD paths.
//!
//! A path describes each element type by a module of vector helpers (`v32`, `v64`), every one
//! `#[inline]` and compiled with the path's target features, with these names:
//!
//! | item | meaning |
//! | --- | --- |
//! | `V`, `W` | the vector type and its number of lanes |
//! | `zero()`, `splat(x)` | broadcasts |
//! | `load(p)`, `store(p, v)` | unaligned `W`-lane load/store (`unsafe`: `p..p+W` in bounds) |
//! | `load_part(p, n, fill)`, `store_part(p, n, v)` | masked: lanes `0..n` (`0 < n < W`) touch memory, the others read as `fill` / are left alone (`unsafe`: `p..p+n` in bounds) |
//! | `add sub mul div` | lanewise IEEE arithmetic |
//! | `fmadd(a, b, c)` | `a·b + c` with one rounding |
//! | `max(a, b)` | x86 `MAX`: `a > b ? a : b` (so `b` when either is NaN) |
//! | `NanAcc`, `nan_none()`, `nan_or(acc, v)`, `nan_any(acc)` | sticky "some lane was NaN" flag |
//! | `hsum(v)`, `hmax(v)` | horizontal sum / maximum (no NaN) |
//!
//! The generated safe functions check slice lengths and then call their `#[target_feature]`
//! body in an `unsafe` block. That is sound because these functions are private to their path
//! and reachable only through the path's static table, which `kernels_f32_for` /
//! `kernels_f64_for` hand out only after `SimdPath::is_supported` has confirmed at run time
//! that the CPU has every feature the body was compiled for.

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
                while i + $v::W <= n {
                    // SAFETY: lanes i..i+W lie inside all three slices, which have length n.
                    unsafe {
                        let $a = $v::load(pa.add(i));
                        let $b = $v::load(pb.add(i));
                        $v::store(po.add(i), $e);
                    }
                    i += $v::W;
                }
                if i < n {
                    // SAFETY: only lanes i..n (in bounds) are touched by the masked accesses.
                    unsafe {
                        let $a = $v::load_part(pa.add(i), n - i, $v::zero());
                        let $b = $v::load_part(pb.add(i), n - i, $v::zero());
                        $v::store_part(po.add(i), n - i, $e);
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
                while i + $v::W <= n {
                    // SAFETY: lanes i..i+W lie inside both slices, which have length n.
                    unsafe {
                        let $y = $v::load(py.add(i));
                        let $x = $v::load(px.add(i));
                        $v::store(py.add(i), $e);
                    }
                    i += $v::W;
                }
                if i < n {
                    // SAFETY: only lanes i..n (in bounds) are touched by the masked accesses.
                    unsafe {
                        let $y = $v::load_part(py.add(i), n - i, $v::zero());
                        let $x = $v::load_part(px.add(i), n - i, $v::zero());
                        $v::store_part(py.add(i), n - i, $e);
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
                while i + $v::W <= n {
                    // SAFETY: lanes i..i+W lie inside both slices, which have length n.
                    unsafe {
                        let $x = $v::load(px.add(i));
                        $v::store(po.add(i), $e);
                    }
                    i += $v::W;
                }
                if i < n {
                    // SAFETY: only lanes i..n (in bounds) are touched by the masked accesses.
                    unsafe {
                        let $x = $v::load_part(px.add(i), n - i, $v::zero());
                        $v::store_part(po.add(i), n - i, $e);
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
                while i + $v::W <= n {
                    // SAFETY: lanes i..i+W lie inside both slices, which have length n.
                    unsafe {
                        let r = $v::fmadd(va, $v::load(px.add(i)), $v::load(py.add(i)));
                        $v::store(py.add(i), r);
                    }
                    i += $v::W;
                }
                if i < n {
                    // SAFETY: only lanes i..n (in bounds) are touched by the masked accesses.
                    unsafe {
                        let xv = $v::load_part(px.add(i), n - i, $v::zero());
                        let yv = $v::load_part(py.add(i), n - i, $v::zero());
                        $v::store_part(py.add(i), n - i, $v::fmadd(va, xv, yv));
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
                while i + $v::W <= n {
                    // SAFETY: lanes i..i+W lie inside the slice of length n.
                    unsafe { $v::store(py.add(i), $v::mul($v::load(py.add(i)), va)) };
                    i += $v::W;
                }
                if i < n {
                    // SAFETY: only lanes i..n (in bounds) are touched by the masked accesses.
                    unsafe {
                        let yv = $v::load_part(py.add(i), n - i, $v::zero());
                        $v::store_part(py.add(i), n - i, $v::mul(yv, va));
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
                while i + 4 * $v::W <= n {
                    // SAFETY: lanes i..i+4W lie inside the slice of length n.
                    unsafe {
                        s0 = $v::add(s0, $v::load(p.add(i)));
                        s1 = $v::add(s1, $v::load(p.add(i + $v::W)));
                        s2 = $v::add(s2, $v::load(p.add(i + 2 * $v::W)));
                        s3 = $v::add(s3, $v::load(p.add(i + 3 * $v::W)));
                    }
                    i += 4 * $v::W;
                }
                while i + $v::W <= n {
                    // SAFETY: lanes i..i+W lie inside the slice.
                    s0 = $v::add(s0, unsafe { $v::load(p.add(i)) });
                    i += $v::W;
                }
                if i < n {
                    // SAFETY: only lanes i..n (in bounds) are read.
                    s1 = $v::add(s1, unsafe { $v::load_part(p.add(i), n - i, $v::zero()) });
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
                let mut nan = $v::nan_none();
                let mut i = 0;
                while i + 4 * $v::W <= n {
                    // SAFETY: lanes i..i+4W lie inside the slice of length n.
                    let (a, b, c, d) = unsafe {
                        (
                            $v::load(p.add(i)),
                            $v::load(p.add(i + $v::W)),
                            $v::load(p.add(i + 2 * $v::W)),
                            $v::load(p.add(i + 3 * $v::W)),
                        )
                    };
                    nan = $v::nan_or($v::nan_or(nan, a), b);
                    nan = $v::nan_or($v::nan_or(nan, c), d);
                    m0 = $v::max(a, m0);
                    m1 = $v::max(b, m1);
                    m2 = $v::max(c, m2);
                    m3 = $v::max(d, m3);
                    i += 4 * $v::W;
                }
                while i + $v::W <= n {
                    // SAFETY: lanes i..i+W lie inside the slice.
                    let a = unsafe { $v::load(p.add(i)) };
                    nan = $v::nan_or(nan, a);
                    m0 = $v::max(a, m0);
                    i += $v::W;
                }
                if i < n {
                    // SAFETY: only lanes i..n (in bounds) are read; the others read as −∞.
                    let a = unsafe { $v::load_part(p.add(i), n - i, ninf) };
                    nan = $v::nan_or(nan, a);
                    m1 = $v::max(a, m1);
                }
                let m = $v::max($v::max(m0, m1), $v::max(m2, m3));
                ($v::hmax(m), $v::nan_any(nan))
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
                while i + 4 * $v::W <= n {
                    // SAFETY: lanes i..i+4W lie inside both slices, which have length n.
                    unsafe {
                        s0 = $v::fmadd($v::load(pa.add(i)), $v::load(pb.add(i)), s0);
                        let j = i + $v::W;
                        s1 = $v::fmadd($v::load(pa.add(j)), $v::load(pb.add(j)), s1);
                        let j = i + 2 * $v::W;
                        s2 = $v::fmadd($v::load(pa.add(j)), $v::load(pb.add(j)), s2);
                        let j = i + 3 * $v::W;
                        s3 = $v::fmadd($v::load(pa.add(j)), $v::load(pb.add(j)), s3);
                    }
                    i += 4 * $v::W;
                }
                while i + $v::W <= n {
                    // SAFETY: lanes i..i+W lie inside both slices.
                    unsafe { s0 = $v::fmadd($v::load(pa.add(i)), $v::load(pb.add(i)), s0) };
                    i += $v::W;
                }
                if i < n {
                    // SAFETY: only lanes i..n (in bounds) are read; the others read as 0.
                    unsafe {
                        let x = $v::load_part(pa.add(i), n - i, $v::zero());
                        let y = $v::load_part(pb.add(i), n - i, $v::zero());
                        s1 = $v::fmadd(x, y, s1);
                    }
                }
                $v::hsum($v::add($v::add(s0, s1), $v::add(s2, s3)))
            }

            // SAFETY: see `zip_kernel!`; lengths checked above.
            unsafe { imp(a, b) }
        }
    };
}
