//! Losses: values on hand-computed examples for every reduction, PyTorch's conventions (label
//! smoothing, class weights, the −100 log clamp, `0·ln 0 = 0`), f64 gradient checks, and shape
//! validation.

mod common;

use common::{assert_close, assert_near, t64};
use strata_autograd::{Var, assert_gradcheck};
use strata_layers::loss::KlReduction;
use strata_layers::loss::{
    bce_with_logits, binary_cross_entropy, cross_entropy, cross_entropy_soft, half_sse, huber_loss,
    kl_div, kl_div_with, mse_loss, nll_loss, smooth_l1_loss,
};
use strata_layers::{CrossEntropyOptions, Reduction};
use strata_tensor::Tensor;

fn c(data: &[f64], shape: &[usize]) -> Var<f64> {
    Var::constant(t64(data, shape))
}

const REDUCTIONS: [Reduction; 3] = [Reduction::Mean, Reduction::Sum, Reduction::None];

// ---------------------------------------------------------------------------------------------
// Regression losses

#[test]
fn mse_values() {
    // Squared errors [0, 4, 4] (and [1, 0, 9] in the second row).
    let p = c(&[1.0, 2.0, 3.0, 0.0, 1.0, 2.0], &[2, 3]);
    let t = c(&[1.0, 0.0, 5.0, 1.0, 1.0, -1.0], &[2, 3]);
    assert_near(mse_loss(&p, &t, Reduction::Mean).item(), 18.0 / 6.0, 1e-12);
    assert_near(mse_loss(&p, &t, Reduction::Sum).item(), 18.0, 1e-12);
    let none = mse_loss(&p, &t, Reduction::None);
    assert_close(
        none.value(),
        &t64(&[0.0, 4.0, 4.0, 1.0, 0.0, 9.0], &[2, 3]),
        1e-12,
    );
}

/// A loss of prediction and target.
type LossFn = fn(&Var<f64>, &Var<f64>) -> Var<f64>;

/// Huber and smooth L1 against PyTorch 2.15 (float64): `F.huber_loss(p, t, delta=…)` and
/// `F.smooth_l1_loss(p, t, beta=…)`, values and `p.grad` after `loss.sum().backward()`.
#[test]
fn huber_and_smooth_l1_match_pytorch() {
    let p = [0.5, -1.25, 2.0, 3.0, 0.1, -0.4];
    let t = c(&[0.0, 0.5, -1.0, 2.9, 0.0, 1.6], &[2, 3]);
    let sixth = 1.0 / 6.0;
    #[rustfmt::skip]
    let cases: [(&str, LossFn, &[f64], [f64; 6]); 4] = [
        ("huber δ=1 mean", |p, t| huber_loss(p, t, 1.0, Reduction::Mean), &[0.8975],
            [0.5 * sixth, -sixth, sixth, 0.1 * sixth, 0.1 * sixth, -sixth]),
        ("huber δ=0.5 sum", |p, t| huber_loss(p, t, 0.5, Reduction::Sum), &[3.135],
            [0.5, -0.5, 0.5, 0.1, 0.1, -0.5]),
        ("smooth_l1 β=2 mean", |p, t| smooth_l1_loss(p, t, 2.0, Reduction::Mean), &[0.6388541666666666],
            [0.041666666666666664, -0.14583333333333331, sixth, 0.00833333333333334, 0.008333333333333333, -sixth]),
        ("smooth_l1 β=1 none", |p, t| smooth_l1_loss(p, t, 1.0, Reduction::None), &[0.125, 1.25, 2.5, 0.005, 0.005, 1.5],
            [0.5, -1.0, 1.0, 0.1, 0.1, -1.0]),
    ];
    for (name, loss, value, grad) in cases {
        let pv = Var::leaf(t64(&p, &[2, 3]));
        let l = loss(&pv, &t);
        for (got, want) in l.value().to_vec().iter().zip(value) {
            assert!(
                (got - want).abs() < 1e-12,
                "{name}: value {got} vs PyTorch {want}"
            );
        }
        let g = l.sum().backward();
        assert_close(g.wrt(&pv).unwrap(), &t64(&grad, &[2, 3]), 1e-12);
    }
}

