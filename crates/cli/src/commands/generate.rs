use crate::generation::{FinishReason, Request, generate};
use crate::page_sizes::MappedPages;
use crate::run_args::RunArgs;
use crate::timings::{self, LoadReport};
use anyhow::Context;
use clap::Args;
use flint_loader::ChatMessage;
use flint_sampling::SamplingConfig;
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

#[derive(Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    run: RunArgs,
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
    /// Print one JSON object instead of streaming text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let mut ready = args.run.open()?;
    let system = args.run.system_message();
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

    let (sampling, mut sampler) = args.run.sampler(&ready)?;
    let request = Request {
        context: &context,
        max_new_tokens: args.run.max_new_tokens(&ready),
        eos_ids: &ready.eos_ids,
        stop_strings: &args.run.stop,
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
            seed: args.run.sampling.seed,
            timings: JsonTimings {
                load_ms: ready.load_ms(),
                load: &ready.load,
                first_token_ms: generated.first_token_seconds * 1e3,
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
            args.run.backend,
            ready.load_ms(),
            context.len(),
            generated.prefill_tokens_per_s(),
            generated.tokens.len(),
            generated.decode_tokens_per_s(),
            generated.finish_reason,
        );
    }
    if args.run.timings {
        let mut lines = ready.load.lines();
        lines.extend(timings::generation_lines(&generated));
        lines.extend(MappedPages::of_model(&args.run.model).map(|p| p.line()));
        timings::print(&lines);
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
    timings: JsonTimings<'a>,
}

#[derive(Serialize)]
struct JsonTimings<'a> {
    load_ms: f64,
    /// Each load step (`--timings` prints them).
    load: &'a LoadReport,
    first_token_ms: f64,
    prefill_tokens_per_s: f64,
    decode_tokens_per_s: f64,
}
