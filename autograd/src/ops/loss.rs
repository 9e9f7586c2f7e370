//! Fused losses: each computes its value and its gradient in one pass, without recording the
//! intermediate steps (stable `log_softmax`, stable `softplus`).

use strata_tensor::{Element, Tensor};

use crate::Var;

/// How per-element losses are combined.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// The average (weighted average for class-weighted losses). PyTorch's default.
    #[default]
    Mean,
    /// The sum.
    Sum,
    /// No reduction: one loss per example (or element).
    None,
}

/// Options of [`Var::cross_entropy`] and [`Var::cross_entropy_soft`], PyTorch's
/// `CrossEntropyLoss` arguments. The default is PyTorch's: mean, no label smoothing, no class
/// weights, no ignored class.
///
/// ```
/// use strata_autograd::{CrossEntropyOptions, Reduction};
/// use strata_tensor::Tensor;
///
/// let options = CrossEntropyOptions::default()
///     .with_reduction(Reduction::Sum)
///     .with_label_smoothing(0.1)
///     .with_weight(Tensor::<f32>::from_vec(vec![1.0, 2.0, 0.5], &[3]))
///     .with_ignore_index(255);
/// assert_eq!(options.ignore_index, Some(255));
/// ```
#[derive(Clone, Debug, Default)]
pub struct CrossEntropyOptions<T: Element = f32> {
    /// How per-example losses are combined.
    pub reduction: Reduction,
    /// `ε ∈ [0, 1)`: the target distribution is `(1 − ε)·onehot + ε/C` for class-index
    /// targets, `(1 − ε)·p + ε/C` for probability targets.
    pub label_smoothing: f64,
    /// Per-class weights `w` of shape `[C]`.
    pub weight: Option<Tensor<T>>,
    /// A target value that contributes nothing (loss and gradient 0) and is left out of the
    /// mean's denominator: PyTorch's `ignore_index` (there −100 by default; here `None`). It
    /// need not be a valid class (e.g. 255 for unlabelled pixels). Class-index targets only.
    pub ignore_index: Option<usize>,
}

impl<T: Element> CrossEntropyOptions<T> {
    /// Sets how per-example losses are combined.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets the label smoothing `ε ∈ [0, 1)` (checked when the loss is computed).
    pub fn with_label_smoothing(mut self, label_smoothing: f64) -> Self {
        self.label_smoothing = label_smoothing;
        self
    }

    /// Sets the per-class weights, shape `[C]` (checked when the loss is computed).
    pub fn with_weight(mut self, weight: Tensor<T>) -> Self {
        self.weight = Some(weight);
        self
    }

    /// Sets the target value whose examples are ignored (class-index targets only).
    pub fn with_ignore_index(mut self, ignore_index: usize) -> Self {
        self.ignore_index = Some(ignore_index);
        self
    }
}

/// The reduced value of per-example losses: `Σ lossᵢ / denominator` (mean), `Σ lossᵢ` (sum),
/// or the losses themselves in `shape` (none).
fn reduce<T: Element>(
    losses: Vec<T>,
    denominator: T,
    reduction: Reduction,
    shape: &[usize],
) -> Tensor<T> {
    match reduction {
        Reduction::None => Tensor::from_vec(losses, shape),
        Reduction::Sum => Tensor::scalar(losses.iter().fold(T::zero(), |a, &b| a + b)),
        Reduction::Mean => {
            Tensor::scalar(losses.iter().fold(T::zero(), |a, &b| a + b) / denominator)
        }
    }
}

/// The multiplier of example `i`'s gradient: `g` (sum), `g/denominator` (mean) or `gᵢ`
/// (none).
fn example_scale<T: Element>(
    g: &Tensor<T>,
    reduction: Reduction,
    denominator: T,
) -> impl Fn(usize) -> T {
    let values = g.to_vec();
    move |i| match reduction {
        Reduction::None => values[i],
        Reduction::Sum => values[0],
        Reduction::Mean => values[0] / denominator,
    }
}

