//! Multi-head attention and positional encodings.
//!
//! Scaled dot-product attention over batch-first sequences:
//!
//! `Attention(Q, K, V) = softmax(Q·Kᵀ/√d_k + M)·V`
//!
//! with `Q: [N, H, T_q, d_k]`, `K: [N, H, T_k, d_k]`, `V: [N, H, T_k, d_k]` and an additive
//! mask `M` (0 where attention is allowed, [`MASK_VALUE`] where it is not) broadcast to
//! `[N, H, T_q, T_k]`. Masks are plain constant tensors; see [`causal_mask`] and
//! [`key_padding_mask`]. [`scaled_dot_product_attention`] is the attention itself, PyTorch's
//! `F.scaled_dot_product_attention`, which [`MultiHeadAttention`] runs on its heads.

mod scaled_dot_product;

pub use scaled_dot_product::{SdpaMask, SdpaOptions, scaled_dot_product_attention};

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::{Param, Var};
use strata_tensor::{Element, Tensor};

use crate::{Init, Module};

/// The additive value that blocks attention to a position: `-1e9`, large enough that
/// `exp(score + MASK_VALUE)` is zero in `f32` and `f64`, finite so a fully masked row gives
/// uniform weights instead of NaN.
pub const MASK_VALUE: f64 = -1e9;

/// The causal ("subsequent") mask `[t_q, t_k]`: entry `(i, j)` is 0 when `j ≤ i + (t_k − t_q)`
/// and [`MASK_VALUE`] otherwise, so query `i` sees only keys up to its own position
/// (aligned at the end when `t_k > t_q`).
///
/// # Panics
/// If `t_q` or `t_k` is 0, or `t_q > t_k`.
pub fn causal_mask<T: Element>(t_q: usize, t_k: usize) -> Tensor<T> {
    assert!(
        t_q > 0 && t_k > 0 && t_q <= t_k,
        "causal_mask: needs 0 < t_q ≤ t_k, got t_q {t_q}, t_k {t_k}"
    );
    let shift = t_k - t_q;
    let blocked = T::from_f64_lossy(MASK_VALUE);
    let data = (0..t_q)
        .flat_map(|i| (0..t_k).map(move |j| if j <= i + shift { T::zero() } else { blocked }))
        .collect();
    Tensor::from_vec(data, &[t_q, t_k])
}

/// The additive key-padding mask `[N, 1, 1, T_k]` from PyTorch's boolean
/// `key_padding_mask: [N, T_k]` (row-major, `true` = padding, ignored): 0 for real keys and
/// [`MASK_VALUE`] for padding. It broadcasts against scores `[N, H, T_q, T_k]`.
///
/// # Panics
/// If `padding.len() != n * t_k` or either size is 0.
pub fn key_padding_mask<T: Element>(padding: &[bool], n: usize, t_k: usize) -> Tensor<T> {
    assert!(
        n > 0 && t_k > 0 && padding.len() == n * t_k,
        "key_padding_mask: {} flags do not fill [N {n}, T_k {t_k}]",
        padding.len()
    );
    let blocked = T::from_f64_lossy(MASK_VALUE);
    let data = padding
        .iter()
        .map(|&p| if p { blocked } else { T::zero() })
        .collect();
    Tensor::from_vec(data, &[n, 1, 1, t_k])
}

/// The padding flags `[N, T]` (`true` = padding) for sequences of the given `lengths` padded
/// on the right to `t`: position `j` of sequence `b` is padding when `j ≥ lengths[b]`.
///
/// # Panics
/// If a length exceeds `t`.
pub fn padding_from_lengths(lengths: &[usize], t: usize) -> Vec<bool> {
    lengths
        .iter()
        .flat_map(|&len| {
            assert!(
                len <= t,
                "padding_from_lengths: length {len} exceeds the padded length {t}"
            );
            (0..t).map(move |j| j >= len)
        })
        .collect()
}

/// Masks and switches for one call of [`MultiHeadAttention::attend`].
#[derive(Clone, Debug)]
pub struct AttentionMask<'a, T: Element = f32> {
    /// An additive mask broadcastable to the scores `[N, H, T_q, T_k]`, usually `[T_q, T_k]`
    /// (PyTorch's float `attn_mask`).
    pub attn_mask: Option<&'a Tensor<T>>,
    /// PyTorch's boolean `key_padding_mask` `[N, T_k]` row-major, `true` = padding (ignored).
    pub key_padding: Option<&'a [bool]>,
    /// Adds [`causal_mask`]`(T_q, T_k)`: query `i` attends only to keys `≤ i`.
    pub causal: bool,
}

