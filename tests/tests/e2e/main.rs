//! flint's end-to-end tests, in one binary so Burn is linked once.
//!
//! - `reference`: real SmolLM2 weights against the independent numpy reference.
//! - `errors`: every kind of bad input gives a typed error naming the file and tensor.
//! - `tiny`: configuration variants (untied head, biases, RoPE scaling) on tiny checkpoints.

// Links the Llama plugin into this binary so the architecture registry finds it.
use flint_model_llama as _;

mod errors;
mod reference;
mod tiny;
