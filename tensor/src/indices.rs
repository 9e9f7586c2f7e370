//! [`Indices`]: an n-d array of `usize` positions (class labels, argmax results, gather and
//! scatter indices, pooling switches).

/// An n-dimensional array of indices in row-major order, the integer companion of
/// [`crate::Tensor`] (PyTorch uses an int64 tensor for the same purposes).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Indices {
    data: Vec<usize>,
    shape: Vec<usize>,
}

impl Indices {
    /// Indices of `shape` holding `data` (row-major).
    ///
    /// # Panics
    /// If `data.len() ≠ Π shape`.
    pub fn new(data: Vec<usize>, shape: &[usize]) -> Self {
        let n: usize = shape.iter().product();
        assert_eq!(
            data.len(),
            n,
            "Indices::new: {} values cannot fill shape {shape:?} ({n} elements)",
            data.len()
        );
        Indices {
            data,
            shape: shape.to_vec(),
        }
    }

    /// A 1-D array of `data.len()` indices.
    pub fn from_slice(data: &[usize]) -> Self {
        Indices {
            data: data.to_vec(),
            shape: vec![data.len()],
        }
    }

    /// The dimensions.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The indices in row-major order.
    pub fn as_slice(&self) -> &[usize] {
        &self.data
    }

    /// Number of indices.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no indices.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The indices as a vector (row-major).
    pub fn into_vec(self) -> Vec<usize> {
        self.data
    }
}

impl From<Vec<usize>> for Indices {
    /// A 1-D array.
    fn from(data: Vec<usize>) -> Self {
        let n = data.len();
        Indices {
            data,
            shape: vec![n],
        }
    }
}
