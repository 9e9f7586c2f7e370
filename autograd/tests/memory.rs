//! The graph and its intermediates are freed after `backward`: 1,000 training steps of a small
//! MLP leave the live heap exactly where it was after the first few.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::{CrossEntropyOptions, Param, Var};
use strata_tensor::Tensor;

/// The system allocator, counting live bytes allocated by the thread under test (the test
/// harness's own threads allocate now and then and must not count). The model here is small
/// enough that every kernel runs on the calling thread.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    static TRACKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn tracked() -> bool {
    TRACKED.try_with(|t| t.get()).unwrap_or(false)
}

// SAFETY: every call is forwarded unchanged to the system allocator, which upholds the
// `GlobalAlloc` contract; the counter only observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if tracked() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if tracked() {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn a_thousand_steps_leave_memory_flat() {
    TRACKED.with(|t| t.set(true));
    let mut rng = StdRng::seed_from_u64(0);
    let mut w1 = Param::new(Tensor::<f32>::rand_normal(&[32, 20], 0.0, 0.1, &mut rng));
    let mut w2 = Param::new(Tensor::<f32>::rand_normal(&[4, 32], 0.0, 0.1, &mut rng));
    let x = Var::constant(Tensor::<f32>::rand_normal(&[16, 20], 0.0, 1.0, &mut rng));
    let targets: Vec<usize> = (0..16).map(|i| i % 4).collect();
    let step = |w1: &mut Param, w2: &mut Param| {
        let loss = x
            .linear(&w1.var(), None)
            .relu()
            .linear(&w2.var(), None)
            .cross_entropy(&targets, &CrossEntropyOptions::default());
        let grads = loss.backward();
        let (g1, g2) = (
            grads.get(w1).unwrap().clone(),
            grads.get(w2).unwrap().clone(),
        );
        drop(grads);
        drop(loss);
        w1.value_mut().axpy_(-0.1, &g1);
        w2.value_mut().axpy_(-0.1, &g2);
    };
    for _ in 0..10 {
        step(&mut w1, &mut w2);
    }
    // Live bytes after every 100 steps: a leak of even one small allocation per step would
    // show as steady growth; a flat graph's heap returns to the same figure.
    let mut samples = Vec::with_capacity(10);
    for _ in 0..10 {
        for _ in 0..STEPS {
            step(&mut w1, &mut w2);
        }
        samples.push(LIVE.load(Ordering::Relaxed));
    }
    assert!(
        samples.iter().all(|&s| s == samples[0]),
        "live heap moved between samples: {samples:?}"
    );
}

const STEPS: usize = 100;
