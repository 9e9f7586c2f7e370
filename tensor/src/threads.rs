//! The thread pool that large kernels split their work over.
//!
//! Kernels run on rayon's *current* pool. The global pool is sized once by the environment
//! variable `STRATA_NUM_THREADS` (default: every core); [`with_threads`] runs a closure on a pool
//! of a given size, which is how benchmarks and examples compare 1 and 2 threads in one process.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

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

/// The most threads a pool may have: four per core (more only adds switching, and a typo such
/// as 100000 would otherwise spend minutes creating threads).
pub fn max_threads() -> usize {
    4 * std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `STRATA_NUM_THREADS`, if set to a usable value. A value that is not a positive integer, or
/// above [`max_threads`], is reported once as a `log` warning and ignored (the default pool is
/// used).
fn env_threads() -> Option<usize> {
    let value = std::env::var("STRATA_NUM_THREADS").ok()?;
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=max_threads()).contains(&n) => Some(n),
        _ => {
            log::warn!(
                "STRATA_NUM_THREADS={value:?} is not a thread count in 1..={}; using the default pool",
                max_threads()
            );
            None
        }
    }
}

/// Number of threads kernels may use here: the size of the pool this call runs in.
pub fn num_threads() -> usize {
    init();
    rayon::current_num_threads()
}

/// Why a pool of threads could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot run on {threads} threads: {reason}")]
pub struct ThreadPoolError {
    /// The threads asked for.
    pub threads: usize,
    /// Why: out of range, or the operating system refused to start them.
    pub reason: String,
}

/// Runs `f` on a pool of `n` threads, or says why no such pool can be built: `n` outside
/// `1..=`[`max_threads`], or threads the operating system would not start.
///
/// Each calling thread has pools of its own (built on first use for each size and kept until
/// the thread ends), so callers on different threads never queue on one pool: two search
/// workers each running `with_threads(1, …)` run on two threads at once.
///
/// # Errors
/// [`ThreadPoolError`] naming the count and the reason; `f` did not run.
pub fn try_with_threads<R: Send>(
    n: usize,
    f: impl FnOnce() -> R + Send,
) -> Result<R, ThreadPoolError> {
    if !(1..=max_threads()).contains(&n) {
        return Err(ThreadPoolError {
            threads: n,
            reason: format!("the count must be in 1..={} (four per core)", max_threads()),
        });
    }
    if rayon::current_thread_index().is_some() && rayon::current_num_threads() == n {
        // Already on a pool of `n` threads (a nested call): stay on it.
        return Ok(f());
    }
    thread_local! {
        static POOLS: RefCell<HashMap<usize, Rc<rayon::ThreadPool>>> = RefCell::default();
    }
    let cached = POOLS.with(|pools| pools.borrow().get(&n).cloned());
    let pool = match cached {
        Some(pool) => pool,
        None => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .thread_name(move |i| format!("strata-{n}-{i}"))
                .build()
                .map_err(|e| ThreadPoolError {
                    threads: n,
                    reason: e.to_string(),
                })?;
            let pool = Rc::new(pool);
            POOLS.with(|pools| pools.borrow_mut().insert(n, pool.clone()));
            pool
        }
    };
    // No borrow of `POOLS` is held while `f` runs: a caller that is itself a rayon worker may
    // run other jobs of its own pool while it waits, and those may call this again.
    Ok(pool.install(f))
}

/// Runs `f` on a pool of `n` threads (each calling thread's own, built once per size and
/// kept; see [`try_with_threads`]).
///
/// # Panics
/// If the pool cannot be built (see [`try_with_threads`], which returns the error instead).
pub fn with_threads<R: Send>(n: usize, f: impl FnOnce() -> R + Send) -> R {
    try_with_threads(n, f).unwrap_or_else(|e| panic!("with_threads: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts outside 1..=max_threads() are errors naming the count, not panics or hangs.
    #[test]
    fn impossible_pools_are_errors() {
        for n in [0, max_threads() + 1, 100_000] {
            let err = try_with_threads(n, || ()).unwrap_err();
            assert_eq!(err.threads, n);
            assert!(err.to_string().contains(&n.to_string()), "{err}");
        }
        assert_eq!(try_with_threads(1, num_threads), Ok(1));
    }

    /// Two threads each asking for one thread run at the same time (each on a pool of its
    /// own), where one shared pool would run them one after the other: each waits up to 10 s
    /// to see the other inside.
    #[test]
    fn callers_on_different_threads_do_not_share_a_pool() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::{Duration, Instant};
        let inside = AtomicUsize::new(0);
        let meet = || {
            with_threads(1, || {
                inside.fetch_add(1, Ordering::SeqCst);
                let start = Instant::now();
                while inside.load(Ordering::SeqCst) < 2 && start.elapsed() < Duration::from_secs(10)
                {
                    std::thread::yield_now();
                }
                inside.load(Ordering::SeqCst)
            })
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(meet);
            let b = s.spawn(meet);
            (a.join().unwrap(), b.join().unwrap())
        });
        assert_eq!((a, b), (2, 2), "the two calls did not run at once");
    }

    /// A call inside a pool of the size asked for stays on it (no pool within the pool).
    #[test]
    fn nested_calls_of_the_same_size_stay_on_the_pool() {
        let (outer, inner) = with_threads(2, || {
            let outer = std::thread::current().id();
            let inner = with_threads(2, || std::thread::current().id());
            (outer, inner)
        });
        assert_eq!(outer, inner);
        assert_eq!(with_threads(2, || with_threads(2, num_threads)), 2);
        assert_eq!(with_threads(2, || with_threads(1, num_threads)), 1);
    }
}
