//! Elementwise arithmetic with NumPy broadcasting, unary functions and activations, masks and
//! in-place updates. Contiguous operands of equal shape run the SIMD kernels of
//! [`crate::simd`]; every other layout goes through a strided, broadcasting traversal.

use crate::shape::{broadcast_shapes, broadcast_strides, for_each_row2};
use crate::{Element, Tensor, parallel};

/// A SIMD binary kernel `out[i] = a[i] ∘ b[i]` from the [`crate::simd::Kernels`] table.
type BinaryKernel<T> = fn(&[T], &[T], &mut [T]);

/// Applies `f` to broadcast pairs of `a` and `b`; `kernel` is used when both are contiguous
/// and of one shape.
fn zip_with<T: Element>(
    op: &str,
    a: &Tensor<T>,
    b: &Tensor<T>,
    kernel: Option<BinaryKernel<T>>,
    f: impl Fn(T, T) -> T + Sync,
) -> Tensor<T> {
    if a.shape() == b.shape()
        && let (Some(x), Some(y)) = (a.as_slice(), b.as_slice())
    {
        let data = match kernel {
            Some(k) => parallel::binary(x, y, k),
            None => parallel::zip_map_slice(x, y, &f),
        };
        return Tensor::from_vec(data, a.shape());
    }
    if b.numel() == 1 && b.ndim() <= a.ndim() {
        let v = b.to_vec()[0];
        return a.map(|u| f(u, v));
    }
    let shape = broadcast_shapes(op, a.shape(), b.shape());
    let sa = broadcast_strides(op, a.shape(), a.strides(), &shape);
    let sb = broadcast_strides(op, b.shape(), b.strides(), &shape);
    let (da, db) = (a.storage(), b.storage());
    let mut out = crate::storage::zeroed::<T>(crate::shape::numel(&shape));
    // Row by row: a row where both operands are contiguous runs the SIMD kernel, a row where
    // one operand is a broadcast scalar runs a loop the compiler vectorises (for the active
    // SIMD path: the whole walk is compiled inside its target features).
    let mut done = 0;
    crate::simd::vectorize(|| {
        for_each_row2(
            &shape,
            (&sa, a.offset()),
            (&sb, b.offset()),
            |(i, j), len, strides| {
                let o = &mut out[done..done + len];
                done += len;
                match (strides, kernel) {
                    ((1, 1), Some(k)) => k(&da[i..i + len], &db[j..j + len], o),
                    ((1, 0), _) => {
                        let v = db[j];
                        o.iter_mut()
                            .zip(&da[i..i + len])
                            .for_each(|(o, &u)| *o = f(u, v));
                    }
                    ((0, 1), _) => {
                        let u = da[i];
                        o.iter_mut()
                            .zip(&db[j..j + len])
                            .for_each(|(o, &v)| *o = f(u, v));
                    }
                    ((ra, rb), _) => {
                        for (k, o) in o.iter_mut().enumerate() {
                            *o = f(da[i + k * ra], db[j + k * rb]);
                        }
                    }
                }
            },
        );
    });
    Tensor::from_vec(out, &shape)
}

/// `1 / (1 + e⁻ˣ)` without overflow in either direction.
fn sigmoid_scalar<T: Element>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

fn mask<T: Element>(condition: bool) -> T {
    if condition { T::one() } else { T::zero() }
}

/// Binary operations. Each broadcasts its operands (NumPy rules) and returns a new contiguous
/// tensor of the broadcast shape.
///
/// # Panics
/// Every binary op panics when the shapes do not broadcast, naming the op and both shapes,
/// e.g. `add: shapes [2, 3] and [4] cannot be broadcast together`.
impl<T: Element> Tensor<T> {
    /// `a + b`.
    pub fn add(&self, other: &Tensor<T>) -> Tensor<T> {
        zip_with("add", self, other, Some(T::kernels().add), |a, b| a + b)
    }

