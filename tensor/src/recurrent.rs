//! Fused recurrent-cell kernels (Elman RNN, LSTM and GRU) and the sequence drivers built on
//! them.
//!
//! A sequence of `T` steps over a batch of `N` with `I` input features and `H` hidden units
//! runs as:
//! * **one GEMM** for the input projection of every gate over the whole sequence,
//!   `[T·N, I] × [I, G·H]` (`G` = 1 for an RNN, 4 for an LSTM, 3 for a GRU), biases preloaded;
//! * **one GEMM per step** for the recurrent part, `[N, H] × [H, G·H]`, accumulated in place;
//! * **one fused kernel per step** applying every gate nonlinearity and the state update.
//!
//! The backward pass ([`sequence_backward`]) runs back-propagation through time the same way:
//! one fused kernel per step for the gate derivatives, one GEMM per step for `∂L/∂h_{t−1}`,
//! and three GEMMs over the whole sequence for `∂L/∂x`, `∂L/∂W_ih` and `∂L/∂W_hh`.
//!
//! Gate orders and equations are PyTorch's (`σ` the logistic sigmoid, `⊙` elementwise):
//!
//! | cell | gates | update |
//! | --- | --- | --- |
//! | RNN | — | `h' = act(W_ih x + b_ih + W_hh h + b_hh)`, `act` = tanh or ReLU |
//! | LSTM | `i, f, g, o` | `i = σ(·), f = σ(·), g = tanh(·), o = σ(·)` of `W_ih x + b_ih + W_hh h + b_hh`; `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh c'` |
//! | GRU | `r, z, n` | `r = σ(W_ir x + b_ir + W_hr h + b_hr)`, `z = σ(W_iz x + b_iz + W_hz h + b_hz)`, `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h` |
//!
//! Weights are PyTorch's: `w_ih: [G·H, I]`, `w_hh: [G·H, H]`, `b_ih`, `b_hh: [G·H]`, the gate
//! blocks stacked in the order above.

use crate::gemm::{MatMut, MatRef, gemm};
use crate::{Element, Tensor};

/// Which recurrent cell a sequence runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CellKind {
    /// Elman RNN with `tanh`: `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`.
    RnnTanh,
    /// Elman RNN with ReLU: `h' = max(0, W_ih x + b_ih + W_hh h + b_hh)`.
    RnnRelu,
    /// LSTM, gates `i, f, g, o`.
    Lstm,
    /// GRU, gates `r, z, n`.
    Gru,
}

impl CellKind {
    /// Number of gate blocks `G` in the weights (`w_ih: [G·H, I]`): 1, 1, 4, 3.
    pub fn gates(self) -> usize {
        match self {
            CellKind::RnnTanh | CellKind::RnnRelu => 1,
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        }
    }

    /// Whether the cell carries a cell state `c` besides `h` (LSTM only).
    pub fn has_cell_state(self) -> bool {
        self == CellKind::Lstm
    }

    /// Lower-case name for messages (`"lstm"`, `"gru"`, `"rnn_tanh"`, `"rnn_relu"`).
    pub fn name(self) -> &'static str {
        match self {
            CellKind::RnnTanh => "rnn_tanh",
            CellKind::RnnRelu => "rnn_relu",
            CellKind::Lstm => "lstm",
            CellKind::Gru => "gru",
        }
    }

    /// Values saved per step and batch row for the backward pass (LSTM: `i, f, g, o`; GRU:
    /// `r, z, n, W_hn h + b_hn`; RNN: none beyond `h`).
    fn saved(self) -> usize {
        match self {
            CellKind::RnnTanh | CellKind::RnnRelu => 0,
            CellKind::Lstm | CellKind::Gru => 4,
        }
    }
}

/// Row `read` (shared) and row `write` (mutable) of a buffer of rows of `len` elements.
fn rows_pair<T>(buf: &mut [T], len: usize, read: usize, write: usize) -> (&[T], &mut [T]) {
    assert_ne!(read, write, "rows_pair: the same row twice");
    if read < write {
        let (a, b) = buf.split_at_mut(write * len);
        (&a[read * len..(read + 1) * len], &mut b[..len])
    } else {
        let (a, b) = buf.split_at_mut(read * len);
        (&b[..len], &mut a[write * len..(write + 1) * len])
    }
}

