//! Recurrent layers: [`Rnn`], [`Lstm`], [`Gru`] and their single-step cells [`RnnCell`],
//! [`LstmCell`], [`GruCell`], with PyTorch's conventions and parameter names.
//!
//! Equations (`σ` the logistic sigmoid, `⊙` elementwise, gate blocks stacked in this order in
//! the weights):
//! - RNN: `h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)`, `act` = tanh (default) or ReLU;
//! - LSTM, gates `i, f, g, o`: `i = σ(·)`, `f = σ(·)`, `g = tanh(·)`, `o = σ(·)` of
//!   `W_ih x_t + b_ih + W_hh h_{t−1} + b_hh`; `c_t = f ⊙ c_{t−1} + i ⊙ g`, `h_t = o ⊙ tanh c_t`;
//! - GRU, gates `r, z, n`: `r = σ(W_ir x + b_ir + W_hr h + b_hr)`,
//!   `z = σ(W_iz x + b_iz + W_hz h + b_hz)`, `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`,
//!   `h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}`.
//!
//! Each layer and direction of a sequence runs as one fused tape node
//! ([`Var::lstm_sequence`] and friends): one GEMM for the input projection of all steps, one
//! GEMM and one fused gate kernel per step, and back-propagation through time with GEMMs.
//!
//! # Truncated back-propagation through time
//!
//! Gradients flow through the whole sequence given to one `forward`. To train on a long
//! stream in chunks, carry the final state into the next chunk **detached**, so each backward
//! pass stops at the chunk boundary:
//!
//! ```
//! use strata_autograd::Var;
//! use strata_layers::recurrent::Lstm;
//! use strata_tensor::Tensor;
//!
//! let mut lstm = Lstm::<f32>::new(3, 5);
//! let mut state: Option<(Var, Var)> = None;
//! for _chunk in 0..2 {
//!     let x = Var::constant(Tensor::zeros(&[4, 2, 3])); // [T, N, I]
//!     let (out, (h, c)) = lstm.forward_with_state(&x, state.as_ref().map(|(h, c)| (h, c)));
//!     let loss = out.square().sum();
//!     let _grads = loss.backward(); // BPTT over this chunk only
//!     state = Some((h.detach(), c.detach()));
//! }
//! ```

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::{Param, Var};
use strata_tensor::recurrent::CellKind;
use strata_tensor::{Element, Tensor};

use crate::{Init, Module, module_parts};

/// The nonlinearity of an Elman [`Rnn`] or [`RnnCell`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RnnNonlinearity {
    /// `tanh` (PyTorch's default).
    #[default]
    Tanh,
    /// `max(0, ·)`.
    Relu,
}

/// Configuration of a multi-layer recurrent network ([`Rnn`], [`Lstm`], [`Gru`]), PyTorch's
/// constructor arguments.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecurrentConfig {
    /// Features per step of the input, `I`.
    pub input_size: usize,
    /// Hidden units per layer and direction, `H`.
    pub hidden_size: usize,
    /// Stacked layers `L` (layer `k > 0` reads layer `k − 1`'s output).
    pub num_layers: usize,
    /// Whether the layers have `bias_ih` and `bias_hh`.
    pub bias: bool,
    /// Inputs and outputs are `[N, T, ·]` (else `[T, N, ·]`, the default).
    pub batch_first: bool,
    /// Dropout on the outputs of every layer but the last (training only).
    pub dropout: f64,
    /// Run a second, reversed direction per layer and concatenate the two outputs
    /// (`[.., 2H]`).
    pub bidirectional: bool,
    /// Nonlinearity of an [`Rnn`] (ignored by LSTM and GRU).
    pub nonlinearity: RnnNonlinearity,
}

impl RecurrentConfig {
    /// One unidirectional layer with biases, time-major, no dropout, tanh.
    pub fn new(input_size: usize, hidden_size: usize) -> Self {
        RecurrentConfig {
            input_size,
            hidden_size,
            num_layers: 1,
            bias: true,
            batch_first: false,
            dropout: 0.0,
            bidirectional: false,
            nonlinearity: RnnNonlinearity::Tanh,
        }
    }

    /// Sets the number of stacked layers.
    pub fn with_num_layers(mut self, n: usize) -> Self {
        self.num_layers = n;
        self
    }

