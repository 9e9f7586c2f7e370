//! The fused recurrent ops (`lstm_sequence`, `gru_sequence`, `rnn_sequence` and the single-step
//! cells): values against a step-by-step composition of basic `Var` ops with the same weights,
//! and every gradient (input, initial state, all weights) against finite differences in f64,
//! for both directions, a two-layer bidirectional stack included.

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::{Var, assert_gradcheck};
use strata_tensor::Tensor;

const TOL: f64 = 1e-6;
const T: usize = 4;
const N: usize = 3;
const I: usize = 5;
const H: usize = 4;

fn rand(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::rand_uniform(shape, -1.0, 1.0, &mut StdRng::seed_from_u64(seed))
}

/// `[x, h0, c0, w_ih, w_hh, b_ih, b_hh]` for a cell with `g` gate blocks.
fn inputs(g: usize, seed: u64) -> Vec<Tensor<f64>> {
    vec![
        rand(&[T, N, I], seed),
        rand(&[N, H], seed + 1),
        rand(&[N, H], seed + 2),
        rand(&[g * H, I], seed + 3),
        rand(&[g * H, H], seed + 4),
        rand(&[g * H], seed + 5),
        rand(&[g * H], seed + 6),
    ]
}

fn gate(v: &Var<f64>, k: usize) -> Var<f64> {
    v.narrow(1, k * H, H)
}

/// Step order: `0..T`, or `T−1..=0` when reversed.
fn order(reverse: bool) -> Vec<usize> {
    if reverse {
        (0..T).rev().collect()
    } else {
        (0..T).collect()
    }
}

/// Output in time order from per-step states.
fn stack_time(mut outs: Vec<(usize, Var<f64>)>) -> Var<f64> {
    outs.sort_by_key(|(t, _)| *t);
    Var::stack(&outs.iter().map(|(_, v)| v).collect::<Vec<_>>(), 0)
}

fn lstm_reference(v: &[Var<f64>], reverse: bool) -> (Var<f64>, Var<f64>, Var<f64>) {
    let (mut h, mut c) = (v[1].clone(), v[2].clone());
    let mut outs = Vec::new();
    for t in order(reverse) {
        let x = v[0].select(0, t);
        let pre = x
            .linear(&v[3], Some(&v[5]))
            .add(&h.linear(&v[4], Some(&v[6])));
        let (i, f, g, o) = (
            gate(&pre, 0).sigmoid(),
            gate(&pre, 1).sigmoid(),
            gate(&pre, 2).tanh(),
            gate(&pre, 3).sigmoid(),
        );
        c = f.mul(&c).add(&i.mul(&g));
        h = o.mul(&c.tanh());
        outs.push((t, h.clone()));
    }
    (stack_time(outs), h, c)
}

fn gru_reference(v: &[Var<f64>], reverse: bool) -> (Var<f64>, Var<f64>) {
    let mut h = v[1].clone();
    let mut outs = Vec::new();
    for t in order(reverse) {
        let x = v[0].select(0, t);
        let gi = x.linear(&v[3], Some(&v[5]));
        let gh = h.linear(&v[4], Some(&v[6]));
        let r = gate(&gi, 0).add(&gate(&gh, 0)).sigmoid();
        let z = gate(&gi, 1).add(&gate(&gh, 1)).sigmoid();
        let n = gate(&gi, 2).add(&r.mul(&gate(&gh, 2))).tanh();
        h = z.rsub_scalar(1.0).mul(&n).add(&z.mul(&h));
        outs.push((t, h.clone()));
    }
    (stack_time(outs), h)
}

fn rnn_reference(v: &[Var<f64>], relu: bool, reverse: bool) -> (Var<f64>, Var<f64>) {
    let mut h = v[1].clone();
    let mut outs = Vec::new();
    for t in order(reverse) {
        let pre = v[0]
            .select(0, t)
            .linear(&v[3], Some(&v[5]))
            .add(&h.linear(&v[4], Some(&v[6])));
        h = if relu { pre.relu() } else { pre.tanh() };
        outs.push((t, h.clone()));
    }
    (stack_time(outs), h)
}

fn lstm_fused(v: &[Var<f64>], reverse: bool) -> (Var<f64>, Var<f64>, Var<f64>) {
    v[0].lstm_sequence(
        &v[1],
        &v[2],
        &v[3],
        &v[4],
        Some(&v[5]),
        Some(&v[6]),
        reverse,
    )
}