impl<T: Element> Default for AttentionMask<'_, T> {
    fn default() -> Self {
        AttentionMask {
            attn_mask: None,
            key_padding: None,
            causal: false,
        }
    }
}

impl<'a, T: Element> AttentionMask<'a, T> {
    /// No mask: every query attends to every key.
    pub fn none() -> Self {
        Self::default()
    }

    /// Only the causal mask.
    pub fn causal() -> Self {
        AttentionMask {
            causal: true,
            ..Self::default()
        }
    }

    /// Adds the key-padding flags `[N, T_k]` (`true` = padding).
    pub fn with_key_padding(mut self, padding: &'a [bool]) -> Self {
        self.key_padding = Some(padding);
        self
    }

    /// Adds an additive mask broadcastable to `[N, H, T_q, T_k]`.
    pub fn with_attn_mask(mut self, mask: &'a Tensor<T>) -> Self {
        self.attn_mask = Some(mask);
        self
    }

    /// The combined additive mask for scores of shape `[n, h, t_q, t_k]`, or `None` when
    /// nothing is masked.
    fn combined(&self, n: usize, t_q: usize, t_k: usize) -> Option<Tensor<T>> {
        let mut mask: Option<Tensor<T>> = None;
        let mut add = |m: Tensor<T>| {
            mask = Some(match mask.take() {
                Some(acc) => acc.add(&m),
                None => m,
            });
        };
        if self.causal {
            add(causal_mask(t_q, t_k));
        }
        if let Some(m) = self.attn_mask {
            add(m.clone());
        }
        if let Some(p) = self.key_padding {
            assert_eq!(
                p.len(),
                n * t_k,
                "MultiHeadAttention: key padding mask holds {} flags, expected [N {n}, T_k {t_k}]",
                p.len()
            );
            add(key_padding_mask(p, n, t_k));
        }
        mask
    }
}

/// Multi-head attention (Vaswani et al., 2017) with PyTorch's `nn.MultiheadAttention`
/// parameter layout, batch-first:
///
/// `Qᵢ = q·W_Qᵢᵀ + b_Qᵢ`, `Kᵢ = k·W_Kᵢᵀ + b_Kᵢ`, `Vᵢ = v·W_Vᵢᵀ + b_Vᵢ` (head `i` of `H`,
/// `d_k = E/H`), `headᵢ = softmax(Qᵢ·Kᵢᵀ/√d_k + M)·Vᵢ`,
/// `out = concat(head₁ … head_H)·W_Oᵀ + b_O`.
///
/// Shapes: query `[N, T_q, E]`, key and value `[N, T_k, E]`, output `[N, T_q, E]`, weights
/// `[N, H, T_q, T_k]`. Parameters: `in_proj_weight [3E, E]` (rows `W_Q; W_K; W_V`),
/// `in_proj_bias [3E]`, `out_proj.weight [E, E]`, `out_proj.bias [E]`. Dropout with
/// probability `p` is applied to the attention weights in training.
///
/// ```
/// use strata_layers::attention::{AttentionMask, MultiHeadAttention};
/// use strata_layers::{Module, Var};
/// use strata_tensor::Tensor;
///
/// let mut mha = MultiHeadAttention::<f32>::new(8, 2);
/// let x = Var::constant(Tensor::ones(&[3, 5, 8]));
/// let (y, w) = mha.attend(&x, &x, &x, &AttentionMask::causal());
/// assert_eq!(y.shape(), &[3, 5, 8]);
/// assert_eq!(w.shape(), &[3, 2, 5, 5]);
/// assert_eq!(mha.params()[0].0, "in_proj_weight");
/// ```
pub struct MultiHeadAttention<T: Element = f32> {
    /// `[3E, E]`: the query, key and value projections stacked by rows.
    pub in_proj_weight: Param<T>,
    /// `[3E]`, or `None` for a projection without bias.
    pub in_proj_bias: Option<Param<T>>,
    /// The output projection `E → E`.
    pub out_proj: crate::Linear<T>,
    num_heads: usize,
    dropout: f64,
    training: bool,
    rng: StdRng,
}

