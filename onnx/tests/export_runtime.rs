//! Every exportable model, exported and run in ONNX Runtime on the same input as Strata: the
//! outputs agree to 1e-5 (relative to 1 + |y|), at a batch size other than the one exported
//! with (the batch dimension is dynamic).

mod common;

use common::{Job, max_relative_difference, python, run_in_onnxruntime, scratch};
use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_layers::recurrent::{Lstm, RecurrentConfig};
use strata_layers::{
    Activation, AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d,
    ConvTranspose2d, Dropout, Flatten, LayerNorm, Linear, MaxPool2d, Module, PRelu, Sequential,
    Unflatten,
};
use strata_models::autoencoder::{AutoEncoder, AutoEncoderConfig};
use strata_models::dbn::Dbn;
use strata_models::rbm::RbmConfig;
use strata_models::sequence::LstmClassifier;
use strata_models::stacked_autoencoder::StackedAutoEncoder;
use strata_models::{DltCnn, LeNet5, LeNetConfig, LeNetStyle, Mlp, MlpConfig, MlpOutput};
use strata_onnx::proto::dimension;
use strata_tensor::Tensor;

/// A model, the shape of one example, and a name.
type Case = (&'static str, Box<dyn Module + Send>, Vec<usize>);

/// A convolutional stack using every image layer and option with an ONNX form.
fn conv_zoo() -> Sequential {
    let mut bn = BatchNorm2d::new(4);
    bn.running_mean = Some(Tensor::from_vec(vec![0.1, -0.2, 0.3, 0.0], &[4]));
    bn.running_var = Some(Tensor::from_vec(vec![0.5, 1.5, 2.0, 0.8], &[4]));
    Sequential::new()
        .add(
            Conv2d::new(3, 4, (3, 3))
                .with_stride((2, 1))
                .with_padding((1, 2))
                .with_dilation((1, 2)),
        )
        .add(bn)
        .add(Activation::Gelu)
        .add(MaxPool2d::new((2, 2)).with_ceil_mode(true))
        .add(
            ConvTranspose2d::new(4, 6, (3, 3))
                .with_stride_padding((2, 2), (1, 1), (1, 1))
                .with_groups(2),
        )
        .add(PRelu::new(6, 0.2))
        .add(
            AvgPool2d::new((3, 3))
                .with_stride_padding((2, 2), (1, 1))
                .with_count_include_pad(false),
        )
        .add(Activation::Silu)
        .add(Conv2d::new(6, 6, (1, 1)).with_groups(3).without_bias())
        .add(AdaptiveAvgPool2d::new((1, 1)))
        .add(Flatten)
        .add(Linear::new(6, 8))
        .add(Dropout::new(0.5))
        .add(Unflatten::new(&[2, 4]))
        .add(LayerNorm::new(&[4]))
        .add(Linear::new(4, 3))
        .add(Flatten)
        .add(Activation::LogSoftmax(1))
}

/// Every activation in turn, on rows of 12 features.
fn activation_zoo() -> Sequential {
    let mut bn = BatchNorm1d::new(12);
    bn.running_mean = Some(Tensor::full(&[12], 0.1));
    bn.running_var = Some(Tensor::full(&[12], 2.0));
    let mut s = Sequential::new().add(Linear::new(12, 12)).add(bn);
    for a in [
        Activation::Tanh,
        Activation::LecunTanh,
        Activation::LeakyRelu(0.1),
        Activation::Elu(0.7),
        Activation::Selu,
        Activation::GeluTanh,
        Activation::Mish,
        Activation::Softplus,
        Activation::LogSigmoid,
        Activation::Hardtanh(-1.5, 0.5),
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Softmax(1),
    ] {
        s = s.add(Linear::new(12, 12)).add(a);
    }
    s
}

fn cases() -> Vec<Case> {
    strata_layers::manual_seed(7);
    let mut dbn = Dbn::new(&[20, 16, 12], |_, v, h| RbmConfig::new(v, h));
    let unfolded = dbn.unfold(5, MlpOutput::Softmax, 3);
    dbn.eval();
    vec![
        (
            "mlp",
            Box::new(Mlp::new(&MlpConfig::new(&[20, 16, 5]))),
            vec![20],
        ),
        (
            "mlp_tanh_sigmoid",
            Box::new(Mlp::new(
                &MlpConfig::new(&[20, 16, 16, 5])
                    .hidden(Activation::LecunTanh)
                    .output(MlpOutput::Sigmoid),
            )),
            vec![20],
        ),
        ("dbn_unfolded", Box::new(unfolded), vec![20]),
        (
            "lenet5",
            Box::new(LeNet5::new(LeNetConfig::default())),
            vec![1, 28, 28],
        ),
        (
            "lenet5_classic",
            Box::new(LeNet5::new(LeNetConfig {
                style: LeNetStyle::Classic,
                ..LeNetConfig::default()
            })),
            vec![1, 28, 28],
        ),
        ("dlt_cnn", Box::new(DltCnn::new()), vec![1, 28, 28]),
        (
            "lstm_classifier",
            Box::new(LstmClassifier::new(8, 16, 4)),
            vec![1, 8, 8],
        ),
        (
            "lstm_batch_first",
            Box::new(Lstm::with_config(
                RecurrentConfig::new(6, 5).batch_first(true),
            )),
            vec![7, 6],
        ),
        (
            "lstm_time_major_in_sequential",
            Box::new(Sequential::new().add(Lstm::new(6, 5))),
            vec![2, 6],
        ),
        (
            "autoencoder",
            Box::new(AutoEncoder::new(AutoEncoderConfig::new(30, 12))),
            vec![30],
        ),
        (
            "autoencoder_tied_images",
            Box::new(AutoEncoder::new(
                AutoEncoderConfig::new(36, 10)
                    .tied(true)
                    .activations(Activation::Relu, Activation::Sigmoid),
            )),
            vec![1, 6, 6],
        ),
        ("conv_zoo", Box::new(conv_zoo()), vec![3, 11, 13]),
        (
            "conv1d",
            Box::new(
                Sequential::new()
                    .add(Conv1d::new(3, 5, 3).with_stride_padding(2, 1))
                    .add(Activation::Relu),
            ),
            vec![3, 17],
        ),
        ("activation_zoo", Box::new(activation_zoo()), vec![12]),
        ("dbn_up", Box::new(dbn), vec![20]),
        (
            "stacked_autoencoder",
            Box::new(StackedAutoEncoder::new(
                &[16, 10, 6],
                &AutoEncoderConfig::new(1, 1),
            )),
            vec![1, 4, 4],
        ),
    ]
}

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
    let mut deep = Lstm::with_config(RecurrentConfig::new(4, 3).num_layers(2));
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
