//! Broadcasting arithmetic: `+ − · /`, powers, elementwise max/min, and scalar variants.
//!
//! For `y = f(a, b)` with broadcasting, `∂L/∂a = Σ_broadcast (∂L/∂y · ∂f/∂a)`: each gradient is
//! summed back to its operand's shape.

use strata_tensor::{Element, Tensor};

use crate::Var;

/// The half-weight PyTorch gives each side of a tie in `maximum`/`minimum`.
fn tie_weight<T: Element>(a: T, b: T, wins: bool) -> T {
    if a == b {
        T::from_f64_lossy(0.5)
    } else if wins {
        T::one()
    } else {
        T::zero()
    }
}

impl<T: Element> Var<T> {
    /// `y = a + b` (broadcasting). `∂y/∂a = ∂y/∂b = 1`.
    ///
    /// # Panics
    /// If the shapes do not broadcast.
    pub fn add(&self, other: &Var<T>) -> Var<T> {
        let (sa, sb) = (self.shape().to_vec(), other.shape().to_vec());
        Var::record(
            "add",
            self.value.add(&other.value),
            &[self, other],
            move |g, needs| {
                vec![
                    needs[0].then(|| g.sum_to_shape(&sa)),
                    needs[1].then(|| g.sum_to_shape(&sb)),
                ]
            },
        )
    }

    /// `y = a − b` (broadcasting). `∂y/∂a = 1`, `∂y/∂b = −1`.
    pub fn sub(&self, other: &Var<T>) -> Var<T> {
        let (sa, sb) = (self.shape().to_vec(), other.shape().to_vec());
        Var::record(
            "sub",
            self.value.sub(&other.value),
            &[self, other],
            move |g, needs| {
                vec![
                    needs[0].then(|| g.sum_to_shape(&sa)),
                    needs[1].then(|| g.neg().sum_to_shape(&sb)),
                ]
            },
        )
    }

    /// `y = a · b` elementwise (broadcasting). `∂y/∂a = b`, `∂y/∂b = a`.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    ///
    /// // b: [2] broadcasts over the rows of a: [2, 2].
    /// let a = Var::leaf(Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]));
    /// let b = Var::leaf(Tensor::from_vec(vec![10.0, -1.0], &[2]));
    /// let y = a.mul(&b);
    /// assert_eq!(y.value().to_vec(), vec![10.0, -2.0, 30.0, -4.0]);
    /// let grads = y.sum().backward();
    /// assert_eq!(grads.wrt(&a).unwrap().to_vec(), vec![10.0, -1.0, 10.0, -1.0]); // b, per row
    /// assert_eq!(grads.wrt(&b).unwrap().to_vec(), vec![4.0, 6.0]); // a, summed over the rows
    /// ```
    pub fn mul(&self, other: &Var<T>) -> Var<T> {
        let (a, b) = (self.value.clone(), other.value.clone());
        Var::record("mul", a.mul(&b), &[self, other], move |g, needs| {
            vec![
                needs[0].then(|| g.mul(&b).sum_to_shape(a.shape())),
                needs[1].then(|| g.mul(&a).sum_to_shape(b.shape())),
            ]
        })
    }

    /// `y = a / b` (broadcasting). `∂y/∂a = 1/b`, `∂y/∂b = −a/b²`.
    pub fn div(&self, other: &Var<T>) -> Var<T> {
        let (a, b) = (self.value.clone(), other.value.clone());
        Var::record("div", a.div(&b), &[self, other], move |g, needs| {
            let ga = g.div(&b);
            let gb = needs[1].then(|| ga.mul(&a).div(&b).neg().sum_to_shape(b.shape()));
            vec![needs[0].then(|| ga.sum_to_shape(a.shape())), gb]
        })
    }

    /// `y = aᵇ` (broadcasting). `∂y/∂a = b·aᵇ⁻¹`, `∂y/∂b = aᵇ·ln a`.
    pub fn pow(&self, other: &Var<T>) -> Var<T> {
        let (a, b) = (self.value.clone(), other.value.clone());
        let y = a.pow(&b);
        let out = y.clone();
        Var::record("pow", y, &[self, other], move |g, needs| {
            let ga = needs[0].then(|| {
                g.mul(&b)
                    .mul(&a.pow(&b.sub_scalar(T::one())))
                    .sum_to_shape(a.shape())
            });
            let gb = needs[1].then(|| g.mul(&out).mul(&a.ln()).sum_to_shape(b.shape()));
            vec![ga, gb]
        })
    }