    /// With or without biases.
    pub fn with_bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }

    /// Batch-first (`[N, T, ·]`) inputs and outputs.
    pub fn with_batch_first(mut self, batch_first: bool) -> Self {
        self.batch_first = batch_first;
        self
    }

    /// Dropout probability between layers.
    pub fn with_dropout(mut self, p: f64) -> Self {
        self.dropout = p;
        self
    }

    /// Bidirectional layers.
    pub fn with_bidirectional(mut self, bidirectional: bool) -> Self {
        self.bidirectional = bidirectional;
        self
    }

    /// The nonlinearity of an [`Rnn`].
    pub fn with_nonlinearity(mut self, nonlinearity: RnnNonlinearity) -> Self {
        self.nonlinearity = nonlinearity;
        self
    }

    fn directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }
}

/// `U(±1/√hidden)`, PyTorch's initialisation of every recurrent weight and bias.
fn uniform_init<T: Element>(hidden: usize, shape: &[usize]) -> Param<T> {
    let k = 1.0 / (hidden as f64).sqrt();
    Param::new(Init::Uniform { low: -k, high: k }.fill(shape))
}

/// The shared machinery of [`Rnn`], [`Lstm`] and [`Gru`].
struct Stack<T: Element> {
    kind: CellKind,
    config: RecurrentConfig,
    /// Per layer and direction (index `layer·D + direction`): `w_ih, w_hh, [b_ih, b_hh]`.
    params: Vec<Param<T>>,
    names: Vec<String>,
    training: bool,
    rng: StdRng,
}

impl<T: Element> Stack<T> {
    fn new(kind: CellKind, layer: &str, config: RecurrentConfig) -> Self {
        let c = config;
        assert!(
            c.input_size > 0 && c.hidden_size > 0 && c.num_layers > 0,
            "{layer}: input_size, hidden_size and num_layers must be positive, got {}, {}, {}",
            c.input_size,
            c.hidden_size,
            c.num_layers
        );
        assert!(
            (0.0..1.0).contains(&c.dropout),
            "{layer}: dropout {} is outside [0, 1)",
            c.dropout
        );
        let (h, d) = (c.hidden_size, c.directions());
        let gh = kind.gates() * h;
        let mut params = Vec::new();
        let mut names = Vec::new();
        for l in 0..c.num_layers {
            let input = if l == 0 { c.input_size } else { h * d };
            for dir in 0..d {
                let suffix = if dir == 1 { "_reverse" } else { "" };
                params.push(uniform_init(h, &[gh, input]));
                names.push(format!("weight_ih_l{l}{suffix}"));
                params.push(uniform_init(h, &[gh, h]));
                names.push(format!("weight_hh_l{l}{suffix}"));
                if c.bias {
                    params.push(uniform_init(h, &[gh]));
                    names.push(format!("bias_ih_l{l}{suffix}"));
                    params.push(uniform_init(h, &[gh]));
                    names.push(format!("bias_hh_l{l}{suffix}"));
                }
            }
        }
        Stack {
            kind,
            config,
            params,
            names,
            training: true,
            rng: StdRng::seed_from_u64(0x5EC0_4E47),
        }
    }