/// One LSTM step for a batch, gates fused.
///
/// `pre: [N, 4H]` holds the gate pre-activations `W_ih x + b_ih + W_hh h + b_hh` (blocks
/// `i, f, g, o`); writes `acts: [N, 4H]` = `σ(i), σ(f), tanh(g), σ(o)`, then
/// `c = f ⊙ c_prev + i ⊙ g`, `tanh_c = tanh c` and `h = o ⊙ tanh c` (each `[N, H]`).
///
/// # Panics
/// If the slice lengths do not fit `N = c_prev.len() / H` rows.
pub fn lstm_step_forward<T: Element>(
    pre: &[T],
    c_prev: &[T],
    acts: &mut [T],
    c: &mut [T],
    tanh_c: &mut [T],
    h: &mut [T],
    hidden: usize,
) {
    let hs = hidden;
    let n = c_prev.len() / hs.max(1);
    assert!(
        pre.len() == n * 4 * hs
            && acts.len() == pre.len()
            && c.len() == n * hs
            && tanh_c.len() == c.len()
            && h.len() == c.len(),
        "lstm_step_forward: slices do not fit [{n}, 4·{hs}] gates and [{n}, {hs}] states"
    );
    let k = T::kernels();
    for r in 0..n {
        let p = &pre[r * 4 * hs..(r + 1) * 4 * hs];
        let a = &mut acts[r * 4 * hs..(r + 1) * 4 * hs];
        (k.sigmoid)(&p[..2 * hs], &mut a[..2 * hs]);
        (k.tanh)(&p[2 * hs..3 * hs], &mut a[2 * hs..3 * hs]);
        (k.sigmoid)(&p[3 * hs..], &mut a[3 * hs..]);
        let (i, rest) = a.split_at(hs);
        let (f, g) = (&rest[..hs], &rest[hs..2 * hs]);
        let cp = &c_prev[r * hs..(r + 1) * hs];
        let cr = &mut c[r * hs..(r + 1) * hs];
        for j in 0..hs {
            cr[j] = f[j] * cp[j] + i[j] * g[j];
        }
    }
    (k.tanh)(c, tanh_c);
    for r in 0..n {
        let o = &acts[r * 4 * hs + 3 * hs..(r + 1) * 4 * hs];
        let tc = &tanh_c[r * hs..(r + 1) * hs];
        let hr = &mut h[r * hs..(r + 1) * hs];
        for j in 0..hs {
            hr[j] = o[j] * tc[j];
        }
    }
}

/// The gate derivatives of one LSTM step (the backward of [`lstm_step_forward`]).
///
/// Given the saved `acts: [N, 4H]` (`i, f, g, o`), `c_prev` and `tanh_c` (`[N, H]`), the
/// gradient `dh = ∂L/∂h` and `dc = ∂L/∂c` arriving from later steps, writes the
/// pre-activation gradients `dgates: [N, 4H]`:
/// `dc_t = dc + dh ⊙ o ⊙ (1 − tanh²c)`, `∂i = dc_t ⊙ g ⊙ i(1 − i)`,
/// `∂f = dc_t ⊙ c_prev ⊙ f(1 − f)`, `∂g = dc_t ⊙ i ⊙ (1 − g²)`,
/// `∂o = dh ⊙ tanh c ⊙ o(1 − o)`; and replaces `dc` with `∂L/∂c_prev = dc_t ⊙ f`.
///
/// # Panics
/// If the slice lengths do not fit.
pub fn lstm_step_backward<T: Element>(
    acts: &[T],
    c_prev: &[T],
    tanh_c: &[T],
    dh: &[T],
    dc: &mut [T],
    dgates: &mut [T],
    hidden: usize,
) {
    let hs = hidden;
    let n = c_prev.len() / hs.max(1);
    assert!(
        acts.len() == n * 4 * hs
            && dgates.len() == acts.len()
            && tanh_c.len() == n * hs
            && dh.len() == n * hs
            && dc.len() == n * hs,
        "lstm_step_backward: slices do not fit [{n}, 4·{hs}] gates and [{n}, {hs}] states"
    );
    let one = T::one();
    for r in 0..n {
        let a = &acts[r * 4 * hs..(r + 1) * 4 * hs];
        let d = &mut dgates[r * 4 * hs..(r + 1) * 4 * hs];
        let s = r * hs;
        for j in 0..hs {
            let (i, f, g, o) = (a[j], a[hs + j], a[2 * hs + j], a[3 * hs + j]);
            let tc = tanh_c[s + j];
            let dhj = dh[s + j];
            let dct = dc[s + j] + dhj * o * (one - tc * tc);
            d[j] = dct * g * i * (one - i);
            d[hs + j] = dct * c_prev[s + j] * f * (one - f);
            d[2 * hs + j] = dct * i * (one - g * g);
            d[3 * hs + j] = dhj * tc * o * (one - o);
            dc[s + j] = dct * f;
        }
    }
}

/// One GRU step for a batch, gates fused.
///
/// `gi: [N, 3H]` = `W_ih x + b_ih` and `gh: [N, 3H]` = `W_hh h_prev + b_hh` (blocks `r, z, n`);
/// computes `r = σ(gi_r + gh_r)`, `z = σ(gi_z + gh_z)`, `n = tanh(gi_n + r ⊙ gh_n)`,
/// `h = (1 − z) ⊙ n + z ⊙ h_prev`, and saves `acts: [N, 4H]` = `r, z, n, gh_n`.
///
/// # Panics
/// If the slice lengths do not fit.
pub fn gru_step_forward<T: Element>(
    gi: &[T],
    gh: &[T],
    h_prev: &[T],
    acts: &mut [T],
    h: &mut [T],
    hidden: usize,
) {
    let hs = hidden;
    let n = h_prev.len() / hs.max(1);
    assert!(
        gi.len() == n * 3 * hs
            && gh.len() == gi.len()
            && acts.len() == n * 4 * hs
            && h.len() == n * hs,
        "gru_step_forward: slices do not fit [{n}, 3·{hs}] gates and [{n}, {hs}] states"
    );
    let k = T::kernels();
    let mut pre = crate::storage::zeroed::<T>(3 * hs);
    for r in 0..n {
        let gir = &gi[r * 3 * hs..(r + 1) * 3 * hs];
        let ghr = &gh[r * 3 * hs..(r + 1) * 3 * hs];
        let a = &mut acts[r * 4 * hs..(r + 1) * 4 * hs];
        for j in 0..2 * hs {
            pre[j] = gir[j] + ghr[j];
        }
        (k.sigmoid)(&pre[..2 * hs], &mut a[..2 * hs]);
        for j in 0..hs {
            pre[2 * hs + j] = gir[2 * hs + j] + a[j] * ghr[2 * hs + j];
            a[3 * hs + j] = ghr[2 * hs + j];
        }
        (k.tanh)(&pre[2 * hs..], &mut a[2 * hs..3 * hs]);
        let hp = &h_prev[r * hs..(r + 1) * hs];
        let hr = &mut h[r * hs..(r + 1) * hs];
        for j in 0..hs {
            let (z, nn) = (a[hs + j], a[2 * hs + j]);
            hr[j] = nn + z * (hp[j] - nn);
        }
    }
}

