//! Every optimizer against PyTorch's published update rules.
//!
//! Two kinds of evidence per optimizer:
//! - trajectories over 8 steps on two parameters ([3] and [2, 2]) whose gradients vary from
//!   step to step and depend on the current values, compared with a scalar re-implementation
//!   of the algorithm box in the PyTorch 2.x documentation (`torch.optim.<Name>`), written on
//!   plain `f64`s in the textbook form of the box (not the fused form of `src/`);
//! - the first steps of a one-element parameter against literal numbers worked out by hand
//!   from the same equations (the arithmetic is in the comments), so that the library and a
//!   re-implementation cannot pass by sharing a mistake.
//!
//! The issue asks for agreement to 1e-6 in f64; the trajectories agree to 1e-12.

mod common;

use common::{assert_close, assert_near, reference, run, run_scalar};
use strata_optim::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, Optimizer, RmsPropConfig, SgdConfig,
};

const STEPS: usize = 8;
const TOL: f64 = 1e-12;

// ---------------------------------------------------------------- SGD

/// PyTorch 2.x `torch.optim.SGD` algorithm box:
/// g ← g + λθ (λ ≠ 0); if μ ≠ 0: b ← g (t = 1) else b ← μb + (1 − τ)g;
/// g ← g + μb (Nesterov) else g ← b; θ ← θ − γg.
fn sgd_reference(lr: f64, momentum: f64, dampening: f64, wd: f64, nesterov: bool) -> Vec<Vec<f64>> {
    reference::<f64>(STEPS, |b, t, theta, g| {
        let mut g = g;
        if wd != 0.0 {
            g += wd * theta;
        }
        if momentum != 0.0 {
            *b = if t > 1 {
                momentum * *b + (1.0 - dampening) * g
            } else {
                g
            };
            g = if nesterov { g + momentum * *b } else { *b };
        }
        theta - lr * g
    })
}

#[test]
fn sgd_matches_pytorch_rule() {
    let cases = [
        (0.1, 0.0, 0.0, 0.0, false),
        (0.1, 0.0, 0.0, 0.05, false),
        (0.05, 0.9, 0.0, 0.0, false),
        (0.05, 0.8, 0.3, 0.01, false),
        (0.05, 0.9, 0.0, 0.02, true),
    ];
    for (lr, momentum, dampening, wd, nesterov) in cases {
        let mut opt = SgdConfig::new(lr)
            .with_momentum(momentum)
            .with_dampening(dampening)
            .with_weight_decay(wd)
            .with_nesterov(nesterov)
            .build::<f64>()
            .unwrap();
        let got = run(&mut opt, STEPS);
        assert_close(
            &got,
            &sgd_reference(lr, momentum, dampening, wd, nesterov),
            TOL,
        );
    }
}

#[test]
fn sgd_hand_computed_steps() {
    // θ₀ = 1, γ = 0.1, gradients 1.0 then 0.5.
    // Plain: θ₁ = 1 − 0.1·1 = 0.9; θ₂ = 0.9 − 0.1·0.5 = 0.85.
    let got = run_scalar(&mut SgdConfig::new(0.1).build().unwrap(), 1.0, &[1.0, 0.5]);
    assert_near(got[0], 0.9, 1e-15, "plain step 1");
    assert_near(got[1], 0.85, 1e-15, "plain step 2");
    // μ = 0.9: b₁ = 1 → θ₁ = 0.9; b₂ = 0.9·1 + 0.5 = 1.4 → θ₂ = 0.9 − 0.14 = 0.76.
    let mut opt = SgdConfig::new(0.1).with_momentum(0.9).build().unwrap();
    let got = run_scalar(&mut opt, 1.0, &[1.0, 0.5]);
    assert_near(got[0], 0.9, 1e-15, "momentum step 1");
    assert_near(got[1], 0.76, 1e-15, "momentum step 2");
    // Nesterov μ = 0.9: b₁ = 1, step 1 + 0.9·1 = 1.9 → θ₁ = 0.81;
    // b₂ = 1.4, step 0.5 + 0.9·1.4 = 1.76 → θ₂ = 0.81 − 0.176 = 0.634.
    let mut opt = SgdConfig::new(0.1)
        .with_momentum(0.9)
        .with_nesterov(true)
        .build()
        .unwrap();
    let got = run_scalar(&mut opt, 1.0, &[1.0, 0.5]);
    assert_near(got[0], 0.81, 1e-15, "nesterov step 1");
    assert_near(got[1], 0.634, 1e-15, "nesterov step 2");
    // Dampening τ = 0.5 (not applied on the first step): b₁ = 1 → θ₁ = 0.9;
    // b₂ = 0.9·1 + 0.5·0.5 = 1.15 → θ₂ = 0.9 − 0.115 = 0.785.
    let mut opt = SgdConfig::new(0.1)
        .with_momentum(0.9)
        .with_dampening(0.5)
        .build()
        .unwrap();
    let got = run_scalar(&mut opt, 1.0, &[1.0, 0.5]);
    assert_near(got[0], 0.9, 1e-15, "dampening step 1");
    assert_near(got[1], 0.785, 1e-15, "dampening step 2");
    // λ = 0.1: g₁ = 1 + 0.1·1 = 1.1 → θ₁ = 1 − 0.11 = 0.89;
    // g₂ = 0.5 + 0.1·0.89 = 0.589 → θ₂ = 0.89 − 0.0589 = 0.8311.
    let mut opt = SgdConfig::new(0.1).with_weight_decay(0.1).build().unwrap();
    let got = run_scalar(&mut opt, 1.0, &[1.0, 0.5]);
    assert_near(got[0], 0.89, 1e-15, "weight decay step 1");
    assert_near(got[1], 0.8311, 1e-15, "weight decay step 2");
}