    fn layer_name(&self) -> &'static str {
        match self.kind {
            CellKind::Lstm => "Lstm",
            CellKind::Gru => "Gru",
            _ => "Rnn",
        }
    }

    /// Runs the stack: `x` as configured, optional `h0`/`c0` `[L·D, N, H]`. Returns the
    /// output, `h_n` and (LSTM) `c_n`.
    fn run(
        &mut self,
        x: &Var<T>,
        h0: Option<&Var<T>>,
        c0: Option<&Var<T>>,
    ) -> (Var<T>, Var<T>, Option<Var<T>>) {
        let c = self.config;
        let layer = self.layer_name();
        let order = if c.batch_first {
            "[N, T, I]"
        } else {
            "[T, N, I]"
        };
        assert!(
            x.ndim() == 3 && x.shape()[2] == c.input_size,
            "{layer}: input {:?} should be {order} with I = input_size = {}",
            x.shape(),
            c.input_size
        );
        let xs = if c.batch_first {
            x.transpose(0, 1)
        } else {
            x.clone()
        };
        let (n, h, d) = (xs.shape()[1], c.hidden_size, c.directions());
        let states = c.num_layers * d;
        for (label, s) in [("h0", h0), ("c0", c0)] {
            if let Some(s) = s {
                assert!(
                    s.shape() == [states, n, h],
                    "{layer}: {label} {:?} should be [num_layers·directions, N, H] = [{states}, {n}, {h}] for input {:?}",
                    s.shape(),
                    x.shape()
                );
            }
        }
        let zero = Var::constant(Tensor::zeros(&[n, h]));
        let per = if c.bias { 4 } else { 2 };
        let mut input = xs;
        let (mut hn, mut cn) = (Vec::new(), Vec::new());
        for l in 0..c.num_layers {
            if l > 0 && c.dropout > 0.0 && self.training {
                input = input.dropout(c.dropout, true, &mut self.rng);
            }
            let mut outs = Vec::with_capacity(d);
            for dir in 0..d {
                let idx = l * d + dir;
                let p = &self.params[idx * per..(idx + 1) * per];
                let (w_ih, w_hh) = (p[0].var(), p[1].var());
                let (b_ih, b_hh) = if c.bias {
                    (Some(p[2].var()), Some(p[3].var()))
                } else {
                    (None, None)
                };
                let hs = h0.map_or_else(|| zero.clone(), |s| s.select(0, idx));
                let reverse = dir == 1;
                let (out, h_n) = match self.kind {
                    CellKind::Lstm => {
                        let cs = c0.map_or_else(|| zero.clone(), |s| s.select(0, idx));
                        let (out, h_n, c_n) = input.lstm_sequence(
                            &hs,
                            &cs,
                            &w_ih,
                            &w_hh,
                            b_ih.as_ref(),
                            b_hh.as_ref(),
                            reverse,
                        );
                        cn.push(c_n);
                        (out, h_n)
                    }
                    CellKind::Gru => {
                        input.gru_sequence(&hs, &w_ih, &w_hh, b_ih.as_ref(), b_hh.as_ref(), reverse)
                    }
                    kind => input.rnn_sequence(
                        &hs,
                        &w_ih,
                        &w_hh,
                        b_ih.as_ref(),
                        b_hh.as_ref(),
                        kind == CellKind::RnnRelu,
                        reverse,
                    ),
                };
                outs.push(out);
                hn.push(h_n);
            }
            input = if d == 2 {
                Var::concat(&[&outs[0], &outs[1]], 2)
            } else {
                outs.pop().expect("one direction")
            };
        }
        let out = if c.batch_first {
            input.transpose(0, 1)
        } else {
            input
        };
        let stack = |v: &[Var<T>]| Var::stack(&v.iter().collect::<Vec<_>>(), 0);
        let h_n = stack(&hn);
        let c_n = (!cn.is_empty()).then(|| stack(&cn));
        (out, h_n, c_n)
    }

    fn params(&self) -> Vec<(String, &Param<T>)> {
        self.names.iter().cloned().zip(self.params.iter()).collect()
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        self.names
            .iter()
            .cloned()
            .zip(self.params.iter_mut())
            .collect()
    }
}

