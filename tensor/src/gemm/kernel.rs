//! The micro-kernel contract shared by the SIMD paths, and the macro that writes each kernel.
//!
//! A micro-kernel computes one register tile of `C`: `MR` rows by `NR = NRV·LANES` columns,
//!
//! ```text
//! C[i, j] ← α · Σₚ A[i, p] · B[p, j] + β · C[i, j]      0 ≤ i < mr ≤ MR, 0 ≤ j < nr ≤ NR
//! ```
//!
//! The accumulators are `MR × NRV` vector registers, one row of the tile per `MR`, the columns
//! spread over `NRV` vectors. Each step `p` of the inner loop loads the `NRV` vectors of row `p`
//! of the `B` sliver, broadcasts the `MR` scalars of column `p` of the `A` sliver one at a time,
//! and issues `MR · NRV` fused multiply-adds. A row of the tile is therefore contiguous in a
//! row-major `C` (column stride 1), which the store exploits with full-width, or masked at the
//! right edge, vector loads and stores; any other `C` goes through a small stack tile.
//!
//! Operand layouts:
//! * `A`, *packed*: the sliver is `kc` groups of `MR` consecutive elements (column `p` of the
//!   sliver at `a + p·MR`), rows past the matrix edge padded with zeros by the packer.
//! * `A`, *direct*: read through its own strides, `A[i, p]` at `a + i·rsa + p·csa`; rows past `mr`
//!   re-read row `mr − 1` (their results are discarded), so nothing outside `A` is touched.
//! * `B`: row `p` of the sliver is `NR` contiguous elements at `b + p·rsb` — either the packed
//!   sliver (`rsb = NR`, padded with zeros) or, when `B` itself has unit column stride, `B` read
//!   in place, in which case columns past `nr` are masked off in the loads.
//!
//! Each kernel set also has shorter tiles for the bottom edge of `C` (so a 16-row product runs
//! as 12 + 4 rows, not 12 + 12), a one-vector-wide tile for a right edge no wider than a vector,
//! and *inner-product* kernels for the `x·Wᵀ` layout (rows of `A` and columns of `B` both
//! contiguous along `k`): there every element of an `R × S` tile of `C` owns a vector
//! accumulator running along `k`, reduced horizontally once at the end, so neither operand
//! needs packing.

/// One micro-tile invocation: pointers and strides in elements.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tile<T> {
    /// Depth of the product (length of the `p` loop).
    pub kc: usize,
    /// Rows of the tile that are inside `C` (`1 ≤ mr ≤ MR`).
    pub mr: usize,
    /// Columns of the tile that are inside `C` (`1 ≤ nr ≤ NR`).
    pub nr: usize,
    /// Start of the `A` sliver.
    pub a: *const T,
    /// Row stride of a direct `A` (unused when packed).
    pub rsa: isize,
    /// Column stride of a direct `A` (unused when packed).
    pub csa: isize,
    /// Start of the `B` sliver.
    pub b: *const T,
    /// Stride between rows `p` of the `B` sliver (`NR` when packed).
    pub rsb: isize,
    /// Column stride of `B` (used only by the inner-product kernels).
    pub csb: isize,
    /// Top-left element of the tile in `C`.
    pub c: *mut T,
    /// Row stride of `C`.
    pub rsc: isize,
    /// Column stride of `C`.
    pub csc: isize,
    /// Scale of the product.
    pub alpha: T,
    /// Scale of the old `C`; `0` means `C` is write-only (never read).
    pub beta: T,
}

/// Number of tile heights each kernel set provides.
pub(crate) const ROW_VARIANTS: usize = 5;

/// Number of tile heights of the inner-product kernels.
pub(crate) const DOT_VARIANTS: usize = 3;

/// A micro-kernel entry point.
pub(crate) type KernelFn<T> = unsafe fn(&Tile<T>);

