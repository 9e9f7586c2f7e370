//! Transformer encoder and decoder layers (Vaswani et al., 2017) with PyTorch's
//! `nn.TransformerEncoderLayer` / `nn.TransformerDecoderLayer` parameter names, batch-first.
//!
//! Post-norm (the original): `x = LN(x + Drop(SA(x)))`, `x = LN(x + Drop(FF(x)))`.
//! Pre-norm (`norm_first`): `x = x + Drop(SA(LN(x)))`, `x = x + Drop(FF(LN(x)))`.
//! Feed-forward: `FF(x) = Drop(act(x·W₁ᵀ + b₁))·W₂ᵀ + b₂` with `act` ReLU or GELU.
//! Self-attention `SA` is [`MultiHeadAttention`]: `softmax(Q·Kᵀ/√d_k + M)·V`.

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::{Param, Var};
use strata_tensor::{Element, Tensor};

use crate::attention::{AttentionMask, MultiHeadAttention};
use crate::{LayerNorm, Linear, Module, child_seed, prefixed};

/// The nonlinearity of the position-wise feed-forward block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FeedForwardActivation {
    /// `max(0, x)` (PyTorch's default).
    #[default]
    Relu,
    /// `x·Φ(x)`.
    Gelu,
    /// GELU with the tanh approximation (PyTorch `activation="gelu"` uses the exact one; this is
    /// GPT-2's).
    GeluTanh,
}

/// Options shared by the encoder and decoder layers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransformerConfig {
    /// Model width `E` (`d_model`).
    pub d_model: usize,
    /// Attention heads `H` (`E` must be a multiple).
    pub nhead: usize,
    /// Hidden width of the feed-forward block.
    pub dim_feedforward: usize,
    /// Dropout on the attention weights, the feed-forward hidden layer and each residual
    /// branch.
    pub dropout: f64,
    /// Feed-forward nonlinearity.
    pub activation: FeedForwardActivation,
    /// Pre-norm (`true`) or post-norm (`false`, PyTorch's default).
    pub norm_first: bool,
    /// LayerNorm ε.
    pub layer_norm_eps: f64,
}

impl TransformerConfig {
    /// PyTorch's defaults for the given width and heads: feed-forward `4·d_model`, dropout 0.1,
    /// ReLU, post-norm, ε = 1e-5.
    pub fn new(d_model: usize, nhead: usize) -> Self {
        TransformerConfig {
            d_model,
            nhead,
            dim_feedforward: 4 * d_model,
            dropout: 0.1,
            activation: FeedForwardActivation::Relu,
            norm_first: false,
            layer_norm_eps: 1e-5,
        }
    }

    /// Sets the feed-forward width.
    pub fn with_dim_feedforward(mut self, dim: usize) -> Self {
        self.dim_feedforward = dim;
        self
    }

    /// Sets the dropout probability.
    pub fn with_dropout(mut self, p: f64) -> Self {
        self.dropout = p;
        self
    }

    /// Sets the feed-forward nonlinearity.
    pub fn with_activation(mut self, activation: FeedForwardActivation) -> Self {
        self.activation = activation;
        self
    }

    /// Pre-norm (`true`) or post-norm (`false`).
    pub fn with_norm_first(mut self, norm_first: bool) -> Self {
        self.norm_first = norm_first;
        self
    }

    fn validate(&self, layer: &str) {
        assert!(
            self.d_model > 0
                && self.nhead > 0
                && self.d_model.is_multiple_of(self.nhead)
                && self.dim_feedforward > 0,
            "{layer}: d_model {} must be a positive multiple of nhead {} and dim_feedforward {} positive",
            self.d_model,
            self.nhead,
            self.dim_feedforward
        );
        assert!(
            (0.0..1.0).contains(&self.dropout),
            "{layer}: dropout {} is outside [0, 1)",
            self.dropout
        );
    }
}

/// Dropout state for the residual branches (one stream per layer).
struct DropoutState {
    p: f64,
    training: bool,
    rng: StdRng,
}