#[test]
#[should_panic(expected = "huber_loss: the threshold must be positive and finite, got 0")]
fn huber_refuses_a_zero_threshold() {
    let p = c(&[1.0], &[1]);
    huber_loss(&p, &p, 0.0, Reduction::Mean);
}

/// A `kl_div_with` case: name, target, reduction, log_target, PyTorch's value and gradient.
type KlCase<'a> = (&'a str, &'a Var<f64>, KlReduction, bool, f64, [f64; 6]);

/// `kl_div` with `reduction="batchmean"` and `log_target=True` against PyTorch 2.15 (float64):
/// values and `input.grad`.
#[test]
fn kl_div_batchmean_and_log_target_match_pytorch() {
    let input = [
        -0.9749569269138376,
        -2.1749569269138376,
        -0.6749569269138377,
        -0.3450052766575144,
        -1.5450052766575144,
        -2.5450052766575144,
    ];
    let p = c(&[0.5, 0.0, 0.5, 0.1, 0.6, 0.3], &[2, 3]);
    let log_t = Var::constant(t64(&[0.2, 0.3, 0.5, 0.1, 0.6, 0.3], &[2, 3]).ln());
    #[rustfmt::skip]
    let cases: [KlCase; 3] = [
        ("batchmean", &p, KlReduction::BatchMean, false, 0.47943464907731353,
            [-0.25, 0.0, -0.25, -0.05, -0.3, -0.15]),
        ("batchmean log_target", &log_t, KlReduction::BatchMean, true, 0.49118173232499934,
            [-0.1, -0.15, -0.25, -0.05, -0.3, -0.15]),
        ("sum log_target", &log_t, KlReduction::Sum, true, 0.9823634646499987,
            [-0.2, -0.3, -0.5, -0.1, -0.6, -0.3]),
    ];
    for (name, target, reduction, log_target, value, grad) in cases {
        let x = Var::leaf(t64(&input, &[2, 3]));
        let loss = kl_div_with(&x, target, reduction, log_target);
        assert!(
            (loss.item() - value).abs() < 1e-12,
            "{name}: {} vs PyTorch {value}",
            loss.item()
        );
        let g = loss.backward();
        assert_close(g.wrt(&x).unwrap(), &t64(&grad, &[2, 3]), 1e-12);
    }
    // The same divergence either way: targets as probabilities or as their logarithms.
    let probs = c(&[0.2, 0.3, 0.5, 0.1, 0.6, 0.3], &[2, 3]);
    let x = Var::constant(t64(&input, &[2, 3]));
    assert_near(
        kl_div_with(&x, &probs, KlReduction::BatchMean, false).item(),
        kl_div_with(&x, &log_t, KlReduction::BatchMean, true).item(),
        1e-12,
    );
}

#[test]
fn half_sse_values_and_gradient() {
    // ½·(1 + 4 + 9 + 16)/N with N = 2.
    let p = Var::leaf(t64(&[1.0, 2.0, 3.0, 4.0], &[2, 2]));
    let loss = half_sse(&p, &Var::constant(Tensor::zeros(&[2, 2])));
    assert_near(loss.item(), 7.5, 1e-12);
    // ∂/∂y = (y − t)/N.
    let g = loss.backward();
    assert_close(
        g.wrt(&p).unwrap(),
        &t64(&[0.5, 1.0, 1.5, 2.0], &[2, 2]),
        1e-12,
    );
}

