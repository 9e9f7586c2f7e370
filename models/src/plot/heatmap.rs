//! A matrix drawn as a grid of coloured cells with row and column labels, axis titles and a
//! colour bar: [`Heatmap`].

use std::path::Path;

use ab_glyph::FontVec;
use plotters::style::RGBColor;

use super::font::{Align, Label, draw_label, text_font, text_width};
use super::render::{
    AXIS_COLOR, AXIS_TITLE_SIZE, TICK_LABEL_SIZE, TICK_LENGTH, TITLE_HEIGHT, TITLE_SIZE,
    TickFormat, encode_png, ticks,
};
use super::{PlotError, write_png};

/// Viridis at five evenly spaced points (dark purple for the low end, yellow for the high).
const VIRIDIS: [(f64, f64, f64); 5] = [
    (68.0, 1.0, 84.0),
    (59.0, 82.0, 139.0),
    (33.0, 145.0, 140.0),
    (94.0, 201.0, 98.0),
    (253.0, 231.0, 37.0),
];
/// Width of the colour bar, in pixels.
const BAR_WIDTH: i32 = 18;
/// Gap between the grid and the colour bar, in pixels.
const BAR_GAP: i32 = 24;
/// Margin around the whole figure, in pixels.
const MARGIN: i32 = 12;

/// A matrix of `rows × cols` values drawn as coloured cells (the viridis colour map), with a
/// label under every column and beside every row, axis titles, a colour bar with its scale
/// and a title — an attention map, a confusion matrix, a weight matrix.
///
/// ```no_run
/// use strata_models::plot::Heatmap;
///
/// // Two output tokens attending over three source tokens.
/// let weights = [0.1, 0.2, 0.7, 0.8, 0.1, 0.1];
/// Heatmap::new(2, 3, &weights)
///     .with_col_labels(["4", "0", "9"])
///     .with_row_labels(["9", "0"])
///     .with_axis_titles("source token", "output token")
///     .with_value_title("attention weight")
///     .with_range(0.0, 1.0)
///     .write_png("attention.png", "Attention")
///     .unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Heatmap {
    rows: usize,
    cols: usize,
    values: Vec<f64>,
    row_labels: Vec<String>,
    col_labels: Vec<String>,
    x_title: String,
    y_title: String,
    value_title: String,
    range: Option<(f64, f64)>,
}

impl Heatmap {
    /// A heatmap of `values`, row after row (`rows · cols` of them; a different count is
    /// reported by [`Heatmap::write_png`]), without labels or titles, coloured from the
    /// smallest to the largest finite value.
    pub fn new(rows: usize, cols: usize, values: &[f32]) -> Self {
        Heatmap {
            rows,
            cols,
            values: values.iter().map(|&v| f64::from(v)).collect(),
            row_labels: Vec::new(),
            col_labels: Vec::new(),
            x_title: String::new(),
            y_title: String::new(),
            value_title: String::new(),
            range: None,
        }
    }

    /// Labels of the rows, top to bottom, written left of the grid (missing ones are blank).
    pub fn with_row_labels<S: ToString>(mut self, labels: impl IntoIterator<Item = S>) -> Self {
        self.row_labels = labels.into_iter().map(|s| s.to_string()).collect();
        self
    }

    /// Labels of the columns, left to right, written under the grid (turned a quarter turn
    /// when wider than a cell; missing ones are blank).
    pub fn with_col_labels<S: ToString>(mut self, labels: impl IntoIterator<Item = S>) -> Self {
        self.col_labels = labels.into_iter().map(|s| s.to_string()).collect();
        self
    }

    /// The title of the horizontal axis (under the column labels) and of the vertical axis
    /// (left of the row labels).
    pub fn with_axis_titles(mut self, x: &str, y: &str) -> Self {
        self.x_title = x.to_string();
        self.y_title = y.to_string();
        self
    }

    /// The title of the colour bar: what the values are, with their unit.
    pub fn with_value_title(mut self, title: &str) -> Self {
        self.value_title = title.to_string();
        self
    }

    /// The values mapped to the two ends of the colour map (values outside are clamped):
    /// e.g. `(0, 1)` for probabilities, so maps of different runs compare. Default: the
    /// smallest and the largest finite value.
    pub fn with_range(mut self, low: f64, high: f64) -> Self {
        self.range = Some((low, high));
        self
    }

