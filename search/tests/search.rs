//! The search: spaces and their conditions, the samplers' reproducibility and TPE's edge over
//! random search on a known optimum, ASHA's promotion rule, parallel and resumed studies, and
//! the result files.

use std::path::PathBuf;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata_search::report::{best_line, to_csv, write_all};
use strata_search::{
    Asha, Budget, Condition, Config, ConfigExt, RandomSampler, Sampler, SearchError, Space, Study,
    TpeSampler, Trial, TrialState,
};

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An MLP-shaped space: depth, per-layer widths that exist only for existing layers, an
/// activation, an optimizer with a momentum only for SGD, a log-scale learning rate.
fn mlp_space() -> Space {
    let at_least = |min| Condition::AtLeast {
        parent: "layers".into(),
        min,
    };
    Space::new()
        .with_int("layers", 1, 3, false)
        .with_int_if("units_1", 16, 512, true, at_least(1))
        .with_int_if("units_2", 16, 512, true, at_least(2))
        .with_int_if("units_3", 16, 512, true, at_least(3))
        .with_categorical("activation", &["relu", "tanh", "sigmoid"])
        .with_categorical("optimizer", &["sgd", "adam"])
        .with_float_if(
            "momentum",
            0.0,
            0.99,
            false,
            Condition::OneOf {
                parent: "optimizer".into(),
                choices: vec!["sgd".into()],
            },
        )
        .with_float("lr", 1e-5, 1.0, true)
}

/// A smooth function of the MLP space with its minimum 0 at lr = 10^-2.5, 2 layers of 128 and
/// 64 units, tanh, Adam.
fn synthetic(config: &Config) -> f64 {
    let lr = config.float("lr").unwrap().log10();
    let layers = config.int("layers").unwrap();
    let units = |k: &str| config.int(k).map(|u| (u as f64).log2());
    let mut f = (lr + 2.5).powi(2) + 0.5 * (layers - 2).pow(2) as f64;
    f += units("units_1").map_or(0.0, |u| 0.1 * (u - 7.0).powi(2));
    f += units("units_2").map_or(0.0, |u| 0.1 * (u - 6.0).powi(2));
    f += match config.choice("activation").unwrap() {
        "tanh" => 0.0,
        "relu" => 0.3,
        _ => 0.8,
    };
    f += match config.choice("optimizer").unwrap() {
        "adam" => 0.0,
        _ => 0.4 + (config.float("momentum").unwrap() - 0.9).powi(2),
    };
    f
}

fn run(sampler: impl Sampler, trials: usize) -> Vec<Trial> {
    let mut study = Study::new(mlp_space(), sampler);
    study
        .optimize(&Budget::trials(trials), |c, _| Ok(synthetic(c)))
        .unwrap()
        .to_vec()
}

fn configs(trials: &[Trial]) -> Vec<Config> {
    trials.iter().map(|t| t.config.clone()).collect()
}

#[test]
fn samplers_repeat_with_a_seed_and_differ_without() {
    assert_eq!(
        configs(&run(RandomSampler::new(3), 30)),
        configs(&run(RandomSampler::new(3), 30))
    );
    assert_ne!(
        configs(&run(RandomSampler::new(3), 30)),
        configs(&run(RandomSampler::new(4), 30))
    );
    assert_eq!(
        configs(&run(TpeSampler::new(3), 30)),
        configs(&run(TpeSampler::new(3), 30))
    );
    assert_ne!(
        configs(&run(TpeSampler::new(3), 30)),
        configs(&run(TpeSampler::new(4), 30))
    );
}

#[test]
fn conditional_dimensions_appear_exactly_when_their_condition_holds() {
    let space = mlp_space();
    for trials in [
        run(RandomSampler::new(1), 200),
        run(TpeSampler::new(1), 200),
    ] {
        let mut depths = [0; 4];
        for t in &trials {
            assert!(space.contains(&t.config), "{:?}", t.config);
            let layers = t.config.int("layers").unwrap();
            depths[layers as usize] += 1;
            for k in 1..=3 {
                assert_eq!(
                    t.config.contains_key(&format!("units_{k}")),
                    layers >= k,
                    "{:?}",
                    t.config
                );
            }
            assert_eq!(
                t.config.contains_key("momentum"),
                t.config.choice("optimizer") == Some("sgd")
            );
        }
        assert!(
            depths[1..].iter().all(|&n| n > 0),
            "every depth is tried: {depths:?}"
        );
    }
}

