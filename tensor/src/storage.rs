//! Tensor storage and the per-thread cache of large buffers it returns to when dropped.
//!
//! A training step allocates and frees the same large buffers (activations, gradients,
//! samples) every batch. Through the system allocator each such buffer of more than a few
//! hundred kilobytes is a fresh memory mapping whose pages fault in on first write — at
//! several thousand faults per step this costs as much as the arithmetic. So a dropped
//! [`Storage`] of at least [`MIN_CACHED_BYTES`] keeps its vector in a cache of the dropping
//! thread (at most [`MAX_CACHED_BYTES`] per thread, oldest evicted first), and the tensor
//! kernels draw their outputs from it ([`zeroed`], [`stale`], [`with_capacity`]). A request takes the
//! smallest cached buffer that holds it and is at most twice its size. [`clear_cache`] hands
//! this thread's cached memory back to the system allocator.

use std::any::Any;
use std::cell::RefCell;
use std::ops::{Deref, DerefMut};

use crate::Element;

/// Buffers smaller than this many bytes are not cached (the allocator serves them cheaply).
pub const MIN_CACHED_BYTES: usize = 64 << 10;
/// Most bytes cached per thread.
pub const MAX_CACHED_BYTES: usize = 64 << 20;

thread_local! {
    /// This thread's free buffers (`Vec<f32>` or `Vec<f64>`), oldest first, and their bytes.
    static CACHE: RefCell<(Vec<Box<dyn Any>>, usize)> = const { RefCell::new((Vec::new(), 0)) };
}

/// The elements of a tensor: a vector that goes back to the buffer cache when dropped.
/// Dereferences to the `Vec<T>`.
#[derive(Debug, Default)]
pub struct Storage<T: Element>(Vec<T>);

impl<T: Element> Storage<T> {
    /// Storage owning `data`.
    pub fn new(data: Vec<T>) -> Self {
        Storage(data)
    }

    /// The vector, taken out of the storage (it bypasses the cache).
    pub fn into_vec(mut self) -> Vec<T> {
        std::mem::take(&mut self.0)
    }
}

impl<T: Element> Deref for Storage<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T: Element> DerefMut for Storage<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.0
    }
}

impl<T: Element> Drop for Storage<T> {
    fn drop(&mut self) {
        recycle(std::mem::take(&mut self.0));
    }
}

fn bytes<T>(capacity: usize) -> usize {
    capacity * size_of::<T>()
}

/// An empty vector with room for at least `len` elements, from this thread's cache when it
/// holds a fitting buffer.
pub fn with_capacity<T: Element>(len: usize) -> Vec<T> {
    let mut v = take(len);
    v.clear();
    v
}