fn check_targets(op: &str, logits: &[usize], targets: &[usize]) {
    assert!(
        logits.len() == 2,
        "{op}: expects logits [N, C], got {logits:?}"
    );
    assert_eq!(
        targets.len(),
        logits[0],
        "{op}: {} targets for {} examples (logits {logits:?})",
        targets.len(),
        logits[0]
    );
    if let Some(&bad) = targets.iter().find(|&&t| t >= logits[1]) {
        panic!(
            "{op}: target {bad} is out of range for {} classes",
            logits[1]
        );
    }
}

/// The class layout of logits `[N, C, d1, …, dk]`: `(N, C, D = d1·…·dk)` (`D = 1` for
/// `[N, C]`). Element `(n, c, d)` (with `d` the flattened trailing index) is at
/// `(n·C + c)·D + d`.
fn class_layout(op: &str, shape: &[usize]) -> (usize, usize, usize) {
    assert!(
        shape.len() >= 2,
        "{op}: expects logits [N, C] or [N, C, d1, …, dk], got {shape:?}"
    );
    (shape[0], shape[1], shape[2..].iter().product())
}

/// The shape of a per-example loss: the logits' shape without the class dimension.
fn example_shape(shape: &[usize]) -> Vec<usize> {
    let mut s = shape.to_vec();
    s.remove(1);
    s
}

/// The class weights as a vector of `C` values (all 1 without weights).
fn class_weights<T: Element>(op: &str, weight: Option<&Tensor<T>>, c: usize) -> Vec<T> {
    match weight {
        Some(w) => {
            assert_eq!(
                w.shape(),
                &[c],
                "{op}: class weights {:?} do not match {c} classes",
                w.shape()
            );
            w.to_vec()
        }
        None => vec![T::one(); c],
    }
}

/// The smoothing coefficients `(1 − ε, ε/C)`.
fn smoothing<T: Element>(op: &str, eps: f64, c: usize) -> (T, T) {
    assert!(
        (0.0..1.0).contains(&eps),
        "{op}: label smoothing {eps} is outside [0, 1)"
    );
    (
        T::from_f64_lossy(1.0 - eps),
        T::from_f64_lossy(eps / c as f64),
    )
}