// ---------------------------------------------------------------- Adam / AdamW

#[derive(Clone, Default)]
struct Moments {
    m: f64,
    v: f64,
    v_max: f64,
}

/// PyTorch 2.x `torch.optim.Adam` algorithm box (`decoupled = false`) and
/// `torch.optim.AdamW` box (`decoupled = true`):
/// θ ← θ − γλθ (AdamW) | g ← g + λθ (Adam); m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
/// m̂ = m/(1 − β₁ᵗ); AMSGrad: v_max ← max(v_max, v), v̂ = v_max/(1 − β₂ᵗ), else v̂ = v/(1 − β₂ᵗ);
/// θ ← θ − γ·m̂/(√v̂ + ε).
fn adam_reference(
    lr: f64,
    (b1, b2): (f64, f64),
    eps: f64,
    wd: f64,
    amsgrad: bool,
    decoupled: bool,
) -> Vec<Vec<f64>> {
    reference::<Moments>(STEPS, |s, t, theta, g| {
        let mut theta = theta;
        let mut g = g;
        if decoupled {
            theta -= lr * wd * theta;
        } else if wd != 0.0 {
            g += wd * theta;
        }
        s.m = b1 * s.m + (1.0 - b1) * g;
        s.v = b2 * s.v + (1.0 - b2) * g * g;
        let m_hat = s.m / (1.0 - b1.powi(t as i32));
        let v_hat = if amsgrad {
            s.v_max = s.v_max.max(s.v);
            s.v_max / (1.0 - b2.powi(t as i32))
        } else {
            s.v / (1.0 - b2.powi(t as i32))
        };
        theta - lr * m_hat / (v_hat.sqrt() + eps)
    })
}

#[test]
fn adam_matches_pytorch_rule() {
    let cases = [
        (0.05, (0.9, 0.999), 1e-8, 0.0, false),
        (0.05, (0.9, 0.999), 1e-8, 0.1, false),
        (0.05, (0.9, 0.999), 1e-8, 0.0, true),
        (0.02, (0.8, 0.99), 1e-6, 0.05, true),
    ];
    for (lr, betas, eps, wd, amsgrad) in cases {
        let mut opt = AdamConfig::new(lr)
            .with_betas(betas.0, betas.1)
            .with_eps(eps)
            .with_weight_decay_coefficient(wd)
            .with_amsgrad(amsgrad)
            .build::<f64>()
            .unwrap();
        let got = run(&mut opt, STEPS);
        assert_close(
            &got,
            &adam_reference(lr, betas, eps, wd, amsgrad, false),
            TOL,
        );
    }
}

#[test]
fn adamw_matches_pytorch_rule() {
    let cases = [
        (0.05, (0.9, 0.999), 1e-8, 0.01, false),
        (0.05, (0.9, 0.999), 1e-8, 0.3, false),
        (0.02, (0.8, 0.99), 1e-6, 0.1, true),
    ];
    for (lr, betas, eps, wd, amsgrad) in cases {
        let mut opt = AdamWConfig::new(lr)
            .with_betas(betas.0, betas.1)
            .with_eps(eps)
            .with_weight_decay_coefficient(wd)
            .with_amsgrad(amsgrad)
            .build::<f64>()
            .unwrap();
        let got = run(&mut opt, STEPS);
        assert_close(
            &got,
            &adam_reference(lr, betas, eps, wd, amsgrad, true),
            TOL,
        );
    }
}

