//! Packing of `A` and `B` blocks into the sliver layouts the micro-kernels stream through.
//!
//! Packing reads the operand through its own strides (a transposed operand is just a different
//! pair of strides) and writes a contiguous, 64-byte aligned buffer:
//!
//! * `A` block, `mc × kc`: consecutive slivers of `h` rows (`h = MR`, the last one possibly
//!   shorter, see [`KernelSet::rows`](super::kernel::KernelSet)); within a sliver, column `p` is
//!   `h` consecutive elements, so the kernel reads the sliver front to back. Rows past `mc` in the
//!   last sliver are zero.
//! * `B` block, `kc × nc`: consecutive slivers of `NR` columns; within a sliver, row `p` is `NR`
//!   consecutive elements. Columns past `nc` in the last sliver are zero.
//!
//! Each layout has a fast path for the unit-stride direction of a row- or column-major operand;
//! anything else falls back to plain strided loops.

use num_traits::Zero;

/// Packs the `B` block `B[0..kc, 0..nc]` (element `(p, j)` at `b + p·rsb + j·csb`) into `out`
/// as slivers of `nr` columns; `out` receives `kc · ⌈nc/nr⌉ · nr` elements.
///
/// # Safety
/// Every addressed element of `B` is valid; `out` has room for the packed block.
pub(crate) unsafe fn pack_b<T: Copy + Zero>(
    kc: usize,
    nc: usize,
    nr: usize,
    b: *const T,
    rsb: isize,
    csb: isize,
    out: *mut T,
) {
    // SAFETY: the caller guarantees the source and destination ranges.
    unsafe {
        let mut dst = out;
        let mut j0 = 0;
        while j0 < nc {
            let w = nr.min(nc - j0);
            let src = b.offset(j0 as isize * csb);
            if csb == 1 {
                // Row-major B: each sliver row is a contiguous run.
                for p in 0..kc {
                    let s = src.offset(p as isize * rsb);
                    let d = dst.add(p * nr);
                    std::ptr::copy_nonoverlapping(s, d, w);
                    for j in w..nr {
                        *d.add(j) = T::zero();
                    }
                }
            } else if rsb == 1 {
                // Column-major B: read each column contiguously, write with stride `nr`.
                // Work in chunks of `P` rows so the written lines stay in L1.
                const P: usize = 64;
                let mut p0 = 0;
                while p0 < kc {
                    let ph = P.min(kc - p0);
                    for j in 0..w {
                        let s = src.offset(j as isize * csb).add(p0);
                        let d = dst.add(p0 * nr + j);
                        for p in 0..ph {
                            *d.add(p * nr) = *s.add(p);
                        }
                    }
                    for j in w..nr {
                        for p in 0..ph {
                            *dst.add((p0 + p) * nr + j) = T::zero();
                        }
                    }
                    p0 += ph;
                }
            } else {
                for p in 0..kc {
                    let s = src.offset(p as isize * rsb);
                    let d = dst.add(p * nr);
                    for j in 0..w {
                        *d.add(j) = *s.offset(j as isize * csb);
                    }
                    for j in w..nr {
                        *d.add(j) = T::zero();
                    }
                }
            }
            dst = dst.add(kc * nr);
            j0 += nr;
        }
    }
}

/// Packs one `A` sliver: rows `0..h_used` of `A[.., 0..kc]` (element `(i, p)` at
/// `a + i·rsa + p·csa`) into `out` as `kc` columns of `h` elements, rows `h_used..h` zero.
///
/// # Safety
/// Every addressed element of `A` is valid; `out` has room for `kc · h` elements.
#[inline]
unsafe fn pack_a_sliver<T: Copy + Zero, const H: usize>(
    kc: usize,
    h_used: usize,
    a: *const T,
    rsa: isize,
    csa: isize,
    out: *mut T,
) {
    // SAFETY: the caller guarantees the source and destination ranges.
    unsafe {
        if h_used == H && csa == 1 {
            // Row-major A: H row streams, each read contiguously; a fixed-size gather per `p`.
            let rows: [*const T; H] = std::array::from_fn(|i| a.offset(i as isize * rsa));
            for p in 0..kc {
                let d = out.add(p * H);
                for (i, r) in rows.iter().enumerate() {
                    *d.add(i) = *r.add(p);
                }
            }
        } else if rsa == 1 {
            // Column-major A: each sliver column is a contiguous run.
            for p in 0..kc {
                let s = a.offset(p as isize * csa);
                let d = out.add(p * H);
                std::ptr::copy_nonoverlapping(s, d, h_used);
                for i in h_used..H {
                    *d.add(i) = T::zero();
                }
            }
        } else {
            for p in 0..kc {
                let s = a.offset(p as isize * csa);
                let d = out.add(p * H);
                for i in 0..h_used {
                    *d.add(i) = *s.offset(i as isize * rsa);
                }
                for i in h_used..H {
                    *d.add(i) = T::zero();
                }
            }
        }
    }
}

/// Packs one `A` sliver of height `h` (one of the kernel heights) holding `h_used ≤ h` rows.
///
/// # Safety
/// As [`pack_a_sliver`].
pub(crate) unsafe fn pack_a<T: Copy + Zero>(
    kc: usize,
    h: usize,
    h_used: usize,
    a: *const T,
    rsa: isize,
    csa: isize,
    out: *mut T,
) {
    // SAFETY: forwarded contract.
    unsafe {
        match h {
            12 => pack_a_sliver::<T, 12>(kc, h_used, a, rsa, csa, out),
            8 => pack_a_sliver::<T, 8>(kc, h_used, a, rsa, csa, out),
            6 => pack_a_sliver::<T, 6>(kc, h_used, a, rsa, csa, out),
            4 => pack_a_sliver::<T, 4>(kc, h_used, a, rsa, csa, out),
            3 => pack_a_sliver::<T, 3>(kc, h_used, a, rsa, csa, out),
            2 => pack_a_sliver::<T, 2>(kc, h_used, a, rsa, csa, out),
            1 => pack_a_sliver::<T, 1>(kc, h_used, a, rsa, csa, out),
            _ => unreachable!("no micro-kernel of height {h}"),
        }
    }
}
