//! The cache-blocked GEMM driver shared by the SIMD paths (Goto/BLIS loop nest).
//!
//! ```text
//! for jc in 0..n step NC                    panel of B columns
//!   for pc in 0..k step KC                  one rank-KC update of C
//!     pack B[pc.., jc..] → B̃ (KC × NC)      slivers of NR columns, shared by all threads
//!     for ir in 0..m step MR                ─┐ work items, spread over the rayon pool
//!       pack A[ir.., pc..] → Ã (MR × KC)     │ the A sliver, hot in L1 for the whole jr loop
//!       for jr in 0..NC step NR             ─┘ (with threads, also split into column groups)
//!         micro-kernel: C[ir.., jc+jr..] ← α·Ã·B̃_jr + β'·C   (β' = β for pc = 0, else 1)
//! ```
//!
//! The kernel's vectors run along the rows of `C`, so `C` is made row-contiguous first: a `C`
//! with unit row stride is handled as `Cᵀ = Bᵀ·Aᵀ` (a swap of operands and strides, no copy).
//! Packing is skipped where it would not pay for itself: `A` is read in place when `n` is small
//! (each sliver meets few `B` slivers), `B` when its rows are contiguous and either close
//! together or read by a single row sliver of `A`. The
//! `x·Wᵀ` layout (rows of `A` and columns of `B` contiguous) with a short side or a long `k`
//! goes to the inner-product kernels instead, which need no packing at all.
//!
//! Threads: products of at least [`PARALLEL_MIN_FLOPS`] run on every thread of the current
//! rayon pool ([`crate::threads`]); smaller ones stay on the calling thread. Each `B` panel is
//! packed once, in parallel, then the work items (an `A` sliver against a group of `B`
//! slivers, about four items per thread at least) are taken by work stealing, so a core that
//! is slowed down does less of the work. Items write disjoint tiles of `C`; each packs its
//! `A` sliver into its own thread's buffer.

use std::cell::{Cell, RefCell};

use num_traits::Float;
use rayon::prelude::*;

use super::kernel::{KernelSet, Tile};
use super::mat::{MatMut, MatRef};
use super::pack::{pack_a, pack_b};

/// Products below this many floating-point operations (`2·m·n·k`) stay on one thread. Measured
/// on two cores: from about 80³ (1 MFLOP) splitting beats one thread by half, while at 48³ the
/// pool's wake-up cost eats the gain.
pub(crate) const PARALLEL_MIN_FLOPS: usize = 1 << 20;

/// The element types of the SIMD paths.
pub(crate) trait GemmElem: Float + Send + Sync + 'static {}
impl GemmElem for f32 {}
impl GemmElem for f64 {}

/// A raw pointer that may cross to another rayon thread (the ranges handed out are disjoint).
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: used only to pass disjoint sub-blocks of `C` and read-only `A`/`B` to worker threads.
unsafe impl<T> Send for SendPtr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    /// The pointer (a method, so closures capture the `Send` wrapper, not the raw field).
    fn get(self) -> *mut T {
        self.0
    }
}

/// One GEMM problem over strided operands (see [`gemm`]).
#[derive(Clone, Copy)]
struct Problem<T> {
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: SendPtr<T>,
    rsa: isize,
    csa: isize,
    b: SendPtr<T>,
    rsb: isize,
    csb: isize,
    beta: T,
    c: SendPtr<T>,
    rsc: isize,
    csc: isize,
}

impl<T> Problem<T> {
    /// The same product with `C`, `A`, `B` replaced by `Cᵀ`, `Bᵀ`, `Aᵀ`.
    fn transposed(self) -> Self {
        Problem {
            m: self.n,
            n: self.m,
            a: self.b,
            rsa: self.csb,
            csa: self.rsb,
            b: self.a,
            rsb: self.csa,
            csb: self.rsa,
            rsc: self.csc,
            csc: self.rsc,
            ..self
        }
    }
}