#[test]
fn a_conditional_choice_exists_exactly_when_its_parent_allows_it() {
    let space = Space::new()
        .with_categorical("optimizer", &["sgd", "adam"])
        .with_categorical_if(
            "nesterov",
            &["yes", "no"],
            Condition::OneOf {
                parent: "optimizer".into(),
                choices: vec!["sgd".into()],
            },
        );
    space.validate().unwrap();
    let mut study = Study::new(space.clone(), RandomSampler::new(2));
    let trials = study
        .optimize(&Budget::trials(40), |_, _| Ok(0.0))
        .unwrap()
        .to_vec();
    let mut seen = (0, 0);
    for t in &trials {
        assert!(space.contains(&t.config), "{:?}", t.config);
        let sgd = t.config.choice("optimizer") == Some("sgd");
        assert_eq!(t.config.contains_key("nesterov"), sgd, "{:?}", t.config);
        if sgd {
            seen.0 += 1;
        } else {
            seen.1 += 1;
        }
    }
    assert!(seen.0 > 0 && seen.1 > 0, "both branches drawn: {seen:?}");
}

/// TPE's first `startup` trials are random search's (same seed, same streams); after them the
/// model, and the number of candidates drawn from it, decide.
#[test]
fn tpe_searches_at_random_for_its_startup_trials() {
    let random = configs(&run(RandomSampler::new(8), 12));
    let one = configs(&run(
        TpeSampler::new(8).with_startup(5).with_candidates(1),
        12,
    ));
    let many = configs(&run(
        TpeSampler::new(8).with_startup(5).with_candidates(48),
        12,
    ));
    assert_eq!(one[..5], random[..5]);
    assert_eq!(many[..5], random[..5]);
    assert_ne!(one[5..], random[5..]);
    assert_ne!(many[5..], one[5..]);
}

#[test]
fn tpe_beats_random_search_at_equal_trials() {
    let (seeds, trials) = (10, 60);
    let best = |t: &[Trial]| {
        t.iter()
            .filter_map(|t| t.value)
            .fold(f64::INFINITY, f64::min)
    };
    let mean = |f: &dyn Fn(u64) -> f64| (0..seeds).map(f).sum::<f64>() / seeds as f64;
    let random = mean(&|s| best(&run(RandomSampler::new(s), trials)));
    let tpe = mean(&|s| best(&run(TpeSampler::new(s), trials)));
    eprintln!(
        "synthetic objective (optimum 0), best after {trials} trials, mean of {seeds} seeds: random {random:.3}, TPE {tpe:.3}"
    );
    assert!(
        tpe < 0.75 * random,
        "TPE {tpe} should beat random {random} by a margin"
    );
}

#[test]
fn asha_keeps_the_best_third_at_each_rung() {
    let asha = Asha::new(1, 3, 9);
    assert_eq!(asha.rung_epochs(), [1, 3]);
    assert_eq!(
        (asha.rung(1), asha.rung(2), asha.rung(3), asha.rung(9)),
        (Some(0), None, Some(1), None)
    );
    // Below η recorded values only the best continues; then the ⌊n/η⌋-th smallest is the bar.
    assert!(asha.promotes(0.5, &[0.5]));
    assert!(!asha.promotes(0.6, &[0.5, 0.6]));
    assert!(asha.promotes(0.4, &[0.5, 0.6, 0.4]));
    assert!(!asha.promotes(0.55, &[0.5, 0.6, 0.4, 0.7, 0.3, 0.55]));
    assert!(asha.promotes(0.35, &[0.5, 0.6, 0.4, 0.7, 0.3, 0.35]));
    assert!(!asha.promotes(f64::NAN, &[0.5]));
    // Arriving in random order, about a third pass.
    let mut rng = StdRng::seed_from_u64(9);
    let mut recorded = Vec::new();
    let mut passed = 0;
    for _ in 0..600 {
        let v: f64 = rng.random();
        recorded.push(v);
        passed += usize::from(asha.promotes(v, &recorded));
    }
    let fraction = passed as f64 / 600.0;
    assert!((0.28..0.40).contains(&fraction), "{fraction} passed");
}

