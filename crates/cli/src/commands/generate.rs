use crate::generation::{FinishReason, Request, generate};
use crate::options::{DEFAULT_MAX_NEW_TOKENS, SamplingArgs};
use crate::ready_model::ReadyModel;
use anyhow::Context;
use clap::Args;
use flint_core::Backend;
use flint_loader::ChatMessage;
use flint_sampling::{Sampler, SamplingConfig};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

#[derive(Args)]
pub struct GenerateArgs {
    /// Model directory (config.json, safetensors, tokenizer.json), its safetensors file, or a
    /// GGUF file.
    #[arg(long)]
    model: PathBuf,
    /// Prompt text, used as is (no chat template) unless --system is given.
    #[arg(
        long,
        conflicts_with = "messages",
        required_unless_present = "messages"
    )]
    prompt: Option<String>,
    /// JSON file with an OpenAI-style list of {role, content}, rendered with the model's
    /// chat template.
    #[arg(long)]
    messages: Option<PathBuf>,
    /// A system message: turns --prompt into a chat, or leads --messages that have none.
    #[arg(long)]
    system: Option<String>,
    /// Most tokens to generate (default: generation_config.json's max_new_tokens, else 256).
    #[arg(long)]
    max_new_tokens: Option<usize>,
    /// Stop when this text appears; it and what follows are not returned. Repeatable.
    #[arg(long = "stop")]
    stop: Vec<String>,
    #[command(flatten)]
    sampling: SamplingArgs,
    /// CPU backend: flex (default, faster) or ndarray.
    #[arg(long, default_value = "flex")]
    backend: Backend,
    /// Print one JSON object instead of streaming text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let mut ready = ReadyModel::open(&args.model, args.backend)?;
    let system = args.system.as_ref().map(|s| ChatMessage {
        role: "system".into(),
        content: s.clone(),
    });
    let context = match (&args.prompt, &args.messages) {
        (Some(prompt), _) if system.is_none() => ready.tokenizer.encode(prompt, true)?,
        (Some(prompt), _) => {
            let user = ChatMessage {
                role: "user".into(),
                content: prompt.clone(),
            };
            ready.chat_ids(&[system.clone().unwrap(), user])?
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let mut messages: Vec<ChatMessage> =
                serde_json::from_str(&text).with_context(|| {
                    format!(
                        "{}: expected a JSON list of {{role, content}}",
                        path.display()
                    )
                })?;
            if let Some(system) = system
                && messages.first().is_none_or(|m| m.role != "system")
            {
                messages.insert(0, system);
            }
            ready.chat_ids(&messages)?
        }
        (None, None) => anyhow::bail!("give --prompt or --messages"),
    };

    let sampling = args.sampling.resolve(&ready.defaults);
    let mut sampler =
        Sampler::new(sampling.clone(), args.sampling.seed).map_err(|e| anyhow::anyhow!("{e}"))?;
    let request = Request {
        context: &context,
        max_new_tokens: args
            .max_new_tokens
            .or(ready.defaults.max_new_tokens)
            .unwrap_or(DEFAULT_MAX_NEW_TOKENS),
        eos_ids: &ready.eos_ids,
        stop_strings: &args.stop,
    };
    let stdout = std::io::stdout();
    let never = AtomicBool::new(false);
    let generated = generate(
        &mut ready.session,
        &ready.tokenizer,
        &mut sampler,
        &request,
        &never,
        |piece| {
            if !args.json {
                let mut out = stdout.lock();
                let _ = out.write_all(piece.as_bytes());
                let _ = out.flush();
            }
        },
    )?;

    if args.json {
        let out = JsonOutput {
            prompt_tokens: context.len(),
            tokens: &generated.tokens,
            text: &generated.text,
            finish_reason: generated.finish_reason,
            sampling: &sampling,
            seed: args.sampling.seed,
            timings: JsonTimings {
                load_ms: ready.load_ms,
                prefill_tokens_per_s: generated.prefill_tokens_per_s(),
                decode_tokens_per_s: generated.decode_tokens_per_s(),
            },
        };
        // Serialised straight to text so f32 settings print as written (0.7, not 0.69999).
        let out = serde_json::to_string(&out)?;
        println!("{out}");
    } else {
        // A closing newline for a person at a terminal; piped stdout holds the text alone.
        if std::io::stdout().is_terminal() {
            println!();
        }
        eprintln!(
            "[flint] {} backend, load {:.0} ms, prompt {} tokens at {:.1} tok/s, {} generated at {:.1} tok/s, finish: {:?}",
            args.backend,
            ready.load_ms,
            context.len(),
            generated.prefill_tokens_per_s(),
            generated.tokens.len(),
            generated.decode_tokens_per_s(),
            generated.finish_reason,
        );
    }
    Ok(())
}

/// `--json` output: one object on stdout.
#[derive(Serialize)]
struct JsonOutput<'a> {
    prompt_tokens: usize,
    tokens: &'a [u32],
    text: &'a str,
    finish_reason: FinishReason,
    sampling: &'a SamplingConfig,
    seed: u64,
    timings: JsonTimings,
}

#[derive(Serialize)]
struct JsonTimings {
    load_ms: f64,
    prefill_tokens_per_s: f64,
    decode_tokens_per_s: f64,
}
