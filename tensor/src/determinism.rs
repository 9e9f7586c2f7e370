//! What is bit-identical between runs, and the switch that makes it so across thread counts.
//!
//! # What Strata guarantees
//!
//! | runs that differ only in …                         | results                          |
//! |----------------------------------------------------|----------------------------------|
//! | nothing (same binary, machine, seed, thread count) | bit-identical                    |
//! | the thread count (`--threads`, `STRATA_NUM_THREADS`) | bit-identical with [`set_fixed_order_reductions`]`(true)`; otherwise they may differ in the last bits, and after training, in the last digits of the metrics |
//! | the SIMD path (`STRATA_SIMD=avx512/avx2/scalar`)    | differ in the last bits          |
//! | the CPU, with the same SIMD path                    | bit-identical (kernels and blocking are chosen per path, not per cache size) |
//! | the number of MPI ranks                             | differ (each rank's batch share and the all-reduce order change the sums) |
//!
//! Every random draw (initialisation, shuffling, dropout) comes from seeded streams, and no
//! kernel adds with atomics, so a run repeats itself exactly. A run on more threads differs
//! because kernels cut their work into as many parts as there are threads: a convolution's
//! weight gradient sums the images of the batch in per-thread partial sums, the fused recurrent
//! layers split the batch into chunks whose weight gradients are added, and the tiles a matrix
//! product or convolution picks (and with them which kernel sums a row, in which order) depend
//! on the split. With fixed-order reductions on, every kernel that shares its work out cuts it
//! into [`FIXED_PARTS`] parts whatever the thread count (fewer for small work) and adds partial
//! sums in order, so every sum is the same on any number of threads. Between SIMD paths the
//! lane count changes the order of every long sum, so no switch makes those agree.
//!
//! The cost: on one thread the work runs as [`FIXED_PARTS`] parts (a few more partial sums to
//! add, smaller tiles); above [`FIXED_PARTS`] threads the split kernels use no more than that
//! many. `cargo xtask bench` has no figure for it; the CHANGELOG gives the measured LeNet-5
//! epoch times.
//!
//! ```
//! use strata_tensor::determinism;
//! determinism::set_fixed_order_reductions(true);
//! assert!(determinism::fixed_order_reductions());
//! determinism::set_fixed_order_reductions(false);
//! ```

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

/// Parts a split reduction is cut into under fixed-order reductions (whatever the thread count).
pub const FIXED_PARTS: usize = 4;

static FIXED_ORDER: AtomicBool = AtomicBool::new(false);
static FROM_ENV: Once = Once::new();

/// Reads `STRATA_FIXED_ORDER` once: `1` or `true` turns fixed-order reductions on.
fn init_from_env() {
    FROM_ENV.call_once(|| {
        let on = std::env::var("STRATA_FIXED_ORDER")
            .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "TRUE" | "True"));
        if on {
            FIXED_ORDER.store(true, Ordering::Relaxed);
        }
    });
}

/// Turns fixed-order reductions on or off for the whole process (see the [module
/// docs](self)): with them on, results are bit-identical for any thread count. The environment
/// variable `STRATA_FIXED_ORDER=1` turns them on at start-up.
pub fn set_fixed_order_reductions(on: bool) {
    init_from_env();
    FIXED_ORDER.store(on, Ordering::Relaxed);
}

/// Whether fixed-order reductions are on (see [`set_fixed_order_reductions`]).
pub fn fixed_order_reductions() -> bool {
    init_from_env();
    FIXED_ORDER.load(Ordering::Relaxed)
}

/// How many parts a kernel cuts its work into: 1 if the work is too small to share out
/// (`large == false`), else [`FIXED_PARTS`] under fixed-order reductions, else the thread count.
/// The parts then run on however many threads the pool has.
pub(crate) fn work_split(large: bool) -> usize {
    if !large {
        1
    } else if fixed_order_reductions() {
        FIXED_PARTS
    } else {
        crate::threads::num_threads()
    }
}

/// `parts[0] + parts[1] + …`, added in that order (an empty list gives an empty vector).
pub(crate) fn sum_in_order<T: crate::Element>(parts: Vec<Vec<T>>) -> Vec<T> {
    let add = T::kernels().add_assign;
    let mut parts = parts.into_iter();
    let mut total = parts.next().unwrap_or_default();
    for part in parts {
        add(&mut total, &part);
    }
    total
}
