//! Data augmentation for images: random shifts and small rotations with bilinear resampling.

use rand::Rng;

/// Resamples one `height × width` image: rotates it by `angle_deg` degrees (counter-clockwise
/// on screen, about the image centre) and then shifts it by `dx` pixels right and `dy` pixels
/// down. Each output pixel is the bilinear interpolation of the four source pixels around
/// its pre-image; source pixels outside the image count as 0 (background).
///
/// With `angle_deg = 0` and integer shifts the result is an exact shifted copy.
///
/// # Panics
///
/// If `src` or `dst` does not hold `height * width` values.
pub fn affine_bilinear(
    src: &[f32],
    dst: &mut [f32],
    height: usize,
    width: usize,
    angle_deg: f32,
    dx: f32,
    dy: f32,
) {
    let n = height * width;
    assert!(
        src.len() == n && dst.len() == n,
        "affine_bilinear: src {} and dst {} values for a {height}×{width} image",
        src.len(),
        dst.len()
    );
    let (sin, cos) = angle_deg.to_radians().sin_cos();
    let cx = (width as f32 - 1.0) * 0.5;
    let cy = (height as f32 - 1.0) * 0.5;
    let at = |y: isize, x: isize| -> f32 {
        if y >= 0 && x >= 0 && (y as usize) < height && (x as usize) < width {
            src[y as usize * width + x as usize]
        } else {
            0.0
        }
    };
    for y in 0..height {
        let v = y as f32 - dy - cy;
        for x in 0..width {
            let u = x as f32 - dx - cx;
            // Inverse map: rotate (u, v) back by −angle (screen coordinates, y down).
            let sx = cos * u - sin * v + cx;
            let sy = sin * u + cos * v + cy;
            let x0 = sx.floor();
            let y0 = sy.floor();
            let fx = sx - x0;
            let fy = sy - y0;
            let (x0, y0) = (x0 as isize, y0 as isize);
            let top = at(y0, x0) * (1.0 - fx) + at(y0, x0 + 1) * fx;
            let bottom = at(y0 + 1, x0) * (1.0 - fx) + at(y0 + 1, x0 + 1) * fx;
            dst[y * width + x] = top * (1.0 - fy) + bottom * fy;
        }
    }
}

/// Random shifts and rotations for `channels × height × width` images: each call draws an
/// integer shift in `−max_shift..=max_shift` pixels along each axis and an angle uniform in
/// `[−max_rotation_deg, max_rotation_deg]`, and resamples every channel with
/// [`affine_bilinear`]. Defaults: ±2 pixels, ±15°.
#[derive(Clone, Debug, PartialEq)]
pub struct Augment {
    height: usize,
    width: usize,
    max_shift: u32,
    max_rotation_deg: f32,
}

impl Augment {
    /// Augmentation for `height × width` images with the default ranges (±2 px, ±15°).
    ///
    /// # Panics
    ///
    /// If `height` or `width` is 0.
    pub fn new(height: usize, width: usize) -> Augment {
        assert!(
            height > 0 && width > 0,
            "Augment::new: empty image size {height}×{width}"
        );
        Augment {
            height,
            width,
            max_shift: 2,
            max_rotation_deg: 15.0,
        }
    }

    /// Sets the largest shift in pixels along each axis (0 disables shifts).
    pub fn with_max_shift(mut self, pixels: u32) -> Augment {
        self.max_shift = pixels;
        self
    }

    /// Sets the largest rotation in degrees either way (0 disables rotations).
    ///
    /// # Panics
    ///
    /// If `degrees` is negative or not finite.
    pub fn with_max_rotation(mut self, degrees: f32) -> Augment {
        assert!(
            degrees >= 0.0 && degrees.is_finite(),
            "Augment::with_max_rotation: {degrees} must be finite and ≥ 0"
        );
        self.max_rotation_deg = degrees;
        self
    }

    /// Augments `image` (`[channels, height, width]` row-major) in place with a random shift
    /// and rotation drawn from `rng`.
    ///
    /// # Panics
    ///
    /// If `image.len()` is not a multiple of `height * width`.
    pub fn apply<R: Rng + ?Sized>(&self, image: &mut [f32], rng: &mut R) {
        let s = self.max_shift as i32;
        let dx = rng.random_range(-s..=s) as f32;
        let dy = rng.random_range(-s..=s) as f32;
        let angle = if self.max_rotation_deg > 0.0 {
            rng.random_range(-self.max_rotation_deg..=self.max_rotation_deg)
        } else {
            0.0
        };
        self.apply_with(image, angle, dx, dy);
    }

    /// Applies a given rotation (degrees) and shift (pixels) to every channel of `image` in
    /// place.
    ///
    /// # Panics
    ///
    /// If `image.len()` is not a multiple of `height * width`.
    pub fn apply_with(&self, image: &mut [f32], angle_deg: f32, dx: f32, dy: f32) {
        let n = self.height * self.width;
        assert!(
            image.len().is_multiple_of(n),
            "Augment::apply: {} values are not whole {}×{} channels",
            image.len(),
            self.height,
            self.width
        );
        let mut src = vec![0.0; n];
        for channel in image.chunks_exact_mut(n) {
            src.copy_from_slice(channel);
            affine_bilinear(&src, channel, self.height, self.width, angle_deg, dx, dy);
        }
    }
}
