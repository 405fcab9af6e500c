//! What a loaded, ready-to-run language model offers to generation code.

use burn::tensor::Device;

/// A decoder-only language model with its own KV cache.
///
/// `forward` appends `tokens` to the cached context and returns the logits of the last
/// position, so a prompt is one call (prefill) and each generated token one more (decode).
pub trait CausalLm: Send {
    /// Runs `tokens` after the cached context; returns last-position logits (vocab-sized).
    fn forward(&mut self, tokens: &[u32]) -> Vec<f32>;
    /// Forgets the cached context.
    fn reset(&mut self);
    /// Keeps only the first `len` cached tokens (a chat turn whose re-tokenised history
    /// diverges from what was generated re-runs only from the divergence).
    fn truncate(&mut self, len: usize);
    /// Tokens currently held in the cache.
    fn cached_tokens(&self) -> usize;
    /// Longest context the model supports (positions).
    fn max_context(&self) -> usize;
    fn vocab_size(&self) -> usize;
    fn device(&self) -> Device;
}
