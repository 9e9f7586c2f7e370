//! ONNX tensors to Strata values: float data to `Tensor` (f32), integer data to [`Ints`].

use strata_tensor::Tensor;

use crate::OnnxError;
use crate::proto::{DataType, TensorProto};

/// An integer tensor (shapes, axes, indices): row-major values and dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct Ints {
    /// The values.
    pub data: Vec<i64>,
    /// The dimensions (empty for a scalar).
    pub shape: Vec<usize>,
}

impl Ints {
    /// A 1-D tensor of `data`.
    pub fn vector(data: Vec<i64>) -> Self {
        let shape = vec![data.len()];
        Ints { data, shape }
    }
}

/// A tensor initializer or attribute, converted.
#[derive(Clone, Debug)]
pub enum Constant {
    /// Floating-point data (FLOAT, DOUBLE, FLOAT16 and BFLOAT16 converted to f32).
    Float(Tensor),
    /// Integer or boolean data.
    Int(Ints),
}

/// Converts `t`; `what` names it in errors.
///
/// # Errors
/// [`OnnxError::Unsupported`] for external data, strings or other element types, and
/// [`OnnxError::Decode`] when the data does not hold `Π dims` elements.
pub fn constant(t: &TensorProto, what: &str) -> Result<Constant, OnnxError> {
    if t.data_location == 1 || !t.external_data.is_empty() {
        return Err(OnnxError::Unsupported {
            what: what.to_string(),
            reason: "its data is in an external file (only self-contained models are read)".into(),
        });
    }
    let mut shape = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        let d = usize::try_from(d).map_err(|_| bad(what, format!("negative dimension {d}")))?;
        shape.push(d);
    }
    let numel = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| bad(what, format!("dimensions {:?} overflow", t.dims)))?;
    let raw = &t.raw_data;
    let from_raw = |width: usize| -> Result<Option<Vec<&[u8]>>, OnnxError> {
        if raw.is_empty() {
            return Ok(None);
        }
        if raw.len() != numel.saturating_mul(width) {
            return Err(bad(
                what,
                format!(
                    "{} bytes of data for {numel} elements of {width} bytes",
                    raw.len()
                ),
            ));
        }
        Ok(Some(raw.chunks_exact(width).collect()))
    };
    let check = |len: usize| {
        if len == numel {
            Ok(())
        } else {
            Err(bad(
                what,
                format!("{len} values for dimensions {:?}", t.dims),
            ))
        }
    };
    let data_type = DataType::try_from(t.data_type).ok();
    let floats = |v: Vec<f32>| -> Result<Constant, OnnxError> {
        check(v.len())?;
        Ok(Constant::Float(Tensor::from_vec(v, &shape)))
    };
    let ints = |v: Vec<i64>| -> Result<Constant, OnnxError> {
        check(v.len())?;
        Ok(Constant::Int(Ints {
            data: v,
            shape: shape.clone(),
        }))
    };
    match data_type {
        Some(DataType::Float) => match from_raw(4)? {
            Some(c) => floats(
                c.iter()
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
            ),
            None => floats(t.float_data.clone()),
        },
        Some(DataType::Double) => match from_raw(8)? {
            Some(c) => floats(
                c.iter()
                    .map(|b| f64::from_le_bytes(b[..8].try_into().expect("8 bytes")) as f32)
                    .collect(),
            ),
            None => floats(t.double_data.iter().map(|&v| v as f32).collect()),
        },
        Some(DataType::Float16) | Some(DataType::Bfloat16) => {
            let half = data_type == Some(DataType::Float16);
            let bits: Vec<u16> = match from_raw(2)? {
                Some(c) => c.iter().map(|b| u16::from_le_bytes([b[0], b[1]])).collect(),
                None => t.int32_data.iter().map(|&v| v as u16).collect(),
            };
            floats(
                bits.into_iter()
                    .map(|b| {
                        if half {
                            f16_to_f32(b)
                        } else {
                            f32::from_bits(u32::from(b) << 16)
                        }
                    })
                    .collect(),
            )
        }
        Some(DataType::Int64) => match from_raw(8)? {
            Some(c) => ints(
                c.iter()
                    .map(|b| i64::from_le_bytes(b[..8].try_into().expect("8 bytes")))
                    .collect(),
            ),
            None => ints(t.int64_data.clone()),
        },
        Some(DataType::Int32) => match from_raw(4)? {
            Some(c) => ints(
                c.iter()
                    .map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                    .collect(),
            ),
            None => ints(t.int32_data.iter().map(|&v| i64::from(v)).collect()),
        },
        Some(DataType::Int8) | Some(DataType::Uint8) | Some(DataType::Bool) => {
            let signed = data_type == Some(DataType::Int8);
            match from_raw(1)? {
                Some(c) => ints(
                    c.iter()
                        .map(|b| {
                            if signed {
                                i64::from(b[0] as i8)
                            } else {
                                i64::from(b[0])
                            }
                        })
                        .collect(),
                ),
                None => ints(t.int32_data.iter().map(|&v| i64::from(v)).collect()),
            }
        }
        _ => Err(OnnxError::Unsupported {
            what: what.to_string(),
            reason: format!("element type {} is not supported", t.data_type),
        }),
    }
}

fn bad(what: &str, reason: String) -> OnnxError {
    OnnxError::Decode {
        what: what.to_string(),
        reason,
    }
}

/// IEEE half precision to single.
fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exponent = (h >> 10) & 0x1f;
    let mantissa = u32::from(h & 0x3ff);
    let bits = match exponent {
        0 if mantissa == 0 => sign,
        0 => {
            // Subnormal: normalise.
            let shift = mantissa.leading_zeros() - 21;
            sign | ((113 - shift) << 23) | (((mantissa << shift) & 0x3ff) << 13)
        }
        0x1f => sign | 0x7f80_0000 | (mantissa << 13),
        e => sign | ((u32::from(e) + 112) << 23) | (mantissa << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_values() {
        let cases: [(u16, f32); 8] = [
            (0x0000, 0.0),
            (0x3c00, 1.0),
            (0xc000, -2.0),
            (0x7bff, 65504.0),
            (0x0001, 5.960_464_5e-8),
            (0x0200, 3.051_757_8e-5),
            (0x03ff, 1023.0 / 16_777_216.0),
            (0x7c00, f32::INFINITY),
        ];
        for (bits, value) in cases {
            assert_eq!(f16_to_f32(bits), value, "{bits:#06x}");
        }
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn typed_lists_and_raw_bytes_agree() {
        let listed = TensorProto {
            dims: vec![2],
            data_type: DataType::Int64 as i32,
            int64_data: vec![-1, 400],
            ..Default::default()
        };
        let raw = TensorProto {
            raw_data: [-1i64, 400].iter().flat_map(|v| v.to_le_bytes()).collect(),
            int64_data: Vec::new(),
            ..listed.clone()
        };
        for t in [listed, raw] {
            match constant(&t, "shape").unwrap() {
                Constant::Int(i) => assert_eq!(i, Ints::vector(vec![-1, 400])),
                Constant::Float(_) => panic!("int64 read as float"),
            }
        }
    }
}