/// Everything the blocked driver needs to know about one (instruction set, element type) pair.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KernelSet<T> {
    /// Rows of the register tile.
    pub mr: usize,
    /// Columns of the full register tile (`NRV · lanes`).
    pub nr: usize,
    /// Elements per vector register.
    pub lanes: usize,
    /// Depth of a packed panel (`KC`): bounds the `A` sliver (`MR × KC`) kept in L1.
    pub kc: usize,
    /// Columns of a packed `B` panel (`NC`): `A` is packed once per `KC × NC` panel.
    pub nc: usize,
    /// Tile heights available, `rows[0] == mr`, decreasing: the bottom edge of `C` uses the
    /// shortest one that covers the rows left, so little work is wasted on padding.
    pub rows: [usize; ROW_VARIANTS],
    /// Full-width kernels, indexed `[height][A packed][B packed]` (height as in `rows`).
    pub wide: [[[KernelFn<T>; 2]; 2]; ROW_VARIANTS],
    /// One-vector-wide kernels (`height × lanes`) for a right edge no wider than a vector,
    /// indexed like `wide`.
    pub narrow: [[[KernelFn<T>; 2]; 2]; ROW_VARIANTS],
    /// Tile heights of the inner-product kernels, decreasing.
    pub dot_rows: [usize; DOT_VARIANTS],
    /// Tile width of the inner-product kernels.
    pub dot_cols: usize,
    /// Inner-product kernels (see `dot` in the kernel macro), one per height in `dot_rows`.
    pub dot: [KernelFn<T>; DOT_VARIANTS],
}

