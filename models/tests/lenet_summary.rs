//! LeNet-5's summary (rows and counts as `torchinfo.summary` gives them) and its checkpoints:
//! a classic LeNet-5's weights are refused by a modern one, naming the first differing layer.

use strata_layers::checkpoint::{CheckpointErrorKind, load_module, save_module};
use strata_layers::summary;
use strata_models::{LeNet5, LeNetConfig, LeNetStyle};

fn lenet(style: LeNetStyle, input_size: usize) -> LeNet5 {
    LeNet5::new(LeNetConfig {
        style,
        input_size,
        classes: 10,
    })
}

#[test]
fn summary_of_lenet5() {
    let mut net = lenet(LeNetStyle::Classic, 32);
    let s = summary(&mut net, &[1, 1, 32, 32]);
    let rows: Vec<(&str, &str, Option<Vec<usize>>, usize)> = s
        .rows
        .iter()
        .map(|r| {
            (
                r.path.as_str(),
                r.kind.as_str(),
                r.output_shape.clone(),
                r.params,
            )
        })
        .collect();
    let expected: Vec<(&str, &str, Option<Vec<usize>>, usize)> = vec![
        ("features", "Sequential", Some(vec![1, 400]), 2_572),
        ("features.0", "Conv2d", Some(vec![1, 6, 28, 28]), 156),
        ("features.1", "Activation", Some(vec![1, 6, 28, 28]), 0),
        ("features.2", "AvgPool2d", Some(vec![1, 6, 14, 14]), 0),
        ("features.3", "Conv2d", Some(vec![1, 16, 10, 10]), 2_416),
        ("features.4", "Activation", Some(vec![1, 16, 10, 10]), 0),
        ("features.5", "AvgPool2d", Some(vec![1, 16, 5, 5]), 0),
        ("features.6", "Flatten", Some(vec![1, 400]), 0),
        ("classifier", "Sequential", Some(vec![1, 10]), 59_134),
        ("classifier.0", "Linear", Some(vec![1, 120]), 48_120),
        ("classifier.1", "Activation", Some(vec![1, 120]), 0),
        ("classifier.2", "Linear", Some(vec![1, 84]), 10_164),
        ("classifier.3", "Activation", Some(vec![1, 84]), 0),
        ("classifier.4", "Linear", Some(vec![1, 10]), 850),
    ];
    assert_eq!(rows, expected);
    assert_eq!(
        (s.model.as_str(), s.output_shape.as_slice()),
        ("LeNet5", &[1, 10][..])
    );
    assert_eq!((s.total_params, s.trainable_params), (61_706, 61_706));
    assert_eq!(s.param_bytes, 246_824);
    let text = s.to_string();
    assert!(text.contains("Total params: 61,706"), "{text}");
    eprintln!("{text}");
}

#[test]
fn a_classic_checkpoint_is_refused_by_a_modern_lenet5() {
    let dir = std::env::temp_dir().join(format!("strata-lenet-arch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("classic.ckpt");
    save_module(&lenet(LeNetStyle::Classic, 28), &path).unwrap();
    let err = load_module(&mut lenet(LeNetStyle::Modern, 28), &path).unwrap_err();
    assert!(
        matches!(err.kind(), CheckpointErrorKind::ArchitectureMismatch { .. }),
        "{err}"
    );
    assert!(
        err.to_string().ends_with(
            "the saved state is of another architecture: layer \"features.1\" is \
             Activation(LecunTanh) in the file but Activation(Relu) in the model"
        ),
        "{err}"
    );
    load_module(&mut lenet(LeNetStyle::Classic, 28), &path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
