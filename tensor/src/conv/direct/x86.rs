//! The direct-convolution micro-kernels for x86_64: AVX-512F (32 registers of 512 bits) and
//! AVX2 + FMA (16 registers of 256 bits), each for `f32` and `f64`.
//!
//! One macro writes the kernels of every instruction set and element type over the vocabulary
//! of [`crate::simd::isa`]:
//!
//! * `fwd::<MR, NV>` — `MR` output channels × `NV` vectors of wide-grid positions. Each step `k`
//!   (one input channel and kernel tap) loads `NV` vectors of the padded input at `x + offs[k]`,
//!   broadcasts `MR` packed weights and issues `MR·NV` FMAs. The tile goes to `out` (row stride
//!   `rso`) in full vectors.
//! * `bwd::<MR, NV>` — `MR` kernel rows (input channel and tap) × `NV` vectors of grid
//!   positions of the input gradient. Each step (one output channel) loads `NV` vectors of the
//!   output gradient on the wide grid, broadcasts `MR` packed weights and issues `MR·NV` FMAs;
//!   at the end each row is added onto the padded input gradient at `x + offs[i]` (col2im fused
//!   into the product, in registers).
//! * `wgt::<MR, NK>` — `MR` output channels × `NK` taps of the weight gradient for one image.
//!   Each step loads one vector of `MR` output-gradient rows and of `NK` shifted input rows and
//!   issues `MR·NK` FMAs; the accumulators stay in registers over a batch of images, starting
//!   from and returning to a small buffer of vector partial sums, which `reduce` sums across
//!   lanes once per batch.
//!
//! Register budgets (accumulators + loaded vectors + one broadcast):
//! AVX-512 `fwd`/`bwd` 6 × 4 → 24 + 4 + 1, `wgt` 4 × 6 → 24 + 4 + 1 of 32;
//! AVX2 `fwd`/`bwd` 4 × 3 → 12 + 3 + 1, `wgt` 2 × 6 → 12 + 2 + 1 of 16.

#![allow(clippy::missing_safety_doc)]