#[test]
fn adam_hand_computed_steps() {
    // θ₀ = 1, γ = 0.1, β = (0.9, 0.999), ε = 1e-8, gradients 0.5 then −0.25.
    // Step 1: m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25, √v̂ = 0.5,
    //         θ₁ = 1 − 0.1·0.5/(0.5 + 1e-8) = 0.900000002.
    // Step 2: m = 0.045 − 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225,
    //         m̂ = 0.02/0.19 = 0.105263157894…, v̂ = 0.00031225/0.001999 = 0.156203101550…,
    //         θ₂ = 0.900000002 − 0.1·0.105263157894/(0.395225381… + 1e-8) = 0.873366298707846.
    let mut opt = AdamConfig::new(0.1).build().unwrap();
    let got = run_scalar(&mut opt, 1.0, &[0.5, -0.25]);
    assert_near(got[0], 0.900000002, 1e-13, "adam step 1");
    assert_near(got[1], 0.873366298707846, 1e-13, "adam step 2");

    // AMSGrad, gradients 1.0 then 0.01: v₁ = 0.001, v₂ = 0.000999 + 1e-7 = 0.0009991 < v₁,
    // so v_max stays 0.001. Step 1: θ₁ = 1 − 0.1·1/(1 + 1e-8) = 0.900000001.
    // Step 2: m = 0.09 + 0.001 = 0.091, m̂ = 0.091/0.19 = 0.478947…,
    //         v̂ = 0.001/0.001999 = 0.500250125…, √v̂ = 0.707283617…,
    //         θ₂ = 0.900000001 − 0.1·0.478947/0.707283617 = 0.83228355101282.
    // (Plain Adam would use v₂ and give a different θ₂.)
    let mut opt = AdamConfig::new(0.1).with_amsgrad(true).build().unwrap();
    let got = run_scalar(&mut opt, 1.0, &[1.0, 0.01]);
    assert_near(got[0], 0.900000001, 1e-13, "amsgrad step 1");
    assert_near(got[1], 0.83228355101282, 1e-13, "amsgrad step 2");
}

#[test]
fn adamw_hand_computed_steps() {
    // Default λ = 0.01, γ = 0.1: θ is first shrunk by 1 − γλ = 0.999, then the Adam step of
    // adam_hand_computed_steps: θ₁ = 0.999 − 0.099999998 = 0.899000002;
    // θ₂ = 0.899000002·0.999 − 0.026633703… = 0.871467298705846.
    let mut opt = AdamWConfig::new(0.1).build().unwrap();
    let got = run_scalar(&mut opt, 1.0, &[0.5, -0.25]);
    assert_near(got[0], 0.899000002, 1e-13, "adamw step 1");
    assert_near(got[1], 0.871467298705846, 1e-13, "adamw step 2");
}

// ---------------------------------------------------------------- Adagrad

/// PyTorch 2.x `torch.optim.Adagrad` algorithm box:
/// γ̃ = γ/(1 + (t − 1)η); g ← g + λθ; s ← s + g² (s₀ = initial accumulator value);
/// θ ← θ − γ̃·g/(√s + ε).
fn adagrad_reference(lr: f64, lr_decay: f64, wd: f64, init: f64, eps: f64) -> Vec<Vec<f64>> {
    reference::<Option<f64>>(STEPS, |s, t, theta, g| {
        let sum = s.get_or_insert(init);
        let clr = lr / (1.0 + (t - 1) as f64 * lr_decay);
        let g = g + wd * theta;
        *sum += g * g;
        theta - clr * g / (sum.sqrt() + eps)
    })
}

#[test]
fn adagrad_matches_pytorch_rule() {
    let cases = [(0.1, 0.0, 0.0, 0.0, 1e-10), (0.1, 0.3, 0.05, 0.2, 1e-6)];
    for (lr, lr_decay, wd, init, eps) in cases {
        let mut opt = AdagradConfig::new(lr)
            .with_lr_decay(lr_decay)
            .with_weight_decay(wd)
            .with_initial_accumulator_value(init)
            .with_eps(eps)
            .build::<f64>()
            .unwrap();
        let got = run(&mut opt, STEPS);
        assert_close(&got, &adagrad_reference(lr, lr_decay, wd, init, eps), TOL);
    }
}

