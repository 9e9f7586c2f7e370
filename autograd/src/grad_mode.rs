//! Turning graph recording off: [`no_grad`].

use std::cell::Cell;

thread_local! {
    static RECORDING: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops on this thread are currently recorded for `backward`.
pub fn is_recording() -> bool {
    RECORDING.with(Cell::get)
}

/// Runs `f` with recording off on this thread: every `Var` computed inside is a constant, so
/// evaluation costs nothing beyond the tensor ops and keeps no intermediates alive. Nests, and
/// restores the previous mode even if `f` panics.
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            RECORDING.with(|r| r.set(self.0));
        }
    }
    let _restore = Restore(RECORDING.with(|r| r.replace(false)));
    f()
}