/// The gate derivatives of one GRU step (the backward of [`gru_step_forward`]).
///
/// From the saved `acts: [N, 4H]` (`r, z, n, gh_n`), `h_prev` and `dh = ∂L/∂h`, writes
/// `dgi = ∂L/∂gi` and `dgh = ∂L/∂gh` (`[N, 3H]`) and the direct part of `∂L/∂h_prev`,
/// `dh_prev = dh ⊙ z` (the recurrent part `dgh · W_hh` is added by the caller):
/// `∂n̂ = dh ⊙ (1 − z) ⊙ (1 − n²)`, `∂ẑ = dh ⊙ (h_prev − n) ⊙ z(1 − z)`,
/// `∂r̂ = ∂n̂ ⊙ gh_n ⊙ r(1 − r)`; `dgi = (∂r̂, ∂ẑ, ∂n̂)`, `dgh = (∂r̂, ∂ẑ, ∂n̂ ⊙ r)`.
///
/// # Panics
/// If the slice lengths do not fit.
pub fn gru_step_backward<T: Element>(
    acts: &[T],
    h_prev: &[T],
    dh: &[T],
    dgi: &mut [T],
    dgh: &mut [T],
    dh_prev: &mut [T],
    hidden: usize,
) {
    let hs = hidden;
    let n = h_prev.len() / hs.max(1);
    assert!(
        acts.len() == n * 4 * hs
            && dgi.len() == n * 3 * hs
            && dgh.len() == dgi.len()
            && dh.len() == n * hs
            && dh_prev.len() == n * hs,
        "gru_step_backward: slices do not fit [{n}, 3·{hs}] gates and [{n}, {hs}] states"
    );
    let one = T::one();
    for r in 0..n {
        let a = &acts[r * 4 * hs..(r + 1) * 4 * hs];
        let di = &mut dgi[r * 3 * hs..(r + 1) * 3 * hs];
        let dg = &mut dgh[r * 3 * hs..(r + 1) * 3 * hs];
        let s = r * hs;
        for j in 0..hs {
            let (rg, z, nn, ghn) = (a[j], a[hs + j], a[2 * hs + j], a[3 * hs + j]);
            let d = dh[s + j];
            let dn = d * (one - z) * (one - nn * nn);
            let dz = d * (h_prev[s + j] - nn) * z * (one - z);
            let dr = dn * ghn * rg * (one - rg);
            di[j] = dr;
            di[hs + j] = dz;
            di[2 * hs + j] = dn;
            dg[j] = dr;
            dg[hs + j] = dz;
            dg[2 * hs + j] = dn * rg;
            dh_prev[s + j] = d * z;
        }
    }
}

/// One Elman RNN step in place: `pre: [N, H]` pre-activations → `h = act(pre)`.
fn rnn_step_forward<T: Element>(kind: CellKind, pre: &[T], h: &mut [T]) {
    let k = T::kernels();
    match kind {
        CellKind::RnnRelu => (k.relu)(pre, h),
        _ => (k.tanh)(pre, h),
    }
}

/// The pre-activation gradient of an Elman RNN step: `dpre = dh ⊙ act'(·)`, from `h`
/// (`1 − h²` for tanh, `[h > 0]` for ReLU).
fn rnn_step_backward<T: Element>(kind: CellKind, h: &[T], dh: &[T], dpre: &mut [T]) {
    let one = T::one();
    for ((d, &hv), &g) in dpre.iter_mut().zip(h).zip(dh) {
        *d = match kind {
            CellKind::RnnRelu => {
                if hv > T::zero() {
                    g
                } else {
                    T::zero()
                }
            }
            _ => g * (one - hv * hv),
        };
    }
}

/// The weights of one layer and direction, PyTorch's layout: `w_ih: [G·H, I]`,
/// `w_hh: [G·H, H]`, `b_ih`, `b_hh: [G·H]` (gate blocks in the order of [`CellKind`]).
#[derive(Clone, Copy, Debug)]
pub struct SequenceWeights<'a, T: Element> {
    /// Input-to-hidden weights `[G·H, I]`.
    pub w_ih: &'a Tensor<T>,
    /// Hidden-to-hidden weights `[G·H, H]`.
    pub w_hh: &'a Tensor<T>,
    /// Input-to-hidden bias `[G·H]`.
    pub b_ih: Option<&'a Tensor<T>>,
    /// Hidden-to-hidden bias `[G·H]`.
    pub b_hh: Option<&'a Tensor<T>>,
}

