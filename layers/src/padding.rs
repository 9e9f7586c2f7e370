//! [`Padding`]: a convolution's zero padding, given explicitly or as PyTorch's `'same'`.

/// How a convolution pads its input with zeros: a fixed amount on both sides of each spatial
/// axis, or PyTorch's `padding='same'`. `P` is `(usize, usize)` (rows, columns) for
/// [`Conv2d`](crate::Conv2d) and `usize` for [`Conv1d`](crate::Conv1d); a bare amount converts
/// (`conv.with_padding((2, 2))`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding<P> {
    /// This many zeros on both sides of each spatial axis.
    Explicit(P),
    /// As many zeros as keep the output as long as the input along each spatial axis
    /// (PyTorch's `padding='same'`): a total of `d·(k − 1)` for a kernel of `k` taps `d` apart,
    /// `⌊total/2⌋` ahead and the rest behind (so an even total is split evenly and an odd one
    /// puts the extra zero at the end: right, bottom), as PyTorch does. Needs stride 1.
    Same,
}

impl From<(usize, usize)> for Padding<(usize, usize)> {
    fn from(padding: (usize, usize)) -> Self {
        Padding::Explicit(padding)
    }
}

impl From<usize> for Padding<usize> {
    fn from(padding: usize) -> Self {
        Padding::Explicit(padding)
    }
}

/// The `(before, after)` zeros of [`Padding::Same`] along an axis with a kernel of `kernel`
/// taps `dilation` apart: `total = dilation·(kernel − 1)`, `before = ⌊total/2⌋`,
/// `after = total − before`.
pub fn same_padding(kernel: usize, dilation: usize) -> (usize, usize) {
    let total = dilation * kernel.saturating_sub(1);
    (total / 2, total - total / 2)
}
