//! # strata-distributed
//!
//! Data-parallel training across processes and machines, with MPI as the engine. A
//! [`Communicator`] is a group of ranks running the same program; [`init`] gives this
//! process's: MPI's world when the crate is built with the `mpi` feature and the program was
//! started by an MPI launcher (`mpirun -np 4 …`), otherwise [`SingleProcess`], the world of
//! one — so the same program runs on a laptop and on a cluster.
//!
//! Synchronous data parallelism, as `strata_models::Trainer::with_communicator` runs it:
//! parameters are broadcast from rank 0 at the start ([`broadcast_tensors`]); every rank
//! reads the same seeded order of the data and takes its share of every global batch
//! (`strata_datasets::DataLoader::with_shard`); after each step's backward pass a
//! [`GradReducer`] averages the gradients over the ranks with bucketed all-reduces, so every
//! rank takes the same optimizer step and the weights stay identical.
//!
//! ```
//! use strata_autograd::{Grads, Param};
//! use strata_distributed::{Communicator, GradReducer, init};
//! use strata_tensor::Tensor;
//!
//! let comm = init().expect("a communicator");
//! let w = Param::new(Tensor::zeros(&[2]));
//! let mut grads = Grads::new();
//! grads.insert(w.id(), Tensor::from_vec(vec![0.5, -1.0], &[2]));
//! // This rank's gradient over its 32 examples, averaged with the other ranks'.
//! let reduced = GradReducer::new().all_reduce(&*comm, &[&w], &mut grads, 32, true);
//! assert_eq!(reduced.examples, 32 * comm.size());
//! if comm.size() == 1 {
//!     assert_eq!(grads.get(&w).unwrap().to_vec(), [0.5, -1.0]);
//! }
//! ```
//!
//! Build with MPI: `cargo build --release --features mpi` (Debian: `apt-get install
//! openmpi-bin libopenmpi-dev libclang-dev`), then `mpirun -np 2 target/release/…`.

mod communicator;
pub mod launch;
#[cfg(feature = "mpi")]
mod mpi;
mod reducer;
mod watchdog;

pub use communicator::{Communicator, SingleProcess};
#[cfg(feature = "mpi")]
pub use mpi::{DEFAULT_TIMEOUT, MpiCommunicator};
pub use reducer::{DEFAULT_BUCKET_LEN, GradReducer, Reduced, broadcast_tensors};
pub use watchdog::{Expiry, Guard, TIMEOUT_EXIT_CODE, Watchdog};

/// The number of ranks an MPI launcher says this process belongs to (`OMPI_COMM_WORLD_SIZE`,
/// `PMI_SIZE` or `PMIX_SIZE`), if it was started by one.
pub fn launcher_world_size() -> Option<usize> {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.trim().parse().ok())
}

/// This process's communicator: `MpiCommunicator` when built with the `mpi` feature and
/// started by an MPI launcher, else [`SingleProcess`].
///
/// # Errors
/// When an MPI launcher started this process as one of several ranks but the crate was built
/// without the `mpi` feature (every rank would train alone), or MPI fails to initialise.
pub fn init() -> Result<Box<dyn Communicator>, String> {
    let launched = launcher_world_size();
    #[cfg(feature = "mpi")]
    if launched.is_some() {
        return Ok(Box::new(MpiCommunicator::init()?));
    }
    match launched {
        Some(n) if n > 1 => Err(format!(
            "started by an MPI launcher as one of {n} ranks, but built without MPI: rebuild with `--features mpi` (each rank would otherwise train alone)"
        )),
        _ => Ok(Box::new(SingleProcess)),
    }
}