macro_rules! stack_layer {
    ($name:ident, $kind:expr, $doc:literal) => {
        #[doc = $doc]
        pub struct $name<T: Element = f32> {
            stack: Stack<T>,
        }

        impl<T: Element> $name<T> {
            /// One unidirectional time-major layer from `input_size` to `hidden_size` features,
            /// with biases; every weight and bias `~ U(±1/√hidden_size)` (PyTorch's init).
            ///
            /// # Panics
            /// If a size is 0.
            pub fn new(input_size: usize, hidden_size: usize) -> Self {
                Self::with_config(RecurrentConfig::new(input_size, hidden_size))
            }

            /// A network as `config` describes (layers, directions, batch-first, dropout).
            ///
            /// # Panics
            /// If a size is 0 or the dropout is outside `[0, 1)`.
            pub fn with_config(config: RecurrentConfig) -> Self {
                let kind = match $kind {
                    CellKind::RnnTanh if config.nonlinearity == RnnNonlinearity::Relu => {
                        CellKind::RnnRelu
                    }
                    k => k,
                };
                $name {
                    stack: Stack::new(kind, stringify!($name), config),
                }
            }

            /// The configuration.
            pub fn config(&self) -> &RecurrentConfig {
                &self.stack.config
            }

            /// The parameter named `name` (`weight_ih_l0`, `bias_hh_l1_reverse`, …).
            pub fn param(&self, name: &str) -> Option<&Param<T>> {
                self.stack
                    .names
                    .iter()
                    .position(|n| n == name)
                    .map(|i| &self.stack.params[i])
            }

            /// The parameter named `name`, mutable.
            pub fn param_mut(&mut self, name: &str) -> Option<&mut Param<T>> {
                let i = self.stack.names.iter().position(|n| n == name)?;
                Some(&mut self.stack.params[i])
            }
        }

        impl<T: Element> Module<T> for $name<T> {
            /// The output of the last layer at every step: `[N, T, D·H]` batch-first, else
            /// `[T, N, D·H]` (zero initial state).
            ///
            /// # Panics
            /// If the input is not 3-D with `input_size` features.
            fn forward(&mut self, x: &Var<T>) -> Var<T> {
                crate::record_output(self.stack.run(x, None, None).0, &*self)
            }
            fn params(&self) -> Vec<(String, &Param<T>)> {
                self.stack.params()
            }
            fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
                self.stack.params_mut()
            }
            fn as_any(&self) -> Option<&dyn std::any::Any> {
                Some(self)
            }

            fn set_training(&mut self, training: bool) {
                self.stack.training = training;
            }
            fn is_training(&self) -> bool {
                self.stack.training
            }
            fn reseed(&mut self, seed: u64) {
                self.stack.rng = StdRng::seed_from_u64(seed);
            }
            /// The settings that have no parameters of their own: layout, dropout and, for
            /// an `Rnn`, the nonlinearity (sizes, layers and directions show in the weights).
            fn describe(&self) -> String {
                let c = &self.stack.config;
                let name = stringify!($name);
                let nonlinearity = if name == "Rnn" {
                    format!(", nonlinearity={:?}", c.nonlinearity)
                } else {
                    String::new()
                };
                format!(
                    "{name}(batch_first={}, dropout={}{nonlinearity})",
                    c.batch_first, c.dropout
                )
            }
        }
    };
}

stack_layer!(
    Lstm,
    CellKind::Lstm,
    "A multi-layer LSTM (Hochreiter & Schmidhuber 1997; PyTorch's `nn.LSTM`).\n\n\
     Per layer and direction: `(i, f, g, o) = (σ, σ, tanh, σ)(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)`, \
     `c_t = f ⊙ c_{t−1} + i ⊙ g`, `h_t = o ⊙ tanh c_t`. Input `[T, N, I]` (or `[N, T, I]` \
     batch-first), output `[T, N, D·H]` (`D` = 2 if bidirectional), states `h_n`, `c_n`: \
     `[L·D, N, H]`. Parameters `weight_ih_l{k}: [4H, I_k]`, `weight_hh_l{k}: [4H, H]`, \
     `bias_ih_l{k}`, `bias_hh_l{k}: [4H]` (`_reverse` for the backward direction)."
);
stack_layer!(
    Gru,
    CellKind::Gru,
    "A multi-layer GRU (Cho et al. 2014; PyTorch's `nn.GRU`).\n\n\
     Per layer and direction: `r = σ(W_ir x + b_ir + W_hr h + b_hr)`, `z = σ(W_iz x + b_iz + W_hz h + b_hz)`, \
     `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}`. Input \
     `[T, N, I]` (or `[N, T, I]` batch-first), output `[T, N, D·H]`, state `h_n: [L·D, N, H]`. \
     Parameters `weight_ih_l{k}: [3H, I_k]`, `weight_hh_l{k}: [3H, H]`, `bias_ih_l{k}`, \
     `bias_hh_l{k}: [3H]` (`_reverse` for the backward direction)."
);
stack_layer!(
    Rnn,
    CellKind::RnnTanh,
    "A multi-layer Elman RNN (PyTorch's `nn.RNN`).\n\n\
     Per layer and direction: `h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)`, `act` = tanh \
     or ReLU ([`RecurrentConfig::with_nonlinearity`]). Input `[T, N, I]` (or `[N, T, I]` \
     batch-first), output `[T, N, D·H]`, state `h_n: [L·D, N, H]`. Parameters \
     `weight_ih_l{k}: [H, I_k]`, `weight_hh_l{k}: [H, H]`, `bias_ih_l{k}`, `bias_hh_l{k}: [H]` \
     (`_reverse` for the backward direction)."
);

