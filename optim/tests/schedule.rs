//! Learning-rate schedules against PyTorch's `lr_scheduler` semantics (closed forms from the
//! PyTorch 2.x documentation of `StepLR`, `MultiStepLR`, `ExponentialLR`,
//! `CosineAnnealingLR`, `LinearLR` + `SequentialLR` and `ReduceLROnPlateau`), and the
//! arguments `OneCycleLr`, `LambdaLr`, `CosineAnnealingWarmRestarts` and `CyclicLr` refuse
//! (their rates against PyTorch's are in `schedule_pytorch.rs`).

use strata_optim::{
    AnnealStrategy, ConstantLr, CosineAnnealingLr, CosineAnnealingWarmRestarts, CyclicLr,
    CyclicMode, ExponentialLr, LambdaLr, LinearWarmup, LrSchedule, Mode, MultiStepLr, OneCycleLr,
    OptimError, Optimizer, PlateauState, ReduceLrOnPlateau, Scheduler, SchedulerState, SgdConfig,
    StepLr, ThresholdMode,
};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

fn assert_lrs(schedule: &dyn LrSchedule, want: &[f64]) {
    for (t, &w) in want.iter().enumerate() {
        let got = schedule.lr(t as u64);
        assert!(close(got, w), "t = {t}: got {got}, expected {w}");
    }
}

#[test]
fn step_lr_decays_every_step_size() {
    let s = StepLr::new(0.1, 3, 0.5).unwrap();
    assert_lrs(
        &s,
        &[0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125],
    );
}

#[test]
fn multi_step_lr_decays_at_each_milestone() {
    let s = MultiStepLr::new(1.0, &[5, 2], 0.1).unwrap();
    assert_lrs(&s, &[1.0, 1.0, 0.1, 0.1, 0.1, 0.01, 0.01]);
    // A repeated milestone counts twice (PyTorch keeps a Counter of milestones).
    let s = MultiStepLr::new(1.0, &[2, 2], 0.1).unwrap();
    assert_lrs(&s, &[1.0, 1.0, 0.01]);
}

#[test]
fn exponential_lr() {
    let s = ExponentialLr::new(0.5, 0.9).unwrap();
    assert_lrs(&s, &[0.5, 0.45, 0.405, 0.3645]);
}

#[test]
fn cosine_annealing_closed_form() {
    let s = CosineAnnealingLr::new(0.1, 10, 0.001).unwrap();
    assert!(close(s.lr(0), 0.1));
    assert!(close(s.lr(5), 0.0505)); // η_min + (0.1 − 0.001)·(1 + cos(π/2))/2
    assert!(close(s.lr(10), 0.001));
    assert!(close(s.lr(20), 0.1)); // the closed form is periodic
    // PyTorch's recursive form lr_t = η_min + (lr_{t−1} − η_min)·(1 + cos(πt/T))/(1 + cos(π(t−1)/T))
    // agrees with the closed form for t < T_max.
    let (t_max, eta_min) = (10.0f64, 0.001);
    for t in 1..10u64 {
        let pi = std::f64::consts::PI;
        let ratio =
            (1.0 + (pi * t as f64 / t_max).cos()) / (1.0 + (pi * (t - 1) as f64 / t_max).cos());
        let recursive = eta_min + (s.lr(t - 1) - eta_min) * ratio;
        assert!(close(s.lr(t), recursive), "t = {t}");
    }
}

#[test]
fn linear_warmup_ramps_then_hands_over() {
    let s = LinearWarmup::new(4, 0.25, ConstantLr::new(0.2).unwrap()).unwrap();
    assert_lrs(&s, &[0.05, 0.0875, 0.125, 0.1625, 0.2, 0.2]);
    let s = LinearWarmup::new(2, 0.5, StepLr::new(1.0, 1, 0.5).unwrap()).unwrap();
    assert_lrs(&s, &[0.5, 0.75, 1.0, 0.5, 0.25]);
    // Boxed schedules compose.
    let boxed: Box<dyn LrSchedule> = Box::new(ExponentialLr::new(1.0, 0.5).unwrap());
    let s = LinearWarmup::new(1, 0.1, boxed).unwrap();
    assert_lrs(&s, &[0.1, 1.0, 0.5]);
}

