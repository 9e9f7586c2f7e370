//! The contrastive-divergence estimate from given chain states: the deterministic half of a
//! CD-k update, separated from the sampling so an update can be checked exactly against a
//! reference (the DeepLearnToolbox `rbmtrain.m`, or the free-energy gradient).

use strata_autograd::Grads;
use strata_tensor::{Element, Tensor};

use super::{Rbm, count};

/// The four states of one CD-k update of an [`Rbm`] with `V` visible and `H` hidden units.
///
/// The estimate pairs the data `v₀` with hidden states `h₀` (positive statistics) and the
/// chain's last visible state `v_k` with hidden states `h_k` (negative statistics). Build it
/// with [`CdStates::toolbox`] or [`CdStates::probabilities`], or fill the fields from any
/// other sampler.
#[derive(Clone, Debug)]
pub struct CdStates<T: Element = f32> {
    /// `v₀ [N, V]`: the mini-batch.
    pub data: Tensor<T>,
    /// `h₀ [N, H]`: hidden states paired with `v₀` (binary samples or `p(h | v₀)`).
    pub data_hidden: Tensor<T>,
    /// `v_k [M, V]`: the chain's last visible state (a sample or the mean `E[v | h]`).
    pub model: Tensor<T>,
    /// `h_k [M, H]`: hidden states paired with `v_k` (usually `p(h | v_k)`).
    pub model_hidden: Tensor<T>,
}

impl<T: Element> CdStates<T> {
    /// The DeepLearnToolbox `rbmtrain.m` form of CD-1, from its own draws: `v1 [N, V]` the
    /// batch, `h1 [N, H]` the binary sample of `p(h | v1)`, `v2 [N, V]` the binary sample of
    /// `p(v | h1)`; the toolbox then pairs `v2` with the probabilities `h2 = p(h | v2)`
    /// (computed here).
    ///
    /// # Panics
    /// If a shape does not fit `rbm`.
    pub fn toolbox(rbm: &Rbm<T>, v1: &Tensor<T>, h1: &Tensor<T>, v2: &Tensor<T>) -> Self {
        let states = CdStates {
            data: v1.clone(),
            data_hidden: h1.clone(),
            model: v2.clone(),
            model_hidden: rbm.prob_h_given_v(v2),
        };
        states.check(rbm, "CdStates::toolbox");
        states
    }

    /// The probability form (Hinton's practical guide): `p(h | v₀)` pairs with the batch
    /// `v0 [N, V]` and `p(h | v_k)` with the chain's last visible state `vk [M, V]` (sampled
    /// or mean-field; for CD-1 with a mean-field reconstruction, `vk = E[v | p(h | v₀)]`).
    ///
    /// # Panics
    /// If a shape does not fit `rbm`.
    pub fn probabilities(rbm: &Rbm<T>, v0: &Tensor<T>, vk: &Tensor<T>) -> Self {
        let states = CdStates {
            data: v0.clone(),
            data_hidden: rbm.prob_h_given_v(v0),
            model: vk.clone(),
            model_hidden: rbm.prob_h_given_v(vk),
        };
        states.check(rbm, "CdStates::probabilities");
        states
    }

    /// Panics naming `op` and the shapes unless the states fit `rbm`.
    fn check(&self, rbm: &Rbm<T>, op: &str) {
        let (v, h) = (rbm.visible(), rbm.hidden());
        let fits = |x: &Tensor<T>, width: usize, rows: usize| {
            x.ndim() == 2 && x.shape()[1] == width && x.shape()[0] == rows && rows > 0
        };
        let n = self.data.shape().first().copied().unwrap_or(0);
        let m = self.model.shape().first().copied().unwrap_or(0);
        assert!(
            fits(&self.data, v, n)
                && fits(&self.data_hidden, h, n)
                && fits(&self.model, v, m)
                && fits(&self.model_hidden, h, m),
            "{op}: states data {:?}, data_hidden {:?}, model {:?}, model_hidden {:?} do not fit \
             an RBM of {v} visible and {h} hidden units (expects [N, {v}], [N, {h}], [M, {v}], \
             [M, {h}] with N, M > 0)",
            self.data.shape(),
            self.data_hidden.shape(),
            self.model.shape(),
            self.model_hidden.shape()
        );
    }
}

impl<T: Element> Rbm<T> {
    /// The CD estimate of the negative log-likelihood gradient from given states, keyed by
    /// this RBM's parameter ids (no random draws):
    ///
    /// - `∂W = −(h₀ᵀv₀/N − h_kᵀv_k/M) + λ·W`,
    /// - `∂b = −(mean(v₀) − mean(v_k))`,
    /// - `∂c = −(mean(h₀) − mean(h_k))`,
    ///
    /// with `λ` the configured weight decay. Plain SGD with learning rate `α` on it is the
    /// toolbox update `W ← W + α·(c1 − c2)/N`. [`Rbm::cd_grads`] draws the states and calls
    /// this (then adds the sparsity term, which carries a running estimate).
    ///
    /// # Panics
    /// If a state's shape does not fit the RBM.
    pub fn cd_grads_from(&self, states: &CdStates<T>) -> Grads<T> {
        states.check(self, "Rbm::cd_grads_from");
        let CdStates {
            data,
            data_hidden,
            model,
            model_hidden,
        } = states;
        let n: T = count(data.shape()[0]);
        let m: T = count(model.shape()[0]);
        let mut gw = Tensor::zeros(self.weight.shape());
        gw.gemm_(-n.recip(), &data_hidden.t(), data, T::zero());
        gw.gemm_(m.recip(), &model_hidden.t(), model, T::one());
        if self.config().weight_decay > 0.0 {
            gw.axpy_(
                T::from_f64_lossy(self.config().weight_decay),
                self.weight.value(),
            );
        }
        let mut gb = model.mean_axis(0, false);
        gb.sub_(&data.mean_axis(0, false));
        let mut gc = model_hidden.mean_axis(0, false);
        gc.sub_(&data_hidden.mean_axis(0, false));
        let mut grads = Grads::new();
        grads.insert(self.weight.id(), gw);
        grads.insert(self.visible_bias.id(), gb);
        grads.insert(self.hidden_bias.id(), gc);
        grads
    }
}
