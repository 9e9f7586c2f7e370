//! Returns, GAE and normalisation on hand-computed cases; the categorical policy's
//! log-probabilities, entropy and sampling; the episode log's curve and solved step.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use strata_autograd::Var;
use strata_rl::policy::{Categorical, argmax_rows};
use strata_rl::returns::{gae, normalize, returns_to_go};
use strata_rl::{Episode, EpisodeLog};
use strata_tensor::Tensor;

fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
    }
}

#[test]
fn returns_to_go_discount_and_bootstrap() {
    // G₂ = 3 + 0.5·10, G₁ = 2 + 0.5·G₂, G₀ = 1 + 0.5·G₁.
    close(
        &returns_to_go(&[1.0, 2.0, 3.0], 0.5, 10.0),
        &[4.0, 6.0, 8.0],
    );
    close(&returns_to_go(&[1.0, 1.0], 1.0, 0.0), &[2.0, 1.0]);
}

#[test]
fn gae_limits_and_episode_cuts() {
    let (r, v) = ([1.0, 1.0, 1.0], [0.5, 0.25, 0.0]);
    // λ = 1: A = G − V with G the bootstrapped return.
    let g = returns_to_go(&r, 0.9, 2.0);
    let a = gae(&r, &v, &[2.0], &[false; 3], 0.9, 1.0);
    close(&a, &[g[0] - v[0], g[1] - v[1], g[2] - v[2]]);
    // λ = 0: one-step TD errors.
    let a = gae(&r, &v, &[2.0], &[false; 3], 0.9, 0.0);
    close(
        &a,
        &[
            1.0 + 0.9 * 0.25 - 0.5,
            1.0 + 0.0 - 0.25,
            1.0 + 0.9 * 2.0 - 0.0,
        ],
    );
    // Two environments interleaved ([t0e0, t0e1, t1e0, t1e1]); environment 0's episode ends at
    // step 0, cutting its bootstrap and recursion there; the next episode's step 1 bootstraps
    // from next_values[0] = 5.
    let a = gae(
        &[1.0, 0.0, 1.0, 0.0],
        &[0.0; 4],
        &[5.0, 7.0],
        &[true, false, false, false],
        1.0,
        1.0,
    );
    close(&a, &[1.0, 7.0, 6.0, 7.0]);
}

#[test]
fn normalize_centres_and_scales() {
    let mut x = [1.0, 2.0, 3.0, 4.0];
    normalize(&mut x);
    let mean: f64 = x.iter().sum::<f64>() / 4.0;
    let var: f64 = x.iter().map(|v| v * v).sum::<f64>() / 4.0;
    assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-6, "{x:?}");
    let mut one = [5.0];
    normalize(&mut one);
    assert_eq!(one, [0.0]);
}

#[test]
fn categorical_log_prob_entropy_and_sampling() {
    let logits = Var::leaf(Tensor::from_vec(
        vec![0.0, 0.0, 0.0, 2.0_f32.ln(), 0.0, 0.0],
        &[2, 3],
    ));
    let pi = Categorical::from_logits(&logits);
    let lp = pi.log_prob(&[0, 0]).value().to_vec();
    assert!(
        (lp[0] - (1.0f32 / 3.0).ln()).abs() < 1e-6 && (lp[1] - 0.5f32.ln()).abs() < 1e-6,
        "{lp:?}"
    );
    let h = pi.entropy().value().to_vec();
    assert!(
        (h[0] - 3.0f32.ln()).abs() < 1e-6,
        "uniform entropy is ln 3, got {}",
        h[0]
    );
    assert!(
        (h[1] - 1.5 * 2.0f32.ln()).abs() < 1e-6,
        "H(½, ¼, ¼) = 1.5 ln 2, got {}",
        h[1]
    );
    // The gradient flows to the logits: ∂ log π(0)/∂ logits = onehot − π.
    let g = pi.log_prob(&[0, 0]).sum().backward();
    let g = g.wrt(&logits).unwrap().to_vec();
    assert!(
        (g[3] - 0.5).abs() < 1e-6 && (g[4] + 0.25).abs() < 1e-6,
        "{g:?}"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut counts = [0usize; 3];
    for _ in 0..20_000 {
        counts[pi.sample(&mut rng)[1]] += 1;
    }
    assert!(
        (counts[0] as f64 / 20_000.0 - 0.5).abs() < 0.02,
        "{counts:?}"
    );
    assert_eq!(
        argmax_rows(&Tensor::from_vec(
            vec![1.0, 3.0, 3.0, 0.0, -1.0, -2.0],
            &[2, 3]
        )),
        vec![1, 0]
    );
}

#[test]
fn episode_log_curve_and_solved_step() {
    let mut log = EpisodeLog::new();
    for i in 0..150u64 {
        log.push(
            Episode {
                score: if i < 100 { 10.0 } else { 500.0 },
                length: 1,
                env_step: i + 1,
            },
            200.0,
        );
    }
    // The mean of the last 100 reaches 200 once k of them score 500 with
    // (100 − k)·10 + 500k ≥ 20000, k ≥ 38.8: at episode 139.
    assert_eq!(log.solved_at(), Some(139));
    let curve = log.curve(100);
    assert_eq!(curve[0], (1.0, 10.0));
    assert_eq!(curve[149], (150.0, (50.0 * 10.0 + 50.0 * 500.0) / 100.0));
    assert_eq!(log.mean_last(10), 500.0);
}
