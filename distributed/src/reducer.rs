//! [`GradReducer`]: averages the gradients of data-parallel ranks with a few bucketed
//! all-reduces over flat buffers, and [`broadcast_tensors`] for the start of a run.

use std::time::{Duration, Instant};

use strata_autograd::{Grads, Param};
use strata_tensor::Tensor;

use crate::Communicator;

/// Elements per all-reduce bucket by default: 4 MiB of `f32`.
pub const DEFAULT_BUCKET_LEN: usize = 1 << 20;

/// What [`GradReducer::all_reduce`] agreed with the other ranks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reduced {
    /// Examples behind the step over all ranks, `N = Σ_r n_r`.
    pub examples: usize,
    /// Ranks that reported a non-finite loss or metric: when positive, no gradient was
    /// exchanged and every rank should stop.
    pub failed_ranks: usize,
}

/// Averages rank-local gradients into the gradient of the global batch. Rank `r` computed
/// `g_r`, the mean gradient over its `n_r` examples; every rank ends with
///
/// ```text
/// g = Σ_r (n_r / N)·g_r,   N = Σ_r n_r,
/// ```
///
/// the mean gradient over all `N` examples — what one process computes on the whole batch.
/// A small header all-reduce first agrees on `N`, on which parameters have a gradient on some
/// rank (a rank with an empty batch has none) and on whether any rank failed; the gradients
/// then travel packed into flat buffers of at most `bucket_len` elements, one all-reduce per
/// bucket, in parameter order — never one call per tensor.
pub struct GradReducer {
    bucket_len: usize,
    flat: Vec<f32>,
    header: Vec<f64>,
    /// Time spent in gradient exchanges since the last [`GradReducer::take_time`].
    time: Duration,
    calls: usize,
}

impl Default for GradReducer {
    fn default() -> Self {
        Self::new()
    }
}

impl GradReducer {
    /// A reducer with buckets of [`DEFAULT_BUCKET_LEN`] elements.
    pub fn new() -> Self {
        GradReducer {
            bucket_len: DEFAULT_BUCKET_LEN,
            flat: Vec::new(),
            header: Vec::new(),
            time: Duration::ZERO,
            calls: 0,
        }
    }

    /// Sets the bucket size in elements.
    ///
    /// # Panics
    /// If `bucket_len` is 0.
    pub fn with_bucket_len(mut self, bucket_len: usize) -> Self {
        assert!(
            bucket_len > 0,
            "GradReducer: bucket length must be positive"
        );
        self.bucket_len = bucket_len;
        self
    }

    /// The time spent in [`GradReducer::all_reduce`] and the number of calls since the last
    /// call of this method, which resets both.
    pub fn take_time(&mut self) -> (Duration, usize) {
        let out = (self.time, self.calls);
        self.time = Duration::ZERO;
        self.calls = 0;
        out
    }

    /// Replaces `grads` (this rank's mean gradients over `examples` examples, keyed by the ids
    /// of `params`) with the mean over every rank's examples; `healthy` is false when this
    /// rank's step produced a non-finite figure. Collective: every rank calls it with the same
    /// `params`.
    ///
    /// # Panics
    /// If a gradient's shape differs from its parameter's.
    pub fn all_reduce(
        &mut self,
        comm: &dyn Communicator,
        params: &[&Param],
        grads: &mut Grads,
        examples: usize,
        healthy: bool,
    ) -> Reduced {
        self.all_reduce_with(comm, params, grads, examples, healthy, &mut [])
    }

