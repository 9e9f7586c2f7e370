//! Convolution and pooling ops over the kernels of `strata_tensor::conv` and
//! `strata_tensor::pool`. Backward passes reuse the GEMM-based kernels (no naive loops).

use strata_tensor::conv::{self, Conv1dParams, Conv2dParams};
use strata_tensor::{Element, pool};

use crate::Var;

impl<T: Element> Var<T> {
    /// 2-D convolution (cross-correlation, PyTorch's `conv2d`):
    /// `y[n, o, i, j] = b[o] + Σ_{c ∈ group(o), p, q} w[o, c, p, q]·x[n, c, i·s + p·d − pad, j·s + q·d − pad]`.
    /// Shapes: `x: [N, C, H, W]`, `weight: [O, C/groups, kh, kw]`, `bias: [O]`,
    /// `y: [N, O, OH, OW]` with `OH = (H + 2·pad − d·(kh − 1) − 1)/s + 1`.
    /// Gradients: `∂L/∂x` = transposed convolution of `G` with `W`, `∂L/∂W` = correlation of
    /// `x` with `G`, `∂L/∂b = Σ_{n,i,j} G`.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    /// use strata_tensor::conv::Conv2dParams;
    ///
    /// // A 2×2 kernel of ones over a 3×3 image of ones: each of the 2×2 outputs sums 4 pixels.
    /// let x = Var::leaf(Tensor::<f64>::ones(&[1, 1, 3, 3]));
    /// let w = Var::leaf(Tensor::ones(&[1, 1, 2, 2]));
    /// let y = x.conv2d(&w, None, Conv2dParams::default());
    /// assert_eq!((y.shape(), y.value().to_vec()), (&[1, 1, 2, 2][..], vec![4.0; 4]));
    /// let grads = y.sum().backward();
    /// // ∂/∂x counts the windows covering each pixel; ∂/∂w sums the pixels under each tap.
    /// let dx = vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0];
    /// assert_eq!(grads.wrt(&x).unwrap().to_vec(), dx);
    /// assert_eq!(grads.wrt(&w).unwrap().to_vec(), vec![4.0; 4]);
    /// ```
    ///
    /// # Panics
    /// When the shapes do not fit (see `strata_tensor::conv::conv2d`).
    pub fn conv2d(&self, weight: &Var<T>, bias: Option<&Var<T>>, params: Conv2dParams) -> Var<T> {
        let (x, w) = (self.value.clone(), weight.value.clone());
        let y = conv::conv2d(&x, &w, bias.map(|b| &b.value), &params);
        let mut parents = vec![self, weight];
        parents.extend(bias);
        Var::record("conv2d", y, &parents, move |g, needs| {
            let mut grads = vec![
                needs[0].then(|| conv::conv2d_backward_input(g, &w, x.shape(), &params)),
                needs[1].then(|| conv::conv2d_backward_weight(g, &x, w.shape(), &params)),
            ];
            if needs.len() == 3 {
                grads.push(needs[2].then(|| conv::conv2d_backward_bias(g)));
            }
            grads
        })
    }

    /// 1-D convolution: `x: [N, C, L]`, `weight: [O, C/groups, k]`, `bias: [O]` →
    /// `y: [N, O, OL]`, `OL = (L + 2·pad − d·(k − 1) − 1)/s + 1`; as [`Var::conv2d`] with a
    /// height of 1.
    ///
    /// # Panics
    /// When the shapes do not fit.
    pub fn conv1d(&self, weight: &Var<T>, bias: Option<&Var<T>>, params: Conv1dParams) -> Var<T> {
        let (x, w) = (self.value.clone(), weight.value.clone());
        let y = conv::conv1d(&x, &w, bias.map(|b| &b.value), &params);
        let mut parents = vec![self, weight];
        parents.extend(bias);
        Var::record("conv1d", y, &parents, move |g, needs| {
            let mut grads = vec![
                needs[0].then(|| conv::conv1d_backward_input(g, &w, x.shape(), &params)),
                needs[1].then(|| conv::conv1d_backward_weight(g, &x, w.shape(), &params)),
            ];
            if needs.len() == 3 {
                // Σ over batch and length of G: [N, O, L] → [O].
                grads.push(needs[2].then(|| g.sum_axis(2, false).sum_axis(0, false)));
            }
            grads
        })
    }

