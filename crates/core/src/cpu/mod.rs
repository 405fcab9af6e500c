//! CPU kernels flint runs itself where Burn's generic ones leave speed behind: the
//! multi-threaded matrix-vector products of decoding, on f32 or bf16 weights.

pub mod flex;
pub mod matvec;