#[test]
fn adagrad_hand_computed_steps() {
    // θ₀ = 1, γ = 0.1, ε = 1e-10, gradients 1.0 then 0.5.
    // s₁ = 1 → θ₁ = 1 − 0.1·1/(1 + 1e-10) = 0.90000000001.
    // s₂ = 1.25 → θ₂ = θ₁ − 0.1·0.5/(1.118033988749895 + 1e-10) = 0.855278640464004.
    let got = run_scalar(
        &mut AdagradConfig::new(0.1).build().unwrap(),
        1.0,
        &[1.0, 0.5],
    );
    assert_near(got[0], 0.90000000001, 1e-14, "adagrad step 1");
    assert_near(got[1], 0.855278640464004, 1e-14, "adagrad step 2");
    // lr_decay η = 0.5: step 2 uses γ̃ = 0.1/1.5, θ₂ = θ₁ − 0.0666…·0.5/1.1180… = 0.87018576031267.
    let mut opt = AdagradConfig::new(0.1).with_lr_decay(0.5).build().unwrap();
    let got = run_scalar(&mut opt, 1.0, &[1.0, 0.5]);
    assert_near(got[1], 0.87018576031267, 1e-13, "adagrad lr_decay step 2");
}

// ---------------------------------------------------------------- RMSprop

#[derive(Clone, Default)]
struct RmsState {
    v: f64,
    b: f64,
    g_ave: f64,
}

/// PyTorch 2.x `torch.optim.RMSprop` algorithm box:
/// g ← g + λθ; v ← αv + (1 − α)g²; ṽ = v; centered: g_ave ← αg_ave + (1 − α)g, ṽ ← ṽ − g_ave²;
/// μ > 0: b ← μb + g/(√ṽ + ε), θ ← θ − γb; else θ ← θ − γg/(√ṽ + ε).
fn rmsprop_reference(
    lr: f64,
    alpha: f64,
    eps: f64,
    wd: f64,
    momentum: f64,
    centered: bool,
) -> Vec<Vec<f64>> {
    reference::<RmsState>(STEPS, |s, _t, theta, g| {
        let g = g + wd * theta;
        s.v = alpha * s.v + (1.0 - alpha) * g * g;
        let mut v_tilde = s.v;
        if centered {
            s.g_ave = alpha * s.g_ave + (1.0 - alpha) * g;
            v_tilde -= s.g_ave * s.g_ave;
        }
        if momentum > 0.0 {
            s.b = momentum * s.b + g / (v_tilde.sqrt() + eps);
            theta - lr * s.b
        } else {
            theta - lr * g / (v_tilde.sqrt() + eps)
        }
    })
}

#[test]
fn rmsprop_matches_pytorch_rule() {
    let cases = [
        (0.01, 0.99, 1e-8, 0.0, 0.0, false),
        (0.01, 0.9, 1e-8, 0.0, 0.0, true),
        (0.01, 0.99, 1e-8, 0.0, 0.9, false),
        (0.005, 0.9, 1e-6, 0.05, 0.5, true),
    ];
    for (lr, alpha, eps, wd, momentum, centered) in cases {
        let mut opt = RmsPropConfig::new(lr)
            .with_alpha(alpha)
            .with_eps(eps)
            .with_weight_decay(wd)
            .with_momentum(momentum)
            .with_centered(centered)
            .build::<f64>()
            .unwrap();
        let got = run(&mut opt, STEPS);
        assert_close(
            &got,
            &rmsprop_reference(lr, alpha, eps, wd, momentum, centered),
            TOL,
        );
    }
}

#[test]
fn rmsprop_hand_computed_steps() {
    // θ₀ = 1, γ = 0.01, α = 0.99, ε = 1e-8, gradients 1.0 then 0.5.
    // v₁ = 0.01, √v₁ = 0.1 → θ₁ = 1 − 0.01/(0.1 + 1e-8) = 0.90000001 (to 1e-15: 0.900000009999999).
    // v₂ = 0.0099 + 0.0025 = 0.0124, √v₂ = 0.111355287… → θ₂ = θ₁ − 0.005/0.111355297 = 0.855098688525563.
    let got = run_scalar(
        &mut RmsPropConfig::new(0.01).build().unwrap(),
        1.0,
        &[1.0, 0.5],
    );
    assert_near(got[0], 0.900000009999999, 1e-14, "rmsprop step 1");
    assert_near(got[1], 0.855098688525563, 1e-14, "rmsprop step 2");
}