#[test]
fn invalid_schedules_are_rejected() {
    assert!(matches!(
        StepLr::new(0.1, 0, 0.5),
        Err(OptimError::InvalidHyperParameter {
            name: "step_size",
            ..
        })
    ));
    assert!(StepLr::new(-0.1, 1, 0.5).is_err());
    assert!(ExponentialLr::new(0.1, -0.5).is_err());
    assert!(MultiStepLr::new(0.1, &[1], f64::NAN).is_err());
    assert!(CosineAnnealingLr::new(0.1, 0, 0.0).is_err());
    assert!(CosineAnnealingLr::new(0.1, 10, -0.1).is_err());
    assert!(LinearWarmup::new(5, 0.0, ConstantLr::new(0.1).unwrap()).is_err());
    assert!(LinearWarmup::new(5, 1.5, ConstantLr::new(0.1).unwrap()).is_err());
    assert!(ConstantLr::new(f64::INFINITY).is_err());
}

#[test]
fn scheduler_drives_the_optimizer() {
    let mut opt = SgdConfig::new(1.0).build::<f32>().unwrap();
    let mut sched = Scheduler::new(StepLr::new(0.1, 2, 0.1).unwrap(), &mut opt);
    assert!(close(opt.learning_rate(), 0.1));
    assert!(close(sched.step(&mut opt), 0.1));
    assert!(close(sched.step(&mut opt), 0.01));
    assert!(close(opt.learning_rate(), 0.01));
    assert_eq!(sched.step_count(), 2);

    // Resume elsewhere from the saved count.
    let saved: SchedulerState =
        serde_json::from_str(&serde_json::to_string(&sched.state()).unwrap()).unwrap();
    let mut opt2 = SgdConfig::new(1.0).build::<f32>().unwrap();
    let mut sched2 = Scheduler::new(StepLr::new(0.1, 2, 0.1).unwrap(), &mut opt2);
    sched2.load_state(&saved, &mut opt2);
    assert!(close(opt2.learning_rate(), 0.01));
    for _ in 0..3 {
        assert_eq!(sched.step(&mut opt), sched2.step(&mut opt2));
    }
}

#[test]
fn scheduler_works_through_a_trait_object() {
    let mut opt: Box<dyn Optimizer<f64>> = Box::new(SgdConfig::new(1.0).build::<f64>().unwrap());
    let mut sched = Scheduler::new(ExponentialLr::new(0.2, 0.5).unwrap(), opt.as_mut());
    sched.step(opt.as_mut());
    assert!(close(opt.learning_rate(), 0.1));
}

// ---------------------------------------------------------------- ReduceLROnPlateau

fn plateau_run(plateau: &mut ReduceLrOnPlateau, lr: f64, metrics: &[f64]) -> Vec<f64> {
    let mut opt = SgdConfig::new(lr).build::<f64>().unwrap();
    metrics.iter().map(|&m| plateau.step(m, &mut opt)).collect()
}

#[test]
fn plateau_reduces_after_patience_is_exceeded() {
    // patience = 2: the first two bad epochs are tolerated, the third reduces.
    let mut p = ReduceLrOnPlateau::new(Mode::Min)
        .with_patience(2)
        .with_factor(0.5)
        .unwrap();
    let lrs = plateau_run(&mut p, 0.1, &[1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]);
    assert_eq!(lrs, vec![0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]);
    assert_eq!(p.best(), Some(0.9));
}

#[test]
fn plateau_reports_its_cooldown() {
    // The reduction at epoch 2 (0-based) starts two cool-down epochs (3 and 4); epoch 5 counts.
    let mut p = ReduceLrOnPlateau::new(Mode::Min)
        .with_patience(1)
        .with_cooldown(2)
        .with_factor(0.5)
        .unwrap();
    let mut opt = SgdConfig::new(1.0).build::<f64>().unwrap();
    let cooling: Vec<bool> = [1.0, 2.0, 2.0, 2.0, 2.0, 2.0]
        .iter()
        .map(|&m| {
            p.step(m, &mut opt);
            p.in_cooldown()
        })
        .collect();
    assert_eq!(cooling, [false, false, true, true, false, false]);
}

