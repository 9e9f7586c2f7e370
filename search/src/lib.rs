//! Hyper-parameter and architecture search for Strata: a search space described in code or
//! JSON (integer, linear/log float, categorical and conditional dimensions, the architecture
//! itself among them), random search and TPE samplers, ASHA pruning between epochs, trials run
//! several at a time, a log a killed search resumes from, and a table, best configuration and
//! plot of the results.
//!
//! ```
//! use strata_search::{Budget, RandomSampler, Space, Study};
//! let space = Space::new().with_float("x", -3.0, 3.0, false);
//! let mut study = Study::new(space, RandomSampler::new(0));
//! let trials = study
//!     .optimize(&Budget::trials(20), |config, _| {
//!         let x = config["x"].to_string().parse::<f64>().unwrap();
//!         Ok((x - 1.0).powi(2))
//!     })
//!     .unwrap();
//! assert_eq!(trials.len(), 20);
//! ```

mod asha;
mod error;
mod exchange;
pub mod report;
mod sampler;
mod space;
mod study;
mod trial;

pub use asha::Asha;
pub use error::SearchError;
pub use sampler::{RandomSampler, Sampler, TpeSampler};
pub use space::{Condition, Config, ConfigExt, Dimension, Domain, Space, Value};
pub use study::{Budget, Reporter, Study};
pub use trial::{Trial, TrialState, best};