/// The result of [`sequence_forward`]: the outputs and final states, and everything the
/// backward pass needs.
#[derive(Clone, Debug)]
pub struct SequenceForward<T: Element> {
    kind: CellKind,
    reverse: bool,
    steps: usize,
    batch: usize,
    input: usize,
    hidden: usize,
    /// `[T + 1, N, H]`: `h0` and the hidden state after every step, in time order (`h0` first
    /// for a forward sequence, last for a reversed one).
    hbuf: Vec<T>,
    /// The same for the cell state (LSTM only).
    cbuf: Vec<T>,
    /// `[T, N, 4H]` saved gate activations (LSTM, GRU).
    acts: Vec<T>,
    /// `[T, N, H]` `tanh c_t` (LSTM).
    tanh_c: Vec<T>,
}

impl<T: Element> SequenceForward<T> {
    fn row(&self) -> usize {
        self.batch * self.hidden
    }

    /// Index in `hbuf` of the state after step `t`.
    fn out_row(&self, t: usize) -> usize {
        if self.reverse { t } else { t + 1 }
    }

    /// Index in `hbuf` of the state entering step `t`.
    fn prev_row(&self, t: usize) -> usize {
        if self.reverse { t + 1 } else { t }
    }

    /// The cell kind.
    pub fn kind(&self) -> CellKind {
        self.kind
    }

    /// `(T, N, I, H)`.
    pub fn dims(&self) -> (usize, usize, usize, usize) {
        (self.steps, self.batch, self.input, self.hidden)
    }

    /// The hidden state after every step, `[T, N, H]` in time order (for a reversed sequence,
    /// output `t` is the state after reading `x_{T−1} … x_t`, as PyTorch's reverse direction).
    pub fn output(&self) -> Tensor<T> {
        let start = if self.reverse { 0 } else { self.row() };
        let len = self.steps * self.row();
        Tensor::from_vec(
            self.hbuf[start..start + len].to_vec(),
            &[self.steps, self.batch, self.hidden],
        )
    }

    /// The final hidden state `h_n: [N, H]` (the state after the last step processed).
    pub fn h_n(&self) -> Tensor<T> {
        let r = if self.reverse { 0 } else { self.steps };
        let row = self.row();
        Tensor::from_vec(
            self.hbuf[r * row..(r + 1) * row].to_vec(),
            &[self.batch, self.hidden],
        )
    }

    /// The final cell state `c_n: [N, H]` (LSTM), else `None`.
    pub fn c_n(&self) -> Option<Tensor<T>> {
        self.kind.has_cell_state().then(|| {
            let r = if self.reverse { 0 } else { self.steps };
            let row = self.row();
            Tensor::from_vec(
                self.cbuf[r * row..(r + 1) * row].to_vec(),
                &[self.batch, self.hidden],
            )
        })
    }

    /// Output, `h_n` and (LSTM) `c_n` packed in one tensor `[T + 1 (+ 1), N, H]`: rows `0..T`
    /// are the output, row `T` is `h_n`, row `T + 1` is `c_n`.
    pub fn packed(&self) -> Tensor<T> {
        let row = self.row();
        let extra = if self.kind.has_cell_state() { 2 } else { 1 };
        let mut data = crate::storage::with_capacity::<T>((self.steps + extra) * row);
        let start = if self.reverse { 0 } else { row };
        data.extend_from_slice(&self.hbuf[start..start + self.steps * row]);
        let last = if self.reverse { 0 } else { self.steps };
        data.extend_from_slice(&self.hbuf[last * row..(last + 1) * row]);
        if self.kind.has_cell_state() {
            data.extend_from_slice(&self.cbuf[last * row..(last + 1) * row]);
        }
        Tensor::from_vec(data, &[self.steps + extra, self.batch, self.hidden])
    }
}

impl<T: Element> Drop for SequenceForward<T> {
    /// Returns the saved buffers to this thread's buffer cache for the next sequence.
    fn drop(&mut self) {
        for buf in [
            std::mem::take(&mut self.hbuf),
            std::mem::take(&mut self.cbuf),
            std::mem::take(&mut self.acts),
            std::mem::take(&mut self.tanh_c),
        ] {
            crate::storage::recycle(buf);
        }
    }
}

/// The gradients returned by [`sequence_backward`], each of its input's shape.
#[derive(Clone, Debug)]
pub struct SequenceGrads<T: Element> {
    /// `∂L/∂x: [T, N, I]` (`None` when not requested).
    pub x: Option<Tensor<T>>,
    /// `∂L/∂h0: [N, H]`.
    pub h0: Tensor<T>,
    /// `∂L/∂c0: [N, H]` (LSTM).
    pub c0: Option<Tensor<T>>,
    /// `∂L/∂W_ih: [G·H, I]`.
    pub w_ih: Tensor<T>,
    /// `∂L/∂W_hh: [G·H, H]`.
    pub w_hh: Tensor<T>,
    /// `∂L/∂b_ih: [G·H]`.
    pub b_ih: Tensor<T>,
    /// `∂L/∂b_hh: [G·H]`.
    pub b_hh: Tensor<T>,
}

