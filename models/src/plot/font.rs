//! The font of the plots' text, found once per process, and the rasterizing of labels.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};

use super::render::TEXT_COLOR;

/// Environment variable naming the font file plots use, tried before [`FONT_CANDIDATES`].
pub const FONT_ENV: &str = "STRATA_FONT";

/// Font files tried, in order, when `STRATA_FONT` is unset or unusable: DejaVu Sans,
/// Liberation Sans and FreeSans at their Debian/Ubuntu, Fedora and Arch paths, then Arial and
/// Helvetica on macOS and Arial on Windows.
pub const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans-fonts/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/opt/homebrew/share/fonts/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "/Library/Fonts/Arial.ttf",
    "/System/Library/Fonts/Helvetica.ttc",
    "C:\\Windows\\Fonts\\arial.ttf",
];

/// The font plots use, looked up once per process (see the [module docs](crate::plot)).
pub struct PlotFont {
    font: Option<FontVec>,
    path: Option<PathBuf>,
    tried: Vec<(PathBuf, String)>,
    env_failed: bool,
}

impl fmt::Debug for PlotFont {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlotFont")
            .field("path", &self.path)
            .field("tried", &self.tried)
            .finish()
    }
}

impl PlotFont {
    /// The font file in use, or `None` if no usable font was found and plots carry no text.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The files tried before the one in use (all of them if none was usable), each with
    /// why it was not used.
    pub fn tried(&self) -> &[(PathBuf, String)] {
        &self.tried
    }

