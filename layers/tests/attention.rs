//! Multi-head attention, positional encodings and Transformer layers: shapes, masks, PyTorch
//! parameter names, and f64 gradient checks.

use strata_autograd::{Var, assert_gradcheck, no_grad};
use strata_layers::attention::{
    AttentionMask, LearnedPositionalEncoding, MultiHeadAttention, SinusoidalPositionalEncoding,
    causal_mask, padding_from_lengths,
};
use strata_layers::transformer::{
    FeedForwardActivation, TransformerConfig, TransformerDecoderLayer, TransformerEncoder,
    TransformerEncoderLayer,
};
use strata_layers::{Module, manual_seed};
use strata_tensor::Tensor;

fn det(shape: &[usize], salt: f64) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    Tensor::from_vec(
        (0..n)
            .map(|i| ((i as f64 * 0.731 + salt) * 1.37).sin() * 0.8)
            .collect(),
        shape,
    )
}

/// Checks the gradients of `f(m, inputs)` with respect to the inputs (by `assert_gradcheck`)
/// and to every parameter of `m` (central differences on the parameter values, the same
/// projection `Σ r ⊙ f` and error measure as `gradcheck`).
fn gradcheck_module<M: Module<f64>>(
    what: &str,
    m: &mut M,
    inputs: &[Tensor<f64>],
    f: impl Fn(&mut M, &[Var<f64>]) -> Var<f64>,
) {
    {
        let cell = std::cell::RefCell::new(&mut *m);
        assert_gradcheck(
            &format!("{what} (inputs)"),
            |vars| f(&mut cell.borrow_mut(), vars),
            inputs,
            1e-6,
        );
    }
    let xs: Vec<Var<f64>> = inputs.iter().map(|x| Var::constant(x.clone())).collect();
    let y = f(m, &xs);
    let r = det(y.shape(), 0.5).map(|v| 1.0 + 0.5 * v);
    let grads = y.backward_with(r.clone());
    let project = |m: &mut M| no_grad(|| f(m, &xs).value().mul(&r).sum());
    let h = 1e-6;
    let count = m.params().len();
    let mut worst = (0.0f64, String::new());
    for pi in 0..count {
        let (name, analytic, base) = {
            let (name, p) = &m.params()[pi];
            let a = grads
                .get(p)
                .map(|g| g.to_vec())
                .unwrap_or_else(|| vec![0.0; p.numel()]);
            (name.clone(), a, p.value().clone())
        };
        let values = base.to_vec();
        for j in 0..values.len() {
            let mut eval = |delta: f64| {
                let mut v = values.clone();
                v[j] += delta;
                m.params_mut()[pi].1.set(Tensor::from_vec(v, base.shape()));
                project(m)
            };
            let numeric = (eval(h) - eval(-h)) / (2.0 * h);
            let a = analytic[j];
            let err = (a - numeric).abs() / 1f64.max(a.abs()).max(numeric.abs());
            if err > worst.0 || err.is_nan() {
                worst = (err, format!("{name}[{j}]: analytic {a}, numeric {numeric}"));
            }
        }
        m.params_mut()[pi].1.set(base);
    }
    assert!(
        worst.0 <= 1e-6,
        "gradcheck {what} (parameters): error {:.3e} at {}",
        worst.0,
        worst.1
    );
}

#[test]
fn attention_shapes_names_and_weights_sum_to_one() {
    manual_seed(1);
    let mut mha = MultiHeadAttention::<f64>::new(8, 2);
    let names: Vec<String> = mha.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "in_proj_weight",
            "in_proj_bias",
            "out_proj.weight",
            "out_proj.bias"
        ]
    );
    assert_eq!(mha.params()[0].1.shape(), &[24, 8]);
    let x = Var::constant(det(&[2, 5, 8], 0.3));
    let pad = padding_from_lengths(&[5, 3], 5);
    let mask = AttentionMask::causal().with_key_padding(&pad);
    let (y, w) = mha.self_attend(&x, &mask);
    assert_eq!(y.shape(), &[2, 5, 8]);
    assert_eq!(w.shape(), &[2, 2, 5, 5]);
    let w = w.value();
    for n in 0..2 {
        for h in 0..2 {
            for i in 0..5 {
                let row: Vec<f64> = (0..5).map(|j| w.get(&[n, h, i, j])).collect();
                assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
                for (j, &v) in row.iter().enumerate() {
                    if j > i || (n == 1 && j >= 3) {
                        assert!(v < 1e-12, "masked weight ({n},{h},{i},{j}) = {v}");
                    }
                }
            }
        }
    }
    let m: Tensor<f32> = causal_mask(2, 3);
    assert_eq!(m.to_vec(), vec![0.0, 0.0, -1e9, 0.0, 0.0, 0.0]);
}

