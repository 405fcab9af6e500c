//! Gemma 3 text models (`Gemma3ForCausalLM`, `model_type` `gemma3_text`; the language part
//! of `gemma3`) as a flint architecture plugin.
//!
//! Where it differs from Llama, top to bottom: the embedding is scaled by `sqrt(hidden)`;
//! every RMSNorm multiplies by `1 + weight`; each layer has four norms (before and after
//! attention and MLP); queries and keys are RMS-normalised per head before RoPE; the MLP is
//! GELU-tanh gated; the head size is its own hyper-parameter; layers alternate sliding-window
//! (local) attention with its own RoPE base and global attention, five to one; scores are
//! scaled by `query_pre_attn_scalar^-1/2`, with optional logit soft-capping.
//!
//! - [`config`]: `config.json` → [`Gemma3Config`], validated;
//! - [`model`]: the module (field names = checkpoint names) and its forward pass;
//! - `plugin`: registration with the loader's architecture registry.
//!
//! This crate knows no file format: weights arrive through [`flint_core::TensorSource`].

pub mod config;
pub mod model;
mod plugin;

pub use config::{Gemma3Config, LayerKind};
pub use model::{Gemma3, Gemma3ForCausalLM};
pub use plugin::GEMMA3;
