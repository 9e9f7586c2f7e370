//! # strata-datasets
//!
//! Data for Strata: an IDX reader, the bundled MNIST sample, Fashion-MNIST discovery, text
//! corpora, the `Dataset` trait, the `DataLoader` and transforms.
