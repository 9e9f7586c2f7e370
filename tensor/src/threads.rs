//! The thread pool that large kernels split their work over.
//!
//! Kernels run on rayon's *current* pool. The global pool is sized once by the environment
//! variable `STRATA_NUM_THREADS` (default: every core); [`with_threads`] runs a closure on a pool
//! of a given size, which is how benchmarks and examples compare 1 and 2 threads in one process.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Builds rayon's global pool from `STRATA_NUM_THREADS` the first time it is called; later
/// calls do nothing. Called by every multi-threaded kernel before it asks for the pool size.
pub fn init() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        if let Some(n) = env_threads() {
            // Fails only if someone built the global pool before us; theirs then wins.
            let _ = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build_global();
        }
    });
}

fn env_threads() -> Option<usize> {
    let value = std::env::var("STRATA_NUM_THREADS").ok()?;
    match value.trim().parse::<usize>() {
        Ok(n) if n > 0 => Some(n),
        _ => panic!("STRATA_NUM_THREADS: expected a positive integer, found {value:?}"),
    }
}

/// Number of threads kernels may use here: the size of the pool this call runs in.
pub fn num_threads() -> usize {
    init();
    rayon::current_num_threads()
}

/// Runs `f` on a pool of `n` threads (pools are built once per size and kept).
///
/// # Panics
/// If `n == 0`.
pub fn with_threads<R: Send>(n: usize, f: impl FnOnce() -> R + Send) -> R {
    assert!(
        n > 0,
        "with_threads: the thread count must be positive, got 0"
    );
    static POOLS: OnceLock<Mutex<HashMap<usize, &'static rayon::ThreadPool>>> = OnceLock::new();
    let pool = {
        let mut pools = POOLS
            .get_or_init(Default::default)
            .lock()
            .expect("pool map poisoned");
        *pools.entry(n).or_insert_with(|| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .thread_name(move |i| format!("strata-{n}-{i}"))
                .build()
                .expect("building a thread pool");
            Box::leak(Box::new(pool))
        })
    };
    pool.install(f)
}