fn gru_fused(v: &[Var<f64>], reverse: bool) -> (Var<f64>, Var<f64>) {
    v[0].gru_sequence(&v[1], &v[3], &v[4], Some(&v[5]), Some(&v[6]), reverse)
}

fn rnn_fused(v: &[Var<f64>], relu: bool, reverse: bool) -> (Var<f64>, Var<f64>) {
    v[0].rnn_sequence(&v[1], &v[3], &v[4], Some(&v[5]), Some(&v[6]), relu, reverse)
}

fn consts(ts: &[Tensor<f64>]) -> Vec<Var<f64>> {
    ts.iter().map(|t| Var::constant(t.clone())).collect()
}

fn assert_close(what: &str, a: &Var<f64>, b: &Var<f64>) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    let err = a
        .value()
        .to_vec()
        .iter()
        .zip(b.value().to_vec())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(err <= 1e-10, "{what}: max difference {err:e}");
}

#[test]
fn lstm_sequence_matches_the_step_by_step_composition() {
    for reverse in [false, true] {
        let v = consts(&inputs(4, 10));
        let (o, h, c) = lstm_fused(&v, reverse);
        let (ro, rh, rc) = lstm_reference(&v, reverse);
        assert_close("lstm output", &o, &ro);
        assert_close("lstm h_n", &h, &rh);
        assert_close("lstm c_n", &c, &rc);
    }
}

#[test]
fn gru_sequence_matches_the_step_by_step_composition() {
    for reverse in [false, true] {
        let v = consts(&inputs(3, 20));
        let (o, h) = gru_fused(&v, reverse);
        let (ro, rh) = gru_reference(&v, reverse);
        assert_close("gru output", &o, &ro);
        assert_close("gru h_n", &h, &rh);
    }
}

#[test]
fn rnn_sequence_matches_the_step_by_step_composition() {
    for relu in [false, true] {
        for reverse in [false, true] {
            let v = consts(&inputs(1, 30));
            let (o, h) = rnn_fused(&v, relu, reverse);
            let (ro, rh) = rnn_reference(&v, relu, reverse);
            assert_close("rnn output", &o, &ro);
            assert_close("rnn h_n", &h, &rh);
        }
    }
}

#[test]
fn cells_match_one_step_of_the_composition() {
    let v = consts(&inputs(4, 40));
    let x0 = v[0].select(0, 0);
    let (h, c) = x0.lstm_cell(Some((&v[1], &v[2])), &v[3], &v[4], Some(&v[5]), Some(&v[6]));
    let short: Vec<Var<f64>> = std::iter::once(v[0].narrow(0, 0, 1))
        .chain(v[1..].iter().cloned())
        .collect();
    let (_, rh, rc) = lstm_reference_steps(&short);
    assert_close("lstm_cell h", &h, &rh);
    assert_close("lstm_cell c", &c, &rc);

    let v = consts(&inputs(3, 41));
    let h = v[0]
        .select(0, 0)
        .gru_cell(Some(&v[1]), &v[3], &v[4], Some(&v[5]), Some(&v[6]));
    let (ro, _) = gru_reference(&v, false);
    assert_close("gru_cell", &h, &ro.select(0, 0));

    let v = consts(&inputs(1, 42));
    let h = v[0]
        .select(0, 0)
        .rnn_cell(Some(&v[1]), &v[3], &v[4], Some(&v[5]), Some(&v[6]), false);
    let (ro, _) = rnn_reference(&v, false, false);
    assert_close("rnn_cell", &h, &ro.select(0, 0));
}

/// The LSTM reference over however many steps `v[0]` holds.
fn lstm_reference_steps(v: &[Var<f64>]) -> (Var<f64>, Var<f64>, Var<f64>) {
    let (mut h, mut c) = (v[1].clone(), v[2].clone());
    let mut outs = Vec::new();
    for t in 0..v[0].shape()[0] {
        let pre = v[0]
            .select(0, t)
            .linear(&v[3], Some(&v[5]))
            .add(&h.linear(&v[4], Some(&v[6])));
        let (i, f, g, o) = (
            gate(&pre, 0).sigmoid(),
            gate(&pre, 1).sigmoid(),
            gate(&pre, 2).tanh(),
            gate(&pre, 3).sigmoid(),
        );
        c = f.mul(&c).add(&i.mul(&g));
        h = o.mul(&c.tanh());
        outs.push(h.clone());
    }
    (Var::stack(&outs.iter().collect::<Vec<_>>(), 0), h, c)
}