impl<T: Element> Var<T> {
    /// Cross-entropy of logits `x: [N, C]` or `[N, C, d1, …, dk]` (classes on dimension 1,
    /// as PyTorch) against integer targets (class indices) `t: [N]` or `[N, d1, …, dk]`,
    /// flattened in row-major order. With `ℓ = log_softmax(x)` along dimension 1 (stable),
    /// for each example `i` (a pair `(n, d)` in the N-D case):
    ///
    /// `lossᵢ = (1 − ε)·w_{tᵢ}·(−ℓ_{i,tᵢ}) + (ε/C)·Σ_c w_c·(−ℓ_{i,c})`
    ///
    /// (w = 1 without class weights, ε the label smoothing), and `lossᵢ = 0` where
    /// `tᵢ = ignore_index`. Reduced by `Mean` (divided by `Σᵢ w_{tᵢ}` over the examples not
    /// ignored, PyTorch's weighted mean — NaN when every example is ignored, as in PyTorch),
    /// `Sum`, or `None` (shape `[N]` or `[N, d1, …, dk]`) — PyTorch's `cross_entropy` with
    /// class-index targets. Gradient: `∂lossᵢ/∂x_i = (1 − ε)·w_t·(pᵢ − e_t) + (ε/C)·(Σw·pᵢ − w)`,
    /// `p = softmax(x)`, and 0 for ignored examples. For probability targets see
    /// [`Var::cross_entropy_soft`].
    ///
    /// ```
    /// use strata_autograd::{CrossEntropyOptions, Var};
    /// use strata_tensor::Tensor;
    ///
    /// // Two classes with equal logits: p = (½, ½), loss = ln 2 for either target.
    /// let logits = Var::leaf(Tensor::<f64>::from_vec(vec![0.0, 0.0], &[1, 2]));
    /// let loss = logits.cross_entropy(&[0], &CrossEntropyOptions::default());
    /// assert!((loss.item() - std::f64::consts::LN_2).abs() < 1e-12);
    /// // ∂loss/∂logits = p − onehot(target).
    /// let grad = loss.backward().wrt(&logits).unwrap().to_vec();
    /// assert!((grad[0] + 0.5).abs() < 1e-12 && (grad[1] - 0.5).abs() < 1e-12);
    ///
    /// // Per-position targets of a sequence, logits [N = 1, C = 2, L = 3]; position 1 carries
    /// // the padding label 9 and is ignored: the mean is over the other two positions.
    /// let logits = Var::leaf(Tensor::<f64>::from_vec(
    ///     vec![0.0, 5.0, 0.0, /* class 1: */ 0.0, -5.0, 0.0],
    ///     &[1, 2, 3],
    /// ));
    /// let options = CrossEntropyOptions::default().with_ignore_index(9);
    /// let loss = logits.cross_entropy(&[1, 9, 0], &options);
    /// assert!((loss.item() - std::f64::consts::LN_2).abs() < 1e-12);
    /// let grad = loss.backward().wrt(&logits).unwrap().to_vec();
    /// assert_eq!((grad[1], grad[4]), (0.0, 0.0));
    /// ```
    ///
    /// # Panics
    /// If the logits have fewer than 2 dimensions, the number of targets is not
    /// `N·d1·…·dk`, a target other than `ignore_index` is `≥ C`, the weight is not `[C]`,
    /// or ε is outside `[0, 1)`.
    pub fn cross_entropy(&self, targets: &[usize], options: &CrossEntropyOptions<T>) -> Var<T> {
        const OP: &str = "cross_entropy";
        let shape = self.shape().to_vec();
        let (n, c, inner) = class_layout(OP, &shape);
        if targets.len() != n * inner {
            let need = if shape.len() == 2 {
                format!("{n}")
            } else {
                let dims: Vec<String> = std::iter::once(&n)
                    .chain(&shape[2..])
                    .map(|d| d.to_string())
                    .collect();
                format!("{} = {}", dims.join("·"), n * inner)
            };
            panic!(
                "{OP}: logits {shape:?} and targets of length {} do not match (need {need})",
                targets.len()
            );
        }
        let ignore = options.ignore_index;
        if let Some(&bad) = targets.iter().find(|&&t| t >= c && Some(t) != ignore) {
            panic!("{OP}: target {bad} is out of range for {c} classes");
        }
        let (keep, spread) = smoothing::<T>(OP, options.label_smoothing, c);
        let w = class_weights(OP, options.weight.as_ref(), c);
        let w_total = w.iter().fold(T::zero(), |a, &b| a + b);
        let logp = self.value.log_softmax(1);
        let lp = logp.as_slice().expect("log_softmax is contiguous");
        // Example i = (n, d) has its class j at base(i) + j·D.
        let base = move |i: usize| (i / inner) * c * inner + i % inner;
        let mut losses = Vec::with_capacity(targets.len());
        let mut weights_sum = T::zero();
        for (i, &t) in targets.iter().enumerate() {
            if Some(t) == ignore {
                losses.push(T::zero());
                continue;
            }
            let b = base(i);
            let mut loss = -keep * w[t] * lp[b + t * inner];
            if spread != T::zero() {
                let dot = (0..c).fold(T::zero(), |a, j| a + w[j] * lp[b + j * inner]);
                loss = loss - spread * dot;
            }
            weights_sum = weights_sum + w[t];
            losses.push(loss);
        }
        let value = reduce(
            losses,
            weights_sum,
            options.reduction,
            &example_shape(&shape),
        );
        let (targets, reduction) = (targets.to_vec(), options.reduction);
        Var::record(OP, value, &[self], move |g, _| {
            let scale = example_scale(g, reduction, weights_sum);
            let mut grad = logp.exp().into_vec();
            for (i, &t) in targets.iter().enumerate() {
                let b = base(i);
                if Some(t) == ignore {
                    // Exactly 0, even where the mean's scale is 1/0 (all ignored).
                    (0..c).for_each(|j| grad[b + j * inner] = T::zero());
                    continue;
                }
                let (s, wt) = (scale(i), w[t]);
                for (j, &wj) in w.iter().enumerate() {
                    let p = &mut grad[b + j * inner];
                    let hard = keep * wt * (*p - if j == t { T::one() } else { T::zero() });
                    let soft = spread * (w_total * *p - wj);
                    *p = s * (hard + soft);
                }
            }
            vec![Some(Tensor::from_vec(grad, &shape))]
        })
    }

