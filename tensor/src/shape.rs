//! Shape and stride arithmetic: contiguous strides, broadcasting, strided traversal.

/// Row-major (C-order) strides of a contiguous tensor of `shape`, in elements.
///
/// `strides[i] = Π_{j>i} shape[j]`; the strides of a rank-0 shape are empty.
pub fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; shape.len()];
    let mut acc = 1usize;
    for (s, &d) in strides.iter_mut().zip(shape).rev() {
        *s = acc;
        acc *= d;
    }
    strides
}

/// Number of elements of `shape` (`1` for rank 0).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// The NumPy broadcast of two shapes: align trailing dimensions; each pair must be equal or
/// contain a `1`, and the result takes the larger.
///
/// # Panics
/// When a pair of aligned dimensions differs and neither is 1; the message names `op`.
pub fn broadcast_shapes(op: &str, a: &[usize], b: &[usize]) -> Vec<usize> {
    try_broadcast_shapes(a, b)
        .unwrap_or_else(|| panic!("{op}: shapes {a:?} and {b:?} cannot be broadcast together"))
}

/// As [`broadcast_shapes`], returning `None` instead of panicking.
pub fn try_broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i < rank - a.len() {
            1
        } else {
            a[i - (rank - a.len())]
        };
        let db = if i < rank - b.len() {
            1
        } else {
            b[i - (rank - b.len())]
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Strides that read a tensor of (`shape`, `strides`) as if broadcast to `target`: size-1 and
/// missing leading dimensions get stride 0.
///
/// # Panics
/// When `shape` does not broadcast to `target`; the message names `op`.
pub fn broadcast_strides(
    op: &str,
    shape: &[usize],
    strides: &[usize],
    target: &[usize],
) -> Vec<usize> {
    assert!(
        shape.len() <= target.len(),
        "{op}: cannot broadcast shape {shape:?} to {target:?}: it has more dimensions"
    );
    let lead = target.len() - shape.len();
    let mut out = vec![0; target.len()];
    for i in 0..shape.len() {
        let (d, t) = (shape[i], target[lead + i]);
        out[lead + i] = if d == t {
            strides[i]
        } else if d == 1 {
            0
        } else {
            panic!("{op}: cannot broadcast shape {shape:?} to {target:?}")
        };
    }
    out
}

/// Checks `axis < ndim`.
///
/// # Panics
/// With a message naming `op`, the axis and the shape.
#[inline]
pub fn check_axis(op: &str, axis: usize, shape: &[usize]) {
    assert!(
        axis < shape.len(),
        "{op}: axis {axis} is out of range for a tensor of shape {shape:?} (rank {})",
        shape.len()
    );
}

/// Calls `f(offset)` for the storage offset of every element of a strided tensor, in row-major
/// order of `shape`. The innermost dimension runs as a tight loop.
#[inline]
pub fn for_each_offset(
    shape: &[usize],
    strides: &[usize],
    offset: usize,
    mut f: impl FnMut(usize),
) {
    for_each_row(shape, strides, offset, |base, len, stride| {
        let mut o = base;
        for _ in 0..len {
            f(o);
            o += stride;
        }
    });
}

/// Calls `f(base, len, stride)` for every innermost row of a strided tensor, in row-major
/// order of `shape`: the row's elements sit at `base + i·stride` for `i < len`. A rank-0
/// tensor is one row of length 1. Nothing is called for an empty tensor.
#[inline]
pub fn for_each_row(
    shape: &[usize],
    strides: &[usize],
    offset: usize,
    mut f: impl FnMut(usize, usize, usize),
) {
    if shape.contains(&0) {
        return;
    }
    let rank = shape.len();
    if rank == 0 {
        f(offset, 1, 1);
        return;
    }
    let (inner_len, inner_stride) = (shape[rank - 1], strides[rank - 1]);
    let mut index = vec![0usize; rank - 1];
    let mut base = offset;
    loop {
        f(base, inner_len, inner_stride);
        // Advance the outer multi-index like an odometer.
        let mut d = rank - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            index[d] += 1;
            base += strides[d];
            if index[d] < shape[d] {
                break;
            }
            base -= strides[d] * shape[d];
            index[d] = 0;
        }
    }
}

/// As [`for_each_offset`] for two tensors traversed together over one (broadcast) `shape`:
/// calls `f(offset_a, offset_b)`.
#[inline]
pub fn for_each_offset2(
    shape: &[usize],
    a: (&[usize], usize),
    b: (&[usize], usize),
    mut f: impl FnMut(usize, usize),
) {
    for_each_row2(shape, a, b, |(mut oa, mut ob), len, (sa, sb)| {
        for _ in 0..len {
            f(oa, ob);
            oa += sa;
            ob += sb;
        }
    });
}

/// As [`for_each_row`] for two tensors traversed together over one (broadcast) `shape`:
/// calls `f((base_a, base_b), len, (stride_a, stride_b))` for every innermost row.
#[inline]
pub fn for_each_row2(
    shape: &[usize],
    (strides_a, offset_a): (&[usize], usize),
    (strides_b, offset_b): (&[usize], usize),
    mut f: impl FnMut((usize, usize), usize, (usize, usize)),
) {
    if shape.contains(&0) {
        return;
    }
    let rank = shape.len();
    if rank == 0 {
        f((offset_a, offset_b), 1, (1, 1));
        return;
    }
    let inner = (strides_a[rank - 1], strides_b[rank - 1]);
    let mut index = vec![0usize; rank - 1];
    let (mut base_a, mut base_b) = (offset_a, offset_b);
    loop {
        f((base_a, base_b), shape[rank - 1], inner);
        let mut d = rank - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            index[d] += 1;
            base_a += strides_a[d];
            base_b += strides_b[d];
            if index[d] < shape[d] {
                break;
            }
            base_a -= strides_a[d] * shape[d];
            base_b -= strides_b[d] * shape[d];
            index[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes("t", &[3, 1, 4], &[2, 1]), vec![3, 2, 4]);
        assert_eq!(broadcast_shapes("t", &[], &[2, 3]), vec![2, 3]);
        assert_eq!(broadcast_shapes("t", &[0, 1], &[1, 5]), vec![0, 5]);
        assert!(try_broadcast_shapes(&[2, 3], &[3, 2]).is_none());
    }

    #[test]
    #[should_panic(expected = "add: shapes [2, 3] and [4] cannot be broadcast together")]
    fn incompatible_shapes_panic_with_the_op_name() {
        broadcast_shapes("add", &[2, 3], &[4]);
    }

    #[test]
    fn offsets_walk_a_transposed_view() {
        // A 2×3 row-major buffer read as its 3×2 transpose.
        let mut seen = vec![];
        for_each_offset(&[3, 2], &[1, 3], 0, |o| seen.push(o));
        assert_eq!(seen, vec![0, 3, 1, 4, 2, 5]);
    }
}
