//! Splitting elementwise work over the thread pool: large slices are cut into chunks run in
//! parallel, small ones stay on the calling thread (spawning costs more than it saves).

use rayon::prelude::*;

use crate::Element;

/// Below this many elements a kernel runs on one thread.
pub(crate) const PARALLEL_MIN: usize = 1 << 17;

/// Elements per parallel chunk (a multiple of every vector width).
const CHUNK: usize = 1 << 15;

fn parallel(n: usize) -> bool {
    n >= PARALLEL_MIN && crate::threads::num_threads() > 1
}

/// `out[i] = f(x[i])`, each chunk's loop compiled for the active SIMD path
/// ([`crate::simd::vectorize`]), so a closure `f` runs on the widest vectors the CPU has.
pub(crate) fn map_slice<T: Element>(x: &[T], f: &(impl Fn(T) -> T + Sync)) -> Vec<T> {
    let mut out = crate::storage::stale::<T>(x.len());
    let run = |o: &mut [T], x: &[T]| {
        crate::simd::vectorize(|| o.iter_mut().zip(x).for_each(|(o, &v)| *o = f(v)))
    };
    if parallel(x.len()) {
        out.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .for_each(|(o, x)| run(o, x));
    } else {
        run(&mut out, x);
    }
    out
}

/// `out[i] = f(a[i], b[i])` for slices of equal length, vectorised like [`map_slice`].
pub(crate) fn zip_map_slice<T: Element>(
    a: &[T],
    b: &[T],
    f: &(impl Fn(T, T) -> T + Sync),
) -> Vec<T> {
    debug_assert_eq!(a.len(), b.len());
    let mut out = crate::storage::stale::<T>(a.len());
    let run = |o: &mut [T], a: &[T], b: &[T]| {
        crate::simd::vectorize(|| {
            o.iter_mut()
                .zip(a.iter().zip(b))
                .for_each(|(o, (&u, &v))| *o = f(u, v))
        })
    };
    if parallel(a.len()) {
        out.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
            .for_each(|(o, (a, b))| run(o, a, b));
    } else {
        run(&mut out, a, b);
    }
    out
}

/// Runs a unary slice kernel `kernel(x, out)` into a new vector.
pub(crate) fn unary<T: Element>(x: &[T], kernel: fn(&[T], &mut [T])) -> Vec<T> {
    let mut out = crate::storage::stale::<T>(x.len());
    if parallel(x.len()) {
        out.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .for_each(|(o, x)| kernel(x, o));
    } else {
        kernel(x, &mut out);
    }
    out
}

/// Runs a binary slice kernel `kernel(a, b, out)` into a new vector.
pub(crate) fn binary<T: Element>(a: &[T], b: &[T], kernel: fn(&[T], &[T], &mut [T])) -> Vec<T> {
    let mut out = crate::storage::stale::<T>(a.len());
    if parallel(a.len()) {
        out.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
            .for_each(|(o, (a, b))| kernel(a, b, o));
    } else {
        kernel(a, b, &mut out);
    }
    out
}

/// Runs an in-place kernel `kernel(y, x)` (`y ∘= x`).
pub(crate) fn inplace<T: Element>(y: &mut [T], x: &[T], kernel: impl Fn(&mut [T], &[T]) + Sync) {
    if parallel(y.len()) {
        y.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .for_each(|(y, x)| kernel(y, x));
    } else {
        kernel(y, x);
    }
}
