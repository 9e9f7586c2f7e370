//! Matrix products: `matmul` (2-D and batched) and the fused affine map `linear`.
//! Backward passes reuse the GEMM path with transposed views (no transposed copies).

use strata_tensor::{Element, Tensor};

use crate::Var;

/// The transpose of the last two dimensions (a view).
fn mt<T: Element>(t: &Tensor<T>) -> Tensor<T> {
    t.transpose(t.ndim() - 2, t.ndim() - 1)
}

impl<T: Element> Var<T> {
    /// Matrix product with `Tensor::matmul` semantics (1-D, 2-D and broadcast batched operands).
    /// For `Y = A·B`: `∂L/∂A = G·Bᵀ`, `∂L/∂B = Aᵀ·G`, summed over broadcast batch dimensions.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    ///
    /// let a = Var::leaf(Tensor::<f64>::from_vec(vec![1.0, 2.0], &[1, 2]));
    /// let b = Var::leaf(Tensor::from_vec(vec![3.0, 4.0], &[2, 1]));
    /// let y = a.matmul(&b); // [1, 1]
    /// assert_eq!(y.value().to_vec(), vec![11.0]);
    /// let grads = y.backward();
    /// assert_eq!(grads.wrt(&a).unwrap().to_vec(), vec![3.0, 4.0]); // G·Bᵀ
    /// assert_eq!(grads.wrt(&b).unwrap().to_vec(), vec![1.0, 2.0]); // Aᵀ·G
    /// ```
    ///
    /// # Panics
    /// As `Tensor::matmul`, e.g. `matmul: [2, 3] × [4, 5]: inner dimensions 3 ≠ 4`.
    pub fn matmul(&self, other: &Var<T>) -> Var<T> {
        match (self.ndim(), other.ndim()) {
            (1, 1) => self.mul(other).sum(),
            (1, _) => {
                let y = self.unsqueeze(0).matmul(other);
                let axis = y.ndim() - 2;
                y.squeeze(axis)
            }
            (_, 1) => {
                let y = self.matmul(&other.unsqueeze(1));
                let axis = y.ndim() - 1;
                y.squeeze(axis)
            }
            _ => {
                let (a, b) = (self.value.clone(), other.value.clone());
                Var::record("matmul", a.matmul(&b), &[self, other], move |g, needs| {
                    let ga = needs[0].then(|| g.matmul(&mt(&b)).sum_to_shape(a.shape()));
                    let gb = needs[1].then(|| mt(&a).matmul(g).sum_to_shape(b.shape()));
                    vec![ga, gb]
                })
            }
        }
    }

    /// The affine map of a fully connected layer, `y = x·Wᵀ + b`, with PyTorch's layout:
    /// `x: [.., in]`, `weight: [out, in]`, `bias: [out]`, `y: [.., out]`. One GEMM forward
    /// (bias preloaded into the output), and `∂L/∂x = G·W`, `∂L/∂W = Gᵀ·x`, `∂L/∂b = Σ_rows G`.
    ///
    /// # Panics
    /// If `x`'s last dimension differs from `weight`'s second, or `bias` is not `[out]`.
    pub fn linear(&self, weight: &Var<T>, bias: Option<&Var<T>>) -> Var<T> {
        let (w, x) = (weight.value.clone(), self.value.clone());
        assert!(
            w.ndim() == 2 && x.ndim() >= 1 && x.shape()[x.ndim() - 1] == w.shape()[1],
            "linear: input {:?} does not fit weight {:?} (expects [.., {}])",
            x.shape(),
            w.shape(),
            w.shape().get(1).copied().unwrap_or(0)
        );
        let (out_f, in_f) = (w.shape()[0], w.shape()[1]);
        if let Some(b) = bias {
            assert_eq!(
                b.shape(),
                &[out_f],
                "linear: bias {:?} does not fit weight {:?} (expects [{out_f}])",
                b.shape(),
                w.shape()
            );
        }
        let rows = x.numel() / in_f.max(1);
        let x2 = x.reshape(&[rows, in_f]);
        let mut y = match bias {
            Some(b) => b.value.broadcast_to(&[rows, out_f]).contiguous(),
            None => Tensor::zeros(&[rows, out_f]),
        };
        let beta = if bias.is_some() { T::one() } else { T::zero() };
        y.gemm_(T::one(), &x2, &w.t(), beta);
        let mut out_shape = x.shape().to_vec();
        *out_shape.last_mut().expect("rank ≥ 1") = out_f;
        let y = y.reshape(&out_shape);
        let x_shape = x.shape().to_vec();
        let parents: Vec<&Var<T>> = match bias {
            Some(b) => vec![self, weight, b],
            None => vec![self, weight],
        };
        Var::record("linear", y, &parents, move |g, needs| {
            let g2 = g.reshape(&[rows, out_f]);
            let gx = needs[0].then(|| g2.matmul(&w).reshape(&x_shape));
            let gw = needs[1].then(|| {
                let mut gw = Tensor::zeros(&[out_f, in_f]);
                gw.gemm_(T::one(), &g2.t(), &x2, T::zero());
                gw
            });
            let mut grads = vec![gx, gw];
            if needs.len() == 3 {
                grads.push(needs[2].then(|| g2.sum_axis(0, false)));
            }
            grads
        })
    }
}