    /// Draws the heatmap under `title` and writes it as a PNG (atomically, creating missing
    /// parent directories). Cells are square, 16 to 40 pixels wide; NaN cells are grey.
    /// Without a usable font (see the [module docs](super)) the image has no text.
    ///
    /// # Errors
    /// [`PlotError::Data`] if there are no cells, the values are not `rows · cols`, the range
    /// is empty or no value is finite; [`PlotError::Io`] if the file cannot be written;
    /// [`PlotError::Encode`] if encoding fails.
    pub fn write_png(&self, path: impl AsRef<Path>, title: &str) -> Result<(), PlotError> {
        let path = path.as_ref();
        let data = |message: String| PlotError::Data {
            path: path.to_path_buf(),
            message,
        };
        if self.rows == 0 || self.cols == 0 {
            return Err(data(format!(
                "a heatmap of {} × {} cells has nothing to draw",
                self.rows, self.cols
            )));
        }
        if self.values.len() != self.rows * self.cols {
            return Err(data(format!(
                "{} values for a heatmap of {} × {} cells",
                self.values.len(),
                self.rows,
                self.cols
            )));
        }
        let (low, high) = match self.range {
            Some(range) => range,
            None => {
                let finite = self.values.iter().copied().filter(|v| v.is_finite());
                finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                })
            }
        };
        if !(low.is_finite() && high.is_finite()) {
            return Err(data("no finite value to colour by".to_string()));
        }
        if low > high {
            return Err(data(format!("the colour range {low}..{high} is empty")));
        }
        let (rgb, size) = self.render(title, (low, high), text_font());
        let png = encode_png(&rgb, size).map_err(|e| PlotError::Encode {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        write_png(path, &png)
    }

    /// Renders into a packed RGB buffer, returning it and its size.
    fn render(
        &self,
        title: &str,
        (low, high): (f64, f64),
        font: Option<&FontVec>,
    ) -> (Vec<u8>, (u32, u32)) {
        let line = |size: f32| {
            if font.is_some() {
                (size * 1.3).ceil() as i32
            } else {
                0
            }
        };
        let width_of = |text: &str, size: f32| text_width(font, text, size);
        let cell = (480 / self.rows.max(self.cols) as i32).clamp(16, 40);
        let (grid_w, grid_h) = (cell * self.cols as i32, cell * self.rows as i32);
        let widest = |labels: &[String]| {
            labels
                .iter()
                .map(|l| width_of(l, TICK_LABEL_SIZE))
                .max()
                .unwrap_or(0)
        };
        let row_label_w = widest(&self.row_labels);
        let col_label_w = widest(&self.col_labels);
        let rotate_cols = col_label_w > cell - 2;
        let col_label_h = if rotate_cols {
            col_label_w
        } else {
            line(TICK_LABEL_SIZE)
        };

        // The colour bar's ticks and their labels.
        let (bar_ticks, step) = if high > low {
            ticks(low, high, 6, false)
        } else {
            (vec![low], 1.0)
        };
        let format = TickFormat::new(&bar_ticks, step);
        let bar_labels: Vec<String> = bar_ticks.iter().map(|&t| format.format(t)).collect();
        let bar_label_w = widest(&bar_labels);

        let title_h = if title.is_empty() || font.is_none() {
            MARGIN
        } else {
            TITLE_HEIGHT as i32
        };
        let left = MARGIN + line(AXIS_TITLE_SIZE) + 4 + row_label_w + 6;
        let top = title_h + 6;
        let bar_x = left + grid_w + BAR_GAP;
        let right_of_bar = TICK_LENGTH + 4 + bar_label_w + 8 + line(AXIS_TITLE_SIZE) + MARGIN;
        let title_w = width_of(title, TITLE_SIZE) + 2 * MARGIN;
        let width = (bar_x + BAR_WIDTH + right_of_bar).max(title_w);
        let height = top + grid_h + 6 + col_label_h + 6 + line(AXIS_TITLE_SIZE) + MARGIN;
        let size = (width as u32, height as u32);
        let mut canvas = Canvas {
            rgb: vec![255u8; (width * height * 3) as usize],
            width,
        };

        // The cells and their frame.
        for r in 0..self.rows {
            for c in 0..self.cols {
                let value = self.values[r * self.cols + c];
                let color = if value.is_finite() {
                    viridis(if high > low {
                        (value - low) / (high - low)
                    } else {
                        0.5
                    })
                } else {
                    RGBColor(190, 190, 190)
                };
                let (x, y) = (left + c as i32 * cell, top + r as i32 * cell);
                canvas.fill(x, y, cell, cell, color);
            }
        }
        canvas.frame(left, top, grid_w, grid_h);

        // The colour bar, high at the top, with outward ticks on its right.
        for j in 0..grid_h {
            let t = 1.0 - (j as f64 + 0.5) / grid_h as f64;
            canvas.fill(bar_x, top + j, BAR_WIDTH, 1, viridis(t));
        }
        canvas.frame(bar_x, top, BAR_WIDTH, grid_h);
        let bar_y = |v: f64| {
            let t = if high > low {
                (v - low) / (high - low)
            } else {
                0.5
            };
            top + ((1.0 - t) * (grid_h - 1) as f64).round() as i32
        };
        for &t in &bar_ticks {
            canvas.fill(bar_x + BAR_WIDTH, bar_y(t), TICK_LENGTH, 1, AXIS_COLOR);
        }

        let Some(font) = font else {
            return (canvas.rgb, size);
        };
        let mut labels = Vec::new();
        let mut label = |text: &str, x, y, size, horizontal, vertical, rotated| {
            if !text.is_empty() {
                labels.push(Label {
                    text: text.to_string(),
                    x,
                    y,
                    size,
                    horizontal,
                    vertical,
                    rotated,
                });
            }
        };
        label(
            title,
            width / 2,
            title_h / 2 + 3,
            TITLE_SIZE,
            Align::Center,
            Align::Center,
            false,
        );
        for (r, text) in self.row_labels.iter().take(self.rows).enumerate() {
            let y = top + r as i32 * cell + cell / 2;
            let x = left - 6;
            label(
                text,
                x,
                y,
                TICK_LABEL_SIZE,
                Align::End,
                Align::Center,
                false,
            );
        }
        for (c, text) in self.col_labels.iter().take(self.cols).enumerate() {
            let x = left + c as i32 * cell + cell / 2;
            let y = top + grid_h + 6;
            label(
                text,
                x,
                y,
                TICK_LABEL_SIZE,
                Align::Center,
                Align::Start,
                rotate_cols,
            );
        }
        let x_title_y = top + grid_h + 6 + col_label_h + 6;
        label(
            &self.x_title,
            left + grid_w / 2,
            x_title_y,
            AXIS_TITLE_SIZE,
            Align::Center,
            Align::Start,
            false,
        );
        label(
            &self.y_title,
            MARGIN,
            top + grid_h / 2,
            AXIS_TITLE_SIZE,
            Align::Start,
            Align::Center,
            true,
        );
        for (&t, text) in bar_ticks.iter().zip(&bar_labels) {
            let x = bar_x + BAR_WIDTH + TICK_LENGTH + 4;
            label(
                text,
                x,
                bar_y(t),
                TICK_LABEL_SIZE,
                Align::Start,
                Align::Center,
                false,
            );
        }
        label(
            &self.value_title,
            bar_x + BAR_WIDTH + TICK_LENGTH + 4 + bar_label_w + 8,
            top + grid_h / 2,
            AXIS_TITLE_SIZE,
            Align::Start,
            Align::Center,
            true,
        );
        for l in &labels {
            draw_label(&mut canvas.rgb, size, font, l);
        }
        (canvas.rgb, size)
    }
}