impl<T: Element> Lstm<T> {
    /// The forward pass with explicit state: `x` as configured, `state = (h0, c0)`, each
    /// `[L·D, N, H]` (`None`: zeros). Returns `(output, (h_n, c_n))`, the output
    /// `[T, N, D·H]` (`[N, T, D·H]` batch-first) and the final states `[L·D, N, H]`
    /// (layer-major, forward direction before reverse, as PyTorch). Detach the returned state
    /// before feeding it to the next chunk for truncated BPTT (see the module docs).
    ///
    /// # Panics
    /// If the input is not 3-D with `input_size` features or a state does not fit.
    pub fn forward_with_state(
        &mut self,
        x: &Var<T>,
        state: Option<(&Var<T>, &Var<T>)>,
    ) -> (Var<T>, (Var<T>, Var<T>)) {
        let (out, h, c) = self.stack.run(x, state.map(|s| s.0), state.map(|s| s.1));
        (out, (h, c.expect("an LSTM has a cell state")))
    }
}

impl<T: Element> Gru<T> {
    /// The forward pass with explicit state: `h0: [L·D, N, H]` (`None`: zeros). Returns
    /// `(output, h_n)` as [`Lstm::forward_with_state`].
    ///
    /// # Panics
    /// If the input is not 3-D with `input_size` features or `h0` does not fit.
    pub fn forward_with_state(&mut self, x: &Var<T>, h0: Option<&Var<T>>) -> (Var<T>, Var<T>) {
        let (out, h, _) = self.stack.run(x, h0, None);
        (out, h)
    }
}

impl<T: Element> Rnn<T> {
    /// The forward pass with explicit state: `h0: [L·D, N, H]` (`None`: zeros). Returns
    /// `(output, h_n)` as [`Lstm::forward_with_state`].
    ///
    /// # Panics
    /// If the input is not 3-D with `input_size` features or `h0` does not fit.
    pub fn forward_with_state(&mut self, x: &Var<T>, h0: Option<&Var<T>>) -> (Var<T>, Var<T>) {
        let (out, h, _) = self.stack.run(x, h0, None);
        (out, h)
    }
}

macro_rules! cell {
    ($name:ident, $gates:expr, $doc:literal) => {
        #[doc = $doc]
        pub struct $name<T: Element = f32> {
            /// `[G·H, I]`.
            pub weight_ih: Param<T>,
            /// `[G·H, H]`.
            pub weight_hh: Param<T>,
            /// `[G·H]`, absent after `without_bias`.
            pub bias_ih: Option<Param<T>>,
            /// `[G·H]`, absent after `without_bias`.
            pub bias_hh: Option<Param<T>>,
        }

        impl<T: Element> $name<T> {
            /// A cell from `input_size` to `hidden_size` with biases, every tensor
            /// `~ U(±1/√hidden_size)` (PyTorch's init).
            ///
            /// # Panics
            /// If a size is 0.
            pub fn new(input_size: usize, hidden_size: usize) -> Self {
                assert!(
                    input_size > 0 && hidden_size > 0,
                    "{}: sizes must be positive, got {input_size} → {hidden_size}",
                    stringify!($name)
                );
                let gh = $gates * hidden_size;
                $name {
                    weight_ih: uniform_init(hidden_size, &[gh, input_size]),
                    weight_hh: uniform_init(hidden_size, &[gh, hidden_size]),
                    bias_ih: Some(uniform_init(hidden_size, &[gh])),
                    bias_hh: Some(uniform_init(hidden_size, &[gh])),
                }
            }

            /// Drops both biases.
            pub fn without_bias(mut self) -> Self {
                self.bias_ih = None;
                self.bias_hh = None;
                self
            }

            /// `hidden_size`.
            pub fn hidden_size(&self) -> usize {
                self.weight_hh.shape()[1]
            }

            /// `input_size`.
            pub fn input_size(&self) -> usize {
                self.weight_ih.shape()[1]
            }

            fn vars(&self) -> (Var<T>, Var<T>, Option<Var<T>>, Option<Var<T>>) {
                (
                    self.weight_ih.var(),
                    self.weight_hh.var(),
                    self.bias_ih.as_ref().map(Param::var),
                    self.bias_hh.as_ref().map(Param::var),
                )
            }

            fn check(&self, x: &Var<T>) {
                assert!(
                    x.ndim() == 2 && x.shape()[1] == self.input_size(),
                    "{}: input {:?} should be [N, {}]",
                    stringify!($name),
                    x.shape(),
                    self.input_size()
                );
            }
        }
    };
}

