//! The Llama family (Llama 2/3.x, TinyLlama, SmolLM2, Mistral-style configs) as a flint
//! architecture plugin.
//!
//! - [`config`]: `config.json` → [`LlamaConfig`], validated.
//! - [`model`]: the module (field names = checkpoint names) and its forward pass.
//! - [`plugin`]: registration with the loader's architecture registry.
//!
//! This crate knows no file format: weights arrive through [`flint_core::TensorSource`].

pub mod config;
pub mod model;
mod plugin;

pub use config::LlamaConfig;
pub use model::{Llama, LlamaForCausalLM};
pub use plugin::LLAMA;