/// A cached buffer of capacity in `[len, 2·len]` with its old contents, or a new empty one.
fn take<T: Element>(len: usize) -> Vec<T> {
    if bytes::<T>(len) < MIN_CACHED_BYTES {
        return Vec::with_capacity(len);
    }
    CACHE
        .try_with(|cache| {
            let (buffers, total) = &mut *cache.borrow_mut();
            let best = buffers
                .iter()
                .enumerate()
                .filter_map(|(i, b)| b.downcast_ref::<Vec<T>>().map(|v| (i, v.capacity())))
                .filter(|&(_, cap)| cap >= len && cap <= 2 * len)
                .min_by_key(|&(_, cap)| cap)
                .map(|(i, _)| i)?;
            let v = *buffers.remove(best).downcast::<Vec<T>>().ok()?;
            *total -= bytes::<T>(v.capacity());
            Some(v)
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| Vec::with_capacity(len))
}

/// `len` elements of unspecified value — stale results of an earlier tensor when the buffer
/// comes from this thread's cache (always initialised, but not zeroed), zeros otherwise — for
/// outputs the caller overwrites entirely, sparing the memset of [`zeroed`].
pub fn stale<T: Element>(len: usize) -> Vec<T> {
    let mut v = take(len);
    if v.len() >= len {
        v.truncate(len);
    } else {
        v.resize(len, T::zero());
    }
    v
}

/// `len` zeros, in a buffer from this thread's cache when it holds a fitting one.
pub fn zeroed<T: Element>(len: usize) -> Vec<T> {
    filled(len, T::zero())
}

/// `len` copies of `value`, in a buffer from this thread's cache when it holds a fitting one.
pub fn filled<T: Element>(len: usize, value: T) -> Vec<T> {
    let mut v = with_capacity(len);
    v.resize(len, value);
    v
}

/// Gives `v`'s memory to this thread's cache (large buffers) or back to the allocator.
pub fn recycle<T: Element>(v: Vec<T>) {
    let size = bytes::<T>(v.capacity());
    if !(MIN_CACHED_BYTES..=MAX_CACHED_BYTES / 4).contains(&size) {
        return;
    }
    // During thread teardown the cache may be gone; the vector is then simply freed.
    let _ = CACHE.try_with(|cache| {
        let (buffers, total) = &mut *cache.borrow_mut();
        while *total + size > MAX_CACHED_BYTES && !buffers.is_empty() {
            let old = buffers.remove(0);
            *total -= cached_bytes(old.as_ref());
        }
        buffers.push(Box::new(v));
        *total += size;
    });
}

/// Bytes held by a cached buffer.
fn cached_bytes(b: &dyn Any) -> usize {
    if let Some(v) = b.downcast_ref::<Vec<f32>>() {
        bytes::<f32>(v.capacity())
    } else if let Some(v) = b.downcast_ref::<Vec<f64>>() {
        bytes::<f64>(v.capacity())
    } else {
        0
    }
}

/// Bytes held in this thread's buffer cache.
pub fn cached() -> usize {
    CACHE.try_with(|c| c.borrow().1).unwrap_or(0)
}

/// Frees every buffer in this thread's cache.
pub fn clear_cache() {
    let _ = CACHE.try_with(|c| *c.borrow_mut() = (Vec::new(), 0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_large_storage_is_reused_and_small_ones_are_not_cached() {
        clear_cache();
        let n = MIN_CACHED_BYTES / 4 * 3;
        let v: Vec<f32> = zeroed(n);
        let ptr = v.as_ptr();
        drop(Storage::new(v));
        assert_eq!(cached(), bytes::<f32>(n));
        // Too small a request for this buffer (under half its size): not taken.
        let small: Vec<f32> = with_capacity(n / 3);
        assert_ne!(small.as_ptr(), ptr);
        // f64 requests never take f32 buffers.
        let other: Vec<f64> = zeroed(n / 2);
        assert_ne!(other.as_ptr() as *const f32, ptr);
        let again: Vec<f32> = zeroed(n - 5);
        assert_eq!(again.as_ptr(), ptr);
        assert!(again.iter().all(|&x| x == 0.0) && again.len() == n - 5);
        assert_eq!(cached(), 0);
        drop(Storage::new(vec![0f32; 8]));
        assert_eq!(cached(), 0);
        // A stale buffer keeps the old values it has and zero-fills the rest.
        let mut v = Vec::with_capacity(n);
        v.resize(n - 10, 7f32);
        recycle(v);
        let s: Vec<f32> = stale(n - 20);
        assert!(s.len() == n - 20 && s.iter().all(|&x| x == 7.0));
        recycle(s);
        let s: Vec<f32> = stale(n);
        assert_eq!((s[0], s[n - 21], s[n - 20], s[n - 1]), (7.0, 7.0, 0.0, 0.0));
        clear_cache();
    }

    #[test]
    fn the_cache_stays_under_its_budget() {
        clear_cache();
        let n = MAX_CACHED_BYTES / 4 / 4; // a quarter of the budget in f32s
        for _ in 0..10 {
            recycle(vec![1f32; n]);
        }
        assert!(cached() <= MAX_CACHED_BYTES);
        assert_eq!(cached(), 4 * bytes::<f32>(n));
        recycle(vec![1f32; 2 * n]); // over a quarter of the budget: freed, not cached
        assert_eq!(cached(), 4 * bytes::<f32>(n));
        clear_cache();
        assert_eq!(cached(), 0);
    }
}
