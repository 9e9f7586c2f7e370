//! [`GradReducer`] on rank 0 of two ranks holding the same gradients: the mean comes back, and
//! the gradients travel in buckets of at most the set length, in parameter order.

use std::cell::RefCell;

use strata_autograd::{Grads, Param};
use strata_distributed::{Communicator, GradReducer, Reduced};
use strata_tensor::Tensor;

/// Rank 0 of two whose peer holds the same buffers, so a sum doubles every value. Records the
/// length of every `f32` all-reduce.
#[derive(Default)]
struct Twin {
    lens: RefCell<Vec<usize>>,
}

impl Communicator for Twin {
    fn rank(&self) -> usize {
        0
    }

    fn size(&self) -> usize {
        2
    }

    fn all_reduce_sum(&self, buf: &mut [f32]) {
        self.lens.borrow_mut().push(buf.len());
        buf.iter_mut().for_each(|x| *x *= 2.0);
    }

    fn all_reduce_sum_f64(&self, buf: &mut [f64]) {
        buf.iter_mut().for_each(|x| *x *= 2.0);
    }

    fn broadcast(&self, _buf: &mut [f32], _root: usize) {}

    fn barrier(&self) {}

    fn all_gather_f64(&self, values: &[f64]) -> Vec<f64> {
        [values, values].concat()
    }
}

#[test]
fn gradients_travel_in_buckets_of_the_set_length() {
    let params: Vec<Param> = [3, 3, 4]
        .iter()
        .map(|&n| Param::new(Tensor::ones(&[n])))
        .collect();
    let refs: Vec<&Param> = params.iter().collect();
    // (bucket length, the all-reduce lengths): a bucket takes whole parameters while they fit.
    for (bucket_len, lens) in [(5, vec![3, 3, 4]), (6, vec![6, 4]), (10, vec![10])] {
        let comm = Twin::default();
        let mut grads = Grads::new();
        for (i, p) in params.iter().enumerate() {
            grads.insert(p.id(), Tensor::full(&[p.numel()], i as f32 + 1.0));
        }
        let reduced = GradReducer::new()
            .with_bucket_len(bucket_len)
            .all_reduce(&comm, &refs, &mut grads, 2, true);
        assert_eq!(
            reduced,
            Reduced {
                examples: 4,
                failed_ranks: 0
            }
        );
        assert_eq!(*comm.lens.borrow(), lens, "bucket length {bucket_len}");
        // Both ranks' mean over 2 examples each is the mean over all 4.
        for (i, p) in params.iter().enumerate() {
            let want = vec![i as f32 + 1.0; p.numel()];
            assert_eq!(grads.get(p).unwrap().to_vec(), want);
        }
    }
}

#[test]
#[should_panic(expected = "GradReducer: bucket length must be positive")]
fn a_zero_bucket_length_is_refused() {
    let _ = GradReducer::new().with_bucket_len(0);
}
