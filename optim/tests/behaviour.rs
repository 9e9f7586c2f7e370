//! What `step` does with frozen parameters, parameters without a gradient, views and shared
//! storage; learning-rate access; configuration errors; Adam's weight-decay modes.

mod common;

use strata_autograd::{Grads, Param, Var};
use strata_optim::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, OptimError, Optimizer, RmsPropConfig,
    SgdConfig, WeightDecay,
};
use strata_tensor::Tensor;

fn all_optimizers() -> Vec<Box<dyn Optimizer<f64>>> {
    vec![
        Box::new(SgdConfig::new(0.1).with_momentum(0.9).build().unwrap()),
        Box::new(AdamConfig::new(0.1).build().unwrap()),
        Box::new(AdamWConfig::new(0.1).build().unwrap()),
        Box::new(AdagradConfig::new(0.1).build().unwrap()),
        Box::new(RmsPropConfig::new(0.1).build().unwrap()),
        Box::new(AdadeltaConfig::new(1.0).build().unwrap()),
    ]
}

#[test]
fn frozen_params_and_params_without_gradients_are_skipped() {
    for mut opt in all_optimizers() {
        let mut frozen = Param::new(Tensor::from_vec(vec![1.0, 2.0], &[2]));
        frozen.set_requires_grad(false);
        let mut absent = Param::new(Tensor::from_vec(vec![3.0], &[1]));
        let mut live = Param::new(Tensor::from_vec(vec![4.0], &[1]));
        let mut grads = Grads::new();
        grads.insert(frozen.id(), Tensor::from_vec(vec![1.0, 1.0], &[2]));
        grads.insert(live.id(), Tensor::from_vec(vec![1.0], &[1]));
        opt.step(&mut [&mut frozen, &mut absent, &mut live], &grads);
        let kind = opt.kind();
        assert_eq!(frozen.value().to_vec(), vec![1.0, 2.0], "{kind}");
        assert_eq!(absent.value().to_vec(), vec![3.0], "{kind}");
        assert!(live.value().to_vec()[0] < 4.0, "{kind}");
        let state = opt.state(&[&frozen, &absent, &live]);
        assert!(
            state.params[0].is_none() && state.params[1].is_none(),
            "{kind}"
        );
        assert!(state.params[2].is_some(), "{kind}");
        assert_eq!(opt.step_count(), 1);
    }
}

#[test]
fn a_params_own_step_count_starts_at_its_first_gradient() {
    // PyTorch keeps a step per parameter: a parameter joining late gets Adam's bias
    // correction for t = 1, exactly as with a fresh optimizer.
    let mut opt = AdamConfig::new(0.1).build::<f64>().unwrap();
    let mut early = Param::new(Tensor::from_vec(vec![1.0], &[1]));
    let mut late = Param::new(Tensor::from_vec(vec![1.0], &[1]));
    for _ in 0..2 {
        let mut grads = Grads::new();
        grads.insert(early.id(), Tensor::from_vec(vec![0.3], &[1]));
        opt.step(&mut [&mut early, &mut late], &grads);
    }
    let mut grads = Grads::new();
    grads.insert(late.id(), Tensor::from_vec(vec![0.5], &[1]));
    opt.step(&mut [&mut early, &mut late], &grads);
    // A fresh Adam's first step with g = 0.5 moves θ by γ·0.5/(0.5 + ε) ≈ 0.1.
    let fresh = common::run_scalar(&mut AdamConfig::new(0.1).build().unwrap(), 1.0, &[0.5]);
    assert_eq!(late.value().to_vec()[0], fresh[0]);
    let state = opt.state(&[&early, &late]);
    assert_eq!(state.params[0].as_ref().unwrap().step, 2);
    assert_eq!(state.params[1].as_ref().unwrap().step, 1);
    assert_eq!(state.step, 3);
}

#[test]
fn non_contiguous_gradients_are_read_in_row_major_order() {
    let mut p = Param::new(Tensor::<f64>::zeros(&[2, 3]));
    let g = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).t();
    assert!(!g.is_contiguous());
    let mut grads = Grads::new();
    grads.insert(p.id(), g.clone());
    let mut opt = SgdConfig::new(1.0).build::<f64>().unwrap();
    opt.step(&mut [&mut p], &grads);
    let want: Vec<f64> = g.to_vec().iter().map(|x| -x).collect();
    assert_eq!(p.value().to_vec(), want);
}

