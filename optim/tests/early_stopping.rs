//! Early stopping on a validation metric.

use strata_optim::{EarlyStopping, EarlyStoppingState, Mode, OptimError, Verdict};

/// Feeds `metrics` from epoch 0 until the rule says stop; returns the epoch it stopped at.
fn stop_epoch(rule: &mut EarlyStopping, metrics: &[f64]) -> Option<u64> {
    for (epoch, &m) in metrics.iter().enumerate() {
        if rule.update(epoch as u64, m).should_stop() {
            return Some(epoch as u64);
        }
    }
    None
}

#[test]
fn stops_after_patience_epochs_without_improvement() {
    let mut rule = EarlyStopping::new(Mode::Min, 3, 0.0).unwrap();
    let metrics = [1.0, 0.8, 0.7, 0.75, 0.71, 0.72, 0.6];
    assert_eq!(stop_epoch(&mut rule, &metrics), Some(5));
    assert_eq!(rule.best_epoch(), Some(2));
    assert_eq!(rule.best_metric(), Some(0.7));
    assert!(rule.should_stop());
    // Once stopped, it stays stopped.
    assert_eq!(rule.update(6, 0.1), Verdict::Stop);
    assert_eq!(rule.best_epoch(), Some(2));
}

#[test]
fn verdicts_say_what_happened() {
    let mut rule = EarlyStopping::new(Mode::Max, 2, 0.0).unwrap();
    assert_eq!(rule.update(0, 0.5), Verdict::Improved);
    assert!(rule.update(1, 0.6).improved());
    assert_eq!(
        rule.update(2, 0.6),
        Verdict::NoImprovement {
            epochs_without_improvement: 1
        }
    );
    assert_eq!(rule.update(3, 0.7), Verdict::Improved);
    assert_eq!(rule.epochs_without_improvement(), 0);
    assert!(!rule.update(4, 0.1).should_stop());
    assert_eq!(rule.update(5, 0.1), Verdict::Stop);
    assert_eq!(rule.best_epoch(), Some(3));
}

#[test]
fn min_delta_requires_a_real_improvement() {
    let mut rule = EarlyStopping::new(Mode::Min, 2, 0.05).unwrap();
    // 0.97 and 0.96 are within 0.05 of the best 1.0: not improvements.
    assert_eq!(stop_epoch(&mut rule, &[1.0, 0.97, 0.96, 0.5]), Some(2));
    assert_eq!(rule.best_epoch(), Some(0));
    let mut rule = EarlyStopping::new(Mode::Max, 1, 0.05).unwrap();
    assert!(rule.update(0, 0.5).improved());
    assert!(rule.update(1, 0.56).improved());
    assert!(rule.update(2, 0.6).should_stop());
}

#[test]
fn zero_patience_stops_at_the_first_bad_epoch() {
    let mut rule = EarlyStopping::new(Mode::Min, 0, 0.0).unwrap();
    assert_eq!(stop_epoch(&mut rule, &[1.0, 0.9, 0.9]), Some(2));
}

#[test]
fn nan_never_improves() {
    let mut rule = EarlyStopping::new(Mode::Min, 1, 0.0).unwrap();
    assert_eq!(rule.update(0, f64::NAN), Verdict::Stop);
    assert_eq!(rule.best_epoch(), None);
    let mut rule = EarlyStopping::new(Mode::Min, 2, 0.0).unwrap();
    rule.update(0, 1.0);
    assert!(!rule.update(1, f64::NAN).improved());
}

#[test]
fn epochs_need_not_start_at_zero() {
    let mut rule = EarlyStopping::new(Mode::Min, 1, 0.0).unwrap();
    rule.update(10, 2.0);
    rule.update(11, 1.0);
    assert_eq!(rule.best_epoch(), Some(11));
}

#[test]
fn state_round_trips() {
    let mut rule = EarlyStopping::new(Mode::Min, 3, 0.0).unwrap();
    for (e, m) in [1.0, 0.5, 0.6].into_iter().enumerate() {
        rule.update(e as u64, m);
    }
    let saved: EarlyStoppingState =
        serde_json::from_str(&serde_json::to_string(&rule.state()).unwrap()).unwrap();
    assert_eq!(saved.best, Some((1, 0.5)));
    assert_eq!(saved.wait, 1);
    let mut resumed = EarlyStopping::new(Mode::Min, 3, 0.0).unwrap();
    resumed.load_state(&saved).unwrap();
    for e in 3..6 {
        assert_eq!(rule.update(e, 0.7), resumed.update(e, 0.7));
    }
    assert!(resumed.should_stop());
    let bad = EarlyStoppingState {
        best: Some((0, f64::NAN)),
        wait: 0,
        stopped: false,
    };
    assert!(matches!(
        resumed.load_state(&bad),
        Err(OptimError::InvalidState { .. })
    ));
}

#[test]
fn negative_min_delta_is_rejected() {
    assert!(matches!(
        EarlyStopping::new(Mode::Min, 3, -0.1),
        Err(OptimError::InvalidHyperParameter {
            name: "min_delta",
            ..
        })
    ));
}