impl DropoutState {
    fn new(p: f64, seed: u64) -> Self {
        DropoutState {
            p,
            training: true,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn apply<T: Element>(&mut self, x: &Var<T>) -> Var<T> {
        x.dropout(self.p, self.training, &mut self.rng)
    }
}

/// The position-wise feed-forward block `linear2(drop(act(linear1(x))))`.
fn feed_forward<T: Element>(
    linear1: &mut Linear<T>,
    linear2: &mut Linear<T>,
    activation: FeedForwardActivation,
    drop: &mut DropoutState,
    x: &Var<T>,
) -> Var<T> {
    let h = linear1.forward(x);
    let h = match activation {
        FeedForwardActivation::Relu => h.relu(),
        FeedForwardActivation::Gelu => h.gelu(),
        FeedForwardActivation::GeluTanh => h.gelu_tanh(),
    };
    linear2.forward(&drop.apply(&h))
}

fn check_input<T: Element>(layer: &str, x: &Var<T>, d_model: usize) {
    assert!(
        x.ndim() == 3 && x.shape()[2] == d_model,
        "{layer}: input {:?} is not [N, T, {d_model}]",
        x.shape()
    );
}

/// One Transformer encoder layer: self-attention then a feed-forward block, each wrapped in a
/// residual connection with LayerNorm (post- or pre-norm, see the module docs).
///
/// Input and output `[N, T, d_model]`. Parameters (PyTorch names): `self_attn.in_proj_weight`
/// `[3E, E]`, `self_attn.in_proj_bias`, `self_attn.out_proj.{weight, bias}`,
/// `linear1.{weight [F, E], bias}`, `linear2.{weight [E, F], bias}`, `norm1.{weight, bias}`,
/// `norm2.{weight, bias}`.
///
/// ```
/// use strata_layers::transformer::{TransformerConfig, TransformerEncoderLayer};
/// use strata_layers::{Module, Var};
/// use strata_tensor::Tensor;
///
/// let mut layer =
///     TransformerEncoderLayer::<f32>::new(TransformerConfig::new(16, 4).with_dropout(0.0));
/// let y = layer.forward(&Var::constant(Tensor::ones(&[2, 7, 16])));
/// assert_eq!(y.shape(), &[2, 7, 16]);
/// ```
pub struct TransformerEncoderLayer<T: Element = f32> {
    /// Multi-head self-attention.
    pub self_attn: MultiHeadAttention<T>,
    /// Feed-forward expansion `E → F`.
    pub linear1: Linear<T>,
    /// Feed-forward projection `F → E`.
    pub linear2: Linear<T>,
    /// Norm of the attention block.
    pub norm1: LayerNorm<T>,
    /// Norm of the feed-forward block.
    pub norm2: LayerNorm<T>,
    config: TransformerConfig,
    dropout: DropoutState,
    dropout1: DropoutState,
    dropout2: DropoutState,
}

impl<T: Element> TransformerEncoderLayer<T> {
    /// A layer with `config`.
    ///
    /// # Panics
    /// If `d_model` is not a positive multiple of `nhead`, `dim_feedforward` is 0, or the
    /// dropout is outside `[0, 1)`.
    pub fn new(config: TransformerConfig) -> Self {
        config.validate("TransformerEncoderLayer");
        let (e, f, p) = (config.d_model, config.dim_feedforward, config.dropout);
        TransformerEncoderLayer {
            self_attn: MultiHeadAttention::new(e, config.nhead).with_dropout(p),
            linear1: Linear::new(e, f),
            linear2: Linear::new(f, e),
            norm1: LayerNorm::new(&[e]).with_eps(config.layer_norm_eps),
            norm2: LayerNorm::new(&[e]).with_eps(config.layer_norm_eps),
            config,
            dropout: DropoutState::new(p, 0xE1),
            dropout1: DropoutState::new(p, 0xE2),
            dropout2: DropoutState::new(p, 0xE3),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TransformerConfig {
        &self.config
    }

    /// The layer on `x: [N, T, E]` with a self-attention `mask` (causal, key padding, additive);
    /// returns `[N, T, E]`.
    ///
    /// # Panics
    /// If `x` is not `[N, T, d_model]` or the mask does not fit.
    pub fn forward_masked(&mut self, x: &Var<T>, mask: &AttentionMask<'_, T>) -> Var<T> {
        check_input("TransformerEncoderLayer", x, self.config.d_model);
        let act = self.config.activation;
        if self.config.norm_first {
            let h = self.norm1.forward(x);
            let x = x.add(&self.dropout1.apply(&self.self_attn.self_attend(&h, mask).0));
            let h = self.norm2.forward(&x);
            let ff = feed_forward(
                &mut self.linear1,
                &mut self.linear2,
                act,
                &mut self.dropout,
                &h,
            );
            x.add(&self.dropout2.apply(&ff))
        } else {
            let sa = self.self_attn.self_attend(x, mask).0;
            let x = self.norm1.forward(&x.add(&self.dropout1.apply(&sa)));
            let ff = feed_forward(
                &mut self.linear1,
                &mut self.linear2,
                act,
                &mut self.dropout,
                &x,
            );
            self.norm2.forward(&x.add(&self.dropout2.apply(&ff)))
        }
    }
}

impl<T: Element> Module<T> for TransformerEncoderLayer<T> {
    /// The layer without a mask: `[N, T, E]` → `[N, T, E]`.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        crate::record_output(self.forward_masked(x, &AttentionMask::none()), &*self)
    }

    fn params(&self) -> Vec<(String, &Param<T>)> {
        let mut out = prefixed("self_attn", self.self_attn.params());
        out.extend(prefixed("linear1", self.linear1.params()));
        out.extend(prefixed("linear2", self.linear2.params()));
        out.extend(prefixed("norm1", self.norm1.params()));
        out.extend(prefixed("norm2", self.norm2.params()));
        out
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        let mut out = prefixed("self_attn", self.self_attn.params_mut());
        out.extend(prefixed("linear1", self.linear1.params_mut()));
        out.extend(prefixed("linear2", self.linear2.params_mut()));
        out.extend(prefixed("norm1", self.norm1.params_mut()));
        out.extend(prefixed("norm2", self.norm2.params_mut()));
        out
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn is_training(&self) -> bool {
        self.self_attn.is_training()
    }

    fn set_training(&mut self, training: bool) {
        self.self_attn.set_training(training);
        for d in [&mut self.dropout, &mut self.dropout1, &mut self.dropout2] {
            d.training = training;
        }
    }

    fn reseed(&mut self, seed: u64) {
        self.self_attn.reseed(child_seed(seed, 0));
        for (i, d) in [&mut self.dropout, &mut self.dropout1, &mut self.dropout2]
            .into_iter()
            .enumerate()
        {
            d.rng = StdRng::seed_from_u64(child_seed(seed, i as u64 + 1));
        }
    }
}

/// A stack of [`TransformerEncoderLayer`]s with an optional final LayerNorm (used with
/// pre-norm layers): `y = LN(layer_L(… layer_1(x)))`, `[N, T, E]` → `[N, T, E]`.
///
/// Parameters: `layers.{i}.…` and `norm.{weight, bias}`.
pub struct TransformerEncoder<T: Element = f32> {
    /// The layers, applied in order.
    pub layers: Vec<TransformerEncoderLayer<T>>,
    /// The optional final norm.
    pub norm: Option<LayerNorm<T>>,
}

impl<T: Element> TransformerEncoder<T> {
    /// `num_layers` independently initialised layers with `config`, with a final LayerNorm
    /// when `config.norm_first` (as in GPT-2 style pre-norm stacks).
    ///
    /// # Panics
    /// If `num_layers` is 0 or the config is invalid.
    pub fn new(config: TransformerConfig, num_layers: usize) -> Self {
        assert!(num_layers > 0, "TransformerEncoder: num_layers must be ≥ 1");
        let mut layers: Vec<TransformerEncoderLayer<T>> = (0..num_layers)
            .map(|_| TransformerEncoderLayer::new(config))
            .collect();
        for (i, layer) in layers.iter_mut().enumerate() {
            layer.reseed(child_seed(0x7E4C, i as u64));
        }
        TransformerEncoder {
            layers,
            norm: config
                .norm_first
                .then(|| LayerNorm::new(&[config.d_model]).with_eps(config.layer_norm_eps)),
        }
    }

    /// The stack on `x: [N, T, E]` with the same self-attention `mask` in every layer.
    ///
    /// # Panics
    /// As [`TransformerEncoderLayer::forward_masked`].
    pub fn forward_masked(&mut self, x: &Var<T>, mask: &AttentionMask<'_, T>) -> Var<T> {
        let mut h = x.clone();
        for layer in &mut self.layers {
            h = layer.forward_masked(&h, mask);
        }
        match &mut self.norm {
            Some(norm) => norm.forward(&h),
            None => h,
        }
    }
}

impl<T: Element> Module<T> for TransformerEncoder<T> {
    /// The stack without a mask.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        crate::record_output(self.forward_masked(x, &AttentionMask::none()), &*self)
    }

    fn params(&self) -> Vec<(String, &Param<T>)> {
        let mut out = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            out.extend(prefixed(&format!("layers.{i}"), layer.params()));
        }
        if let Some(norm) = &self.norm {
            out.extend(prefixed("norm", norm.params()));
        }
        out
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        let mut out = Vec::new();
        for (i, layer) in self.layers.iter_mut().enumerate() {
            out.extend(prefixed(&format!("layers.{i}"), layer.params_mut()));
        }
        if let Some(norm) = &mut self.norm {
            out.extend(prefixed("norm", norm.params_mut()));
        }
        out
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn is_training(&self) -> bool {
        self.layers.iter().any(|layer| layer.is_training())
    }

    fn set_training(&mut self, training: bool) {
        for layer in &mut self.layers {
            layer.set_training(training);
        }
    }

    fn reseed(&mut self, seed: u64) {
        for (i, layer) in self.layers.iter_mut().enumerate() {
            layer.reseed(child_seed(seed, i as u64));
        }
    }
}

/// One Transformer decoder layer: causal (or masked) self-attention, cross-attention over the
/// encoder output `memory`, then a feed-forward block, each with a residual connection and
/// LayerNorm (post- or pre-norm).
///
/// Post-norm: `x = LN₁(x + SA(x))`, `x = LN₂(x + CA(x, memory))`, `x = LN₃(x + FF(x))`.
/// Shapes: target `[N, T, E]`, memory `[N, S, E]`, output `[N, T, E]`. Parameters (PyTorch
/// names): `self_attn.*`, `multihead_attn.*`, `linear1.*`, `linear2.*`, `norm1.*`, `norm2.*`,
/// `norm3.*`.
///
/// As a [`Module`], `forward(x)` decodes `x` causally against the memory set with
/// [`TransformerDecoderLayer::set_memory`].
pub struct TransformerDecoderLayer<T: Element = f32> {
    /// Multi-head self-attention over the target.
    pub self_attn: MultiHeadAttention<T>,
    /// Multi-head attention of the target over the memory.
    pub multihead_attn: MultiHeadAttention<T>,
    /// Feed-forward expansion `E → F`.
    pub linear1: Linear<T>,
    /// Feed-forward projection `F → E`.
    pub linear2: Linear<T>,
    /// Norm of the self-attention block.
    pub norm1: LayerNorm<T>,
    /// Norm of the cross-attention block.
    pub norm2: LayerNorm<T>,
    /// Norm of the feed-forward block.
    pub norm3: LayerNorm<T>,
    config: TransformerConfig,
    memory: Option<Var<T>>,
    dropout: DropoutState,
    dropout1: DropoutState,
    dropout2: DropoutState,
    dropout3: DropoutState,
}

impl<T: Element> TransformerDecoderLayer<T> {
    /// A layer with `config`.
    ///
    /// # Panics
    /// As [`TransformerEncoderLayer::new`].
    pub fn new(config: TransformerConfig) -> Self {
        config.validate("TransformerDecoderLayer");
        let (e, f, p) = (config.d_model, config.dim_feedforward, config.dropout);
        let norm = || LayerNorm::new(&[e]).with_eps(config.layer_norm_eps);
        TransformerDecoderLayer {
            self_attn: MultiHeadAttention::new(e, config.nhead).with_dropout(p),
            multihead_attn: MultiHeadAttention::new(e, config.nhead).with_dropout(p),
            linear1: Linear::new(e, f),
            linear2: Linear::new(f, e),
            norm1: norm(),
            norm2: norm(),
            norm3: norm(),
            config,
            memory: None,
            dropout: DropoutState::new(p, 0xD1),
            dropout1: DropoutState::new(p, 0xD2),
            dropout2: DropoutState::new(p, 0xD3),
            dropout3: DropoutState::new(p, 0xD4),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TransformerConfig {
        &self.config
    }

    /// Sets the memory `[N, S, E]` that [`Module::forward`] attends to.
    pub fn set_memory(&mut self, memory: Var<T>) {
        self.memory = Some(memory);
    }

    /// Decodes `tgt: [N, T, E]` against `memory: [N, S, E]` with a target self-attention mask
    /// (usually [`AttentionMask::causal`] plus target key padding) and a memory mask (usually
    /// the source key padding); returns the output `[N, T, E]` and the cross-attention weights
    /// `[N, H, T, S]`.
    ///
    /// # Panics
    /// If `tgt` or `memory` is not `[N, ·, d_model]` with the same `N`, or a mask does not fit.
    pub fn decode(
        &mut self,
        tgt: &Var<T>,
        memory: &Var<T>,
        tgt_mask: &AttentionMask<'_, T>,
        memory_mask: &AttentionMask<'_, T>,
    ) -> (Var<T>, Var<T>) {
        let e = self.config.d_model;
        check_input("TransformerDecoderLayer", tgt, e);
        check_input("TransformerDecoderLayer (memory)", memory, e);
        let act = self.config.activation;
        if self.config.norm_first {
            let h = self.norm1.forward(tgt);
            let x = tgt.add(
                &self
                    .dropout1
                    .apply(&self.self_attn.self_attend(&h, tgt_mask).0),
            );
            let h = self.norm2.forward(&x);
            let (ca, weights) = self.multihead_attn.cross_attend(&h, memory, memory_mask);
            let x = x.add(&self.dropout2.apply(&ca));
            let h = self.norm3.forward(&x);
            let ff = feed_forward(
                &mut self.linear1,
                &mut self.linear2,
                act,
                &mut self.dropout,
                &h,
            );
            (x.add(&self.dropout3.apply(&ff)), weights)
        } else {
            let sa = self.self_attn.self_attend(tgt, tgt_mask).0;
            let x = self.norm1.forward(&tgt.add(&self.dropout1.apply(&sa)));
            let (ca, weights) = self.multihead_attn.cross_attend(&x, memory, memory_mask);
            let x = self.norm2.forward(&x.add(&self.dropout2.apply(&ca)));
            let ff = feed_forward(
                &mut self.linear1,
                &mut self.linear2,
                act,
                &mut self.dropout,
                &x,
            );
            (
                self.norm3.forward(&x.add(&self.dropout3.apply(&ff))),
                weights,
            )
        }
    }
}

impl<T: Element> Module<T> for TransformerDecoderLayer<T> {
    /// Causal decoding of `x: [N, T, E]` against the memory from
    /// [`TransformerDecoderLayer::set_memory`].
    ///
    /// # Panics
    /// If no memory was set, or the shapes do not fit.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let memory = self
            .memory
            .clone()
            .expect("TransformerDecoderLayer: forward needs a memory; call set_memory first");
        crate::record_output(
            self.decode(x, &memory, &AttentionMask::causal(), &AttentionMask::none())
                .0,
            &*self,
        )
    }

    fn params(&self) -> Vec<(String, &Param<T>)> {
        let mut out = prefixed("self_attn", self.self_attn.params());
        out.extend(prefixed("multihead_attn", self.multihead_attn.params()));
        out.extend(prefixed("linear1", self.linear1.params()));
        out.extend(prefixed("linear2", self.linear2.params()));
        out.extend(prefixed("norm1", self.norm1.params()));
        out.extend(prefixed("norm2", self.norm2.params()));
        out.extend(prefixed("norm3", self.norm3.params()));
        out
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        let mut out = prefixed("self_attn", self.self_attn.params_mut());
        out.extend(prefixed("multihead_attn", self.multihead_attn.params_mut()));
        out.extend(prefixed("linear1", self.linear1.params_mut()));
        out.extend(prefixed("linear2", self.linear2.params_mut()));
        out.extend(prefixed("norm1", self.norm1.params_mut()));
        out.extend(prefixed("norm2", self.norm2.params_mut()));
        out.extend(prefixed("norm3", self.norm3.params_mut()));
        out
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn is_training(&self) -> bool {
        self.self_attn.is_training()
    }

    fn set_training(&mut self, training: bool) {
        self.self_attn.set_training(training);
        self.multihead_attn.set_training(training);
        for d in [
            &mut self.dropout,
            &mut self.dropout1,
            &mut self.dropout2,
            &mut self.dropout3,
        ] {
            d.training = training;
        }
    }

    fn reseed(&mut self, seed: u64) {
        self.self_attn.reseed(child_seed(seed, 0));
        self.multihead_attn.reseed(child_seed(seed, 1));
        for (i, d) in [
            &mut self.dropout,
            &mut self.dropout1,
            &mut self.dropout2,
            &mut self.dropout3,
        ]
        .into_iter()
        .enumerate()
        {
            d.rng = StdRng::seed_from_u64(child_seed(seed, i as u64 + 2));
        }
    }
}

/// The causal mask `[t, t]` as a tensor, re-exported for decoder users
/// (see [`crate::attention::causal_mask`]).
pub fn generate_square_subsequent_mask<T: Element>(t: usize) -> Tensor<T> {
    crate::attention::causal_mask(t, t)
}