fn check_weights<T: Element>(kind: CellKind, input: usize, hidden: usize, w: &SequenceWeights<T>) {
    let gh = kind.gates() * hidden;
    let name = kind.name();
    assert!(
        w.w_ih.shape() == [gh, input],
        "{name}: weight_ih {:?} should be [{gh}, {input}] for input size {input} and hidden size {hidden}",
        w.w_ih.shape()
    );
    assert!(
        w.w_hh.shape() == [gh, hidden],
        "{name}: weight_hh {:?} should be [{gh}, {hidden}] for hidden size {hidden}",
        w.w_hh.shape()
    );
    for (label, b) in [("bias_ih", w.b_ih), ("bias_hh", w.b_hh)] {
        if let Some(b) = b {
            assert!(
                b.shape() == [gh],
                "{name}: {label} {:?} should be [{gh}]",
                b.shape()
            );
        }
    }
}

/// Runs a whole sequence through one recurrent layer (one direction), fused.
///
/// `x: [T, N, I]` (time-major), `h0: [N, H]`, `c0: [N, H]` (LSTM only; `None` means zeros),
/// weights as [`SequenceWeights`]. With `reverse`, the steps run from `t = T − 1` down to 0
/// (the backward direction of a bidirectional layer). The input projection of all steps is
/// one GEMM `[T·N, I] × [I, G·H]`; each step adds `h_{t−1}·W_hhᵀ` with one GEMM and applies
/// the fused gate kernel ([`lstm_step_forward`], [`gru_step_forward`], or `tanh`/ReLU).
///
/// # Panics
/// If `x` is not 3-D, or `h0`, `c0` or a weight does not fit (the message names the cell and
/// the shapes).
pub fn sequence_forward<T: Element>(
    kind: CellKind,
    x: &Tensor<T>,
    h0: &Tensor<T>,
    c0: Option<&Tensor<T>>,
    w: &SequenceWeights<T>,
    reverse: bool,
) -> SequenceForward<T> {
    let name = kind.name();
    assert!(
        x.ndim() == 3,
        "{name}: input {:?} should be [T, N, I] (time-major)",
        x.shape()
    );
    let (steps, batch, input) = (x.shape()[0], x.shape()[1], x.shape()[2]);
    assert!(
        h0.ndim() == 2 && h0.shape()[0] == batch,
        "{name}: h0 {:?} should be [{batch}, H] for input {:?}",
        h0.shape(),
        x.shape()
    );
    let hidden = h0.shape()[1];
    check_weights(kind, input, hidden, w);
    if let Some(c0) = c0 {
        assert!(
            c0.shape() == [batch, hidden],
            "{name}: c0 {:?} should be [{batch}, {hidden}] for input {:?}",
            c0.shape(),
            x.shape()
        );
    }
    let g = kind.gates();
    let gh = g * hidden;
    let row = batch * hidden;
    let x = x.contiguous();
    let xs = x.as_slice().expect("contiguous");
    let w_ih = w.w_ih.contiguous();
    let wi = w_ih.as_slice().expect("contiguous");

    // Input projection of every step: pre = x·W_ihᵀ + bias, [T·N, G·H].
    let bias_row: Vec<T> = {
        let mut b = crate::storage::zeroed::<T>(gh);
        let mut add = |t: Option<&Tensor<T>>| {
            if let Some(t) = t {
                for (o, v) in b.iter_mut().zip(t.to_vec()) {
                    *o = *o + v;
                }
            }
        };
        add(w.b_ih);
        if kind != CellKind::Gru {
            add(w.b_hh);
        }
        b
    };
    let mut pre = crate::storage::stale(steps * batch * gh);
    for r in pre.chunks_exact_mut(gh) {
        r.copy_from_slice(&bias_row);
    }
    gemm(
        T::one(),
        MatRef::row_major(xs, steps * batch, input),
        MatRef::row_major(wi, gh, input).t(),
        T::one(),
        MatMut::row_major(&mut pre, steps * batch, gh),
    );

    let mut f = SequenceForward {
        kind,
        reverse,
        steps,
        batch,
        input,
        hidden,
        hbuf: crate::storage::stale((steps + 1) * row),
        cbuf: Vec::new(),
        acts: crate::storage::stale(steps * batch * hidden * kind.saved()),
        tanh_c: Vec::new(),
    };
    let first = if reverse { steps } else { 0 };
    f.hbuf[first * row..(first + 1) * row].copy_from_slice(&h0.to_vec());
    if kind.has_cell_state() {
        f.cbuf = crate::storage::stale((steps + 1) * row);
        let c_first = &mut f.cbuf[first * row..(first + 1) * row];
        match c0 {
            Some(c0) => c_first.copy_from_slice(&c0.to_vec()),
            None => c_first.fill(T::zero()),
        }
        f.tanh_c = crate::storage::stale(steps * row);
    }
    let gh_bias: Vec<T> = match (kind, w.b_hh) {
        (CellKind::Gru, Some(b)) => b.to_vec(),
        _ => crate::storage::zeroed::<T>(gh),
    };
    // `W_hhᵀ` as a row-major `[H, G·H]` copy, made once: each step's GEMM then reads it in
    // place instead of packing (transposing) `W_hh` again at every step.
    let wh_t = w.w_hh.t().contiguous();
    let wh_t = wh_t.as_slice().expect("contiguous");
    let mut ghbuf = crate::storage::zeroed::<T>(batch * gh);
    let saved = kind.saved() * hidden * batch;
    for s in 0..steps {
        let t = if reverse { steps - 1 - s } else { s };
        let (p, q) = (f.prev_row(t), f.out_row(t));
        let pre_t = &mut pre[t * batch * gh..(t + 1) * batch * gh];
        match kind {
            CellKind::Gru => {
                for r in 0..batch {
                    ghbuf[r * gh..(r + 1) * gh].copy_from_slice(&gh_bias);
                }
                gemm(
                    T::one(),
                    MatRef::row_major(&f.hbuf[p * row..(p + 1) * row], batch, hidden),
                    MatRef::row_major(wh_t, hidden, gh),
                    T::one(),
                    MatMut::row_major(&mut ghbuf, batch, gh),
                );
                let (hp, h) = rows_pair(&mut f.hbuf, row, p, q);
                gru_step_forward(
                    pre_t,
                    &ghbuf,
                    hp,
                    &mut f.acts[t * saved..(t + 1) * saved],
                    h,
                    hidden,
                );
            }
            _ => {
                gemm(
                    T::one(),
                    MatRef::row_major(&f.hbuf[p * row..(p + 1) * row], batch, hidden),
                    MatRef::row_major(wh_t, hidden, gh),
                    T::one(),
                    MatMut::row_major(pre_t, batch, gh),
                );
                if kind == CellKind::Lstm {
                    let (cp, c) = rows_pair(&mut f.cbuf, row, p, q);
                    lstm_step_forward(
                        pre_t,
                        cp,
                        &mut f.acts[t * saved..(t + 1) * saved],
                        c,
                        &mut f.tanh_c[t * row..(t + 1) * row],
                        &mut f.hbuf[q * row..(q + 1) * row],
                        hidden,
                    );
                } else {
                    rnn_step_forward(kind, pre_t, &mut f.hbuf[q * row..(q + 1) * row]);
                }
            }
        }
    }
    crate::storage::recycle(pre);
    f
}