#[test]
fn regression_gradchecks() {
    let p = t64(&[0.3, -1.2, 2.0, 0.7, 0.1, -0.4], &[2, 3]);
    let t = t64(&[0.0, 1.0, 1.5, -0.5, 0.2, 0.3], &[2, 3]);
    for r in REDUCTIONS {
        assert_gradcheck(
            &format!("mse_loss {r:?}"),
            |v| mse_loss(&v[0], &v[1], r),
            &[p.clone(), t.clone()],
            1e-6,
        );
    }
    assert_gradcheck("half_sse", |v| half_sse(&v[0], &v[1]), &[p, t], 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Classification losses

/// Rows [0, 0, ln 2] (softmax [¼, ¼, ½]) and [ln 3, 0, 0] (softmax [⅗, ⅕, ⅕]); targets 2, 1.
fn logits() -> Var<f64> {
    c(&[0.0, 0.0, 2f64.ln(), 3f64.ln(), 0.0, 0.0], &[2, 3])
}
const TARGETS: [usize; 2] = [2, 1];

fn ce(reduction: Reduction, label_smoothing: f64, weight: Option<&[f64]>) -> Var<f64> {
    let options = CrossEntropyOptions {
        reduction,
        label_smoothing,
        weight: weight.map(|w| t64(w, &[3])),
        ignore_index: None,
    };
    cross_entropy(&logits(), &TARGETS, &options)
}

#[test]
fn cross_entropy_values() {
    let (l2, l5) = (2f64.ln(), 5f64.ln());
    // −ln ½ and −ln ⅕.
    assert_near(
        ce(Reduction::Mean, 0.0, None).item(),
        (l2 + l5) / 2.0,
        1e-12,
    );
    assert_near(ce(Reduction::Sum, 0.0, None).item(), l2 + l5, 1e-12);
    assert_close(
        ce(Reduction::None, 0.0, None).value(),
        &t64(&[l2, l5], &[2]),
        1e-12,
    );
    // The default options are mean, no smoothing, no weights.
    assert_near(
        cross_entropy(&logits(), &TARGETS, &CrossEntropyOptions::default()).item(),
        (l2 + l5) / 2.0,
        1e-12,
    );
}

#[test]
fn cross_entropy_label_smoothing() {
    // lossᵢ = (1 − ε)·(−ℓ_t) + (ε/C)·Σ_c (−ℓ_c), ε = 0.3, C = 3.
    // Row 0: −ℓ = [ln 4, ln 4, ln 2] → 0.7·ln 2 + 0.1·5 ln 2 = 1.2 ln 2.
    // Row 1: −ℓ = [ln 5/3, ln 5, ln 5] → 0.7·ln 5 + 0.1·(ln 5/3 + 2 ln 5).
    let l0 = 1.2 * 2f64.ln();
    let l1 = 0.7 * 5f64.ln() + 0.1 * ((5.0f64 / 3.0).ln() + 2.0 * 5f64.ln());
    assert_close(
        ce(Reduction::None, 0.3, None).value(),
        &t64(&[l0, l1], &[2]),
        1e-12,
    );
    assert_near(
        ce(Reduction::Mean, 0.3, None).item(),
        (l0 + l1) / 2.0,
        1e-12,
    );
    assert_near(ce(Reduction::Sum, 0.3, None).item(), l0 + l1, 1e-12);
}

#[test]
fn cross_entropy_class_weights() {
    let w = [1.0, 2.0, 3.0];
    let (l2, l5) = (2f64.ln(), 5f64.ln());
    // w_t·(−ℓ_t): 3 ln 2 and 2 ln 5; the mean divides by Σ w_t = 5 (PyTorch's weighted mean).
    assert_close(
        ce(Reduction::None, 0.0, Some(&w)).value(),
        &t64(&[3.0 * l2, 2.0 * l5], &[2]),
        1e-12,
    );
    assert_near(
        ce(Reduction::Sum, 0.0, Some(&w)).item(),
        3.0 * l2 + 2.0 * l5,
        1e-12,
    );
    assert_near(
        ce(Reduction::Mean, 0.0, Some(&w)).item(),
        (3.0 * l2 + 2.0 * l5) / 5.0,
        1e-12,
    );
    // With smoothing 0.3: row 0 = 0.7·3·ln 2 + 0.1·(1·ln 4 + 2·ln 4 + 3·ln 2) = 3 ln 2.
    let row1 = 0.7 * 2.0 * l5 + 0.1 * ((5.0f64 / 3.0).ln() + 2.0 * l5 + 3.0 * l5);
    assert_close(
        ce(Reduction::None, 0.3, Some(&w)).value(),
        &t64(&[3.0 * l2, row1], &[2]),
        1e-12,
    );
    assert_near(
        ce(Reduction::Mean, 0.3, Some(&w)).item(),
        (3.0 * l2 + row1) / 5.0,
        1e-12,
    );
}

#[test]
fn cross_entropy_gradient_by_hand() {
    // Mean reduction: ∂/∂x = (softmax − onehot)/N.
    let x = Var::leaf(logits().into_value());
    let g = cross_entropy(&x, &TARGETS, &CrossEntropyOptions::default()).backward();
    let expected = t64(&[0.125, 0.125, -0.25, 0.3, -0.4, 0.1], &[2, 3]);
    assert_close(g.wrt(&x).unwrap(), &expected, 1e-12);
}

#[test]
fn cross_entropy_ignore_index_drops_the_examples() {
    // Ignoring the examples whose target is 9 is the loss of the other rows alone, weighted
    // mean included; their gradient rows are 0.
    let x = t64(
        &[
            0.2, -1.0, 0.5, 1.5, 0.0, -0.3, 0.7, 0.7, -2.0, 0.1, 0.4, 0.9,
        ],
        &[4, 3],
    );
    let options = CrossEntropyOptions::default()
        .with_label_smoothing(0.2)
        .with_weight(t64(&[0.5, 2.0, 1.5], &[3]))
        .with_ignore_index(9);
    let all = Var::leaf(x.clone());
    let ignoring = cross_entropy(&all, &[2, 9, 0, 9], &options);
    let kept = Var::leaf(x.index_select(0, &[0, 2]));
    let subset = cross_entropy(&kept, &[2, 0], &options);
    assert_near(ignoring.item(), subset.item(), 1e-12);
    let (ga, gk) = (ignoring.backward(), subset.backward());
    let ga = ga.wrt(&all).unwrap();
    assert_close(&ga.index_select(0, &[0, 2]), gk.wrt(&kept).unwrap(), 1e-12);
    assert_close(&ga.index_select(0, &[1, 3]), &t64(&[0.0; 6], &[2, 3]), 0.0);
}

#[test]
fn cross_entropy_soft_values() {
    // Row 0 of `logits()`: −ℓ = [ln 4, ln 4, ln 2]; row 1: [ln 5/3, ln 5, ln 5].
    let p = c(&[0.5, 0.0, 0.5, 0.2, 0.2, 0.6], &[2, 3]);
    let (l2, l5, l53) = (2f64.ln(), 5f64.ln(), (5.0f64 / 3.0).ln());
    let rows = [0.5 * 2.0 * l2 + 0.5 * l2, 0.2 * l53 + 0.8 * l5];
    let none = CrossEntropyOptions::default().with_reduction(Reduction::None);
    assert_close(
        cross_entropy_soft(&logits(), &p, &none).value(),
        &t64(&rows, &[2]),
        1e-12,
    );
    // The mean divides by N even with class weights (PyTorch's rule for probabilities).
    let w = [1.0, 2.0, 3.0];
    let weighted = CrossEntropyOptions::default().with_weight(t64(&w, &[3]));
    let row0 = 0.5 * 2.0 * l2 + 3.0 * 0.5 * l2;
    let row1 = 0.2 * l53 + 2.0 * 0.2 * l5 + 3.0 * 0.6 * l5;
    assert_near(
        cross_entropy_soft(&logits(), &p, &weighted).item(),
        (row0 + row1) / 2.0,
        1e-12,
    );
}

#[test]
fn nll_values() {
    // log-probabilities of the rows above.
    let lp = c(
        &[
            0.25f64.ln(),
            0.25f64.ln(),
            0.5f64.ln(),
            0.6f64.ln(),
            0.2f64.ln(),
            0.2f64.ln(),
        ],
        &[2, 3],
    );
    let (l2, l5) = (2f64.ln(), 5f64.ln());
    assert_near(
        nll_loss(&lp, &TARGETS, None, Reduction::Mean).item(),
        (l2 + l5) / 2.0,
        1e-12,
    );
    assert_near(
        nll_loss(&lp, &TARGETS, None, Reduction::Sum).item(),
        l2 + l5,
        1e-12,
    );
    assert_close(
        nll_loss(&lp, &TARGETS, None, Reduction::None).value(),
        &t64(&[l2, l5], &[2]),
        1e-12,
    );
    let w = t64(&[1.0, 2.0, 3.0], &[3]);
    assert_near(
        nll_loss(&lp, &TARGETS, Some(&w), Reduction::Mean).item(),
        (3.0 * l2 + 2.0 * l5) / 5.0,
        1e-12,
    );
    assert_close(
        nll_loss(&lp, &TARGETS, Some(&w), Reduction::None).value(),
        &t64(&[3.0 * l2, 2.0 * l5], &[2]),
        1e-12,
    );
    // nll(log_softmax(x)) = cross_entropy(x).
    let via_nll = nll_loss(&logits().log_softmax(1), &TARGETS, None, Reduction::Mean).item();
    assert_near(via_nll, ce(Reduction::Mean, 0.0, None).item(), 1e-12);
}

#[test]
fn classification_gradchecks() {
    let x = t64(
        &[
            0.2, -1.0, 0.5, 1.5, 0.0, -0.3, 0.7, 0.7, -2.0, 0.1, 0.4, 0.9,
        ],
        &[3, 4],
    );
    let targets = [3, 0, 2];
    let w = t64(&[0.5, 1.0, 2.0, 1.5], &[4]);
    for r in REDUCTIONS {
        for (eps, weight) in [
            (0.0, None),
            (0.2, None),
            (0.0, Some(w.clone())),
            (0.1, Some(w.clone())),
        ] {
            let options = CrossEntropyOptions {
                reduction: r,
                label_smoothing: eps,
                weight,
                ignore_index: None,
            };
            assert_gradcheck(
                &format!("cross_entropy {options:?}"),
                |v| cross_entropy(&v[0], &targets, &options),
                std::slice::from_ref(&x),
                1e-6,
            );
        }
        assert_gradcheck(
            &format!("nll_loss {r:?}"),
            |v| nll_loss(&v[0], &targets, None, r),
            std::slice::from_ref(&x),
            1e-6,
        );
        assert_gradcheck(
            &format!("nll_loss weighted {r:?}"),
            |v| nll_loss(&v[0], &targets, Some(&w), r),
            std::slice::from_ref(&x),
            1e-6,
        );
        assert_gradcheck(
            &format!("nll_loss(log_softmax) {r:?}"),
            |v| nll_loss(&v[0].log_softmax(1), &targets, Some(&w), r),
            std::slice::from_ref(&x),
            1e-6,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Binary losses

#[test]
fn bce_with_logits_values() {
    // x = 0, t = 1: ln 2. x = ln 3, t = 0: ln(1 + 3) = ln 4. x = −ln 3, t = 0.5:
    // max(x, 0) − x·t + ln(1 + e^{−|x|}) = 0.5 ln 3 + ln(4/3).
    let x = c(&[0.0, 3f64.ln(), -(3f64.ln())], &[3]);
    let t = c(&[1.0, 0.0, 0.5], &[3]);
    let per = [2f64.ln(), 4f64.ln(), 0.5 * 3f64.ln() + (4.0f64 / 3.0).ln()];
    assert_close(
        bce_with_logits(&x, &t, Reduction::None).value(),
        &t64(&per, &[3]),
        1e-12,
    );
    assert_near(
        bce_with_logits(&x, &t, Reduction::Sum).item(),
        per.iter().sum(),
        1e-12,
    );
    assert_near(
        bce_with_logits(&x, &t, Reduction::Mean).item(),
        per.iter().sum::<f64>() / 3.0,
        1e-12,
    );
    // Stable for large logits: x = ±1000.
    let big = bce_with_logits(
        &c(&[1000.0, -1000.0], &[2]),
        &c(&[0.0, 1.0], &[2]),
        Reduction::None,
    );
    assert_close(big.value(), &t64(&[1000.0, 1000.0], &[2]), 1e-9);
}

#[test]
fn binary_cross_entropy_values() {
    // p = ½, t = 1: ln 2; p = ¾, t = 0: −ln ¼ = ln 4.
    let p = c(&[0.5, 0.75], &[2]);
    let t = c(&[1.0, 0.0], &[2]);
    assert_close(
        binary_cross_entropy(&p, &t, Reduction::None).value(),
        &t64(&[2f64.ln(), 4f64.ln()], &[2]),
        1e-12,
    );
    assert_near(
        binary_cross_entropy(&p, &t, Reduction::Mean).item(),
        1.5 * 2f64.ln(),
        1e-12,
    );
    assert_near(
        binary_cross_entropy(&p, &t, Reduction::Sum).item(),
        3.0 * 2f64.ln(),
        1e-12,
    );
    // Each log is clamped at −100: a confident wrong answer costs 100, a confident right one 0.
    let p = c(&[0.0, 1.0, 0.0, 1.0], &[4]);
    let t = c(&[1.0, 0.0, 0.0, 1.0], &[4]);
    assert_close(
        binary_cross_entropy(&p, &t, Reduction::None).value(),
        &t64(&[100.0, 100.0, 0.0, 0.0], &[4]),
        1e-12,
    );
    // It agrees with bce_with_logits on σ(x).
    let x = c(&[-2.0, 0.3, 1.7], &[3]);
    let t = c(&[0.0, 1.0, 0.25], &[3]);
    let a = binary_cross_entropy(&x.sigmoid(), &t, Reduction::Mean).item();
    assert_near(a, bce_with_logits(&x, &t, Reduction::Mean).item(), 1e-12);
}

/// PyTorch's `binary_cross_entropy` keeps the gradient finite where the log is clamped (its
/// backward divides by `max(p(1 − p), 1e-12)`); here the clamp zeroes the upstream gradient
/// and `ln`'s backward then computes `0/0` at `p = 0` or `p = 1`.
#[test]
fn binary_cross_entropy_gradient_is_finite_at_saturated_probabilities() {
    let p = Var::leaf(t64(&[0.0, 1.0, 0.0, 1.0], &[4]));
    let t = c(&[0.0, 1.0, 1.0, 0.0], &[4]);
    let g = binary_cross_entropy(&p, &t, Reduction::Sum).backward();
    let g = g.wrt(&p).unwrap().to_vec();
    assert!(g.iter().all(|v| v.is_finite()), "gradient {g:?}");
}

#[test]
fn binary_gradchecks() {
    let x = t64(&[-1.5, 0.2, 0.9, 2.5, -0.3, 0.0], &[2, 3]);
    let p = t64(&[0.1, 0.35, 0.5, 0.62, 0.8, 0.9], &[2, 3]);
    let t = t64(&[0.0, 1.0, 0.3, 1.0, 0.0, 0.7], &[2, 3]);
    for r in REDUCTIONS {
        assert_gradcheck(
            &format!("bce_with_logits {r:?}"),
            |v| bce_with_logits(&v[0], &v[1], r),
            &[x.clone(), t.clone()],
            1e-6,
        );
        assert_gradcheck(
            &format!("binary_cross_entropy {r:?}"),
            |v| binary_cross_entropy(&v[0], &v[1], r),
            &[p.clone(), t.clone()],
            1e-6,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// KL divergence

#[test]
fn kl_div_values() {
    // Σ p·(ln p − ln q) with q = [½, ½], p = [¼, ¾]: ¼ ln ½ + ¾ ln (3/2).
    let log_q = c(&[0.5f64.ln(), 0.5f64.ln()], &[1, 2]);
    let p = c(&[0.25, 0.75], &[1, 2]);
    let kl = 0.25 * 0.5f64.ln() + 0.75 * 1.5f64.ln();
    assert_near(kl_div(&log_q, &p, Reduction::Sum).item(), kl, 1e-12);
    // Mean averages over all elements (PyTorch's default), not over the batch.
    assert_near(kl_div(&log_q, &p, Reduction::Mean).item(), kl / 2.0, 1e-12);
    let none = kl_div(&log_q, &p, Reduction::None);
    assert_close(
        none.value(),
        &t64(&[0.25 * 0.5f64.ln(), 0.75 * 1.5f64.ln()], &[1, 2]),
        1e-12,
    );
    // 0·ln 0 = 0: p = [0, 1] against q = [½, ½] gives ln 2.
    let p = c(&[0.0, 1.0], &[1, 2]);
    assert_close(
        kl_div(&log_q, &p, Reduction::None).value(),
        &t64(&[0.0, 2f64.ln()], &[1, 2]),
        1e-12,
    );
    // KL(p ‖ p) = 0.
    let p = c(&[0.2, 0.3, 0.5], &[1, 3]);
    assert_near(kl_div(&p.ln(), &p, Reduction::Sum).item(), 0.0, 1e-15);
}

#[test]
fn kl_div_gradchecks() {
    let x = t64(&[0.2, -1.0, 0.5, 1.5, 0.0, -0.3], &[2, 3]);
    let p = t64(&[0.2, 0.3, 0.5, 0.6, 0.1, 0.3], &[2, 3]);
    for r in REDUCTIONS {
        assert_gradcheck(
            &format!("kl_div {r:?}"),
            |v| kl_div(&v[0].log_softmax(1), &v[1], r),
            &[x.clone(), p.clone()],
            1e-6,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Validation

#[test]
#[should_panic(expected = "mse_loss: prediction [2] and target [3] differ in shape")]
fn mse_rejects_shape_mismatch() {
    mse_loss(&c(&[0.0; 2], &[2]), &c(&[0.0; 3], &[3]), Reduction::Mean);
}

#[test]
#[should_panic(expected = "half_sse: needs a batch dimension, got a scalar")]
fn half_sse_rejects_scalar() {
    half_sse(
        &Var::constant(Tensor::scalar(1.0f64)),
        &Var::constant(Tensor::scalar(0.0)),
    );
}

#[test]
#[should_panic(expected = "binary_cross_entropy: prediction [2] and target [1, 2] differ in shape")]
fn bce_rejects_shape_mismatch() {
    binary_cross_entropy(&c(&[0.5; 2], &[2]), &c(&[0.5; 2], &[1, 2]), Reduction::Mean);
}

#[test]
#[should_panic(expected = "kl_div: input [2] and target [3] differ in shape")]
fn kl_div_rejects_shape_mismatch() {
    kl_div(&c(&[0.0; 2], &[2]), &c(&[0.0; 3], &[3]), Reduction::Mean);
}

#[test]
#[should_panic(expected = "cross_entropy: target 3 is out of range for 3 classes")]
fn cross_entropy_rejects_bad_target() {
    cross_entropy(&logits(), &[0, 3], &CrossEntropyOptions::default());
}

#[test]
#[should_panic(expected = "cross_entropy: label smoothing 1 is outside [0, 1)")]
fn cross_entropy_rejects_bad_smoothing() {
    let options = CrossEntropyOptions {
        label_smoothing: 1.0,
        ..Default::default()
    };
    cross_entropy(&logits(), &TARGETS, &options);
}

#[test]
#[should_panic(expected = "nll_loss: 3 targets for 2 examples")]
fn nll_rejects_target_count() {
    nll_loss(&logits(), &[0, 1, 2], None, Reduction::Mean);
}
