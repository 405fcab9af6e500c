//! The k-quants: 256-element super-blocks split into sub-blocks of 16 or 32 elements, each
//! with its own (quantized) scale and sometimes min, under one or two f16 super-scales.
//!
//! Every kernel walks the super-block sub-block by sub-block, in output order, which is the
//! order of ggml's `dequantize_row_q*_K` loops. The comments give, for sub-block `g`, where
//! its quants, scale and extra bits come from.

use bytemuck::{Pod, Zeroable};

use super::Block;
use super::float::f16_le;

/// `block_q2_K`: 16 sub-blocks of 16, 2-bit quants, 4-bit scale and min per sub-block:
/// `x = d * sc * q - dmin * m`.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct BlockQ2K {
    /// Low nibble: scale, high nibble: min, one byte per sub-block.
    scales: [u8; 16],
    qs: [u8; 64],
    d: [u8; 2],
    dmin: [u8; 2],
}

impl Block<256> for BlockQ2K {
    fn dequantize(&self, y: &mut [f32; 256]) {
        let d = f16_le(self.d);
        let min = f16_le(self.dmin);
        let (groups, _) = y.as_chunks_mut::<16>();
        // Sub-block g: 32-byte half g / 8, bytes 16 * (g % 2).., bit pair (g % 8) / 2.
        for (g, (out, &sc)) in groups.iter_mut().zip(&self.scales).enumerate() {
            let start = 32 * (g / 8) + 16 * (g % 2);
            let shift = 2 * ((g % 8) / 2);
            let dl = d * f32::from(sc & 0xF);
            let ml = min * f32::from(sc >> 4);
            for (o, &q) in out.iter_mut().zip(&self.qs[start..start + 16]) {
                *o = dl * f32::from((q >> shift) & 3) - ml;
            }
        }
    }
}

/// `block_q3_K`: 16 sub-blocks of 16, 3-bit quants (2 low bits in `qs`, the high bit in
/// `hmask`, stored inverted), 6-bit signed scales: `x = d * (sc - 32) * (q - 4 * !hbit)`.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct BlockQ3K {
    hmask: [u8; 32],
    qs: [u8; 64],
    /// 16 six-bit scales: low 4 bits in the nibbles of bytes 0..8, high 2 bits in 8..12.
    scales: [u8; 12],
    d: [u8; 2],
}

impl BlockQ3K {
    /// Sub-block `g`'s scale, already offset by -32 (ggml's `kmask1/kmask2` unpacking).
    fn scale(&self, g: usize) -> i32 {
        let low = if g < 8 {
            self.scales[g] & 0xF
        } else {
            self.scales[g - 8] >> 4
        };
        let high = (self.scales[8 + g % 4] >> (2 * (g / 4))) & 3;
        i32::from(low | (high << 4)) - 32
    }
}

impl Block<256> for BlockQ3K {
    fn dequantize(&self, y: &mut [f32; 256]) {
        let d_all = f16_le(self.d);
        let (groups, _) = y.as_chunks_mut::<16>();
        // Sub-block g: like Q2_K for `qs`; `hmask` bytes 16 * (g % 2).., bit g / 2.
        for (g, out) in groups.iter_mut().enumerate() {
            let start = 32 * (g / 8) + 16 * (g % 2);
            let shift = 2 * ((g % 8) / 2);
            let hstart = 16 * (g % 2);
            let bit = 1u8 << (g / 2);
            let dl = d_all * self.scale(g) as f32;
            let qs = &self.qs[start..start + 16];
            let hm = &self.hmask[hstart..hstart + 16];
            for ((o, &q), &h) in out.iter_mut().zip(qs).zip(hm) {
                let low = i32::from((q >> shift) & 3);
                let sub = if h & bit != 0 { 0 } else { 4 };
                *o = dl * (low - sub) as f32;
            }
        }
    }
}

/// ggml's `get_scale_min_k4`: sub-block `j`'s 6-bit scale and min, packed into 12 bytes
/// (bytes 0..4 scales 0..4, 4..8 mins 0..4, 8..12 low nibbles of scales / mins 4..8 with
/// their top 2 bits in the top bits of bytes 0..8).
fn scale_min_k4(j: usize, q: &[u8; 12]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        let sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        let m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        (sc, m)
    }
}

