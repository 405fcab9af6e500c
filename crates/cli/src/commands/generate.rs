use crate::generation::{Request, generate};
use anyhow::{Context, bail};
use clap::Args;
use flint_core::Backend;
use flint_loader::{
    ChatMessage, ChatTemplate, TextTokenizer, eos_token_ids, load_model, model_dir,
};
use flint_sampling::{Sampler, SamplingConfig};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Args)]
pub struct GenerateArgs {
    /// Model directory (config.json, safetensors, tokenizer.json).
    #[arg(long)]
    model: PathBuf,
    /// Raw prompt text, used as is (no chat template).
    #[arg(
        long,
        conflicts_with = "messages",
        required_unless_present = "messages"
    )]
    prompt: Option<String>,
    /// JSON file with an OpenAI-style list of {role, content}; rendered with the model's
    /// chat template.
    #[arg(long)]
    messages: Option<PathBuf>,
    #[arg(long, default_value_t = 128)]
    max_new_tokens: usize,
    /// 0 is greedy (argmax, lowest id on ties).
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    /// Seed of the sampler's own random generator (reproducible across runs and machines).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// CPU backend.
    #[arg(long, default_value = "flex")]
    backend: Backend,
    /// Print one JSON object instead of streaming text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let dir = model_dir(&args.model);
    let loaded = load_model(&args.model, args.backend)?;
    let load_ms = loaded.timings.total_ms;
    let mut model = loaded.model;
    let tokenizer = TextTokenizer::from_dir(&dir)?;
    let eos = eos_token_ids(&dir)?;

    let prompt_ids = match (&args.prompt, &args.messages) {
        (Some(prompt), _) => tokenizer.encode(prompt, true)?,
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let messages: Vec<ChatMessage> = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{}: expected a JSON list of {{role, content}}",
                    path.display()
                )
            })?;
            let template = ChatTemplate::from_dir(&dir)?
                .with_context(|| format!("{}: the model has no chat_template", dir.display()))?;
            tokenizer.encode(&template.render(&messages)?, false)?
        }
        (None, None) => bail!("give --prompt or --messages"),
    };

    let config = SamplingConfig {
        temperature: args.temperature,
        ..SamplingConfig::default()
    };
    let mut sampler = Sampler::new(config, args.seed).map_err(|e| anyhow::anyhow!("{e}"))?;
    let request = Request {
        prompt_ids: &prompt_ids,
        max_new_tokens: args.max_new_tokens,
        eos_ids: &eos,
    };
    let stdout = std::io::stdout();
    let generated = generate(
        model.as_mut(),
        &tokenizer,
        &mut sampler,
        &request,
        |piece| {
            if !args.json {
                let mut out = stdout.lock();
                let _ = out.write_all(piece.as_bytes());
                let _ = out.flush();
            }
        },
    )?;

    if args.json {
        let out = serde_json::json!({
            "prompt_tokens": prompt_ids.len(),
            "tokens": generated.tokens,
            "text": generated.text,
            "finish_reason": generated.finish_reason,
            "timings": {
                "load_ms": load_ms,
                "prefill_tokens_per_s": generated.prefill_tokens_per_s(prompt_ids.len()),
                "decode_tokens_per_s": generated.decode_tokens_per_s(),
            },
        });
        println!("{out}");
    } else {
        // A closing newline for a person at a terminal; piped stdout holds the text alone.
        if std::io::stdout().is_terminal() {
            println!();
        }
        eprintln!(
            "[flint] {} backend, load {:.0} ms, prompt {} tokens at {:.1} tok/s, {} generated at {:.1} tok/s ({:?})",
            args.backend,
            load_ms,
            prompt_ids.len(),
            generated.prefill_tokens_per_s(prompt_ids.len()),
            generated.tokens.len(),
            generated.decode_tokens_per_s(),
            generated.finish_reason,
        );
    }
    Ok(())
}
