//! Tiling many small greyscale images (digits, samples, learned filters) into one picture and
//! writing it as a PNG.

use std::path::Path;

use crate::error::DatasetError;

/// How tile values are mapped to grey levels 0 (black) … 255 (white).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GridScaling {
    /// Each tile's own minimum maps to black and its maximum to white (best for filters).
    PerTile,
    /// The minimum and maximum over all tiles map to black and white (keeps tiles comparable).
    Global,
    /// `min` maps to black and `max` to white; values outside are clipped (for images in
    /// `[0, 1]` use `Fixed { min: 0.0, max: 1.0 }`).
    Fixed {
        /// Value drawn black.
        min: f32,
        /// Value drawn white.
        max: f32,
    },
}

/// An 8-bit greyscale image, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GreyImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `height × width` grey levels, row-major.
    pub pixels: Vec<u8>,
}

impl GreyImage {
    /// Writes the image as an 8-bit greyscale PNG file, atomically (the one atomic writer of
    /// `strata_io`: a crash or a full disk leaves the old file, never a truncated one).
    ///
    /// # Errors
    ///
    /// [`DatasetError::Io`] if the file cannot be written, [`DatasetError::Png`] if encoding
    /// fails.
    pub fn write_png(&self, path: impl AsRef<Path>) -> Result<(), DatasetError> {
        let path = path.as_ref();
        let png_err = |e: png::EncodingError| DatasetError::Png {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let dim = |x: usize| {
            u32::try_from(x).map_err(|_| DatasetError::Png {
                path: path.to_path_buf(),
                message: format!("dimension {x} exceeds u32::MAX"),
            })
        };
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, dim(self.width)?, dim(self.height)?);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(png_err)?;
        writer.write_image_data(&self.pixels).map_err(png_err)?;
        writer.finish().map_err(png_err)?;
        strata_io::write_atomically(path, &bytes).map_err(|e| DatasetError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(e.source.kind(), format!("{}: {}", e.action, e.source)),
        })
    }
}

/// A layout of `rows × cols` tiles of `tile_height × tile_width` values, separated by padding.
///
/// ```
/// use strata_datasets::{Grid, GridScaling};
///
/// // Two 2×2 tiles side by side, 1 pixel of grey padding around and between them.
/// let tiles = [0.0, 1.0, 1.0, 0.0, 0.5, 0.5, 0.5, 1.0];
/// let img = Grid::new(1, 2, 2, 2)
///     .with_scaling(GridScaling::Fixed { min: 0.0, max: 1.0 })
///     .render(&tiles);
/// assert_eq!((img.width, img.height), (7, 4));
/// assert_eq!(img.pixels[1 * 7 + 1], 0); // first tile, top-left value 0.0 → black
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    rows: usize,
    cols: usize,
    tile_height: usize,
    tile_width: usize,
    scaling: GridScaling,
    padding: usize,
    pad_value: u8,
    zoom: usize,
}

impl Grid {
    /// A grid of `rows × cols` tiles of `tile_height × tile_width` values, with per-tile
    /// scaling, 1 pixel of mid-grey (128) padding and no zoom.
    ///
    /// # Panics
    ///
    /// If any argument is 0.
    pub fn new(rows: usize, cols: usize, tile_height: usize, tile_width: usize) -> Grid {
        assert!(
            rows > 0 && cols > 0 && tile_height > 0 && tile_width > 0,
            "Grid::new: {rows}×{cols} tiles of {tile_height}×{tile_width} must be non-empty"
        );
        Grid {
            rows,
            cols,
            tile_height,
            tile_width,
            scaling: GridScaling::PerTile,
            padding: 1,
            pad_value: 128,
            zoom: 1,
        }
    }

    /// Sets how values map to grey levels.
    pub fn with_scaling(mut self, scaling: GridScaling) -> Grid {
        self.scaling = scaling;
        self
    }

