//! Unary functions and activations. Each backward is one fused elementwise pass
//! `∂L/∂x = ∂L/∂y · f′(x)`, with `f′` written in terms of `x` or of the output `y`.

use strata_tensor::{Element, SELU_ALPHA, SELU_SCALE, Tensor, sigmoid, softplus};

use crate::Var;

impl<T: Element> Var<T> {
    /// Records `y = f(x)` whose derivative depends on `x` only: `∂L/∂x = g · dx(x)`.
    fn unary_x(
        &self,
        op: &'static str,
        y: Tensor<T>,
        dx: impl Fn(T, T) -> T + Sync + 'static,
    ) -> Var<T> {
        let x = self.value.clone();
        Var::record(op, y, &[self], move |g, _| vec![Some(g.zip_map(&x, &dx))])
    }

    /// Records `y = f(x)` whose derivative depends on `y` only: `∂L/∂x = g · dy(y)`.
    fn unary_y(
        &self,
        op: &'static str,
        y: Tensor<T>,
        dy: impl Fn(T, T) -> T + Sync + 'static,
    ) -> Var<T> {
        let out = y.clone();
        Var::record(op, y, &[self], move |g, _| vec![Some(g.zip_map(&out, &dy))])
    }

    /// `y = −x`.
    pub fn neg(&self) -> Var<T> {
        Var::record("neg", self.value.neg(), &[self], |g, _| vec![Some(g.neg())])
    }

    /// `y = |x|`; `∂y/∂x = sign(x)` (0 at 0, as PyTorch).
    pub fn abs(&self) -> Var<T> {
        self.unary_x("abs", self.value.abs(), |g, x| {
            if x > T::zero() {
                g
            } else if x < T::zero() {
                -g
            } else {
                T::zero()
            }
        })
    }

    /// `y = eˣ`; `∂y/∂x = y`.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    ///
    /// let x = Var::leaf(Tensor::<f64>::from_vec(vec![0.0, 1.0], &[2]));
    /// let y = x.exp();
    /// let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-12);
    /// assert!(close(&y.value().to_vec(), &[1.0, std::f64::consts::E]));
    /// let grads = y.sum().backward();
    /// assert!(close(&grads.wrt(&x).unwrap().to_vec(), &y.value().to_vec())); // ∂y/∂x = eˣ
    /// ```
    pub fn exp(&self) -> Var<T> {
        self.unary_y("exp", self.value.exp(), |g, y| g * y)
    }

    /// `y = ln x`; `∂y/∂x = 1/x`.
    pub fn ln(&self) -> Var<T> {
        self.unary_x("ln", self.value.ln(), |g, x| g / x)
    }

    /// `y = √x`; `∂y/∂x = 1/(2y)`.
    pub fn sqrt(&self) -> Var<T> {
        self.unary_y("sqrt", self.value.sqrt(), |g, y| g / (y + y))
    }

    /// `y = x²`; `∂y/∂x = 2x`.
    pub fn square(&self) -> Var<T> {
        self.unary_x("square", self.value.square(), |g, x| g * (x + x))
    }

    /// `y = 1/x`; `∂y/∂x = −y²`.
    pub fn recip(&self) -> Var<T> {
        self.unary_y("recip", self.value.recip(), |g, y| -g * y * y)
    }

    /// `y = sin x`; `∂y/∂x = cos x`.
    pub fn sin(&self) -> Var<T> {
        self.unary_x("sin", self.value.sin(), |g, x| g * x.cos())
    }

    /// `y = cos x`; `∂y/∂x = −sin x`.
    pub fn cos(&self) -> Var<T> {
        self.unary_x("cos", self.value.cos(), |g, x| -g * x.sin())
    }

    /// `y = σ(x) = 1/(1 + e⁻ˣ)`; `∂y/∂x = y(1 − y)`.
    pub fn sigmoid(&self) -> Var<T> {
        self.unary_y("sigmoid", self.value.sigmoid(), |g, y| {
            g * y * (T::one() - y)
        })
    }

    /// `y = tanh x`; `∂y/∂x = 1 − y²`.
    pub fn tanh(&self) -> Var<T> {
        self.unary_y("tanh", self.value.tanh(), |g, y| g * (T::one() - y * y))
    }

    /// `y = max(x, 0)`; `∂y/∂x = 1 if x > 0 else 0`.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    ///
    /// let x = Var::leaf(Tensor::<f64>::from_vec(vec![-1.0, 0.5, 2.0], &[3]));
    /// let y = x.relu();
    /// assert_eq!(y.value().to_vec(), vec![0.0, 0.5, 2.0]);
    /// assert_eq!(y.sum().backward().wrt(&x).unwrap().to_vec(), vec![0.0, 1.0, 1.0]);
    /// ```
    pub fn relu(&self) -> Var<T> {
        self.unary_y("relu", self.value.relu(), |g, y| {
            if y > T::zero() { g } else { T::zero() }
        })
    }

    /// `y = x if x > 0 else slope·x`; `∂y/∂x = 1 or slope`.
    pub fn leaky_relu(&self, slope: T) -> Var<T> {
        self.unary_x("leaky_relu", self.value.leaky_relu(slope), move |g, x| {
            if x > T::zero() { g } else { g * slope }
        })
    }

    /// `y = x if x > 0 else α(eˣ − 1)`; `∂y/∂x = 1 or y + α`.
    pub fn elu(&self, alpha: T) -> Var<T> {
        let x = self.value.clone();
        let y = self.value.elu(alpha);
        let out = y.clone();
        Var::record("elu", y, &[self], move |g, _| {
            let d = x.zip_map(
                &out,
                |x, y| if x > T::zero() { T::one() } else { y + alpha },
            );
            vec![Some(g.mul(&d))]
        })
    }