#[test]
fn plateau_cooldown_delays_counting() {
    // After the reduction at epoch 2 (0-based), two cool-down epochs reset the count, then
    // patience + 1 = 2 more bad epochs reduce again.
    let mut p = ReduceLrOnPlateau::new(Mode::Min)
        .with_patience(1)
        .with_cooldown(2)
        .with_factor(0.5)
        .unwrap();
    let lrs = plateau_run(&mut p, 1.0, &[1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]);
    assert_eq!(lrs, vec![1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25]);
    let mut p = ReduceLrOnPlateau::new(Mode::Min)
        .with_patience(1)
        .with_factor(0.5)
        .unwrap();
    let lrs = plateau_run(&mut p, 1.0, &[1.0, 2.0, 2.0, 2.0, 2.0]);
    assert_eq!(lrs, vec![1.0, 1.0, 0.5, 0.5, 0.25]);
}

#[test]
fn plateau_thresholds() {
    // rel (default 1e-4): from best 1.0 an improvement must go below 0.9999.
    let mut p = ReduceLrOnPlateau::new(Mode::Min)
        .with_patience(0)
        .with_factor(0.5)
        .unwrap();
    let lrs = plateau_run(&mut p, 1.0, &[1.0, 0.99995]);
    assert_eq!(lrs, vec![1.0, 0.5]);
    let mut p = ReduceLrOnPlateau::new(Mode::Min)
        .with_patience(0)
        .with_factor(0.5)
        .unwrap();
    let lrs = plateau_run(&mut p, 1.0, &[1.0, 0.9998]);
    assert_eq!(lrs, vec![1.0, 1.0]);
    // abs 0.01: 0.995 is not enough, 0.98 is.
    let mut p = ReduceLrOnPlateau::new(Mode::Min)
        .with_patience(0)
        .with_factor(0.5)
        .unwrap()
        .with_threshold(0.01, ThresholdMode::Abs)
        .unwrap();
    let lrs = plateau_run(&mut p, 1.0, &[1.0, 0.995, 0.98]);
    assert_eq!(lrs, vec![1.0, 0.5, 0.5]);
    assert_eq!(p.best(), Some(0.98));
}

#[test]
fn plateau_max_mode() {
    let mut p = ReduceLrOnPlateau::new(Mode::Max)
        .with_patience(1)
        .with_factor(0.1)
        .unwrap();
    let lrs = plateau_run(&mut p, 1.0, &[0.5, 0.6, 0.6, 0.55, 0.7]);
    assert!(close(lrs[3], 0.1) && close(lrs[4], 0.1), "{lrs:?}");
    assert_eq!(p.best(), Some(0.7));
}

#[test]
fn plateau_respects_min_lr_and_eps() {
    let mut p = ReduceLrOnPlateau::new(Mode::Min)
        .with_patience(0)
        .with_min_lr(0.005)
        .unwrap();
    let lrs = plateau_run(&mut p, 0.1, &[1.0, 1.0, 1.0, 1.0]);
    assert!(
        close(lrs[1], 0.01) && close(lrs[2], 0.005) && close(lrs[3], 0.005),
        "{lrs:?}"
    );
    // A change smaller than eps (1e-8) is not applied.
    let mut p = ReduceLrOnPlateau::new(Mode::Min).with_patience(0);
    let lrs = plateau_run(&mut p, 1e-8, &[1.0, 1.0]);
    assert_eq!(lrs, vec![1e-8, 1e-8]);
}

#[test]
fn plateau_nan_is_never_better() {
    let mut p = ReduceLrOnPlateau::new(Mode::Min)
        .with_patience(0)
        .with_factor(0.5)
        .unwrap();
    let lrs = plateau_run(&mut p, 1.0, &[f64::NAN]);
    assert_eq!(lrs, vec![0.5]);
    assert_eq!(p.best(), None);
}

#[test]
fn plateau_state_round_trips() {
    let mut p = ReduceLrOnPlateau::new(Mode::Min)
        .with_patience(3)
        .with_cooldown(1);
    let mut opt = SgdConfig::new(0.1).build::<f64>().unwrap();
    for m in [1.0, 0.9, 0.95] {
        p.step(m, &mut opt);
    }
    let saved: PlateauState =
        serde_json::from_str(&serde_json::to_string(&p.state()).unwrap()).unwrap();
    assert_eq!(saved.best, Some(0.9));
    assert_eq!(saved.num_bad_epochs, 1);
    assert_eq!(saved.last_epoch, 3);
    let mut q = ReduceLrOnPlateau::new(Mode::Min)
        .with_patience(3)
        .with_cooldown(1);
    q.load_state(&saved).unwrap();
    let mut opt2 = SgdConfig::new(0.1).build::<f64>().unwrap();
    for m in [0.95, 0.95, 0.95, 0.95, 0.95] {
        assert_eq!(p.step(m, &mut opt), q.step(m, &mut opt2));
    }
    let bad = PlateauState {
        cooldown_counter: 5,
        ..saved
    };
    assert!(matches!(
        q.load_state(&bad),
        Err(OptimError::InvalidState { .. })
    ));
}

