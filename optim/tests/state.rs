//! Saved optimizer state: round trips through serde_json and bincode into fresh optimizers
//! and fresh parameters (new ids, matched by position), and clear errors for states that do
//! not fit, leaving the optimizer unchanged.

mod common;

use common::{grads_for, params};
use strata_autograd::{Grads, Param};
use strata_optim::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, Buffer, BufferValues, OptimError,
    Optimizer, OptimizerConfig, OptimizerState, RmsPropConfig, SgdConfig,
};
use strata_tensor::Tensor;

type Factory = fn() -> Box<dyn Optimizer<f64>>;

fn factories() -> Vec<(&'static str, Factory)> {
    vec![
        ("sgd", || Box::new(SgdConfig::new(0.05).build().unwrap())),
        ("sgd nesterov", || {
            Box::new(
                SgdConfig::new(0.05)
                    .with_momentum(0.9)
                    .with_nesterov(true)
                    .with_weight_decay(0.01)
                    .build()
                    .unwrap(),
            )
        }),
        ("sgd dampening", || {
            Box::new(
                SgdConfig::new(0.05)
                    .with_momentum(0.8)
                    .with_dampening(0.2)
                    .build()
                    .unwrap(),
            )
        }),
        ("adam", || Box::new(AdamConfig::new(0.05).build().unwrap())),
        ("adam amsgrad", || {
            Box::new(
                AdamConfig::new(0.05)
                    .with_amsgrad(true)
                    .with_weight_decay_coefficient(0.1)
                    .build()
                    .unwrap(),
            )
        }),
        ("adamw", || {
            Box::new(AdamWConfig::new(0.05).with_amsgrad(true).build().unwrap())
        }),
        ("adagrad", || {
            Box::new(
                AdagradConfig::new(0.1)
                    .with_lr_decay(0.1)
                    .with_initial_accumulator_value(0.1)
                    .build()
                    .unwrap(),
            )
        }),
        ("rmsprop", || {
            Box::new(RmsPropConfig::new(0.01).build().unwrap())
        }),
        ("rmsprop centered momentum", || {
            Box::new(
                RmsPropConfig::new(0.01)
                    .with_centered(true)
                    .with_momentum(0.9)
                    .with_weight_decay(0.01)
                    .build()
                    .unwrap(),
            )
        }),
        ("adadelta", || {
            Box::new(
                AdadeltaConfig::new(1.0)
                    .with_weight_decay(0.01)
                    .build()
                    .unwrap(),
            )
        }),
    ]
}

fn to_json(state: &OptimizerState) -> OptimizerState {
    let text = serde_json::to_string(state).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn to_bincode(state: &OptimizerState) -> OptimizerState {
    let bytes = bincode::serde::encode_to_vec(state, bincode::config::standard()).unwrap();
    let (back, read) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    assert_eq!(read, bytes.len());
    back
}

/// Runs 3 steps, saves, restores into a fresh optimizer on fresh parameters with equal
/// values, then runs 3 more steps on both: the parameters must be bit-for-bit identical.
fn round_trip(make: Factory, through: fn(&OptimizerState) -> OptimizerState, name: &str) {
    let mut opt = make();
    let (mut a, mut b) = params();
    for t in 1..=3 {
        let grads = grads_for(t, &a, &b);
        opt.step(&mut [&mut a, &mut b], &grads);
    }
    let saved = through(&opt.state(&[&a, &b]));
    assert_eq!(saved.step, 3, "{name}");

    // A fresh process: new ids, same values, an optimizer built with another learning rate
    // (loading restores the saved hyper-parameters).
    let mut a2 = Param::new(a.value().clone());
    let mut b2 = Param::new(b.value().clone());
    let mut opt2 = make();
    opt2.set_learning_rate(123.0);
    opt2.load_state(&[&a2, &b2], &saved).unwrap();
    assert_eq!(opt2.learning_rate(), opt.learning_rate(), "{name}");
    assert_eq!(opt2.step_count(), 3, "{name}");
    assert_eq!(opt2.state(&[&a2, &b2]), opt.state(&[&a, &b]), "{name}");

    for t in 4..=6 {
        let grads = grads_for(t, &a, &b);
        opt.step(&mut [&mut a, &mut b], &grads);
        let grads2 = grads_for(t, &a2, &b2);
        opt2.step(&mut [&mut a2, &mut b2], &grads2);
    }
    assert_eq!(
        a.value().to_vec(),
        a2.value().to_vec(),
        "{name}: first param"
    );
    assert_eq!(
        b.value().to_vec(),
        b2.value().to_vec(),
        "{name}: second param"
    );
}

#[test]
fn every_optimizer_round_trips_through_json() {
    for (name, make) in factories() {
        round_trip(make, to_json, name);
    }
}

#[test]
fn every_optimizer_round_trips_through_bincode() {
    for (name, make) in factories() {
        round_trip(make, to_bincode, name);
    }
}

#[test]
fn state_is_keyed_by_position_and_lists_untouched_params_as_none() {
    let mut opt = AdamConfig::new(0.1)
        .with_amsgrad(true)
        .build::<f64>()
        .unwrap();
    let (mut a, mut b) = params();
    let mut grads = Grads::new();
    grads.insert(b.id(), Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]));
    opt.step(&mut [&mut a, &mut b], &grads);
    let state = opt.state(&[&a, &b]);
    assert_eq!(state.kind(), "adam");
    assert_eq!(state.step, 1);
    assert!(state.params[0].is_none(), "a had no gradient");
    let entry = state.params[1].as_ref().unwrap();
    assert_eq!(entry.step, 1);
    let names: Vec<&str> = entry.buffers.keys().map(String::as_str).collect();
    assert_eq!(names, ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]);
    let m = &entry.buffers["exp_avg"];
    assert_eq!(m.shape, vec![2, 2]);
    // m = (1 − β₁)·g = 0.1·g.
    let values = m.values.to_f64_vec();
    for (x, want) in values.iter().zip([0.1, 0.2, 0.3, 0.4]) {
        assert!((x - want).abs() < 1e-15);
    }
    let OptimizerConfig::Adam(config) = state.config else {
        panic!("an Adam configuration, got {:?}", state.config)
    };
    assert!(config.amsgrad);
    assert_eq!(config.betas.1, 0.999);
    // The reverse order exports the reverse order.
    let reversed = opt.state(&[&b, &a]);
    assert!(reversed.params[0].is_some() && reversed.params[1].is_none());
}

