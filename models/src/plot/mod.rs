//! Plots written as PNG images: learning curves, line plots and heatmaps. (The [`History`] they draw lives in
//! [`crate::history`]; it is re-exported here.)
//!
//! [`plot_learning_curves`] draws a history as two panels — loss and error rate against
//! epoch, training and validation — and [`plot_series`] is the general line plot behind it
//! (reconstruction error per epoch, free energy per step, …). [`Heatmap`] draws a matrix as
//! coloured cells with row and column labels and a colour bar (an attention map).
//!
//! Every file is written atomically: the bytes go to a temporary file in the same directory,
//! which is synced and then renamed over the target, so a crash never leaves half a file in
//! place of a good one. Missing parent directories are created.
//!
//! # Fonts
//!
//! Text (titles, tick labels, axis titles, legend entries) is rasterized from a TrueType or
//! OpenType font found once per process: the file named by the `STRATA_FONT` environment
//! variable if it is set, otherwise the first usable file of [`FONT_CANDIDATES`] (DejaVu Sans,
//! Liberation Sans, FreeSans, Arial or Helvetica at their usual Linux, macOS and Windows
//! paths). If none is usable the plots are still written — curves, axes, grid and legend
//! swatches, without any text — and a warning naming every path tried is logged once (a `log`
//! warning); [`plot_font`] reports the same. On Debian and Ubuntu, `fonts-dejavu-core`
//! provides the default font.

mod font;
mod heatmap;
mod render;

use std::io;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::history::write_atomically;
pub use crate::history::{EpochMetrics, History, HistoryError};
use font::text_font;
pub use font::{FONT_CANDIDATES, FONT_ENV, PlotFont, plot_font};
pub use heatmap::Heatmap;
use render::{Curve, Panel, YScale, learning_curve_panels, render_png};

/// Why a plot could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// Writing the image file failed.
    #[error("plot {}: {source}", path.display())]
    Io {
        /// The image file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Encoding the image as PNG failed.
    #[error("plot {}: PNG encoding failed: {message}", path.display())]
    Encode {
        /// The image file.
        path: PathBuf,
        /// The encoder's message.
        message: String,
    },
    /// The data cannot be drawn (e.g. a heatmap whose values are not rows × columns).
    #[error("plot {}: {message}", path.display())]
    Data {
        /// The image file.
        path: PathBuf,
        /// What is wrong with the data.
        message: String,
    },
    /// Drawing into the image buffer failed.
    #[error("plot {}: drawing failed: {message}", path.display())]
    Draw {
        /// The image file.
        path: PathBuf,
        /// The renderer's message.
        message: String,
    },
}

/// Size of a learning-curve image, in pixels.
const LEARNING_CURVES_SIZE: (u32, u32) = (900, 400);
/// Size of a [`plot_series`] image, in pixels.
const SERIES_SIZE: (u32, u32) = (720, 450);

const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VAL_COLOR: RGBColor = RGBColor(255, 127, 14);
/// Colors of successive [`plot_series`] curves (a colorblind-friendly categorical palette).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Draws a history as a 900 × 400 PNG with two panels — loss (training and validation) and
/// error rate in percent (training and validation) against epoch — with tick labels, axis
/// titles, a legend in each panel and `title` above both. A history without error rates but
/// with [`EpochMetrics::metrics`] (an autoencoder, an RBM) shows those in the second panel.
///
/// Curves whose values are all `None` are left out (no validation set, no error rate); a panel
/// with no curve at all shows empty axes. NaN and infinite values are skipped, breaking the
/// line there; isolated points and short runs (up to 30 epochs) are marked with dots, so a
/// single epoch still shows. The file is written atomically and missing parent directories are
/// created. Without a usable font (see the [module docs](self)) the image is written without
/// text.
///
/// # Errors
/// [`PlotError::Io`] if the file cannot be written; [`PlotError::Draw`] or
/// [`PlotError::Encode`] if rendering fails.
pub fn plot_learning_curves(
    history: &History,
    path: impl AsRef<Path>,
    title: &str,
) -> Result<(), PlotError> {
    let path = path.as_ref();
    let font = text_font();
    let panels = learning_curve_panels(history);
    let png = render_png(path, LEARNING_CURVES_SIZE, title, &panels, font)?;
    write_png(path, &png)
}

/// Draws line plots of `series` — each a legend name and its `(x, y)` points, in drawing
/// order — on one set of axes, as a 720 × 450 PNG with tick labels, axis titles `x_label` and
/// `y_label`, a legend (if any series has a name) and `title` above.
///
/// Non-finite points are skipped, breaking the line there; isolated points and series of at
/// most 30 points are marked with dots. When every x is an integer (epochs, steps) the x ticks
/// fall on integers. The file is written atomically and missing parent directories are
/// created. Without a usable font (see the [module docs](self)) the image is written without
/// text.
///
/// # Errors
/// [`PlotError::Io`] if the file cannot be written; [`PlotError::Draw`] or
/// [`PlotError::Encode`] if rendering fails.
pub fn plot_series(
    path: impl AsRef<Path>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(&str, &[(f64, f64)])],
) -> Result<(), PlotError> {
    let path = path.as_ref();
    let font = text_font();
    let curves: Vec<Curve> = series
        .iter()
        .enumerate()
        .map(|(i, (name, points))| Curve {
            name: name.to_string(),
            color: PALETTE[i % PALETTE.len()],
            points: points.to_vec(),
        })
        .collect();
    let integer_x = curves
        .iter()
        .flat_map(|c| &c.points)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .all(|(x, _)| x.fract() == 0.0 && x.abs() < 1e15);
    let panel = Panel {
        x_label: x_label.to_string(),
        y_label: y_label.to_string(),
        curves,
        integer_x,
        y_scale: YScale::Free,
    };
    let png = render_png(path, SERIES_SIZE, title, &[panel], font)?;
    write_png(path, &png)
}

fn write_png(path: &Path, png: &[u8]) -> Result<(), PlotError> {
    write_atomically(path, png).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })
}
