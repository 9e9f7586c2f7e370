//! Strided matrix views, the operands of [`gemm`](super::gemm).
//!
//! A view is a pointer, a shape `rows × cols` and a (row, column) stride in elements: element
//! `(i, j)` lies at `ptr + i·row_stride + j·col_stride`. A row-major `r × c` matrix has strides
//! `(c, 1)`, a column-major one `(1, r)`, and the transpose of a view is the same view with
//! shape and strides swapped ([`MatRef::t`]), so a transposed operand is never copied.
//!
//! The safe constructors take a slice (element `(i, j)` is `data[i·row_stride + j·col_stride]`)
//! and check that every addressed element lies inside it; [`MatMut`]'s also check that distinct
//! `(i, j)` address distinct elements. A view built that way can be handed to
//! [`gemm`](super::gemm) without `unsafe`: the borrow checker keeps a [`MatMut`] apart from every
//! [`MatRef`]. `from_raw_parts` builds a view from a raw pointer for callers that already hold
//! one, with those guarantees as its safety contract.

use std::fmt;
use std::marker::PhantomData;

/// A read-only `rows × cols` matrix view: element `(i, j)` at `ptr + i·row_stride +
/// j·col_stride` (strides in elements), borrowed for `'a`.
///
/// Built from a slice with [`MatRef::from_slice`] or [`MatRef::row_major`] (bounds checked), or
/// from a raw pointer with [`MatRef::from_raw_parts`]. Distinct `(i, j)` may address one
/// element (a stride may be 0). `Copy`: passing a view by value does not consume the data.
pub struct MatRef<'a, T> {
    ptr: *const T,
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
    _data: PhantomData<&'a T>,
}

/// A mutable `rows × cols` matrix view: element `(i, j)` at `ptr + i·row_stride +
/// j·col_stride` (strides in elements), borrowed uniquely for `'a`; distinct `(i, j)` address
/// distinct elements.
///
/// Built from a slice with [`MatMut::from_slice`] or [`MatMut::row_major`] (bounds and overlap
/// checked), or from a raw pointer with [`MatMut::from_raw_parts`].
pub struct MatMut<'a, T> {
    ptr: *mut T,
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
    _data: PhantomData<&'a mut T>,
}

// SAFETY: a `MatRef` is a shared borrow of `T`s (as `&'a [T]`), so it may cross threads when
// `&T` may, i.e. when `T: Sync`.
unsafe impl<T: Sync> Send for MatRef<'_, T> {}
// SAFETY: as above; sharing a `MatRef` only gives out more shared access.
unsafe impl<T: Sync> Sync for MatRef<'_, T> {}
// SAFETY: a `MatMut` is a unique borrow of distinct `T`s (as `&'a mut [T]`), so it may move to
// another thread when `T: Send`.
unsafe impl<T: Send> Send for MatMut<'_, T> {}
// SAFETY: through `&MatMut` only the pointer and shape are readable (as `&&mut [T]`).
unsafe impl<T: Sync> Sync for MatMut<'_, T> {}

impl<T> Clone for MatRef<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for MatRef<'_, T> {}

impl<T> fmt::Debug for MatRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MatRef")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .field("row_stride", &self.row_stride)
            .field("col_stride", &self.col_stride)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for MatMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MatMut")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .field("row_stride", &self.row_stride)
            .field("col_stride", &self.col_stride)
            .finish_non_exhaustive()
    }
}

/// Panics, naming `ctor`, unless every offset `i·rs + j·cs` (`i < rows`, `j < cols`) lies in
/// `0..len`. An empty view (`rows = 0` or `cols = 0`) addresses nothing and always passes.
#[track_caller]
fn check_bounds(ctor: &str, len: usize, rows: usize, cols: usize, rs: isize, cs: isize) {
    if rows == 0 || cols == 0 {
        return;
    }
    // The lowest and highest offsets: each dimension adds its last offset to one end.
    let last = |n: usize, s: isize| isize::try_from(n - 1).ok()?.checked_mul(s);
    let range = last(rows, rs).zip(last(cols, cs)).and_then(|(r, c)| {
        let lo = r.min(0).checked_add(c.min(0))?;
        let hi = r.max(0).checked_add(c.max(0))?;
        Some((lo, hi))
    });
    match range {
        Some((lo, hi)) if lo >= 0 && hi.unsigned_abs() < len => {}
        Some((lo, hi)) => panic!(
            "{ctor}: a {rows}×{cols} view with strides ({rs}, {cs}) addresses elements \
             {lo}..={hi}, outside a slice of length {len}"
        ),
        None => panic!(
            "{ctor}: a {rows}×{cols} view with strides ({rs}, {cs}) has offsets beyond isize \
             (slice of length {len})"
        ),
    }
}