/// `C ← α·A·B + β·C` with the blocked algorithm and the kernels of `ks`.
///
/// # Safety
/// The shapes fit (`a` is `m×k`, `b` is `k×n`, `c` is `m×n`) and the CPU supports the
/// instruction set of `ks`. (The views' own contracts make every addressed element valid and
/// keep `C` apart from `A` and `B`.)
pub(crate) unsafe fn gemm<T: GemmElem>(
    ks: &KernelSet<T>,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    mut c: MatMut<'_, T>,
) {
    let (m, k, n) = (a.rows(), a.cols(), b.cols());
    debug_assert!(b.rows() == k && c.rows() == m && c.cols() == n);
    let (rsc, csc) = (c.row_stride(), c.col_stride());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 || alpha == T::zero() {
        // SAFETY: `c` is a valid m×n view.
        unsafe { scale_c(m, n, beta, c.as_mut_ptr(), rsc, csc) };
        return;
    }
    let mut pb = Problem {
        m,
        k,
        n,
        alpha,
        a: SendPtr(a.as_ptr() as *mut T),
        rsa: a.row_stride(),
        csa: a.col_stride(),
        b: SendPtr(b.as_ptr() as *mut T),
        rsb: b.row_stride(),
        csb: b.col_stride(),
        beta,
        c: SendPtr(c.as_mut_ptr()),
        rsc,
        csc,
    };
    // Make the rows of C contiguous, or, when both orientations are (a single row or column),
    // put the longer side along the vectors.
    let rows_contiguous = csc == 1 || n == 1;
    let cols_contiguous = rsc == 1 || m == 1;
    if cols_contiguous && (!rows_contiguous || m > n) {
        pb = pb.transposed();
    }
    if pb.n == 1 {
        // A single column: its column strides are never used, call them 1 (C is then
        // row-contiguous and B can be read in place).
        pb.csc = 1;
        pb.csb = 1;
    }

    let flops = 2.0 * m as f64 * n as f64 * k as f64;
    // Parts the output is shared out in (see `crate::determinism`).
    let large = flops >= PARALLEL_MIN_FLOPS as f64 && !SERIAL.with(Cell::get);
    let threads = crate::determinism::work_split(large);
    // SAFETY: caller contract; `pb` is the same product.
    unsafe {
        if use_dot(&pb) {
            gemm_dot(ks, pb, threads);
        } else {
            gemm_blocked(ks, pb, threads);
        }
    }
}

/// `C ← β·C` (`C ← 0` without reading it when `β = 0`).
///
/// # Safety
/// Every element of the `m × n` view of `C` is valid.
unsafe fn scale_c<T: GemmElem>(m: usize, n: usize, beta: T, c: *mut T, rsc: isize, csc: isize) {
    if beta == T::one() {
        return;
    }
    for i in 0..m {
        for j in 0..n {
            // SAFETY: inside the view (caller contract).
            unsafe {
                let p = c.offset(i as isize * rsc + j as isize * csc);
                *p = if beta == T::zero() {
                    T::zero()
                } else {
                    beta * *p
                };
            }
        }
    }
}

/// Splits `len` into `⌈len / max⌉` nearly equal blocks, each a multiple of `unit` (but the last).
fn block_size(len: usize, max: usize, unit: usize) -> usize {
    let blocks = len.div_ceil(max).max(1);
    len.div_ceil(blocks).div_ceil(unit) * unit
}

/// A 64-byte aligned scratch buffer, reused by its thread across calls and grown on demand.
struct PackBuf(RefCell<Vec<u64>>);

thread_local! {
    /// Per-thread buffer for `A` slivers.
    static A_BUF: PackBuf = const { PackBuf(RefCell::new(Vec::new())) };
    /// Per-thread buffer for `B` panels (shared read-only with the pool while it is in use).
    static B_BUF: PackBuf = const { PackBuf(RefCell::new(Vec::new())) };
}