/// The viridis colour of `t` in `[0, 1]` (clamped), interpolated between [`VIRIDIS`]'s points.
fn viridis(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let i = (t.floor() as usize).min(VIRIDIS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A packed RGB image being drawn into.
struct Canvas {
    rgb: Vec<u8>,
    width: i32,
}

impl Canvas {
    /// Fills the rectangle of `w × h` pixels at `(x, y)` (clipped to the image).
    fn fill(&mut self, x: i32, y: i32, w: i32, h: i32, color: RGBColor) {
        let height = self.rgb.len() as i32 / (3 * self.width);
        for j in y.max(0)..(y + h).min(height) {
            for i in x.max(0)..(x + w).min(self.width) {
                let at = ((j * self.width + i) * 3) as usize;
                self.rgb[at..at + 3].copy_from_slice(&[color.0, color.1, color.2]);
            }
        }
    }

    /// A one-pixel frame just outside the rectangle of `w × h` pixels at `(x, y)`.
    fn frame(&mut self, x: i32, y: i32, w: i32, h: i32) {
        self.fill(x - 1, y - 1, w + 2, 1, AXIS_COLOR);
        self.fill(x - 1, y + h, w + 2, 1, AXIS_COLOR);
        self.fill(x - 1, y - 1, 1, h + 2, AXIS_COLOR);
        self.fill(x + w, y - 1, 1, h + 2, AXIS_COLOR);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_runs_from_purple_to_yellow() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(2.0), viridis(1.0));
    }

    #[test]
    fn a_heatmap_refuses_a_wrong_count_of_values() {
        let dir = std::env::temp_dir().join(format!("strata-heatmap-{}", std::process::id()));
        let err = Heatmap::new(2, 2, &[0.0; 3])
            .write_png(dir.join("h.png"), "")
            .unwrap_err();
        assert!(
            err.to_string().contains("3 values for a heatmap of 2 × 2"),
            "{err}"
        );
        let err = Heatmap::new(0, 2, &[])
            .write_png(dir.join("h.png"), "")
            .unwrap_err();
        assert!(err.to_string().contains("nothing to draw"), "{err}");
    }

    #[test]
    fn a_heatmap_is_written_with_labels_and_a_colour_bar() {
        let dir = std::env::temp_dir().join(format!("strata-heatmap-ok-{}", std::process::id()));
        let path = dir.join("map.png");
        let values: Vec<f32> = (0..12).map(|i| i as f32 / 11.0).collect();
        Heatmap::new(3, 4, &values)
            .with_row_labels(["a", "b", "c"])
            .with_col_labels(["w", "x", "y", "z"])
            .with_axis_titles("columns", "rows")
            .with_value_title("value")
            .with_range(0.0, 1.0)
            .write_png(&path, "test")
            .unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(std::fs::read(&path).unwrap()));
        let info = decoder.read_info().unwrap().info().clone();
        assert!(info.width > 4 * 40 && info.height > 3 * 40);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
