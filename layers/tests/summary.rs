//! `summary`: rows, output shapes and parameter counts of LeNet-5 (checked against the
//! numbers `torchinfo.summary` gives for the same network), totals, and a model left exactly
//! as it was (modes, batch-norm statistics).

mod common;

use common::lenet;
use strata_autograd::Var;
use strata_layers::{
    Activation, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Linear, Module, ModuleList, Summary,
    module_parts, summary,
};

#[test]
fn lenet5_rows_match_torchinfo() {
    let mut net = lenet(false);
    let s: Summary = summary(&mut net, &[1, 1, 28, 28]);
    assert_eq!(s.model, "LeNet5");
    assert_eq!(s.output_shape, [1, 10]);
    let rows: Vec<(&str, usize, &str, Vec<usize>, usize)> = s
        .rows
        .iter()
        .map(|r| {
            (
                r.path.as_str(),
                r.depth,
                r.kind.as_str(),
                r.output_shape.clone().expect("every layer reports"),
                r.params,
            )
        })
        .collect();
    // torchinfo: Conv2d 1→6 5×5 = 6·25 + 6 = 156; Conv2d 6→16 = 16·150 + 16 = 2,416;
    // Linear 400→120 = 48,120; 120→84 = 10,164; 84→10 = 850.
    let expected: Vec<(&str, usize, &str, Vec<usize>, usize)> = vec![
        ("features", 1, "Sequential", vec![1, 400], 2_572),
        ("features.0", 2, "Conv2d", vec![1, 6, 28, 28], 156),
        ("features.1", 2, "Activation", vec![1, 6, 28, 28], 0),
        ("features.2", 2, "MaxPool2d", vec![1, 6, 14, 14], 0),
        ("features.3", 2, "Conv2d", vec![1, 16, 10, 10], 2_416),
        ("features.4", 2, "Activation", vec![1, 16, 10, 10], 0),
        ("features.5", 2, "MaxPool2d", vec![1, 16, 5, 5], 0),
        ("features.6", 2, "Flatten", vec![1, 400], 0),
        ("classifier", 1, "Sequential", vec![1, 10], 59_134),
        ("classifier.0", 2, "Linear", vec![1, 120], 48_120),
        ("classifier.1", 2, "Activation", vec![1, 120], 0),
        ("classifier.2", 2, "Linear", vec![1, 84], 10_164),
        ("classifier.3", 2, "Activation", vec![1, 84], 0),
        ("classifier.4", 2, "Linear", vec![1, 10], 850),
    ];
    assert_eq!(rows, expected);
    assert!(s.rows.iter().all(|r| r.calls == 1));
    assert_eq!(s.total_params, 61_706);
    assert_eq!(s.trainable_params, 61_706);
    assert_eq!(s.param_bytes, 61_706 * 4);
    assert_eq!(
        s.rows[1].description,
        "Conv2d(stride=(1, 1), padding=(2, 2), dilation=(1, 1), groups=1)"
    );
    assert_eq!(s.rows[2].description, "Activation(Relu)");

    let text = s.to_string();
    assert!(
        text.starts_with("LeNet5: input [1, 1, 28, 28] → output [1, 10]\n"),
        "{text}"
    );
    let line = |path: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(&format!("{path} ")))
            .unwrap_or_else(|| panic!("no row {path} in\n{text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("features.0"), "features.0 Conv2d [1, 6, 28, 28] 156");
    assert_eq!(line("classifier.0"), "classifier.0 Linear [1, 120] 48,120");
    assert!(text.contains("Total params: 61,706\n"), "{text}");
    assert!(text.contains("Trainable params: 61,706\n"), "{text}");
    assert!(text.contains("Non-trainable params: 0\n"), "{text}");
    assert!(
        text.ends_with("Parameter memory: 246,824 bytes (241.04 KiB)"),
        "{text}"
    );

    // A batch of 8 changes the shapes' first dimension only.
    let s8 = summary(&mut net, &[8, 1, 28, 28]);
    assert_eq!(s8.rows[3].output_shape, Some(vec![8, 6, 14, 14]));
}

#[test]
fn frozen_parameters_are_not_trainable() {
    let mut net = lenet(true);
    for (name, p) in net.params_mut() {
        if name.starts_with("features.") {
            p.set_requires_grad(false);
        }
    }
    let s = summary(&mut net, &[2, 1, 28, 28]);
    assert_eq!(s.total_params, 61_706);
    assert_eq!(s.trainable_params, 61_706 - 2_572);
    assert_eq!(s.rows[2].description, "Activation(LecunTanh)");
    assert_eq!(s.rows[2].kind, "Activation");
    assert_eq!(s.rows[3].kind, "AvgPool2d");
    assert!(s.to_string().contains("Non-trainable params: 2,572\n"));
}

/// A model whose layers are direct fields, called from its own forward, one of them twice.
struct Direct {
    conv: Conv2d<f64>,
    bn: BatchNorm2d<f64>,
    act: Activation,
    drop: Dropout,
    head: Linear<f64>,
    extra: ModuleList<f64>,
}

impl Module<f64> for Direct {
    fn forward(&mut self, x: &Var<f64>) -> Var<f64> {
        let h = self.act.forward(&self.bn.forward(&self.conv.forward(x)));
        let h = self.drop.forward(&h.flatten_from(1));
        let h = self.act.forward(&self.head.forward(&h));
        self.extra[0].forward(&h)
    }
    module_parts!(f64; children: [conv, bn, act, drop, head, extra]);
}

fn direct() -> Direct {
    Direct {
        conv: Conv2d::new(2, 3, (3, 3)),
        bn: BatchNorm2d::new(3),
        act: Activation::Relu,
        drop: Dropout::new(0.5),
        head: Linear::new(3 * 4 * 4, 5),
        extra: ModuleList::new()
            .add(BatchNorm1d::new(5))
            .add(Linear::new(5, 5)),
    }
}

#[test]
fn direct_children_shared_layers_and_unused_ones() {
    let mut net = direct();
    let s = summary(&mut net, &[4, 2, 6, 6]);
    let rows: Vec<(&str, Option<Vec<usize>>, usize)> = s
        .rows
        .iter()
        .map(|r| (r.path.as_str(), r.output_shape.clone(), r.calls))
        .collect();
    assert_eq!(
        rows,
        [
            ("conv", Some(vec![4, 3, 4, 4]), 1),
            ("bn", Some(vec![4, 3, 4, 4]), 1),
            ("act", Some(vec![4, 3, 4, 4]), 2),
            ("drop", Some(vec![4, 48]), 1),
            ("head", Some(vec![4, 5]), 1),
            // A ModuleList has no forward of its own; its second module is not called.
            ("extra", None, 0),
            ("extra.0", Some(vec![4, 5]), 1),
            ("extra.1", None, 0),
        ]
    );
    assert_eq!(s.rows[3].description, "Dropout(p=0.5)");
    let text = s.to_string();
    assert!(text.contains("[4, 3, 4, 4] ×2"), "{text}");
    assert!(text.contains("--"), "{text}");
}

fn buffers(m: &impl Module<f64>) -> Vec<Vec<f64>> {
    m.buffers().into_iter().map(|(_, b)| b.to_vec()).collect()
}

#[test]
fn the_model_is_left_as_it_was() {
    // In training mode: batch norm would update its running statistics and dropout would
    // draw masks, but the summary runs in evaluation mode and restores the mode.
    let mut net = direct();
    let before = buffers(&net);
    let x = Var::constant(strata_tensor::Tensor::<f64>::ones(&[4, 2, 6, 6]));
    net.reseed(5);
    summary(&mut net, &[4, 2, 6, 6]);
    assert_eq!(buffers(&net), before, "running statistics unchanged");
    assert!(net.is_training() && net.bn.is_training() && Module::<f64>::is_training(&net.drop));
    // The dropout stream did not move: the masks after the summary are those after a reseed.
    let after_summary = net.drop.forward(&x).value().to_vec();
    net.reseed(5);
    assert_eq!(net.drop.forward(&x).value().to_vec(), after_summary);

    // Mixed modes (a frozen batch norm in a training model) stay mixed.
    net.train();
    net.bn.eval();
    net.extra[0].eval();
    summary(&mut net, &[1, 2, 6, 6]);
    assert!(net.is_training());
    assert!(!net.bn.is_training());
    assert!(Module::<f64>::is_training(&net.drop));
    assert!(!net.extra[0].is_training());
    assert!(net.extra.is_training() || !net.extra[1].is_training());

    // In evaluation mode it stays there.
    net.eval();
    summary(&mut net, &[1, 2, 6, 6]);
    assert!(!net.is_training() && !Module::<f64>::is_training(&net.drop) && !net.bn.is_training());
    assert_eq!(buffers(&net), before);
}

#[test]
fn a_failing_forward_restores_the_modes() {
    let mut net = direct();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        summary(&mut net, &[1, 5, 6, 6]);
    }));
    assert!(result.is_err());
    assert!(net.is_training() && net.bn.is_training() && Module::<f64>::is_training(&net.drop));
}