/// Whether distinct `(i, j)` of a `rows × cols` view with strides `(rs, cs)` address distinct
/// offsets: the view is empty, or, with the dimensions of more than one element sorted by
/// `|stride|`, each stride exceeds the largest offset the smaller ones reach. (Sufficient, and necessary for the
/// layouts met in practice; offsets must not overflow, see [`check_bounds`].)
fn distinct_elements(rows: usize, cols: usize, rs: isize, cs: isize) -> bool {
    if rows == 0 || cols == 0 {
        return true; // nothing addressed
    }
    let mut dims = [(rows, rs.unsigned_abs()), (cols, cs.unsigned_abs())];
    dims.sort_by_key(|&(_, s)| s);
    let mut reach = 0usize;
    for (n, s) in dims {
        if n <= 1 {
            continue;
        }
        if s <= reach {
            return false;
        }
        reach = reach.saturating_add((n - 1).saturating_mul(s));
    }
    true
}

/// `cols` as a row stride, panicking (naming `ctor`) if it does not fit `isize`.
#[track_caller]
fn row_major_stride(ctor: &str, len: usize, rows: usize, cols: usize) -> isize {
    assert!(
        rows.checked_mul(cols) == Some(len),
        "{ctor}: a {rows}×{cols} row-major matrix needs {} elements, the slice has {len}",
        rows as u128 * cols as u128
    );
    isize::try_from(cols).unwrap_or_else(|_| panic!("{ctor}: {cols} columns exceed isize"))
}

impl<'a, T> MatRef<'a, T> {
    /// The `rows × cols` view of `data` whose element `(i, j)` is
    /// `data[i·row_stride + j·col_stride]`.
    ///
    /// # Panics
    /// If some `(i, j)` with `i < rows`, `j < cols` addresses an index outside `0..data.len()`
    /// (so a negative stride is allowed only on a dimension of one element). An empty view
    /// (`rows = 0` or `cols = 0`) fits any slice.
    #[track_caller]
    pub fn from_slice(
        data: &'a [T],
        rows: usize,
        cols: usize,
        row_stride: isize,
        col_stride: isize,
    ) -> Self {
        check_bounds(
            "MatRef::from_slice",
            data.len(),
            rows,
            cols,
            row_stride,
            col_stride,
        );
        MatRef {
            ptr: data.as_ptr(),
            rows,
            cols,
            row_stride,
            col_stride,
            _data: PhantomData,
        }
    }