    /// `y = x·Φ(x)` (exact GELU); `∂y/∂x = Φ(x) + x·φ(x)` with `φ` the standard normal density.
    pub fn gelu(&self) -> Var<T> {
        self.unary_x("gelu", self.value.gelu(), |g, x| {
            let v = x.to_f64_lossless();
            let cdf = 0.5 * (1.0 + libm::erf(v * std::f64::consts::FRAC_1_SQRT_2));
            let pdf = (-0.5 * v * v).exp() / (2.0 * std::f64::consts::PI).sqrt();
            g * T::from_f64_lossy(cdf + v * pdf)
        })
    }

    /// GELU with PyTorch's tanh approximation (`F.gelu(x, approximate="tanh")`):
    /// `y = ½x(1 + tanh u)`, `u = √(2/π)(x + 0.044715x³)`;
    /// `∂y/∂x = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)`.
    pub fn gelu_tanh(&self) -> Var<T> {
        self.unary_x("gelu_tanh", self.value.gelu_tanh(), |g, x| {
            let v = x.to_f64_lossless();
            let t = strata_tensor::gelu_tanh_inner(v).tanh();
            let du = (2.0 / std::f64::consts::PI).sqrt() * (1.0 + 3.0 * 0.044715 * v * v);
            g * T::from_f64_lossy(0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * du)
        })
    }

    /// `y = ln(1 + eˣ)`; `∂y/∂x = σ(x)`.
    pub fn softplus(&self) -> Var<T> {
        self.unary_x("softplus", self.value.softplus(), |g, x| g * sigmoid(x))
    }

    /// `y = erf x`; `∂y/∂x = (2/√π)·e^{−x²}`.
    pub fn erf(&self) -> Var<T> {
        let k = T::from_f64_lossy(std::f64::consts::FRAC_2_SQRT_PI);
        self.unary_x("erf", self.value.erf(), move |g, x| g * k * (-x * x).exp())
    }

    /// SiLU `y = x·σ(x)`; `∂y/∂x = σ(x)·(1 + x·(1 − σ(x)))`.
    pub fn silu(&self) -> Var<T> {
        self.unary_x("silu", self.value.silu(), |g, x| {
            let s = sigmoid(x);
            g * s * (T::one() + x * (T::one() - s))
        })
    }

    /// Mish `y = x·tanh(softplus(x))`; `∂y/∂x = tanh(sp) + x·σ(x)·(1 − tanh²(sp))` with
    /// `sp = softplus(x)`.
    pub fn mish(&self) -> Var<T> {
        self.unary_x("mish", self.value.mish(), |g, x| {
            let t = softplus(x).tanh();
            g * (t + x * sigmoid(x) * (T::one() - t * t))
        })
    }

    /// SELU `y = λx` for `x > 0`, else `λα(eˣ − 1)`; `∂y/∂x = λ` or `y + λα`.
    pub fn selu(&self) -> Var<T> {
        let x = self.value.clone();
        let y = self.value.selu();
        let out = y.clone();
        let (scale, scaled_alpha) = (
            T::from_f64_lossy(SELU_SCALE),
            T::from_f64_lossy(SELU_SCALE * SELU_ALPHA),
        );
        Var::record("selu", y, &[self], move |g, _| {
            let d = x.zip_map(&out, |x, y| {
                if x > T::zero() {
                    scale
                } else {
                    y + scaled_alpha
                }
            });
            vec![Some(g.mul(&d))]
        })
    }

    /// PyTorch's `hardtanh`: `y = clamp(x, min, max)`, with the gradient passing only strictly
    /// inside, `min < x < max` (so `hardtanh(x, 0, 6)`, ReLU6, has gradient 0 at 0 as ReLU
    /// does; [`Var::clamp`] passes it at the bounds too).
    ///
    /// # Panics
    /// If `min > max`.
    pub fn hardtanh(&self, min: T, max: T) -> Var<T> {
        self.unary_x("hardtanh", self.value.clamp(min, max), move |g, x| {
            if x > min && x < max { g } else { T::zero() }
        })
    }

    /// `y = ln σ(x)`; `∂y/∂x = 1 − σ(x) = σ(−x)`.
    pub fn log_sigmoid(&self) -> Var<T> {
        self.unary_x("log_sigmoid", self.value.log_sigmoid(), |g, x| {
            g * sigmoid(-x)
        })
    }

    /// `y = clamp(x, lo, hi)`; the gradient passes where `lo ≤ x ≤ hi` (as PyTorch).
    ///
    /// # Panics
    /// If `lo > hi`.
    pub fn clamp(&self, lo: T, hi: T) -> Var<T> {
        self.unary_x("clamp", self.value.clamp(lo, hi), move |g, x| {
            if x >= lo && x <= hi { g } else { T::zero() }
        })
    }

    /// LeCun's scaled tanh `y = 1.7159·tanh(2x/3)` (the DeepLearnToolbox `tanh_opt`);
    /// `∂y/∂x = 1.7159·(2/3)·(1 − tanh²(2x/3))`.
    pub fn lecun_tanh(&self) -> Var<T> {
        let (a, b) = (T::from_f64_lossy(1.7159), T::from_f64_lossy(2.0 / 3.0));
        let t = self.value.mul_scalar(b).tanh();
        let y = t.mul_scalar(a);
        Var::record("lecun_tanh", y, &[self], move |g, _| {
            vec![Some(
                g.zip_map(&t, move |g, t| g * a * b * (T::one() - t * t)),
            )]
        })
    }
}