    /// `y = max(a, b)` elementwise. The gradient goes to the larger input; on ties each side
    /// gets half (as PyTorch's `maximum`).
    pub fn maximum(&self, other: &Var<T>) -> Var<T> {
        self.extremum("maximum", other, true)
    }

    /// `y = min(a, b)` elementwise; ties split the gradient in half.
    pub fn minimum(&self, other: &Var<T>) -> Var<T> {
        self.extremum("minimum", other, false)
    }

    fn extremum(&self, op: &'static str, other: &Var<T>, max: bool) -> Var<T> {
        let (a, b) = (self.value.clone(), other.value.clone());
        let y = if max { a.maximum(&b) } else { a.minimum(&b) };
        Var::record(op, y, &[self, other], move |g, needs| {
            let wa = a.zip_map(&b, |x, y| tie_weight(x, y, (x > y) == max));
            let wb = b.zip_map(&a, |x, y| tie_weight(x, y, (x > y) == max));
            vec![
                needs[0].then(|| g.mul(&wa).sum_to_shape(a.shape())),
                needs[1].then(|| g.mul(&wb).sum_to_shape(b.shape())),
            ]
        })
    }

    /// `y = x + s`.
    pub fn add_scalar(&self, s: T) -> Var<T> {
        Var::record("add_scalar", self.value.add_scalar(s), &[self], |g, _| {
            vec![Some(g.clone())]
        })
    }

    /// `y = x − s`.
    pub fn sub_scalar(&self, s: T) -> Var<T> {
        self.add_scalar(-s)
    }

    /// `y = s − x`.
    pub fn rsub_scalar(&self, s: T) -> Var<T> {
        Var::record("rsub_scalar", self.value.rsub_scalar(s), &[self], |g, _| {
            vec![Some(g.neg())]
        })
    }

    /// `y = s·x`.
    pub fn mul_scalar(&self, s: T) -> Var<T> {
        Var::record(
            "mul_scalar",
            self.value.mul_scalar(s),
            &[self],
            move |g, _| vec![Some(g.mul_scalar(s))],
        )
    }

    /// `y = x / s`.
    pub fn div_scalar(&self, s: T) -> Var<T> {
        self.mul_scalar(T::one() / s)
    }

    /// `y = xˢ`. `∂y/∂x = s·xˢ⁻¹`.
    pub fn pow_scalar(&self, s: T) -> Var<T> {
        let x = self.value.clone();
        Var::record("pow_scalar", x.pow_scalar(s), &[self], move |g, _| {
            let d = x.map(|v| s * v.powf(s - T::one()));
            vec![Some(g.mul(&d))]
        })
    }
}

macro_rules! var_operator {
    ($trait:ident, $method:ident) => {
        impl<T: Element> std::ops::$trait<&Var<T>> for &Var<T> {
            type Output = Var<T>;
            /// Broadcasting elementwise operator; see the method of the same name.
            fn $method(self, rhs: &Var<T>) -> Var<T> {
                Var::$method(self, rhs)
            }
        }
        impl<T: Element> std::ops::$trait<Var<T>> for Var<T> {
            type Output = Var<T>;
            /// Broadcasting elementwise operator; see the method of the same name.
            fn $method(self, rhs: Var<T>) -> Var<T> {
                Var::$method(&self, &rhs)
            }
        }
    };
}
var_operator!(Add, add);
var_operator!(Sub, sub);
var_operator!(Mul, mul);
var_operator!(Div, div);

impl<T: Element> std::ops::Neg for &Var<T> {
    type Output = Var<T>;
    /// `−x`.
    fn neg(self) -> Var<T> {
        Var::neg(self)
    }
}

/// Tensors used directly in a graph are constants.
impl<T: Element> Var<T> {
    /// `x + c` for a constant tensor `c` (broadcasting).
    pub fn add_tensor(&self, c: &Tensor<T>) -> Var<T> {
        self.add(&Var::constant(c.clone()))
    }

    /// `x · c` for a constant tensor `c` (broadcasting).
    pub fn mul_tensor(&self, c: &Tensor<T>) -> Var<T> {
        self.mul(&Var::constant(c.clone()))
    }
}