#[test]
fn plateau_rejects_bad_settings() {
    assert!(ReduceLrOnPlateau::new(Mode::Min).with_factor(1.0).is_err());
    assert!(ReduceLrOnPlateau::new(Mode::Min).with_factor(-0.1).is_err());
    assert!(
        ReduceLrOnPlateau::new(Mode::Min)
            .with_threshold(-1.0, ThresholdMode::Rel)
            .is_err()
    );
    assert!(ReduceLrOnPlateau::new(Mode::Min).with_min_lr(-1.0).is_err());
    assert!(
        ReduceLrOnPlateau::new(Mode::Min)
            .with_eps(f64::NAN)
            .is_err()
    );
}

// ---------------------------------------------------------------- OneCycleLR, LambdaLR,
// CosineAnnealingWarmRestarts, CyclicLR

/// The name of the hyper-parameter an `InvalidHyperParameter` error names.
fn invalid<T: std::fmt::Debug>(result: Result<T, OptimError>) -> &'static str {
    match result {
        Err(OptimError::InvalidHyperParameter { name, .. }) => name,
        other => panic!("expected an invalid hyper-parameter, got {other:?}"),
    }
}

#[test]
fn new_schedules_refuse_invalid_arguments() {
    let one_cycle = || OneCycleLr::new(0.1, 10).unwrap();
    assert_eq!(invalid(OneCycleLr::new(0.1, 0)), "total_steps");
    assert_eq!(invalid(OneCycleLr::new(-0.1, 10)), "max_lr");
    assert_eq!(invalid(OneCycleLr::new(f64::NAN, 10)), "max_lr");
    assert_eq!(invalid(one_cycle().with_pct_start(1.5)), "pct_start");
    assert_eq!(invalid(one_cycle().with_pct_start(-0.1)), "pct_start");
    // 0.1 · 10 = 1: a first phase of zero steps (PyTorch divides by zero at t = 0).
    assert_eq!(invalid(one_cycle().with_pct_start(0.1)), "pct_start");
    assert_eq!(invalid(one_cycle().with_div_factor(0.0)), "div_factor");
    assert_eq!(
        invalid(one_cycle().with_final_div_factor(f64::INFINITY)),
        "final_div_factor"
    );
    assert_eq!(invalid(LambdaLr::new(-1.0, |_| 1.0)), "base_lr");
    assert_eq!(invalid(CosineAnnealingWarmRestarts::new(0.1, 0)), "t_0");
    assert_eq!(
        invalid(CosineAnnealingWarmRestarts::new(f64::NAN, 3)),
        "base_lr"
    );
    let restarts = || CosineAnnealingWarmRestarts::new(0.1, 3).unwrap();
    assert_eq!(invalid(restarts().with_t_mult(0)), "t_mult");
    assert_eq!(invalid(restarts().with_eta_min(-0.01)), "eta_min");
    assert_eq!(invalid(CyclicLr::new(-0.1, 0.1)), "base_lr");
    assert_eq!(invalid(CyclicLr::new(0.1, f64::INFINITY)), "max_lr");
    let cyclic = || CyclicLr::new(0.01, 0.1).unwrap();
    assert_eq!(invalid(cyclic().with_step_size_up(0)), "step_size_up");
    assert_eq!(invalid(cyclic().with_gamma(-0.5)), "gamma");
    let err = one_cycle().with_pct_start(0.1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "OneCycleLr: invalid pct_start = 0.1 (expected ≠ 1 / total_steps (a first phase of at \
         least one step))"
    );
}