#[test]
fn f32_state_is_stored_as_f32_and_loads_into_f64() {
    let mut p = Param::new(Tensor::<f32>::ones(&[3]));
    let mut grads = Grads::new();
    grads.insert(p.id(), Tensor::from_vec(vec![0.5f32, -1.0, 2.0], &[3]));
    let mut opt = SgdConfig::new(0.1)
        .with_momentum(0.9)
        .build::<f32>()
        .unwrap();
    opt.step(&mut [&mut p], &grads);
    let state = opt.state(&[&p]);
    let buf = &state.params[0].as_ref().unwrap().buffers["momentum_buffer"];
    assert_eq!(buf.values, BufferValues::F32(vec![0.5, -1.0, 2.0]));

    let q = Param::new(Tensor::<f64>::ones(&[3]));
    let mut opt64 = SgdConfig::new(0.1)
        .with_momentum(0.9)
        .build::<f64>()
        .unwrap();
    opt64.load_state(&[&q], &state).unwrap();
    let back = opt64.state(&[&q]);
    let buf = &back.params[0].as_ref().unwrap().buffers["momentum_buffer"];
    assert_eq!(buf.values, BufferValues::F64(vec![0.5, -1.0, 2.0]));
}

// ---------------------------------------------------------------- errors

/// An Adam (AMSGrad) optimizer after two steps on the test parameters, with its state.
fn trained_adam() -> (
    Box<dyn Optimizer<f64>>,
    Param<f64>,
    Param<f64>,
    OptimizerState,
) {
    let mut opt: Box<dyn Optimizer<f64>> =
        Box::new(AdamConfig::new(0.05).with_amsgrad(true).build().unwrap());
    let (mut a, mut b) = params();
    for t in 1..=2 {
        let grads = grads_for(t, &a, &b);
        opt.step(&mut [&mut a, &mut b], &grads);
    }
    let state = opt.state(&[&a, &b]);
    (opt, a, b, state)
}

/// Loads `bad` into a trained Adam, expects `want`, and checks nothing changed.
fn expect_error(bad: &OptimizerState, params_shape_b: Option<&[usize]>, want: OptimError) {
    let (mut opt, a, b, before) = trained_adam();
    let b_other;
    let b_ref = match params_shape_b {
        Some(shape) => {
            b_other = Param::new(Tensor::<f64>::zeros(shape));
            &b_other
        }
        None => &b,
    };
    let err = opt.load_state(&[&a, b_ref], bad).unwrap_err();
    assert_eq!(err, want, "{err}");
    assert!(!err.to_string().is_empty());
    assert_eq!(
        opt.state(&[&a, &b]),
        before,
        "the optimizer must be unchanged"
    );
    assert_eq!(opt.step_count(), 2);
}

