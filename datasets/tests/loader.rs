//! The DataLoader: shapes, label formats, shuffling, drop_last, transforms, the background
//! thread.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use rand::Rng;
use strata_datasets::{
    ArrayDataset, DataLoader, Dataset, Example, InputLayout, LabelFormat, Target, TargetSpec,
    synthetic,
};

fn counting(n: usize) -> ArrayDataset {
    // Example i has input [i, 10i, 100i] and class i % 3.
    let inputs = (0..n)
        .flat_map(|i| [i as f32, 10.0 * i as f32, 100.0 * i as f32])
        .collect();
    ArrayDataset::classification(inputs, vec![3], (0..n).map(|i| i % 3).collect(), 3)
}

#[test]
fn batches_in_order_with_last_partial_batch() {
    let mut loader = DataLoader::new(counting(10), 4);
    assert_eq!(loader.len(), 3);
    let batches: Vec<_> = loader.iter().collect();
    assert_eq!(batches.len(), 3);
    assert_eq!(batches[0].indices, vec![0, 1, 2, 3]);
    assert_eq!(batches[2].indices, vec![8, 9]);
    assert_eq!(batches[2].inputs.shape(), &[2, 3]);
    assert_eq!(
        batches[2].inputs.to_vec(),
        vec![8.0, 80.0, 800.0, 9.0, 90.0, 900.0]
    );
    assert_eq!(batches[0].targets.shape(), &[4]);
    assert_eq!(batches[0].targets.to_vec(), vec![0.0, 1.0, 2.0, 0.0]);
    assert_eq!(batches[0].labels, vec![0, 1, 2, 0]);
    assert!(batches[0].inputs.as_slice().is_some(), "contiguous");
}

#[test]
fn drop_last_drops_the_partial_batch() {
    let mut loader = DataLoader::new(counting(10), 4)
        .with_drop_last(true)
        .with_shuffle(3);
    assert_eq!(loader.len(), 2);
    let batches: Vec<_> = loader.iter().collect();
    assert_eq!(batches.len(), 2);
    assert!(batches.iter().all(|b| b.len() == 4));
    let mut exact = DataLoader::new(counting(8), 4).with_drop_last(true);
    assert_eq!(exact.iter().count(), 2);
    let mut tiny = DataLoader::new(counting(3), 4).with_drop_last(true);
    assert!(tiny.is_empty());
    assert_eq!(tiny.iter().count(), 0);
}

#[test]
fn one_hot_and_layouts() {
    let mut loader = DataLoader::new(counting(5), 5).one_hot();
    let b = loader.iter().next().unwrap();
    assert_eq!(b.targets.shape(), &[5, 3]);
    assert_eq!(
        b.targets.to_vec(),
        vec![1., 0., 0., 0., 1., 0., 0., 0., 1., 1., 0., 0., 0., 1., 0.]
    );
    let m = common::bundled().test.clone();
    let mut nchw = DataLoader::new(m.clone(), 64);
    assert_eq!(nchw.iter().next().unwrap().inputs.shape(), &[64, 1, 28, 28]);
    let mut flat = DataLoader::new(m.clone(), 64)
        .flatten()
        .with_label_format(LabelFormat::OneHot);
    let b = flat.iter().next().unwrap();
    assert_eq!(b.inputs.shape(), &[64, 784]);
    assert_eq!(b.targets.shape(), &[64, 10]);
    assert_eq!(b.targets.get(&[0, 7]), 1.0); // first test digit is a 7
    let mut custom = DataLoader::new(m, 8).with_layout(InputLayout::Shape(vec![28, 28]));
    assert_eq!(custom.iter().next().unwrap().inputs.shape(), &[8, 28, 28]);
}

#[test]
#[should_panic(expected = "does not have the elements")]
fn layout_with_wrong_element_count_panics() {
    let _ = DataLoader::new(counting(5), 2).with_layout(InputLayout::Shape(vec![4]));
}

#[test]
fn shuffling_is_a_reproducible_permutation_new_each_epoch() {
    let mut a = DataLoader::new(counting(100), 7).with_shuffle(42);
    let mut b = DataLoader::new(counting(100), 7).with_shuffle(42);
    let epoch = |l: &mut DataLoader<ArrayDataset>| -> Vec<usize> {
        l.iter().flat_map(|b| b.indices).collect()
    };
    let a0 = epoch(&mut a);
    let a1 = epoch(&mut a);
    assert_eq!(a0, epoch(&mut b));
    assert_eq!(a1, epoch(&mut b));
    assert_ne!(a0, a1, "a new order every epoch");
    assert_ne!(a0, (0..100).collect::<Vec<_>>());
    let mut sorted = a0.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..100).collect::<Vec<_>>());
    // An explicit epoch number replays that epoch.
    assert_eq!(a.order(1), a1);
    assert_eq!(a.epoch(0).flat_map(|b| b.indices).collect::<Vec<_>>(), a0);
    assert_eq!(a.next_epoch(), 2);
    // Another seed, another order; inputs follow their indices.
    let mut c = DataLoader::new(counting(100), 100).with_shuffle(43);
    let batch = c.iter().next().unwrap();
    assert_ne!(batch.indices, a0);
    for (row, &i) in batch.indices.iter().enumerate() {
        assert_eq!(batch.inputs.get(&[row, 1]), 10.0 * i as f32);
        assert_eq!(batch.labels[row], i % 3);
    }
}