impl PackBuf {
    /// Runs `f` with an aligned area of `len` elements of `T` from this buffer (or from a fresh
    /// one if the buffer is already in use further up this thread's stack).
    fn with<T, R>(&self, len: usize, f: impl FnOnce(*mut T) -> R) -> R {
        const ALIGN: usize = 64;
        let words = (len * size_of::<T>() + ALIGN).div_ceil(8);
        let run = |buf: &mut Vec<u64>| {
            if buf.len() < words {
                buf.clear();
                buf.resize(words, 0);
            }
            let base = buf.as_mut_ptr() as *mut u8;
            // SAFETY: the skip is below ALIGN, and the buffer has ALIGN spare bytes.
            f(unsafe { base.add(base.align_offset(ALIGN)) } as *mut T)
        };
        match self.0.try_borrow_mut() {
            Ok(mut buf) => run(&mut buf),
            Err(_) => run(&mut Vec::new()),
        }
    }
}

/// Index into `heights` of the shortest height covering `left` rows (the tallest if none does).
fn height_index(heights: &[usize], left: usize) -> usize {
    let mut best = 0;
    for (i, &h) in heights.iter().enumerate() {
        if h >= left && h <= heights[best] {
            best = i;
        }
    }
    best
}

/// Whether the inner-product kernels should compute this product: `A` rows and `B` columns
/// contiguous along `k`, and one side of `C` tiny, or short and `k` long compared with it, so
/// that packing `B` (a transposition here) would cost more than the final horizontal sums.
fn use_dot<T>(pb: &Problem<T>) -> bool {
    let short = pb.m.min(pb.n);
    pb.csa == 1
        && pb.rsb == 1
        && (short <= DOT_MAX_SHORT || (short < DOT_RATIO_MAX_SHORT && DOT_K_RATIO * short <= pb.k))
}

/// Below this many rows (or columns) of `C`, the `x·Wᵀ` layout uses the inner-product kernels.
const DOT_MAX_SHORT: usize = 8;
/// …and also whenever `k ≥ DOT_K_RATIO · min(m, n)` while `min(m, n) < DOT_RATIO_MAX_SHORT`.
const DOT_K_RATIO: usize = 5;
/// From this many rows and columns on, the packed kernels win however long `k` is (timed on
/// AVX-512 and AVX2: `100×784 · (500×784)ᵀ`, an RBM's forward product, runs 1.34× faster packed
/// on AVX-512, 1.07× on AVX2; at `min(m, n) = 48` the inner products are still 1.12× faster).
const DOT_RATIO_MAX_SHORT: usize = 64;

