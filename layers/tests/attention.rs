//! Multi-head attention, positional encodings and Transformer layers: shapes, masks, PyTorch
//! parameter names, and f64 gradient checks.

use strata_autograd::{Var, assert_gradcheck, no_grad};
use strata_layers::attention::{
    AttentionMask, LearnedPositionalEncoding, MultiHeadAttention, SinusoidalPositionalEncoding,
    causal_mask, padding_from_lengths,
};
use strata_layers::transformer::{
    FeedForwardActivation, TransformerConfig, TransformerDecoderLayer, TransformerEncoder,
    TransformerEncoderLayer, generate_square_subsequent_mask,
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
fn the_decoder_mask_is_the_square_causal_mask() {
    let m: Tensor<f64> = generate_square_subsequent_mask(3);
    assert_eq!(m, causal_mask(3, 3));
    // Query i sees keys 0..=i.
    let blocked = -1e9;
    assert_eq!(
        m.to_vec(),
        vec![0.0, blocked, blocked, 0.0, 0.0, blocked, 0.0, 0.0, 0.0]
    );
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
        .with_dim_feedforward(6)
        .with_dropout(0.0)
        .with_activation(act)
        .with_norm_first(norm_first)
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
    let cfg = TransformerConfig::new(8, 2).with_dropout(0.5);
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

// PyTorch 2.15's `F.scaled_dot_product_attention` on the inputs of `sdpa_input` (float64).
#[rustfmt::skip]
mod sdpa_reference {
    pub const OUT3: &[f64] = &[0.09750579498548836, -0.0507116915883177, 0.06899350478153933, -0.0868727634024373, 0.06547735025387397, -0.06491883454130765, -0.04389859064286432, -0.027015425861895093, 0.0026808049637313536, 0.00023675916176386924, -0.025843037438307195, 0.015149477137697862];
    pub const DQ3: &[f64] = &[-0.01720541780101173, 0.055522889145293776, 0.03532482484116195, -0.017205417801011733, -0.013869138275048863, 0.16652262637309992, 0.04033749986243129, -0.013869138275048863, 0.04526693907815325, 0.23459970470388297, 0.010183731567145532, 0.04526693907815325, -0.09953843541600607, 0.10132560857204045, -0.09953843541600603, -0.18128512399721164, -0.08193370870538381, 0.10920875185894012, -0.08193370870538379, -0.05132936036695924, -0.1250350740731795, 0.14031251058516392, -0.1250350740731795, -0.11369854536461033];
    pub const DK3: &[f64] = &[0.09130051611141936, -0.04149766424756822, -0.013067852965245439, 0.09888030426962695, -0.06711300673514925, 0.025776051422036164, 0.01845603109982103, -0.07854534955100215, 0.024857970108463377, -0.010635480156275157, 0.0062357430485731336, -0.009038359561306962, 0.07235237173740752, -0.013252278217334918, -0.029752129159558025, 0.04484786872285547, -0.12139785122214099, 0.039609371199142124, 0.0181282079764093, -0.05614446388017329, 0.05395407904908521, -0.006808516015626055, -0.02397312728730839, 0.011603141473087731, 0.0032912013096269817, -0.05568699864839156, 0.08109934219819352, 0.03946713020875286, -0.11900333261140282, 0.020430060029832282, 0.012973251664432235, -0.023024710362718734, 0.0447352187102308, 0.0631865501578423, -0.1059007039944616, -0.042006409358949975, 0.01702283354245978, -0.021121095523656937, 0.03580123741914413, 0.01396084803982811];
    pub const DV3: &[f64] = &[1.7926589390995349, 2.3224066387344418, 2.144656718055565, 2.8310559550523102, 1.7391122513227444, 2.368923462795899, 1.784512766481182, 2.374702231658374, 1.539059325040974, 2.102911711758975, 4.243123367171114, 4.703267847272258, 6.786162117283423, 7.510098261798588, 5.180862232095652, 5.790255369700782, 6.103966714646824, 6.756502189862163, 4.685885568802985, 5.239876331366208];
    pub const OUT4_BOOL: &[f64] = &[-0.033333333333333326, 0.03333333333333333, 0.1, 0.10104958051689897, -0.08869042523901113, 0.0010495805168989497, -0.0965362447534596, -0.15259781643490533, 0.1474021835650947, -0.035703274650034963, -0.06149328693456553, 0.09231970274695074, -0.16734851589175984, 0.13265148410824024, -0.0034606627192732466, -0.009671268090328896, 0.0020357103830471357, 0.10509037180485453, -0.008654845435486287, -0.0435088659233853, -0.10865484543548633, -0.06696011604578939, 0.04227627491310746, -0.019843233324359662];
    pub const OUT4_CAUSAL: &[f64] = &[-0.30000000000000004, 0.0, 0.30000000000000004, -0.21263383691800658, 0.08736616308199345, 0.0815845922950164, -0.09793205938242262, -0.010508911391215433, 0.0074070004648493564, -0.035703274650034963, -0.06149328693456553, 0.09231970274695074, -0.2, 0.1, -0.30000000000000004, -0.11461697649786513, 0.18538302350213487, -0.21461697649786515, -0.005090371804854499, 0.09796428961695287, -0.1050903718048545, -0.06696011604578939, 0.04227627491310746, -0.019843233324359662];
    pub const OUT4_CAUSAL_SHORT: &[f64] = &[-0.30000000000000004, 0.0, 0.30000000000000004, -0.21263383691800658, 0.08736616308199345, 0.0815845922950164, -0.2, 0.1, -0.30000000000000004, -0.11461697649786513, 0.18538302350213487, -0.21461697649786515];
}

/// `((i·a) mod b − ⌊b/2⌋)/10` for `i < n`, shaped — the inputs of the PyTorch check.
fn sdpa_input(n: usize, a: usize, b: usize, shape: &[usize]) -> Tensor<f64> {
    Tensor::from_vec(
        (0..n)
            .map(|i| ((i * a) % b) as f64 * 0.1 - (b / 2) as f64 * 0.1)
            .collect(),
        shape,
    )
}

fn sdpa_close(what: &str, got: &Tensor<f64>, want: &[f64]) {
    let got = got.to_vec();
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() < 1e-12, "{what}[{i}]: {g} vs PyTorch {w}");
    }
}