    /// Cross-entropy of logits `x: [N, C]` or `[N, C, d1, …, dk]` against probability targets
    /// `p` of the same shape (a distribution over the classes, dimension 1, for each example):
    /// with `ℓ = log_softmax(x)` along dimension 1 and the smoothed targets
    /// `p' = (1 − ε)·p + ε/C`,
    ///
    /// `lossᵢ = −Σ_c w_c·p'_{i,c}·ℓ_{i,c}`
    ///
    /// for each example `i` (a pair `(n, d)` in the N-D case; w = 1 without class weights).
    /// Reduced by `Mean` (divided by the number of examples `N·d1·…·dk`, not by the weights:
    /// PyTorch's rule for probability targets), `Sum`, or `None` (shape `[N]` or
    /// `[N, d1, …, dk]`) — PyTorch's `cross_entropy` with floating-point targets. Gradients,
    /// with `aᵢ = w·p'ᵢ` and `q = softmax(x)`: `∂lossᵢ/∂xᵢ = (Σ_c a_{i,c})·qᵢ − aᵢ` and
    /// `∂lossᵢ/∂p_{i,c} = −(1 − ε)·w_c·ℓ_{i,c}`; the targets need not sum to 1.
    ///
    /// ```
    /// use strata_autograd::{CrossEntropyOptions, Var};
    /// use strata_tensor::Tensor;
    ///
    /// // Equal logits over two classes: ℓ = (−ln 2, −ln 2) whatever the target distribution.
    /// let logits = Var::leaf(Tensor::<f64>::from_vec(vec![0.0, 0.0], &[1, 2]));
    /// let probs = Var::constant(Tensor::from_vec(vec![0.25, 0.75], &[1, 2]));
    /// let loss = logits.cross_entropy_soft(&probs, &CrossEntropyOptions::default());
    /// assert!((loss.item() - std::f64::consts::LN_2).abs() < 1e-12);
    /// // ∂loss/∂logits = softmax(x) − p.
    /// let grad = loss.backward().wrt(&logits).unwrap().to_vec();
    /// assert!((grad[0] - 0.25).abs() < 1e-12 && (grad[1] + 0.25).abs() < 1e-12);
    /// ```
    ///
    /// # Panics
    /// If the logits have fewer than 2 dimensions, the targets' shape differs from the
    /// logits', the weight is not `[C]`, ε is outside `[0, 1)`, or `ignore_index` is set
    /// (ignoring a class index has no meaning for probability targets).
    pub fn cross_entropy_soft(&self, probs: &Var<T>, options: &CrossEntropyOptions<T>) -> Var<T> {
        const OP: &str = "cross_entropy_soft";
        let shape = self.shape().to_vec();
        let (n, c, inner) = class_layout(OP, &shape);
        assert_eq!(
            probs.shape(),
            shape.as_slice(),
            "{OP}: logits {shape:?} and probability targets {:?} differ in shape",
            probs.shape()
        );
        if let Some(i) = options.ignore_index {
            panic!(
                "{OP}: ignore_index {i} applies to class-index targets only, not to probability \
                 targets"
            );
        }
        let (keep, spread) = smoothing::<T>(OP, options.label_smoothing, c);
        let w = class_weights(OP, options.weight.as_ref(), c);
        let logp = self.value.log_softmax(1);
        let p = probs.value.contiguous();
        let examples = n * inner;
        let base = move |i: usize| (i / inner) * c * inner + i % inner;
        let losses = {
            let (lp, pv) = (
                logp.as_slice().expect("log_softmax is contiguous"),
                p.as_slice().expect("contiguous"),
            );
            (0..examples)
                .map(|i| {
                    let b = base(i);
                    (0..c).fold(T::zero(), |a, j| {
                        let k = b + j * inner;
                        a - w[j] * (keep * pv[k] + spread) * lp[k]
                    })
                })
                .collect()
        };
        let count = T::from_f64_lossy(examples as f64);
        let value = reduce(losses, count, options.reduction, &example_shape(&shape));
        let reduction = options.reduction;
        Var::record(OP, value, &[self, probs], move |g, needs| {
            let scale = example_scale(g, reduction, count);
            let lp = logp.as_slice().expect("log_softmax is contiguous");
            let pv = p.as_slice().expect("contiguous");
            let gx = needs[0].then(|| {
                let mut grad = logp.exp().into_vec();
                for i in 0..examples {
                    let (b, s) = (base(i), scale(i));
                    let total = (0..c).fold(T::zero(), |a, j| {
                        a + w[j] * (keep * pv[b + j * inner] + spread)
                    });
                    for (j, &wj) in w.iter().enumerate() {
                        let k = b + j * inner;
                        grad[k] = s * (total * grad[k] - wj * (keep * pv[k] + spread));
                    }
                }
                Tensor::from_vec(grad, &shape)
            });
            let gp = needs[1].then(|| {
                let mut grad = vec![T::zero(); lp.len()];
                for i in 0..examples {
                    let (b, s) = (base(i), scale(i));
                    for (j, &wj) in w.iter().enumerate() {
                        let k = b + j * inner;
                        grad[k] = -s * keep * wj * lp[k];
                    }
                }
                Tensor::from_vec(grad, &shape)
            });
            vec![gx, gp]
        })
    }

