//! The RBM in f64, checked exactly: the CD estimate from given states against a transcription
//! of the DeepLearnToolbox `rbmtrain.m`, the probability form against the autograd gradient of
//! the free-energy difference, and gradient checks of the differentiable conditionals and free
//! energy.

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::{Var, assert_gradcheck};
use strata_layers::Module;
use strata_models::rbm::{CdStates, Rbm, RbmConfig, RbmVars, VisibleUnits};
use strata_optim::{Optimizer, SgdConfig};
use strata_tensor::Tensor;

const V: usize = 7;
const H: usize = 5;
const N: usize = 4;

/// An f64 RBM with random (not small) weights and biases, so every term matters.
fn rbm(units: VisibleUnits, seed: u64) -> Rbm<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut rbm = Rbm::<f64>::new(
        RbmConfig::dlt(V, H)
            .with_visible_units(units)
            .with_seed(seed),
    );
    rbm.weight
        .set(Tensor::rand_normal(&[H, V], 0.0, 0.7, &mut rng));
    rbm.visible_bias
        .set(Tensor::rand_normal(&[V], 0.0, 0.5, &mut rng));
    rbm.hidden_bias
        .set(Tensor::rand_normal(&[H], 0.0, 0.5, &mut rng));
    rbm
}

/// A binary `[rows, cols]` matrix of fair coin flips.
fn coins(rows: usize, cols: usize, rng: &mut StdRng) -> Tensor<f64> {
    Tensor::<f64>::full(&[rows, cols], 0.5).bernoulli(rng)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `rbmtrain.m`, one mini-batch, transcribed with loops in f64:
///
/// ```text
/// h2 = sigm(repmat(c', N, 1) + v2 * W');
/// c1 = h1' * v1;  c2 = h2' * v2;
/// vW = momentum * vW + alpha * (c1 - c2) / N;   W = W + vW;
/// vb = momentum * vb + alpha * sum(v1 - v2)' / N;   b = b + vb;
/// vc = momentum * vc + alpha * sum(h1 - h2)' / N;   c = c + vc;
/// ```
struct Toolbox {
    w: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
    vw: Vec<f64>,
    vb: Vec<f64>,
    vc: Vec<f64>,
}

impl Toolbox {
    fn of(rbm: &Rbm<f64>) -> Self {
        Toolbox {
            w: rbm.weight.value().to_vec(),
            b: rbm.visible_bias.value().to_vec(),
            c: rbm.hidden_bias.value().to_vec(),
            vw: vec![0.0; H * V],
            vb: vec![0.0; V],
            vc: vec![0.0; H],
        }
    }

    /// `h2 = sigm(c + v2·Wᵀ)`.
    fn h2(&self, v2: &[f64]) -> Vec<f64> {
        let mut h2 = vec![0.0; N * H];
        for n in 0..N {
            for j in 0..H {
                let a: f64 = (0..V).map(|i| v2[n * V + i] * self.w[j * V + i]).sum();
                h2[n * H + j] = sigmoid(self.c[j] + a);
            }
        }
        h2
    }

    fn update(&mut self, alpha: f64, momentum: f64, v1: &[f64], h1: &[f64], v2: &[f64]) {
        let h2 = self.h2(v2);
        let n = N as f64;
        for j in 0..H {
            for i in 0..V {
                let (mut c1, mut c2) = (0.0, 0.0);
                for r in 0..N {
                    c1 += h1[r * H + j] * v1[r * V + i];
                    c2 += h2[r * H + j] * v2[r * V + i];
                }
                let k = j * V + i;
                self.vw[k] = momentum * self.vw[k] + alpha * (c1 - c2) / n;
                self.w[k] += self.vw[k];
            }
        }
        for i in 0..V {
            let s: f64 = (0..N).map(|r| v1[r * V + i] - v2[r * V + i]).sum();
            self.vb[i] = momentum * self.vb[i] + alpha * s / n;
            self.b[i] += self.vb[i];
        }
        for j in 0..H {
            let s: f64 = (0..N).map(|r| h1[r * H + j] - h2[r * H + j]).sum();
            self.vc[j] = momentum * self.vc[j] + alpha * s / n;
            self.c[j] += self.vc[j];
        }
    }
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tolerance * (1.0 + w.abs()),
            "{what}[{k}]: got {g}, want {w}"
        );
    }
}

