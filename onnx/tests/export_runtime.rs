//! Every exportable model, exported and run in ONNX Runtime on the same input as Strata: the
//! outputs agree to 1e-5 (relative to 1 + |y|), at a batch size other than the one exported
//! with (the batch dimension is dynamic).

mod common;

use common::{Job, cases, max_relative_difference, python, run_in_onnxruntime, scratch};
use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_layers::recurrent::{Lstm, RecurrentConfig};
use strata_layers::{AvgPool2d, Conv2d, Module, Sequential};
use strata_models::{LeNet5, LeNetConfig};
use strata_onnx::proto::dimension;
use strata_tensor::Tensor;

#[test]
fn exported_models_run_in_onnx_runtime_with_strata_outputs() {
    let dir = scratch("export_runtime");
    let mut rng = StdRng::seed_from_u64(11);
    let mut jobs = Vec::new();
    let mut expected = Vec::new();
    let mut names = Vec::new();
    for (name, mut model, example) in cases() {
        let onnx = strata_onnx::export(&mut *model, &example, name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let path = dir.join(format!("{name}.onnx"));
        strata_onnx::save(&onnx, &path).unwrap();
        // The input's batch is 3; the graph was traced at batch 1.
        let mut shape = vec![3];
        shape.extend(&example);
        let input = Tensor::rand_normal(&shape, 0.0, 1.0, &mut rng);
        expected.push(model.predict(&input));
        jobs.push(Job {
            model: path,
            input,
            output: dir.join(format!("{name}.out")),
        });
        names.push(name);
    }
    let Some(python) = python() else { return };
    let got = run_in_onnxruntime(&python, &dir, &jobs);
    for ((name, strata), runtime) in names.iter().zip(&expected).zip(&got) {
        let d = max_relative_difference(name, runtime, strata);
        eprintln!(
            "{name}: max relative difference {d:.2e} over {:?}",
            strata.shape()
        );
        assert!(d <= 1e-5, "{name}: ONNX Runtime and Strata differ by {d:e}");
    }
}

#[test]
fn exported_files_carry_names_metadata_and_a_dynamic_batch() {
    let mut model = LeNet5::new(LeNetConfig::default());
    let onnx = strata_onnx::export(&mut model, &[1, 28, 28], "lenet5").unwrap();
    let bytes = prost::Message::encode_to_vec(&onnx);
    let back = strata_onnx::decode(&bytes, "lenet5 bytes").unwrap();
    assert_eq!(back, onnx);
    assert_eq!(back.opset_import[0].version, strata_onnx::OPSET);
    let meta: Vec<(&str, &str)> = back
        .metadata_props
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect();
    assert!(meta.contains(&("model", "lenet5")), "{meta:?}");
    assert!(meta.iter().any(|(k, _)| *k == "strata_version"));
    let graph = back.graph.unwrap();
    let initializers: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let params: Vec<String> = model.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        initializers, params,
        "initializers are named as the parameters, in order"
    );
    for value in [&graph.input[0], &graph.output[0]] {
        let dims = &value
            .r#type
            .as_ref()
            .unwrap()
            .tensor_type
            .as_ref()
            .unwrap()
            .shape
            .as_ref()
            .unwrap()
            .dim;
        assert_eq!(
            dims[0].value,
            Some(dimension::Value::DimParam("N".into())),
            "{}",
            value.name
        );
    }
}

#[test]
fn modules_without_an_onnx_form_are_refused_by_name_and_path() {
    let mut pooled = Sequential::new()
        .add(Conv2d::new(1, 2, (3, 3)))
        .add(AvgPool2d::new((2, 2)).with_divisor_override(Some(3)));
    let e = strata_onnx::export(&mut pooled, &[1, 8, 8], "pooled")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("AvgPool2d") && e.contains("\"1\"") && e.contains("divisor_override"),
        "{e}"
    );
    let mut deep = Lstm::with_config(RecurrentConfig::new(4, 3).with_num_layers(2));
    let e = strata_onnx::export(&mut deep, &[5, 4], "deep")
        .unwrap_err()
        .to_string();
    assert!(e.contains("2 layer(s)"), "{e}");
    let mut unknown = Sequential::new().add(strata_layers::Embedding::new(10, 4));
    // (An embedding takes indices; ONNX could Gather them, but Strata's inputs are floats.)
    let e = strata_onnx::export(&mut unknown, &[3], "embedding")
        .unwrap_err()
        .to_string();
    assert!(e.contains("Embedding") && e.contains("no ONNX form"), "{e}");
}

#[test]
fn same_padding_exports_per_side_pads() {
    use strata_layers::{Conv1d, Padding};
    // Kernel 2×4: rows (0, 1), columns (1, 2) — the extra zero bottom and right.
    let mut model = Sequential::new()
        .add(Conv2d::new(2, 3, (2, 4)).with_padding(Padding::Same))
        .add(Conv2d::new(3, 3, (3, 3)).with_padding(Padding::Same));
    let onnx = strata_onnx::export(&mut model, &[2, 6, 7], "same").unwrap();
    let pads: Vec<Vec<i64>> = onnx
        .graph
        .as_ref()
        .unwrap()
        .node
        .iter()
        .filter(|n| n.op_type == "Conv")
        .map(|n| {
            n.attribute
                .iter()
                .find(|a| a.name == "pads")
                .unwrap()
                .ints
                .clone()
        })
        .collect();
    assert_eq!(pads, [vec![0, 1, 1, 2], vec![1, 1, 1, 1]]);

    let mut model = Sequential::new().add(Conv1d::new(2, 2, 4).with_padding(Padding::Same));
    let onnx = strata_onnx::export(&mut model, &[2, 9], "same1d").unwrap();
    let conv = &onnx.graph.as_ref().unwrap().node[0];
    let pads = &conv
        .attribute
        .iter()
        .find(|a| a.name == "pads")
        .unwrap()
        .ints;
    assert_eq!(pads, &[1, 2]);
}
