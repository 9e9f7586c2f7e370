//! Pictures of what RBMs, DBNs and autoencoders learned: first-layer filters and generated
//! samples as grids (after the DeepLearnToolbox `visualize`), as PNG files or as images for the
//! TensorBoard log.

use std::path::Path;

use strata_datasets::{DatasetError, GreyImage, Grid, GridScaling};
use strata_tensor::Tensor;
use strata_tensorboard::Image;

/// A near-square grid shape `(rows, cols)` for `n` tiles: `cols = ⌈√n⌉`, `rows = ⌈n/cols⌉`.
pub fn grid_shape(n: usize) -> (usize, usize) {
    let cols = (n as f64).sqrt().ceil().max(1.0) as usize;
    (n.div_ceil(cols).max(1), cols)
}

/// The first-layer filters `weight: [H, height·width]` (each hidden unit's incoming weights,
/// e.g. an RBM's `W` or an MLP's first `Linear` weight) as a grid of `H` tiles of
/// `height × width`, each tile contrast-stretched on its own (`min → black`, `max → white`),
/// zoomed `zoom` times.
///
/// # Panics
/// If `weight` is not 2-D with `height·width` columns, or `zoom` is zero.
pub fn filters_grid(weight: &Tensor, (height, width): (usize, usize), zoom: usize) -> GreyImage {
    assert!(
        weight.ndim() == 2 && weight.shape()[1] == height * width && weight.shape()[0] > 0,
        "filters_grid: weight {:?} is not [H, {height}·{width}]",
        weight.shape()
    );
    let (rows, cols) = grid_shape(weight.shape()[0]);
    Grid::new(rows, cols, height, width)
        .with_scaling(GridScaling::PerTile)
        .with_zoom(zoom)
        .render(&weight.to_vec())
}

/// Images `samples: [N, height·width]` with values in `[0, 1]` (Gibbs samples, visible
/// probabilities, reconstructions) as a grid of `N` tiles, `0 → black`, `1 → white`, zoomed
/// `zoom` times.
///
/// # Panics
/// If `samples` is not 2-D with `height·width` columns, or `zoom` is zero.
pub fn samples_grid(samples: &Tensor, (height, width): (usize, usize), zoom: usize) -> GreyImage {
    assert!(
        samples.ndim() == 2 && samples.shape()[1] == height * width && samples.shape()[0] > 0,
        "samples_grid: samples {:?} are not [N, {height}·{width}]",
        samples.shape()
    );
    let (rows, cols) = grid_shape(samples.shape()[0]);
    Grid::new(rows, cols, height, width)
        .with_scaling(GridScaling::Fixed { min: 0.0, max: 1.0 })
        .with_zoom(zoom)
        .render(&samples.to_vec())
}

/// A grid as an image for the TensorBoard log
/// ([`Trainer::with_images`](crate::Trainer::with_images)).
pub fn tensorboard_image(grid: GreyImage) -> Image {
    Image::grey(grid.width as u32, grid.height as u32, grid.pixels)
}

/// Writes [`filters_grid`] as a PNG file.
///
/// # Errors
/// [`DatasetError`] if the file cannot be written.
///
/// # Panics
/// As [`filters_grid`].
pub fn write_filters_png(
    path: impl AsRef<Path>,
    weight: &Tensor,
    tile: (usize, usize),
    zoom: usize,
) -> Result<(), DatasetError> {
    filters_grid(weight, tile, zoom).write_png(path)
}

/// Writes [`samples_grid`] as a PNG file.
///
/// # Errors
/// [`DatasetError`] if the file cannot be written.
///
/// # Panics
/// As [`samples_grid`].
pub fn write_samples_png(
    path: impl AsRef<Path>,
    samples: &Tensor,
    tile: (usize, usize),
    zoom: usize,
) -> Result<(), DatasetError> {
    samples_grid(samples, tile, zoom).write_png(path)
}

