//! Turning stored tensor bytes into the f32 buffers the CPU backends compute with: one pass,
//! in parallel, whatever the stored dtype or alignment.

use half::{bf16, f16, slice::HalfFloatSliceExt};
use rayon::prelude::*;

/// Elements per parallel task: large enough to amortise scheduling, small enough to spread
/// one big tensor over every core.
const CHUNK: usize = 1 << 16;

/// Stored element types the loader can turn into f32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredFloat {
    F32,
    F16,
    BF16,
}

impl StoredFloat {
    pub fn size(self) -> usize {
        match self {
            StoredFloat::F32 => 4,
            StoredFloat::F16 | StoredFloat::BF16 => 2,
        }
    }
}

/// Copies or widens little-endian `bytes` of `dtype` into a new `Vec<f32>`.
pub fn to_f32_vec(bytes: &[u8], dtype: StoredFloat) -> Vec<f32> {
    let n = bytes.len() / dtype.size();
    let mut out = vec![0f32; n];
    out.par_chunks_mut(CHUNK)
        .zip(bytes.par_chunks(CHUNK * dtype.size()))
        .for_each(|(dst, src)| convert_chunk(src, dtype, dst));
    out
}

fn convert_chunk(src: &[u8], dtype: StoredFloat, dst: &mut [f32]) {
    match dtype {
        StoredFloat::F32 => match bytemuck::try_cast_slice::<u8, f32>(src) {
            Ok(s) => dst.copy_from_slice(s),
            Err(_) => {
                for (d, b) in dst.iter_mut().zip(src.chunks_exact(4)) {
                    *d = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            }
        },
        StoredFloat::BF16 => match bytemuck::try_cast_slice::<u8, bf16>(src) {
            Ok(s) => s.convert_to_f32_slice(dst),
            Err(_) => {
                for (d, b) in dst.iter_mut().zip(src.chunks_exact(2)) {
                    *d = bf16::from_le_bytes([b[0], b[1]]).to_f32();
                }
            }
        },
        StoredFloat::F16 => match bytemuck::try_cast_slice::<u8, f16>(src) {
            Ok(s) => s.convert_to_f32_slice(dst),
            Err(_) => {
                for (d, b) in dst.iter_mut().zip(src.chunks_exact(2)) {
                    *d = f16::from_le_bytes([b[0], b[1]]).to_f32();
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widens_bf16_and_f16_exactly_even_when_misaligned() {
        let values = [0.0f32, 1.0, -2.5, 3.140625, 65504.0, -1e-3];
        for dtype in [StoredFloat::BF16, StoredFloat::F16, StoredFloat::F32] {
            let mut bytes = vec![0u8]; // force a misaligned start
            let mut expect = Vec::new();
            for &v in &values {
                match dtype {
                    StoredFloat::BF16 => {
                        let h = bf16::from_f32(v);
                        bytes.extend(h.to_le_bytes());
                        expect.push(h.to_f32());
                    }
                    StoredFloat::F16 => {
                        let h = f16::from_f32(v);
                        bytes.extend(h.to_le_bytes());
                        expect.push(h.to_f32());
                    }
                    StoredFloat::F32 => {
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
        let out = to_f32_vec(&bytes, StoredFloat::BF16);
        assert_eq!(out.len(), n);
        for (i, v) in out.iter().enumerate() {
            assert_eq!(*v, src[i].to_f32());
        }
    }
}
