//! The float dtypes checkpoints store, and the one-pass parallel conversions between their
//! bytes and the f32 buffers the CPU backends compute with: widening on load (any
//! alignment), narrowing with round-to-nearest-even on `flint convert`.

use half::{bf16, f16, slice::HalfFloatSliceExt};
use rayon::prelude::*;
use safetensors::Dtype;

/// Elements per parallel task: large enough to amortise scheduling, small enough to spread
/// one big tensor over every core.
const CHUNK: usize = 1 << 16;

/// A float element type a checkpoint stores (and `flint convert` writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatDtype {
    F32,
    F16,
    BF16,
}

impl FloatDtype {
    pub fn size(self) -> usize {
        match self {
            FloatDtype::F32 => 4,
            FloatDtype::F16 | FloatDtype::BF16 => 2,
        }
    }

    /// The safetensors dtype, and back (`None` for non-float or unsupported dtypes).
    pub fn safetensors(self) -> Dtype {
        match self {
            FloatDtype::F32 => Dtype::F32,
            FloatDtype::F16 => Dtype::F16,
            FloatDtype::BF16 => Dtype::BF16,
        }
    }

    pub fn from_safetensors(dtype: Dtype) -> Option<Self> {
        match dtype {
            Dtype::F32 => Some(FloatDtype::F32),
            Dtype::F16 => Some(FloatDtype::F16),
            Dtype::BF16 => Some(FloatDtype::BF16),
            _ => None,
        }
    }

    /// transformers' `torch_dtype` name.
    pub fn torch_name(self) -> &'static str {
        match self {
            FloatDtype::BF16 => "bfloat16",
            FloatDtype::F16 => "float16",
            FloatDtype::F32 => "float32",
        }
    }
}

impl std::str::FromStr for FloatDtype {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "bf16" => Ok(Self::BF16),
            "f16" => Ok(Self::F16),
            "f32" => Ok(Self::F32),
            other => Err(format!(
                "unknown dtype `{other}` (expected bf16, f16 or f32)"
            )),
        }
    }
}

/// Copies or widens little-endian `bytes` of `dtype` into a new `Vec<f32>`.
pub fn to_f32_vec(bytes: &[u8], dtype: FloatDtype) -> Vec<f32> {
    let n = bytes.len() / dtype.size();
    let mut out = vec![0f32; n];
    // Before the first write, so the pages are allocated large (see `huge_pages`).
    crate::huge_pages::advise(bytemuck::cast_slice(&out));
    out.par_chunks_mut(CHUNK)
        .zip(bytes.par_chunks(CHUNK * dtype.size()))
        .for_each(|(dst, src)| convert_chunk(src, dtype, dst));
    out
}

fn convert_chunk(src: &[u8], dtype: FloatDtype, dst: &mut [f32]) {
    match dtype {
        FloatDtype::F32 => match bytemuck::try_cast_slice::<u8, f32>(src) {
            Ok(s) => dst.copy_from_slice(s),
            Err(_) => {
                for (d, b) in dst.iter_mut().zip(src.chunks_exact(4)) {
                    *d = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            }
        },
        FloatDtype::BF16 => match bytemuck::try_cast_slice::<u8, bf16>(src) {
            Ok(s) => s.convert_to_f32_slice(dst),
            Err(_) => {
                for (d, b) in dst.iter_mut().zip(src.chunks_exact(2)) {
                    *d = bf16::from_le_bytes([b[0], b[1]]).to_f32();
                }
            }
        },
        FloatDtype::F16 => match bytemuck::try_cast_slice::<u8, f16>(src) {
            Ok(s) => s.convert_to_f32_slice(dst),
            Err(_) => {
                for (d, b) in dst.iter_mut().zip(src.chunks_exact(2)) {
                    *d = f16::from_le_bytes([b[0], b[1]]).to_f32();
                }
            }
        },
    }
}

/// Little-endian bytes of `values` in `dtype` (bf16/f16: round to nearest even).
pub fn from_f32(values: &[f32], dtype: FloatDtype) -> Vec<u8> {
    let size = dtype.size();
    let mut out = vec![0u8; values.len() * size];
    out.par_chunks_mut(CHUNK * size)
        .zip(values.par_chunks(CHUNK))
        .for_each(|(dst, src)| match dtype {
            FloatDtype::F32 => {
                for (d, v) in dst.chunks_exact_mut(4).zip(src) {
                    d.copy_from_slice(&v.to_le_bytes());
                }
            }
            FloatDtype::BF16 => {
                let mut half = vec![bf16::ZERO; src.len()];
                half.convert_from_f32_slice(src);
                for (d, h) in dst.chunks_exact_mut(2).zip(&half) {
                    d.copy_from_slice(&h.to_le_bytes());
                }
            }
            FloatDtype::F16 => {
                let mut half = vec![f16::ZERO; src.len()];
                half.convert_from_f32_slice(src);
                for (d, h) in dst.chunks_exact_mut(2).zip(&half) {
                    d.copy_from_slice(&h.to_le_bytes());
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widens_bf16_and_f16_exactly_even_when_misaligned() {
        let values = [0.0f32, 1.0, -2.5, 3.140625, 65504.0, -1e-3];
        for dtype in [FloatDtype::BF16, FloatDtype::F16, FloatDtype::F32] {
            let mut bytes = vec![0u8]; // force a misaligned start
            let mut expect = Vec::new();
            for &v in &values {
                match dtype {
                    FloatDtype::BF16 => {
                        let h = bf16::from_f32(v);
                        bytes.extend(h.to_le_bytes());
                        expect.push(h.to_f32());
                    }
                    FloatDtype::F16 => {
                        let h = f16::from_f32(v);
                        bytes.extend(h.to_le_bytes());
                        expect.push(h.to_f32());
                    }
                    FloatDtype::F32 => {
                        bytes.extend(v.to_le_bytes());
                        expect.push(v);
                    }
                }
            }
            assert_eq!(to_f32_vec(&bytes[1..], dtype), expect, "{dtype:?}");
        }
    }

    #[test]
    fn converts_across_chunk_boundaries() {
        let n = CHUNK * 2 + 17;
        let src: Vec<bf16> = (0..n).map(|i| bf16::from_f32(i as f32 * 0.5)).collect();
        let bytes: Vec<u8> = src.iter().flat_map(|h| h.to_le_bytes()).collect();
        let out = to_f32_vec(&bytes, FloatDtype::BF16);
        assert_eq!(out.len(), n);
        for (i, v) in out.iter().enumerate() {
            assert_eq!(*v, src[i].to_f32());
        }
    }

    #[test]
    fn bf16_rounds_to_nearest_even() {
        // 1 + 2^-8 is halfway between two bf16 values: ties go to the even mantissa (1.0);
        // 1 + 3·2^-8 goes up to 1 + 2^-6... i.e. the even neighbour above.
        let values = [
            1.0 + 2f32.powi(-8),
            1.0 + 3.0 * 2f32.powi(-8),
            -0.0,
            65504.0,
        ];
        let bytes = from_f32(&values, FloatDtype::BF16);
        let got: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        let rne = |x: f32| {
            let bits = x.to_bits() as u64;
            ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) as u16
        };
        let expect: Vec<u16> = values.iter().map(|&v| rne(v)).collect();
        assert_eq!(got, expect);
        assert_eq!(got[0], 0x3F80);
    }
}
