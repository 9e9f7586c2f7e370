//! Synthetic datasets.

use strata_datasets::{ArrayTargets, Dataset, Target, TargetSpec, synthetic};

#[test]
fn xor_points() {
    let d = synthetic::xor();
    assert_eq!(d.len(), 4);
    assert_eq!(d.labels().unwrap(), &[0, 1, 1, 0]);
    assert_eq!(d.get(2).input, vec![1.0, 0.0]);
    let n = synthetic::noisy_xor(400, 0.1, 3);
    assert_eq!(n.len(), 400);
    for i in 0..400 {
        let x = n.input(i);
        let (a, b) = ((x[0] > 0.5) as usize, (x[1] > 0.5) as usize);
        // With noise 0.1 almost every point stays on its corner's side.
        if (x[0] - 0.5).abs() > 0.45 && (x[1] - 0.5).abs() > 0.45 {
            assert_eq!(n.labels().unwrap()[i], a ^ b);
        }
    }
    assert_eq!(
        synthetic::noisy_xor(10, 0.1, 3),
        synthetic::noisy_xor(10, 0.1, 3)
    );
}

#[test]
fn two_spirals_are_interleaved_and_mirror_images() {
    let d = synthetic::two_spirals(100, 0.0, 0);
    assert_eq!(d.len(), 200);
    assert_eq!(d.target_spec(), TargetSpec::Classes(2));
    for i in 0..100 {
        let (a, b) = (d.input(2 * i), d.input(2 * i + 1));
        assert!((a[0] + b[0]).abs() < 1e-5 && (a[1] + b[1]).abs() < 1e-5);
        assert_eq!(d.get(2 * i + 1).target, Target::Class(1));
        let r = (a[0] * a[0] + a[1] * a[1]).sqrt();
        assert!((0.04..=1.0).contains(&r));
    }
    let noisy = synthetic::two_spirals(100, 0.05, 1);
    assert_ne!(noisy, d);
    assert_eq!(noisy, synthetic::two_spirals(100, 0.05, 1));
}

#[test]
fn noisy_sine_targets_are_the_clean_next_values() {
    let d = synthetic::noisy_sine(5, 20, 0.0, 7);
    assert_eq!(d.len(), 5);
    assert_eq!(d.input_shape(), vec![20, 1]);
    let ArrayTargets::Values { values, shape } = d.targets() else {
        panic!()
    };
    assert_eq!(shape, &vec![20, 1]);
    // Without noise, target t equals input t + 1.
    for s in 0..5 {
        let x = d.input(s);
        let y = &values[s * 20..(s + 1) * 20];
        for t in 0..19 {
            assert!((x[t + 1] - y[t]).abs() < 1e-5);
        }
        assert!(x.iter().all(|v| v.abs() <= 1.0));
    }
    let noisy = synthetic::noisy_sine(5, 20, 0.1, 7);
    assert!(
        noisy
            .inputs()
            .iter()
            .zip(d.inputs())
            .any(|(a, b)| (a - b).abs() > 0.01)
    );
}