#[test]
fn large_parameters_update_in_parallel_chunks_to_the_same_bits() {
    // 100,003 values: above the parallel threshold, not a multiple of the chunk size. Three
    // steps, so every buffer (momentum, moments, accumulators) is read back after a write.
    let n = 100_003;
    let start = Tensor::from_vec(
        (0..n).map(|i| ((i % 113) as f64 - 56.0) * 0.01).collect(),
        &[n],
    );
    let run = |threads: usize, which: usize| {
        strata_tensor::threads::with_threads(threads, || {
            let mut opt = all_optimizers().swap_remove(which);
            let mut p = Param::new(start.clone());
            for step in 0..3 {
                let g = Tensor::from_vec(
                    (0..n)
                        .map(|i| (((i * 7 + step) % 31) as f64 - 15.0) * 0.1)
                        .collect(),
                    &[n],
                );
                let mut grads = Grads::new();
                grads.insert(p.id(), g);
                opt.step(&mut [&mut p], &grads);
            }
            (opt.kind(), p.value().to_vec())
        })
    };
    for which in 0..all_optimizers().len() {
        let (kind, serial) = run(1, which);
        assert_ne!(serial, start.to_vec(), "{kind} moved the parameter");
        assert_eq!(serial, run(2, which).1, "{kind} on 2 threads");
    }
}

#[test]
fn a_value_still_held_by_a_graph_is_not_changed_behind_its_back() {
    let mut p = Param::new(Tensor::from_vec(vec![1.0f64, 2.0], &[2]));
    let held: Var<f64> = p.var();
    let grads = held.square().sum().backward();
    let mut opt = SgdConfig::new(0.5).build::<f64>().unwrap();
    opt.step(&mut [&mut p], &grads);
    assert_eq!(held.value().to_vec(), vec![1.0, 2.0]);
    assert_eq!(p.value().to_vec(), vec![0.0, 0.0]);
}

#[test]
#[should_panic(
    expected = "the gradient of parameter 0 has shape [3] but the parameter has shape [2]"
)]
fn a_gradient_of_the_wrong_shape_panics() {
    let mut p = Param::new(Tensor::<f64>::zeros(&[2]));
    let mut grads = Grads::new();
    grads.insert(p.id(), Tensor::zeros(&[3]));
    AdamConfig::default()
        .build::<f64>()
        .unwrap()
        .step(&mut [&mut p], &grads);
}

#[test]
fn learning_rate_can_be_read_and_set() {
    for mut opt in all_optimizers() {
        opt.set_learning_rate(0.25);
        assert_eq!(opt.learning_rate(), 0.25);
        assert_eq!(opt.state(&[]).config.learning_rate(), 0.25);
    }
}

#[test]
#[should_panic(expected = "learning rate must be finite and ≥ 0")]
fn a_negative_learning_rate_is_refused_by_the_setter() {
    SgdConfig::default()
        .build::<f32>()
        .unwrap()
        .set_learning_rate(-1.0);
}

#[test]
fn defaults_are_pytorchs() {
    let sgd = SgdConfig::default();
    assert_eq!(
        (
            sgd.lr,
            sgd.momentum,
            sgd.dampening,
            sgd.weight_decay,
            sgd.nesterov
        ),
        (1e-3, 0.0, 0.0, 0.0, false)
    );
    let adam = AdamConfig::default();
    assert_eq!(
        (
            adam.lr,
            adam.betas,
            adam.eps,
            adam.weight_decay,
            adam.amsgrad
        ),
        (1e-3, (0.9, 0.999), 1e-8, WeightDecay::None, false)
    );
    let adamw = AdamWConfig::default();
    assert_eq!(
        (adamw.lr, adamw.weight_decay),
        (1e-3, WeightDecay::Decoupled(1e-2))
    );
    let adagrad = AdagradConfig::default();
    assert_eq!(
        (
            adagrad.lr,
            adagrad.lr_decay,
            adagrad.weight_decay,
            adagrad.initial_accumulator_value,
            adagrad.eps
        ),
        (1e-2, 0.0, 0.0, 0.0, 1e-10)
    );
    let rms = RmsPropConfig::default();
    assert_eq!(
        (
            rms.lr,
            rms.alpha,
            rms.eps,
            rms.weight_decay,
            rms.momentum,
            rms.centered
        ),
        (1e-2, 0.99, 1e-8, 0.0, 0.0, false)
    );
    let ada = AdadeltaConfig::default();
    assert_eq!(
        (ada.lr, ada.rho, ada.eps, ada.weight_decay),
        (1.0, 0.9, 1e-6, 0.0)
    );
}

