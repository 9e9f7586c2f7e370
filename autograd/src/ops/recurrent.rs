//! Fused recurrent ops (Elman RNN, LSTM and GRU sequences and single steps).
//!
//! A whole sequence through one layer and direction is **one** tape node: the forward runs
//! `strata_tensor::recurrent::sequence_forward` (one input-projection GEMM for all steps, one
//! recurrent GEMM and one fused gate kernel per step), and the backward runs
//! back-propagation through time with `sequence_backward`. The node's value packs the outputs
//! and final states (`[T + 1 (+ 1), N, H]`); the ops below hand them out as views.
//!
//! Gate equations (PyTorch's, gate blocks in this order):
//! - RNN: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`, `act` = tanh or ReLU;
//! - LSTM (`i, f, g, o`): `i, f, o = σ(·)`, `g = tanh(·)` of `W_ih x + b_ih + W_hh h + b_hh`,
//!   `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh c'`;
//! - GRU (`r, z, n`): `r = σ(W_ir x + b_ir + W_hr h + b_hr)`, `z = σ(W_iz x + b_iz + W_hz h + b_hz)`,
//!   `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`.

use strata_tensor::recurrent::{CellKind, SequenceWeights, fused_sequence_forward};
use strata_tensor::{Element, Tensor};

use crate::Var;

/// Records one fused sequence node; returns the packed value `[T + 1 (+ 1), N, H]`.
#[allow(clippy::too_many_arguments)]
fn fused_sequence<T: Element>(
    kind: CellKind,
    x: &Var<T>,
    h0: &Var<T>,
    c0: Option<&Var<T>>,
    w_ih: &Var<T>,
    w_hh: &Var<T>,
    b_ih: Option<&Var<T>>,
    b_hh: Option<&Var<T>>,
    reverse: bool,
) -> Var<T> {
    let weights = SequenceWeights {
        w_ih: &w_ih.value,
        w_hh: &w_hh.value,
        b_ih: b_ih.map(|b| &b.value),
        b_hh: b_hh.map(|b| &b.value),
    };
    let fwd = fused_sequence_forward(
        kind,
        &x.value,
        &h0.value,
        c0.map(|c| &c.value),
        &weights,
        reverse,
    );
    let packed = fwd.packed();
    let mut parents: Vec<&Var<T>> = vec![x, h0];
    parents.extend(c0);
    parents.extend([w_ih, w_hh]);
    parents.extend(b_ih);
    parents.extend(b_hh);
    let (has_c0, has_bih, has_bhh) = (c0.is_some(), b_ih.is_some(), b_hh.is_some());
    let (xv, wih, whh) = (x.value.clone(), w_ih.value.clone(), w_hh.value.clone());
    let (bih, bhh) = (b_ih.map(|b| b.value.clone()), b_hh.map(|b| b.value.clone()));
    let op = match kind {
        CellKind::Lstm => "lstm",
        CellKind::Gru => "gru",
        CellKind::RnnTanh => "rnn_tanh",
        CellKind::RnnRelu => "rnn_relu",
    };
    Var::record(op, packed, &parents, move |g, needs| {
        let weights = SequenceWeights {
            w_ih: &wih,
            w_hh: &whh,
            b_ih: bih.as_ref(),
            b_hh: bhh.as_ref(),
        };
        let grads = fwd.backward(&xv, &weights, g, needs[0]);
        let mut out = vec![grads.x, needs[1].then_some(grads.h0)];
        if has_c0 {
            out.push(grads.c0);
        }
        out.push(Some(grads.w_ih));
        out.push(Some(grads.w_hh));
        if has_bih {
            out.push(Some(grads.b_ih));
        }
        if has_bhh {
            out.push(Some(grads.b_hh));
        }
        out
    })
}

/// The `[N, H]` zero state for an input `x: [T, N, I]` and a recurrent weight `[G·H, H]`.
fn zero_state<T: Element>(x: &Var<T>, w_hh: &Var<T>) -> Var<T> {
    let batch = x.shape().get(1).copied().unwrap_or(0);
    let hidden = w_hh.shape().get(1).copied().unwrap_or(0);
    Var::constant(Tensor::zeros(&[batch, hidden]))
}

