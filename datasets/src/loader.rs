//! The [`DataLoader`]: shuffled, reproducible mini-batches assembled into contiguous tensors
//! on a background thread.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use strata_tensor::Tensor;

use crate::dataset::{Dataset, Target, TargetSpec};

/// How class targets are delivered in [`Batch::targets`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LabelFormat {
    /// `[N]`: the class indices (as `f32`).
    #[default]
    Indices,
    /// `[N, num_classes]`: one-hot rows.
    OneHot,
}

/// The shape in which inputs are delivered in [`Batch::inputs`].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum InputLayout {
    /// `[N, input_shape…]`, the dataset's own per-example shape (for MNIST `[N, 1, 28, 28]`).
    #[default]
    AsIs,
    /// `[N, features]` (for MNIST `[N, 784]`).
    Flat,
    /// `[N, shape…]` for a given per-example shape with as many elements as the dataset's.
    Shape(Vec<usize>),
}

/// A per-example input transform run by the loader thread (for example
/// [`Augment::apply`](crate::transforms::Augment::apply)); it receives the example's input
/// and a random number generator seeded from the loader seed, the epoch and the batch, so
/// augmented epochs are reproducible.
pub type InputTransform = Arc<dyn Fn(&mut [f32], &mut StdRng) + Send + Sync>;

/// One mini-batch.
#[derive(Clone, Debug)]
pub struct Batch {
    /// The inputs, contiguous, `[N, …]` per the loader's [`InputLayout`].
    pub inputs: Tensor,
    /// Class targets: `[N]` indices or `[N, C]` one-hot per the loader's [`LabelFormat`].
    /// Real-valued targets: `[N, target_shape…]`.
    pub targets: Tensor,
    /// The class index of each example (empty for real-valued targets).
    pub labels: Vec<usize>,
    /// The dataset index of each example.
    pub indices: Vec<usize>,
}

impl Batch {
    /// Number of examples `N`.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the batch is empty (never true for batches from a [`DataLoader`]).
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

/// Iterates over a [`Dataset`] in mini-batches.
///
/// Each call of [`DataLoader::iter`] runs one epoch: the example order is the identity, or
/// with [`with_shuffle`](DataLoader::with_shuffle) a permutation drawn from a generator seeded with
/// `(seed, epoch)`, so every epoch has a new order and a run is reproducible. Batches are
/// assembled on a background thread that keeps up to [`with_prefetch`](DataLoader::with_prefetch)
/// batches ready, so the next batch is waiting when a training step ends.
///
/// ```
/// use strata_datasets::{DataLoader, synthetic};
///
/// let mut loader = DataLoader::new(synthetic::two_spirals(50, 0.0, 1), 32)
///     .with_shuffle(7)
///     .one_hot();
/// let sizes: Vec<usize> = loader.iter().map(|b| b.len()).collect();
/// assert_eq!(sizes, vec![32, 32, 32, 4]);
/// let b = loader.iter().next().unwrap();
/// assert_eq!(b.inputs.shape(), &[32, 2]);
/// assert_eq!(b.targets.shape(), &[32, 2]);
/// ```
pub struct DataLoader<D> {
    dataset: Arc<D>,
    batch_size: usize,
    shuffle: bool,
    seed: u64,
    drop_last: bool,
    layout: InputLayout,
    labels: LabelFormat,
    prefetch: usize,
    transform: Option<InputTransform>,
    next_epoch: u64,
    /// `(rank, ranks)`: this process's part of every batch in data-parallel training.
    shard: (usize, usize),
}

impl<D: Dataset + 'static> DataLoader<D> {
    /// A loader over `dataset` in batches of `batch_size`, in order, keeping the last
    /// partial batch, inputs in the dataset's shape, class targets as indices, 2 batches
    /// prefetched.
    ///
    /// # Panics
    ///
    /// If `batch_size` is 0.
    pub fn new(dataset: D, batch_size: usize) -> Self {
        Self::from_arc(Arc::new(dataset), batch_size)
    }

    /// As [`DataLoader::new`], sharing a dataset already behind an `Arc`.
    ///
    /// # Panics
    ///
    /// If `batch_size` is 0.
    pub fn from_arc(dataset: Arc<D>, batch_size: usize) -> Self {
        assert!(batch_size > 0, "DataLoader: batch size must be ≥ 1");
        DataLoader {
            dataset,
            batch_size,
            shuffle: false,
            seed: 0,
            drop_last: false,
            layout: InputLayout::AsIs,
            labels: LabelFormat::Indices,
            prefetch: 2,
            transform: None,
            next_epoch: 0,
            shard: (0, 1),
        }
    }