fn invalid(err: OptimError, owner: &str, name: &str) {
    match &err {
        OptimError::InvalidHyperParameter {
            owner: o, name: n, ..
        } => {
            assert_eq!((*o, *n), (owner, name), "{err}")
        }
        other => panic!("expected InvalidHyperParameter, got {other:?}"),
    }
}

#[test]
fn invalid_hyper_parameters_are_rejected_at_construction() {
    invalid(
        SgdConfig::new(-0.1).build::<f32>().unwrap_err(),
        "Sgd",
        "lr",
    );
    invalid(
        SgdConfig::new(f64::NAN).build::<f32>().unwrap_err(),
        "Sgd",
        "lr",
    );
    invalid(
        SgdConfig::new(0.1)
            .with_momentum(1.0)
            .build::<f32>()
            .unwrap_err(),
        "Sgd",
        "momentum",
    );
    invalid(
        SgdConfig::new(0.1)
            .with_momentum(-0.1)
            .build::<f32>()
            .unwrap_err(),
        "Sgd",
        "momentum",
    );
    invalid(
        SgdConfig::new(0.1)
            .with_dampening(1.5)
            .build::<f32>()
            .unwrap_err(),
        "Sgd",
        "dampening",
    );
    invalid(
        SgdConfig::new(0.1)
            .with_weight_decay(-1e-4)
            .build::<f32>()
            .unwrap_err(),
        "Sgd",
        "weight_decay",
    );
    invalid(
        AdamConfig::new(-1.0).build::<f32>().unwrap_err(),
        "Adam",
        "lr",
    );
    invalid(
        AdamConfig::new(0.1)
            .with_betas(1.0, 0.999)
            .build::<f32>()
            .unwrap_err(),
        "Adam",
        "beta1",
    );
    invalid(
        AdamConfig::new(0.1)
            .with_betas(0.9, -0.1)
            .build::<f32>()
            .unwrap_err(),
        "Adam",
        "beta2",
    );
    invalid(
        AdamConfig::new(0.1)
            .with_eps(-1e-8)
            .build::<f32>()
            .unwrap_err(),
        "Adam",
        "eps",
    );
    invalid(
        AdamWConfig::new(0.1)
            .with_weight_decay_coefficient(-0.01)
            .build::<f32>()
            .unwrap_err(),
        "AdamW",
        "weight_decay",
    );
    invalid(
        AdamWConfig::new(0.1)
            .with_betas(0.9, 1.0)
            .build::<f32>()
            .unwrap_err(),
        "AdamW",
        "beta2",
    );
    invalid(
        AdagradConfig::new(0.1)
            .with_lr_decay(-1.0)
            .build::<f32>()
            .unwrap_err(),
        "Adagrad",
        "lr_decay",
    );
    invalid(
        AdagradConfig::new(0.1)
            .with_initial_accumulator_value(-1.0)
            .build::<f32>()
            .unwrap_err(),
        "Adagrad",
        "initial_accumulator_value",
    );
    invalid(
        AdagradConfig::new(0.1)
            .with_eps(-1.0)
            .build::<f32>()
            .unwrap_err(),
        "Adagrad",
        "eps",
    );
    invalid(
        RmsPropConfig::new(0.1)
            .with_alpha(1.5)
            .build::<f32>()
            .unwrap_err(),
        "RmsProp",
        "alpha",
    );
    invalid(
        RmsPropConfig::new(0.1)
            .with_momentum(1.0)
            .build::<f32>()
            .unwrap_err(),
        "RmsProp",
        "momentum",
    );
    invalid(
        RmsPropConfig::new(0.1)
            .with_eps(-1.0)
            .build::<f32>()
            .unwrap_err(),
        "RmsProp",
        "eps",
    );
    invalid(
        AdadeltaConfig::new(1.0)
            .with_rho(1.1)
            .build::<f32>()
            .unwrap_err(),
        "Adadelta",
        "rho",
    );
    invalid(
        AdadeltaConfig::new(-1.0).build::<f32>().unwrap_err(),
        "Adadelta",
        "lr",
    );
    invalid(
        AdadeltaConfig::new(1.0)
            .with_weight_decay(-1.0)
            .build::<f32>()
            .unwrap_err(),
        "Adadelta",
        "weight_decay",
    );
}