cell!(
    LstmCell,
    4,
    "One LSTM step (PyTorch's `nn.LSTMCell`), for custom loops: `x: [N, I]`, state `(h, c)`: \
     `[N, H]` each; `(i, f, g, o) = (σ, σ, tanh, σ)(W_ih x + b_ih + W_hh h + b_hh)`, \
     `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh c'`. Parameters `weight_ih: [4H, I]`, \
     `weight_hh: [4H, H]`, `bias_ih`, `bias_hh: [4H]`."
);
cell!(
    GruCell,
    3,
    "One GRU step (PyTorch's `nn.GRUCell`): `x: [N, I]`, `h: [N, H]`; \
     `r = σ(W_ir x + b_ir + W_hr h + b_hr)`, `z = σ(W_iz x + b_iz + W_hz h + b_hz)`, \
     `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`. Parameters \
     `weight_ih: [3H, I]`, `weight_hh: [3H, H]`, `bias_ih`, `bias_hh: [3H]`."
);
cell!(
    RnnCell,
    1,
    "One Elman RNN step (PyTorch's `nn.RNNCell`, tanh): `x: [N, I]`, `h: [N, H]`; \
     `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)` (ReLU via [`RnnCell::step_with`]). Parameters \
     `weight_ih: [H, I]`, `weight_hh: [H, H]`, `bias_ih`, `bias_hh: [H]`."
);

impl<T: Element> LstmCell<T> {
    /// One step: `x: [N, I]`, `state = (h, c)` each `[N, H]` (`None`: zeros) → `(h', c')`.
    ///
    /// # Panics
    /// If `x` is not `[N, input_size]` or the state does not fit.
    pub fn step(&self, x: &Var<T>, state: Option<(&Var<T>, &Var<T>)>) -> (Var<T>, Var<T>) {
        self.check(x);
        let (wi, wh, bi, bh) = self.vars();
        x.lstm_cell(state, &wi, &wh, bi.as_ref(), bh.as_ref())
    }
}

impl<T: Element> GruCell<T> {
    /// One step: `x: [N, I]`, `h: [N, H]` (`None`: zeros) → `h'`.
    ///
    /// # Panics
    /// If `x` is not `[N, input_size]` or the state does not fit.
    pub fn step(&self, x: &Var<T>, h: Option<&Var<T>>) -> Var<T> {
        self.check(x);
        let (wi, wh, bi, bh) = self.vars();
        x.gru_cell(h, &wi, &wh, bi.as_ref(), bh.as_ref())
    }
}

impl<T: Element> RnnCell<T> {
    /// One tanh step: `x: [N, I]`, `h: [N, H]` (`None`: zeros) → `h'`.
    ///
    /// # Panics
    /// If `x` is not `[N, input_size]` or the state does not fit.
    pub fn step(&self, x: &Var<T>, h: Option<&Var<T>>) -> Var<T> {
        self.step_with(x, h, RnnNonlinearity::Tanh)
    }

    /// One step with the given nonlinearity.
    ///
    /// # Panics
    /// As [`RnnCell::step`].
    pub fn step_with(&self, x: &Var<T>, h: Option<&Var<T>>, act: RnnNonlinearity) -> Var<T> {
        self.check(x);
        let (wi, wh, bi, bh) = self.vars();
        x.rnn_cell(
            h,
            &wi,
            &wh,
            bi.as_ref(),
            bh.as_ref(),
            act == RnnNonlinearity::Relu,
        )
    }
}

impl<T: Element> Module<T> for LstmCell<T> {
    /// `h'` from `x: [N, I]` and a zero state.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        crate::record_output(self.step(x, None).0, &*self)
    }
    module_parts!(T; params: [weight_ih, weight_hh]; optional: [bias_ih, bias_hh]);
}

impl<T: Element> Module<T> for GruCell<T> {
    /// `h'` from `x: [N, I]` and a zero state.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        crate::record_output(self.step(x, None), &*self)
    }
    module_parts!(T; params: [weight_ih, weight_hh]; optional: [bias_ih, bias_hh]);
}

impl<T: Element> Module<T> for RnnCell<T> {
    /// `h'` from `x: [N, I]` and a zero state (tanh).
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        crate::record_output(self.step(x, None), &*self)
    }
    module_parts!(T; params: [weight_ih, weight_hh]; optional: [bias_ih, bias_hh]);
}