impl<T: Element> MultiHeadAttention<T> {
    /// `num_heads` heads over `embed_dim` features, PyTorch's initialisation: Xavier-uniform
    /// `in_proj_weight`, zero biases, default `out_proj` weight; no dropout.
    ///
    /// # Panics
    /// If either size is 0 or `embed_dim` is not a multiple of `num_heads`.
    pub fn new(embed_dim: usize, num_heads: usize) -> Self {
        assert!(
            embed_dim > 0 && num_heads > 0 && embed_dim.is_multiple_of(num_heads),
            "MultiHeadAttention: embed_dim {embed_dim} must be a positive multiple of num_heads {num_heads}"
        );
        // PyTorch draws the stacked [3E, E] matrix with fan-in E and fan-out 3E.
        let bound = (6.0 / (4 * embed_dim) as f64).sqrt();
        MultiHeadAttention {
            in_proj_weight: Param::new(
                Init::Uniform {
                    low: -bound,
                    high: bound,
                }
                .fill(&[3 * embed_dim, embed_dim]),
            ),
            in_proj_bias: Some(Param::new(Tensor::zeros(&[3 * embed_dim]))),
            out_proj: crate::Linear::new(embed_dim, embed_dim)
                .with_init(Init::PytorchDefault, Init::Zeros),
            num_heads,
            dropout: 0.0,
            training: true,
            rng: StdRng::seed_from_u64(0xA77E_0001),
        }
    }

    /// Dropout probability `p` on the attention weights (training only).
    ///
    /// # Panics
    /// If `p` is outside `[0, 1)`.
    pub fn with_dropout(mut self, p: f64) -> Self {
        assert!(
            (0.0..1.0).contains(&p),
            "MultiHeadAttention: dropout {p} is outside [0, 1)"
        );
        self.dropout = p;
        self
    }

    /// Removes the biases of the input and output projections.
    pub fn without_bias(mut self) -> Self {
        self.in_proj_bias = None;
        self.out_proj.bias = None;
        self
    }

    /// The model width `E`.
    pub fn embed_dim(&self) -> usize {
        self.in_proj_weight.shape()[1]
    }

    /// The number of heads `H`.
    pub fn num_heads(&self) -> usize {
        self.num_heads
    }

    /// The width of one head, `d_k = E/H`.
    pub fn head_dim(&self) -> usize {
        self.embed_dim() / self.num_heads
    }

    /// Rows `part·E .. (part+1)·E` of the input projection (0 = query, 1 = key, 2 = value).
    fn projection(&self, x: &Var<T>, parts: std::ops::Range<usize>) -> Var<T> {
        let e = self.embed_dim();
        let (start, len) = (parts.start * e, (parts.end - parts.start) * e);
        let w = self.in_proj_weight.var();
        let w = if len == 3 * e {
            w
        } else {
            w.narrow(0, start, len)
        };
        let b = self.in_proj_bias.as_ref().map(|b| {
            let b = b.var();
            if len == 3 * e {
                b
            } else {
                b.narrow(0, start, len)
            }
        });
        x.linear(&w, b.as_ref())
    }

    /// `[N, T, E]` → `[N, H, T, d_k]`.
    fn split_heads(&self, x: &Var<T>) -> Var<T> {
        let (n, t) = (x.shape()[0], x.shape()[1]);
        x.reshape(&[n, t, self.num_heads, self.head_dim()])
            .permute(&[0, 2, 1, 3])
    }

    fn check_input(&self, what: &str, x: &Var<T>) {
        let e = self.embed_dim();
        assert!(
            x.ndim() == 3 && x.shape()[2] == e,
            "MultiHeadAttention: {what} {:?} is not [N, T, {e}]",
            x.shape()
        );
    }

    /// Attention of `query` over `key`/`value` with optional masks; returns the output
    /// `[N, T_q, E]` and the per-head attention weights `[N, H, T_q, T_k]` (after masking and
    /// softmax, before dropout).
    ///
    /// `out = concat_h(softmax(Q_h·K_hᵀ/√d_k + M)·V_h)·W_Oᵀ + b_O`.
    ///
    /// [`MultiHeadAttention::self_attend`] (`query = key = value`) and
    /// [`MultiHeadAttention::cross_attend`] (`key = value`) run the shared projections as one
    /// GEMM.
    ///
    /// # Panics
    /// If an input is not `[N, T, E]`, key and value differ in shape, query and key differ
    /// in `N`, or a mask does not fit (see [`AttentionMask`]).
    pub fn attend(
        &mut self,
        query: &Var<T>,
        key: &Var<T>,
        value: &Var<T>,
        mask: &AttentionMask<'_, T>,
    ) -> (Var<T>, Var<T>) {
        self.check_pair(query, key, value);
        let q = self.projection(query, 0..1);
        let k = self.projection(key, 1..2);
        let v = self.projection(value, 2..3);
        self.scaled_dot_product(&q, &k, &v, mask)
    }

