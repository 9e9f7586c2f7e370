//! The portable kernels: plain loops the compiler vectorises for the baseline target.
//!
//! This table is the reference every SIMD path is tested against. Its transcendentals call the
//! platform `libm` (`expf`/`exp`, `tanhf`/`tanh`), correctly rounded or within one ulp.

use super::{Kernels, SimdPath};
use crate::Element;

pub(super) fn table<T: Element>() -> Kernels<T> {
    Kernels {
        path: SimdPath::Scalar,
        add: |a, b, out| zip2(a, b, out, |x, y| x + y),
        sub: |a, b, out| zip2(a, b, out, |x, y| x - y),
        mul: |a, b, out| zip2(a, b, out, |x, y| x * y),
        div: |a, b, out| zip2(a, b, out, |x, y| x / y),
        add_assign: |y, x| update(y, x, |y, x| y + x),
        mul_assign: |y, x| update(y, x, |y, x| y * x),
        axpy: |alpha, x, y| update(y, x, |y, x| alpha.mul_add(x, y)),
        scale: |alpha, y| y.iter_mut().for_each(|y| *y = *y * alpha),
        exp: exp::<T>,
        tanh: tanh::<T>,
        sigmoid: sigmoid_slice::<T>,
        relu: |x, out| map(x, out, |v| if v > T::zero() { v } else { T::zero() }),
        sum,
        max,
        dot: |a, b| {
            assert_eq!(
                a.len(),
                b.len(),
                "dot: lengths {} and {} differ",
                a.len(),
                b.len()
            );
            a.iter()
                .zip(b)
                .fold(T::zero(), |acc, (&x, &y)| x.mul_add(y, acc))
        },
    }
}

/// `out = eˣ` through `libm`; also the `f64` entry of the SIMD tables.
pub(super) fn exp<T: Element>(x: &[T], out: &mut [T]) {
    map(x, out, T::exp);
}

/// `out = tanh x` through `libm`; also the `f64` entry of the SIMD tables.
pub(super) fn tanh<T: Element>(x: &[T], out: &mut [T]) {
    map(x, out, T::tanh);
}

/// `out = 1 / (1 + e⁻ˣ)` with [`sigmoid`]; also the `f64` entry of the SIMD tables.
pub(super) fn sigmoid_slice<T: Element>(x: &[T], out: &mut [T]) {
    map(x, out, sigmoid);
}

/// `1 / (1 + e⁻ˣ)`, written so that neither branch overflows.
#[inline]
pub(crate) fn sigmoid<T: Element>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

#[inline]
fn zip2<T: Copy>(a: &[T], b: &[T], out: &mut [T], f: impl Fn(T, T) -> T) {
    assert!(
        a.len() == b.len() && b.len() == out.len(),
        "simd: slice lengths differ"
    );
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

#[inline]
fn update<T: Copy>(y: &mut [T], x: &[T], f: impl Fn(T, T) -> T) {
    assert_eq!(y.len(), x.len(), "simd: slice lengths differ");
    for (y, &x) in y.iter_mut().zip(x) {
        *y = f(*y, x);
    }
}

#[inline]
fn map<T: Copy>(x: &[T], out: &mut [T], f: impl Fn(T) -> T) {
    assert_eq!(x.len(), out.len(), "simd: slice lengths differ");
    for (o, &v) in out.iter_mut().zip(x) {
        *o = f(v);
    }
}

/// Pairwise-blocked sum: eight independent accumulators keep rounding error and latency low.
fn sum<T: Element>(x: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let chunks = x.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] = acc[i] + c[i];
        }
    }
    let mut total = acc.iter().fold(T::zero(), |s, &v| s + v);
    for &v in tail {
        total = total + v;
    }
    total
}

/// `max x`: `-∞` when empty; the first NaN if there is one. The SIMD paths call this to
/// report the NaN once their vector scan has seen one.
pub(super) fn max<T: Element>(x: &[T]) -> T {
    let mut m = T::neg_infinity();
    for &v in x {
        if v.is_nan() {
            return v;
        }
        if v > m {
            m = v;
        }
    }
    m
}