    /// Sets the padding width in (zoomed) pixels and its grey level.
    pub fn with_padding(mut self, pixels: usize, value: u8) -> Grid {
        self.padding = pixels;
        self.pad_value = value;
        self
    }

    /// Draws each value as a `factor × factor` block of pixels.
    ///
    /// # Panics
    ///
    /// If `factor` is 0.
    pub fn with_zoom(mut self, factor: usize) -> Grid {
        assert!(factor > 0, "Grid::with_zoom: factor must be ≥ 1");
        self.zoom = factor;
        self
    }

    /// Renders `tiles` (`[t, tile_height, tile_width]` row-major, `t ≤ rows * cols`) filling
    /// the grid row by row; missing tiles stay padding-coloured. Non-finite values are drawn
    /// black.
    ///
    /// # Panics
    ///
    /// If `tiles.len()` is not a multiple of `tile_height * tile_width` or holds more than
    /// `rows * cols` tiles.
    pub fn render(&self, tiles: &[f32]) -> GreyImage {
        let (th, tw, z, p) = (self.tile_height, self.tile_width, self.zoom, self.padding);
        let tsize = th * tw;
        assert!(
            tiles.len().is_multiple_of(tsize) && tiles.len() / tsize <= self.rows * self.cols,
            "Grid::render: {} values are not at most {}×{} tiles of {th}×{tw}",
            tiles.len(),
            self.rows,
            self.cols
        );
        let width = self.cols * tw * z + (self.cols + 1) * p;
        let height = self.rows * th * z + (self.rows + 1) * p;
        let mut pixels = vec![self.pad_value; width * height];
        let range = |vals: &[f32]| {
            vals.iter()
                .filter(|v| v.is_finite())
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                })
        };
        let global = range(tiles);
        for (t, tile) in tiles.chunks_exact(tsize).enumerate() {
            let (lo, hi) = match self.scaling {
                GridScaling::PerTile => range(tile),
                GridScaling::Global => global,
                GridScaling::Fixed { min, max } => (min, max),
            };
            let span = hi - lo;
            let grey = |v: f32| -> u8 {
                if !v.is_finite() || !span.is_finite() || span <= 0.0 {
                    0
                } else {
                    (((v - lo) / span).clamp(0.0, 1.0) * 255.0).round() as u8
                }
            };
            let (gr, gc) = (t / self.cols, t % self.cols);
            let y0 = p + gr * (th * z + p);
            let x0 = p + gc * (tw * z + p);
            for y in 0..th * z {
                let row = &mut pixels[(y0 + y) * width + x0..][..tw * z];
                for (x, px) in row.iter_mut().enumerate() {
                    *px = grey(tile[(y / z) * tw + x / z]);
                }
            }
        }
        GreyImage {
            width,
            height,
            pixels,
        }
    }

    /// Renders `tiles` (see [`Grid::render`]) and writes the picture as a PNG file.
    ///
    /// # Errors
    ///
    /// As [`GreyImage::write_png`].
    ///
    /// # Panics
    ///
    /// As [`Grid::render`].
    pub fn write_png(&self, tiles: &[f32], path: impl AsRef<Path>) -> Result<(), DatasetError> {
        self.render(tiles).write_png(path)
    }
}

/// Writes `rows × cols` tiles of `tile_height × tile_width` values as one PNG picture
/// (1 pixel of grey padding, no zoom): the shorthand for
/// `Grid::new(rows, cols, tile_height, tile_width).with_scaling(scaling).write_png(tiles, path)`.
///
/// # Errors
///
/// As [`GreyImage::write_png`].
///
/// # Panics
///
/// As [`Grid::new`] and [`Grid::render`].
pub fn write_png_grid(
    path: impl AsRef<Path>,
    tiles: &[f32],
    (rows, cols): (usize, usize),
    (tile_height, tile_width): (usize, usize),
    scaling: GridScaling,
) -> Result<(), DatasetError> {
    Grid::new(rows, cols, tile_height, tile_width)
        .with_scaling(scaling)
        .write_png(tiles, path)
}
