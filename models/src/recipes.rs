//! The classic training set-ups, ready to run: the DeepLearnToolbox `test_example_NN`
//! experiments and `test_example_CNN`, and LeNet-5 with Adam. The examples and the accuracy
//! tests both build their trainers here, so they train exactly the same thing.

use strata_layers::Activation;
use strata_optim::{Adam, AdamConfig, Sgd, SgdConfig};

use crate::{
    DltCnn, LeNet5, LeNetConfig, LeNetStyle, Mlp, MlpConfig, MlpInit, MlpOutput, Objective,
    TrainError, Trainer, TrainerConfig,
};

/// One experiment of the DeepLearnToolbox `test_example_NN`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NnExperiment {
    /// 1–6, as in the toolbox.
    pub number: u8,
    /// What it varies.
    pub name: &'static str,
    /// Layer widths.
    pub sizes: &'static [usize],
    /// Hidden units: `LecunTanh` (the toolbox's `tanh_opt`) or `Sigmoid`.
    pub hidden: Activation,
    /// Softmax output with cross-entropy (else sigmoid outputs with `½·Σ(y − t)²/m`).
    pub softmax: bool,
    /// Learning rate (momentum is the toolbox default 0.5).
    pub lr: f64,
    /// L2 penalty on the weights (not the biases), `nn.weightPenaltyL2`.
    pub weight_decay: f64,
    /// Hidden dropout, `nn.dropoutFraction`.
    pub dropout: f64,
    /// Batch size.
    pub batch: usize,
    /// Epochs.
    pub epochs: usize,
    /// Hold out the last sixth of the training set for validation (the toolbox holds out
    /// 10,000 of 60,000).
    pub validation: bool,
}

const fn experiment(number: u8, name: &'static str) -> NnExperiment {
    NnExperiment {
        number,
        name,
        sizes: &[784, 100, 10],
        hidden: Activation::LecunTanh,
        softmax: false,
        lr: 2.0,
        weight_decay: 0.0,
        dropout: 0.0,
        batch: 100,
        epochs: 1,
        validation: false,
    }
}

/// The six experiments, with `nnsetup`'s defaults (scaled-tanh hidden units, sigmoid outputs,
/// `½·Σ(y − t)²/m`, learning rate 2, momentum 0.5, batch 100, 1 epoch) varied as the toolbox
/// does.
pub const NN_EXPERIMENTS: [NnExperiment; 6] = [
    experiment(1, "vanilla"),
    NnExperiment {
        weight_decay: 1e-4,
        ..experiment(2, "L2 weight decay 1e-4")
    },
    NnExperiment {
        dropout: 0.5,
        ..experiment(3, "dropout 0.5")
    },
    NnExperiment {
        hidden: Activation::Sigmoid,
        lr: 1.0,
        ..experiment(4, "sigmoid units, lr 1")
    },
    NnExperiment {
        sizes: &[784, 20, 10],
        softmax: true,
        batch: 1000,
        epochs: 5,
        ..experiment(5, "softmax output 784-20-10")
    },
    NnExperiment {
        sizes: &[784, 20, 10],
        softmax: true,
        batch: 1000,
        epochs: 5,
        validation: true,
        ..experiment(6, "softmax output with validation")
    },
];

/// A trainer for a `test_example_NN` experiment on flattened, z-scored inputs (weights from
/// `nnsetup`'s `U(±4·√(6/(fan_in + fan_out)))`, drawn after `manual_seed(seed)`).
///
/// # Errors
/// [`TrainError::Config`] for zero epochs or batch size.
pub fn dlt_nn_trainer(
    ex: &NnExperiment,
    seed: u64,
    epochs: usize,
    batch: usize,
) -> Result<Trainer<Mlp, Sgd>, TrainError> {
    strata_layers::manual_seed(seed);
    let config = MlpConfig::new(ex.sizes)
        .with_hidden(ex.hidden)
        .with_output(if ex.softmax {
            MlpOutput::Linear
        } else {
            MlpOutput::Sigmoid
        })
        .with_dropout(ex.dropout)
        .with_init(MlpInit::DltSigmoid);
    let optimizer = SgdConfig::new(ex.lr)
        .with_momentum(0.5)
        .build()
        .map_err(|e| TrainError::Config(e.to_string()))?;
    let mut tc = TrainerConfig::new(epochs, batch);
    tc.seed = seed;
    tc.flatten_inputs = true;
    let objective = if ex.softmax {
        Objective::CrossEntropy
    } else {
        Objective::HalfSse
    };
    let mut trainer = Trainer::new(Mlp::new(&config), optimizer, objective, tc, "dlt-mlp")?;
    if ex.weight_decay > 0.0 {
        // nnapplygrads: dW += λ·W on the weights, not on the bias column.
        let lambda = ex.weight_decay as f32;
        trainer = trainer.with_grad_hook(move |grads, params| {
            for (name, p) in params {
                if name.ends_with("weight")
                    && let Some(g) = grads.get(p)
                {
                    let mut g = g.clone();
                    g.axpy_(lambda, p.value());
                    grads.insert(p.id(), g);
                }
            }
        });
    }
    Ok(trainer)
}

