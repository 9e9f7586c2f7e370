//! The [`Tensor`] type: shared storage plus a strided view of it.

use std::sync::Arc;

use crate::Element;
use crate::shape::{self, check_axis, contiguous_strides, for_each_offset, for_each_row};
use crate::storage::{self, Storage};

/// An n-dimensional array of `T` (`f32` by default, or `f64`).
///
/// A tensor is a view — `shape`, `strides` (in elements) and `offset` — over storage shared by
/// reference counting. Views (`transpose`, `permute`, `narrow`, `broadcast_to`, `reshape` of a
/// contiguous tensor, …) share the storage and cost no copy; storage is never mutated while
/// shared (in-place methods copy first if another tensor still reads it). Cloning a tensor is
/// cheap: it clones the `Arc`.
///
/// A rank-0 tensor (shape `[]`) holds one scalar.
#[derive(Clone)]
pub struct Tensor<T: Element = f32> {
    storage: Arc<Storage<T>>,
    shape: Vec<usize>,
    strides: Vec<usize>,
    offset: usize,
}

impl<T: Element> Tensor<T> {
    /// A contiguous tensor of `shape` owning `data` (row-major order).
    ///
    /// # Panics
    /// If `data.len() ≠ Π shape`.
    pub fn from_vec(data: Vec<T>, shape: &[usize]) -> Self {
        let n = shape::numel(shape);
        assert_eq!(
            data.len(),
            n,
            "from_vec: {} values cannot fill shape {shape:?} ({n} elements)",
            data.len()
        );
        Tensor {
            storage: Arc::new(Storage::new(data)),
            strides: contiguous_strides(shape),
            shape: shape.to_vec(),
            offset: 0,
        }
    }

    /// A rank-0 tensor holding `value`.
    pub fn scalar(value: T) -> Self {
        Self::from_vec(vec![value], &[])
    }

    /// A view with explicit `shape`, `strides` and `offset` over `storage`.
    ///
    /// # Panics
    /// If the view would read past the end of `storage`.
    pub fn from_parts(
        storage: Arc<Storage<T>>,
        shape: &[usize],
        strides: &[usize],
        offset: usize,
    ) -> Self {
        assert_eq!(
            shape.len(),
            strides.len(),
            "from_parts: shape {shape:?} and strides {strides:?} differ in rank"
        );
        if !shape.contains(&0) {
            let last = offset
                + shape
                    .iter()
                    .zip(strides)
                    .map(|(&d, &s)| (d - 1) * s)
                    .sum::<usize>();
            assert!(
                last < storage.len(),
                "from_parts: view {shape:?} / strides {strides:?} / offset {offset} reads element {last} of a storage of {}",
                storage.len()
            );
        }
        Tensor {
            storage,
            shape: shape.to_vec(),
            strides: strides.to_vec(),
            offset,
        }
    }

    /// The dimensions.
    #[inline]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The strides, in elements (0 on broadcast dimensions).
    #[inline]
    pub fn strides(&self) -> &[usize] {
        &self.strides
    }

    /// Offset of the first element in the storage.
    #[inline]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The shared storage this tensor views.
    #[inline]
    pub fn storage(&self) -> &Arc<Storage<T>> {
        &self.storage
    }

    /// Number of dimensions (rank).
    #[inline]
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements, `Π shape`.
    #[inline]
    pub fn numel(&self) -> usize {
        shape::numel(&self.shape)
    }

    /// Size of dimension `axis`.
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    #[inline]
    pub fn dim(&self, axis: usize) -> usize {
        check_axis("dim", axis, &self.shape);
        self.shape[axis]
    }