#[test]
fn toolbox_states_reproduce_rbmtrain_over_two_momentum_updates() {
    let mut rbm = rbm(VisibleUnits::Bernoulli, 1);
    let mut reference = Toolbox::of(&rbm);
    let (alpha, momentum) = (0.3, 0.5);
    let mut opt = SgdConfig::new(alpha)
        .with_momentum(momentum)
        .build::<f64>()
        .unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..2 {
        // The toolbox's own draws, given: v1 the batch, h1 ~ p(h | v1), v2 ~ p(v | h1).
        let (v1, h1, v2) = (
            coins(N, V, &mut rng),
            coins(N, H, &mut rng),
            coins(N, V, &mut rng),
        );
        let grads = rbm.cd_grads_from(&CdStates::toolbox(&rbm, &v1, &h1, &v2));
        reference.update(alpha, momentum, &v1.to_vec(), &h1.to_vec(), &v2.to_vec());
        let mut params: Vec<_> = rbm.params_mut().into_iter().map(|(_, p)| p).collect();
        opt.step(&mut params, &grads);
    }
    assert_close("W", &rbm.weight.value().to_vec(), &reference.w, 1e-12);
    assert_close("b", &rbm.visible_bias.value().to_vec(), &reference.b, 1e-12);
    assert_close("c", &rbm.hidden_bias.value().to_vec(), &reference.c, 1e-12);
}

#[test]
fn probability_states_are_the_gradient_of_the_free_energy_difference() {
    for units in [VisibleUnits::Bernoulli, VisibleUnits::Gaussian] {
        let rbm = rbm(units, 2);
        let mut rng = StdRng::seed_from_u64(3);
        let v0 = coins(N, V, &mut rng);
        // A mean-field reconstruction from sampled hidden states, as CD-1 with probabilities.
        let h0 = rbm.prob_h_given_v(&v0).bernoulli(&mut rng);
        let vk = rbm.prob_v_given_h(&h0);
        let estimate = rbm.cd_grads_from(&CdStates::probabilities(&rbm, &v0, &vk));
        // For Gaussian units ∂F/∂b = b − v, whose difference is the same −(v₀ − v_k).
        let vars = rbm.vars();
        let loss = vars
            .free_energy(&Var::constant(v0.clone()))
            .mean()
            .sub(&vars.free_energy(&Var::constant(vk.clone())).mean());
        let grads = loss.backward();
        for (name, param) in rbm.params() {
            let want = grads.get(param).expect("gradient").to_vec();
            let got = estimate.get(param).expect("estimate").to_vec();
            assert_close(&format!("{units:?} {name}"), &got, &want, 1e-12);
        }
    }
}

#[test]
fn sampling_step_uses_the_estimate_from_its_own_states() {
    // With probabilities everywhere and a mean-field reconstruction, CD-1's only draw is h₀,
    // so a keyed update can be replayed: its states are (v₀, p(h | v₀), E[v | h₀], p(h | v_k)).
    let config = RbmConfig::new(V, H).with_seed(5);
    let mut rbm = Rbm::<f64>::new(config);
    let mut rng = StdRng::seed_from_u64(11);
    let v0 = coins(N, V, &mut rng);
    let keys: Vec<u64> = (0..N as u64).collect();
    let (sampled, _) = rbm.cd_grads_keyed(&v0, &keys);
    let h0 = rbm
        .prob_h_given_v(&v0)
        .bernoulli_rows(strata_layers::child_seed(5, 0), &keys);
    let vk = rbm.prob_v_given_h(&h0);
    let replayed = rbm.cd_grads_from(&CdStates::probabilities(&rbm, &v0, &vk));
    for (name, param) in rbm.params() {
        let got = sampled.get(param).unwrap().to_vec();
        let want = replayed.get(param).unwrap().to_vec();
        assert_close(&format!("keyed CD-1 {name}"), &got, &want, 1e-12);
    }
}