    /// Transposed 2-D convolution (PyTorch's `conv_transpose2d`, the input-gradient of
    /// `conv2d`): `x: [N, C_in, H, W]`, `weight: [C_in, C_out/groups, kh, kw]`, `bias: [C_out]`,
    /// `y: [N, C_out, OH, OW]` with `OH = (H − 1)·s − 2·pad + d·(kh − 1) + output_padding + 1`.
    ///
    /// # Panics
    /// When the shapes do not fit.
    pub fn conv_transpose2d(
        &self,
        weight: &Var<T>,
        bias: Option<&Var<T>>,
        params: Conv2dParams,
        output_padding: (usize, usize),
    ) -> Var<T> {
        let (x, w) = (self.value.clone(), weight.value.clone());
        let y = conv::conv_transpose2d(&x, &w, bias.map(|b| &b.value), &params, output_padding);
        let mut parents = vec![self, weight];
        parents.extend(bias);
        Var::record("conv_transpose2d", y, &parents, move |g, needs| {
            let mut grads = vec![
                needs[0].then(|| conv::conv_transpose2d_backward_input(g, &w, x.shape(), &params)),
                needs[1].then(|| conv::conv_transpose2d_backward_weight(g, &x, w.shape(), &params)),
            ];
            if needs.len() == 3 {
                grads.push(needs[2].then(|| conv::conv2d_backward_bias(g)));
            }
            grads
        })
    }

    /// 2-D max pooling over `[N, C, H, W]` (padding counts as −∞):
    /// `y[n, c, i, j] = max_{p, q} x[n, c, i·s + p·d − pad, j·s + q·d − pad]`. The argmax of
    /// each window is kept; the gradient flows to it alone (the first maximum on ties).
    ///
    /// # Panics
    /// When the window does not fit (see `strata_tensor::pool::max_pool2d`).
    pub fn max_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
        dilation: (usize, usize),
    ) -> Var<T> {
        self.max_pool2d_with(kernel, stride, padding, dilation, false)
    }

    /// [`Var::max_pool2d`] with PyTorch's `ceil_mode` (the output size rounds up; the last
    /// windows are clipped to the input).
    ///
    /// # Panics
    /// As [`Var::max_pool2d`].
    pub fn max_pool2d_with(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
        dilation: (usize, usize),
        ceil_mode: bool,
    ) -> Var<T> {
        let (y, indices) =
            pool::max_pool2d_with(&self.value, kernel, stride, padding, dilation, ceil_mode);
        let shape = self.shape().to_vec();
        Var::record("max_pool2d", y, &[self], move |g, _| {
            vec![Some(pool::max_pool2d_backward(g, &indices, &shape))]
        })
    }

    /// 2-D average pooling over `[N, C, H, W]`, zero padding counted in the divisor (PyTorch's
    /// default `count_include_pad = true`): `y = (1/(kh·kw))·Σ_window x`.
    ///
    /// # Panics
    /// When the window does not fit.
    pub fn avg_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Var<T> {
        self.avg_pool2d_with(kernel, stride, padding, &pool::AvgPoolOptions::default())
    }

    /// [`Var::avg_pool2d`] with PyTorch's `ceil_mode`, `count_include_pad` and
    /// `divisor_override` (see `strata_tensor::pool::avg_pool2d_with` for the divisor of each
    /// window); the gradient spreads each output gradient over its window with that divisor.
    ///
    /// # Panics
    /// As [`Var::avg_pool2d`], and for `divisor_override = Some(0)`.
    pub fn avg_pool2d_with(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
        options: &pool::AvgPoolOptions,
    ) -> Var<T> {
        let y = pool::avg_pool2d_with(&self.value, kernel, stride, padding, options);
        let shape = self.shape().to_vec();
        let options = *options;
        Var::record("avg_pool2d", y, &[self], move |g, _| {
            vec![Some(pool::avg_pool2d_backward_with(
                g, &shape, kernel, stride, padding, &options,
            ))]
        })
    }

    /// Adaptive average pooling to `output = (OH, OW)`: bin `i` averages input rows
    /// `⌊i·H/OH⌋ .. ⌈(i + 1)·H/OH⌉` (PyTorch's bins).
    ///
    /// # Panics
    /// If the input is not 4-D or an output size is 0.
    pub fn adaptive_avg_pool2d(&self, output: (usize, usize)) -> Var<T> {
        let y = pool::adaptive_avg_pool2d(&self.value, output);
        let shape = self.shape().to_vec();
        Var::record("adaptive_avg_pool2d", y, &[self], move |g, _| {
            vec![Some(pool::adaptive_avg_pool2d_backward(g, &shape))]
        })
    }
}