/// An objective that reports 9 epochs of a decaying curve whose floor is the synthetic value.
fn epochs(config: &Config, reporter: &mut strata_search::Reporter) -> Result<f64, String> {
    let floor = synthetic(config);
    let mut last = f64::NAN;
    for e in 1..=9 {
        last = floor + 3.0 / e as f64;
        if !reporter.report(last) {
            break;
        }
    }
    Ok(last)
}

#[test]
fn pruned_trials_stop_at_a_rung_and_complete_ones_run_out() {
    let mut study = Study::new(mlp_space(), TpeSampler::new(2)).with_pruner(Asha::new(1, 3, 9));
    let trials = study.optimize(&Budget::trials(40), epochs).unwrap();
    let pruned: Vec<&Trial> = trials
        .iter()
        .filter(|t| t.state == TrialState::Pruned)
        .collect();
    assert!(pruned.len() >= 15, "{} of 40 pruned", pruned.len());
    assert!(pruned.iter().all(|t| [1, 3].contains(&t.epochs())));
    assert!(
        trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .all(|t| t.epochs() == 9)
    );
}

/// A trial without its wall time: what must repeat.
type Row = (usize, Config, TrialState, Option<f64>, Vec<f64>);

#[test]
fn a_resumed_search_ends_with_the_same_table() {
    let dir = scratch("resume");
    let table = |trials: &[Trial]| -> Vec<Row> {
        let mut rows: Vec<_> = trials
            .iter()
            .map(|t| {
                (
                    t.id,
                    t.config.clone(),
                    t.state,
                    t.value,
                    t.intermediate.clone(),
                )
            })
            .collect();
        rows.sort_by_key(|r| r.0);
        rows
    };
    let study = |log: &PathBuf| {
        Study::new(mlp_space(), TpeSampler::new(5))
            .with_pruner(Asha::new(1, 3, 9))
            .with_log(log)
            .unwrap()
    };
    let whole = dir.join("whole.jsonl");
    let straight = table(study(&whole).optimize(&Budget::trials(24), epochs).unwrap());
    let parts = dir.join("parts.jsonl");
    study(&parts).optimize(&Budget::trials(11), epochs).unwrap();
    // A kill mid-write leaves a partial last line: it is skipped.
    let mut text = std::fs::read_to_string(&parts).unwrap();
    text.push_str("{\"id\": 11, \"config\"");
    std::fs::write(&parts, text).unwrap();
    let mut resumed = study(&parts);
    assert_eq!(resumed.trials().len(), 11);
    let resumed = table(resumed.optimize(&Budget::trials(24), epochs).unwrap());
    assert_eq!(resumed, straight);
}

#[test]
fn across_one_rank_is_the_one_worker_study_trial_for_trial() {
    let dir = scratch("across");
    let run = |across: bool, log: PathBuf| {
        let mut study = Study::new(mlp_space(), TpeSampler::new(8))
            .with_pruner(Asha::new(1, 3, 9))
            .with_log(&log)
            .unwrap();
        let budget = Budget::trials(20);
        let trials = if across {
            study.optimize_across(&strata_distributed::SingleProcess, &budget, epochs)
        } else {
            study.optimize(&budget, epochs)
        };
        let rows: Vec<Row> = trials
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t.id,
                    t.config.clone(),
                    t.state,
                    t.value,
                    t.intermediate.clone(),
                )
            })
            .collect();
        (rows, std::fs::read_to_string(&log).unwrap().lines().count())
    };
    let (alone, alone_lines) = run(false, dir.join("alone.jsonl"));
    let (across, across_lines) = run(true, dir.join("across.jsonl"));
    assert_eq!(across, alone);
    assert!(across.iter().any(|r| r.2 == TrialState::Pruned));
    assert_eq!(
        (alone_lines, across_lines),
        (21, 21),
        "a header and 20 trials each"
    );
}