    /// Shuffles every epoch with a generator seeded from `seed` and the epoch number.
    pub fn with_shuffle(mut self, seed: u64) -> Self {
        self.shuffle = true;
        self.seed = seed;
        self
    }

    /// Sets the seed (of shuffling and of the transform's generator) without enabling
    /// shuffling.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Whether to drop the last batch when it is smaller than the batch size.
    pub fn with_drop_last(mut self, drop: bool) -> Self {
        self.drop_last = drop;
        self
    }

    /// Sets the input layout.
    ///
    /// # Panics
    ///
    /// If a [`InputLayout::Shape`] does not have as many elements as the dataset's input.
    pub fn with_layout(mut self, layout: InputLayout) -> Self {
        if let InputLayout::Shape(s) = &layout {
            let own = self.dataset.input_shape();
            assert_eq!(
                s.iter().product::<usize>(),
                own.iter().product::<usize>(),
                "DataLoader::with_layout: shape {s:?} does not have the elements of input shape {own:?}"
            );
        }
        self.layout = layout;
        self
    }

    /// Delivers inputs as `[N, features]`.
    pub fn flatten(self) -> Self {
        self.with_layout(InputLayout::Flat)
    }

    /// Data-parallel sharding: every rank of `ranks` runs the same loader (same seed, so the
    /// same order and the same global batches of `batch_size`), and this one, `rank`, receives
    /// rows `[⌊rank·m/ranks⌋, ⌊(rank + 1)·m/ranks⌋)` of each global batch of `m` examples: the
    /// ranks split every batch as evenly as possible, a smaller last batch too. All ranks get
    /// the same number of batches; one smaller than `ranks` leaves some ranks an empty batch.
    ///
    /// # Panics
    ///
    /// If `rank ≥ ranks`.
    pub fn with_shard(mut self, rank: usize, ranks: usize) -> Self {
        assert!(
            rank < ranks,
            "DataLoader::with_shard: rank {rank} is not below the {ranks} ranks"
        );
        self.shard = (rank, ranks);
        self
    }

    /// Sets the class target format.
    pub fn with_label_format(mut self, format: LabelFormat) -> Self {
        self.labels = format;
        self
    }

    /// Delivers class targets one-hot, `[N, num_classes]`.
    pub fn one_hot(self) -> Self {
        self.with_label_format(LabelFormat::OneHot)
    }

    /// Number of batches the background thread may prepare ahead (at least 1).
    pub fn with_prefetch(mut self, batches: usize) -> Self {
        self.prefetch = batches.max(1);
        self
    }

    /// Runs `f` on every example's input after it is read (augmentation, noise, …).
    pub fn with_transform(
        mut self,
        f: impl Fn(&mut [f32], &mut StdRng) + Send + Sync + 'static,
    ) -> Self {
        self.transform = Some(Arc::new(f));
        self
    }

    /// The dataset.
    pub fn dataset(&self) -> &D {
        &self.dataset
    }

    /// The batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Number of batches per epoch.
    pub fn len(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// Whether an epoch yields no batch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of the epoch the next [`iter`](DataLoader::iter) call runs (starting at 0).
    pub fn next_epoch(&self) -> u64 {
        self.next_epoch
    }

    /// The example order of `epoch`.
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if self.shuffle {
            order.shuffle(&mut StdRng::seed_from_u64(mix(self.seed, epoch, u64::MAX)));
        }
        order
    }

    /// Runs the next epoch and advances the epoch counter.
    ///
    /// # Panics
    ///
    /// If the loader thread cannot be spawned. A panic of the dataset or the transform on the
    /// loader thread is re-raised by the returned [`Epoch`] when the failed batch is due.
    pub fn iter(&mut self) -> Epoch {
        let epoch = self.next_epoch;
        self.next_epoch += 1;
        self.epoch(epoch)
    }

