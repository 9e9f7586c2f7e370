//! [`Image`]: 8-bit pixels to show in TensorBoard's image dashboard (sample grids, filters,
//! reconstructions), encoded as PNG.

use crate::TensorBoardError;

/// An 8-bit image, row-major, 1 (grey), 3 (RGB) or 4 (RGBA) channels interleaved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    width: u32,
    height: u32,
    channels: u8,
    pixels: Vec<u8>,
}

impl Image {
    /// A greyscale image of `height × width` levels (0 black … 255 white).
    ///
    /// # Panics
    /// If `pixels.len() ≠ width · height`.
    pub fn grey(width: u32, height: u32, pixels: Vec<u8>) -> Self {
        Self::new(width, height, 1, pixels)
    }

    /// An RGB image of `height × width × 3` bytes.
    ///
    /// # Panics
    /// If `pixels.len() ≠ width · height · 3`.
    pub fn rgb(width: u32, height: u32, pixels: Vec<u8>) -> Self {
        Self::new(width, height, 3, pixels)
    }

    /// An RGBA image of `height × width × 4` bytes.
    ///
    /// # Panics
    /// If `pixels.len() ≠ width · height · 4`.
    pub fn rgba(width: u32, height: u32, pixels: Vec<u8>) -> Self {
        Self::new(width, height, 4, pixels)
    }

    fn new(width: u32, height: u32, channels: u8, pixels: Vec<u8>) -> Self {
        let want = width as usize * height as usize * channels as usize;
        assert_eq!(
            pixels.len(),
            want,
            "Image: {} bytes for {width}×{height} with {channels} channel(s) (want {want})",
            pixels.len()
        );
        Image {
            width,
            height,
            channels,
            pixels,
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Channels per pixel: 1, 3 or 4.
    pub fn channels(&self) -> u8 {
        self.channels
    }

    /// The pixels, row-major, channels interleaved.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The image as the bytes of a PNG file.
    ///
    /// # Errors
    /// [`TensorBoardError::Image`] for an image with no pixels.
    pub fn to_png(&self, tag: &str) -> Result<Vec<u8>, TensorBoardError> {
        let fail = |message: String| TensorBoardError::Image {
            tag: tag.to_string(),
            message,
        };
        if self.width == 0 || self.height == 0 {
            return Err(fail(format!(
                "{}×{} has no pixels",
                self.width, self.height
            )));
        }
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, self.width, self.height);
        encoder.set_color(match self.channels {
            1 => png::ColorType::Grayscale,
            3 => png::ColorType::Rgb,
            _ => png::ColorType::Rgba,
        });
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| fail(e.to_string()))?;
        writer
            .write_image_data(&self.pixels)
            .map_err(|e| fail(e.to_string()))?;
        writer.finish().map_err(|e| fail(e.to_string()))?;
        Ok(bytes)
    }
}