/// Column sums of a row-major `[rows, cols]` slice.
fn column_sums<T: Element>(m: &[T], cols: usize) -> Vec<T> {
    let mut out = crate::storage::zeroed::<T>(cols);
    let add = T::kernels().add_assign;
    for r in m.chunks_exact(cols) {
        add(&mut out, r);
    }
    out
}

/// Back-propagation through time for a sequence run by [`sequence_forward`].
///
/// `x` and `w` are the forward's inputs; `g_out: [T, N, H]`, `g_hn: [N, H]` and (LSTM)
/// `g_cn: [N, H]` are the gradients of the output, the final hidden state and the final cell
/// state, given as row-major slices (`None` means zeros). Per step (in reverse processing
/// order): the fused gate derivative kernel ([`lstm_step_backward`], [`gru_step_backward`],
/// or `act'`), then `∂L/∂h_{t−1} = ∂gates·W_hh` (one GEMM). Then, over the whole sequence,
/// `∂L/∂W_ih = ∂gatesᵀ·x`, `∂L/∂W_hh = ∂gatesᵀ·h_{prev}`, `∂L/∂x = ∂gates·W_ih` (three GEMMs)
/// and the bias gradients as column sums. `need_x = false` skips `∂L/∂x`.
///
/// # Panics
/// If a gradient slice has the wrong length.
pub fn sequence_backward<T: Element>(
    fwd: &SequenceForward<T>,
    x: &Tensor<T>,
    w: &SequenceWeights<T>,
    g_out: Option<&[T]>,
    g_hn: Option<&[T]>,
    g_cn: Option<&[T]>,
    need_x: bool,
) -> SequenceGrads<T> {
    let kind = fwd.kind;
    let (steps, batch, input, hidden) = fwd.dims();
    let (g, row) = (kind.gates(), batch * hidden);
    let gh = g * hidden;
    let name = kind.name();
    for (label, s, len) in [
        ("output gradient", g_out, steps * row),
        ("h_n gradient", g_hn, row),
        ("c_n gradient", g_cn, row),
    ] {
        if let Some(s) = s {
            assert!(
                s.len() == len,
                "{name} backward: {label} has {} elements, expected {len} ([{steps}, {batch}, {hidden}] output)",
                s.len()
            );
        }
    }
    let w_ih = w.w_ih.contiguous();
    let w_hh = w.w_hh.contiguous();
    let (wi, wh) = (
        w_ih.as_slice().expect("contiguous"),
        w_hh.as_slice().expect("contiguous"),
    );
    let saved = kind.saved() * row;
    let mut dgi = crate::storage::stale(steps * batch * gh);
    let mut dgh = if kind == CellKind::Gru {
        crate::storage::stale(steps * batch * gh)
    } else {
        Vec::new()
    };
    let mut dh_run = g_hn.map_or_else(|| crate::storage::zeroed::<T>(row), <[T]>::to_vec);
    let mut dc_run = if kind.has_cell_state() {
        g_cn.map_or_else(|| crate::storage::zeroed::<T>(row), <[T]>::to_vec)
    } else {
        Vec::new()
    };
    let mut dh = crate::storage::zeroed::<T>(row);
    let add = T::kernels().add;
    for s in 0..steps {
        let t = if fwd.reverse { s } else { steps - 1 - s };
        match g_out {
            Some(go) => add(&go[t * row..(t + 1) * row], &dh_run, &mut dh),
            None => dh.copy_from_slice(&dh_run),
        }
        let (p, q) = (fwd.prev_row(t), fwd.out_row(t));
        let dg_t = &mut dgi[t * batch * gh..(t + 1) * batch * gh];
        match kind {
            CellKind::Lstm => {
                lstm_step_backward(
                    &fwd.acts[t * saved..(t + 1) * saved],
                    &fwd.cbuf[p * row..(p + 1) * row],
                    &fwd.tanh_c[t * row..(t + 1) * row],
                    &dh,
                    &mut dc_run,
                    dg_t,
                    hidden,
                );
            }
            CellKind::Gru => {
                let dgh_t = &mut dgh[t * batch * gh..(t + 1) * batch * gh];
                gru_step_backward(
                    &fwd.acts[t * saved..(t + 1) * saved],
                    &fwd.hbuf[p * row..(p + 1) * row],
                    &dh,
                    dg_t,
                    dgh_t,
                    &mut dh_run,
                    hidden,
                );
                gemm(
                    T::one(),
                    MatRef::row_major(dgh_t, batch, gh),
                    MatRef::row_major(wh, gh, hidden),
                    T::one(),
                    MatMut::row_major(&mut dh_run, batch, hidden),
                );
                continue;
            }
            _ => rnn_step_backward(kind, &fwd.hbuf[q * row..(q + 1) * row], &dh, dg_t),
        }
        gemm(
            T::one(),
            MatRef::row_major(dg_t, batch, gh),
            MatRef::row_major(wh, gh, hidden),
            T::zero(),
            MatMut::row_major(&mut dh_run, batch, hidden),
        );
    }
    let dgh_all: &[T] = if kind == CellKind::Gru { &dgh } else { &dgi };
    let rows = steps * batch;
    let x = x.contiguous();
    let xs = x.as_slice().expect("contiguous");
    assert!(
        xs.len() == rows * input,
        "{name} backward: input {:?} does not match the forward's [{steps}, {batch}, {input}]",
        x.shape()
    );
    let mut dw_ih = crate::storage::stale::<T>(gh * input);
    gemm(
        T::one(),
        MatRef::row_major(&dgi, rows, gh).t(),
        MatRef::row_major(xs, rows, input),
        T::zero(),
        MatMut::row_major(&mut dw_ih, gh, input),
    );
    let hstart = if fwd.reverse { row } else { 0 };
    let mut dw_hh = crate::storage::stale::<T>(gh * hidden);
    gemm(
        T::one(),
        MatRef::row_major(dgh_all, rows, gh).t(),
        MatRef::row_major(&fwd.hbuf[hstart..hstart + steps * row], rows, hidden),
        T::zero(),
        MatMut::row_major(&mut dw_hh, gh, hidden),
    );
    let dx = need_x.then(|| {
        let mut dx = crate::storage::stale::<T>(rows * input);
        gemm(
            T::one(),
            MatRef::row_major(&dgi, rows, gh),
            MatRef::row_major(wi, gh, input),
            T::zero(),
            MatMut::row_major(&mut dx, rows, input),
        );
        Tensor::from_vec(dx, &[steps, batch, input])
    });
    let b_ih = Tensor::from_vec(column_sums(&dgi, gh), &[gh]);
    let b_hh = Tensor::from_vec(column_sums(dgh_all, gh), &[gh]);
    crate::storage::recycle(dgi);
    crate::storage::recycle(dgh);
    SequenceGrads {
        x: dx,
        h0: Tensor::from_vec(dh_run, &[batch, hidden]),
        c0: kind
            .has_cell_state()
            .then(|| Tensor::from_vec(dc_run, &[batch, hidden])),
        w_ih: Tensor::from_vec(dw_ih, &[gh, input]),
        w_hh: Tensor::from_vec(dw_hh, &[gh, hidden]),
        b_ih,
        b_hh,
    }
}