/// `block_q4_K`: 8 sub-blocks of 32, 4-bit quants, 6-bit scale and min per sub-block:
/// `x = d * sc * q - dmin * m`.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct BlockQ4K {
    d: [u8; 2],
    dmin: [u8; 2],
    scales: [u8; 12],
    qs: [u8; 128],
}

impl Block<256> for BlockQ4K {
    fn dequantize(&self, y: &mut [f32; 256]) {
        let d = f16_le(self.d);
        let min = f16_le(self.dmin);
        let (groups, _) = y.as_chunks_mut::<32>();
        // Sub-block g: bytes 32 * (g / 2).., low nibbles for even g, high for odd.
        for (g, out) in groups.iter_mut().enumerate() {
            let (sc, m) = scale_min_k4(g, &self.scales);
            let d1 = d * f32::from(sc);
            let m1 = min * f32::from(m);
            let start = 32 * (g / 2);
            let shift = 4 * (g % 2);
            for (o, &q) in out.iter_mut().zip(&self.qs[start..start + 32]) {
                *o = d1 * f32::from((q >> shift) & 0xF) - m1;
            }
        }
    }
}

/// `block_q5_K`: as Q4_K plus a fifth bit per element in `qh` (bit g for sub-block g).
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct BlockQ5K {
    d: [u8; 2],
    dmin: [u8; 2],
    scales: [u8; 12],
    qh: [u8; 32],
    qs: [u8; 128],
}

impl Block<256> for BlockQ5K {
    fn dequantize(&self, y: &mut [f32; 256]) {
        let d = f16_le(self.d);
        let min = f16_le(self.dmin);
        let (groups, _) = y.as_chunks_mut::<32>();
        for (g, out) in groups.iter_mut().enumerate() {
            let (sc, m) = scale_min_k4(g, &self.scales);
            let d1 = d * f32::from(sc);
            let m1 = min * f32::from(m);
            let start = 32 * (g / 2);
            let shift = 4 * (g % 2);
            let bit = 1u8 << g;
            let qs = &self.qs[start..start + 32];
            for ((o, &q), &h) in out.iter_mut().zip(qs).zip(&self.qh) {
                let high = if h & bit != 0 { 16 } else { 0 };
                *o = d1 * f32::from(((q >> shift) & 0xF) + high) - m1;
            }
        }
    }
}

/// `block_q6_K`: 16 sub-blocks of 16, 6-bit quants (low 4 bits in `ql`, high 2 in `qh`),
/// signed 8-bit scales: `x = d * sc * (q - 32)`.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct BlockQ6K {
    ql: [u8; 128],
    qh: [u8; 64],
    scales: [u8; 16],
    d: [u8; 2],
}

impl Block<256> for BlockQ6K {
    fn dequantize(&self, y: &mut [f32; 256]) {
        let d = f16_le(self.d);
        let (rows, _) = y.as_chunks_mut::<32>();
        // Row r of 32 (half n = r / 4, k = r % 4): `ql` bytes 64n + 32 * (k % 2).., nibble
        // k / 2; `qh` bytes 32n.., bit pair k; scales 8n + 2k (first 16) and 8n + 2k + 1.
        for (r, out) in rows.iter_mut().enumerate() {
            let (n, k) = (r / 4, r % 4);
            let lstart = 64 * n + 32 * (k % 2);
            let ql = &self.ql[lstart..lstart + 32];
            let qh = &self.qh[32 * n..32 * n + 32];
            for (l, ((o, &lo), &hi)) in out.iter_mut().zip(ql).zip(qh).enumerate() {
                let sc = self.scales[8 * n + 2 * k + l / 16] as i8;
                let q = ((lo >> (4 * (k / 2))) & 0xF) | (((hi >> (2 * k)) & 3) << 4);
                *o = d * f32::from(sc) * (i32::from(q) - 32) as f32;
            }
        }
    }
}
