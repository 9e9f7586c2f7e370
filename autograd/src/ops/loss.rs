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

/// Options of [`Var::cross_entropy`], PyTorch's `CrossEntropyLoss` arguments.
#[derive(Clone, Debug, Default)]
pub struct CrossEntropyOptions<T: Element = f32> {
    /// How per-example losses are combined.
    pub reduction: Reduction,
    /// `ε ∈ [0, 1)`: the target distribution is `(1 − ε)·onehot + ε/C`.
    pub label_smoothing: f64,
    /// Per-class weights `w` of shape `[C]`.
    pub weight: Option<Tensor<T>>,
}

/// The per-example gradient scale `sᵢ` and the reduced value, given per-example losses and
/// their weights (`Σ wᵢ` normalises the mean, as in PyTorch).
fn reduce<T: Element>(losses: Vec<T>, weights_sum: T, reduction: Reduction) -> Tensor<T> {
    match reduction {
        Reduction::None => {
            let n = losses.len();
            Tensor::from_vec(losses, &[n])
        }
        Reduction::Sum => Tensor::scalar(losses.iter().fold(T::zero(), |a, &b| a + b)),
        Reduction::Mean => {
            Tensor::scalar(losses.iter().fold(T::zero(), |a, &b| a + b) / weights_sum)
        }
    }
}

/// The multiplier of example `i`'s gradient: `g` (sum), `g/Σw` (mean) or `gᵢ` (none).
fn example_scale<T: Element>(
    g: &Tensor<T>,
    reduction: Reduction,
    weights_sum: T,
) -> impl Fn(usize) -> T {
    let values = g.to_vec();
    move |i| match reduction {
        Reduction::None => values[i],
        Reduction::Sum => values[0],
        Reduction::Mean => values[0] / weights_sum,
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

impl<T: Element> Var<T> {
    /// Cross-entropy of `logits: [N, C]` against integer `targets: [N]` (class indices), from
    /// logits through a stable log-softmax `ℓ = log_softmax(x)`:
    ///
    /// `lossᵢ = (1 − ε)·w_{tᵢ}·(−ℓ_{i,tᵢ}) + (ε/C)·Σ_c w_c·(−ℓ_{i,c})`
    ///
    /// (w = 1 without class weights, ε the label smoothing), reduced by `Mean` (divided by
    /// `Σᵢ w_{tᵢ}`), `Sum` or `None` (shape `[N]`) — PyTorch's `cross_entropy`. Gradient:
    /// `∂lossᵢ/∂x_i = (1 − ε)·w_t·(pᵢ − e_t) + (ε/C)·(Σw·pᵢ − w)`, `p = softmax(x)`.
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
    /// ```
    ///
    /// # Panics
    /// If logits are not 2-D, the number of targets differs from N, a target is `≥ C`, the
    /// weight is not `[C]`, or ε is outside `[0, 1)`.
    pub fn cross_entropy(&self, targets: &[usize], options: &CrossEntropyOptions<T>) -> Var<T> {
        check_targets("cross_entropy", self.shape(), targets);
        let eps = options.label_smoothing;
        assert!(
            (0.0..1.0).contains(&eps),
            "cross_entropy: label smoothing {eps} is outside [0, 1)"
        );
        let (n, c) = (self.shape()[0], self.shape()[1]);
        let w: Vec<T> = match &options.weight {
            Some(w) => {
                assert_eq!(
                    w.shape(),
                    &[c],
                    "cross_entropy: class weights {:?} do not match {c} classes",
                    w.shape()
                );
                w.to_vec()
            }
            None => vec![T::one(); c],
        };
        let w_total = w.iter().fold(T::zero(), |a, &b| a + b);
        let (keep, spread) = (
            T::from_f64_lossy(1.0 - eps),
            T::from_f64_lossy(eps / c as f64),
        );
        let logp = self.value.log_softmax(1);
        let lp = logp.as_slice().expect("log_softmax is contiguous");
        let mut losses = Vec::with_capacity(n);
        for (i, &t) in targets.iter().enumerate() {
            let row = &lp[i * c..(i + 1) * c];
            let mut loss = -keep * w[t] * row[t];
            if eps > 0.0 {
                loss = loss
                    - spread
                        * row
                            .iter()
                            .zip(&w)
                            .fold(T::zero(), |a, (&l, &wc)| a + wc * l);
            }
            losses.push(loss);
        }
        let weights_sum = targets.iter().fold(T::zero(), |a, &t| a + w[t]);
        let value = reduce(losses, weights_sum, options.reduction);
        let (targets, reduction) = (targets.to_vec(), options.reduction);
        Var::record("cross_entropy", value, &[self], move |g, _| {
            let scale = example_scale(g, reduction, weights_sum);
            let mut grad = logp.exp().into_vec();
            for (i, &t) in targets.iter().enumerate() {
                let s = scale(i);
                let row = &mut grad[i * c..(i + 1) * c];
                let wt = w[t];
                for (j, p) in row.iter_mut().enumerate() {
                    let hard = keep * wt * (*p - if j == t { T::one() } else { T::zero() });
                    let soft = spread * (w_total * *p - w[j]);
                    *p = s * (hard + soft);
                }
            }
            vec![Some(Tensor::from_vec(grad, &[n, c]))]
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
        let value = reduce(losses, weights_sum, reduction);
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