    /// `a − b`.
    pub fn sub(&self, other: &Tensor<T>) -> Tensor<T> {
        zip_with("sub", self, other, Some(T::kernels().sub), |a, b| a - b)
    }

    /// `a · b` (elementwise).
    pub fn mul(&self, other: &Tensor<T>) -> Tensor<T> {
        zip_with("mul", self, other, Some(T::kernels().mul), |a, b| a * b)
    }

    /// `a / b`.
    pub fn div(&self, other: &Tensor<T>) -> Tensor<T> {
        zip_with("div", self, other, Some(T::kernels().div), |a, b| a / b)
    }

    /// `f(a, b)` elementwise over the broadcast shapes (a custom binary kernel, e.g. a fused
    /// gradient such as `g · (x > 0)`).
    pub fn zip_map(&self, other: &Tensor<T>, f: impl Fn(T, T) -> T + Sync) -> Tensor<T> {
        zip_with("zip_map", self, other, None, f)
    }

    /// `aᵇ`.
    pub fn pow(&self, other: &Tensor<T>) -> Tensor<T> {
        zip_with("pow", self, other, None, T::powf)
    }

    /// `max(a, b)` elementwise (NaN if either is NaN).
    pub fn maximum(&self, other: &Tensor<T>) -> Tensor<T> {
        zip_with("maximum", self, other, None, |a, b| {
            if a.is_nan() || b.is_nan() {
                T::nan()
            } else {
                a.max(b)
            }
        })
    }

    /// `min(a, b)` elementwise (NaN if either is NaN).
    pub fn minimum(&self, other: &Tensor<T>) -> Tensor<T> {
        zip_with("minimum", self, other, None, |a, b| {
            if a.is_nan() || b.is_nan() {
                T::nan()
            } else {
                a.min(b)
            }
        })
    }

    /// Mask `a = b` (1 where true, 0 where false).
    pub fn eq_mask(&self, other: &Tensor<T>) -> Tensor<T> {
        zip_with("eq_mask", self, other, None, |a, b| mask(a == b))
    }

    /// Mask `a ≠ b`.
    pub fn ne_mask(&self, other: &Tensor<T>) -> Tensor<T> {
        zip_with("ne_mask", self, other, None, |a, b| mask(a != b))
    }

    /// Mask `a < b`.
    pub fn lt_mask(&self, other: &Tensor<T>) -> Tensor<T> {
        zip_with("lt_mask", self, other, None, |a, b| mask(a < b))
    }

    /// Mask `a ≤ b`.
    pub fn le_mask(&self, other: &Tensor<T>) -> Tensor<T> {
        zip_with("le_mask", self, other, None, |a, b| mask(a <= b))
    }

    /// Mask `a > b`.
    pub fn gt_mask(&self, other: &Tensor<T>) -> Tensor<T> {
        zip_with("gt_mask", self, other, None, |a, b| mask(a > b))
    }

    /// Mask `a ≥ b`.
    pub fn ge_mask(&self, other: &Tensor<T>) -> Tensor<T> {
        zip_with("ge_mask", self, other, None, |a, b| mask(a >= b))
    }

    /// `condition ? a : b` elementwise, where `condition` is non-zero for true; the three
    /// shapes broadcast together.
    ///
    /// # Panics
    /// If the three shapes do not broadcast together.
    pub fn where_(condition: &Tensor<T>, a: &Tensor<T>, b: &Tensor<T>) -> Tensor<T> {
        let shape = broadcast_shapes(
            "where",
            &broadcast_shapes("where", condition.shape(), a.shape()),
            b.shape(),
        );
        let (c, a, b) = (
            condition.broadcast_to(&shape),
            a.broadcast_to(&shape),
            b.broadcast_to(&shape),
        );
        let (c, a, b) = (c.to_vec(), a.to_vec(), b.to_vec());
        let data = c
            .iter()
            .zip(a.iter().zip(&b))
            .map(|(&c, (&x, &y))| if c != T::zero() { x } else { y })
            .collect();
        Tensor::from_vec(data, &shape)
    }
}