/// A sequence run by [`fused_sequence_forward`]: the batch split into chunks that ran in
/// parallel (one chunk on a single thread).
#[derive(Debug)]
pub struct FusedSequence<T: Element> {
    kind: CellKind,
    steps: usize,
    batch: usize,
    hidden: usize,
    /// `(first batch row, rows, forward state)` per chunk.
    parts: Vec<(usize, usize, SequenceForward<T>)>,
}

/// Batch rows per chunk below which a sequence is not split further.
const MIN_CHUNK_ROWS: usize = 16;

/// [`sequence_forward`] over the thread pool: the batch rows are independent through the
/// whole recurrence, so the batch is split into one chunk per thread (each at least 16 rows)
/// and each chunk runs its own sequence — its own GEMMs and gate kernels — with no
/// synchronisation between steps. On one thread it is exactly [`sequence_forward`].
///
/// # Panics
/// As [`sequence_forward`].
pub fn fused_sequence_forward<T: Element>(
    kind: CellKind,
    x: &Tensor<T>,
    h0: &Tensor<T>,
    c0: Option<&Tensor<T>>,
    w: &SequenceWeights<T>,
    reverse: bool,
) -> FusedSequence<T> {
    use rayon::prelude::*;
    let name = kind.name();
    assert!(
        x.ndim() == 3,
        "{name}: input {:?} should be [T, N, I] (time-major)",
        x.shape()
    );
    let (steps, batch) = (x.shape()[0], x.shape()[1]);
    let chunks = crate::determinism::work_split(true)
        .min(batch / MIN_CHUNK_ROWS)
        .max(1);
    let bounds: Vec<(usize, usize)> = (0..chunks)
        .map(|c| {
            let start = c * batch / chunks;
            (start, (c + 1) * batch / chunks - start)
        })
        .collect();
    let run = |&(start, rows): &(usize, usize)| {
        let f = if chunks == 1 {
            sequence_forward(kind, x, h0, c0, w, reverse)
        } else {
            assert!(
                h0.ndim() == 2 && h0.shape()[0] == batch,
                "{name}: h0 {:?} should be [{batch}, H] for input {:?}",
                h0.shape(),
                x.shape()
            );
            let c0 = c0.map(|c| {
                assert!(
                    c.ndim() == 2 && c.shape()[0] == batch,
                    "{name}: c0 {:?} should be [{batch}, H] for input {:?}",
                    c.shape(),
                    x.shape()
                );
                c.narrow(0, start, rows)
            });
            sequence_forward(
                kind,
                &x.narrow(1, start, rows),
                &h0.narrow(0, start, rows),
                c0.as_ref(),
                w,
                reverse,
            )
        };
        (start, rows, f)
    };
    let parts: Vec<_> = if chunks == 1 {
        bounds.iter().map(run).collect()
    } else {
        bounds.par_iter().map(run).collect()
    };
    let hidden = parts[0].2.hidden;
    FusedSequence {
        kind,
        steps,
        batch,
        hidden,
        parts,
    }
}

