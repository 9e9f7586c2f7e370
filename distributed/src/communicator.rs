//! The [`Communicator`] trait: what data-parallel training needs from the processes it runs
//! on.

/// A group of `size()` processes ("ranks") that run the same program and exchange buffers.
///
/// Every method is collective: every rank must call it, in the same order, with buffers of the
/// same length; a rank that calls something else deadlocks the group (the MPI implementation
/// stops such a job after its timeout, see `MpiCommunicator`, feature `mpi`).
/// [`SingleProcess`](crate::SingleProcess) is the world of one, where every operation is the
/// identity, so library code is written once.
pub trait Communicator {
    /// This process's rank, `0..size()`.
    fn rank(&self) -> usize;

    /// Number of ranks.
    fn size(&self) -> usize;

    /// Element-wise sum over the ranks, in place: afterwards every rank holds
    /// `buf[i] = Σ_r buf_r[i]`, the same bits on every rank.
    fn all_reduce_sum(&self, buf: &mut [f32]);

    /// [`Communicator::all_reduce_sum`] in `f64` (metrics, counts).
    fn all_reduce_sum_f64(&self, buf: &mut [f64]);

    /// Copies `buf` of rank `root` into `buf` of every rank.
    ///
    /// # Panics
    /// If `root ≥ size()`.
    fn broadcast(&self, buf: &mut [f32], root: usize);

    /// Returns when every rank has called it.
    fn barrier(&self);

    /// Every rank's `values` (the same length everywhere), concatenated in rank order.
    fn all_gather_f64(&self, values: &[f64]) -> Vec<f64>;

    /// Whether this is rank 0, the one that prints, plots and writes checkpoints.
    fn is_root(&self) -> bool {
        self.rank() == 0
    }
}

/// The world of one process: rank 0 of 1, every collective the identity.
///
/// ```
/// use strata_distributed::{Communicator, SingleProcess};
///
/// let comm = SingleProcess;
/// let mut grads = [1.0f32, 2.0];
/// comm.all_reduce_sum(&mut grads);
/// assert_eq!((comm.rank(), comm.size(), grads), (0, 1, [1.0, 2.0]));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SingleProcess;

impl Communicator for SingleProcess {
    fn rank(&self) -> usize {
        0
    }

    fn size(&self) -> usize {
        1
    }

    fn all_reduce_sum(&self, _buf: &mut [f32]) {}

    fn all_reduce_sum_f64(&self, _buf: &mut [f64]) {}

    fn broadcast(&self, _buf: &mut [f32], root: usize) {
        assert!(
            root == 0,
            "SingleProcess::broadcast: root {root} outside a world of 1"
        );
    }

    fn barrier(&self) {}

    fn all_gather_f64(&self, values: &[f64]) -> Vec<f64> {
        values.to_vec()
    }
}