    /// Whether the elements are laid out in row-major order without gaps (size-1 dimensions may
    /// have any stride).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            if d != 1 && s != expected {
                return false;
            }
            expected *= d;
        }
        true
    }

    /// The elements in row-major order as one slice, when the tensor is contiguous.
    pub fn as_slice(&self) -> Option<&[T]> {
        self.is_contiguous()
            .then(|| &self.storage[self.offset..self.offset + self.numel()])
    }

    /// The elements in row-major order, as a mutable slice of storage this tensor owns alone.
    ///
    /// Copies first when the tensor is not contiguous or its storage is shared with another
    /// tensor (copy-on-write), so writing never changes another tensor.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        let whole = self.offset == 0 && self.storage.len() == self.numel();
        if !(self.is_contiguous() && whole && Arc::get_mut(&mut self.storage).is_some()) {
            *self = Tensor::from_vec(self.to_vec(), &self.shape);
        }
        Arc::get_mut(&mut self.storage).expect("storage is unique after the copy")
    }

    /// The elements in row-major order (a copy).
    pub fn to_vec(&self) -> Vec<T> {
        if let Some(s) = self.as_slice() {
            return s.to_vec();
        }
        // Row by row: contiguous rows are copied whole and broadcast (stride-0) rows filled,
        // so materialising a view costs about a memcpy.
        let mut out = storage::with_capacity(self.numel());
        for_each_row(
            &self.shape,
            &self.strides,
            self.offset,
            |base, len, stride| match stride {
                1 => out.extend_from_slice(&self.storage[base..base + len]),
                0 => out.resize(out.len() + len, self.storage[base]),
                _ => out.extend((0..len).map(|i| self.storage[base + i * stride])),
            },
        );
        out
    }

    /// The elements in row-major order, without a copy when this tensor owns its whole
    /// contiguous storage.
    pub fn into_vec(self) -> Vec<T> {
        if self.is_contiguous() && self.offset == 0 && self.storage.len() == self.numel() {
            match Arc::try_unwrap(self.storage) {
                Ok(v) => v.into_vec(),
                Err(shared) => shared.to_vec(),
            }
        } else {
            self.to_vec()
        }
    }

    /// The single value of a one-element tensor (of any rank).
    ///
    /// # Panics
    /// If the tensor does not hold exactly one element.
    pub fn item(&self) -> T {
        assert_eq!(
            self.numel(),
            1,
            "item: tensor of shape {:?} holds {} elements, not 1",
            self.shape,
            self.numel()
        );
        self.storage[self.offset]
    }

    /// The element at multi-index `index`.
    ///
    /// # Panics
    /// If `index` has the wrong rank or is out of bounds.
    pub fn get(&self, index: &[usize]) -> T {
        self.storage[self.storage_index("get", index)]
    }

    fn storage_index(&self, op: &str, index: &[usize]) -> usize {
        assert_eq!(
            index.len(),
            self.ndim(),
            "{op}: index {index:?} has the wrong rank for shape {:?}",
            self.shape
        );
        let mut o = self.offset;
        for ((&i, &d), &s) in index.iter().zip(&self.shape).zip(&self.strides) {
            assert!(
                i < d,
                "{op}: index {index:?} is out of bounds for shape {:?}",
                self.shape
            );
            o += i * s;
        }
        o
    }

    /// This tensor if contiguous (a cheap clone), else a contiguous copy.
    pub fn contiguous(&self) -> Self {
        if self.is_contiguous() {
            self.clone()
        } else {
            Tensor::from_vec(self.to_vec(), &self.shape)
        }
    }

    /// A tensor of `shape` with the same elements in row-major order. A view when the tensor
    /// is contiguous, otherwise a contiguous copy. One entry of `shape` may be
    /// `usize::MAX`, meaning "whatever makes the count match" (PyTorch's `-1`).
    ///
    /// # Panics
    /// If the element counts differ.
    pub fn reshape(&self, shape: &[usize]) -> Self {
        let shape = infer_shape("reshape", &self.shape, shape);
        assert_eq!(
            shape::numel(&shape),
            self.numel(),
            "reshape: cannot reshape {:?} ({} elements) to {shape:?} ({} elements)",
            self.shape,
            self.numel(),
            shape::numel(&shape)
        );
        let base = self.contiguous();
        Tensor {
            storage: base.storage,
            strides: contiguous_strides(&shape),
            shape,
            offset: base.offset,
        }
    }

    /// Collapses all dimensions from `start` on into one: `[a, b, c, d].flatten_from(1) = [a, b·c·d]`.
    ///
    /// # Panics
    /// If `start > ndim`.
    pub fn flatten_from(&self, start: usize) -> Self {
        assert!(
            start <= self.ndim(),
            "flatten_from: start {start} exceeds rank {} of {:?}",
            self.ndim(),
            self.shape
        );
        let mut shape = self.shape[..start].to_vec();
        shape.push(self.shape[start..].iter().product());
        self.reshape(&shape)
    }

    /// Swaps dimensions `a` and `b` (a view).
    ///
    /// # Panics
    /// If either axis is out of range.
    pub fn transpose(&self, a: usize, b: usize) -> Self {
        check_axis("transpose", a, &self.shape);
        check_axis("transpose", b, &self.shape);
        let mut t = self.clone();
        t.shape.swap(a, b);
        t.strides.swap(a, b);
        t
    }

    /// The transpose of a 2-D tensor, `[m, n] → [n, m]` (a view).
    ///
    /// # Panics
    /// If the tensor is not 2-D.
    pub fn t(&self) -> Self {
        assert_eq!(
            self.ndim(),
            2,
            "t: expects a 2-D tensor, got shape {:?}",
            self.shape
        );
        self.transpose(0, 1)
    }

    /// Reorders the dimensions: result dimension `i` is input dimension `order[i]` (a view).
    ///
    /// # Panics
    /// If `order` is not a permutation of `0..ndim`.
    pub fn permute(&self, order: &[usize]) -> Self {
        let mut seen = vec![false; self.ndim()];
        let valid = order.len() == self.ndim()
            && order
                .iter()
                .all(|&o| o < seen.len() && !std::mem::replace(&mut seen[o], true));
        assert!(
            valid,
            "permute: {order:?} is not a permutation of the axes of shape {:?}",
            self.shape
        );
        Tensor {
            storage: self.storage.clone(),
            shape: order.iter().map(|&o| self.shape[o]).collect(),
            strides: order.iter().map(|&o| self.strides[o]).collect(),
            offset: self.offset,
        }
    }

    /// The slice `start..start + len` along `axis` (a view).
    ///
    /// # Panics
    /// If `axis` is out of range or the slice exceeds the dimension.
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Self {
        check_axis("narrow", axis, &self.shape);
        assert!(
            start + len <= self.shape[axis],
            "narrow: range {start}..{} exceeds dimension {axis} of shape {:?}",
            start + len,
            self.shape
        );
        let mut t = self.clone();
        if len > 0 {
            t.offset += start * self.strides[axis];
        }
        t.shape[axis] = len;
        t
    }

    /// The sub-tensor at `index` along `axis`, with that dimension removed (a view).
    ///
    /// # Panics
    /// If `axis` or `index` is out of range.
    pub fn select(&self, axis: usize, index: usize) -> Self {
        check_axis("select", axis, &self.shape);
        assert!(
            index < self.shape[axis],
            "select: index {index} is out of range for dimension {axis} of shape {:?}",
            self.shape
        );
        let mut t = self.narrow(axis, index, 1);
        t.shape.remove(axis);
        t.strides.remove(axis);
        t
    }

    /// A view of this tensor broadcast to `shape` (NumPy rules; broadcast dimensions get
    /// stride 0, so no data is copied).
    ///
    /// # Panics
    /// If the shape does not broadcast to `shape`.
    pub fn broadcast_to(&self, shape: &[usize]) -> Self {
        let strides = shape::broadcast_strides("broadcast_to", &self.shape, &self.strides, shape);
        Tensor {
            storage: self.storage.clone(),
            shape: shape.to_vec(),
            strides,
            offset: self.offset,
        }
    }

    /// Inserts a dimension of size 1 at `axis` (`0 ≤ axis ≤ ndim`; a view).
    ///
    /// # Panics
    /// If `axis > ndim`.
    pub fn unsqueeze(&self, axis: usize) -> Self {
        assert!(
            axis <= self.ndim(),
            "unsqueeze: axis {axis} is out of range for shape {:?}",
            self.shape
        );
        let mut t = self.clone();
        let stride = if axis < self.ndim() {
            self.strides[axis] * self.shape[axis]
        } else {
            1
        };
        t.shape.insert(axis, 1);
        t.strides.insert(axis, stride);
        t
    }

    /// Removes dimension `axis`, which must have size 1 (a view).
    ///
    /// # Panics
    /// If `axis` is out of range or its size is not 1.
    pub fn squeeze(&self, axis: usize) -> Self {
        check_axis("squeeze", axis, &self.shape);
        assert_eq!(
            self.shape[axis], 1,
            "squeeze: dimension {axis} of shape {:?} is not 1",
            self.shape
        );
        let mut t = self.clone();
        t.shape.remove(axis);
        t.strides.remove(axis);
        t
    }

    /// Removes every dimension of size 1 (a view).
    pub fn squeeze_all(&self) -> Self {
        let keep: Vec<usize> = (0..self.ndim()).filter(|&i| self.shape[i] != 1).collect();
        Tensor {
            storage: self.storage.clone(),
            shape: keep.iter().map(|&i| self.shape[i]).collect(),
            strides: keep.iter().map(|&i| self.strides[i]).collect(),
            offset: self.offset,
        }
    }

    /// Applies `f` to every element, giving a new contiguous tensor of the same shape.
    pub fn map(&self, f: impl Fn(T) -> T + Sync) -> Self {
        match self.as_slice() {
            Some(s) => Tensor::from_vec(crate::parallel::map_slice(s, &f), &self.shape),
            None => {
                let mut out = crate::storage::with_capacity::<T>(self.numel());
                for_each_offset(&self.shape, &self.strides, self.offset, |o| {
                    out.push(f(self.storage[o]))
                });
                Tensor::from_vec(out, &self.shape)
            }
        }
    }

    /// Converts every element to another element type (e.g. `f32 → f64`).
    pub fn cast<U: Element>(&self) -> Tensor<U> {
        let data = self
            .to_vec()
            .into_iter()
            .map(|v| U::from_f64_lossy(v.to_f64_lossless()))
            .collect();
        Tensor::from_vec(data, &self.shape)
    }

    /// Whether both tensors have the same shape and all elements satisfy
    /// `|a − b| ≤ atol + rtol·|b|` (NaNs never compare close).
    pub fn allclose(&self, other: &Tensor<T>, rtol: f64, atol: f64) -> bool {
        self.shape == other.shape
            && self.to_vec().iter().zip(other.to_vec()).all(|(&a, b)| {
                let (a, b) = (a.to_f64_lossless(), b.to_f64_lossless());
                (a - b).abs() <= atol + rtol * b.abs()
            })
    }
}

/// Resolves one `usize::MAX` ("infer") entry of a requested shape.
fn infer_shape(op: &str, from: &[usize], requested: &[usize]) -> Vec<usize> {
    let unknown: Vec<usize> = (0..requested.len())
        .filter(|&i| requested[i] == usize::MAX)
        .collect();
    match unknown.as_slice() {
        [] => requested.to_vec(),
        [i] => {
            let known: usize = requested.iter().filter(|&&d| d != usize::MAX).product();
            let total = shape::numel(from);
            assert!(
                known != 0 && total.is_multiple_of(known),
                "{op}: cannot infer the size of dimension {i} reshaping {from:?} to {requested:?}"
            );
            let mut shape = requested.to_vec();
            shape[*i] = total / known;
            shape
        }
        _ => panic!("{op}: only one dimension of {requested:?} may be inferred"),
    }
}

impl<T: Element> PartialEq for Tensor<T> {
    /// Same shape and equal elements (views with different strides compare by value).
    fn eq(&self, other: &Self) -> bool {
        self.shape == other.shape && self.to_vec() == other.to_vec()
    }
}