    /// Self-attention of `x: [N, T, E]` with `mask` (one `[3E, E]` projection GEMM); returns
    /// `(output [N, T, E], weights [N, H, T, T])`.
    ///
    /// # Panics
    /// As [`MultiHeadAttention::attend`].
    pub fn self_attend(&mut self, x: &Var<T>, mask: &AttentionMask<'_, T>) -> (Var<T>, Var<T>) {
        self.check_pair(x, x, x);
        let e = self.embed_dim();
        let qkv = self.projection(x, 0..3);
        let (q, k, v) = (
            qkv.narrow(2, 0, e),
            qkv.narrow(2, e, e),
            qkv.narrow(2, 2 * e, e),
        );
        self.scaled_dot_product(&q, &k, &v, mask)
    }

    /// Attention of `query: [N, T_q, E]` over `memory: [N, T_k, E]` used as both key and value
    /// (encoder–decoder attention; one `[2E, E]` projection GEMM for K and V); returns
    /// `(output [N, T_q, E], weights [N, H, T_q, T_k])`.
    ///
    /// # Panics
    /// As [`MultiHeadAttention::attend`].
    pub fn cross_attend(
        &mut self,
        query: &Var<T>,
        memory: &Var<T>,
        mask: &AttentionMask<'_, T>,
    ) -> (Var<T>, Var<T>) {
        self.check_pair(query, memory, memory);
        let e = self.embed_dim();
        let q = self.projection(query, 0..1);
        let kv = self.projection(memory, 1..3);
        self.scaled_dot_product(&q, &kv.narrow(2, 0, e), &kv.narrow(2, e, e), mask)
    }

    fn check_pair(&self, query: &Var<T>, key: &Var<T>, value: &Var<T>) {
        self.check_input("query", query);
        self.check_input("key", key);
        self.check_input("value", value);
        assert!(
            key.shape() == value.shape() && key.shape()[0] == query.shape()[0],
            "MultiHeadAttention: query {:?}, key {:?} and value {:?} do not agree in N and T_k",
            query.shape(),
            key.shape(),
            value.shape()
        );
    }

    /// `softmax(Q·Kᵀ/√d_k + M)·V` on projected `[N, T, E]` inputs, then the output projection.
    fn scaled_dot_product(
        &mut self,
        q: &Var<T>,
        k: &Var<T>,
        v: &Var<T>,
        mask: &AttentionMask<'_, T>,
    ) -> (Var<T>, Var<T>) {
        let (n, t_q, e) = (q.shape()[0], q.shape()[1], q.shape()[2]);
        let t_k = k.shape()[1];
        let combined = mask.combined(n, t_q, t_k);
        let mut options = SdpaOptions::default()
            .with_scale(1.0 / (self.head_dim() as f64).sqrt())
            .with_dropout(if self.training { self.dropout } else { 0.0 });
        if let Some(m) = &combined {
            options = options.with_attn_mask(SdpaMask::Additive(m));
        }
        let (heads, weights) = scaled_dot_product_attention(
            &self.split_heads(q),
            &self.split_heads(k),
            &self.split_heads(v),
            &options,
            &mut self.rng,
        );
        let context = heads.permute(&[0, 2, 1, 3]).reshape(&[n, t_q, e]);
        (self.out_proj.forward(&context), weights)
    }
}

impl<T: Element> Module<T> for MultiHeadAttention<T> {
    /// Unmasked self-attention `[N, T, E]` → `[N, T, E]`.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        crate::record_output(self.self_attend(x, &AttentionMask::none()).0, &*self)
    }

    fn params(&self) -> Vec<(String, &Param<T>)> {
        let mut out = vec![("in_proj_weight".to_string(), &self.in_proj_weight)];
        if let Some(b) = &self.in_proj_bias {
            out.push(("in_proj_bias".to_string(), b));
        }
        out.extend(crate::prefixed("out_proj", self.out_proj.params()));
        out
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        let mut out = vec![("in_proj_weight".to_string(), &mut self.in_proj_weight)];
        if let Some(b) = &mut self.in_proj_bias {
            out.push(("in_proj_bias".to_string(), b));
        }
        out.extend(crate::prefixed("out_proj", self.out_proj.params_mut()));
        out
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn is_training(&self) -> bool {
        self.training
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }
}

