//! flint's end-to-end tests, in one binary so Burn is linked once.
//!
//! - `reference`: real SmolLM2 weights against the independent numpy reference.
//! - `errors`: every kind of bad input gives a typed error naming the file and tensor.
//! - `gguf`: the SmolLM2 GGUF loaded directly against the same reference, tiny GGUF files
//!   for the Q/K permutation and the error paths.
//! - `gemma3`: the Gemma 3 plugin on real weights against its own numpy reference.
//! - `wgpu`: the GPU backend (lavapipe in CI) against the same references.
//! - `tiny`: configuration variants (untied head, biases, RoPE scaling) on tiny checkpoints.

// Links the architecture plugins into this binary so the architecture registry finds it.
use flint_model_gemma3 as _;
use flint_model_llama as _;

mod errors;
mod gemma3;
mod gguf;
mod reference;
mod tiny;
mod wgpu;