/// Every output of a sequence op in one value, so the gradcheck covers all of them.
fn all(parts: &[&Var<f64>]) -> Var<f64> {
    Var::concat(
        &parts
            .iter()
            .map(|p| p.reshape(&[p.value().numel()]))
            .collect::<Vec<_>>()
            .iter()
            .collect::<Vec<_>>(),
        0,
    )
}

#[test]
fn lstm_sequence_gradients() {
    for reverse in [false, true] {
        assert_gradcheck(
            "lstm_sequence",
            |v| {
                let (o, h, c) = lstm_fused(v, reverse);
                all(&[&o, &h, &c])
            },
            &inputs(4, 50),
            TOL,
        );
    }
}

#[test]
fn gru_sequence_gradients() {
    for reverse in [false, true] {
        assert_gradcheck(
            "gru_sequence",
            |v| {
                let (o, h) = gru_fused(v, reverse);
                all(&[&o, &h])
            },
            &inputs(3, 60),
            TOL,
        );
    }
}

#[test]
fn rnn_sequence_gradients() {
    for relu in [false, true] {
        for reverse in [false, true] {
            assert_gradcheck(
                "rnn_sequence",
                |v| {
                    let (o, h) = rnn_fused(v, relu, reverse);
                    all(&[&o, &h])
                },
                &inputs(1, 70),
                TOL,
            );
        }
    }
}

#[test]
fn cell_gradients() {
    let step = |ts: Vec<Tensor<f64>>| -> Vec<Tensor<f64>> {
        let mut ts = ts;
        ts[0] = ts[0].select(0, 0).contiguous();
        ts
    };
    assert_gradcheck(
        "lstm_cell",
        |v| {
            let (h, c) =
                v[0].lstm_cell(Some((&v[1], &v[2])), &v[3], &v[4], Some(&v[5]), Some(&v[6]));
            all(&[&h, &c])
        },
        &step(inputs(4, 80)),
        TOL,
    );
    assert_gradcheck(
        "gru_cell",
        |v| v[0].gru_cell(Some(&v[1]), &v[3], &v[4], Some(&v[5]), Some(&v[6])),
        &step(inputs(3, 81)),
        TOL,
    );
    assert_gradcheck(
        "rnn_cell",
        |v| v[0].rnn_cell(Some(&v[1]), &v[3], &v[4], Some(&v[5]), Some(&v[6]), false),
        &step(inputs(1, 82)),
        TOL,
    );
}

#[test]
fn cells_without_bias_and_with_zero_state() {
    let ts = inputs(4, 90);
    let x = ts[0].select(0, 0).contiguous();
    assert_gradcheck(
        "lstm_cell without bias",
        |v| {
            let (h, c) = v[0].lstm_cell(None, &v[1], &v[2], None, None);
            all(&[&h, &c])
        },
        &[x, ts[3].clone(), ts[4].clone()],
        TOL,
    );
}

/// A two-layer bidirectional LSTM built from the fused ops, every weight an input.
#[test]
fn two_layer_bidirectional_lstm_gradients() {
    let mut ts = vec![rand(&[T, N, I], 100)];
    let mut seed = 101;
    for layer in 0..2 {
        let input = if layer == 0 { I } else { 2 * H };
        for _dir in 0..2 {
            for shape in [vec![4 * H, input], vec![4 * H, H], vec![4 * H], vec![4 * H]] {
                ts.push(rand(&shape, seed));
                seed += 1;
            }
        }
    }
    let h0 = rand(&[N, H], 200);
    let c0 = rand(&[N, H], 201);
    ts.push(h0);
    ts.push(c0);
    assert_gradcheck(
        "2-layer bidirectional lstm",
        |v| {
            let (h0, c0) = (&v[17], &v[18]);
            let mut input = v[0].clone();
            let mut finals = Vec::new();
            for layer in 0..2 {
                let mut outs = Vec::new();
                for dir in 0..2 {
                    let w = &v[1 + 8 * layer + 4 * dir..];
                    let (o, h, c) = input.lstm_sequence(
                        h0,
                        c0,
                        &w[0],
                        &w[1],
                        Some(&w[2]),
                        Some(&w[3]),
                        dir == 1,
                    );
                    outs.push(o);
                    finals.push(h);
                    finals.push(c);
                }
                input = Var::concat(&[&outs[0], &outs[1]], 2);
            }
            let mut parts: Vec<&Var<f64>> = vec![&input];
            parts.extend(finals.iter());
            all(&parts)
        },
        &ts,
        TOL,
    );
}

