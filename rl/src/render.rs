//! Pictures of the environments: [`Render`] draws a state as an RGB [`Frame`] (the cart, pole
//! and track; the two links; the valley, car and flag — Gymnasium's `rgb_array` layout,
//! scaled), and [`write_strip`] lays frames side by side in one PNG.

use std::path::Path;

use plotters::prelude::*;

use crate::RlError;
use crate::envs::{
    Acrobot, CartPole, ClassicControl, MountainCar, acrobot, cartpole, mountain_car,
};

/// An RGB picture, row-major, 3 bytes per pixel.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width × height × 3` bytes.
    pub pixels: Vec<u8>,
}

/// An environment that can draw its current state.
pub trait Render {
    /// The current state as a `width × height` picture.
    fn render(&self, width: u32, height: u32) -> Frame;
}

const INK: RGBColor = RGBColor(0, 0, 0);
const POLE: RGBColor = RGBColor(202, 152, 101);
const AXLE: RGBColor = RGBColor(129, 132, 203);
const LINK: RGBColor = RGBColor(0, 204, 204);
const JOINT: RGBColor = RGBColor(204, 204, 0);
const FLAG: RGBColor = RGBColor(204, 204, 0);

/// Draws with `paint` on a white `width × height` canvas whose origin is the bottom-left
/// corner (y up, as Gymnasium draws before flipping).
fn canvas(
    width: u32,
    height: u32,
    paint: impl FnOnce(
        &dyn Fn(f64, f64) -> (i32, i32),
        &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    ),
) -> Frame {
    let mut pixels = vec![255u8; (width * height * 3) as usize];
    {
        let area = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        let to_px = move |x: f64, y: f64| (x.round() as i32, height as i32 - y.round() as i32);
        paint(&to_px, &area);
        area.present()
            .expect("drawing into a memory buffer cannot fail");
    }
    Frame {
        width,
        height,
        pixels,
    }
}

/// Rotates `(x, y)` by `angle` radians counter-clockwise.
fn rotate((x, y): (f64, f64), angle: f64) -> (f64, f64) {
    let (s, c) = angle.sin_cos();
    (x * c - y * s, x * s + y * c)
}

impl Render for CartPole {
    fn render(&self, width: u32, height: u32) -> Frame {
        let [x, _, theta, _] = self.state();
        let scale = width as f64 / (cartpole::X_LIMIT * 2.0);
        let (pole_w, pole_len) = (scale * 0.08, scale * 2.0 * cartpole::HALF_POLE_LENGTH);
        let (cart_w, cart_h) = (scale * 0.4, scale * 0.24);
        let cart_x = x * scale + width as f64 / 2.0;
        let cart_y = height as f64 / 4.0;
        canvas(width, height, |px, area| {
            let _ = area.draw(&PathElement::new(
                vec![px(0.0, cart_y), px(width as f64, cart_y)],
                INK,
            ));
            let (l, r, t, b) = (
                cart_x - cart_w / 2.0,
                cart_x + cart_w / 2.0,
                cart_y + cart_h / 2.0,
                cart_y - cart_h / 2.0,
            );
            let _ = area.draw(&Rectangle::new([px(l, t), px(r, b)], INK.filled()));
            let axle = (cart_x, cart_y + cart_h / 4.0);
            let corners = [
                (-pole_w / 2.0, 0.0),
                (-pole_w / 2.0, pole_len),
                (pole_w / 2.0, pole_len),
                (pole_w / 2.0, 0.0),
            ]
            .map(|c| {
                let (dx, dy) = rotate(c, -theta);
                px(axle.0 + dx, axle.1 + dy)
            });
            let _ = area.draw(&Polygon::new(corners.to_vec(), POLE.filled()));
            let _ = area.draw(&Circle::new(
                px(axle.0, axle.1),
                (pole_w / 2.0).max(1.0) as i32,
                AXLE.filled(),
            ));
        })
    }
}

impl Render for Acrobot {
    fn render(&self, width: u32, height: u32) -> Frame {
        let [t1, t2, _, _] = self.state();
        let size = width.min(height) as f64;
        let scale = size / (2.0 * (acrobot::LINK_LENGTH_1 * 2.0 + 0.2));
        let (cx, cy) = (width as f64 / 2.0, height as f64 / 2.0);
        // World coordinates with y up: the pivot at the centre, link 1 hanging at angle θ₁.
        let p1 = (
            acrobot::LINK_LENGTH_1 * t1.sin(),
            -acrobot::LINK_LENGTH_1 * t1.cos(),
        );
        let p2 = (p1.0 + (t1 + t2).sin(), p1.1 - (t1 + t2).cos());
        let at = |(x, y): (f64, f64)| (cx + x * scale, cy + y * scale);
        canvas(width, height, |px, area| {
            let goal = cy + acrobot::LINK_LENGTH_1 * scale;
            let _ = area.draw(&PathElement::new(
                vec![px(0.0, goal), px(width as f64, goal)],
                INK,
            ));
            let style = ShapeStyle {
                color: LINK.to_rgba(),
                filled: true,
                stroke_width: (scale * 0.2).max(2.0) as u32,
            };
            for (a, b) in [((0.0, 0.0), p1), (p1, p2)] {
                let (a, b) = (at(a), at(b));
                let _ = area.draw(&PathElement::new(vec![px(a.0, a.1), px(b.0, b.1)], style));
            }
            for p in [(0.0, 0.0), p1] {
                let p = at(p);
                let _ = area.draw(&Circle::new(
                    px(p.0, p.1),
                    (scale * 0.1).max(2.0) as i32,
                    JOINT.filled(),
                ));
            }
        })
    }
}

