//! Batch normalisation (Ioffe & Szegedy 2015): [`BatchNorm1d`] and [`BatchNorm2d`].

use strata_autograd::{Param, Var};
use strata_tensor::{Element, Tensor};

use crate::Module;

/// Batch normalisation over the channel axis 1 of `[N, C, …]`, with `D` spatial dimensions
/// after the channels (`D = 1`: [`BatchNorm1d`], `D = 2`: [`BatchNorm2d`]). Each channel `c` is
/// normalised with statistics taken over every other axis (`n = N·Π spatial` values):
///
/// `y = γ_c·(x − μ_c)/√(σ²_c + ε) + β_c`
///
/// - **training** ([`Module::train`], the initial mode): `μ_c`, `σ²_c` are the batch mean and
///   the *biased* batch variance (divide by `n`), and the running estimates are updated as
///   `running ← (1 − m)·running + m·batch` with the *unbiased* variance (divide by `n − 1`)
///   for `running_var`; `num_batches_tracked` counts the updates;
/// - **evaluation** ([`Module::eval`]): `μ_c = running_mean_c`, `σ²_c = running_var_c`.
///
/// Defaults match PyTorch's `nn.BatchNorm1d`/`nn.BatchNorm2d`: `ε = 1e-5`, momentum
/// `m = 0.1`, learnable `weight` (γ) initialised to 1 and `bias` (β) to 0, both `[C]`
/// (absent after [`BatchNorm::without_affine`]); buffers `running_mean` (`[C]`, zeros),
/// `running_var` (`[C]`, ones) and `num_batches_tracked` (rank 0, 0). The names are PyTorch's
/// `state_dict` keys. With batch statistics the forward pass is one fused op
/// ([`Var::batch_norm`]) whose backward flows through the statistics exactly; with running
/// estimates (evaluation) it is composed of differentiable ops.
///
/// `num_batches_tracked` is stored in the element type (PyTorch uses an `int64`), exact up to
/// 2²⁴ batches in `f32`.
///
/// With [`BatchNorm::without_running_stats`] (PyTorch's `track_running_stats=False`) there are
/// no buffers and batch statistics are used in both modes.
pub struct BatchNorm<T: Element, const D: usize> {
    /// γ, `[C]` (`None` without affine parameters).
    pub weight: Option<Param<T>>,
    /// β, `[C]` (`None` without affine parameters).
    pub bias: Option<Param<T>>,
    /// Running mean, `[C]` (`None` when running statistics are not tracked).
    pub running_mean: Option<Tensor<T>>,
    /// Running (unbiased) variance, `[C]`.
    pub running_var: Option<Tensor<T>>,
    /// Number of running-statistics updates so far (rank 0).
    pub num_batches_tracked: Option<Tensor<T>>,
    num_features: usize,
    momentum: Option<f64>,
    eps: f64,
    training: bool,
}

/// Batch normalisation of `[N, C]` or `[N, C, L]` inputs (statistics per channel over `N`, or
/// over `N` and `L`); see [`BatchNorm`] for the formula, buffers and defaults (PyTorch's
/// `nn.BatchNorm1d`).
///
/// ```
/// use strata_layers::{BatchNorm1d, Module};
/// use strata_tensor::Tensor;
///
/// let mut bn = BatchNorm1d::<f64>::new(1);
/// let y = bn.predict(&Tensor::from_vec(vec![1.0, 3.0], &[2, 1]));
/// // mean 2, biased variance 1: y = ±1/√(1 + 1e-5)
/// assert!((y.get(&[1, 0]) - 1.0 / (1.0f64 + 1e-5).sqrt()).abs() < 1e-12);
/// // running_mean = 0.9·0 + 0.1·2, running_var = 0.9·1 + 0.1·2 (unbiased variance 2)
/// assert!((bn.running_mean.as_ref().unwrap().get(&[0]) - 0.2).abs() < 1e-12);
/// assert!((bn.running_var.as_ref().unwrap().get(&[0]) - 1.1).abs() < 1e-12);
/// ```
pub type BatchNorm1d<T = f32> = BatchNorm<T, 1>;

/// Batch normalisation of `[N, C, H, W]` inputs (statistics per channel over `N`, `H`, `W`);
/// see [`BatchNorm`] for the formula, buffers and defaults (PyTorch's `nn.BatchNorm2d`).
pub type BatchNorm2d<T = f32> = BatchNorm<T, 2>;

