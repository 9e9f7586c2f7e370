//! Reductions and the softmax family.

use strata_tensor::{Element, Indices, Tensor};

use crate::Var;

/// `g` (reduced over `axis`) expanded back to `shape`: inserts the axis if it was dropped, then
/// broadcasts and materialises.
fn expand_over<T: Element>(
    g: &Tensor<T>,
    axis: usize,
    keepdim: bool,
    shape: &[usize],
) -> Tensor<T> {
    let g = if keepdim {
        g.clone()
    } else {
        g.unsqueeze(axis)
    };
    g.broadcast_to(shape).contiguous()
}

impl<T: Element> Var<T> {
    /// `y = Σᵢ xᵢ` over all elements (a rank-0 result). `∂y/∂xᵢ = 1`.
    pub fn sum(&self) -> Var<T> {
        let shape = self.shape().to_vec();
        Var::record(
            "sum",
            Tensor::scalar(self.value.sum()),
            &[self],
            move |g, _| vec![Some(Tensor::full(&shape, g.item()))],
        )
    }

    /// `y = (1/n)·Σᵢ xᵢ` over all `n` elements (rank 0). `∂y/∂xᵢ = 1/n`.
    pub fn mean(&self) -> Var<T> {
        let shape = self.shape().to_vec();
        let n = T::from_f64_lossy(self.value.numel() as f64);
        Var::record(
            "mean",
            Tensor::scalar(self.value.mean()),
            &[self],
            move |g, _| vec![Some(Tensor::full(&shape, g.item() / n))],
        )
    }

    /// `y = Σ_axis x` (the axis removed, or kept with size 1).
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    pub fn sum_axis(&self, axis: usize, keepdim: bool) -> Var<T> {
        let shape = self.shape().to_vec();
        Var::record(
            "sum_axis",
            self.value.sum_axis(axis, keepdim),
            &[self],
            move |g, _| vec![Some(expand_over(g, axis, keepdim, &shape))],
        )
    }

    /// `y = (1/n)·Σ_axis x` with `n = shape[axis]`.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    ///
    /// let x = Var::leaf(Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 5.0], &[2, 2]));
    /// let y = x.mean_axis(0, false); // column means
    /// assert_eq!(y.value().to_vec(), vec![2.0, 3.5]);
    /// // Each element enters one mean with weight 1/n = 1/2.
    /// assert_eq!(y.sum().backward().wrt(&x).unwrap().to_vec(), vec![0.5; 4]);
    /// ```
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    pub fn mean_axis(&self, axis: usize, keepdim: bool) -> Var<T> {
        let shape = self.shape().to_vec();
        let n = T::from_f64_lossy(shape[axis.min(shape.len().saturating_sub(1))] as f64);
        Var::record(
            "mean_axis",
            self.value.mean_axis(axis, keepdim),
            &[self],
            move |g, _| vec![Some(expand_over(&g.div_scalar(n), axis, keepdim, &shape))],
        )
    }

    /// `y = Σ_axis (x − x̄)² / (n − correction)`. `∂y/∂xᵢ = 2(xᵢ − x̄)/(n − correction)`.
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    pub fn var_axis(&self, axis: usize, correction: usize, keepdim: bool) -> Var<T> {
        let x = self.value.clone();
        Var::record(
            "var_axis",
            x.var_axis(axis, correction, keepdim),
            &[self],
            move |g, _| {
                let n = x.shape()[axis];
                let centered = x.sub(&x.mean_axis(axis, true));
                let scale = T::from_f64_lossy(2.0 / n.saturating_sub(correction) as f64);
                let g = if keepdim {
                    g.clone()
                } else {
                    g.unsqueeze(axis)
                };
                vec![Some(centered.mul(&g).mul_scalar(scale))]
            },
        )
    }

    /// `y = max_axis x`. The gradient flows to one maximum per slice: the first on ties
    /// (the element [`Tensor::argmax_axis`] picks).
    ///
    /// # Panics
    /// If `axis ≥ ndim` or the axis is empty.
    pub fn max_axis(&self, axis: usize, keepdim: bool) -> Var<T> {
        let idx = self.value.argmax_axis(axis);
        self.pick_along(
            "max_axis",
            self.value.max_axis(axis, keepdim),
            axis,
            keepdim,
            idx,
        )
    }

    /// `y = min_axis x`. The gradient flows to the first minimum of each slice.
    ///
    /// # Panics
    /// If `axis ≥ ndim` or the axis is empty.
    pub fn min_axis(&self, axis: usize, keepdim: bool) -> Var<T> {
        let idx = self.value.argmin_axis(axis);
        self.pick_along(
            "min_axis",
            self.value.min_axis(axis, keepdim),
            axis,
            keepdim,
            idx,
        )
    }

    fn pick_along(
        &self,
        op: &'static str,
        y: Tensor<T>,
        axis: usize,
        keepdim: bool,
        idx: Indices,
    ) -> Var<T> {
        let shape = self.shape().to_vec();
        Var::record(op, y, &[self], move |g, _| {
            let mut kept = idx.shape().to_vec();
            kept.insert(axis, 1);
            let idx = Indices::new(idx.into_vec(), &kept);
            let g = if keepdim {
                g.clone()
            } else {
                g.unsqueeze(axis)
            };
            vec![Some(Tensor::zeros(&shape).scatter_add(
                axis,
                &idx,
                &g.contiguous(),
            ))]
        })
    }

    /// `y = log Σ_axis eˣ` (stable). `∂y/∂x = softmax_axis(x)`.
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    pub fn logsumexp_axis(&self, axis: usize, keepdim: bool) -> Var<T> {
        let x = self.value.clone();
        Var::record(
            "logsumexp_axis",
            x.logsumexp_axis(axis, keepdim),
            &[self],
            move |g, _| {
                let g = if keepdim {
                    g.clone()
                } else {
                    g.unsqueeze(axis)
                };
                vec![Some(x.softmax(axis).mul(&g))]
            },
        )
    }

    /// `yᵢ = e^{xᵢ} / Σⱼ e^{xⱼ}` along `axis`. `∂L/∂x = y ⊙ (g − Σ_axis g ⊙ y)`.
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    pub fn softmax(&self, axis: usize) -> Var<T> {
        let y = self.value.softmax(axis);
        let out = y.clone();
        Var::record("softmax", y, &[self], move |g, _| {
            let dot = g.mul(&out).sum_axis(axis, true);
            vec![Some(g.sub(&dot).mul(&out))]
        })
    }

    /// `yᵢ = xᵢ − log Σⱼ e^{xⱼ}` along `axis`. `∂L/∂x = g − softmax(x) ⊙ Σ_axis g`.
    ///
    /// # Panics
    /// If `axis ≥ ndim`.
    pub fn log_softmax(&self, axis: usize) -> Var<T> {
        let y = self.value.log_softmax(axis);
        let out = y.clone();
        Var::record("log_softmax", y, &[self], move |g, _| {
            let total = g.sum_axis(axis, true);
            vec![Some(g.sub(&out.exp().mul(&total)))]
        })
    }
}