#[test]
fn a_log_of_another_search_is_refused() {
    let dir = scratch("other-log");
    let log = dir.join("log.jsonl");
    Study::new(mlp_space(), RandomSampler::new(0))
        .with_log(&log)
        .unwrap()
        .optimize(&Budget::trials(2), |c, _| Ok(synthetic(c)))
        .unwrap();
    let other = Space::new().with_float("x", 0.0, 1.0, false);
    let e = Study::new(other, RandomSampler::new(0))
        .with_log(&log)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        e.contains("log.jsonl") && e.contains("another space"),
        "{e}"
    );
    std::fs::write(&log, "not json\n").unwrap();
    let e = Study::new(mlp_space(), RandomSampler::new(0))
        .with_log(&log)
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn several_workers_run_every_trial_once() {
    let mut study = Study::new(mlp_space(), TpeSampler::new(0));
    let trials = study
        .optimize(&Budget::trials(16).with_workers(2), |c, r| {
            std::thread::sleep(std::time::Duration::from_millis(2));
            let _ = r.trial();
            Ok(synthetic(c))
        })
        .unwrap();
    let mut ids: Vec<usize> = trials.iter().map(|t| t.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..16).collect::<Vec<_>>());
}

#[test]
fn failures_are_kept_with_their_message() {
    let mut study = Study::new(mlp_space(), RandomSampler::new(0));
    let trials = study
        .optimize(&Budget::trials(6), |c, _| {
            if c.int("layers") == Some(3) {
                Err("diverged".into())
            } else {
                Ok(synthetic(c))
            }
        })
        .unwrap();
    for t in trials {
        let failed = t.config.int("layers") == Some(3);
        assert_eq!(t.state == TrialState::Failed, failed);
        assert_eq!(t.error.as_deref() == Some("diverged"), failed);
    }
}

#[test]
fn spaces_load_from_json_and_bad_ones_are_refused_by_dimension() {
    let dir = scratch("spaces");
    let path = dir.join("space.json");
    std::fs::write(&path, serde_json::to_string_pretty(&mlp_space()).unwrap()).unwrap();
    assert_eq!(Space::from_json_file(&path).unwrap(), mlp_space());
    std::fs::write(
        &path,
        r#"{"dimensions": [{"name": "lr", "type": "float", "low": 1e-4, "high": 1.0, "log": true},
                          {"name": "units_2", "type": "int", "low": 16, "high": 64,
                           "condition": {"if": "at_least", "parent": "layers", "min": 2}}]}"#,
    )
    .unwrap();
    let e = Space::from_json_file(&path).unwrap_err().to_string();
    assert!(e.contains("units_2") && e.contains("layers"), "{e}");
    std::fs::write(&path, r#"{"dimensions": [{"name": "lr", "type": "float", "low": 0.0, "high": 1.0, "log": true}]}"#).unwrap();
    let e = Space::from_json_file(&path).unwrap_err().to_string();
    assert!(
        e.contains("lr") && e.contains("log scale needs low > 0"),
        "{e}"
    );
    std::fs::write(
        &path,
        r#"{"dimensions": [{"name": "lr", "type": "float", "low": 1.0}]}"#,
    )
    .unwrap();
    let e = Space::from_json_file(&path).unwrap_err();
    assert!(matches!(e, SearchError::Parse { .. }), "{e}");
    assert!(e.to_string().contains("high"), "{e}");
}

#[test]
fn results_are_written_as_csv_json_and_png() {
    let dir = scratch("results");
    let space = mlp_space();
    let mut study = Study::new(space.clone(), TpeSampler::new(1)).with_pruner(Asha::new(1, 3, 9));
    let trials = study
        .optimize(&Budget::trials(15), epochs)
        .unwrap()
        .to_vec();
    write_all(&dir, &space, &trials, "validation error").unwrap();
    let csv = std::fs::read_to_string(dir.join("trials.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert_eq!(
        header,
        "trial,state,value,epochs,seconds,layers,units_1,units_2,units_3,activation,optimizer,momentum,lr"
    );
    assert_eq!(csv.lines().count(), 16);
    assert_eq!(csv, to_csv(&space, &trials));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("trials.json")).unwrap()).unwrap();
    assert_eq!(json["trials"].as_array().unwrap().len(), 15);
    let best = strata_search::best(&trials).unwrap();
    assert_eq!(json["best"]["id"], best.id);
    let line = best_line(&trials).unwrap();
    assert!(line.contains("lr=") && line.contains("layers="), "{line}");
    let png = std::fs::read(dir.join("trials.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}