impl Render for MountainCar {
    fn render(&self, width: u32, height: u32) -> Frame {
        let [position, _] = self.state();
        let (lo, hi) = (mountain_car::MIN_POSITION, mountain_car::MAX_POSITION);
        let scale = width as f64 / (hi - lo);
        let y_scale = height as f64 / 1.2;
        let point = |x: f64| ((x - lo) * scale, mountain_car::height(x) * y_scale);
        canvas(width, height, |px, area| {
            let track: Vec<_> = (0..=100)
                .map(|i| point(lo + (hi - lo) * i as f64 / 100.0))
                .map(|(x, y)| px(x, y))
                .collect();
            let _ = area.draw(&PathElement::new(track, INK));
            let (fx, fy) = point(mountain_car::GOAL_POSITION);
            let _ = area.draw(&PathElement::new(
                vec![px(fx, fy), px(fx, fy + 0.12 * y_scale)],
                INK,
            ));
            let flag = vec![
                px(fx, fy + 0.12 * y_scale),
                px(fx, fy + 0.09 * y_scale),
                px(fx + 0.07 * scale, fy + 0.105 * y_scale),
            ];
            let _ = area.draw(&Polygon::new(flag, FLAG.filled()));
            let angle = slope_angle(position, scale, y_scale);
            let (cx, cy) = point(position);
            let (w, h) = (0.1 * scale, 0.05 * y_scale);
            let body = [(-w / 2.0, 0.0), (-w / 2.0, h), (w / 2.0, h), (w / 2.0, 0.0)].map(|c| {
                let (dx, dy) = rotate(c, angle);
                px(cx + dx, cy + dy)
            });
            let _ = area.draw(&Polygon::new(body.to_vec(), INK.filled()));
        })
    }
}

/// The angle of the drawn track at `position` (radians from horizontal), with `x_scale` and
/// `y_scale` pixels per world unit: the track is `0.45 sin(3x) + 0.55`, its slope `1.35 cos 3x`.
fn slope_angle(position: f64, x_scale: f64, y_scale: f64) -> f64 {
    (1.35 * (3.0 * position).cos() * y_scale / x_scale).atan()
}

impl Render for ClassicControl {
    fn render(&self, width: u32, height: u32) -> Frame {
        match self {
            ClassicControl::CartPole(e) => e.render(width, height),
            ClassicControl::Acrobot(e) => e.render(width, height),
            ClassicControl::MountainCar(e) => e.render(width, height),
        }
    }
}

/// Writes `frames` side by side, separated by 2 grey pixels, as one PNG (atomically; missing
/// folders are created). Frames of different heights are top-aligned.
///
/// # Errors
/// [`RlError::Write`] if there are no frames or the file cannot be written.
pub fn write_strip(frames: &[Frame], path: impl AsRef<Path>) -> Result<(), RlError> {
    let path = path.as_ref();
    let fail = |message: String| RlError::Write {
        path: path.to_path_buf(),
        message,
    };
    if frames.is_empty() {
        return Err(fail("no frames to draw".into()));
    }
    const GAP: u32 = 2;
    let width = frames.iter().map(|f| f.width).sum::<u32>() + GAP * (frames.len() as u32 - 1);
    let height = frames.iter().map(|f| f.height).max().unwrap_or(1);
    let mut pixels = vec![160u8; (width * height * 3) as usize];
    let mut left = 0;
    for f in frames {
        for row in 0..f.height {
            let src = &f.pixels[(row * f.width * 3) as usize..((row + 1) * f.width * 3) as usize];
            let at = ((row * width + left) * 3) as usize;
            pixels[at..at + src.len()].copy_from_slice(src);
        }
        left += f.width + GAP;
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| fail(e.to_string()))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| fail(e.to_string()))?;
    writer.finish().map_err(|e| fail(e.to_string()))?;
    strata_io::write_atomically_creating_folders(path, &bytes).map_err(|e| fail(e.to_string()))
}
