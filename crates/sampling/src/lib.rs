//! Backend-independent next-token sampling over a logits row (`&[f32]`, one per vocabulary
//! entry), with the options of llama.cpp and HF transformers and the same meaning.
//!
//! ```
//! use flint_sampling::{Sampler, SamplingConfig};
//!
//! let mut sampler = Sampler::new(SamplingConfig::default(), 42).unwrap();
//! let logits = [0.1, 2.0, -1.0, 1.5];
//! let history = [3, 1];
//! let token = sampler.sample(&logits, &history);
//! assert!(token < 4);
//! ```
//!
//! # Order
//! Penalties and logit bias on raw logits → temperature → top-k → top-p → min-p → typical
//! → draw (see [`stage`] for why). Temperature `<= 0` is greedy: argmax of the penalised,
//! biased logits, lowest id on ties, filters skipped.
//!
//! # Policies
//! - NaN logits are treated as `-inf`. A `+inf` logit takes all the probability (shared
//!   among the `+inf` tokens).
//! - Nothing to sample (every logit `-inf`/NaN): [`Sampler::try_sample`] returns
//!   [`SampleError::NoFiniteLogits`]; [`Sampler::sample`] falls back to the raw argmax.
//! - Top-k keeps exactly `k` tokens, ties at the boundary broken towards the lower id, as in
//!   llama.cpp.
//! - Randomness comes only from the sampler's own seeded [`Rng`], identical everywhere.
//!
//! # Cost
//! No allocation per token once warmed up. The logits row is read in place and copied only
//! if a penalty or bias writes to it; top-k selects in one pass over it and runs before
//! temperature (they commute), so the default chain touches the full row once; top-p
//! without top-k gathers and sorts only the head it needs; softmax uses an in-crate,
//! vectorisable `exp` that is bit-identical on every platform.

pub mod candidates;
pub mod config;
pub mod error;
pub mod rng;
pub mod sampler;
mod softmax;
pub mod stage;
pub mod stages;

pub use candidates::{Candidates, TokenLogit, TokenProb, Workspace, by_logit_desc};
pub use config::SamplingConfig;
pub use error::{ConfigError, SampleError};
pub use rng::Rng;
pub use sampler::Sampler;
pub use stage::{Chain, Stage};