/// The learning rate of the DeepLearnToolbox `test_example_CNN` (`opts.alpha`).
pub const DLT_CNN_LR: f64 = 1.0;

/// A trainer for the DeepLearnToolbox `test_example_CNN`: [`DltCnn`], plain SGD at learning
/// rate `lr` (the toolbox's is [`DLT_CNN_LR`]), `½·Σ(y − t)²/m` (inputs scaled to [0, 1]).
///
/// # Errors
/// [`TrainError::Config`] for zero epochs or batch size, or a learning rate that is not
/// positive and finite.
pub fn dlt_cnn_trainer(
    lr: f64,
    seed: u64,
    epochs: usize,
    batch: usize,
) -> Result<Trainer<DltCnn, Sgd>, TrainError> {
    strata_layers::manual_seed(seed);
    let optimizer = SgdConfig::new(lr)
        .build()
        .map_err(|e| TrainError::Config(e.to_string()))?;
    let mut config = TrainerConfig::new(epochs, batch);
    config.seed = seed;
    Trainer::new(
        DltCnn::new(),
        optimizer,
        Objective::HalfSse,
        config,
        "dlt-cnn",
    )
}

/// A trainer for LeNet-5 of `style` on standardised 28×28 inputs: softmax cross-entropy, Adam
/// 1e-3, the last partial batch dropped (the reference set-up).
///
/// # Errors
/// [`TrainError::Config`] for zero epochs or batch size.
pub fn lenet5_trainer(
    style: LeNetStyle,
    seed: u64,
    epochs: usize,
    batch: usize,
) -> Result<Trainer<LeNet5, Adam>, TrainError> {
    strata_layers::manual_seed(seed);
    let optimizer = AdamConfig::new(1e-3)
        .build()
        .map_err(|e| TrainError::Config(e.to_string()))?;
    let mut config = TrainerConfig::new(epochs, batch);
    config.seed = seed;
    config.drop_last = true;
    let kind = match style {
        LeNetStyle::Modern => "lenet5-modern",
        LeNetStyle::Classic => "lenet5-classic",
    };
    Trainer::new(
        LeNet5::new(LeNetConfig {
            style,
            ..LeNetConfig::default()
        }),
        optimizer,
        Objective::CrossEntropy,
        config,
        kind,
    )
}

/// A trainer for a 784-100-10 ReLU MLP with softmax cross-entropy and plain SGD (PyTorch's
/// default init), the "modern" baseline of the reference scripts.
///
/// # Errors
/// [`TrainError::Config`] for zero epochs or batch size or a bad learning rate.
pub fn relu_mlp_trainer(
    lr: f64,
    seed: u64,
    epochs: usize,
    batch: usize,
) -> Result<Trainer<Mlp, Sgd>, TrainError> {
    strata_layers::manual_seed(seed);
    let optimizer = SgdConfig::new(lr)
        .build()
        .map_err(|e| TrainError::Config(e.to_string()))?;
    let mut config = TrainerConfig::new(epochs, batch);
    config.seed = seed;
    config.flatten_inputs = true;
    Trainer::new(
        Mlp::new(&MlpConfig::new(&[784, 100, 10])),
        optimizer,
        Objective::CrossEntropy,
        config,
        "mlp-relu",
    )
}