/// Scalar variants: the same operations with a constant right operand.
impl<T: Element> Tensor<T> {
    /// `a + s`.
    pub fn add_scalar(&self, s: T) -> Tensor<T> {
        self.map(|a| a + s)
    }

    /// `a − s`.
    pub fn sub_scalar(&self, s: T) -> Tensor<T> {
        self.map(|a| a - s)
    }

    /// `a · s`.
    pub fn mul_scalar(&self, s: T) -> Tensor<T> {
        self.map(|a| a * s)
    }

    /// `a / s`.
    pub fn div_scalar(&self, s: T) -> Tensor<T> {
        self.map(|a| a / s)
    }

    /// `s − a`.
    pub fn rsub_scalar(&self, s: T) -> Tensor<T> {
        self.map(|a| s - a)
    }

    /// `aˢ`.
    pub fn pow_scalar(&self, s: T) -> Tensor<T> {
        if s == T::from_f64_lossy(2.0) {
            self.square()
        } else {
            self.map(|a| a.powf(s))
        }
    }

    /// Mask `a > s` (1 where true).
    pub fn gt_scalar(&self, s: T) -> Tensor<T> {
        self.map(|a| mask(a > s))
    }

    /// Mask `a < s` (1 where true).
    pub fn lt_scalar(&self, s: T) -> Tensor<T> {
        self.map(|a| mask(a < s))
    }
}

impl<T: Element> Tensor<T> {
    fn unary_kernel(&self, kernel: fn(&[T], &mut [T]), f: impl Fn(T) -> T + Sync) -> Tensor<T> {
        match self.as_slice() {
            Some(x) => Tensor::from_vec(parallel::unary(x, kernel), self.shape()),
            None => self.map(f),
        }
    }

    /// `−x`.
    pub fn neg(&self) -> Tensor<T> {
        self.map(|x| -x)
    }

    /// `|x|`.
    pub fn abs(&self) -> Tensor<T> {
        self.map(T::abs)
    }

    /// `eˣ`.
    pub fn exp(&self) -> Tensor<T> {
        self.unary_kernel(T::kernels().exp, T::exp)
    }

    /// Natural logarithm `ln x` (−∞ at 0, NaN below).
    pub fn ln(&self) -> Tensor<T> {
        self.map(T::ln)
    }

    /// `ln(1 + x)`, accurate near 0.
    pub fn ln_1p(&self) -> Tensor<T> {
        self.map(T::ln_1p)
    }

    /// `√x`.
    pub fn sqrt(&self) -> Tensor<T> {
        self.map(T::sqrt)
    }

    /// `x²`.
    pub fn square(&self) -> Tensor<T> {
        match self.as_slice() {
            Some(x) => Tensor::from_vec(parallel::binary(x, x, T::kernels().mul), self.shape()),
            None => self.map(|x| x * x),
        }
    }

    /// `1 / x`.
    pub fn recip(&self) -> Tensor<T> {
        self.map(T::recip)
    }

    /// `sin x`.
    pub fn sin(&self) -> Tensor<T> {
        self.map(T::sin)
    }

    /// `cos x`.
    pub fn cos(&self) -> Tensor<T> {
        self.map(T::cos)
    }

    /// `sign(x)` ∈ {−1, 0, 1} (NaN stays NaN).
    pub fn sign(&self) -> Tensor<T> {
        self.map(|x| {
            if x > T::zero() {
                T::one()
            } else if x < T::zero() {
                -T::one()
            } else {
                x
            }
        })
    }

    /// `clamp(x, lo, hi) = min(max(x, lo), hi)`.
    ///
    /// # Panics
    /// If `lo > hi`.
    pub fn clamp(&self, lo: T, hi: T) -> Tensor<T> {
        assert!(lo <= hi, "clamp: lower bound {lo} exceeds upper bound {hi}");
        self.map(|x| x.max(lo).min(hi))
    }

