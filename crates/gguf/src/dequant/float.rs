//! Plain float types: F32 (identity), F16 and BF16 (exact widening).

use bytemuck::{Pod, Zeroable};

use super::Block;

/// IEEE half → single, exact, keeping NaN payloads (as numpy does) rather than quieting them
/// (as x86 F16C would), so every one of the 65536 inputs matches gguf-py bit for bit.
///
/// Written as selects over all three cases (no branches) and always inlined, so loops over
/// it vectorize.
#[inline(always)]
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from(h >> 10) & 0x1f;
    let man = u32::from(h & 0x3ff);
    // Normal: rebias the exponent from 15 to 127.
    let normal = ((exp + 112) << 23) | (man << 13);
    // Infinity or NaN: widen the payload.
    let inf_nan = 0x7f80_0000 | (man << 13);
    // Zero or subnormal: man * 2^-24, exact in f32.
    let subnormal = ((man as i32) as f32 * (1.0 / 16_777_216.0)).to_bits();
    let magnitude = if exp == 0 {
        subnormal
    } else if exp == 0x1f {
        inf_nan
    } else {
        normal
    };
    f32::from_bits(sign | magnitude)
}

/// A little-endian f16 field of a quant block (a scale or a min).
pub(crate) fn f16_le(bytes: [u8; 2]) -> f32 {
    f16_to_f32(u16::from_le_bytes(bytes))
}

#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(transparent)]
pub(crate) struct F32Le([u8; 4]);

impl Block<1> for F32Le {
    #[inline(always)]
    fn dequantize(&self, out: &mut [f32; 1]) {
        out[0] = f32::from_le_bytes(self.0);
    }
}

#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(transparent)]
pub(crate) struct F16Le([u8; 2]);

impl Block<1> for F16Le {
    #[inline(always)]
    fn dequantize(&self, out: &mut [f32; 1]) {
        out[0] = f16_le(self.0);
    }
}

/// bfloat16 is the top half of an f32, so widening is a shift (NaNs kept as they are).
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(transparent)]
pub(crate) struct Bf16Le([u8; 2]);

impl Block<1> for Bf16Le {
    #[inline(always)]
    fn dequantize(&self, out: &mut [f32; 1]) {
        out[0] = f32::from_bits(u32::from(u16::from_le_bytes(self.0)) << 16);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exhaustive against the `half` crate for every non-NaN input; NaNs must keep their
    /// payload shifted into place (checked against numpy by the golden tests).
    #[test]
    fn f16_exhaustive() {
        for h in 0..=u16::MAX {
            let ours = f16_to_f32(h);
            let theirs = half::f16::from_bits(h).to_f32();
            if theirs.is_nan() {
                assert!(ours.is_nan(), "{h:#06x}");
                let expected =
                    (u32::from(h & 0x8000) << 16) | 0x7f80_0000 | (u32::from(h & 0x3ff) << 13);
                assert_eq!(ours.to_bits(), expected, "{h:#06x}");
            } else {
                assert_eq!(ours.to_bits(), theirs.to_bits(), "{h:#06x}");
            }
        }
    }
}