#[test]
fn loading_another_kind_fails() {
    let (_, a, b, state) = trained_adam();
    let mut sgd = SgdConfig::new(0.1).build::<f64>().unwrap();
    let err = sgd.load_state(&[&a, &b], &state).unwrap_err();
    assert_eq!(
        err,
        OptimError::KindMismatch {
            expected: "sgd",
            found: "adam".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "optimizer state was saved by 'adam' and cannot be loaded into 'sgd'"
    );
    // Adam and AdamW are different kinds too.
    let mut adamw = AdamWConfig::default().build::<f64>().unwrap();
    assert!(matches!(
        adamw.load_state(&[&a, &b], &state),
        Err(OptimError::KindMismatch { .. })
    ));
}

#[test]
fn loading_with_another_param_count_fails() {
    let (mut opt, a, b, state) = trained_adam();
    let err = opt.load_state(&[&a], &state).unwrap_err();
    assert_eq!(
        err,
        OptimError::ParamCountMismatch {
            expected: 1,
            found: 2
        }
    );
    assert_eq!(opt.state(&[&a, &b]), state);
}

#[test]
fn loading_into_a_param_of_another_shape_fails() {
    let (_, _, _, state) = trained_adam();
    expect_error(
        &state,
        Some(&[4]),
        OptimError::BufferShapeMismatch {
            kind: "adam",
            index: 1,
            buffer: "exp_avg".into(),
            expected: vec![4],
            found: vec![2, 2],
        },
    );
}

#[test]
fn a_missing_buffer_fails() {
    let (_, _, _, mut state) = trained_adam();
    state.params[1]
        .as_mut()
        .unwrap()
        .buffers
        .remove("max_exp_avg_sq");
    expect_error(
        &state,
        None,
        OptimError::MissingBuffer {
            kind: "adam",
            index: 1,
            buffer: "max_exp_avg_sq",
        },
    );
}

#[test]
fn an_unexpected_buffer_fails() {
    let (_, _, _, mut state) = trained_adam();
    state.params[0].as_mut().unwrap().buffers.insert(
        "momentum_buffer".into(),
        Buffer {
            shape: vec![3],
            values: BufferValues::F64(vec![0.0; 3]),
        },
    );
    expect_error(
        &state,
        None,
        OptimError::UnexpectedBuffer {
            kind: "adam",
            index: 0,
            buffer: "momentum_buffer".into(),
        },
    );
}

#[test]
fn a_buffer_of_the_wrong_length_fails() {
    let (_, _, _, mut state) = trained_adam();
    state.params[0]
        .as_mut()
        .unwrap()
        .buffers
        .get_mut("exp_avg_sq")
        .unwrap()
        .values = BufferValues::F64(vec![0.0; 2]);
    expect_error(
        &state,
        None,
        OptimError::BufferLengthMismatch {
            kind: "adam",
            index: 0,
            buffer: "exp_avg_sq".into(),
            shape: vec![3],
            len: 2,
        },
    );
}

#[test]
fn amsgrad_off_in_the_state_makes_its_buffer_unexpected() {
    let (_, _, _, mut state) = trained_adam();
    state.config = adam_config(&state, |c| c.amsgrad = false);
    expect_error(
        &state,
        None,
        OptimError::UnexpectedBuffer {
            kind: "adam",
            index: 0,
            buffer: "max_exp_avg_sq".into(),
        },
    );
}

/// The state's Adam configuration, changed by `edit`.
fn adam_config(state: &OptimizerState, edit: impl FnOnce(&mut AdamConfig)) -> OptimizerConfig {
    let OptimizerConfig::Adam(mut config) = state.config else {
        panic!("an Adam configuration, got {:?}", state.config)
    };
    edit(&mut config);
    OptimizerConfig::Adam(config)
}

#[test]
fn bad_hyper_parameters_fail() {
    let (_, _, _, state) = trained_adam();

    // A missing or unknown hyper-parameter, or a flag that is not a boolean, cannot be
    // deserialized.
    let json = serde_json::to_value(&state).unwrap();
    let mut missing = json.clone();
    missing["config"]["Adam"]
        .as_object_mut()
        .unwrap()
        .remove("betas");
    let err = serde_json::from_value::<OptimizerState>(missing).unwrap_err();
    assert!(err.to_string().contains("missing field `betas`"), "{err}");

    let mut unknown = json.clone();
    unknown["config"]["Adam"]["momentum"] = 0.9.into();
    let err = serde_json::from_value::<OptimizerState>(unknown).unwrap_err();
    assert!(
        err.to_string().contains("unknown field `momentum`"),
        "{err}"
    );

    let mut bad_flag = json;
    bad_flag["config"]["Adam"]["amsgrad"] = 0.5.into();
    assert!(serde_json::from_value::<OptimizerState>(bad_flag).is_err());

    // A value out of range is refused by `load_state`.
    let mut invalid = state;
    invalid.config = adam_config(&invalid, |c| c.betas.0 = 1.5);
    expect_error(
        &invalid,
        None,
        OptimError::InvalidHyperParameter {
            owner: "Adam",
            name: "beta1",
            value: 1.5,
            expected: "in [0, 1)",
        },
    );
}

#[test]
fn corrupt_serialized_state_is_a_serde_error_not_a_panic() {
    let (_, _, _, state) = trained_adam();
    let bytes = bincode::serde::encode_to_vec(&state, bincode::config::standard()).unwrap();
    let truncated = &bytes[..bytes.len() / 2];
    let result: Result<(OptimizerState, usize), _> =
        bincode::serde::decode_from_slice(truncated, bincode::config::standard());
    assert!(result.is_err());
    assert!(serde_json::from_str::<OptimizerState>("{\"kind\": \"adam\"}").is_err());
}