    /// Logistic sigmoid `σ(x) = 1 / (1 + e⁻ˣ)`.
    pub fn sigmoid(&self) -> Tensor<T> {
        self.unary_kernel(T::kernels().sigmoid, sigmoid_scalar)
    }

    /// Hyperbolic tangent `tanh x = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)`.
    pub fn tanh(&self) -> Tensor<T> {
        self.unary_kernel(T::kernels().tanh, T::tanh)
    }

    /// Rectified linear unit `max(x, 0)`.
    pub fn relu(&self) -> Tensor<T> {
        self.unary_kernel(
            T::kernels().relu,
            |x| if x > T::zero() { x } else { T::zero() },
        )
    }

    /// Leaky ReLU: `x` for `x > 0`, else `slope·x`.
    pub fn leaky_relu(&self, slope: T) -> Tensor<T> {
        self.map(|x| if x > T::zero() { x } else { slope * x })
    }

    /// ELU: `x` for `x > 0`, else `α·(eˣ − 1)`.
    pub fn elu(&self, alpha: T) -> Tensor<T> {
        self.map(|x| if x > T::zero() { x } else { alpha * x.exp_m1() })
    }

    /// GELU (exact, as PyTorch's default): `x·Φ(x) = ½·x·(1 + erf(x/√2))`.
    pub fn gelu(&self) -> Tensor<T> {
        self.map(|x| {
            let v = x.to_f64_lossless();
            T::from_f64_lossy(0.5 * v * (1.0 + libm::erf(v * std::f64::consts::FRAC_1_SQRT_2)))
        })
    }

    /// GELU with PyTorch's tanh approximation (`approximate = "tanh"`):
    /// `½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    pub fn gelu_tanh(&self) -> Tensor<T> {
        self.map(|x| {
            let v = x.to_f64_lossless();
            T::from_f64_lossy(0.5 * v * (1.0 + gelu_tanh_inner(v).tanh()))
        })
    }

    /// Softplus `ln(1 + eˣ)`, computed as `max(x, 0) + ln(1 + e^{−|x|})` so it never overflows.
    pub fn softplus(&self) -> Tensor<T> {
        self.map(softplus)
    }

    /// The error function `erf x = (2/√π)∫₀ˣ e^{−t²} dt` (`torch.erf`).
    pub fn erf(&self) -> Tensor<T> {
        self.map(|x| T::from_f64_lossy(libm::erf(x.to_f64_lossless())))
    }

    /// SiLU (swish) `x·σ(x)`, PyTorch's `nn.SiLU`.
    pub fn silu(&self) -> Tensor<T> {
        self.map(|x| x * sigmoid(x))
    }

    /// Mish `x·tanh(softplus(x))` (Misra 2019), PyTorch's `nn.Mish`.
    pub fn mish(&self) -> Tensor<T> {
        self.map(|x| x * softplus(x).tanh())
    }

    /// SELU `λ·x` for `x > 0`, else `λ·α·(eˣ − 1)`, with Klambauer et al.'s constants
    /// [`SELU_ALPHA`] and [`SELU_SCALE`] (PyTorch's `nn.SELU`).
    pub fn selu(&self) -> Tensor<T> {
        let (alpha, scale) = (T::from_f64_lossy(SELU_ALPHA), T::from_f64_lossy(SELU_SCALE));
        self.map(move |x| {
            if x > T::zero() {
                scale * x
            } else {
                scale * alpha * x.exp_m1()
            }
        })
    }

    /// `ln σ(x) = −softplus(−x)`, computed without overflow (PyTorch's `nn.LogSigmoid`).
    pub fn log_sigmoid(&self) -> Tensor<T> {
        self.map(|x| -softplus(-x))
    }
}

/// The α of SELU (Klambauer et al. 2017), as PyTorch.
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
/// The λ (scale) of SELU (Klambauer et al. 2017), as PyTorch.
pub const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

