//! The original 32-element formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
//!
//! A block stores an f16 scale `d` (and for the `_1` variants an f16 min `m`) followed by
//! packed quants. In the 4/5-bit formats byte `j` holds element `j` in its low nibble and
//! element `j + 16` in its high nibble; the 5-bit formats keep the fifth bits in `qh`
//! (bit `j` for element `j`).

use bytemuck::{Pod, Zeroable};

use super::Block;
use super::float::f16_le;

/// `block_q4_0`: `x = (q - 8) * d`.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct BlockQ4_0 {
    d: [u8; 2],
    qs: [u8; 16],
}

impl Block<32> for BlockQ4_0 {
    fn dequantize(&self, y: &mut [f32; 32]) {
        let d = f16_le(self.d);
        for j in 0..16 {
            let x0 = i32::from(self.qs[j] & 0x0F) - 8;
            let x1 = i32::from(self.qs[j] >> 4) - 8;
            y[j] = x0 as f32 * d;
            y[j + 16] = x1 as f32 * d;
        }
    }
}

/// `block_q4_1`: `x = q * d + m`.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct BlockQ4_1 {
    d: [u8; 2],
    m: [u8; 2],
    qs: [u8; 16],
}

impl Block<32> for BlockQ4_1 {
    fn dequantize(&self, y: &mut [f32; 32]) {
        let d = f16_le(self.d);
        let m = f16_le(self.m);
        for j in 0..16 {
            let x0 = self.qs[j] & 0x0F;
            let x1 = self.qs[j] >> 4;
            y[j] = f32::from(x0) * d + m;
            y[j + 16] = f32::from(x1) * d + m;
        }
    }
}

/// The 5-bit quant of elements `j` and `j + 16` of a Q5 block.
fn q5_pair(qs: u8, qh: u32, j: usize) -> (u8, u8) {
    let h0 = ((qh >> j) << 4) & 0x10;
    let h1 = (qh >> (j + 12)) & 0x10;
    ((qs & 0x0F) | h0 as u8, (qs >> 4) | h1 as u8)
}

/// `block_q5_0`: `x = (q - 16) * d`.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct BlockQ5_0 {
    d: [u8; 2],
    qh: [u8; 4],
    qs: [u8; 16],
}

impl Block<32> for BlockQ5_0 {
    fn dequantize(&self, y: &mut [f32; 32]) {
        let d = f16_le(self.d);
        let qh = u32::from_le_bytes(self.qh);
        for j in 0..16 {
            let (q0, q1) = q5_pair(self.qs[j], qh, j);
            y[j] = (i32::from(q0) - 16) as f32 * d;
            y[j + 16] = (i32::from(q1) - 16) as f32 * d;
        }
    }
}

/// `block_q5_1`: `x = q * d + m`.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct BlockQ5_1 {
    d: [u8; 2],
    m: [u8; 2],
    qh: [u8; 4],
    qs: [u8; 16],
}

impl Block<32> for BlockQ5_1 {
    fn dequantize(&self, y: &mut [f32; 32]) {
        let d = f16_le(self.d);
        let m = f16_le(self.m);
        let qh = u32::from_le_bytes(self.qh);
        for j in 0..16 {
            let (q0, q1) = q5_pair(self.qs[j], qh, j);
            y[j] = f32::from(q0) * d + m;
            y[j + 16] = f32::from(q1) * d + m;
        }
    }
}

/// `block_q8_0`: `x = q * d` with signed 8-bit `q`.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct BlockQ8_0 {
    d: [u8; 2],
    qs: [u8; 32],
}

impl Block<32> for BlockQ8_0 {
    fn dequantize(&self, y: &mut [f32; 32]) {
        let d = f16_le(self.d);
        for (out, &q) in y.iter_mut().zip(&self.qs) {
            *out = f32::from(q as i8) * d;
        }
    }
}