/// Writes `fwd`, `bwd`, `wgt`, `reduce` and the `TABLE` of one instruction set and element type
/// inside a module that imports its vocabulary (`LANES`, `zero`, `load`, `store`, `bcast`,
/// `splat`, `fma`, `add`, `hsum`, `shift_by`, `shift`).
macro_rules! define_direct {
    ($feat:literal, $t:ty, fwd_mr: $fmr:expr, fwd_nv: [$($nv:expr),*], wgt_mr: $wmr:expr) => {
        use crate::conv::direct::{BwdArgs, FwdArgs, MR_MAX, NK_MAX, NV_MAX, Table, WgtArgs};

        /// Forward tile; see the module documentation.
        ///
        /// # Safety
        /// The CPU supports the target features; `p.x + p.offs[k] + j` is readable for every
        /// `k < p.k` and `j < NV·LANES`, `p.a` holds `p.k·MR` packed weights, `p.init` is null or
        /// holds `MR` values, and `p.out` has `MR` rows of `NV·LANES` writable elements.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn fwd<const MR: usize, const NV: usize>(p: &FwdArgs<$t>) {
            // SAFETY: the caller's contract above.
            unsafe {
                let mut acc = [[zero(); NV]; MR];
                if !p.init.is_null() {
                    for (i, row) in acc.iter_mut().enumerate() {
                        let v = splat(*p.init.add(i));
                        for slot in row.iter_mut() {
                            *slot = v;
                        }
                    }
                }
                let mut a = p.a;
                let mut offs = p.offs;
                let end = p.offs.add(p.k);
                while offs < end {
                    let base = p.x.add(*offs);
                    let mut bv = [zero(); NV];
                    for (v, slot) in bv.iter_mut().enumerate() {
                        *slot = load(base.add(v * LANES));
                    }
                    for i in 0..MR {
                        let ai = bcast(a.add(i));
                        for v in 0..NV {
                            acc[i][v] = fma(ai, bv[v], acc[i][v]);
                        }
                    }
                    a = a.add(MR);
                    offs = offs.add(1);
                }
                for (i, row) in acc.iter().enumerate() {
                    for (v, &x) in row.iter().enumerate() {
                        store(p.out.add(i * p.rso + v * LANES), x);
                    }
                }
            }
        }

        /// Input-gradient tile; see the module documentation.
        ///
        /// # Safety
        /// The CPU supports the target features; `p.dy + s·p.rsd + j` is readable for `s < p.k`,
        /// `j < NV·LANES`; `p.a` holds `p.k·MR` packed weights; `p.offs` holds `MR` ascending
        /// offsets and `p.x + p.offs[i] + j` is readable and writable for `i < MR`,
        /// `j < (NV + 1)·LANES`.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn bwd<const MR: usize, const NV: usize>(p: &BwdArgs<$t>) {
            // SAFETY: the caller's contract above.
            unsafe {
                let mut acc = [[zero(); NV]; MR];
                let mut a = p.a;
                let mut d = p.dy;
                for _ in 0..p.k {
                    let mut bv = [zero(); NV];
                    for (v, slot) in bv.iter_mut().enumerate() {
                        *slot = load(d.add(v * LANES));
                    }
                    for i in 0..MR {
                        let ai = bcast(a.add(i));
                        for v in 0..NV {
                            acc[i][v] = fma(ai, bv[v], acc[i][v]);
                        }
                    }
                    a = a.add(MR);
                    d = d.add(p.rsd);
                }
                // Rows whose offsets lie within one vector of the group's first row are
                // shifted into place in registers and summed, so each group costs NV + 1
                // read-modify-writes of the gradient (no stores overlapping later loads at
                // an offset, which the CPU could not forward).
                let mut out = [zero(); NV_MAX + 1];
                let mut base = *p.offs;
                for (i, row) in acc.iter().enumerate() {
                    let off = *p.offs.add(i);
                    let mut s = off - base;
                    if s >= LANES {
                        let x = p.x.add(base);
                        for (v, o) in out.iter_mut().enumerate().take(NV + 1) {
                            store(x.add(v * LANES), add(load(x.add(v * LANES)), *o));
                            *o = zero();
                        }
                        base = off;
                        s = 0;
                    }
                    let sh = shift_by(s);
                    let mut prev = zero();
                    for (v, &cur) in row.iter().enumerate() {
                        out[v] = add(out[v], shift(prev, cur, sh));
                        prev = cur;
                    }
                    out[NV] = add(out[NV], shift(prev, zero(), sh));
                }
                let x = p.x.add(base);
                for (v, o) in out.iter().enumerate().take(NV + 1) {
                    store(x.add(v * LANES), add(load(x.add(v * LANES)), *o));
                }
            }
        }

        /// Weight-gradient tile; see the module documentation.
        ///
        /// # Safety
        /// The CPU supports the target features; `p.dy + i·p.rsd + q` for `i < MR` and
        /// `p.x + p.offs[j] + q` for `j < NK` are readable for `q < p.chunks·LANES`;
        /// `p.acc + (i·NK + j)·LANES + l` is readable and writable for `l < LANES`.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn wgt<const MR: usize, const NK: usize>(p: &WgtArgs<$t>) {
            // SAFETY: the caller's contract above.
            unsafe {
                // The accumulators stay in registers across the whole batch of images.
                let mut acc = [[zero(); NK]; MR];
                for (i, row) in acc.iter_mut().enumerate() {
                    for (j, a) in row.iter_mut().enumerate() {
                        *a = load(p.acc.add((i * NK + j) * LANES));
                    }
                }
                for b in 0..p.images {
                    let x0 = p.x.add(b * p.xs);
                    let dy0 = p.dy.add(b * p.dys);
                    let mut xs = [x0; NK];
                    for (j, x) in xs.iter_mut().enumerate() {
                        *x = x0.add(*p.offs.add(j));
                    }
                    let mut dys = [dy0; MR];
                    for (i, d) in dys.iter_mut().enumerate() {
                        *d = dy0.add(i * p.rsd);
                    }
                    for c in 0..p.chunks {
                        let q = c * LANES;
                        let mut d = [zero(); MR];
                        for i in 0..MR {
                            d[i] = load(dys[i].add(q));
                        }
                        for j in 0..NK {
                            let xv = load(xs[j].add(q));
                            for i in 0..MR {
                                acc[i][j] = fma(d[i], xv, acc[i][j]);
                            }
                        }
                    }
                }
                for (i, row) in acc.iter().enumerate() {
                    for (j, &a) in row.iter().enumerate() {
                        store(p.acc.add((i * NK + j) * LANES), a);
                    }
                }
            }
        }

        /// `Σ` of the lanes of `n` vectors at `v`, added to `out[0..n]`.
        ///
        /// # Safety
        /// The CPU supports the target features; `v` holds `n·LANES` readable elements and `out`
        /// `n` writable ones.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn reduce(v: *const $t, n: usize, out: *mut $t) {
            // SAFETY: the caller's contract above.
            unsafe {
                for i in 0..n {
                    *out.add(i) += hsum(load(v.add(i * LANES)));
                }
            }
        }

        macro_rules! fwd_row {
            ($m:literal) => {
                [fwd::<$m, 1>, fwd::<$m, 2>, fwd::<$m, 3>, fwd::<$m, 4>]
            };
        }
        macro_rules! bwd_row {
            ($m:literal) => {
                [bwd::<$m, 1>, bwd::<$m, 2>, bwd::<$m, 3>, bwd::<$m, 4>]
            };
        }
        macro_rules! wgt_row {
            ($m:literal) => {
                [wgt::<$m, 1>, wgt::<$m, 2>, wgt::<$m, 3>, wgt::<$m, 4>, wgt::<$m, 5>, wgt::<$m, 6>]
            };
        }

        /// The kernels of this instruction set and element type.
        pub(crate) static TABLE: Table<$t> = Table {
            lanes: LANES,
            fwd: [fwd_row!(1), fwd_row!(2), fwd_row!(3), fwd_row!(4), fwd_row!(5), fwd_row!(6)],
            fwd_mr: $fmr,
            fwd_nv: [$($nv),*],
            bwd: [bwd_row!(1), bwd_row!(2), bwd_row!(3), bwd_row!(4), bwd_row!(5), bwd_row!(6)],
            wgt: [wgt_row!(1), wgt_row!(2), wgt_row!(3), wgt_row!(4)],
            wgt_mr: $wmr,
            wgt_nk: NK_MAX,
            reduce,
        };
        const _: () = assert!(MR_MAX == 6 && NV_MAX == 4 && NK_MAX == 6);
    };
}