#[test]
fn one_cycle_phases_by_hand() {
    // max 1, N = 10, p = 0.3, linear: initial 0.04, min 4e-6; phase 1 ends at step 2,
    // phase 2 at step 9.
    let s = OneCycleLr::new(1.0, 10)
        .unwrap()
        .with_anneal_strategy(AnnealStrategy::Linear);
    assert!(close(s.initial_lr(), 0.04) && close(s.min_lr(), 4e-6));
    assert_lrs(&s, &[0.04, 0.52, 1.0]);
    assert!(close(s.lr(9), 4e-6));
    // t = 5: 3/7 of the way from 1 down to 4e-6.
    assert!(close(s.lr(5), 1.0 + (4e-6 - 1.0) * 3.0 / 7.0));
    // Past the end (PyTorch refuses to step there): the final rate.
    assert_eq!(s.lr(11), s.min_lr());
    assert_eq!(s.lr(1000), s.min_lr());
    // pct_start = 1: the descent is zero steps long; at t = N the cycle is over.
    let s = OneCycleLr::new(1.0, 10)
        .unwrap()
        .with_pct_start(1.0)
        .unwrap();
    assert!(close(s.lr(9), 1.0));
    assert_eq!(s.lr(10), s.min_lr());
    // Three phases: up to step 2, back down to the initial rate at step 4, then to min.
    let s = OneCycleLr::new(1.0, 10)
        .unwrap()
        .with_three_phase(true)
        .with_anneal_strategy(AnnealStrategy::Linear);
    assert_lrs(&s, &[0.04, 0.52, 1.0, 0.52, 0.04]);
    assert!(close(s.lr(9), 4e-6));
}

#[test]
fn cyclic_defaults_and_modes_by_hand() {
    // PyTorch's defaults: 2000 steps up, 2000 down, triangular.
    let s = CyclicLr::new(0.001, 0.006).unwrap();
    assert!(close(s.lr(0), 0.001) && close(s.lr(1000), 0.0035) && close(s.lr(2000), 0.006));
    assert!(close(s.lr(4000), 0.001) && close(s.lr(6000), 0.006));
    // triangular2: the second peak is half as high, the third a quarter.
    let s = CyclicLr::new(0.0, 1.0)
        .unwrap()
        .with_step_size_up(2)
        .unwrap()
        .with_mode(CyclicMode::Triangular2);
    assert_lrs(
        &s,
        &[0.0, 0.5, 1.0, 0.5, 0.0, 0.25, 0.5, 0.25, 0.0, 0.125, 0.25],
    );
    // exp_range: the height times γ^t.
    let s = CyclicLr::new(0.0, 1.0)
        .unwrap()
        .with_step_size_up(2)
        .unwrap()
        .with_mode(CyclicMode::ExpRange)
        .with_gamma(0.5)
        .unwrap();
    assert_lrs(&s, &[0.0, 0.25, 0.25, 0.0625, 0.0]);
}

#[test]
fn warm_restarts_by_hand() {
    // T_0 = 2, T_mult = 3: cycles [0, 2), [2, 8), [8, 26).
    let s = CosineAnnealingWarmRestarts::new(1.0, 2)
        .unwrap()
        .with_t_mult(3)
        .unwrap()
        .with_eta_min(0.5)
        .unwrap();
    for t in [0, 2, 8, 26] {
        assert_eq!(s.lr(t), 1.0, "a restart at t = {t}");
    }
    assert!(close(s.lr(1), 0.75)); // half-way through the first cycle
    assert!(close(s.lr(5), 0.75)); // half-way through the second
    assert!(close(s.lr(17), 0.75)); // and the third
    // A second cycle longer than u64::MAX steps: it holds every step after the first cycle.
    let s = CosineAnnealingWarmRestarts::new(1.0, 2)
        .unwrap()
        .with_t_mult(u64::MAX)
        .unwrap();
    assert!(close(s.lr(1), 0.5));
    assert_eq!(s.lr(2), 1.0);
    assert!(s.lr(3) > 0.999_999);
    assert!(s.lr(u64::MAX) < 1e-30);
}

#[test]
fn lambda_lr_drives_an_optimizer() {
    let mut opt = SgdConfig::new(1.0).build::<f64>().unwrap();
    let mut scheduler = Scheduler::new(
        LambdaLr::new(0.2, |t| 0.5f64.powi(t as i32)).unwrap(),
        &mut opt,
    );
    assert_eq!(opt.learning_rate(), 0.2);
    assert_eq!(scheduler.step(&mut opt), 0.1);
    assert_eq!(scheduler.step(&mut opt), 0.05);
    assert_eq!(
        format!("{:?}", scheduler.schedule()),
        "LambdaLr { base_lr: 0.2, .. }"
    );
}