impl<T: Element, const D: usize> BatchNorm<T, D> {
    fn name() -> &'static str {
        match D {
            1 => "BatchNorm1d",
            2 => "BatchNorm2d",
            _ => "BatchNorm",
        }
    }

    /// Batch norm of `num_features` channels with PyTorch's defaults: `ε = 1e-5`, momentum
    /// 0.1, affine (γ = 1, β = 0), running statistics tracked, training mode.
    ///
    /// # Panics
    /// If `num_features` is 0.
    pub fn new(num_features: usize) -> Self {
        assert!(
            num_features > 0,
            "{}: num_features must be positive, got 0",
            Self::name()
        );
        let c = [num_features];
        BatchNorm {
            weight: Some(Param::new(Tensor::ones(&c))),
            bias: Some(Param::new(Tensor::zeros(&c))),
            running_mean: Some(Tensor::zeros(&c)),
            running_var: Some(Tensor::ones(&c)),
            num_batches_tracked: Some(Tensor::scalar(T::zero())),
            num_features,
            momentum: Some(0.1),
            eps: 1e-5,
            training: true,
        }
    }

    /// Sets the momentum `m` of the running estimates (`running ← (1 − m)·running + m·batch`).
    ///
    /// # Panics
    /// If `m` is outside `[0, 1]`.
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        assert!(
            (0.0..=1.0).contains(&momentum),
            "{}: momentum {momentum} is outside [0, 1]",
            Self::name()
        );
        self.momentum = Some(momentum);
        self
    }

    /// Uses a cumulative moving average instead of an exponential one (PyTorch's
    /// `momentum=None`): after `k` batches the running estimates are the plain average of the
    /// `k` batch statistics (`m = 1/k` at the `k`-th update).
    pub fn with_cumulative_average(mut self) -> Self {
        self.momentum = None;
        self
    }

    /// Sets `ε`, added to the variance before the square root.
    ///
    /// # Panics
    /// If `eps` is not positive and finite.
    pub fn with_eps(mut self, eps: f64) -> Self {
        assert!(
            eps > 0.0 && eps.is_finite(),
            "{}: eps must be positive and finite, got {eps}",
            Self::name()
        );
        self.eps = eps;
        self
    }

    /// Drops γ and β (`y = (x − μ)/√(σ² + ε)`), PyTorch's `affine=False`.
    pub fn without_affine(mut self) -> Self {
        self.weight = None;
        self.bias = None;
        self
    }

    /// Keeps no running statistics (PyTorch's `track_running_stats=False`): no buffers, and
    /// batch statistics in evaluation mode too.
    pub fn without_running_stats(mut self) -> Self {
        self.running_mean = None;
        self.running_var = None;
        self.num_batches_tracked = None;
        self
    }

    /// The number of channels `C`.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// The momentum (`None`: cumulative average).
    pub fn momentum(&self) -> Option<f64> {
        self.momentum
    }

    /// `ε`.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// Whether the layer is in training mode.
    pub fn is_training(&self) -> bool {
        self.training
    }

    fn check_input(&self, shape: &[usize]) {
        let ranks_ok = match D {
            1 => shape.len() == 2 || shape.len() == 3,
            _ => shape.len() == D + 2,
        };
        let expected = match D {
            1 => "[N, C] or [N, C, L]",
            2 => "[N, C, H, W]",
            _ => "[N, C, …]",
        };
        assert!(
            ranks_ok,
            "{}: expects input {expected}, got {shape:?}",
            Self::name()
        );
        assert_eq!(
            shape[1],
            self.num_features,
            "{}: input {shape:?} has {} channels, the layer {}",
            Self::name(),
            shape[1],
            self.num_features
        );
    }

    /// Updates the running estimates from a batch's mean and biased variance (`[C]` each)
    /// computed over `n` values per channel.
    fn update_running(&mut self, mean: &Tensor<T>, biased_var: &Tensor<T>, n: usize) {
        let (Some(rm), Some(rv), Some(count)) = (
            &mut self.running_mean,
            &mut self.running_var,
            &mut self.num_batches_tracked,
        ) else {
            return;
        };
        let k = count.item().to_f64_lossless() + 1.0;
        *count = Tensor::scalar(T::from_f64_lossy(k));
        let m = self.momentum.unwrap_or(1.0 / k);
        let t = T::from_f64_lossy;
        let unbiased = biased_var.mul_scalar(t(n as f64 / (n - 1) as f64));
        *rm = rm.mul_scalar(t(1.0 - m)).add(&mean.mul_scalar(t(m)));
        *rv = rv.mul_scalar(t(1.0 - m)).add(&unbiased.mul_scalar(t(m)));
    }
}