#[test]
fn attention_matches_a_reference_computed_by_hand() {
    // One head, identity projections: out = softmax(q·kᵀ/√d)·v.
    let mut mha = MultiHeadAttention::<f64>::new(2, 1).without_bias();
    mha.in_proj_weight.set(Tensor::from_vec(
        vec![1., 0., 0., 1., 1., 0., 0., 1., 1., 0., 0., 1.],
        &[6, 2],
    ));
    mha.out_proj
        .weight
        .set(Tensor::from_vec(vec![1., 0., 0., 1.], &[2, 2]));
    let q = Tensor::from_vec(vec![1.0, 0.0], &[1, 1, 2]);
    let kv = Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0], &[1, 2, 2]);
    let (y, w) = no_grad(|| {
        let kv = Var::constant(kv);
        mha.attend(&Var::constant(q), &kv, &kv, &AttentionMask::none())
    });
    let s = 1.0 / 2f64.sqrt();
    let p0 = s.exp() / (s.exp() + 1.0);
    assert!((w.value().get(&[0, 0, 0, 0]) - p0).abs() < 1e-12);
    assert!((y.value().get(&[0, 0, 0]) - p0).abs() < 1e-12);
    assert!((y.value().get(&[0, 0, 1]) - (1.0 - p0)).abs() < 1e-12);
}

#[test]
fn gradcheck_attention_with_padding_mask() {
    manual_seed(2);
    let mut mha = MultiHeadAttention::<f64>::new(4, 2);
    mha.set_training(false);
    let pad = padding_from_lengths(&[3, 2], 3);
    gradcheck_module(
        "MultiHeadAttention (key padding)",
        &mut mha,
        &[det(&[2, 2, 4], 0.1), det(&[2, 3, 4], 0.7)],
        |m, v| {
            let mask = AttentionMask::none().with_key_padding(&pad);
            m.cross_attend(&v[0], &v[1], &mask).0
        },
    );
}

#[test]
fn gradcheck_attention_with_causal_mask_and_weights() {
    manual_seed(3);
    let mut mha = MultiHeadAttention::<f64>::new(4, 2);
    gradcheck_module(
        "MultiHeadAttention (causal)",
        &mut mha,
        &[det(&[2, 3, 4], 0.2)],
        |m, v| {
            let (y, w) = m.self_attend(&v[0], &AttentionMask::causal());
            // Check the returned weights too.
            Var::concat(&[&y.reshape(&[24]), &w.reshape(&[36])], 0)
        },
    );
}

#[test]
fn gradcheck_attention_separate_qkv() {
    manual_seed(4);
    let mut mha = MultiHeadAttention::<f64>::new(4, 1);
    gradcheck_module(
        "MultiHeadAttention (q, k, v)",
        &mut mha,
        &[
            det(&[1, 2, 4], 0.2),
            det(&[1, 3, 4], 0.5),
            det(&[1, 3, 4], 0.9),
        ],
        |m, v| m.attend(&v[0], &v[1], &v[2], &AttentionMask::none()).0,
    );
}

#[test]
fn gradcheck_learned_positional_encoding() {
    manual_seed(5);
    let mut pe = LearnedPositionalEncoding::<f64>::new(5, 3);
    gradcheck_module(
        "LearnedPositionalEncoding",
        &mut pe,
        &[det(&[2, 4, 3], 0.4)],
        |m, v| m.forward(&v[0]).square(),
    );
}