    /// Negative log-likelihood of `log_probs: [N, C]` (e.g. a `log_softmax` output) against
    /// integer `targets`: `lossᵢ = −w_{tᵢ}·log_probs[i, tᵢ]`, reduced as [`Reduction`] says
    /// (mean divides by `Σ w_{tᵢ}`). `weight` is optional, shape `[C]`.
    ///
    /// # Panics
    /// As [`Var::cross_entropy`].
    pub fn nll_loss(
        &self,
        targets: &[usize],
        weight: Option<&Tensor<T>>,
        reduction: Reduction,
    ) -> Var<T> {
        check_targets("nll_loss", self.shape(), targets);
        let (n, c) = (self.shape()[0], self.shape()[1]);
        let w: Vec<T> = match weight {
            Some(w) => {
                assert_eq!(
                    w.shape(),
                    &[c],
                    "nll_loss: class weights {:?} do not match {c} classes",
                    w.shape()
                );
                w.to_vec()
            }
            None => vec![T::one(); c],
        };
        let lp = self.value.contiguous();
        let lp = lp.as_slice().expect("contiguous");
        let losses = targets
            .iter()
            .enumerate()
            .map(|(i, &t)| -w[t] * lp[i * c + t])
            .collect();
        let weights_sum = targets.iter().fold(T::zero(), |a, &t| a + w[t]);
        let value = reduce(losses, weights_sum, reduction, &[n]);
        let targets = targets.to_vec();
        Var::record("nll_loss", value, &[self], move |g, _| {
            let scale = example_scale(g, reduction, weights_sum);
            let mut grad = vec![T::zero(); n * c];
            for (i, &t) in targets.iter().enumerate() {
                grad[i * c + t] = -w[t] * scale(i);
            }
            vec![Some(Tensor::from_vec(grad, &[n, c]))]
        })
    }

