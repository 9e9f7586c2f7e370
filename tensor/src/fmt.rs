//! `Display` and `Debug`: shape, element type and values, with an ellipsis for large tensors.

use std::fmt;

use crate::{Element, Tensor};

/// Along each dimension, at most this many leading and trailing entries are printed.
const EDGE: usize = 3;
/// Dimensions longer than this are abbreviated with `…`.
const SUMMARIZE_ABOVE: usize = 2 * EDGE;

impl<T: Element> Tensor<T> {
    fn write_values(&self, f: &mut fmt::Formatter<'_>, index: &mut Vec<usize>) -> fmt::Result {
        let d = index.len();
        if d == self.ndim() {
            let v = self.get(index);
            return match f.precision() {
                Some(p) => write!(f, "{v:.p$}"),
                None => write!(f, "{v:.4}"),
            };
        }
        let len = self.shape()[d];
        let shown: Vec<Option<usize>> = if len > SUMMARIZE_ABOVE {
            (0..EDGE)
                .map(Some)
                .chain([None])
                .chain((len - EDGE..len).map(Some))
                .collect()
        } else {
            (0..len).map(Some).collect()
        };
        write!(f, "[")?;
        for (j, entry) in shown.iter().enumerate() {
            if j > 0 {
                write!(f, ", ")?;
                if d + 1 < self.ndim() {
                    write!(f, "\n{:indent$}", "", indent = d + 1)?;
                }
            }
            match entry {
                Some(i) => {
                    index.push(*i);
                    self.write_values(f, index)?;
                    index.pop();
                }
                None => write!(f, "…")?,
            }
        }
        write!(f, "]")
    }
}

impl<T: Element> fmt::Display for Tensor<T> {
    /// `tensor([[1.0000, 2.0000], [3.0000, 4.0000]], shape=[2, 2], dtype=f32)`; dimensions
    /// longer than 6 print their first and last 3 entries around `…`. A precision
    /// (`{:.2}`) sets the digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tensor(")?;
        self.write_values(f, &mut Vec::with_capacity(self.ndim()))?;
        write!(f, ", shape={:?}, dtype={})", self.shape(), T::DTYPE)
    }
}

impl<T: Element> fmt::Debug for Tensor<T> {
    /// As `Display`, plus the strides and offset of the view.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)?;
        write!(
            f,
            " (strides={:?}, offset={})",
            self.strides(),
            self.offset()
        )
    }
}