#[test]
fn nesterov_needs_momentum_and_no_dampening() {
    let err = SgdConfig::new(0.1)
        .with_nesterov(true)
        .build::<f32>()
        .unwrap_err();
    assert_eq!(
        err,
        OptimError::IncompatibleOptions {
            owner: "Sgd",
            reason: "Nesterov momentum requires momentum > 0 and dampening = 0",
        }
    );
    assert_eq!(
        err.to_string(),
        "Sgd: Nesterov momentum requires momentum > 0 and dampening = 0"
    );
    assert!(
        SgdConfig::new(0.1)
            .with_momentum(0.9)
            .with_dampening(0.1)
            .with_nesterov(true)
            .build::<f32>()
            .is_err()
    );
    assert!(
        SgdConfig::new(0.1)
            .with_momentum(0.9)
            .with_nesterov(true)
            .build::<f32>()
            .is_ok()
    );
}

#[test]
fn error_messages_say_what_and_where() {
    let err = AdamConfig::new(0.1)
        .with_betas(1.2, 0.999)
        .build::<f32>()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Adam: invalid beta1 = 1.2 (expected in [0, 1))"
    );
}

/// A parameter whose gradient turns to zero (a dead ReLU unit) has Adam moments decaying
/// geometrically; they must reach exactly zero instead of lingering as subnormal numbers,
/// which make every later multiply take a microcode assist on x86.
#[test]
fn adam_moments_of_a_silent_parameter_flush_to_zero_not_subnormals() {
    let mut p = Param::new(Tensor::from_vec(vec![1.0f32, -1.0], &[2]));
    let mut adam = AdamConfig::new(1e-3).build::<f32>().unwrap();
    let mut grads = Grads::new();
    grads.insert(p.id(), Tensor::from_vec(vec![1e-3f32, -1e-3], &[2]));
    adam.step(&mut [&mut p], &grads);
    let mut zero = Grads::new();
    zero.insert(p.id(), Tensor::zeros(&[2]));
    // 0.9ⁿ·10⁻⁴ is below f32's smallest normal (1.2·10⁻³⁸) from n ≈ 790 and would reach
    // zero by underflow only at n ≈ 890: at 850 an unflushed m is subnormal.
    for _ in 0..850 {
        adam.step(&mut [&mut p], &zero);
    }
    let state = adam.state(&[&p]);
    let entry = state.params[0].as_ref().unwrap();
    for name in ["exp_avg", "exp_avg_sq"] {
        for v in entry.buffers[name].values.to_f64_vec() {
            assert!(
                v == 0.0 || v.abs() >= f32::MIN_POSITIVE as f64,
                "{name} holds the subnormal {v:e}"
            );
        }
    }
    assert!(
        entry.buffers["exp_avg"]
            .values
            .to_f64_vec()
            .iter()
            .all(|&v| v == 0.0)
    );
}

#[test]
fn weight_decay_modes_name_adam_and_adamw() {
    // The λ setter keeps the mode: L2 for Adam, decoupled for AdamW.
    let adam = AdamConfig::new(0.1).with_weight_decay_coefficient(0.05);
    assert_eq!(adam.weight_decay, WeightDecay::L2(0.05));
    let adamw = AdamWConfig::new(0.1).with_weight_decay_coefficient(0.05);
    assert_eq!(adamw.weight_decay, WeightDecay::Decoupled(0.05));
    assert_eq!(
        adamw,
        AdamConfig::new(0.1).with_weight_decay(WeightDecay::Decoupled(0.05))
    );
    assert_eq!(adam.build::<f64>().unwrap().kind(), "adam");
    assert_eq!(adamw.build::<f64>().unwrap().kind(), "adamw");
    // Decoupled decay with λ = 0 updates as no decay, but is still AdamW.
    let zero = AdamWConfig::new(0.1).with_weight_decay_coefficient(0.0);
    let mut plain = AdamConfig::new(0.1).build::<f64>().unwrap();
    let mut decoupled = zero.build::<f64>().unwrap();
    assert_eq!(decoupled.kind(), "adamw");
    let gs = [0.3, -1.0, 2.5];
    assert_eq!(
        common::run_scalar(&mut plain, 1.0, &gs),
        common::run_scalar(&mut decoupled, 1.0, &gs)
    );
}