/// The fixed sinusoidal table of Vaswani et al. (2017), `[max_len, d_model]`:
/// `PE(p, 2i) = sin(p / 10000^{2i/d})`, `PE(p, 2i+1) = cos(p / 10000^{2i/d})`.
///
/// # Panics
/// If either size is 0.
pub fn sinusoidal_table<T: Element>(max_len: usize, d_model: usize) -> Tensor<T> {
    assert!(
        max_len > 0 && d_model > 0,
        "sinusoidal_table: max_len {max_len} and d_model {d_model} must be positive"
    );
    let mut data = Vec::with_capacity(max_len * d_model);
    for p in 0..max_len {
        for j in 0..d_model {
            let i2 = (j - j % 2) as f64;
            let angle = p as f64 / 10000f64.powf(i2 / d_model as f64);
            data.push(T::from_f64_lossy(if j % 2 == 0 {
                angle.sin()
            } else {
                angle.cos()
            }));
        }
    }
    Tensor::from_vec(data, &[max_len, d_model])
}

/// Adds the fixed sinusoidal positional encoding ([`sinusoidal_table`]) to a batch-first
/// sequence: `y[n, t, :] = x[n, t, :] + PE(t, :)`, `x, y: [N, T, d_model]`, `T ≤ max_len`.
/// No parameters.
pub struct SinusoidalPositionalEncoding<T: Element = f32> {
    table: Tensor<T>,
}

impl<T: Element> SinusoidalPositionalEncoding<T> {
    /// A table for sequences up to `max_len` of width `d_model`.
    ///
    /// # Panics
    /// If either size is 0.
    pub fn new(max_len: usize, d_model: usize) -> Self {
        SinusoidalPositionalEncoding {
            table: sinusoidal_table(max_len, d_model),
        }
    }

    /// The table `[max_len, d_model]`.
    pub fn table(&self) -> &Tensor<T> {
        &self.table
    }
}

fn check_positions(layer: &str, x_shape: &[usize], max_len: usize, d_model: usize) {
    assert!(
        x_shape.len() == 3 && x_shape[1] <= max_len && x_shape[2] == d_model,
        "{layer}: input {x_shape:?} is not [N, T ≤ {max_len}, {d_model}]"
    );
}

impl<T: Element> Module<T> for SinusoidalPositionalEncoding<T> {
    /// `x + PE[..T]`, `[N, T, d_model]` → same.
    ///
    /// # Panics
    /// If `x` is not `[N, T ≤ max_len, d_model]`.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let (max_len, d) = (self.table.shape()[0], self.table.shape()[1]);
        check_positions("SinusoidalPositionalEncoding", x.shape(), max_len, d);
        crate::record_output(x.add_tensor(&self.table.narrow(0, 0, x.shape()[1])), &*self)
    }

    fn params(&self) -> Vec<(String, &Param<T>)> {
        Vec::new()
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        Vec::new()
    }
}

/// A learned positional embedding added to a batch-first sequence:
/// `y[n, t, :] = x[n, t, :] + weight[t, :]`, `x, y: [N, T, d_model]`, `weight:
/// [max_len, d_model]` drawn from N(0, 0.02²) (GPT-2's initialisation).
pub struct LearnedPositionalEncoding<T: Element = f32> {
    /// `[max_len, d_model]`: one vector per position.
    pub weight: Param<T>,
}

impl<T: Element> LearnedPositionalEncoding<T> {
    /// Positions `0..max_len` of width `d_model`.
    ///
    /// # Panics
    /// If either size is 0.
    pub fn new(max_len: usize, d_model: usize) -> Self {
        assert!(
            max_len > 0 && d_model > 0,
            "LearnedPositionalEncoding: max_len {max_len} and d_model {d_model} must be positive"
        );
        LearnedPositionalEncoding {
            weight: Param::new(
                Init::Normal {
                    mean: 0.0,
                    std: 0.02,
                }
                .fill(&[max_len, d_model]),
            ),
        }
    }
}

impl<T: Element> Module<T> for LearnedPositionalEncoding<T> {
    /// `x + weight[..T]`, `[N, T, d_model]` → same; the gradient of `weight[t]` is the sum of
    /// the output gradient over the batch at position `t`.
    ///
    /// # Panics
    /// If `x` is not `[N, T ≤ max_len, d_model]`.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let (max_len, d) = (self.weight.shape()[0], self.weight.shape()[1]);
        check_positions("LearnedPositionalEncoding", x.shape(), max_len, d);
        crate::record_output(x.add(&self.weight.var().narrow(0, 0, x.shape()[1])), &*self)
    }

    fn params(&self) -> Vec<(String, &Param<T>)> {
        vec![("weight".to_string(), &self.weight)]
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        vec![("weight".to_string(), &mut self.weight)]
    }
}