    /// The row-major `rows × cols` matrix held in `data`: strides `(cols, 1)`, element `(i, j)`
    /// is `data[i·cols + j]`.
    ///
    /// # Panics
    /// If `data.len() ≠ rows·cols`.
    #[track_caller]
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        let rs = row_major_stride("MatRef::row_major", data.len(), rows, cols);
        MatRef {
            ptr: data.as_ptr(),
            rows,
            cols,
            row_stride: rs,
            col_stride: 1,
            _data: PhantomData,
        }
    }

    /// The `rows × cols` view whose element `(i, j)` is at `ptr.offset(i·row_stride +
    /// j·col_stride)`, borrowed for `'a`.
    ///
    /// # Safety
    /// For every `i < rows`, `j < cols`: the offset `i·row_stride + j·col_stride` does not
    /// overflow `isize`, and the element there lies inside one live allocation and is
    /// initialised, readable, and not written through any other pointer or reference for
    /// `'a`. (An empty view addresses nothing; `ptr` then only has to be non-null.) Distinct
    /// `(i, j)` may address one element.
    pub unsafe fn from_raw_parts(
        ptr: *const T,
        rows: usize,
        cols: usize,
        row_stride: isize,
        col_stride: isize,
    ) -> Self {
        MatRef {
            ptr,
            rows,
            cols,
            row_stride,
            col_stride,
            _data: PhantomData,
        }
    }

    /// The transpose: the `cols × rows` view of the same elements, `(i, j)` ↦ `(j, i)` (shape
    /// and strides swapped, nothing copied).
    #[must_use]
    pub fn t(self) -> Self {
        MatRef {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Elements from `(i, j)` to `(i + 1, j)`.
    pub fn row_stride(&self) -> isize {
        self.row_stride
    }

    /// Elements from `(i, j)` to `(i, j + 1)`.
    pub fn col_stride(&self) -> isize {
        self.col_stride
    }

    /// Pointer to element `(0, 0)` (the slice's start for the slice constructors).
    pub fn as_ptr(&self) -> *const T {
        self.ptr
    }
}

impl<'a, T> MatMut<'a, T> {
    /// The mutable `rows × cols` view of `data` whose element `(i, j)` is
    /// `data[i·row_stride + j·col_stride]`.
    ///
    /// # Panics
    /// If some `(i, j)` with `i < rows`, `j < cols` addresses an index outside `0..data.len()`,
    /// or if two distinct `(i, j)` may address one element: with the dimensions of more than
    /// one element sorted by `|stride|`, each stride must exceed the largest offset the
    /// smaller ones reach (so no stride 0 there, and e.g. a row-major view needs
    /// `row_stride ≥ cols`). An empty view (`rows = 0` or `cols = 0`) passes both checks.
    #[track_caller]
    pub fn from_slice(
        data: &'a mut [T],
        rows: usize,
        cols: usize,
        row_stride: isize,
        col_stride: isize,
    ) -> Self {
        const CTOR: &str = "MatMut::from_slice";
        check_bounds(CTOR, data.len(), rows, cols, row_stride, col_stride);
        assert!(
            distinct_elements(rows, cols, row_stride, col_stride),
            "{CTOR}: a {rows}×{cols} view with strides ({row_stride}, {col_stride}) addresses \
             some element twice (distinct (i, j) must address distinct elements)"
        );
        MatMut {
            ptr: data.as_mut_ptr(),
            rows,
            cols,
            row_stride,
            col_stride,
            _data: PhantomData,
        }
    }

    /// The row-major `rows × cols` matrix held in `data`: strides `(cols, 1)`, element `(i, j)`
    /// is `data[i·cols + j]`.
    ///
    /// # Panics
    /// If `data.len() ≠ rows·cols`.
    #[track_caller]
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Self {
        let rs = row_major_stride("MatMut::row_major", data.len(), rows, cols);
        MatMut {
            ptr: data.as_mut_ptr(),
            rows,
            cols,
            row_stride: rs,
            col_stride: 1,
            _data: PhantomData,
        }
    }

    /// The mutable `rows × cols` view whose element `(i, j)` is at `ptr.offset(i·row_stride +
    /// j·col_stride)`, borrowed uniquely for `'a`.
    ///
    /// # Safety
    /// For every `i < rows`, `j < cols`: the offset `i·row_stride + j·col_stride` does not
    /// overflow `isize`, and the element there lies inside one live allocation, is
    /// initialised, and is neither read nor written through any other pointer or reference
    /// for `'a` (in particular through no [`MatRef`] handed to the same product). Distinct
    /// `(i, j)` address distinct elements. (An empty view addresses nothing; `ptr` then only
    /// has to be non-null.)
    pub unsafe fn from_raw_parts(
        ptr: *mut T,
        rows: usize,
        cols: usize,
        row_stride: isize,
        col_stride: isize,
    ) -> Self {
        MatMut {
            ptr,
            rows,
            cols,
            row_stride,
            col_stride,
            _data: PhantomData,
        }
    }

    /// The transpose: the `cols × rows` view of the same elements, `(i, j)` ↦ `(j, i)` (shape
    /// and strides swapped, nothing copied).
    #[must_use]
    pub fn t(self) -> Self {
        MatMut {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Elements from `(i, j)` to `(i + 1, j)`.
    pub fn row_stride(&self) -> isize {
        self.row_stride
    }

    /// Elements from `(i, j)` to `(i, j + 1)`.
    pub fn col_stride(&self) -> isize {
        self.col_stride
    }

    /// Pointer to element `(0, 0)` (the slice's start for the slice constructors).
    pub fn as_ptr(&self) -> *const T {
        self.ptr
    }

    /// Mutable pointer to element `(0, 0)`; writes through it stay inside the view's elements.
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.ptr
    }
}

#[cfg(test)]
mod tests {
    use super::distinct_elements;

    #[test]
    fn distinct_elements_on_the_usual_layouts() {
        assert!(distinct_elements(3, 4, 4, 1)); // row-major
        assert!(distinct_elements(3, 4, 1, 3)); // column-major
        assert!(distinct_elements(3, 4, 9, 2)); // neither stride 1
        assert!(distinct_elements(3, 4, -4, 1)); // rows reversed
        assert!(distinct_elements(1, 4, 0, 1)); // a lone row: its stride is never used
        assert!(distinct_elements(4, 1, 1, 0));
        assert!(distinct_elements(0, 4, 0, 0));
        assert!(distinct_elements(0, 4, 1, 0)); // empty: nothing addressed
        assert!(distinct_elements(4, 0, 0, 0));
        assert!(distinct_elements(1, 1, 0, 0));
        assert!(!distinct_elements(3, 4, 3, 1)); // rows overlap: (1, 0) = (0, 3)
        assert!(!distinct_elements(3, 4, 0, 1));
        assert!(!distinct_elements(2, 2, 1, 1));
        assert!(!distinct_elements(2, 1, 0, 7));
    }
}
