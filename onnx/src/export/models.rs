//! The ONNX form of the ready models of `strata-models`: `Mlp` (also what `Dbn::unfold` and
//! `StackedAutoEncoder::to_mlp` return), `LeNet5`, `DltCnn`, `LstmClassifier`, `AutoEncoder`,
//! `StackedAutoEncoder` (its codes), `Rbm` and `Dbn` (the upward pass `p(h | v)`).

use std::any::Any;

use strata_layers::Activation;
use strata_models::autoencoder::AutoEncoder;
use strata_models::dbn::Dbn;
use strata_models::rbm::Rbm;
use strata_models::sequence::LstmClassifier;
use strata_models::stacked_autoencoder::StackedAutoEncoder;
use strata_models::{DltCnn, LeNet5, Mlp, MlpOutput};

use super::layers::{activation, linear, lstm, squeeze, transpose};
use super::{Flow, export_module, join};
use crate::OnnxError;
use crate::builder::{Attr, GraphBuilder};

/// `Some(output)` if `any` is a model this file knows, `None` otherwise.
pub(super) fn export(
    any: &dyn Any,
    path: &str,
    g: &mut GraphBuilder,
    x: &Flow,
) -> Result<Option<Flow>, OnnxError> {
    let y = if let Some(m) = any.downcast_ref::<Mlp>() {
        let last = m.layers.len() - 1;
        let mut h = x.clone();
        for (i, layer) in m.layers.iter().enumerate() {
            let p = join(path, format!("layers.{i}"));
            h = linear(g, &p, &h, &layer.weight, layer.bias.as_ref(), true);
            if i < last {
                h = activation(g, &p, &h, m.hidden_activation());
            }
        }
        let out = match m.output() {
            MlpOutput::Linear => Activation::Identity,
            MlpOutput::Sigmoid => Activation::Sigmoid,
            MlpOutput::Softmax => Activation::Softmax(h.rank - 1),
        };
        activation(g, path, &h, out)
    } else if let Some(m) = any.downcast_ref::<LeNet5>() {
        let h = export_module(&m.features, &join(path, "features"), g, x.clone())?;
        export_module(&m.classifier, &join(path, "classifier"), g, h)?
    } else if let Some(m) = any.downcast_ref::<DltCnn>() {
        export_module(&m.net, &join(path, "net"), g, x.clone())?
    } else if let Some(m) = any.downcast_ref::<LstmClassifier>() {
        // [N, …] → [N, S, S] → time-major [S, N, S] → LSTM → last hidden [N, H] → fc.
        let s = m.lstm.config().input_size as i64;
        let shape = g.int_constant("shape", &[0, s, s]);
        let rows = g.node("Reshape", path, &[&x.name, &shape], &[]);
        let steps = transpose(g, path, &rows, &[1, 0, 2]);
        let lstm_path = join(path, "lstm");
        let (_, y_h) = lstm(g, &lstm_path, &m.lstm, &steps)?;
        let last = Flow {
            name: squeeze(g, &lstm_path, &y_h, &[0]),
            rank: 2,
        };
        let fc = &m.fc;
        linear(
            g,
            &join(path, "fc"),
            &last,
            &fc.weight,
            fc.bias.as_ref(),
            true,
        )
    } else if let Some(r) = any.downcast_ref::<Rbm>() {
        rbm_up(g, path, x, r)
    } else if let Some(d) = any.downcast_ref::<Dbn>() {
        // The deterministic upward pass through every RBM.
        let mut h = x.clone();
        for (i, r) in d.rbms.iter().enumerate() {
            h = rbm_up(g, &join(path, format!("rbms.{i}")), &h, r);
        }
        h
    } else if let Some(s) = any.downcast_ref::<StackedAutoEncoder>() {
        let mut h = flatten(g, path, x);
        for (k, layer) in s.layers.iter().enumerate() {
            let p = join(path, format!("layers.{k}.encoder"));
            h = linear(
                g,
                &p,
                &h,
                &layer.encoder.weight,
                layer.encoder.bias.as_ref(),
                true,
            );
            h = activation(g, &p, &h, layer.config().encoder_activation);
        }
        h
    } else if let Some(m) = any.downcast_ref::<AutoEncoder>() {
        let config = m.config();
        let flat = flatten(g, path, x);
        let encoder = &m.encoder;
        let code = linear(
            g,
            &join(path, "encoder"),
            &flat,
            &encoder.weight,
            encoder.bias.as_ref(),
            true,
        );
        let code = activation(g, path, &code, config.encoder_activation);
        let decoder_path = join(path, "decoder");
        let logits = match &m.decoder_weight {
            Some(w) => linear(g, &decoder_path, &code, w, Some(&m.decoder_bias), true),
            // Tied: W₂ = W₁ᵀ, the encoder's weight used untransposed.
            None => {
                let b = g.weight(&join(&decoder_path, "bias"), m.decoder_bias.value());
                let w = join(path, "encoder.weight");
                Flow {
                    name: g.node("Gemm", &decoder_path, &[&code.name, &w, &b], &[]),
                    rank: 2,
                }
            }
        };
        activation(g, path, &logits, config.decoder_activation)
    } else {
        return Ok(None);
    };
    Ok(Some(y))
}

/// `x` flattened to `[N, features]` if it has more dimensions.
fn flatten(g: &mut GraphBuilder, path: &str, x: &Flow) -> Flow {
    if x.rank > 2 {
        Flow {
            name: g.node("Flatten", path, &[&x.name], &[("axis", Attr::Int(1))]),
            rank: 2,
        }
    } else {
        x.clone()
    }
}

/// An RBM's forward map `p(h = 1 | v) = σ(v·Wᵀ + c)`.
fn rbm_up(g: &mut GraphBuilder, path: &str, x: &Flow, r: &Rbm) -> Flow {
    let w = g.weight(&join(path, "weight"), r.weight.value());
    let c = g.weight(&join(path, "hidden_bias"), r.hidden_bias.value());
    let a = Flow {
        name: g.node(
            "Gemm",
            path,
            &[&x.name, &w, &c],
            &[("transB", Attr::Int(1))],
        ),
        rank: 2,
    };
    activation(g, path, &a, Activation::Sigmoid)
}