#[test]
fn transforms_run_per_example_and_are_reproducible() {
    let make = || {
        DataLoader::new(counting(20), 6)
            .with_shuffle(5)
            .with_transform(|x: &mut [f32], rng| x[0] += rng.random_range(0.0..1.0f32))
    };
    let collect = |l: &mut DataLoader<ArrayDataset>| -> Vec<f32> {
        l.iter().flat_map(|b| b.inputs.to_vec()).collect()
    };
    let (mut a, mut b) = (make(), make());
    let ea = collect(&mut a);
    assert_eq!(ea, collect(&mut b));
    assert_ne!(ea, collect(&mut a), "fresh noise next epoch");
    // Values were changed only in the first feature, by less than 1.
    let mut l = make();
    for batch in l.iter() {
        for (row, &i) in batch.indices.iter().enumerate() {
            let d = batch.inputs.get(&[row, 0]) - i as f32;
            assert!((0.0..1.0).contains(&d));
            assert_eq!(batch.inputs.get(&[row, 1]), 10.0 * i as f32);
        }
    }
}

/// Records the thread that reads each example.
struct Spy {
    inner: ArrayDataset,
    threads: Arc<Mutex<HashSet<ThreadId>>>,
}

impl Dataset for Spy {
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn input_shape(&self) -> Vec<usize> {
        self.inner.input_shape()
    }
    fn target_spec(&self) -> TargetSpec {
        self.inner.target_spec()
    }
    fn get(&self, index: usize) -> Example {
        self.threads
            .lock()
            .unwrap()
            .insert(std::thread::current().id());
        self.inner.get(index)
    }
}

#[test]
fn batches_are_assembled_on_a_background_thread_through_get() {
    let threads = Arc::new(Mutex::new(HashSet::new()));
    let spy = Spy {
        inner: counting(9),
        threads: Arc::clone(&threads),
    };
    let mut loader = DataLoader::new(spy, 4).with_prefetch(1);
    let batches: Vec<_> = loader.iter().collect();
    assert_eq!(batches[1].inputs.get(&[0, 2]), 400.0); // default get_into goes through get
    let seen = threads.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert!(!seen.contains(&std::thread::current().id()));
}

#[test]
fn dropping_an_epoch_early_stops_its_thread() {
    let mut loader = DataLoader::new(common::bundled().train.clone(), 10).with_prefetch(2);
    for _ in 0..3 {
        let mut epoch = loader.iter();
        assert_eq!(epoch.len(), 1000);
        let _ = epoch.next();
        assert_eq!(epoch.len(), 999);
        // Dropped here with the worker blocked on a full channel: must not hang.
    }
}

struct Faulty;

impl Dataset for Faulty {
    fn len(&self) -> usize {
        10
    }
    fn input_shape(&self) -> Vec<usize> {
        vec![1]
    }
    fn target_spec(&self) -> TargetSpec {
        TargetSpec::Classes(2)
    }
    fn get(&self, index: usize) -> Example {
        Example {
            input: vec![0.0],
            target: Target::Class(if index == 6 { 5 } else { 0 }),
        }
    }
}

#[test]
#[should_panic(expected = "has class 5 but the dataset has 2 classes")]
fn a_panic_in_the_loader_thread_reaches_the_caller() {
    let mut loader = DataLoader::new(Faulty, 3);
    for _ in loader.iter() {}
}

#[test]
fn value_targets_are_stacked() {
    let data = synthetic::noisy_sine(10, 12, 0.1, 1);
    let mut loader = DataLoader::new(data, 4).with_drop_last(true);
    let b = loader.iter().next().unwrap();
    assert_eq!(b.inputs.shape(), &[4, 12, 1]);
    assert_eq!(b.targets.shape(), &[4, 12, 1]);
    assert!(b.labels.is_empty());
}

#[test]
fn loader_over_a_shared_dataset_and_a_subset() {
    let data = Arc::new(counting(10));
    let (train, val) = strata_datasets::Subset::train_val(Arc::clone(&data), 0.3, Some(9));
    assert_eq!((train.len(), val.len()), (7, 3));
    let mut l = DataLoader::new(val, 2);
    let idx: Vec<usize> = l.iter().flat_map(|b| b.indices).collect();
    assert_eq!(
        idx,
        vec![0, 1, 2],
        "indices are positions within the subset"
    );
    let mut whole = DataLoader::from_arc(data, 10);
    assert_eq!(whole.iter().next().unwrap().len(), 10);
}