#[test]
fn sinusoidal_encoding_values() {
    let mut pe = SinusoidalPositionalEncoding::<f64>::new(10, 4);
    let t = pe.table();
    assert_eq!(t.get(&[0, 0]), 0.0);
    assert_eq!(t.get(&[0, 1]), 1.0);
    assert!((t.get(&[3, 0]) - 3f64.sin()).abs() < 1e-12);
    assert!((t.get(&[3, 3]) - (3.0 / 100f64).cos()).abs() < 1e-12);
    let y = pe.forward(&Var::constant(Tensor::zeros(&[2, 6, 4])));
    assert_eq!(y.value().get(&[1, 5, 2]), (5.0 / 100f64).sin());
    assert_gradcheck(
        "SinusoidalPositionalEncoding",
        |v| {
            SinusoidalPositionalEncoding::new(10, 4)
                .forward(&v[0])
                .square()
        },
        &[det(&[2, 3, 4], 0.1)],
        1e-6,
    );
}

fn small_config(norm_first: bool, act: FeedForwardActivation) -> TransformerConfig {
    TransformerConfig::new(4, 2)
        .dim_feedforward(6)
        .dropout(0.0)
        .activation(act)
        .norm_first(norm_first)
}

#[test]
fn gradcheck_encoder_layer_post_and_pre_norm() {
    for (norm_first, act) in [
        (false, FeedForwardActivation::Relu),
        (true, FeedForwardActivation::Gelu),
    ] {
        manual_seed(6);
        let mut layer = TransformerEncoderLayer::<f64>::new(small_config(norm_first, act));
        let pad = padding_from_lengths(&[3, 2], 3);
        gradcheck_module(
            &format!("TransformerEncoderLayer (norm_first {norm_first}, {act:?})"),
            &mut layer,
            &[det(&[2, 3, 4], 0.3)],
            |m, v| m.forward_masked(&v[0], &AttentionMask::causal().with_key_padding(&pad)),
        );
    }
}

#[test]
fn gradcheck_encoder_stack_with_final_norm() {
    manual_seed(7);
    let mut enc =
        TransformerEncoder::<f64>::new(small_config(true, FeedForwardActivation::Relu), 2);
    let names: Vec<String> = enc.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names[0], "layers.0.self_attn.in_proj_weight");
    assert!(names.contains(&"layers.1.linear2.bias".to_string()));
    assert_eq!(names.last().unwrap(), "norm.bias");
    gradcheck_module(
        "TransformerEncoder",
        &mut enc,
        &[det(&[1, 3, 4], 0.8)],
        |m, v| m.forward(&v[0]),
    );
}

#[test]
fn gradcheck_decoder_layer() {
    for norm_first in [false, true] {
        manual_seed(8);
        let mut layer = TransformerDecoderLayer::<f64>::new(small_config(
            norm_first,
            FeedForwardActivation::Relu,
        ));
        let names: Vec<String> = layer.params().into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"multihead_attn.in_proj_weight".to_string()));
        assert!(names.contains(&"norm3.weight".to_string()));
        let pad = padding_from_lengths(&[4, 2], 4);
        gradcheck_module(
            &format!("TransformerDecoderLayer (norm_first {norm_first})"),
            &mut layer,
            &[det(&[2, 3, 4], 0.6), det(&[2, 4, 4], 0.2)],
            |m, v| {
                m.decode(
                    &v[0],
                    &v[1],
                    &AttentionMask::causal(),
                    &AttentionMask::none().with_key_padding(&pad),
                )
                .0
            },
        );
    }
}

#[test]
fn decoder_forward_uses_memory_and_dropout_respects_eval() {
    manual_seed(9);
    let cfg = TransformerConfig::new(8, 2).dropout(0.5);
    let mut layer = TransformerDecoderLayer::<f32>::new(cfg);
    layer.set_memory(Var::constant(Tensor::ones(&[2, 3, 8])));
    layer.eval();
    let x = Tensor::from_vec(
        (0..2 * 4 * 8).map(|i| (i as f32 * 0.1).sin()).collect(),
        &[2, 4, 8],
    );
    let a = layer.predict(&x);
    let b = layer.predict(&x);
    assert_eq!(a.to_vec(), b.to_vec());
    assert_eq!(a.shape(), &[2, 4, 8]);
}

#[test]
#[should_panic(expected = "MultiHeadAttention: query [2, 3, 5] is not [N, T, 4]")]
fn attention_rejects_wrong_width() {
    let mut mha = MultiHeadAttention::<f32>::new(4, 2);
    mha.forward(&Var::constant(Tensor::zeros(&[2, 3, 5])));
}