    /// Mean squared error `(p − t)²` per element, reduced (mean over all elements by default).
    /// `∂/∂p = 2(p − t)`, `∂/∂t = −2(p − t)`. `Reduction::None` keeps the input's shape.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn mse_loss(&self, target: &Var<T>, reduction: Reduction) -> Var<T> {
        assert_eq!(
            self.shape(),
            target.shape(),
            "mse_loss: prediction {:?} and target {:?} differ in shape",
            self.shape(),
            target.shape()
        );
        let diff = self.value.sub(&target.value);
        let sq = diff.square();
        let n = T::from_f64_lossy(sq.numel() as f64);
        let value = match reduction {
            Reduction::None => sq,
            Reduction::Sum => Tensor::scalar(sq.sum()),
            Reduction::Mean => Tensor::scalar(sq.sum() / n),
        };
        Var::record("mse_loss", value, &[self, target], move |g, needs| {
            let two = T::from_f64_lossy(2.0);
            let gp = match reduction {
                Reduction::None => diff.mul(g).mul_scalar(two),
                Reduction::Sum => diff.mul_scalar(two * g.item()),
                Reduction::Mean => diff.mul_scalar(two * g.item() / n),
            };
            let gt = needs[1].then(|| gp.neg());
            vec![needs[0].then_some(gp), gt]
        })
    }

    /// Huber loss (PyTorch `huber_loss`): per element, with `d = p − t`,
    /// `½d²` where `|d| < δ` and `δ(|d| − ½δ)` elsewhere, reduced (mean over all elements by
    /// default). Quadratic near the target and linear far from it, so one outlier cannot
    /// dominate the gradient: `∂/∂p = clamp(d, −δ, δ)`, `∂/∂t = −∂/∂p`. `Reduction::None` keeps
    /// the input's shape. DQN's temporal-difference loss with `δ = 1`.
    ///
    /// # Panics
    /// If the shapes differ, or `δ` is not positive and finite.
    pub fn huber_loss(&self, target: &Var<T>, delta: f64, reduction: Reduction) -> Var<T> {
        self.robust_loss("huber_loss", target, delta, 1.0, reduction)
    }

    /// Smooth L1 loss (PyTorch `smooth_l1_loss`): per element, with `d = p − t`,
    /// `½d²/β` where `|d| < β` and `|d| − ½β` elsewhere — the Huber loss with `δ = β`
    /// divided by `β`. `∂/∂p = clamp(d, −β, β)/β`. `Reduction::None` keeps the input's shape.
    ///
    /// # Panics
    /// If the shapes differ, or `β` is not positive and finite.
    pub fn smooth_l1_loss(&self, target: &Var<T>, beta: f64, reduction: Reduction) -> Var<T> {
        self.robust_loss("smooth_l1_loss", target, beta, 1.0 / beta, reduction)
    }

    /// `scale · huber_δ(p − t)`, reduced: the body of [`Var::huber_loss`] and
    /// [`Var::smooth_l1_loss`].
    fn robust_loss(
        &self,
        op: &'static str,
        target: &Var<T>,
        delta: f64,
        scale: f64,
        reduction: Reduction,
    ) -> Var<T> {
        assert_eq!(
            self.shape(),
            target.shape(),
            "{op}: prediction {:?} and target {:?} differ in shape",
            self.shape(),
            target.shape()
        );
        assert!(
            delta.is_finite() && delta > 0.0,
            "{op}: the threshold must be positive and finite, got {delta}"
        );
        let (d, s) = (T::from_f64_lossy(delta), T::from_f64_lossy(scale));
        let half = T::from_f64_lossy(0.5);
        let diff = self.value.sub(&target.value);
        let per = diff.map(|x| {
            let a = x.abs();
            s * if a < d {
                half * x * x
            } else {
                d * (a - half * d)
            }
        });
        let n = T::from_f64_lossy(per.numel() as f64);
        let value = match reduction {
            Reduction::None => per,
            Reduction::Sum => Tensor::scalar(per.sum()),
            Reduction::Mean => Tensor::scalar(per.sum() / n),
        };
        Var::record(op, value, &[self, target], move |g, needs| {
            let slope = diff.map(|x| s * x.max(-d).min(d));
            let gp = match reduction {
                Reduction::None => slope.mul(g),
                Reduction::Sum => slope.mul_scalar(g.item()),
                Reduction::Mean => slope.mul_scalar(g.item() / n),
            };
            let gt = needs[1].then(|| gp.neg());
            vec![needs[0].then_some(gp), gt]
        })
    }

    /// Binary cross-entropy of probabilities `p ∈ [0, 1]` against targets `t` of the same
    /// shape, as PyTorch's `binary_cross_entropy`: `−(t·max(ln p, −100) + (1 − t)·max(ln(1 − p), −100))`
    /// per element, reduced (mean over all elements by default). Gradient
    /// `∂/∂p = (p − t) / max(p·(1 − p), 10⁻¹²)` (finite at saturated `p`), `∂/∂t = ln(1 − p) − ln p`
    /// (with the clamped logs).
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn binary_cross_entropy(&self, target: &Var<T>, reduction: Reduction) -> Var<T> {
        assert_eq!(
            self.shape(),
            target.shape(),
            "binary_cross_entropy: prediction {:?} and target {:?} differ in shape",
            self.shape(),
            target.shape()
        );
        let (p, t) = (self.value.clone(), target.value.clone());
        let floor = T::from_f64_lossy(-100.0);
        let log_p = p.map(|v| v.ln().max(floor));
        let log_q = p.map(|v| (T::one() - v).ln().max(floor));
        let per = t
            .mul(&log_p)
            .add(&t.rsub_scalar(T::one()).mul(&log_q))
            .neg();
        let n = T::from_f64_lossy(per.numel() as f64);
        let value = match reduction {
            Reduction::None => per,
            Reduction::Sum => Tensor::scalar(per.sum()),
            Reduction::Mean => Tensor::scalar(per.sum() / n),
        };
        Var::record(
            "binary_cross_entropy",
            value,
            &[self, target],
            move |g, needs| {
                let eps = T::from_f64_lossy(1e-12);
                let scale = |d: Tensor<T>| match reduction {
                    Reduction::None => d.mul(g),
                    Reduction::Sum => d.mul_scalar(g.item()),
                    Reduction::Mean => d.mul_scalar(g.item() / n),
                };
                let gp = needs[0]
                    .then(|| scale(p.zip_map(&t, |p, t| (p - t) / (p * (T::one() - p)).max(eps))));
                let gt = needs[1].then(|| scale(log_q.sub(&log_p)));
                vec![gp, gt]
            },
        )
    }

    /// Binary cross-entropy from logits `x` against targets `t ∈ [0, 1]` of the same shape,
    /// computed stably as `max(x, 0) − x·t + ln(1 + e^{−|x|})` per element, reduced (mean over
    /// all elements by default). `∂/∂x = σ(x) − t`, `∂/∂t = −x`.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn bce_with_logits(&self, target: &Var<T>, reduction: Reduction) -> Var<T> {
        assert_eq!(
            self.shape(),
            target.shape(),
            "bce_with_logits: logits {:?} and target {:?} differ in shape",
            self.shape(),
            target.shape()
        );
        let (x, t) = (self.value.clone(), target.value.clone());
        let per = x.zip_map(&t, |x, t| {
            x.max(T::zero()) - x * t + (-x.abs()).exp().ln_1p()
        });
        let n = T::from_f64_lossy(per.numel() as f64);
        let value = match reduction {
            Reduction::None => per,
            Reduction::Sum => Tensor::scalar(per.sum()),
            Reduction::Mean => Tensor::scalar(per.sum() / n),
        };
        Var::record(
            "bce_with_logits",
            value,
            &[self, target],
            move |g, needs| {
                let s = match reduction {
                    Reduction::None => None,
                    Reduction::Sum => Some(g.item()),
                    Reduction::Mean => Some(g.item() / n),
                };
                let weight = |d: Tensor<T>| match s {
                    Some(s) => d.mul_scalar(s),
                    None => d.mul(g),
                };
                let gx = needs[0].then(|| weight(x.sigmoid().sub(&t)));
                let gt = needs[1].then(|| weight(x.neg()));
                vec![gx, gt]
            },
        )
    }
}
