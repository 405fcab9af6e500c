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