#[test]
fn scaled_dot_product_attention_matches_pytorch() {
    use sdpa_reference::*;
    use strata_layers::attention::{SdpaMask, SdpaOptions, scaled_dot_product_attention};
    let mut rng = rand::rng();
    // 3-D, additive mask [L, S], explicit scale; gradients of Σ o·w with w = 1, 2, 3, …
    let (q, k, v) = (
        Var::leaf(sdpa_input(24, 7, 11, &[2, 3, 4])),
        Var::leaf(sdpa_input(40, 5, 13, &[2, 5, 4])),
        Var::leaf(sdpa_input(20, 3, 7, &[2, 5, 2])),
    );
    let m = sdpa_input(15, 4, 9, &[3, 5]);
    let options = SdpaOptions::default()
        .with_attn_mask(SdpaMask::Additive(&m))
        .with_scale(0.7);
    let (out, _) = scaled_dot_product_attention(&q, &k, &v, &options, &mut rng);
    sdpa_close("3-D output", out.value(), OUT3);
    let w = Var::constant(Tensor::from_vec(
        (1..=12).map(f64::from).collect(),
        &[2, 3, 2],
    ));
    let g = out.mul(&w).sum().backward();
    sdpa_close("dq", g.wrt(&q).unwrap(), DQ3);
    sdpa_close("dk", g.wrt(&k).unwrap(), DK3);
    sdpa_close("dv", g.wrt(&v).unwrap(), DV3);
    // 4-D, a boolean (keep) mask, the default scale; causal, square and short queries.
    let (q, k, v) = (
        Var::constant(sdpa_input(24, 5, 11, &[1, 2, 4, 3])),
        Var::constant(sdpa_input(24, 7, 13, &[1, 2, 4, 3])),
        Var::constant(sdpa_input(24, 3, 7, &[1, 2, 4, 3])),
    );
    let keep = Tensor::from_vec(
        vec![
            1., 1., 0., 1., 0., 1., 1., 1., 1., 0., 1., 0., 1., 1., 1., 1.,
        ],
        &[4, 4],
    );
    let masked = SdpaOptions::default().with_attn_mask(SdpaMask::Keep(&keep));
    sdpa_close(
        "4-D keep mask",
        scaled_dot_product_attention(&q, &k, &v, &masked, &mut rng)
            .0
            .value(),
        OUT4_BOOL,
    );
    let causal = SdpaOptions::default().with_causal(true);
    sdpa_close(
        "4-D causal",
        scaled_dot_product_attention(&q, &k, &v, &causal, &mut rng)
            .0
            .value(),
        OUT4_CAUSAL,
    );
    let short = q.narrow(2, 0, 2);
    sdpa_close(
        "4-D causal, L < S",
        scaled_dot_product_attention(&short, &k, &v, &causal, &mut rng)
            .0
            .value(),
        OUT4_CAUSAL_SHORT,
    );
}

#[test]
fn scaled_dot_product_attention_passes_gradient_checks() {
    use strata_layers::attention::{SdpaMask, SdpaOptions, scaled_dot_product_attention};
    let m = sdpa_input(12, 5, 9, &[3, 4]);
    strata_autograd::assert_gradcheck(
        "scaled_dot_product_attention",
        |x| {
            let options = SdpaOptions::default()
                .with_attn_mask(SdpaMask::Additive(&m))
                .with_scale(0.8);
            scaled_dot_product_attention(&x[0], &x[1], &x[2], &options, &mut rand::rng()).0
        },
        &[
            sdpa_input(24, 7, 11, &[2, 3, 4]),
            sdpa_input(32, 5, 13, &[2, 4, 4]),
            sdpa_input(24, 3, 7, &[2, 4, 3]),
        ],
        1e-6,
    );
}

#[test]
#[should_panic(
    expected = "scaled_dot_product_attention: is_causal and attn_mask cannot be combined"
)]
fn causal_with_a_mask_is_refused() {
    use strata_layers::attention::{SdpaMask, SdpaOptions, scaled_dot_product_attention};
    let x = Var::constant(Tensor::<f32>::ones(&[1, 2, 2]));
    let m = Tensor::zeros(&[2, 2]);
    let options = SdpaOptions::default()
        .with_causal(true)
        .with_attn_mask(SdpaMask::Additive(&m));
    scaled_dot_product_attention(&x, &x, &x, &options, &mut rand::rng());
}
