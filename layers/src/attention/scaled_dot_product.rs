//! [`scaled_dot_product_attention`], PyTorch's `F.scaled_dot_product_attention`: the attention
//! of any batch of queries over keys and values, which [`MultiHeadAttention`](super::MultiHeadAttention)
//! runs per head.

use rand::Rng;
use strata_autograd::Var;
use strata_tensor::{Element, Tensor};

use super::MASK_VALUE;

/// Which positions a query may attend to, as PyTorch's `attn_mask`.
#[derive(Clone, Copy, Debug)]
pub enum SdpaMask<'a, T: Element = f32> {
    /// Non-zero where attention is allowed, zero where it is not (PyTorch's boolean mask,
    /// `True` = take part), broadcast to the scores `[…, L, S]`.
    Keep(&'a Tensor<T>),
    /// Added to the scores before the softmax (0 to allow, a large negative value to block),
    /// broadcast to `[…, L, S]`.
    Additive(&'a Tensor<T>),
}

/// Options of [`scaled_dot_product_attention`]: PyTorch's `attn_mask`, `dropout_p`,
/// `is_causal` and `scale`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SdpaOptions<'a, T: Element = f32> {
    /// The mask, if any.
    pub attn_mask: Option<SdpaMask<'a, T>>,
    /// Dropout probability on the attention weights (applied whenever it is positive, as in
    /// PyTorch: pass 0 in evaluation).
    pub dropout_p: f64,
    /// Query `i` attends to keys `j ≤ i` only (top-left aligned, as PyTorch's
    /// `ones(L, S).tril()`).
    pub is_causal: bool,
    /// The factor of the scores, `1/√E` if `None`.
    pub scale: Option<f64>,
}

impl<'a, T: Element> SdpaOptions<'a, T> {
    /// Sets the mask.
    pub fn with_attn_mask(mut self, mask: SdpaMask<'a, T>) -> Self {
        self.attn_mask = Some(mask);
        self
    }
    /// Sets the dropout probability.
    pub fn with_dropout(mut self, p: f64) -> Self {
        self.dropout_p = p;
        self
    }
    /// Causal attention on or off.
    pub fn with_causal(mut self, causal: bool) -> Self {
        self.is_causal = causal;
        self
    }
    /// Sets the scale of the scores.
    pub fn with_scale(mut self, scale: f64) -> Self {
        self.scale = Some(scale);
        self
    }
}

/// `softmax(Q·Kᵀ·scale + M)·V` over the last two axes, PyTorch's
/// `F.scaled_dot_product_attention`, for 3-D (`[N, L, E]`) or 4-D (`[N, H, L, E]`) inputs (any
/// rank ≥ 2 with matching batch axes): `query [… , L, E]`, `key [… , S, E]`, `value
/// [… , S, Eᵥ]` → output `[… , L, Eᵥ]`, and the attention weights `[… , L, S]` (after the
/// softmax, before dropout). `M` is the additive mask (a `Keep` mask blocks its zeros with
/// [`MASK_VALUE`]) plus, with `is_causal`, the causal mask. Dropout draws from `rng`.
///
/// Unlike PyTorch, a query whose every key is masked gets uniform weights rather than NaN.
///
/// ```
/// use strata_layers::attention::{SdpaOptions, scaled_dot_product_attention};
/// use strata_layers::Var;
/// use strata_tensor::Tensor;
///
/// let q = Var::constant(Tensor::<f32>::ones(&[2, 3, 4]));
/// let kv = Var::constant(Tensor::<f32>::ones(&[2, 5, 4]));
/// let mut rng = rand::rng();
/// let (out, w) = scaled_dot_product_attention(&q, &kv, &kv, &SdpaOptions::default().with_causal(true), &mut rng);
/// assert_eq!((out.shape(), w.shape()), (&[2, 3, 4][..], &[2, 3, 5][..]));
/// ```
///
/// # Panics
/// If the inputs' ranks or sizes disagree, `is_causal` is combined with a mask (as PyTorch
/// refuses), or `dropout_p` is outside `[0, 1)`.
pub fn scaled_dot_product_attention<T: Element>(
    query: &Var<T>,
    key: &Var<T>,
    value: &Var<T>,
    options: &SdpaOptions<'_, T>,
    rng: &mut impl Rng,
) -> (Var<T>, Var<T>) {
    let r = query.ndim();
    assert!(
        r >= 2 && key.ndim() == r && value.ndim() == r,
        "scaled_dot_product_attention: query {:?}, key {:?} and value {:?} must have one rank ≥ 2",
        query.shape(),
        key.shape(),
        value.shape()
    );
    let (l, e) = (query.shape()[r - 2], query.shape()[r - 1]);
    let s = key.shape()[r - 2];
    assert!(
        key.shape()[r - 1] == e && value.shape()[r - 2] == s,
        "scaled_dot_product_attention: query {:?}, key {:?} and value {:?} disagree in E or S",
        query.shape(),
        key.shape(),
        value.shape()
    );
    assert!(
        !(options.is_causal && options.attn_mask.is_some()),
        "scaled_dot_product_attention: is_causal and attn_mask cannot be combined"
    );
    let scale = options.scale.unwrap_or(1.0 / (e as f64).sqrt());
    let q = query.mul_scalar(T::from_f64_lossy(scale));
    let mut scores = q.matmul(&key.transpose(r - 2, r - 1));
    let blocked = T::from_f64_lossy(MASK_VALUE);
    let mask = match (options.attn_mask, options.is_causal) {
        (Some(SdpaMask::Additive(m)), _) => Some(m.clone()),
        (Some(SdpaMask::Keep(m)), _) => {
            Some(m.map(|k| if k == T::zero() { blocked } else { T::zero() }))
        }
        (None, true) => Some(Tensor::from_vec(
            (0..l)
                .flat_map(|i| (0..s).map(move |j| if j <= i { T::zero() } else { blocked }))
                .collect(),
            &[l, s],
        )),
        (None, false) => None,
    };
    if let Some(m) = mask {
        scores = scores.add_tensor(&m);
    }
    let weights = scores.softmax(r - 1);
    let dropped = weights.dropout(options.dropout_p, options.dropout_p > 0.0, rng);
    (dropped.matmul(value), weights)
}