    /// As [`GradReducer::all_reduce`], and replaces each of `sums` (a step's own figures, such
    /// as its summed loss) with its sum over the ranks, in the same message as the example
    /// counts (no extra exchange). Every rank passes the same number of sums.
    ///
    /// # Panics
    /// If a gradient's shape differs from its parameter's.
    pub fn all_reduce_with(
        &mut self,
        comm: &dyn Communicator,
        params: &[&Param],
        grads: &mut Grads,
        examples: usize,
        healthy: bool,
        sums: &mut [f64],
    ) -> Reduced {
        if comm.size() == 1 {
            return Reduced {
                examples,
                failed_ranks: usize::from(!healthy),
            };
        }
        let start = Instant::now();
        // Header: [N, failed ranks, has-a-gradient flag per parameter, sums].
        self.header.clear();
        self.header
            .extend([examples as f64, if healthy { 0.0 } else { 1.0 }]);
        self.header.extend(
            params
                .iter()
                .map(|p| f64::from(u8::from(grads.get(p).is_some()))),
        );
        self.header.extend_from_slice(sums);
        comm.all_reduce_sum_f64(&mut self.header);
        let summed = self.header.len() - sums.len();
        sums.copy_from_slice(&self.header[summed..]);
        self.header.truncate(summed);
        let total = self.header[0] as usize;
        let failed_ranks = self.header[1] as usize;
        if failed_ranks == 0 && total > 0 {
            let present: Vec<&Param> = params
                .iter()
                .zip(&self.header[2..])
                .filter(|(_, flag)| **flag > 0.0)
                .map(|(p, _)| *p)
                .collect();
            let weight = examples as f32 / total as f32;
            self.exchange(comm, &present, grads, weight);
        }
        self.time += start.elapsed();
        self.calls += 1;
        Reduced {
            examples: total,
            failed_ranks,
        }
    }

    /// Packs `weight·g` of every parameter of `present` (zeros where this rank has none) into
    /// buckets, sums each over the ranks and unpacks the sums into `grads`.
    fn exchange(
        &mut self,
        comm: &dyn Communicator,
        present: &[&Param],
        grads: &mut Grads,
        weight: f32,
    ) {
        let mut first = 0;
        while first < present.len() {
            // The parameters of this bucket: at least one, then as many as fit.
            let mut last = first + 1;
            let mut len = present[first].numel();
            while last < present.len() && len + present[last].numel() <= self.bucket_len {
                len += present[last].numel();
                last += 1;
            }
            self.flat.clear();
            for p in &present[first..last] {
                match grads.get(p) {
                    Some(g) => {
                        assert_eq!(
                            g.shape(),
                            p.shape(),
                            "GradReducer::all_reduce: gradient {:?} for a parameter of shape {:?}",
                            g.shape(),
                            p.shape()
                        );
                        let g = g.contiguous();
                        let values = g.as_slice().expect("contiguous");
                        self.flat.extend(values.iter().map(|&x| x * weight));
                    }
                    None => self.flat.extend(std::iter::repeat_n(0.0, p.numel())),
                }
            }
            comm.all_reduce_sum(&mut self.flat);
            let mut offset = 0;
            for p in &present[first..last] {
                let n = p.numel();
                let sum = Tensor::from_vec(self.flat[offset..offset + n].to_vec(), p.shape());
                grads.insert(p.id(), sum);
                offset += n;
            }
            first = last;
        }
    }
}

/// Copies the values of `tensors` on rank `root` to every rank, packed into buckets of at
/// most [`DEFAULT_BUCKET_LEN`] elements (the parameters and buffers of a model at the start of
/// data-parallel training). Collective.
pub fn broadcast_tensors(comm: &dyn Communicator, tensors: &mut [&mut Tensor], root: usize) {
    if comm.size() == 1 {
        return;
    }
    let mut flat = Vec::new();
    let mut first = 0;
    while first < tensors.len() {
        let mut last = first + 1;
        let mut len = tensors[first].numel();
        while last < tensors.len() && len + tensors[last].numel() <= DEFAULT_BUCKET_LEN {
            len += tensors[last].numel();
            last += 1;
        }
        flat.clear();
        for t in &tensors[first..last] {
            flat.extend(t.to_vec());
        }
        comm.broadcast(&mut flat, root);
        let mut offset = 0;
        for t in &mut tensors[first..last] {
            let n = t.numel();
            t.as_mut_slice().copy_from_slice(&flat[offset..offset + n]);
            offset += n;
        }
        first = last;
    }
}