/// Splits a packed `[T + k, N, H]` value into output `[T, N, H]` and the `k` final states.
fn unpack<T: Element>(packed: &Var<T>, steps: usize, states: usize) -> (Var<T>, Vec<Var<T>>) {
    let out = packed.narrow(0, 0, steps);
    let finals = (0..states).map(|k| packed.select(0, steps + k)).collect();
    (out, finals)
}

impl<T: Element> Var<T> {
    /// A whole LSTM layer (one direction) over a time-major sequence, fused into one tape
    /// node.
    ///
    /// Shapes: `self = x: [T, N, I]`, `h0`, `c0: [N, H]`, `w_ih: [4H, I]`, `w_hh: [4H, H]`,
    /// `b_ih`, `b_hh: [4H]` (gate blocks `i, f, g, o`). For each step,
    /// `(i, f, g, o) = (σ, σ, tanh, σ)(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)`,
    /// `c_t = f ⊙ c_{t−1} + i ⊙ g`, `h_t = o ⊙ tanh c_t`. With `reverse` the steps run from
    /// `T − 1` down to 0. Returns `(output [T, N, H], h_n [N, H], c_n [N, H])`, the output
    /// holding `h_t` at time `t`. Gradients flow to every input by BPTT (one GEMM per step).
    ///
    /// # Panics
    /// If `x` is not 3-D or a state or weight does not fit (the message names `lstm` and the
    /// shapes).
    #[allow(clippy::too_many_arguments)]
    pub fn lstm_sequence(
        &self,
        h0: &Var<T>,
        c0: &Var<T>,
        w_ih: &Var<T>,
        w_hh: &Var<T>,
        b_ih: Option<&Var<T>>,
        b_hh: Option<&Var<T>>,
        reverse: bool,
    ) -> (Var<T>, Var<T>, Var<T>) {
        let packed = fused_sequence(
            CellKind::Lstm,
            self,
            h0,
            Some(c0),
            w_ih,
            w_hh,
            b_ih,
            b_hh,
            reverse,
        );
        let (out, mut finals) = unpack(&packed, self.shape()[0], 2);
        let c_n = finals.pop().expect("two states");
        let h_n = finals.pop().expect("two states");
        (out, h_n, c_n)
    }

    /// A whole GRU layer (one direction) over a time-major sequence, fused into one tape node.
    ///
    /// Shapes: `self = x: [T, N, I]`, `h0: [N, H]`, `w_ih: [3H, I]`, `w_hh: [3H, H]`,
    /// `b_ih`, `b_hh: [3H]` (gate blocks `r, z, n`). For each step,
    /// `r = σ(W_ir x + b_ir + W_hr h + b_hr)`, `z = σ(W_iz x + b_iz + W_hz h + b_hz)`,
    /// `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`.
    /// Returns `(output [T, N, H], h_n [N, H])`.
    ///
    /// # Panics
    /// If `x` is not 3-D or the state or a weight does not fit.
    pub fn gru_sequence(
        &self,
        h0: &Var<T>,
        w_ih: &Var<T>,
        w_hh: &Var<T>,
        b_ih: Option<&Var<T>>,
        b_hh: Option<&Var<T>>,
        reverse: bool,
    ) -> (Var<T>, Var<T>) {
        let packed = fused_sequence(
            CellKind::Gru,
            self,
            h0,
            None,
            w_ih,
            w_hh,
            b_ih,
            b_hh,
            reverse,
        );
        let (out, mut finals) = unpack(&packed, self.shape()[0], 1);
        (out, finals.pop().expect("one state"))
    }

    /// A whole Elman RNN layer (one direction), fused: `h_t = act(W_ih x_t + b_ih +
    /// W_hh h_{t−1} + b_hh)` with `act = ReLU` if `relu`, else `tanh`.
    ///
    /// Shapes: `self = x: [T, N, I]`, `h0: [N, H]`, `w_ih: [H, I]`, `w_hh: [H, H]`,
    /// `b_ih`, `b_hh: [H]`. Returns `(output [T, N, H], h_n [N, H])`.
    ///
    /// # Panics
    /// If `x` is not 3-D or the state or a weight does not fit.
    #[allow(clippy::too_many_arguments)]
    pub fn rnn_sequence(
        &self,
        h0: &Var<T>,
        w_ih: &Var<T>,
        w_hh: &Var<T>,
        b_ih: Option<&Var<T>>,
        b_hh: Option<&Var<T>>,
        relu: bool,
        reverse: bool,
    ) -> (Var<T>, Var<T>) {
        let kind = if relu {
            CellKind::RnnRelu
        } else {
            CellKind::RnnTanh
        };
        let packed = fused_sequence(kind, self, h0, None, w_ih, w_hh, b_ih, b_hh, reverse);
        let (out, mut finals) = unpack(&packed, self.shape()[0], 1);
        (out, finals.pop().expect("one state"))
    }