/// What an RBM learned, for the TensorBoard log
/// ([`Trainer::with_images`](crate::Trainer::with_images)): `"filters"`, the weights of the
/// first 100 hidden units as tiles of `tile = (height, width)` pixels, and `"reconstructions"`,
/// the mean-field reconstructions `p(v | p(h | v))` of the examples `probe: [N, visible]`.
///
/// # Panics
/// If the RBM's visible units are not `tile.0 · tile.1`, or `probe` has another width.
pub fn rbm_images(
    rbm: &crate::rbm::Rbm,
    probe: &Tensor,
    tile: (usize, usize),
) -> Vec<(String, Image)> {
    let weight = rbm.weight.value();
    let shown = weight.narrow(0, 0, weight.shape()[0].min(100));
    let reconstruction = rbm.prob_v_given_h(&rbm.prob_h_given_v(probe));
    vec![
        (
            "filters".to_string(),
            tensorboard_image(filters_grid(&shown, tile, 2)),
        ),
        (
            "reconstructions".to_string(),
            tensorboard_image(samples_grid(&reconstruction, tile, 2)),
        ),
    ]
}

/// The first layer's filters of `model`, for the TensorBoard log
/// ([`Trainer::with_images`](crate::Trainer::with_images)): the first parameter that is a
/// convolution kernel `[out, in, kh, kw]` (the first input channel of each filter as a
/// `kh × kw` tile) or a weight matrix `[out, in]` whose `in` is a square number (each unit's
/// weights as a `√in × √in` tile), at most 100 tiles, each contrast-stretched on its own and
/// zoomed `zoom` times, tagged `filters/<parameter name>`. Empty when no parameter fits.
///
/// # Panics
/// If `zoom` is zero.
pub fn first_layer_filters<M: strata_layers::Module>(
    model: &M,
    zoom: usize,
) -> Vec<(String, Image)> {
    for (name, param) in model.params() {
        let w = param.value();
        let (tiles, tile) = match *w.shape() {
            [out, _, kh, kw] => (
                w.narrow(1, 0, 1).contiguous().reshape(&[out, kh * kw]),
                (kh, kw),
            ),
            [_, inputs] => {
                let side = (inputs as f64).sqrt().round() as usize;
                if side * side != inputs || side < 2 {
                    continue;
                }
                (w.clone(), (side, side))
            }
            _ => continue,
        };
        let shown = tiles.narrow(0, 0, tiles.shape()[0].min(100));
        let grid = filters_grid(&shown, tile, zoom);
        return vec![(format!("filters/{name}"), tensorboard_image(grid))];
    }
    Vec::new()
}

/// `steps` codes evenly spaced on the segment from `a` to `b` (ends included), `[steps, L]`: the
/// codes of a latent interpolation strip.
///
/// # Panics
/// If `a` and `b` differ in length or `steps < 2`.
pub fn interpolation_codes(a: &[f32], b: &[f32], steps: usize) -> Tensor {
    assert!(
        a.len() == b.len() && steps >= 2,
        "interpolation_codes: codes of {} and {} values, {steps} steps",
        a.len(),
        b.len()
    );
    let codes = (0..steps)
        .flat_map(|i| {
            let t = i as f32 / (steps - 1) as f32;
            a.iter().zip(b).map(move |(x, y)| (1.0 - t) * x + t * y)
        })
        .collect();
    Tensor::from_vec(codes, &[steps, a.len()])
}

/// Writes images `[n, …]` of `height × width` pixels in `[0, 1]` as one row of tiles (zoom 2),
/// atomically.
///
/// # Errors
/// As [`GreyImage::write_png`].
pub fn write_strip_png(
    path: impl AsRef<Path>,
    images: &Tensor,
    (height, width): (usize, usize),
) -> Result<(), DatasetError> {
    Grid::new(1, images.shape()[0], height, width)
        .with_scaling(GridScaling::Fixed { min: 0.0, max: 1.0 })
        .with_zoom(2)
        .write_png(&images.to_vec(), path)
}
