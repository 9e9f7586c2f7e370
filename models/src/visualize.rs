//! Pictures of what RBMs and DBNs learned: first-layer filters and generated samples as PNG
//! grids (after the DeepLearnToolbox `visualize`).

use std::path::Path;

use strata_datasets::{DatasetError, Grid, GridScaling};
use strata_tensor::Tensor;

/// A near-square grid shape `(rows, cols)` for `n` tiles: `cols = ⌈√n⌉`, `rows = ⌈n/cols⌉`.
pub fn grid_shape(n: usize) -> (usize, usize) {
    let cols = (n as f64).sqrt().ceil().max(1.0) as usize;
    (n.div_ceil(cols).max(1), cols)
}

/// Writes the first-layer filters `weight: [H, height·width]` (each hidden unit's incoming
/// weights, e.g. an RBM's `W` or an MLP's first `Linear` weight) as a PNG grid of `H` tiles of
/// `height × width`, each tile contrast-stretched on its own (`min → black`, `max → white`),
/// zoomed `zoom` times.
///
/// # Errors
/// [`DatasetError`] if the file cannot be written.
///
/// # Panics
/// If `weight` is not 2-D with `height·width` columns, or `zoom` is zero.
pub fn write_filters_png(
    path: impl AsRef<Path>,
    weight: &Tensor,
    (height, width): (usize, usize),
    zoom: usize,
) -> Result<(), DatasetError> {
    assert!(
        weight.ndim() == 2 && weight.shape()[1] == height * width && weight.shape()[0] > 0,
        "write_filters_png: weight {:?} is not [H, {height}·{width}]",
        weight.shape()
    );
    let (rows, cols) = grid_shape(weight.shape()[0]);
    Grid::new(rows, cols, height, width)
        .scaling(GridScaling::PerTile)
        .zoom(zoom)
        .write_png(&weight.to_vec(), path)
}

/// Writes images `samples: [N, height·width]` with values in `[0, 1]` (e.g. Gibbs samples or
/// visible probabilities) as a PNG grid of `N` tiles, `0 → black`, `1 → white`, zoomed `zoom`
/// times.
///
/// # Errors
/// [`DatasetError`] if the file cannot be written.
///
/// # Panics
/// If `samples` is not 2-D with `height·width` columns, or `zoom` is zero.
pub fn write_samples_png(
    path: impl AsRef<Path>,
    samples: &Tensor,
    (height, width): (usize, usize),
    zoom: usize,
) -> Result<(), DatasetError> {
    assert!(
        samples.ndim() == 2 && samples.shape()[1] == height * width && samples.shape()[0] > 0,
        "write_samples_png: samples {:?} are not [N, {height}·{width}]",
        samples.shape()
    );
    let (rows, cols) = grid_shape(samples.shape()[0]);
    Grid::new(rows, cols, height, width)
        .scaling(GridScaling::Fixed { min: 0.0, max: 1.0 })
        .zoom(zoom)
        .write_png(&samples.to_vec(), path)
}