impl<T: Element> FusedSequence<T> {
    /// `(T, N, H)`.
    pub fn dims(&self) -> (usize, usize, usize) {
        (self.steps, self.batch, self.hidden)
    }

    /// Output, `h_n` and (LSTM) `c_n` packed as `[T + 1 (+ 1), N, H]` (see
    /// [`SequenceForward::packed`]).
    pub fn packed(&self) -> Tensor<T> {
        if self.parts.len() == 1 {
            return self.parts[0].2.packed();
        }
        let packed: Vec<Tensor<T>> = self.parts.iter().map(|(_, _, f)| f.packed()).collect();
        Tensor::concat(&packed.iter().collect::<Vec<_>>(), 1)
    }

    /// Back-propagation through time from the gradient `g` of [`FusedSequence::packed`],
    /// chunk by chunk in parallel (see [`sequence_backward`]); the weight gradients of the
    /// chunks are summed.
    ///
    /// # Panics
    /// If `g` does not have the packed shape.
    pub fn backward(
        &self,
        x: &Tensor<T>,
        w: &SequenceWeights<T>,
        g: &Tensor<T>,
        need_x: bool,
    ) -> SequenceGrads<T> {
        use rayon::prelude::*;
        let extra = if self.kind.has_cell_state() { 2 } else { 1 };
        let expected = [self.steps + extra, self.batch, self.hidden];
        assert!(
            g.shape() == expected,
            "{} backward: gradient {:?} should be {expected:?}",
            self.kind.name(),
            g.shape()
        );
        let single = self.parts.len() == 1;
        let run = |(start, rows, f): &(usize, usize, SequenceForward<T>)| {
            let (gp, xp) = if single {
                (g.contiguous(), x.clone())
            } else {
                (
                    g.narrow(1, *start, *rows).contiguous(),
                    x.narrow(1, *start, *rows),
                )
            };
            let gs = gp.as_slice().expect("contiguous");
            let row = rows * self.hidden;
            let t = self.steps;
            sequence_backward(
                f,
                &xp,
                w,
                Some(&gs[..t * row]),
                Some(&gs[t * row..(t + 1) * row]),
                self.kind
                    .has_cell_state()
                    .then(|| &gs[(t + 1) * row..(t + 2) * row]),
                need_x,
            )
        };
        let mut grads: Vec<SequenceGrads<T>> = if single {
            self.parts.iter().map(run).collect()
        } else {
            self.parts.par_iter().map(run).collect()
        };
        if single {
            return grads.pop().expect("one part");
        }
        let cat = |ts: Vec<&Tensor<T>>, axis: usize| Tensor::concat(&ts, axis);
        let x_grad = need_x.then(|| {
            cat(
                grads
                    .iter()
                    .map(|g| g.x.as_ref().expect("requested"))
                    .collect(),
                1,
            )
        });
        let h0 = cat(grads.iter().map(|g| &g.h0).collect(), 0);
        let c0 = self.kind.has_cell_state().then(|| {
            cat(
                grads.iter().map(|g| g.c0.as_ref().expect("lstm")).collect(),
                0,
            )
        });
        let mut first = grads.remove(0);
        for g in &grads {
            first.w_ih.add_(&g.w_ih);
            first.w_hh.add_(&g.w_hh);
            first.b_ih.add_(&g.b_ih);
            first.b_hh.add_(&g.b_hh);
        }
        SequenceGrads {
            x: x_grad,
            h0,
            c0,
            ..first
        }
    }
}
