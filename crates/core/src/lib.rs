//! Shared vocabulary of flint: the pieces an architecture crate and the loader both need,
//! and nothing that knows a file format or a particular architecture.
//!
//! - [`nn`]: small inference-only layers (Linear, RmsNorm, Embedding) whose parameters are
//!   created lazily, so building a model allocates no weight ("meta device" build).
//! - [`attention`]: the KV cache and attention masks (causal, sliding window).
//! - [`rope`]: rotary position tables, the non-persistent buffers no checkpoint holds.
//! - [`assign`]: walks a module's parameters by name and fills each from a [`TensorSource`].
//! - [`architecture`]: the plugin registry architecture crates add themselves to.
//! - [`cpu`]: flint's own multi-threaded matrix-vector kernel for decoding on burn-flex
//!   (f32 or bf16 weights read in place).
//! - [`gpu`]: GPU adapters through WebGPU (listing, opening, buffer limits).
//! - [`model`]: the [`CausalLm`] trait generation runs against.
//! - [`config`]: `config.json` parsing with errors that name the key.

pub mod architecture;
pub mod assign;
pub mod attention;
pub mod backend;
pub mod config;
pub mod cpu;
pub mod error;
pub mod gpu;
pub mod model;
pub mod nn;
pub mod rope;

pub use architecture::{Architecture, ModelSkeleton, architectures, find_architecture};
pub use assign::{Target, TensorSource, assign_parameters};
pub use backend::{Backend, WgpuTarget};
pub use error::LoadError;
pub use model::CausalLm;

/// Re-exported so architecture crates use exactly the Burn the loader was built with.
pub use burn;
/// Re-exported for the `register_architecture!` macro.
pub use inventory;