/// The mean of `x` over every axis but 1, kept as size-1 axes (`[1, C, 1, …]`).
fn channel_mean<T: Element>(x: &Var<T>) -> Var<T> {
    (0..x.ndim())
        .filter(|&a| a != 1)
        .fold(x.clone(), |m, a| m.mean_axis(a, true))
}

impl<T: Element, const D: usize> Module<T> for BatchNorm<T, D> {
    /// `y = γ·(x − μ)/√(σ² + ε) + β` per channel; see [`BatchNorm`].
    ///
    /// # Panics
    /// If the input's rank is wrong for the layer (`[N, C]`/`[N, C, L]` for `BatchNorm1d`,
    /// `[N, C, H, W]` for `BatchNorm2d`), its axis 1 is not `C`, or, in training, a channel
    /// has a single value (`N·Π spatial = 1`: the variance is undefined).
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        self.check_input(x.shape());
        let c = self.num_features;
        let mut bshape = vec![1; x.ndim()];
        bshape[1] = c;
        let t = T::from_f64_lossy;
        let running = match (&self.running_mean, &self.running_var) {
            (Some(rm), Some(rv)) if !self.training => {
                Some((rm.reshape(&bshape), rv.reshape(&bshape)))
            }
            _ => None,
        };
        let n = x.value().numel() / c.max(1);
        assert!(
            n > 1 || !self.training,
            "{}: expected more than 1 value per channel when training, got input {:?}",
            Self::name(),
            x.shape()
        );
        if running.is_none() && n > 1 {
            // Batch statistics: one fused op.
            let (w, b) = (
                self.weight.as_ref().map(|w| w.var()),
                self.bias.as_ref().map(|b| b.var()),
            );
            let (y, stats) = x.batch_norm(w.as_ref(), b.as_ref(), self.eps);
            if self.training {
                self.update_running(&stats.mean, &stats.var, stats.count);
            }
            return crate::record_output(y, &*self);
        }
        let normalised = if let Some((rm, rv)) = running {
            let inv_std = rv.add_scalar(t(self.eps)).sqrt().recip();
            x.sub(&Var::constant(rm)).mul_tensor(&inv_std)
        } else {
            // Evaluation without running estimates on one value per channel: σ² = 0.
            let centered = x.sub(&channel_mean(x));
            centered.mul_scalar(t(1.0 / self.eps.sqrt()))
        };
        let scaled = match &self.weight {
            Some(w) => normalised.mul(&w.var().reshape(&bshape)),
            None => normalised,
        };
        crate::record_output(
            match &self.bias {
                Some(b) => scaled.add(&b.var().reshape(&bshape)),
                None => scaled,
            },
            &*self,
        )
    }

    fn params(&self) -> Vec<(String, &Param<T>)> {
        let mut out = Vec::new();
        if let Some(w) = &self.weight {
            out.push(("weight".to_string(), w));
        }
        if let Some(b) = &self.bias {
            out.push(("bias".to_string(), b));
        }
        out
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        let mut out = Vec::new();
        if let Some(w) = &mut self.weight {
            out.push(("weight".to_string(), w));
        }
        if let Some(b) = &mut self.bias {
            out.push(("bias".to_string(), b));
        }
        out
    }

    /// `running_mean`, `running_var`, `num_batches_tracked` (PyTorch's order), when tracked.
    fn buffers(&self) -> Vec<(String, &Tensor<T>)> {
        let mut out = Vec::new();
        if let (Some(rm), Some(rv), Some(k)) = (
            &self.running_mean,
            &self.running_var,
            &self.num_batches_tracked,
        ) {
            out.push(("running_mean".to_string(), rm));
            out.push(("running_var".to_string(), rv));
            out.push(("num_batches_tracked".to_string(), k));
        }
        out
    }

    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor<T>)> {
        let mut out = Vec::new();
        if let (Some(rm), Some(rv), Some(k)) = (
            &mut self.running_mean,
            &mut self.running_var,
            &mut self.num_batches_tracked,
        ) {
            out.push(("running_mean".to_string(), rm));
            out.push(("running_var".to_string(), rv));
            out.push(("num_batches_tracked".to_string(), k));
        }
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

    /// `BatchNorm2d(eps=0.00001, momentum=Some(0.1))`.
    fn describe(&self) -> String {
        format!(
            "{}(eps={}, momentum={:?})",
            Self::name(),
            self.eps,
            self.momentum
        )
    }
}
