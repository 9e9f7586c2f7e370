//! [`Watchdog`]: stops a job whose collective operation waits too long, instead of letting it
//! hang forever when another rank has died or hung.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The exit status of a rank stopped by the watchdog (`EX_TEMPFAIL`: a later run can
/// resume from the last checkpoint).
pub const TIMEOUT_EXIT_CODE: i32 = 75;

/// What runs when a collective has waited longer than the timeout: given the message, it
/// ends the process (or, in tests, records the message).
pub type Expiry = Box<dyn Fn(String) + Send + Sync>;

/// The collective in progress on this rank.
struct Pending {
    op: &'static str,
    sequence: u64,
    start: Instant,
}

struct Shared {
    pending: Mutex<Option<Pending>>,
    stop: AtomicBool,
}

/// A background thread that watches this rank's collective operations: when one has waited
/// more than `timeout`, it calls the expiry action with a message naming the rank, the
/// operation and how long it waited (by default it logs the message and ends the process,
/// which makes `mpirun` stop every rank).
pub struct Watchdog {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    sequence: AtomicU64,
}

/// Marks a collective in progress; dropping it marks the collective done.
pub struct Guard<'a> {
    watchdog: &'a Watchdog,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if let Ok(mut p) = self.watchdog.shared.pending.lock() {
            *p = None;
        }
    }
}

impl Watchdog {
    /// Watches rank `rank` of `size` with `timeout`; on expiry logs the message as a `log`
    /// error and ends the process with [`TIMEOUT_EXIT_CODE`], which makes `mpirun` stop the
    /// job. Without a logger taking errors the message goes to stderr instead: the process
    /// ends right after, and the message is the only account of why.
    pub fn new(rank: usize, size: usize, timeout: Duration) -> Self {
        Self::with_expiry(
            rank,
            size,
            timeout,
            Box::new(|message| {
                if log::log_enabled!(log::Level::Error) {
                    log::error!("{message}");
                } else {
                    eprintln!("{message}");
                }
                std::process::exit(TIMEOUT_EXIT_CODE);
            }),
        )
    }

    /// As [`Watchdog::new`] with another expiry action (tests record the message).
    pub fn with_expiry(rank: usize, size: usize, timeout: Duration, expiry: Expiry) -> Self {
        let shared = Arc::new(Shared {
            pending: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let watched = Arc::clone(&shared);
        let tick = (timeout / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let thread = std::thread::Builder::new()
            .name("strata-watchdog".into())
            .spawn(move || {
                while !watched.stop.load(Ordering::Relaxed) {
                    std::thread::park_timeout(tick);
                    let expired = watched.pending.lock().ok().and_then(|mut p| {
                        let late = p.as_ref().is_some_and(|p| p.start.elapsed() > timeout);
                        if late { p.take() } else { None }
                    });
                    if let Some(p) = expired {
                        expiry(format!(
                            "strata-distributed: rank {rank} of {size} waited {:.1} s in {} #{} \
                             for the other ranks, longer than the {:.1} s timeout: another rank \
                             died or hung (the launcher names a rank that died). Stopping the \
                             job; the last checkpoint is intact.",
                            p.start.elapsed().as_secs_f64(),
                            p.op,
                            p.sequence,
                            timeout.as_secs_f64()
                        ));
                    }
                }
            })
            .expect("strata-distributed: cannot spawn the watchdog thread");
        Watchdog {
            shared,
            thread: Some(thread),
            sequence: AtomicU64::new(0),
        }
    }

    /// Marks the start of collective `op` (`"all-reduce"`); the returned guard marks its end.
    pub fn watch(&self, op: &'static str) -> Guard<'_> {
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(mut p) = self.shared.pending.lock() {
            *p = Some(Pending {
                op,
                sequence,
                start: Instant::now(),
            });
        }
        Guard { watchdog: self }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_collective_fires_with_a_message_naming_the_rank_and_a_prompt_one_does_not() {
        let fired = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&fired);
        let dog = Watchdog::with_expiry(
            1,
            4,
            Duration::from_millis(100),
            Box::new(move |m| record.lock().unwrap().push(m)),
        );
        drop(dog.watch("barrier"));
        std::thread::sleep(Duration::from_millis(250));
        assert!(
            fired.lock().unwrap().is_empty(),
            "a finished collective never fires"
        );
        let guard = dog.watch("all-reduce");
        std::thread::sleep(Duration::from_millis(400));
        drop(guard);
        let messages = fired.lock().unwrap().clone();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("rank 1 of 4") && messages[0].contains("all-reduce #2"),
            "{}",
            messages[0]
        );
    }
}
