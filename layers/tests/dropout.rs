//! `Dropout`: the dropped fraction and scaling, train/eval behaviour, reseeding, the gradient
//! through the mask and an f64 gradient check.

mod common;

use common::{assert_near, gradcheck_module, spread};
use strata_autograd::{Var, no_grad};
use strata_layers::{Dropout, Module};
use strata_tensor::Tensor;

#[test]
fn dropout_train_scales_and_drops_the_right_fraction() {
    let mut d = Dropout::new(0.3);
    assert_eq!(d.p(), 0.3);
    let n = 20_000;
    let y = Module::<f64>::predict(&mut d, &Tensor::ones(&[n]));
    let scale = 1.0 / 0.7;
    let zeros = y.to_vec().iter().filter(|&&v| v == 0.0).count();
    assert!(
        y.to_vec()
            .iter()
            .all(|&v| v == 0.0 || (v - scale).abs() < 1e-12),
        "kept values are scaled by 1/(1 − p)"
    );
    // Binomial(20000, 0.3): standard deviation ≈ 65, so ±400 is over 6σ.
    assert!((zeros as i64 - 6000).abs() < 400, "{zeros} of {n} dropped");
    // E[y] = x.
    assert_near(y.mean(), 1.0, 0.03);
}

#[test]
fn dropout_eval_is_identity() {
    let mut d = Dropout::new(0.5);
    Module::<f64>::eval(&mut d);
    let x = spread(&[4, 5], 8);
    assert_eq!(Module::<f64>::predict(&mut d, &x), x);
    // p = 0 is the identity in training too.
    let mut d = Dropout::new(0.0);
    assert_eq!(Module::<f64>::predict(&mut d, &x), x);
    // Back in training mode, elements are dropped again.
    let mut d = Dropout::new(0.5);
    Module::<f64>::eval(&mut d);
    Module::<f64>::train(&mut d);
    let y = Module::<f64>::predict(&mut d, &Tensor::ones(&[100]));
    assert!(y.to_vec().contains(&0.0));
}

#[test]
fn dropout_reseed_reproduces_masks() {
    let x = Tensor::<f64>::ones(&[256]);
    let mut a = Dropout::new(0.5);
    let mut b = Dropout::new(0.5);
    Module::<f64>::reseed(&mut a, 42);
    Module::<f64>::reseed(&mut b, 42);
    let (a1, b1) = (
        Module::<f64>::predict(&mut a, &x),
        Module::<f64>::predict(&mut b, &x),
    );
    let (a2, b2) = (
        Module::<f64>::predict(&mut a, &x),
        Module::<f64>::predict(&mut b, &x),
    );
    assert_eq!(a1, b1);
    assert_eq!(a2, b2);
    assert_ne!(a1, a2, "successive masks differ");
    Module::<f64>::reseed(&mut a, 42);
    assert_eq!(
        Module::<f64>::predict(&mut a, &x),
        a1,
        "reseeding restarts the stream"
    );
    Module::<f64>::reseed(&mut b, 43);
    assert_ne!(
        Module::<f64>::predict(&mut b, &x),
        a1,
        "another seed, other masks"
    );
}

#[test]
fn dropout_gradient_uses_the_mask() {
    // y = x ⊙ m/(1 − p): for x = 1, ∂Σy/∂x = y.
    let mut d = Dropout::new(0.4);
    let x = Var::leaf(Tensor::<f64>::ones(&[64]));
    let y = d.forward(&x);
    let g = y.sum().backward();
    assert_eq!(g.wrt(&x).unwrap(), y.value());
}

/// Dropout with its stream restarted before every forward pass, so finite differences see the
/// same mask each time.
struct FixedMask(Dropout);

impl Module<f64> for FixedMask {
    fn forward(&mut self, x: &Var<f64>) -> Var<f64> {
        Module::<f64>::reseed(&mut self.0, 7);
        self.0.forward(x)
    }
    strata_layers::module_parts!(f64);
}

#[test]
fn dropout_gradcheck() {
    gradcheck_module(
        "Dropout (fixed mask)",
        &mut FixedMask(Dropout::new(0.3)),
        &spread(&[3, 7], 9),
        true,
        1e-6,
    );
    let y = no_grad(|| FixedMask(Dropout::new(0.3)).forward(&Var::constant(Tensor::ones(&[3, 7]))));
    assert!(
        y.value().to_vec().contains(&0.0),
        "the checked mask drops something"
    );
}
