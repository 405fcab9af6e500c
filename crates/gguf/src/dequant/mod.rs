//! Dequantization to f32, bit-exact with ggml's reference `dequantize_row_*`
//! (ggml-quants.c) and gguf-py's `gguf.quants.dequantize`.
//!
//! Each format is a `#[repr(C)]` block struct mirroring ggml's `block_*` C struct plus a
//! [`Block::dequantize`] that decodes one block. Bit-exactness comes from doing the same f32
//! operations in the same order as the C code; Rust never fuses `a * b + c` into an FMA, so
//! rounding matches ggml's scalar reference.
//!
//! Lengths are checked up front ([`DequantError`]) so no kernel ever sees a partial block.

mod float;
mod k_quants;
mod legacy;

use bytemuck::Pod;
use rayon::prelude::*;

use crate::error::DequantError;
use crate::ggml_type::GgmlType;

/// One ggml block of `N` elements, decoded independently of all other blocks.
trait Block<const N: usize>: Pod {
    fn dequantize(&self, out: &mut [f32; N]);
}

/// Decodes whole blocks; lengths were validated by [`check`], so the casts cannot fail and
/// `bytes` and `out` hold the same number of blocks.
fn decode<B: Block<N>, const N: usize>(bytes: &[u8], out: &mut [f32]) {
    let Ok(blocks) = bytemuck::try_cast_slice::<u8, B>(bytes) else {
        return;
    };
    let (outs, _) = out.as_chunks_mut::<N>();
    for (block, y) in blocks.iter().zip(outs) {
        block.dequantize(y);
    }
}

type Kernel = fn(&[u8], &mut [f32]);

fn kernel(ty: GgmlType) -> Option<Kernel> {
    use GgmlType::*;
    Some(match ty {
        F32 => decode::<float::F32Le, 1>,
        F16 => decode::<float::F16Le, 1>,
        BF16 => decode::<float::Bf16Le, 1>,
        Q4_0 => decode::<legacy::BlockQ4_0, 32>,
        Q4_1 => decode::<legacy::BlockQ4_1, 32>,
        Q5_0 => decode::<legacy::BlockQ5_0, 32>,
        Q5_1 => decode::<legacy::BlockQ5_1, 32>,
        Q8_0 => decode::<legacy::BlockQ8_0, 32>,
        Q2_K => decode::<k_quants::BlockQ2K, 256>,
        Q3_K => decode::<k_quants::BlockQ3K, 256>,
        Q4_K => decode::<k_quants::BlockQ4K, 256>,
        Q5_K => decode::<k_quants::BlockQ5K, 256>,
        Q6_K => decode::<k_quants::BlockQ6K, 256>,
        _ => return None,
    })
}

/// Whether [`dequantize`] handles `ty`.
pub fn can_dequantize(ty: GgmlType) -> bool {
    kernel(ty).is_some()
}

/// Validates lengths before any data is touched.
fn check(
    ty: GgmlType,
    bytes: &[u8],
    n_elements: usize,
    out_len: usize,
) -> Result<Kernel, DequantError> {
    let kernel = kernel(ty).ok_or(DequantError::Unsupported(ty))?;
    let block_size = ty.block_size();
    if !n_elements.is_multiple_of(block_size) {
        return Err(DequantError::NotBlockMultiple {
            ggml_type: ty,
            n_elements,
            block_size,
        });
    }
    // Saturates: a byte slice can never be usize::MAX long, so overflow is a mismatch too.
    let expected = (n_elements / block_size).saturating_mul(ty.type_size());
    if bytes.len() != expected {
        return Err(DequantError::ByteLength {
            ggml_type: ty,
            n_elements,
            expected,
            actual: bytes.len(),
        });
    }
    if out_len != n_elements {
        return Err(DequantError::OutputLength {
            expected: n_elements,
            actual: out_len,
        });
    }
    Ok(kernel)
}

/// Decodes `n_elements` values of type `ty` from `bytes` into `out`, on the calling thread.
/// `bytes` must hold exactly `n_elements` elements and `out` must have room for exactly them.
pub fn dequantize(
    ty: GgmlType,
    bytes: &[u8],
    n_elements: usize,
    out: &mut [f32],
) -> Result<(), DequantError> {
    let kernel = check(ty, bytes, n_elements, out.len())?;
    kernel(bytes, out);
    Ok(())
}

/// Elements per rayon task: large enough to amortise scheduling, small enough to balance.
const TASK_ELEMENTS: usize = 32 * 1024;

/// Like [`dequantize`], but split over rayon's thread pool by runs of whole blocks.
/// The result is identical: blocks are independent.
pub fn dequantize_par(
    ty: GgmlType,
    bytes: &[u8],
    n_elements: usize,
    out: &mut [f32],
) -> Result<(), DequantError> {
    let kernel = check(ty, bytes, n_elements, out.len())?;
    let blocks_per_task = (TASK_ELEMENTS / ty.block_size()).max(1);
    bytes
        .par_chunks(blocks_per_task * ty.type_size())
        .zip(out.par_chunks_mut(blocks_per_task * ty.block_size()))
        .for_each(|(b, y)| kernel(b, y));
    Ok(())
}

/// Decodes into a new `Vec` in parallel (see [`dequantize_par`]).
pub fn dequantize_to_vec(
    ty: GgmlType,
    bytes: &[u8],
    n_elements: usize,
) -> Result<Vec<f32>, DequantError> {
    // Validate before allocating: `n_elements` may come from an untrusted header.
    check(ty, bytes, n_elements, n_elements)?;
    let mut out = vec![0.0; n_elements];
    dequantize_par(ty, bytes, n_elements, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block structs must have exactly ggml's sizes, or the casts would mis-slice.
    #[test]
    fn block_sizes_match_ggml() {
        use std::mem::size_of;
        let sizes = [
            (GgmlType::F32, size_of::<float::F32Le>(), 1),
            (GgmlType::F16, size_of::<float::F16Le>(), 1),
            (GgmlType::BF16, size_of::<float::Bf16Le>(), 1),
            (GgmlType::Q4_0, size_of::<legacy::BlockQ4_0>(), 32),
            (GgmlType::Q4_1, size_of::<legacy::BlockQ4_1>(), 32),
            (GgmlType::Q5_0, size_of::<legacy::BlockQ5_0>(), 32),
            (GgmlType::Q5_1, size_of::<legacy::BlockQ5_1>(), 32),
            (GgmlType::Q8_0, size_of::<legacy::BlockQ8_0>(), 32),
            (GgmlType::Q2_K, size_of::<k_quants::BlockQ2K>(), 256),
            (GgmlType::Q3_K, size_of::<k_quants::BlockQ3K>(), 256),
            (GgmlType::Q4_K, size_of::<k_quants::BlockQ4K>(), 256),
            (GgmlType::Q5_K, size_of::<k_quants::BlockQ5K>(), 256),
            (GgmlType::Q6_K, size_of::<k_quants::BlockQ6K>(), 256),
        ];
        for (ty, size, block) in sizes {
            assert_eq!(ty.type_size(), size, "{ty}");
            assert_eq!(ty.block_size(), block, "{ty}");
            assert!(can_dequantize(ty));
        }
        let supported = GgmlType::all().filter(|t| can_dequantize(*t)).count();
        assert_eq!(supported, sizes.len());
    }
}
