//! The generation loop: prefill what the KV cache does not already hold, then one forward
//! pass per new token; streams text as it is produced and stops at EOS, a stop string, the
//! token limit, the context limit or an interrupt.

use crate::stop::StopStrings;
use anyhow::bail;
use flint_core::CausalLm;
use flint_loader::TextTokenizer;
use flint_sampling::Sampler;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FinishReason {
    /// The model produced an end-of-sequence token (not included in the output).
    Eos,
    /// A stop string appeared (neither it nor anything after it is returned).
    Stop,
    /// `max_new_tokens` reached, or the model's context is full.
    Length,
    /// The user interrupted (Ctrl-C in `flint chat`).
    Interrupted,
}

/// A model and the tokens its KV cache holds, so a chat turn only prefills what is new.
pub struct Session {
    pub model: Box<dyn CausalLm>,
    cached: Vec<u32>,
}

impl Session {
    pub fn new(mut model: Box<dyn CausalLm>) -> Self {
        model.reset();
        Self {
            model,
            cached: Vec::new(),
        }
    }

    pub fn reset(&mut self) {
        self.model.reset();
        self.cached.clear();
    }

    /// Brings the cache to `context` and returns the last position's logits: keeps the
    /// longest common prefix, runs only the rest. Returns the number of tokens computed.
    fn prefill(&mut self, context: &[u32]) -> (Vec<f32>, usize) {
        let mut common = self
            .cached
            .iter()
            .zip(context)
            .take_while(|(a, b)| a == b)
            .count();
        // At least one token must run to produce logits.
        common = common.min(context.len() - 1);
        self.model.truncate(common);
        let logits = self.model.forward(&context[common..]);
        self.cached = context.to_vec();
        (logits, context.len() - common)
    }

    fn step(&mut self, token: u32) -> Vec<f32> {
        self.cached.push(token);
        self.model.forward(&[token])
    }
}

pub struct Request<'a> {
    /// The whole context: for a chat, every turn so far rendered by the template.
    pub context: &'a [u32],
    pub max_new_tokens: usize,
    pub eos_ids: &'a [u32],
    pub stop_strings: &'a [String],
}

pub struct Generated {
    pub tokens: Vec<u32>,
    pub text: String,
    pub finish_reason: FinishReason,
    /// Tokens the prefill actually computed (fewer than the context when a chat reuses its
    /// cache).
    pub prefilled: usize,
    pub prefill_seconds: f64,
    /// From the start of the prefill to the first sampled token.
    pub first_token_seconds: f64,
    pub decode_seconds: f64,
}

impl Generated {
    pub fn prefill_tokens_per_s(&self) -> f64 {
        self.prefilled as f64 / self.prefill_seconds.max(1e-9)
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

/// Runs generation. `on_text` receives each piece of text that is final: multi-byte
/// characters split across tokens and possible starts of a stop string are held back.
pub fn generate(
    session: &mut Session,
    tokenizer: &TextTokenizer,
    sampler: &mut Sampler,
    request: &Request,
    interrupted: &AtomicBool,
    mut on_text: impl FnMut(&str),
) -> anyhow::Result<Generated> {
    let context = request.context;
    if context.is_empty() {
        bail!("the prompt encodes to zero tokens");
    }
    let limit = session.model.max_context();
    if context.len() >= limit {
        bail!(
            "the prompt has {} tokens but the model's context holds {limit}",
            context.len()
        );
    }
    // Documented policy: generation stops (finish reason `length`) when the context is full.
    let max_new = request.max_new_tokens.min(limit - context.len());

    let start = Instant::now();
    let (mut logits, prefilled) = session.prefill(context);
    let prefill_seconds = start.elapsed().as_secs_f64();

    let decode_start = Instant::now();
    let mut tokens = Vec::new();
    let mut text = String::new();
    let mut stream = tokenizer.inner().decode_stream(true);
    let mut stops = StopStrings::new(request.stop_strings);
    let mut finish_reason = FinishReason::Length;
    let mut first_token_seconds = None;
    while tokens.len() < max_new {
        if interrupted.swap(false, Ordering::SeqCst) {
            finish_reason = FinishReason::Interrupted;
            break;
        }
        let next = sampler.sample(&logits, &session.cached);
        first_token_seconds.get_or_insert_with(|| start.elapsed().as_secs_f64());
        if request.eos_ids.contains(&next) {
            finish_reason = FinishReason::Eos;
            break;
        }
        tokens.push(next);
        if let Some(piece) = stream.step(next).map_err(anyhow::Error::msg)? {
            let (shown, stopped) = stops.push(&piece);
            on_text(&shown);
            text.push_str(&shown);
            if stopped {
                finish_reason = FinishReason::Stop;
                break;
            }
        }
        if tokens.len() == max_new {
            break;
        }
        logits = session.step(next);
    }
    if finish_reason != FinishReason::Stop {
        let rest = stops.flush();
        on_text(&rest);
        text.push_str(&rest);
    }
    Ok(Generated {
        tokens,
        text,
        finish_reason,
        prefilled,
        prefill_seconds,
        first_token_seconds: first_token_seconds.unwrap_or(prefill_seconds),
        decode_seconds: decode_start.elapsed().as_secs_f64(),
    })
}
