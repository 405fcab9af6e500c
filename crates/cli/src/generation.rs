//! The generation loop: prefill the prompt once, then one forward pass per new token, with
//! the KV cache carrying the context; streams text as it is produced.

use anyhow::{Context, bail};
use flint_core::CausalLm;
use flint_loader::TextTokenizer;
use flint_sampling::Sampler;
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FinishReason {
    /// The model produced an end-of-sequence token (not included in the output).
    Eos,
    /// `max_new_tokens` reached, or the model's context is full.
    Length,
}

pub struct Generated {
    pub tokens: Vec<u32>,
    pub text: String,
    pub finish_reason: FinishReason,
    pub prefill_seconds: f64,
    pub decode_seconds: f64,
}

impl Generated {
    pub fn prefill_tokens_per_s(&self, prompt_tokens: usize) -> f64 {
        prompt_tokens as f64 / self.prefill_seconds.max(1e-9)
    }

    /// Tokens after the first (which came from the prefill) over the decode time.
    pub fn decode_tokens_per_s(&self) -> f64 {
        let decoded = self.tokens.len().saturating_sub(1);
        if decoded == 0 {
            0.0
        } else {
            decoded as f64 / self.decode_seconds.max(1e-9)
        }
    }
}

pub struct Request<'a> {
    pub prompt_ids: &'a [u32],
    pub max_new_tokens: usize,
    pub eos_ids: &'a [u32],
}

/// Runs generation. `on_text` receives each newly complete piece of text (multi-byte
/// characters split across tokens are held back until complete).
pub fn generate(
    model: &mut dyn CausalLm,
    tokenizer: &TextTokenizer,
    sampler: &mut Sampler,
    request: &Request,
    mut on_text: impl FnMut(&str),
) -> anyhow::Result<Generated> {
    let prompt = request.prompt_ids;
    if prompt.is_empty() {
        bail!("the prompt encodes to zero tokens");
    }
    let context = model.max_context();
    if prompt.len() >= context {
        bail!(
            "the prompt has {} tokens but the model's context holds {context}",
            prompt.len()
        );
    }
    // Documented policy: generation stops when the context is full.
    let max_new = request.max_new_tokens.min(context - prompt.len());

    let start = Instant::now();
    model.reset();
    let mut logits = model.forward(prompt);
    let prefill_seconds = start.elapsed().as_secs_f64();

    let decode_start = Instant::now();
    let mut history: Vec<u32> = prompt.to_vec();
    let mut tokens = Vec::new();
    let mut stream = tokenizer.inner().decode_stream(true);
    let mut finish_reason = FinishReason::Length;
    while tokens.len() < max_new {
        let next = sampler.sample(&logits, &history);
        if request.eos_ids.contains(&next) {
            finish_reason = FinishReason::Eos;
            break;
        }
        tokens.push(next);
        history.push(next);
        if let Some(piece) = stream.step(next).map_err(anyhow::Error::msg)? {
            on_text(&piece);
        }
        if tokens.len() == max_new {
            break;
        }
        logits = model.forward(&[next]);
    }
    let decode_seconds = decode_start.elapsed().as_secs_f64();
    let text = tokenizer
        .decode(&tokens)
        .context("decoding generated tokens")?;
    Ok(Generated {
        tokens,
        text,
        finish_reason,
        prefill_seconds,
        decode_seconds,
    })
}
