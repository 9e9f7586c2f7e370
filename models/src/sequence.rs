//! Sequence models: [`LstmClassifier`], which reads an image row by row with an LSTM and
//! classifies it from the last hidden state, and its reference training set-up
//! ([`lstm_mnist_trainer`]).

use strata_autograd::Var;
use strata_layers::recurrent::{Lstm, RecurrentConfig};
use strata_layers::{Linear, Module, module_parts};
use strata_optim::{Adam, AdamConfig};
use strata_tensor::Element;

use crate::{Objective, TrainError, Trainer, TrainerConfig};

/// An image classifier that reads the image row by row: `S` steps of `S` features through
/// `LSTM(S → H)` (batch-first), then the last hidden state `h_T` through `Linear(H → C)`:
///
/// `[N, 1, S, S]` (or `[N, S·S]`, or `[N, S, S]`) → `[N, S, S]` → LSTM → `h_T: [N, H]` →
/// logits `[N, C]`.
///
/// With `S = 28`, `H = 128`, `C = 10` this is the reference model of PyTorch's
/// `nn.LSTM(28, 128, batch_first=True)` + `nn.Linear(128, 10)` (82,186 parameters), named
/// `lstm.weight_ih_l0`, `lstm.weight_hh_l0`, `lstm.bias_ih_l0`, `lstm.bias_hh_l0`,
/// `fc.weight`, `fc.bias`.
pub struct LstmClassifier<T: Element = f32> {
    /// The recurrent layer, `S → H`, batch-first.
    pub lstm: Lstm<T>,
    /// The output layer `H → C`.
    pub fc: Linear<T>,
    side: usize,
}

impl<T: Element> LstmClassifier<T> {
    /// A classifier of `side × side` images with `hidden` LSTM units and `classes` outputs
    /// (PyTorch's default initialisation).
    ///
    /// # Panics
    /// If a size is 0.
    pub fn new(side: usize, hidden: usize, classes: usize) -> Self {
        assert!(
            side > 0 && hidden > 0 && classes > 0,
            "LstmClassifier: sizes must be positive, got side {side}, hidden {hidden}, classes {classes}"
        );
        LstmClassifier {
            lstm: Lstm::with_config(RecurrentConfig::new(side, hidden).with_batch_first(true)),
            fc: Linear::new(hidden, classes),
            side,
        }
    }

    /// The MNIST model: 28 steps of 28 features, 128 hidden units, 10 classes.
    pub fn mnist() -> Self {
        Self::new(28, 128, 10)
    }
}

impl<T: Element> Module<T> for LstmClassifier<T> {
    /// `[N, 1, S, S]`, `[N, S, S]` or `[N, S·S]` → logits `[N, C]`.
    ///
    /// # Panics
    /// If the input does not hold `S·S` values per example.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let s = self.side;
        let n = x.shape().first().copied().unwrap_or(0);
        assert!(
            x.ndim() >= 2 && x.shape()[1..].iter().product::<usize>() == s * s,
            "LstmClassifier: input {:?} should be [N, 1, {s}, {s}], [N, {s}, {s}] or [N, {}]",
            x.shape(),
            s * s
        );
        let rows = x.reshape(&[n, s, s]);
        let (_, (h_n, _)) = self.lstm.forward_with_state(&rows, None);
        let last = h_n.shape()[0] - 1;
        self.fc.forward(&h_n.select(0, last))
    }
    module_parts!(T; children: [lstm, fc]);
}

/// The reference set-up of the `lstm_mnist` example: [`LstmClassifier::mnist`] with softmax
/// cross-entropy, Adam 1e-3, batches of `batch` with the last partial batch dropped, on
/// standardised inputs (`strata_models::data::globally_standardized`).
///
/// # Errors
/// [`TrainError::Config`] for zero epochs or batch size.
pub fn lstm_mnist_trainer(
    seed: u64,
    epochs: usize,
    batch: usize,
) -> Result<Trainer<LstmClassifier, Adam>, TrainError> {
    strata_layers::manual_seed(seed);
    let optimizer = AdamConfig::new(1e-3)
        .build()
        .map_err(|e| TrainError::Config(e.to_string()))?;
    let mut config = TrainerConfig::new(epochs, batch);
    config.seed = seed;
    config.drop_last = true;
    Trainer::new(
        LstmClassifier::mnist(),
        optimizer,
        Objective::CrossEntropy,
        config,
        "lstm-classifier",
    )
}
