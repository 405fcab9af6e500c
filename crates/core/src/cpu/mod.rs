//! CPU kernels flint runs itself where Burn's generic ones leave speed behind: the
//! multi-threaded matrix-vector products of decoding, on f32 or bf16 weights, and the
//! attention of a decode step over the KV cache in place.

pub mod attention;
pub mod dot;
pub mod flex;
pub mod matvec;
pub mod norm;
pub mod pool;
pub mod rope;

/// `n` deterministic values in [-1, 1] (xorshift from `seed`), for the kernels' tests.
#[cfg(test)]
fn test_values(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s % 2001) as f32 / 1000.0 - 1.0
        })
        .collect()
}