/// AVX-512F kernels.
pub(crate) mod avx512 {
    /// `f32`: 16 lanes.
    pub(crate) mod f32 {
        use crate::simd::isa::avx512::f32::*;

        define_direct!("avx512f", f32, fwd_mr: 6, fwd_nv: [4, 4, 4, 4, 4, 4], wgt_mr: 4);
    }

    /// `f64`: 8 lanes.
    pub(crate) mod f64 {
        use crate::simd::isa::avx512::f64::*;

        define_direct!("avx512f", f64, fwd_mr: 6, fwd_nv: [4, 4, 4, 4, 4, 4], wgt_mr: 4);
    }
}

/// AVX2 + FMA kernels.
pub(crate) mod avx2 {
    /// `f32`: 8 lanes.
    pub(crate) mod f32 {
        use crate::simd::isa::avx2::f32::*;

        define_direct!("avx2,fma", f32, fwd_mr: 4, fwd_nv: [4, 4, 3, 3, 2, 2], wgt_mr: 2);
    }

    /// `f64`: 4 lanes.
    pub(crate) mod f64 {
        use crate::simd::isa::avx2::f64::*;

        define_direct!("avx2,fma", f64, fwd_mr: 4, fwd_nv: [4, 4, 3, 3, 2, 2], wgt_mr: 2);
    }
}