#[test]
fn bidirectional_gru_and_rnn_gradients() {
    for g in [3, 1] {
        let ts = vec![
            rand(&[T, N, I], 300),
            rand(&[N, H], 301),
            rand(&[g * H, I], 302),
            rand(&[g * H, H], 303),
            rand(&[g * H], 304),
            rand(&[g * H], 305),
            rand(&[g * H, I], 306),
            rand(&[g * H, H], 307),
            rand(&[g * H], 308),
            rand(&[g * H], 309),
        ];
        assert_gradcheck(
            "bidirectional gru/rnn",
            |v| {
                let run = |w: &[Var<f64>], reverse: bool| {
                    if g == 3 {
                        v[0].gru_sequence(&v[1], &w[0], &w[1], Some(&w[2]), Some(&w[3]), reverse)
                    } else {
                        v[0].rnn_sequence(
                            &v[1],
                            &w[0],
                            &w[1],
                            Some(&w[2]),
                            Some(&w[3]),
                            false,
                            reverse,
                        )
                    }
                };
                let (of, hf) = run(&v[2..6], false);
                let (ob, hb) = run(&v[6..10], true);
                let o = Var::concat(&[&of, &ob], 2);
                all(&[&o, &hf, &hb])
            },
            &ts,
            TOL,
        );
    }
}

#[test]
fn untouched_outputs_and_constant_inputs_are_fine() {
    // Only h_n used; x and the states constant: gradients reach the weights only.
    let ts = inputs(4, 110);
    let x = Var::constant(ts[0].clone());
    let h0 = Var::constant(ts[1].clone());
    let c0 = Var::constant(ts[2].clone());
    let w: Vec<Var<f64>> = ts[3..].iter().map(|t| Var::leaf(t.clone())).collect();
    let (_, h, _) = x.lstm_sequence(&h0, &c0, &w[0], &w[1], Some(&w[2]), Some(&w[3]), false);
    let grads = h.sum().backward();
    for wv in &w {
        let g = grads.wrt(wv).expect("weight gradient");
        assert_eq!(g.shape(), wv.shape());
        assert!(g.to_vec().iter().all(|v| v.is_finite()));
    }
}

#[test]
#[should_panic(expected = "lstm: weight_hh")]
fn mismatched_weights_panic_naming_the_op() {
    let ts = inputs(4, 120);
    let v = consts(&ts);
    let bad = Var::constant(rand(&[4 * H, H + 1], 1));
    let _ = v[0].lstm_sequence(&v[1], &v[2], &v[3], &bad, None, None, false);
}

/// On two threads a batch of 40 is split into two chunks run in parallel; values and
/// gradients agree with one thread.
#[test]
fn batch_split_over_threads_matches_one_thread() {
    let (t, n, i, h) = (3, 40, 5, 4);
    let ts = [
        rand(&[t, n, i], 130),
        rand(&[n, h], 131),
        rand(&[n, h], 132),
        rand(&[4 * h, i], 133),
        rand(&[4 * h, h], 134),
        rand(&[4 * h], 135),
        rand(&[4 * h], 136),
    ];
    let run = |threads: usize| {
        strata_tensor::threads::with_threads(threads, || {
            let mut out = Vec::new();
            for reverse in [false, true] {
                let v: Vec<Var<f64>> = ts.iter().map(|t| Var::leaf(t.clone())).collect();
                let (o, hn, cn) = lstm_fused(&v, reverse);
                let y = all(&[&o, &hn, &cn]);
                let seed = rand(y.shape(), 137);
                let grads = y.backward_with(seed);
                out.extend(y.value().to_vec());
                for leaf in &v {
                    out.extend(grads.wrt(leaf).expect("gradient").to_vec());
                }
                let (w_ih, w_hh) = (v[3].narrow(0, 0, 3 * h), v[4].narrow(0, 0, 3 * h));
                let (go, gh) = v[0].gru_sequence(&v[1], &w_ih, &w_hh, None, None, reverse);
                out.extend(all(&[&go, &gh]).value().to_vec());
            }
            out
        })
    };
    let (one, two) = (run(1), run(2));
    let err = one
        .iter()
        .zip(&two)
        .map(|(a, b)| (a - b).abs() / 1f64.max(a.abs()))
        .fold(0.0, f64::max);
    assert!(err < 1e-12, "1 vs 2 threads: {err:e}");
}