// ---------------------------------------------------------------- Adadelta

#[derive(Clone, Default)]
struct AdadeltaState {
    v: f64,
    u: f64,
}

/// PyTorch 2.x `torch.optim.Adadelta` algorithm box:
/// g ← g + λθ; v ← ρv + (1 − ρ)g²; Δx = √(u + ε)/√(v + ε)·g; u ← ρu + (1 − ρ)Δx²; θ ← θ − γΔx.
fn adadelta_reference(lr: f64, rho: f64, eps: f64, wd: f64) -> Vec<Vec<f64>> {
    reference::<AdadeltaState>(STEPS, |s, _t, theta, g| {
        let g = g + wd * theta;
        s.v = rho * s.v + (1.0 - rho) * g * g;
        let dx = (s.u + eps).sqrt() / (s.v + eps).sqrt() * g;
        s.u = rho * s.u + (1.0 - rho) * dx * dx;
        theta - lr * dx
    })
}

#[test]
fn adadelta_matches_pytorch_rule() {
    let cases = [(1.0, 0.9, 1e-6, 0.0), (0.5, 0.8, 1e-4, 0.05)];
    for (lr, rho, eps, wd) in cases {
        let mut opt = AdadeltaConfig::new(lr)
            .with_rho(rho)
            .with_eps(eps)
            .with_weight_decay(wd)
            .build::<f64>()
            .unwrap();
        let got = run(&mut opt, STEPS);
        assert_close(&got, &adadelta_reference(lr, rho, eps, wd), TOL);
    }
}

#[test]
fn adadelta_hand_computed_steps() {
    // θ₀ = 1, γ = 1, ρ = 0.9, ε = 1e-6, gradients 1.0 then 0.5.
    // v₁ = 0.1, Δ₁ = √(1e-6)/√(0.100001) = 0.001/0.316229347… = 0.00316226184889866,
    // u₁ = 0.1·Δ₁² = 9.9999900001e-7, θ₁ = 0.99683773815110.
    // v₂ = 0.09 + 0.025 = 0.115, Δ₂ = √(u₁ + 1e-6)/√(0.115001)·0.5 = 0.00208512986199371,
    // θ₂ = θ₁ − Δ₂ = 0.99475260828911.
    let got = run_scalar(
        &mut AdadeltaConfig::default().build().unwrap(),
        1.0,
        &[1.0, 0.5],
    );
    assert_near(got[0], 0.99683773815110, 1e-14, "adadelta step 1");
    assert_near(got[1], 0.99475260828911, 1e-14, "adadelta step 2");
}

// ---------------------------------------------------------------- f32

#[test]
fn f32_adam_tracks_the_f64_rule() {
    use strata_autograd::{Grads, Param};
    use strata_tensor::Tensor;
    let want = adam_reference(0.05, (0.9, 0.999), 1e-8, 0.0, false, false);
    let mut opt = AdamConfig::new(0.05).build::<f32>().unwrap();
    let mut a = Param::new(Tensor::from_vec(
        common::INIT_A.iter().map(|&x| x as f32).collect(),
        &[3],
    ));
    let mut b = Param::new(Tensor::from_vec(
        common::INIT_B.iter().map(|&x| x as f32).collect(),
        &[2, 2],
    ));
    for (t, want) in want.iter().enumerate() {
        let mut grads = Grads::new();
        let ga: Vec<f32> = a
            .value()
            .to_vec()
            .iter()
            .enumerate()
            .map(|(k, &x)| common::grad_of(t + 1, k, f64::from(x)) as f32)
            .collect();
        let gb: Vec<f32> = b
            .value()
            .to_vec()
            .iter()
            .enumerate()
            .map(|(k, &x)| common::grad_of(t + 1, k + 3, f64::from(x)) as f32)
            .collect();
        grads.insert(a.id(), Tensor::from_vec(ga, &[3]));
        grads.insert(b.id(), Tensor::from_vec(gb, &[2, 2]));
        opt.step(&mut [&mut a, &mut b], &grads);
        let got: Vec<f32> = a
            .value()
            .to_vec()
            .into_iter()
            .chain(b.value().to_vec())
            .collect();
        for (k, (&g, &w)) in got.iter().zip(want).enumerate() {
            assert!(
                (f64::from(g) - w).abs() < 1e-5,
                "step {} element {k}: f32 {g} vs f64 {w}",
                t + 1
            );
        }
    }
}