    /// Runs epoch number `epoch` (same order and transforms whenever it is run), without
    /// touching the epoch counter.
    ///
    /// # Panics
    ///
    /// As [`DataLoader::iter`].
    pub fn epoch(&self, epoch: u64) -> Epoch {
        let mut order = self.order(epoch);
        if self.drop_last {
            order.truncate(self.len() * self.batch_size);
        }
        let batches = order.len().div_ceil(self.batch_size);
        let (rank, ranks) = self.shard;
        let parts: Vec<std::ops::Range<usize>> = (0..batches)
            .map(|b| {
                let start = b * self.batch_size;
                let m = (order.len() - start).min(self.batch_size);
                let (lo, hi) = shard_range(m, rank, ranks);
                start + lo..start + hi
            })
            .collect();
        let input_shape = self.dataset.input_shape();
        let features: usize = input_shape.iter().product();
        let mut out_shape = match &self.layout {
            InputLayout::AsIs => input_shape,
            InputLayout::Flat => vec![features],
            InputLayout::Shape(s) => s.clone(),
        };
        out_shape.insert(0, 0);
        let job = Job {
            dataset: Arc::clone(&self.dataset),
            order,
            parts,
            features,
            spec: self.dataset.target_spec(),
            labels: self.labels,
            transform: self.transform.clone(),
            seed: self.seed,
            epoch,
        };
        let (tx, rx) = sync_channel(self.prefetch);
        let worker = std::thread::Builder::new()
            .name("strata-dataloader".into())
            .spawn(move || job.run(&tx))
            .expect("DataLoader: cannot spawn the loader thread");
        Epoch {
            rx: Some(rx),
            worker: Some(worker),
            remaining: batches,
            input_shape: out_shape,
        }
    }
}

impl<D: Dataset + 'static> IntoIterator for &mut DataLoader<D> {
    type Item = Batch;
    type IntoIter = Epoch;
    fn into_iter(self) -> Epoch {
        self.iter()
    }
}

/// Rank `rank`'s share `[lo, hi)` of `m` items split over `ranks` as evenly as possible:
/// `lo = ⌊rank·m/ranks⌋`, `hi = ⌊(rank + 1)·m/ranks⌋`.
///
/// ```
/// use strata_datasets::shard_range;
///
/// let parts: Vec<_> = (0..4).map(|r| shard_range(10, r, 4)).collect();
/// assert_eq!(parts, [(0, 2), (2, 5), (5, 7), (7, 10)]);
/// ```
///
/// # Panics
///
/// If `rank ≥ ranks`.
pub fn shard_range(m: usize, rank: usize, ranks: usize) -> (usize, usize) {
    assert!(
        rank < ranks,
        "shard_range: rank {rank} is not below the {ranks} ranks"
    );
    (rank * m / ranks, (rank + 1) * m / ranks)
}