    /// One LSTM step: `self = x: [N, I]`, state `(h, c)` each `[N, H]` (`None`: zeros), weights
    /// as [`Var::lstm_sequence`]. Returns `(h', c')`; one fused tape node.
    ///
    /// # Panics
    /// If `x` is not 2-D or a state or weight does not fit.
    pub fn lstm_cell(
        &self,
        state: Option<(&Var<T>, &Var<T>)>,
        w_ih: &Var<T>,
        w_hh: &Var<T>,
        b_ih: Option<&Var<T>>,
        b_hh: Option<&Var<T>>,
    ) -> (Var<T>, Var<T>) {
        let x = self.cell_input("lstm_cell");
        let zero = zero_state(&x, w_hh);
        let (h, c) = state.unwrap_or((&zero, &zero));
        let (_, h, c) = x.lstm_sequence(h, c, w_ih, w_hh, b_ih, b_hh, false);
        (h, c)
    }

    /// One GRU step: `self = x: [N, I]`, `h: [N, H]` (`None`: zeros), weights as
    /// [`Var::gru_sequence`]. Returns `h'`; one fused tape node.
    ///
    /// # Panics
    /// If `x` is not 2-D or the state or a weight does not fit.
    pub fn gru_cell(
        &self,
        h: Option<&Var<T>>,
        w_ih: &Var<T>,
        w_hh: &Var<T>,
        b_ih: Option<&Var<T>>,
        b_hh: Option<&Var<T>>,
    ) -> Var<T> {
        let x = self.cell_input("gru_cell");
        let zero = zero_state(&x, w_hh);
        x.gru_sequence(h.unwrap_or(&zero), w_ih, w_hh, b_ih, b_hh, false)
            .1
    }

    /// One Elman RNN step: `h' = act(W_ih x + b_ih + W_hh h + b_hh)` (`act` = ReLU if `relu`,
    /// else tanh); `self = x: [N, I]`, `h: [N, H]` (`None`: zeros). One fused tape node.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    ///
    /// // One unit: h' = ReLU(w_ih·x + w_hh·h) = ReLU(3·2 − 1·1) = 5.
    /// let scalar = |v: f64| Tensor::<f64>::from_vec(vec![v], &[1, 1]);
    /// let x = Var::constant(scalar(2.0));
    /// let h = Var::leaf(scalar(1.0));
    /// let (w_ih, w_hh) = (Var::leaf(scalar(3.0)), Var::leaf(scalar(-1.0)));
    /// let h1 = x.rnn_cell(Some(&h), &w_ih, &w_hh, None, None, true);
    /// assert_eq!(h1.value().to_vec(), vec![5.0]);
    /// let grads = h1.sum().backward();
    /// assert_eq!(grads.wrt(&w_ih).unwrap().to_vec(), vec![2.0]); // x
    /// assert_eq!(grads.wrt(&w_hh).unwrap().to_vec(), vec![1.0]); // h
    /// assert_eq!(grads.wrt(&h).unwrap().to_vec(), vec![-1.0]); // w_hh
    /// ```
    ///
    /// # Panics
    /// If `x` is not 2-D or the state or a weight does not fit.
    pub fn rnn_cell(
        &self,
        h: Option<&Var<T>>,
        w_ih: &Var<T>,
        w_hh: &Var<T>,
        b_ih: Option<&Var<T>>,
        b_hh: Option<&Var<T>>,
        relu: bool,
    ) -> Var<T> {
        let x = self.cell_input("rnn_cell");
        let zero = zero_state(&x, w_hh);
        x.rnn_sequence(h.unwrap_or(&zero), w_ih, w_hh, b_ih, b_hh, relu, false)
            .1
    }

    /// `[N, I]` → `[1, N, I]` for the single-step ops.
    fn cell_input(&self, op: &str) -> Var<T> {
        assert!(
            self.ndim() == 2,
            "{op}: input {:?} should be [N, I]",
            self.shape()
        );
        self.unsqueeze(0)
    }
}
