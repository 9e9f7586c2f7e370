//! Recurrent layers: PyTorch parameter names and shapes, the stacking of layers and
//! directions against the fused ops, initial/final states, batch-first layout, dropout between
//! layers, and finite-difference gradients of inputs, states and every parameter in f64.

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::{Var, assert_gradcheck, no_grad};
use strata_layers::Module;
use strata_layers::recurrent::{
    Gru, GruCell, Lstm, LstmCell, RecurrentConfig, Rnn, RnnCell, RnnNonlinearity,
};
use strata_tensor::Tensor;

fn rand(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::rand_uniform(shape, -1.0, 1.0, &mut StdRng::seed_from_u64(seed))
}

fn names<T: strata_tensor::Element>(m: &dyn Module<T>) -> Vec<String> {
    m.params().into_iter().map(|(n, _)| n).collect()
}

fn max_diff(a: &Tensor<f64>, b: &Tensor<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.to_vec()
        .iter()
        .zip(b.to_vec())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn pytorch_parameter_names_and_shapes() {
    let lstm = Lstm::<f32>::with_config(
        RecurrentConfig::new(10, 20)
            .with_num_layers(2)
            .with_bidirectional(true),
    );
    let expected: Vec<String> = (0..2)
        .flat_map(|l| {
            ["", "_reverse"].into_iter().flat_map(move |s| {
                ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
                    .into_iter()
                    .map(move |w| format!("{w}_l{l}{s}"))
            })
        })
        .collect();
    assert_eq!(names(&lstm), expected);
    assert_eq!(lstm.param("weight_ih_l0").unwrap().shape(), &[80, 10]);
    assert_eq!(
        lstm.param("weight_ih_l1_reverse").unwrap().shape(),
        &[80, 40]
    );
    assert_eq!(lstm.param("weight_hh_l1").unwrap().shape(), &[80, 20]);
    assert_eq!(lstm.param("bias_hh_l0_reverse").unwrap().shape(), &[80]);

    let gru = Gru::<f32>::with_config(RecurrentConfig::new(3, 4).with_bias(false));
    assert_eq!(names(&gru), ["weight_ih_l0", "weight_hh_l0"]);
    assert_eq!(gru.param("weight_hh_l0").unwrap().shape(), &[12, 4]);
    let rnn = Rnn::<f32>::new(3, 4);
    assert_eq!(rnn.param("weight_ih_l0").unwrap().shape(), &[4, 3]);

    let cell = LstmCell::<f32>::new(3, 4);
    assert_eq!(
        names(&cell),
        ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    );
    assert_eq!(cell.weight_ih.shape(), &[16, 3]);
    assert_eq!(GruCell::<f32>::new(3, 4).weight_hh.shape(), &[12, 4]);
    assert_eq!(
        RnnCell::<f32>::new(3, 4).bias_ih.as_ref().unwrap().shape(),
        &[4]
    );
}

#[test]
fn initialisation_is_uniform_within_one_over_sqrt_hidden() {
    let lstm = Lstm::<f32>::new(7, 16);
    for (name, p) in lstm.params() {
        let v = p.value().to_vec();
        assert!(v.iter().all(|x| x.abs() <= 0.25), "{name}");
        assert!(v.iter().any(|x| x.abs() > 0.2), "{name} spans the range");
    }
}

/// A 2-layer bidirectional batch-first LSTM against the fused ops composed by hand.
#[test]
fn stacked_bidirectional_lstm_matches_the_fused_ops() {
    let (t, n, i, h) = (5, 3, 4, 6);
    let mut lstm = Lstm::<f64>::with_config(
        RecurrentConfig::new(i, h)
            .with_num_layers(2)
            .with_bidirectional(true)
            .with_batch_first(true),
    );
    let x = rand(&[n, t, i], 1);
    let h0 = rand(&[4, n, h], 2);
    let c0 = rand(&[4, n, h], 3);
    let (out, (hn, cn)) = no_grad(|| {
        lstm.forward_with_state(
            &Var::constant(x.clone()),
            Some((&Var::constant(h0.clone()), &Var::constant(c0.clone()))),
        )
    });
    assert_eq!(out.shape(), &[n, t, 2 * h]);
    assert_eq!(hn.shape(), &[4, n, h]);
    assert_eq!(cn.shape(), &[4, n, h]);

    let p = |name: &str| Var::constant(lstm.param(name).unwrap().value().clone());
    let mut input = Var::constant(x.transpose(0, 1).contiguous());
    let (mut hs, mut cs) = (Vec::new(), Vec::new());
    for l in 0..2 {
        let mut outs = Vec::new();
        for (d, s) in ["", "_reverse"].into_iter().enumerate() {
            let k = 2 * l + d;
            let (o, hh, cc) = input.lstm_sequence(
                &Var::constant(h0.select(0, k).contiguous()),
                &Var::constant(c0.select(0, k).contiguous()),
                &p(&format!("weight_ih_l{l}{s}")),
                &p(&format!("weight_hh_l{l}{s}")),
                Some(&p(&format!("bias_ih_l{l}{s}"))),
                Some(&p(&format!("bias_hh_l{l}{s}"))),
                d == 1,
            );
            outs.push(o);
            hs.push(hh.into_value());
            cs.push(cc.into_value());
        }
        input = Var::concat(&[&outs[0], &outs[1]], 2);
    }
    let expect_out = input.value().transpose(0, 1);
    assert!(max_diff(out.value(), &expect_out) < 1e-12);
    let stack = |v: &[Tensor<f64>]| Tensor::stack(&v.iter().collect::<Vec<_>>(), 0);
    assert!(max_diff(hn.value(), &stack(&hs)) < 1e-12);
    assert!(max_diff(cn.value(), &stack(&cs)) < 1e-12);
    // The module forward is the output of forward_with_state with zero states.
    let y = lstm.predict(&x);
    assert_eq!(y.shape(), &[n, t, 2 * h]);
}

#[test]
fn cells_match_one_step_of_the_layers() {
    let (n, i, h) = (2, 3, 4);
    let x = rand(&[n, i], 5);
    let mut cell = LstmCell::<f64>::new(i, h);
    let mut lstm = Lstm::<f64>::new(i, h);
    for (dst, src) in ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
        .iter()
        .zip([
            &cell.weight_ih,
            &cell.weight_hh,
            cell.bias_ih.as_ref().unwrap(),
            cell.bias_hh.as_ref().unwrap(),
        ])
    {
        lstm.param_mut(dst).unwrap().set(src.value().clone());
    }
    let from_cell = cell.predict(&x);
    let from_layer = lstm.predict(&x.unsqueeze(0)).squeeze(0);
    assert!(max_diff(&from_cell, &from_layer) < 1e-12);

    let mut gcell = GruCell::<f64>::new(i, h);
    let mut gru = Gru::<f64>::new(i, h);
    for (dst, src) in ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
        .iter()
        .zip([
            &gcell.weight_ih,
            &gcell.weight_hh,
            gcell.bias_ih.as_ref().unwrap(),
            gcell.bias_hh.as_ref().unwrap(),
        ])
    {
        gru.param_mut(dst).unwrap().set(src.value().clone());
    }
    assert!(max_diff(&gcell.predict(&x), &gru.predict(&x.unsqueeze(0)).squeeze(0)) < 1e-12);

    let rcell = RnnCell::<f64>::new(i, h);
    let relu = no_grad(|| rcell.step_with(&Var::constant(x.clone()), None, RnnNonlinearity::Relu));
    assert!(relu.value().to_vec().iter().all(|&v| v >= 0.0));
}

/// Finite differences of `loss` with respect to every element of every parameter of `m`,
/// against the gradients `backward` gives.
fn check_param_grads<M: Module<f64>>(what: &str, m: &mut M, loss: impl Fn(&mut M) -> Var<f64>) {
    let l = loss(m);
    let grads = l.backward();
    let analytic: Vec<(String, Vec<f64>)> = m
        .params()
        .into_iter()
        .map(|(name, p)| {
            (
                name,
                grads
                    .get(p)
                    .expect("every parameter gets a gradient")
                    .to_vec(),
            )
        })
        .collect();
    let eps = 1e-6;
    for (k, (name, a)) in analytic.iter().enumerate() {
        for j in 0..a.len() {
            let eval = |delta: f64, m: &mut M| {
                {
                    let mut ps = m.params_mut();
                    let v = ps[k].1.value_mut().as_mut_slice();
                    v[j] += delta;
                }
                let s = no_grad(|| loss(m).item());
                let mut ps = m.params_mut();
                ps[k].1.value_mut().as_mut_slice()[j] -= delta;
                s
            };
            let numeric = (eval(eps, m) - eval(-eps, m)) / (2.0 * eps);
            let err = (a[j] - numeric).abs() / 1f64.max(a[j].abs()).max(numeric.abs());
            assert!(
                err < 1e-6,
                "{what}: {name}[{j}]: analytic {} vs numeric {numeric}",
                a[j]
            );
        }
    }
}

#[test]
fn stacked_bidirectional_layers_gradients() {
    let (t, n, i, h) = (3, 2, 3, 3);
    let x = rand(&[n, t, i], 10);
    let r = rand(&[n, t, 2 * h], 11);
    let rh = rand(&[4, n, h], 12);
    let config = RecurrentConfig::new(i, h)
        .with_num_layers(2)
        .with_bidirectional(true)
        .with_batch_first(true);

    let mut lstm = Lstm::<f64>::with_config(config);
    check_param_grads("lstm", &mut lstm, |m| {
        let (o, (hn, cn)) = m.forward_with_state(&Var::constant(x.clone()), None);
        o.mul_tensor(&r)
            .sum()
            .add(&hn.mul_tensor(&rh).sum())
            .add(&cn.sum())
    });
    assert_gradcheck(
        "lstm layer (x, h0, c0)",
        |v| {
            strata_layers::manual_seed(7);
            let mut m = Lstm::<f64>::with_config(config);
            let (o, (hn, cn)) = m.forward_with_state(&v[0], Some((&v[1], &v[2])));
            o.sum().add(&hn.mul_tensor(&rh).sum()).add(&cn.sum())
        },
        &[x.clone(), rand(&[4, n, h], 13), rand(&[4, n, h], 14)],
        1e-6,
    );

    let mut gru = Gru::<f64>::with_config(config);
    check_param_grads("gru", &mut gru, |m| {
        let (o, hn) = m.forward_with_state(&Var::constant(x.clone()), None);
        o.mul_tensor(&r).sum().add(&hn.mul_tensor(&rh).sum())
    });
    let mut rnn = Rnn::<f64>::with_config(config.with_nonlinearity(RnnNonlinearity::Tanh));
    check_param_grads("rnn", &mut rnn, |m| {
        let (o, hn) = m.forward_with_state(&Var::constant(x.clone()), None);
        o.mul_tensor(&r).sum().add(&hn.mul_tensor(&rh).sum())
    });
    assert_gradcheck(
        "gru layer (x, h0)",
        |v| {
            strata_layers::manual_seed(7);
            let mut m = Gru::<f64>::with_config(config);
            let (o, hn) = m.forward_with_state(&v[0], Some(&v[1]));
            o.mul_tensor(&r).sum().add(&hn.sum())
        },
        &[x.clone(), rand(&[4, n, h], 15)],
        1e-6,
    );
}

#[test]
fn cell_parameter_gradients() {
    let x = rand(&[2, 3], 20);
    let mut cell = LstmCell::<f64>::new(3, 4);
    check_param_grads("lstm cell", &mut cell, |m| {
        let (h, c) = m.step(&Var::constant(x.clone()), None);
        h.sum().add(&c.square().sum())
    });
    let mut gcell = GruCell::<f64>::new(3, 4);
    check_param_grads("gru cell", &mut gcell, |m| {
        m.forward(&Var::constant(x.clone())).square().sum()
    });
    let mut rcell = RnnCell::<f64>::new(3, 4);
    check_param_grads("rnn cell", &mut rcell, |m| {
        m.forward(&Var::constant(x.clone())).square().sum()
    });
}

#[test]
fn dropout_acts_between_layers_in_training_only() {
    let x = Tensor::<f32>::ones(&[4, 2, 3]);
    let mut lstm = Lstm::<f32>::with_config(
        RecurrentConfig::new(3, 8)
            .with_num_layers(2)
            .with_dropout(0.5),
    );
    lstm.eval();
    let a = lstm.predict(&x);
    let b = lstm.predict(&x);
    assert_eq!(a, b);
    lstm.train();
    let c = lstm.predict(&x);
    assert_ne!(a, c);
    // One layer: no dropout anywhere.
    let mut single = Lstm::<f32>::with_config(RecurrentConfig::new(3, 8).with_dropout(0.5));
    let d = single.predict(&x);
    single.eval();
    assert_eq!(d, single.predict(&x));
}

#[test]
fn truncated_bptt_with_detached_state() {
    let mut lstm = Lstm::<f64>::new(2, 3);
    let chunk = Var::constant(rand(&[4, 1, 2], 30));
    let (_, (h, c)) = lstm.forward_with_state(&chunk, None);
    let (h, c) = (h.detach(), c.detach());
    let (out, _) = lstm.forward_with_state(&chunk, Some((&h, &c)));
    let grads = out.sum().backward();
    assert_eq!(grads.len(), 4);
}

#[test]
#[should_panic(expected = "Lstm: input [2, 3, 5] should be [T, N, I] with I = input_size = 4")]
fn wrong_input_size_names_the_layer() {
    let mut lstm = Lstm::<f32>::new(4, 3);
    let _ = lstm.predict(&Tensor::zeros(&[2, 3, 5]));
}

#[test]
#[should_panic(expected = "Gru: h0 [1, 3, 2]")]
fn wrong_state_shape_names_the_layer() {
    let mut gru = Gru::<f32>::new(4, 3);
    let h0 = Var::constant(Tensor::zeros(&[1, 3, 2]));
    let _ = gru.forward_with_state(&Var::constant(Tensor::zeros(&[2, 3, 4])), Some(&h0));
}