/// SplitMix64-style mixing of the seed, epoch and batch number into one generator seed.
fn mix(seed: u64, epoch: u64, batch: u64) -> u64 {
    let mut z = seed
        .wrapping_add(epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(batch.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A batch as assembled by the loader thread: plain vectors, wrapped into tensors by the
/// consumer.
struct RawBatch {
    inputs: Vec<f32>,
    targets: Vec<f32>,
    target_shape: Vec<usize>,
    labels: Vec<usize>,
    indices: Vec<usize>,
}

struct Job<D> {
    dataset: Arc<D>,
    order: Vec<usize>,
    /// The positions in `order` of this rank's part of each batch.
    parts: Vec<std::ops::Range<usize>>,
    features: usize,
    spec: TargetSpec,
    labels: LabelFormat,
    transform: Option<InputTransform>,
    seed: u64,
    epoch: u64,
}

impl<D: Dataset> Job<D> {
    fn run(self, tx: &SyncSender<RawBatch>) {
        for (b, part) in self.parts.iter().enumerate() {
            let batch = self.assemble(b as u64, &self.order[part.clone()]);
            if tx.send(batch).is_err() {
                return; // the consumer dropped the epoch
            }
        }
    }

    fn assemble(&self, b: u64, chunk: &[usize]) -> RawBatch {
        let mut rng = self
            .transform
            .as_ref()
            .map(|_| StdRng::seed_from_u64(mix(self.seed, self.epoch, b)));
        let transform = self.transform.as_ref().zip(rng.as_mut());
        assemble(
            &*self.dataset,
            chunk,
            self.features,
            &self.spec,
            self.labels,
            transform,
        )
    }
}

/// Gathers the examples `chunk` of `dataset` (whose inputs have `features` values and whose
/// targets are `spec`) into plain vectors, running `transform` on each input.
fn assemble<D: Dataset + ?Sized>(
    dataset: &D,
    chunk: &[usize],
    features: usize,
    spec: &TargetSpec,
    label_format: LabelFormat,
    mut transform: Option<(&InputTransform, &mut StdRng)>,
) -> RawBatch {
    let n = chunk.len();
    let f = features;
    let mut inputs = vec![0.0f32; n * f];
    let mut labels = Vec::new();
    let (mut targets, target_shape) = match spec {
        TargetSpec::Classes(c) => match label_format {
            LabelFormat::Indices => (Vec::with_capacity(n), vec![n]),
            LabelFormat::OneHot => (vec![0.0; n * c], vec![n, *c]),
        },
        TargetSpec::Values(s) => {
            let mut shape = vec![n];
            shape.extend_from_slice(s);
            (Vec::with_capacity(shape.iter().product()), shape)
        }
        TargetSpec::None => (Vec::new(), vec![n, 0]),
    };
    for (i, (&index, input)) in chunk
        .iter()
        .zip(inputs.chunks_exact_mut(f.max(1)))
        .enumerate()
    {
        let target = dataset.get_into(index, input);
        if let Some((t, rng)) = transform.as_mut() {
            t(input, rng);
        }
        match (spec, target) {
            (TargetSpec::Classes(c), Target::Class(label)) => {
                assert!(
                    label < *c,
                    "DataLoader: example {index} has class {label} but the dataset has {c} classes"
                );
                labels.push(label);
                match label_format {
                    LabelFormat::Indices => targets.push(label as f32),
                    LabelFormat::OneHot => targets[i * c + label] = 1.0,
                }
            }
            (TargetSpec::Values(s), Target::Values(v)) => {
                assert_eq!(
                    v.len(),
                    s.iter().product::<usize>(),
                    "DataLoader: example {index} has {} target values, expected shape {s:?}",
                    v.len()
                );
                targets.extend_from_slice(&v);
            }
            (TargetSpec::None, Target::None) => {}
            (spec, target) => panic!(
                "DataLoader: example {index} has target {target:?} but the dataset declares {spec:?}"
            ),
        }
    }
    RawBatch {
        inputs,
        targets,
        target_shape,
        labels,
        indices: chunk.to_vec(),
    }
}

impl Batch {
    /// The examples `indices` of `dataset` as one batch, assembled on the calling thread
    /// exactly as a [`DataLoader`] with `layout` and `labels` assembles it (no transform):
    /// for evaluation passes over a borrowed dataset.
    ///
    /// # Panics
    ///
    /// If an index is out of range, `indices` is empty, or a target does not match the
    /// dataset's [`TargetSpec`].
    pub fn collate<D: Dataset + ?Sized>(
        dataset: &D,
        indices: &[usize],
        layout: &InputLayout,
        labels: LabelFormat,
    ) -> Batch {
        assert!(
            !indices.is_empty(),
            "Batch::collate: no example index given"
        );
        let input_shape = dataset.input_shape();
        let features: usize = input_shape.iter().product();
        let raw = assemble(
            dataset,
            indices,
            features,
            &dataset.target_spec(),
            labels,
            None,
        );
        let mut shape = match layout {
            InputLayout::AsIs => input_shape,
            InputLayout::Flat => vec![features],
            InputLayout::Shape(s) => s.clone(),
        };
        shape.insert(0, indices.len());
        raw.into_batch(shape)
    }
}

impl RawBatch {
    /// The batch as tensors, inputs of `input_shape` (batch axis included).
    fn into_batch(self, input_shape: Vec<usize>) -> Batch {
        Batch {
            inputs: Tensor::from_vec(self.inputs, &input_shape),
            targets: Tensor::from_vec(self.targets, &self.target_shape),
            labels: self.labels,
            indices: self.indices,
        }
    }
}

/// One epoch of a [`DataLoader`]: an iterator of [`Batch`]es fed by the loader thread.
/// Dropping it early stops the thread.
///
/// # Panics
///
/// [`next`](Iterator::next) re-raises a panic that happened on the loader thread (for
/// example a dataset returning a class index out of range, or a target of the wrong kind).
pub struct Epoch {
    rx: Option<Receiver<RawBatch>>,
    worker: Option<JoinHandle<()>>,
    remaining: usize,
    input_shape: Vec<usize>,
}

impl Iterator for Epoch {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.remaining == 0 {
            return None;
        }
        let rx = self.rx.as_ref()?;
        match rx.recv() {
            Ok(raw) => {
                self.remaining -= 1;
                let mut shape = self.input_shape.clone();
                shape[0] = raw.indices.len();
                Some(raw.into_batch(shape))
            }
            Err(_) => {
                // The loader thread ended early: it panicked. Re-raise its panic here.
                self.rx = None;
                if let Some(w) = self.worker.take()
                    && let Err(payload) = w.join()
                {
                    std::panic::resume_unwind(payload);
                }
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Epoch {}

impl Drop for Epoch {
    fn drop(&mut self) {
        self.rx = None; // unblocks a worker waiting to send
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}
