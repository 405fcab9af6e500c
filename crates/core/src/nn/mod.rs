//! Inference layers whose weights are created lazily and filled by the loader.
//!
//! They follow burn-nn's shape (`#[derive(Module)]`, a constructor separate from
//! `forward`) but store weights in the checkpoint's own layout and field names, so loading
//! is a name lookup and never a transpose or a rename.

mod embedding;
mod lazy;
mod linear;
mod rms_norm;

pub use embedding::Embedding;
pub use lazy::lazy_param;
pub use linear::Linear;
pub use rms_norm::RmsNorm;
