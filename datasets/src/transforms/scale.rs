//! Scaling bytes to `[0, 1]` and normalizing with a given mean and standard deviation.

/// Pixels `0..=255` scaled to `[0, 1]`: `x / 255`.
pub fn scale_u8(pixels: &[u8]) -> Vec<f32> {
    let mut out = vec![0.0; pixels.len()];
    scale_u8_into(pixels, &mut out);
    out
}

/// Writes `pixels[i] / 255` (correctly rounded) into `out[i]`.
///
/// # Panics
///
/// If the lengths differ.
pub fn scale_u8_into(pixels: &[u8], out: &mut [f32]) {
    assert_eq!(
        pixels.len(),
        out.len(),
        "scale_u8_into: {} pixels into {} outputs",
        pixels.len(),
        out.len()
    );
    static TABLE: std::sync::OnceLock<[f32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| std::array::from_fn(|i| i as f32 / 255.0));
    for (o, &p) in out.iter_mut().zip(pixels) {
        *o = table[usize::from(p)];
    }
}

/// In place `x ← (x − mean) / std` (for MNIST scaled to `[0, 1]` the customary values are
/// `mean = 0.1307`, `std = 0.3081`).
///
/// # Panics
///
/// If `std` is not positive and finite.
pub fn normalize(data: &mut [f32], mean: f32, std: f32) {
    assert!(
        std > 0.0 && std.is_finite(),
        "normalize: std {std} must be positive and finite"
    );
    let inv = 1.0 / std;
    for x in data {
        *x = (*x - mean) * inv;
    }
}