/// Writes the kernels of one instruction set and element type: the register-tiled kernel
/// `kern::<MR, W, PA, PB>` (`W` vectors wide, `A`/`B` packed or read in place), the
/// inner-product kernel `dot::<R, S>`, and `kernel_set()` gathering their instantiations.
///
/// The invoking module defines the constants `MR`, `NRV` (full tile width in vectors), `KC`,
/// `NC` and `DOT_S`, and imports one vocabulary of [`crate::simd::isa`] compiled with the same
/// target features (`LANES`, `Mask`, `zero`, `load`, `load_masked`, `bcast`, `splat`, `fma`,
/// `mul`, `add`, `hsum`, `store`, `store_masked`, `mask` and `prefetch`).
macro_rules! define_kernel {
    ($feat:literal, $t:ty, rows: [$($rows:literal),*], dot: [$($drows:literal),*]) => {
        use $crate::gemm::kernel::Tile;

        /// The register-tiled micro-kernel; see [`crate::gemm::kernel`] for the layouts.
        ///
        /// # Safety
        /// The CPU supports the target features; every element addressed by `t` (see
        /// [`Tile`]) is valid, with `1 ≤ t.mr ≤ MR`, `1 ≤ t.nr ≤ W·LANES`, `t.kc ≥ 1`.
        #[target_feature(enable = $feat)]
        #[allow(unused_assignments)] // the last step's pointer bumps
        pub(crate) unsafe fn kern<
            const MR: usize,
            const W: usize,
            const PA: bool,
            const PB: bool,
        >(
            t: &Tile<$t>,
        ) {
            // SAFETY: the caller guarantees the pointers and strides of `t` are valid.
            unsafe {
                let kc = t.kc;
                // Accumulator sets: a short tile (few rows, e.g. a single row of C) has too few
                // independent FMA chains to hide the FMA latency, so successive steps `p` rotate
                // over up to 4 sets that are summed at the end. A full tile uses one set.
                let sets = if MR * W >= 8 {
                    1
                } else if MR * W >= 4 {
                    2
                } else {
                    4
                };
                let mut acc = [[[zero(); W]; MR]; 4];
                let mut a = t.a;
                let mut b = t.b;
                // Warm the rows of C this tile will update while the products are computed.
                for i in 0..MR.min(t.mr) {
                    prefetch(t.c.offset(i as isize * t.rsc) as *const $t);
                }
                // Offsets of the rows of a direct A; rows past `mr` alias the last one.
                let mut arow = [0isize; MR];
                if !PA {
                    for (i, off) in arow.iter_mut().enumerate() {
                        *off = (i.min(t.mr - 1)) as isize * t.rsa;
                    }
                }
                let astep = if PA { MR as isize } else { t.csa };
                // A packed B sliver is always the full kernel width `NRV · LANES`, also for the
                // one-vector kernel.
                let bstep = if PB { (NRV * LANES) as isize } else { t.rsb };

                // One step `p`: W vector loads of B, MR broadcasts of A, MR·W FMAs into
                // accumulator set `$s`.
                macro_rules! step {
                    ($masks:expr, $s:expr) => {{
                        let s = $s % sets;
                        let mut bv = [zero(); W];
                        for (v, slot) in bv.iter_mut().enumerate() {
                            *slot = match $masks {
                                None => load(b.add(v * LANES)),
                                Some(ms) => load_masked(b.add(v * LANES), ms[v]),
                            };
                        }
                        for i in 0..MR {
                            let ai = if PA { bcast(a.add(i)) } else { bcast(a.offset(arow[i])) };
                            for v in 0..W {
                                acc[s][i][v] = fma(ai, bv[v], acc[s][i][v]);
                            }
                        }
                        a = a.offset(astep);
                        b = b.offset(bstep);
                    }};
                }
                // The `p` loop, unrolled by 4.
                macro_rules! run {
                    ($masks:expr) => {{
                        let mut p = 0;
                        while p + 4 <= kc {
                            step!($masks, 0);
                            step!($masks, 1);
                            step!($masks, 2);
                            step!($masks, 3);
                            p += 4;
                        }
                        while p < kc {
                            step!($masks, 0);
                            p += 1;
                        }
                    }};
                }

                if PB || t.nr == W * LANES {
                    let full: Option<&[Mask; W]> = None;
                    run!(full);
                } else {
                    let mut masks = [mask(0); W];
                    for (v, m) in masks.iter_mut().enumerate() {
                        *m = mask(t.nr.saturating_sub(v * LANES).min(LANES));
                    }
                    let part = Some(&masks);
                    run!(part);
                }
                for s in 1..sets {
                    for i in 0..MR {
                        for v in 0..W {
                            acc[0][i][v] = add(acc[0][i][v], acc[s][i][v]);
                        }
                    }
                }
                let acc = acc[0];

                // C ← α·acc + β·C. First α·acc goes to a stack tile through a loop small enough
                // to be fully unrolled: `acc` is then only ever indexed by constants and lives in
                // registers for the whole `p` loop. The edge-aware update reads the tile.
                let alpha = splat(t.alpha);
                if t.mr == MR && t.nr == W * LANES && t.csc == 1 {
                    // Full tile, row-contiguous C: store straight from the registers (one small
                    // unrollable loop per kind of β).
                    let beta = t.beta;
                    if beta == 0.0 {
                        for i in 0..MR {
                            for v in 0..W {
                                let cp = t.c.offset(i as isize * t.rsc).add(v * LANES);
                                store(cp, mul(alpha, acc[i][v]));
                            }
                        }
                    } else if beta == 1.0 {
                        for i in 0..MR {
                            for v in 0..W {
                                let cp = t.c.offset(i as isize * t.rsc).add(v * LANES);
                                store(cp, fma(alpha, acc[i][v], load(cp)));
                            }
                        }
                    } else {
                        let vbeta = splat(beta);
                        for i in 0..MR {
                            for v in 0..W {
                                let cp = t.c.offset(i as isize * t.rsc).add(v * LANES);
                                store(cp, fma(alpha, acc[i][v], mul(vbeta, load(cp))));
                            }
                        }
                    }
                    return;
                }
                let mut tile = [[[0.0 as $t; LANES]; W]; MR];
                for i in 0..MR {
                    for v in 0..W {
                        store(tile[i][v].as_mut_ptr(), mul(alpha, acc[i][v]));
                    }
                }
                let beta = t.beta;
                let vbeta = splat(beta);
                let (mr, nr) = (t.mr, t.nr);
                if t.csc == 1 {
                    for (i, row) in tile.iter().enumerate().take(mr) {
                        let crow = t.c.offset(i as isize * t.rsc);
                        for (v, x) in row.iter().enumerate() {
                            let x = load(x.as_ptr());
                            let cp = crow.add(v * LANES);
                            let left = nr.saturating_sub(v * LANES);
                            if left >= LANES {
                                let r = if beta == 0.0 {
                                    x
                                } else if beta == 1.0 {
                                    add(x, load(cp))
                                } else {
                                    fma(vbeta, load(cp), x)
                                };
                                store(cp, r);
                            } else if left > 0 {
                                let m = mask(left);
                                let r = if beta == 0.0 { x } else { fma(vbeta, load_masked(cp, m), x) };
                                store_masked(cp, m, r);
                            }
                        }
                    }
                } else {
                    for (i, row) in tile.iter().enumerate().take(mr) {
                        for j in 0..nr {
                            let y = row[j / LANES][j % LANES];
                            let cp = t.c.offset(i as isize * t.rsc + j as isize * t.csc);
                            *cp = if beta == 0.0 { y } else { y + beta * *cp };
                        }
                    }
                }
            }
        }

        /// Inner-product kernel for `A` with contiguous rows and `B` with contiguous columns
        /// (the `x·Wᵀ` layout): an `R × S` tile of `C` whose every element is a dot product
        /// along `p`, one vector accumulator per element, reduced horizontally at the end.
        /// Row `i` of `A` is at `t.a + i·t.rsa`, column `j` of `B` at `t.b + j·t.csb`; rows
        /// past `mr` and columns past `nr` re-read the last valid ones (results discarded).
        ///
        /// # Safety
        /// As [`kern`], with `1 ≤ t.mr ≤ R`, `1 ≤ t.nr ≤ S`, unit strides along `p`.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn dot<const R: usize, const S: usize>(t: &Tile<$t>) {
            // SAFETY: the caller guarantees the pointers and strides of `t` are valid.
            unsafe {
                let kc = t.kc;
                let mut rows = [t.a; R];
                for (i, r) in rows.iter_mut().enumerate() {
                    *r = t.a.offset(i.min(t.mr - 1) as isize * t.rsa);
                }
                let mut cols = [t.b; S];
                for (j, c) in cols.iter_mut().enumerate() {
                    *c = t.b.offset(j.min(t.nr - 1) as isize * t.csb);
                }
                let mut acc = [[zero(); S]; R];
                macro_rules! step {
                    ($p:expr, $m:expr) => {{
                        let mut bv = [zero(); S];
                        for j in 0..S {
                            bv[j] = match $m {
                                None => load(cols[j].add($p)),
                                Some(m) => load_masked(cols[j].add($p), m),
                            };
                        }
                        for i in 0..R {
                            let av = match $m {
                                None => load(rows[i].add($p)),
                                Some(m) => load_masked(rows[i].add($p), m),
                            };
                            for j in 0..S {
                                acc[i][j] = fma(av, bv[j], acc[i][j]);
                            }
                        }
                    }};
                }
                let mut p = 0;
                let full: Option<Mask> = None;
                while p + LANES <= kc {
                    step!(p, full);
                    p += LANES;
                }
                if p < kc {
                    let m = Some(mask(kc - p));
                    step!(p, m);
                }
                let mut sums = [[0.0 as $t; S]; R];
                for i in 0..R {
                    for j in 0..S {
                        sums[i][j] = hsum(acc[i][j]);
                    }
                }
                let (alpha, beta) = (t.alpha, t.beta);
                for (i, row) in sums.iter().enumerate().take(t.mr) {
                    for (j, &x) in row.iter().enumerate().take(t.nr) {
                        let cp = t.c.offset(i as isize * t.rsc + j as isize * t.csc);
                        *cp = if beta == 0.0 { alpha * x } else { alpha * x + beta * *cp };
                    }
                }
            }
        }

        /// The kernel set for this instruction set and element type.
        pub(crate) fn kernel_set() -> $crate::gemm::kernel::KernelSet<$t> {
            $crate::gemm::kernel::KernelSet {
                mr: MR,
                nr: NRV * LANES,
                lanes: LANES,
                kc: KC,
                nc: NC,
                rows: [$($rows),*],
                wide: [$([
                    [wrap::<$rows, NRV, false, false>, wrap::<$rows, NRV, false, true>],
                    [wrap::<$rows, NRV, true, false>, wrap::<$rows, NRV, true, true>],
                ]),*],
                narrow: [$([
                    [wrap::<$rows, 1, false, false>, wrap::<$rows, 1, false, true>],
                    [wrap::<$rows, 1, true, false>, wrap::<$rows, 1, true, true>],
                ]),*],
                dot_rows: [$($drows),*],
                dot_cols: DOT_S,
                dot: [$(wrap_dot::<$drows, DOT_S>),*],
            }
        }

        /// Plain-`unsafe fn` entry point (a function pointer cannot carry target features).
        ///
        /// # Safety
        /// As [`kern`]; only reachable through [`kernel_set`], which the dispatcher hands out
        /// after checking the CPU features.
        unsafe fn wrap<const R: usize, const W: usize, const PA: bool, const PB: bool>(
            t: &Tile<$t>,
        ) {
            // SAFETY: forwarded contract; the feature check happened before dispatch.
            unsafe { kern::<R, W, PA, PB>(t) }
        }

        /// Plain-`unsafe fn` entry point of [`dot`].
        ///
        /// # Safety
        /// As [`dot`]; only reachable through [`kernel_set`].
        unsafe fn wrap_dot<const R: usize, const S: usize>(t: &Tile<$t>) {
            // SAFETY: forwarded contract; the feature check happened before dispatch.
            unsafe { dot::<R, S>(t) }
        }
    };
}

pub(crate) use define_kernel;