    /// A warning to show the user: `Some` if no font was found (plots have no text), or if
    /// `STRATA_FONT` names an unusable file and another font was used instead.
    pub fn warning(&self) -> Option<String> {
        let tried = || {
            self.tried
                .iter()
                .map(|(p, why)| format!("{} ({why})", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match &self.path {
            None => Some(format!(
                "Strata plots: no usable font found, so plots are drawn without text; tried: \
                 {}. Set {FONT_ENV} to a .ttf file or install a font such as DejaVu Sans \
                 (Debian/Ubuntu: fonts-dejavu-core).",
                tried()
            )),
            Some(used) if self.env_failed => Some(format!(
                "Strata plots: {FONT_ENV} is unusable; using {} instead; tried: {}",
                used.display(),
                tried()
            )),
            Some(_) => None,
        }
    }
}

/// The plot font, found and loaded on first use (see the [module docs](crate::plot)).
pub fn plot_font() -> &'static PlotFont {
    static FONT: OnceLock<PlotFont> = OnceLock::new();
    FONT.get_or_init(load_font)
}

fn load_font() -> PlotFont {
    let env = std::env::var_os(FONT_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let has_env = env.is_some();
    let mut tried = Vec::new();
    let candidates = env
        .into_iter()
        .chain(FONT_CANDIDATES.iter().map(PathBuf::from));
    for (i, path) in candidates.enumerate() {
        let why = match fs::read(&path) {
            Ok(bytes) => match FontVec::try_from_vec(bytes) {
                // A font without Latin letters and digits would draw empty boxes.
                Ok(font) if "Epoch0123456789.%".chars().all(|c| font.glyph_id(c).0 != 0) => {
                    return PlotFont {
                        font: Some(font),
                        path: Some(path),
                        tried,
                        env_failed: has_env && i > 0,
                    };
                }
                Ok(_) => "lacks Latin letters or digits".to_string(),
                Err(_) => "not a TrueType/OpenType font".to_string(),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => "not found".to_string(),
            Err(e) => e.to_string(),
        };
        tried.push((path, why));
    }
    PlotFont {
        font: None,
        path: None,
        tried,
        env_failed: has_env,
    }
}

/// The font to draw text with, if any; logs the font warning, if any, once per process (a
/// `log` warning; [`PlotFont::warning`] returns it too).
pub(super) fn text_font() -> Option<&'static FontVec> {
    static WARNED: AtomicBool = AtomicBool::new(false);
    let font = plot_font();
    if let Some(warning) = font.warning()
        && !WARNED.swap(true, Ordering::Relaxed)
    {
        log::warn!("{warning}");
    }
    font.font.as_ref()
}

/// Where a text box sits relative to its anchor point, along one axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Align {
    /// The anchor is the box's left (or top) edge.
    Start,
    /// The anchor is the box's center.
    Center,
    /// The anchor is the box's right (or bottom) edge.
    End,
}

/// A piece of text to draw once the shapes are drawn, in image pixels.
pub(super) struct Label {
    pub(super) text: String,
    pub(super) x: i32,
    pub(super) y: i32,
    pub(super) size: f32,
    pub(super) horizontal: Align,
    pub(super) vertical: Align,
    /// Rotated a quarter turn counter-clockwise (reads bottom to top).
    pub(super) rotated: bool,
}

/// Width in pixels of `text` set at `size` px (0 without a font).
pub(super) fn text_width(font: Option<&FontVec>, text: &str, size: f32) -> i32 {
    let Some(font) = font else {
        return 0;
    };
    let scaled = font.as_scaled(PxScale::from(size));
    let mut width = 0.0;
    let mut previous = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        previous = Some(id);
    }
    width.ceil() as i32
}

/// Rasterizes `label` and blends it in `TEXT_COLOR` into a packed RGB image.
pub(super) fn draw_label(
    rgb: &mut [u8],
    (width, height): (u32, u32),
    font: &FontVec,
    label: &Label,
) {
    const PAD: i32 = 2;
    let scale = PxScale::from(label.size);
    let scaled = font.as_scaled(scale);
    let box_w = text_width(Some(font), &label.text, label.size);
    let box_h = (scaled.ascent() - scaled.descent()).ceil() as i32;
    // Coverage of the horizontal text, with a margin for glyphs overhanging their advance.
    let (cw, ch) = (box_w + 2 * PAD, box_h + 2 * PAD);
    let mut coverage = vec![0f32; (cw * ch) as usize];
    let mut caret = PAD as f32;
    let mut previous = None;
    for c in label.text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scale, point(caret, PAD as f32 + scaled.ascent()));
        caret += scaled.h_advance(id);
        previous = Some(id);
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outline.px_bounds();
        outline.draw(|x, y, a| {
            let px = bounds.min.x as i32 + x as i32;
            let py = bounds.min.y as i32 + y as i32;
            if (0..cw).contains(&px) && (0..ch).contains(&py) {
                let cell = &mut coverage[(py * cw + px) as usize];
                *cell = (*cell + a).min(1.0);
            }
        });
    }

    // Place the text box (rotated if asked) by its anchor.
    let (bw, bh) = if label.rotated {
        (box_h, box_w)
    } else {
        (box_w, box_h)
    };
    let place = |anchor: i32, size: i32, align: Align| match align {
        Align::Start => anchor,
        Align::Center => anchor - size / 2,
        Align::End => anchor - size,
    };
    let left = place(label.x, bw, label.horizontal) - PAD;
    let top = place(label.y, bh, label.vertical) - PAD;
    let color = [TEXT_COLOR.0, TEXT_COLOR.1, TEXT_COLOR.2];
    for j in 0..ch {
        for i in 0..cw {
            let a = coverage[(j * cw + i) as usize];
            if a <= 0.0 {
                continue;
            }
            let (x, y) = if label.rotated {
                (left + j, top + (cw - 1 - i))
            } else {
                (left + i, top + j)
            };
            if x < 0 || y < 0 || x >= width as i32 || y >= height as i32 {
                continue;
            }
            let at = (y as usize * width as usize + x as usize) * 3;
            for (dst, src) in rgb[at..at + 3].iter_mut().zip(color) {
                *dst = (*dst as f32 * (1.0 - a) + src as f32 * a).round() as u8;
            }
        }
    }
}