thread_local! {
    /// Set inside [`serial`]: products computed on this thread stay on it.
    static SERIAL: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with every product it computes on this thread kept on this thread: for callers
/// that already share their work out over the pool, whose products need not be split again.
/// Results are the same either way (a product's split never changes its sums' order).
pub(crate) fn serial<R>(f: impl FnOnce() -> R) -> R {
    let old = SERIAL.with(|s| s.replace(true));
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SERIAL.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(old);
    f()
}

/// Runs `items` work items, on the rayon pool when `threads > 1`.
fn for_items(threads: usize, items: usize, f: impl Fn(usize) + Sync + Send) {
    if threads > 1 && items > 1 {
        (0..items).into_par_iter().for_each(f);
    } else {
        (0..items).for_each(f);
    }
}

/// The inner-product loop nest: groups of `S` columns of `B` (hot in L1) against every row
/// group of `A`. With threads, the column (or, for a narrow `C`, row) groups are shared out.
///
/// # Safety
/// As [`gemm`], with `pb.k ≥ 1`, `pb.csa == 1`, `pb.rsb == 1`.
unsafe fn gemm_dot<T: GemmElem>(ks: &KernelSet<T>, pb: Problem<T>, threads: usize) {
    let s = ks.dot_cols;
    let r = ks.dot_rows[0];
    let col_groups = pb.n.div_ceil(s);
    let row_groups = pb.m.div_ceil(r);
    // Work items: `cols_per` column groups × `rows_per` row groups each, about 4 per thread.
    let want = if threads > 1 { 4 * threads } else { 1 };
    let (col_items, row_items) = if col_groups >= want || col_groups >= row_groups {
        (want.min(col_groups), 1)
    } else {
        (1, want.min(row_groups))
    };
    let pb = &pb;
    for_items(threads, col_items * row_items, |item| {
        let (ci, ri) = (item % col_items, item / col_items);
        let j_lo = col_groups * ci / col_items * s;
        let j_hi = (col_groups * (ci + 1) / col_items * s).min(pb.n);
        let i_lo = row_groups * ri / row_items * r;
        let i_hi = (row_groups * (ri + 1) / row_items * r).min(pb.m);
        let mut j = j_lo;
        while j < j_hi {
            let w = s.min(j_hi - j);
            let mut i = i_lo;
            while i < i_hi {
                let h_idx = height_index(&ks.dot_rows, i_hi - i);
                let h = ks.dot_rows[h_idx].min(i_hi - i);
                // SAFETY: the tile lies inside the problem (caller contract); items cover
                // disjoint parts of C.
                unsafe {
                    let tile = Tile {
                        kc: pb.k,
                        mr: h,
                        nr: w,
                        a: pb.a.get().offset(i as isize * pb.rsa),
                        rsa: pb.rsa,
                        csa: 1,
                        b: pb.b.get().offset(j as isize * pb.csb),
                        rsb: 1,
                        csb: pb.csb,
                        c: pb.c.get().offset(i as isize * pb.rsc + j as isize * pb.csc),
                        rsc: pb.rsc,
                        csc: pb.csc,
                        alpha: pb.alpha,
                        beta: pb.beta,
                    };
                    (ks.dot[h_idx])(&tile);
                }
                i += h;
            }
            j += w;
        }
    });
}

/// Pack `A` only when each sliver meets more than this many columns of `B`; below, the
/// kernels read `A` in place (its packing would not be amortised).
const PACK_A_MIN_N: usize = 512;
/// A row-contiguous `B` is read in place when the stride between its rows is at most this
/// many bytes, or when `C` is a single row sliver (nothing reuses a packed copy). Wider rows
/// put every row of a sliver on its own page: on the Xeon (AVX-512) a 128×1024 by 1024×3136
/// product ran at 39–62 GFLOP/s reading `B` in place against 80–98 packed (one thread).
const DIRECT_B_MAX_ROW_BYTES: usize = 1024;

/// The blocked loop nest. With `threads > 1`, each `KC × NC` panel of `B` is packed once, in
/// parallel, into the calling thread's buffer and then shared read-only; the work items
/// (an `A` sliver against a group of `B` slivers) are spread over the pool by work stealing,
/// each packing its `A` sliver into its own thread's buffer.
///
/// # Safety
/// As [`gemm`], with `pb.k ≥ 1`.
unsafe fn gemm_blocked<T: GemmElem>(ks: &KernelSet<T>, pb: Problem<T>, threads: usize) {
    let (m, n, k) = (pb.m, pb.n, pb.k);
    let (mr, nr) = (ks.mr, ks.nr);
    let pack_a_block = n > PACK_A_MIN_N;
    // B is read in place when its rows are contiguous, unless it is both reused by several A
    // slivers and so wide that a sliver's rows lie on many pages (TLB misses).
    let pack_b_block =
        pb.csb != 1 || (m > mr && pb.rsb.unsigned_abs() * size_of::<T>() > DIRECT_B_MAX_ROW_BYTES);
    let pa = pack_a_block as usize;
    let pbk = pack_b_block as usize;

    let kc_blk = block_size(k, ks.kc, 1);
    let nc_blk = block_size(n, ks.nc, nr);
    let b_len = if pack_b_block { nc_blk * kc_blk } else { 0 };

    // Row slivers: full ones of height MR, then one tail sliver of the shortest height that
    // covers the remaining rows.
    let full = m / mr;
    let rem = m % mr;
    let slivers = full + (rem > 0) as usize;
    let tail_idx = height_index(&ks.rows, rem);
    let sliver = |s: usize| -> (usize, usize, usize) {
        if s < full {
            (s * mr, 0, mr)
        } else {
            (full * mr, tail_idx, rem)
        }
    };

    B_BUF.with(|bb| {
        bb.with::<T, ()>(b_len, |bbuf| {
            let bbuf = SendPtr(bbuf);
            let mut jc = 0;
            while jc < n {
                let nc = nc_blk.min(n - jc);
                let tiles = nc.div_ceil(nr);
                // Column groups per sliver: enough work items to balance the pool.
                let groups = if threads > 1 {
                    (4 * threads).div_ceil(slivers).min(tiles)
                } else {
                    1
                };
                let mut pc = 0;
                while pc < k {
                    let kc = kc_blk.min(k - pc);
                    let beta = if pc == 0 { pb.beta } else { T::one() };
                    // SAFETY: offsets inside B (caller contract).
                    let b_src = SendPtr(unsafe {
                        pb.b.get()
                            .offset(pc as isize * pb.rsb + jc as isize * pb.csb)
                    });
                    if pack_b_block {
                        // One B sliver per item; threads write disjoint parts of the buffer.
                        for_items(threads, tiles, |t| {
                            let j = t * nr;
                            // SAFETY: the sliver lies inside B and inside the buffer.
                            unsafe {
                                pack_b(
                                    kc,
                                    nr.min(nc - j),
                                    nr,
                                    b_src.get().offset(j as isize * pb.csb),
                                    pb.rsb,
                                    pb.csb,
                                    bbuf.get().add(t * kc * nr),
                                );
                            }
                        });
                    }
                    let (b_rs, b_sliver) = if pack_b_block {
                        (nr as isize, kc * nr)
                    } else {
                        (pb.rsb, nr)
                    };
                    let b_base = if pack_b_block { bbuf } else { b_src };
                    for_items(threads, slivers * groups, |item| {
                        let (s, g) = (item / groups, item % groups);
                        let (ir, h_idx, h_used) = sliver(s);
                        let h = ks.rows[h_idx];
                        let t_lo = tiles * g / groups;
                        let t_hi = tiles * (g + 1) / groups;
                        A_BUF.with(|ab| {
                            ab.with::<T, ()>(if pack_a_block { h * kc } else { 0 }, |abuf| {
                                // SAFETY: every pointer stays inside A, B, C (caller contract)
                                // or the buffers; items update disjoint tiles of C.
                                unsafe {
                                    let a_row =
                                        pb.a.get()
                                            .offset(ir as isize * pb.rsa + pc as isize * pb.csa);
                                    let a_ptr = if pack_a_block {
                                        pack_a(kc, h, h_used, a_row, pb.rsa, pb.csa, abuf);
                                        abuf as *const T
                                    } else {
                                        a_row as *const T
                                    };
                                    let c_row =
                                        pb.c.get()
                                            .offset(ir as isize * pb.rsc + jc as isize * pb.csc);
                                    for t in t_lo..t_hi {
                                        let jr = t * nr;
                                        let w = nr.min(nc - jr);
                                        let kern = if w <= ks.lanes {
                                            ks.narrow[h_idx][pa][pbk]
                                        } else {
                                            ks.wide[h_idx][pa][pbk]
                                        };
                                        let tile = Tile {
                                            kc,
                                            mr: h_used,
                                            nr: w,
                                            a: a_ptr,
                                            rsa: pb.rsa,
                                            csa: pb.csa,
                                            b: b_base.get().add(t * b_sliver),
                                            rsb: b_rs,
                                            csb: pb.csb,
                                            c: c_row.offset(jr as isize * pb.csc),
                                            rsc: pb.rsc,
                                            csc: pb.csc,
                                            alpha: pb.alpha,
                                            beta,
                                        };
                                        kern(&tile);
                                    }
                                }
                            })
                        });
                    });
                    pc += kc;
                }
                jc += nc;
            }
        })
    });
}
