//! Learning-rate schedules against PyTorch's `lr_scheduler` semantics (closed forms from the
//! PyTorch 2.x documentation of `StepLR`, `MultiStepLR`, `ExponentialLR`,
//! `CosineAnnealingLR`, `LinearLR` + `SequentialLR` and `ReduceLROnPlateau`).

use strata_optim::{
    ConstantLr, CosineAnnealingLr, ExponentialLr, LinearWarmup, LrSchedule, Mode, MultiStepLr,
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
