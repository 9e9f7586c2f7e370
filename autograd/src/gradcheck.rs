//! Finite-difference gradient checks.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata_tensor::Tensor;

use crate::{Var, no_grad};

/// The outcome of [`gradcheck`]: the worst disagreement between the analytic gradient and
/// central finite differences, and where it occurred.
#[derive(Clone, Debug)]
pub struct GradcheckReport {
    /// `max |a − n| / max(1, |a|, |n|)` over every input element (a relative error for
    /// large gradients, an absolute one for small).
    pub max_error: f64,
    /// Which input the worst element belongs to.
    pub input: usize,
    /// Its row-major position in that input.
    pub element: usize,
    /// The analytic gradient there.
    pub analytic: f64,
    /// The finite-difference estimate there.
    pub numeric: f64,
    /// Number of elements checked.
    pub checked: usize,
}

/// Checks the gradients of `f` at `inputs` against central finite differences in f64.
///
/// `f` may return any shape: the checked scalar is `s = Σ r ⊙ f(x)` for a fixed random `r`
/// (so every output element contributes). For each input element, the analytic `∂s/∂x` from
/// one `backward_with(r)` is compared with `(s(x + h) − s(x − h)) / 2h`.
pub fn gradcheck(
    f: impl Fn(&[Var<f64>]) -> Var<f64>,
    inputs: &[Tensor<f64>],
    h: f64,
) -> GradcheckReport {
    let leaves: Vec<Var<f64>> = inputs.iter().map(|x| Var::leaf(x.contiguous())).collect();
    let y = f(&leaves);
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let r = Tensor::<f64>::from_vec(
        (0..y.value().numel())
            .map(|_| rng.random_range(0.5..1.5))
            .collect(),
        y.shape(),
    );
    let grads = if y.requires_grad() {
        Some(y.backward_with(r.clone()))
    } else {
        None
    };
    let project = |xs: &[Tensor<f64>]| -> f64 {
        no_grad(|| {
            let vars: Vec<Var<f64>> = xs.iter().map(|x| Var::constant(x.clone())).collect();
            f(&vars).value().mul(&r).sum()
        })
    };
    let mut report = GradcheckReport {
        max_error: 0.0,
        input: 0,
        element: 0,
        analytic: 0.0,
        numeric: 0.0,
        checked: 0,
    };
    let mut perturbed: Vec<Tensor<f64>> = inputs.iter().map(|x| x.contiguous()).collect();
    for (i, leaf) in leaves.iter().enumerate() {
        let analytic = grads
            .as_ref()
            .and_then(|g| g.wrt(leaf).map(|t| t.to_vec()))
            .unwrap_or_else(|| vec![0.0; leaf.value().numel()]);
        let base = perturbed[i].to_vec();
        for j in 0..base.len() {
            let mut plus = base.clone();
            plus[j] += h;
            perturbed[i] = Tensor::from_vec(plus, leaf.shape());
            let sp = project(&perturbed);
            let mut minus = base.clone();
            minus[j] -= h;
            perturbed[i] = Tensor::from_vec(minus, leaf.shape());
            let sm = project(&perturbed);
            let numeric = (sp - sm) / (2.0 * h);
            let a = analytic[j];
            let err = (a - numeric).abs() / 1f64.max(a.abs()).max(numeric.abs());
            if err > report.max_error || err.is_nan() {
                report = GradcheckReport {
                    max_error: err,
                    input: i,
                    element: j,
                    analytic: a,
                    numeric,
                    checked: report.checked,
                };
            }
            report.checked += 1;
        }
        perturbed[i] = Tensor::from_vec(base, leaf.shape());
    }
    report
}

/// Runs [`gradcheck`] with step `h = 1e-6` and panics, naming `what` and the worst element,
/// if the error exceeds `tolerance`.
///
/// # Panics
/// When the check fails.
pub fn assert_gradcheck(
    what: &str,
    f: impl Fn(&[Var<f64>]) -> Var<f64>,
    inputs: &[Tensor<f64>],
    tolerance: f64,
) {
    let r = gradcheck(f, inputs, 1e-6);
    assert!(
        r.max_error <= tolerance,
        "gradcheck {what}: error {:.3e} > {tolerance:.1e} at input {} element {} (analytic {}, numeric {})",
        r.max_error,
        r.input,
        r.element,
        r.analytic,
        r.numeric
    );
}