#[test]
fn differentiable_functions_pass_gradchecks() {
    let mut rng = StdRng::seed_from_u64(4);
    let w = Tensor::<f64>::rand_normal(&[H, V], 0.0, 0.5, &mut rng);
    let b = Tensor::<f64>::rand_normal(&[V], 0.0, 0.5, &mut rng);
    let c = Tensor::<f64>::rand_normal(&[H], 0.0, 0.5, &mut rng);
    let v = Tensor::<f64>::rand_normal(&[N, V], 0.5, 0.5, &mut rng);
    let h = Tensor::<f64>::rand_uniform(&[N, H], 0.0, 1.0, &mut rng);
    let vars =
        |x: &[Var<f64>], units| RbmVars::new(x[1].clone(), x[2].clone(), x[3].clone(), units);
    type Case = (&'static str, VisibleUnits, bool);
    let cases: [Case; 5] = [
        ("prob_h_given_v", VisibleUnits::Bernoulli, true),
        ("prob_v_given_h bernoulli", VisibleUnits::Bernoulli, false),
        ("prob_v_given_h gaussian", VisibleUnits::Gaussian, false),
        ("free_energy bernoulli", VisibleUnits::Bernoulli, true),
        ("free_energy gaussian", VisibleUnits::Gaussian, true),
    ];
    for (what, units, visible_input) in cases {
        let input = if visible_input { v.clone() } else { h.clone() };
        let inputs = [input, w.clone(), b.clone(), c.clone()];
        assert_gradcheck(
            what,
            |x| {
                let rbm = vars(x, units);
                match what {
                    "prob_h_given_v" => rbm.prob_h_given_v(&x[0]),
                    name if name.starts_with("prob_v_given_h") => rbm.prob_v_given_h(&x[0]),
                    _ => rbm.free_energy(&x[0]),
                }
            },
            &inputs,
            1e-6,
        );
    }
}

#[test]
fn differentiable_functions_agree_with_the_tensor_ones() {
    for units in [VisibleUnits::Bernoulli, VisibleUnits::Gaussian] {
        let rbm = rbm(units, 6);
        let mut rng = StdRng::seed_from_u64(8);
        let v = coins(N, V, &mut rng);
        let h = coins(N, H, &mut rng);
        let vars = rbm.vars();
        let pairs = [
            (
                "p(h|v)",
                vars.prob_h_given_v(&Var::constant(v.clone())),
                rbm.prob_h_given_v(&v),
            ),
            (
                "p(v|h)",
                vars.prob_v_given_h(&Var::constant(h.clone())),
                rbm.prob_v_given_h(&h),
            ),
            (
                "F(v)",
                vars.free_energy(&Var::constant(v.clone())),
                rbm.free_energy(&v),
            ),
        ];
        for (what, graph, tensor) in pairs {
            assert_close(
                &format!("{units:?} {what}"),
                &graph.value().to_vec(),
                &tensor.to_vec(),
                1e-12,
            );
        }
    }
}

#[test]
#[should_panic(expected = "CdStates::toolbox: states data [4, 7], data_hidden [4, 3]")]
fn states_of_the_wrong_shape_are_refused() {
    let rbm = rbm(VisibleUnits::Bernoulli, 1);
    let mut rng = StdRng::seed_from_u64(0);
    let _ = CdStates::toolbox(
        &rbm,
        &coins(N, V, &mut rng),
        &coins(N, 3, &mut rng),
        &coins(N, V, &mut rng),
    );
}
