//! Drawing panels of curves with axes, ticks, grid and legend into an RGB buffer, and encoding
//! it as PNG.

use std::path::Path;

use ab_glyph::FontVec;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::font::{Align, Label, draw_label, text_width};
use super::{PALETTE, PlotError, TRAIN_COLOR, VAL_COLOR};
use crate::history::{EpochMetrics, History};

/// One curve: legend name, color, points (non-finite ones break the line).
pub(super) struct Curve {
    pub(super) name: String,
    pub(super) color: RGBColor,
    pub(super) points: Vec<(f64, f64)>,
}

/// How the y range is chosen.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum YScale {
    /// Around the data (down to 0 if the data are non-negative and close to it).
    Free,
    /// From 0 up to a little above the largest value (error rates in percent).
    FromZero,
}

/// One set of axes with its curves.
pub(super) struct Panel {
    pub(super) x_label: String,
    pub(super) y_label: String,
    pub(super) curves: Vec<Curve>,
    pub(super) integer_x: bool,
    pub(super) y_scale: YScale,
}

pub(super) fn learning_curve_panels(history: &History) -> [Panel; 2] {
    let curve = |name: &str, color, value: &dyn Fn(&EpochMetrics) -> Option<f64>| {
        if history.iter().all(|m| value(m).is_none()) {
            return None;
        }
        Some(Curve {
            name: name.to_string(),
            color,
            points: history
                .iter()
                .map(|m| (m.epoch as f64, value(m).unwrap_or(f64::NAN)))
                .collect(),
        })
    };
    let loss = Panel {
        x_label: "Epoch".into(),
        y_label: "Loss".into(),
        curves: [
            curve("training", TRAIN_COLOR, &|m| Some(m.train_loss)),
            curve("validation", VAL_COLOR, &|m| m.val_loss),
        ]
        .into_iter()
        .flatten()
        .collect(),
        integer_x: true,
        y_scale: YScale::Free,
    };
    let error_curves: Vec<Curve> = [
        curve("training", TRAIN_COLOR, &|m| {
            m.train_error.map(|e| 100.0 * e)
        }),
        curve("validation", VAL_COLOR, &|m| m.val_error.map(|e| 100.0 * e)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let metric_names: std::collections::BTreeSet<&str> = history
        .iter()
        .flat_map(|m| m.metrics.keys().map(String::as_str))
        .collect();
    // A learner without error rates (autoencoder, RBM) shows its own metrics instead.
    let error = if error_curves.is_empty() && !metric_names.is_empty() {
        Panel {
            x_label: "Epoch".into(),
            y_label: "Metric".into(),
            curves: metric_names
                .iter()
                .enumerate()
                .filter_map(|(i, name)| {
                    curve(name, PALETTE[(i + 2) % PALETTE.len()], &|m| {
                        m.metrics.get(*name).copied()
                    })
                })
                .collect(),
            integer_x: true,
            y_scale: YScale::Free,
        }
    } else {
        Panel {
            x_label: "Epoch".into(),
            y_label: "Error rate (%)".into(),
            curves: error_curves,
            integer_x: true,
            y_scale: YScale::FromZero,
        }
    };
    [loss, error]
}

/// Renders panels side by side under a title and encodes them as PNG.
pub(super) fn render_png(
    path: &Path,
    size: (u32, u32),
    title: &str,
    panels: &[Panel],
    font: Option<&FontVec>,
) -> Result<Vec<u8>, PlotError> {
    let rgb = render_rgb(size, title, panels, font).map_err(|message| PlotError::Draw {
        path: path.to_path_buf(),
        message,
    })?;
    encode_png(&rgb, size).map_err(|e| PlotError::Encode {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

pub(super) fn encode_png(
    rgb: &[u8],
    (width, height): (u32, u32),
) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

pub(super) const TITLE_HEIGHT: u32 = 34;
pub(super) const TITLE_SIZE: f32 = 19.0;
pub(super) const TICK_LABEL_SIZE: f32 = 12.5;
pub(super) const AXIS_TITLE_SIZE: f32 = 14.0;
const LEGEND_SIZE: f32 = 12.5;
pub(super) const TICK_LENGTH: i32 = 5;
pub(super) const TEXT_COLOR: RGBColor = RGBColor(30, 30, 30);
pub(super) const AXIS_COLOR: RGBColor = RGBColor(80, 80, 80);
const GRID_COLOR: RGBColor = RGBColor(228, 228, 228);
/// Curves with at most this many points get a dot on every point.
const MARKER_LIMIT: usize = 30;

/// Renders into a packed RGB buffer: shapes first, then the text on top. Errors are the
/// renderer's message.
fn render_rgb(
    size: (u32, u32),
    title: &str,
    panels: &[Panel],
    font: Option<&FontVec>,
) -> Result<Vec<u8>, String> {
    let (width, height) = size;
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    let mut labels = Vec::new();
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let body = if title.is_empty() || font.is_none() {
            root.clone()
        } else {
            labels.push(Label {
                text: title.to_string(),
                x: width as i32 / 2,
                y: TITLE_HEIGHT as i32 / 2 + 3,
                size: TITLE_SIZE,
                horizontal: Align::Center,
                vertical: Align::Center,
                rotated: false,
            });
            root.split_vertically(TITLE_HEIGHT).1
        };
        let cells = body.split_evenly((1, panels.len().max(1)));
        for (cell, panel) in cells.iter().zip(panels) {
            draw_panel(cell, panel, font, &mut labels)?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    if let Some(font) = font {
        for label in &labels {
            draw_label(&mut rgb, size, font, label);
        }
    }
    Ok(rgb)
}

/// Finite `(x, y)` points of the curves.
fn finite_points(curves: &[Curve]) -> impl Iterator<Item = (f64, f64)> + '_ {
    curves
        .iter()
        .flat_map(|c| c.points.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
}

/// Whether every point of `curve` gets a dot (short curves).
fn has_markers(curve: &Curve) -> bool {
    finite_points(std::slice::from_ref(curve)).count() <= MARKER_LIMIT
}

/// The maximal runs of consecutive finite points of a curve.
fn finite_runs(points: &[(f64, f64)]) -> impl Iterator<Item = &[(f64, f64)]> {
    points
        .split(|(x, y)| !(x.is_finite() && y.is_finite()))
        .filter(|run| !run.is_empty())
}

/// The x and y ranges of a panel.
fn panel_ranges(panel: &Panel) -> ((f64, f64), (f64, f64)) {
    let bounds = finite_points(&panel.curves).fold(None, |acc, (x, y)| match acc {
        None => Some(((x, x), (y, y))),
        Some(((x0, x1), (y0, y1))) => Some(((x.min(x0), x.max(x1)), (y.min(y0), y.max(y1)))),
    });
    let Some(((x_lo, x_hi), (y_lo, y_hi))) = bounds else {
        return ((0.0, 1.0), (0.0, 1.0));
    };

    // x: a single value gets one unit (epoch) either side; otherwise 3 % padding keeps the
    // end dots inside the frame.
    let (x_lo, x_hi) = if x_lo == x_hi {
        let half = if panel.integer_x {
            1.0
        } else {
            (x_lo.abs() * 0.5).max(0.5)
        };
        (x_lo - half, x_hi + half)
    } else {
        let pad = (x_hi - x_lo) * 0.03;
        (x_lo - pad, x_hi + pad)
    };

    let (y_lo, y_hi) = match panel.y_scale {
        YScale::FromZero => {
            let hi = if y_hi > 0.0 { y_hi * 1.08 } else { 1.0 };
            (y_lo.min(0.0) * 1.08, hi)
        }
        YScale::Free => {
            let pad = if y_lo == y_hi {
                if y_lo == 0.0 { 1.0 } else { y_lo.abs() * 0.1 }
            } else {
                (y_hi - y_lo) * 0.06
            };
            let lo = if y_lo >= 0.0 && y_lo - pad < 0.0 {
                0.0
            } else {
                y_lo - pad
            };
            (lo, y_hi + pad)
        }
    };
    ((x_lo, x_hi), (y_lo, y_hi))
}

/// Tick positions in `[lo, hi]` and their spacing: multiples of a 1-2-5 step giving at most
/// about `max_ticks` ticks; integers only when `integer`.
pub(super) fn ticks(lo: f64, hi: f64, max_ticks: usize, integer: bool) -> (Vec<f64>, f64) {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return (Vec::new(), 1.0);
    }
    let raw = span / (max_ticks.max(2) - 1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let normalized = raw / magnitude;
    let nice = if normalized <= 1.0 {
        1.0
    } else if normalized <= 2.0 {
        2.0
    } else if normalized <= 5.0 {
        5.0
    } else {
        10.0
    };
    let mut step = nice * magnitude;
    if integer {
        step = step.max(1.0).round();
    }
    let first = (lo / step - 1e-9).ceil();
    let last = (hi / step + 1e-9).floor();
    if !(first.is_finite() && last.is_finite()) || last - first > 100.0 || last < first {
        return (Vec::new(), step);
    }
    let ticks = (first as i64..=last as i64)
        .map(|k| k as f64 * step)
        .collect();
    (ticks, step)
}

/// How tick values are printed: enough decimals to tell ticks `step` apart, or scientific
/// notation for very large or very small magnitudes.
#[derive(Clone, Copy)]
pub(super) struct TickFormat {
    decimals: usize,
    scientific: bool,
    step: f64,
}

impl TickFormat {
    pub(super) fn new(ticks: &[f64], step: f64) -> Self {
        let largest = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
        let decimals = if step >= 1.0 {
            0
        } else {
            (-step.log10() - 1e-9).ceil().max(0.0) as usize
        };
        let scientific = largest >= 1e6 || decimals > 4;
        TickFormat {
            decimals,
            scientific,
            step,
        }
    }

    pub(super) fn format(&self, value: f64) -> String {
        // Print ticks that are zero up to rounding as "0", never "-0" or "1e-17".
        let value = if value.abs() < self.step * 1e-6 {
            0.0
        } else {
            value
        };
        if self.scientific && value != 0.0 {
            format!("{value:.1e}")
        } else if self.scientific {
            "0".to_string()
        } else {
            format!("{value:.*}", self.decimals)
        }
    }
}

/// A linear `f64` axis whose ticks (grid lines) are exactly the given values.
struct TickedAxis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl TickedAxis {
    fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        TickedAxis {
            inner: (lo..hi).into(),
            ticks,
        }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Only bold grid lines, one per tick.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

/// Draws one panel's grid, frame, ticks and curves into `area`, and queues its text (tick
/// labels, axis titles, legend entries) in `labels`.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    font: Option<&FontVec>,
    labels: &mut Vec<Label>,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let ((x_lo, x_hi), (y_lo, y_hi)) = panel_ranges(panel);
    let (x_ticks, x_step) = ticks(x_lo, x_hi, 11, panel.integer_x);
    let (y_ticks, y_step) = ticks(y_lo, y_hi, 7, false);
    let x_format = TickFormat::new(&x_ticks, x_step);
    let y_format = TickFormat::new(&y_ticks, y_step);
    let y_tick_labels: Vec<String> = y_ticks.iter().map(|&t| y_format.format(t)).collect();

    // Room for the tick marks, tick labels and axis titles left of and below the plot.
    let line = |size: f32| (size * 1.2).ceil() as i32;
    let (left, bottom) = if font.is_some() {
        let widest = y_tick_labels
            .iter()
            .map(|l| text_width(font, l, TICK_LABEL_SIZE))
            .max()
            .unwrap_or(0);
        (
            TICK_LENGTH + 4 + widest + 8 + line(AXIS_TITLE_SIZE) + 2,
            TICK_LENGTH + 3 + line(TICK_LABEL_SIZE) + 6 + line(AXIS_TITLE_SIZE),
        )
    } else {
        (TICK_LENGTH + 4, TICK_LENGTH + 4)
    };

    let mut chart = ChartBuilder::on(area)
        .margin_top(12)
        .margin_right(20)
        .margin_left(8 + left as u32)
        .margin_bottom(8 + bottom as u32)
        .build_cartesian_2d(
            TickedAxis::new(x_lo, x_hi, x_ticks.clone()),
            TickedAxis::new(y_lo, y_hi, y_ticks.clone()),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .bold_line_style(GRID_COLOR)
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(err)?;

    for curve in &panel.curves {
        for run in finite_runs(&curve.points) {
            if run.len() > 1 {
                chart
                    .draw_series(LineSeries::new(
                        run.iter().copied(),
                        curve.color.stroke_width(2),
                    ))
                    .map_err(err)?;
            }
            if run.len() == 1 || has_markers(curve) {
                let radius = if run.len() == 1 { 4 } else { 3 };
                chart
                    .draw_series(
                        run.iter()
                            .map(|&p| Circle::new(p, radius, curve.color.filled())),
                    )
                    .map_err(err)?;
            }
        }
    }

    // The frame, then outward tick marks with their labels (in image pixels).
    let plot = chart.plotting_area().strip_coord_spec();
    let (plot_x, plot_y) = plot.get_pixel_range();
    let (x0, x1, y0, y1) = (plot_x.start, plot_x.end - 1, plot_y.start, plot_y.end - 1);
    let (cell_x, cell_y) = area.get_base_pixel();
    let (_, cell_h) = area.dim_in_pixel();
    let in_cell = |(x, y): (i32, i32)| (x - cell_x, y - cell_y);
    area.draw(&PathElement::new(
        vec![
            in_cell((x0, y0)),
            in_cell((x1, y0)),
            in_cell((x1, y1)),
            in_cell((x0, y1)),
            in_cell((x0, y0)),
        ],
        AXIS_COLOR.stroke_width(1),
    ))
    .map_err(err)?;
    for &t in &x_ticks {
        let (x, _) = chart.backend_coord(&(t, y_lo));
        area.draw(&PathElement::new(
            vec![in_cell((x, y1)), in_cell((x, y1 + TICK_LENGTH))],
            AXIS_COLOR.stroke_width(1),
        ))
        .map_err(err)?;
        labels.push(Label {
            text: x_format.format(t),
            x,
            y: y1 + TICK_LENGTH + 3,
            size: TICK_LABEL_SIZE,
            horizontal: Align::Center,
            vertical: Align::Start,
            rotated: false,
        });
    }
    for (&t, text) in y_ticks.iter().zip(y_tick_labels) {
        let (_, y) = chart.backend_coord(&(x_lo, t));
        area.draw(&PathElement::new(
            vec![in_cell((x0 - TICK_LENGTH, y)), in_cell((x0, y))],
            AXIS_COLOR.stroke_width(1),
        ))
        .map_err(err)?;
        labels.push(Label {
            text,
            x: x0 - TICK_LENGTH - 4,
            y,
            size: TICK_LABEL_SIZE,
            horizontal: Align::End,
            vertical: Align::Center,
            rotated: false,
        });
    }
    labels.push(Label {
        text: panel.x_label.clone(),
        x: (x0 + x1) / 2,
        y: cell_y + cell_h as i32 - 8,
        size: AXIS_TITLE_SIZE,
        horizontal: Align::Center,
        vertical: Align::End,
        rotated: false,
    });
    labels.push(Label {
        text: panel.y_label.clone(),
        x: cell_x + 8,
        y: (y0 + y1) / 2,
        size: AXIS_TITLE_SIZE,
        horizontal: Align::Start,
        vertical: Align::Center,
        rotated: true,
    });
    if finite_points(&panel.curves).next().is_none() {
        labels.push(Label {
            text: "no data".to_string(),
            x: (x0 + x1) / 2,
            y: (y0 + y1) / 2,
            size: TICK_LABEL_SIZE,
            horizontal: Align::Center,
            vertical: Align::Center,
            rotated: false,
        });
    }

    // Curve samples in image pixels, to place the legend where it hides least.
    let mut samples = Vec::new();
    for curve in &panel.curves {
        for run in finite_runs(&curve.points) {
            let pixels: Vec<(i32, i32)> = run.iter().map(|p| chart.backend_coord(p)).collect();
            samples.extend_from_slice(&pixels);
            for pair in pixels.windows(2) {
                let ((xa, ya), (xb, yb)) = (pair[0], pair[1]);
                for k in 1..16 {
                    let t = k as f64 / 16.0;
                    samples.push((
                        xa + ((xb - xa) as f64 * t) as i32,
                        ya + ((yb - ya) as f64 * t) as i32,
                    ));
                }
            }
        }
    }
    let plot_box = (x0, y0, x1, y1);
    draw_legend(area, plot_box, &panel.curves, &samples, font, labels).map_err(err)
}

/// Draws the legend box in the corner of the plot (`(x0, y0, x1, y1)` in image pixels) that
/// covers the fewest curve samples (top right, top left, bottom right, bottom left, in order
/// of preference), and queues its entries' names.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x0, y0, x1, y1): (i32, i32, i32, i32),
    curves: &[Curve],
    samples: &[(i32, i32)],
    font: Option<&FontVec>,
    labels: &mut Vec<Label>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    if curves.is_empty() || curves.iter().all(|c| c.name.is_empty()) {
        return Ok(());
    }
    const PAD: i32 = 7;
    const ROW: i32 = 19;
    const SWATCH: i32 = 24;
    const INSET: i32 = 8;
    let text_width = curves
        .iter()
        .map(|c| text_width(font, &c.name, LEGEND_SIZE))
        .max()
        .unwrap_or(0);
    let width = PAD + SWATCH + if font.is_some() { 6 + text_width } else { 0 } + PAD;
    let height = 2 * PAD + ROW * curves.len() as i32 - 4;
    let (left, right) = (x0 + INSET, x1 - INSET - width);
    let (top, bottom) = (y0 + INSET, y1 - INSET - height);
    let corners = [(right, top), (left, top), (right, bottom), (left, bottom)];
    let covered = |(bx, by): (i32, i32)| {
        samples
            .iter()
            .filter(|&&(x, y)| {
                x >= bx - 4 && x <= bx + width + 4 && y >= by - 4 && y <= by + height + 4
            })
            .count()
    };
    let (bx, by) = corners
        .iter()
        .copied()
        .min_by_key(|&c| covered(c))
        .unwrap_or((right, top));

    let (cell_x, cell_y) = area.get_base_pixel();
    let at = |x: i32, y: i32| (x - cell_x, y - cell_y);
    area.draw(&Rectangle::new(
        [at(bx, by), at(bx + width, by + height)],
        WHITE.mix(0.9).filled(),
    ))?;
    area.draw(&Rectangle::new(
        [at(bx, by), at(bx + width, by + height)],
        RGBColor(200, 200, 200).stroke_width(1),
    ))?;
    for (i, curve) in curves.iter().enumerate() {
        let cy = by + PAD + ROW * i as i32 + (ROW - 4) / 2;
        let sx = bx + PAD;
        area.draw(&PathElement::new(
            vec![at(sx, cy), at(sx + SWATCH, cy)],
            curve.color.stroke_width(2),
        ))?;
        if has_markers(curve) {
            area.draw(&Circle::new(
                at(sx + SWATCH / 2, cy),
                3,
                curve.color.filled(),
            ))?;
        }
        labels.push(Label {
            text: curve.name.clone(),
            x: sx + SWATCH + 6,
            y: cy,
            size: LEGEND_SIZE,
            horizontal: Align::Start,
            vertical: Align::Center,
            rotated: false,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::LEARNING_CURVES_SIZE;

    fn sample_history() -> History {
        (1..=5)
            .map(|e| EpochMetrics {
                train_error: Some(0.5 / e as f64),
                val_loss: Some(1.2 / e as f64),
                ..EpochMetrics::new(e, 1.0 / e as f64)
            })
            .collect()
    }

    #[test]
    fn renders_without_text_when_no_font() {
        let panels = learning_curve_panels(&sample_history());
        let rgb = render_rgb(LEARNING_CURVES_SIZE, "no font", &panels, None).unwrap();
        assert_eq!(rgb.len(), 900 * 400 * 3);
        // Curves in both colors are drawn.
        let has = |c: RGBColor| rgb.chunks(3).any(|p| p == [c.0, c.1, c.2]);
        assert!(has(TRAIN_COLOR) && has(VAL_COLOR));
        // No text: nothing in the text color.
        assert!(!has(TEXT_COLOR));
        assert!(encode_png(&rgb, LEARNING_CURVES_SIZE).is_ok());
    }

    #[test]
    fn ticks_are_nice() {
        let (t, step) = ticks(0.7, 10.3, 11, true);
        assert_eq!(step, 1.0);
        assert_eq!(t, (1..=10).map(f64::from).collect::<Vec<_>>());
        let (t, step) = ticks(0.4, 30.6, 11, true);
        assert_eq!(step, 5.0);
        assert_eq!(t, vec![5.0, 10.0, 15.0, 20.0, 25.0, 30.0]);
        let (t, _) = ticks(0.0, 2.0, 11, true);
        assert_eq!(t, vec![0.0, 1.0, 2.0]);
        let (t, step) = ticks(0.0, 1.0, 7, false);
        assert_eq!(step, 0.2);
        let f = TickFormat::new(&t, step);
        let labels: Vec<String> = t.iter().map(|&v| f.format(v)).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let (t, step) = ticks(1e-7, 3e-7, 7, false);
        let f = TickFormat::new(&t, step);
        assert_eq!(f.format(t[0]), "1.0e-7");
    }
}
