//! [`MpiCommunicator`]: the [`Communicator`] over MPI (rsmpi on the system's MPI library).

use std::cell::RefCell;
use std::time::Duration;

use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator as _, CommunicatorCollectives, Equivalence, Root};

use crate::Communicator;
use crate::watchdog::Watchdog;

/// The default time a collective may wait for the other ranks before the job is stopped.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// MPI's world communicator. Created once per process by [`MpiCommunicator::init`] (MPI is
/// finalised when it is dropped). Calls to MPI are made from the thread that created it (MPI's
/// "funneled" threading; Strata's compute threads never call MPI).
///
/// Every collective runs under a [`Watchdog`]: one that waits longer than the timeout
/// (default [`DEFAULT_TIMEOUT`], `STRATA_MPI_TIMEOUT` in seconds, or
/// [`MpiCommunicator::with_timeout`]) logs which rank waited in which operation and aborts
/// the process, so `mpirun` stops the job instead of hanging forever; a rank that dies is
/// reported by `mpirun` itself, and stops the job at once.
///
/// Sums use `MPI_Allreduce` with `MPI_SUM`: for a given number of ranks and buffer length the
/// MPI library runs one fixed reduction algorithm, so a run's sums — and the weights every
/// rank computes from them — are the same bits on every rank and in every repetition.
pub struct MpiCommunicator {
    world: SimpleCommunicator,
    rank: usize,
    size: usize,
    watchdog: Watchdog,
    /// The send buffer of in-place all-reduces.
    scratch: RefCell<Vec<f32>>,
    scratch_f64: RefCell<Vec<f64>>,
    // Last: MPI is finalised when the universe drops, after everything that uses it.
    _universe: Universe,
}

impl MpiCommunicator {
    /// Initialises MPI.
    ///
    /// # Errors
    /// A message when MPI was already initialised in this process, or the library does not
    /// offer funneled threading.
    pub fn init() -> Result<Self, String> {
        let (universe, threading) = mpi::initialize_with_threading(mpi::Threading::Funneled)
            .ok_or("MPI is already initialised in this process")?;
        if threading < mpi::Threading::Funneled {
            return Err(format!(
                "the MPI library offers {threading:?} threading; Strata needs Funneled (MPI called from one thread while others compute)"
            ));
        }
        let world = universe.world();
        let (rank, size) = (world.rank() as usize, world.size() as usize);
        let timeout = std::env::var("STRATA_MPI_TIMEOUT")
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| *s > 0.0 && s.is_finite())
            .map(Duration::from_secs_f64)
            .unwrap_or(DEFAULT_TIMEOUT);
        Ok(MpiCommunicator {
            world,
            rank,
            size,
            watchdog: Watchdog::new(rank, size, timeout),
            scratch: RefCell::new(Vec::new()),
            scratch_f64: RefCell::new(Vec::new()),
            _universe: universe,
        })
    }

    /// Sets how long a collective may wait for the other ranks before the job is stopped.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.watchdog = Watchdog::new(self.rank, self.size, timeout);
        self
    }
}

impl MpiCommunicator {
    /// `MPI_Allreduce` with `MPI_SUM` into `buf`, sending a copy kept in `scratch`.
    fn sum_in_place<T: Equivalence + Copy>(&self, buf: &mut [T], scratch: &RefCell<Vec<T>>) {
        let mut send = scratch.borrow_mut();
        send.clear();
        send.extend_from_slice(buf);
        let _watch = self.watchdog.watch("all-reduce");
        self.world
            .all_reduce_into(&send[..], buf, SystemOperation::sum());
    }
}

impl Communicator for MpiCommunicator {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn all_reduce_sum(&self, buf: &mut [f32]) {
        self.sum_in_place(buf, &self.scratch);
    }

    fn all_reduce_sum_f64(&self, buf: &mut [f64]) {
        self.sum_in_place(buf, &self.scratch_f64);
    }

    fn broadcast(&self, buf: &mut [f32], root: usize) {
        assert!(
            root < self.size,
            "MpiCommunicator::broadcast: root {root} outside a world of {}",
            self.size
        );
        let _watch = self.watchdog.watch("broadcast");
        self.world.process_at_rank(root as i32).broadcast_into(buf);
    }

    fn barrier(&self) {
        let _watch = self.watchdog.watch("barrier");
        self.world.barrier();
    }

    fn all_gather_f64(&self, values: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; values.len() * self.size];
        let _watch = self.watchdog.watch("all-gather");
        self.world.all_gather_into(values, &mut out[..]);
        out
    }
}