/// `ln(1 + eˣ)` as `max(x, 0) + ln(1 + e^{−|x|})`: never overflows.
pub fn softplus<T: Element>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// `σ(x) = 1/(1 + e⁻ˣ)`, evaluated on the side where the exponential cannot overflow.
pub fn sigmoid<T: Element>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// In-place updates. They write into this tensor's storage, copying it first when it is
/// shared or not contiguous (so no other tensor ever changes).
///
/// # Panics
/// When `other` does not broadcast to `self`'s shape (the message names the op).
impl<T: Element> Tensor<T> {
    fn operand_for(&self, op: &str, other: &Tensor<T>) -> Tensor<T> {
        if other.shape() == self.shape() {
            other.contiguous()
        } else {
            let strides = broadcast_strides(op, other.shape(), other.strides(), self.shape());
            Tensor::from_parts(
                other.storage().clone(),
                self.shape(),
                &strides,
                other.offset(),
            )
            .contiguous()
        }
    }

    /// `self += other` (other broadcast to self's shape).
    pub fn add_(&mut self, other: &Tensor<T>) {
        let other = self.operand_for("add_", other);
        let k = T::kernels().add_assign;
        parallel::inplace(
            self.as_mut_slice(),
            other.as_slice().expect("contiguous"),
            k,
        );
    }

    /// `self −= other`.
    pub fn sub_(&mut self, other: &Tensor<T>) {
        self.axpy_(-T::one(), other);
    }

    /// `self ·= other` (elementwise).
    pub fn mul_(&mut self, other: &Tensor<T>) {
        let other = self.operand_for("mul_", other);
        let k = T::kernels().mul_assign;
        parallel::inplace(
            self.as_mut_slice(),
            other.as_slice().expect("contiguous"),
            k,
        );
    }

    /// `self += α·other` (BLAS axpy).
    pub fn axpy_(&mut self, alpha: T, other: &Tensor<T>) {
        let other = self.operand_for("axpy_", other);
        let k = T::kernels().axpy;
        parallel::inplace(
            self.as_mut_slice(),
            other.as_slice().expect("contiguous"),
            |y, x| k(alpha, x, y),
        );
    }

    /// `self ·= α`.
    pub fn scale_(&mut self, alpha: T) {
        (T::kernels().scale)(alpha, self.as_mut_slice());
    }

    /// Sets every element to `value`.
    pub fn fill_(&mut self, value: T) {
        self.as_mut_slice().fill(value);
    }

    /// Applies `f` to every element in place.
    pub fn map_(&mut self, f: impl Fn(T) -> T) {
        self.as_mut_slice().iter_mut().for_each(|x| *x = f(*x));
    }
}

macro_rules! binary_operator {
    ($trait:ident, $method:ident) => {
        impl<T: Element> std::ops::$trait<&Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            /// Broadcasting elementwise operator; see the method of the same name.
            fn $method(self, rhs: &Tensor<T>) -> Tensor<T> {
                Tensor::$method(self, rhs)
            }
        }
        impl<T: Element> std::ops::$trait<Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            /// Broadcasting elementwise operator; see the method of the same name.
            fn $method(self, rhs: Tensor<T>) -> Tensor<T> {
                Tensor::$method(&self, &rhs)
            }
        }
    };
}
binary_operator!(Add, add);
binary_operator!(Sub, sub);
binary_operator!(Mul, mul);
binary_operator!(Div, div);

impl<T: Element> std::ops::Neg for &Tensor<T> {
    type Output = Tensor<T>;
    /// `−x` elementwise.
    fn neg(self) -> Tensor<T> {
        Tensor::neg(self)
    }
}

/// `√(2/π)·(x + 0.044715·x³)`, the argument of the tanh in [`Tensor::gelu_tanh`].
pub fn gelu_tanh_inner(x: f64) -> f64 {
    (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x)
}
