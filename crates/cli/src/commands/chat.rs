//! `flint chat`: a multi-turn conversation that keeps its KV cache between turns, so each
//! turn prefills only the new tokens. Reads lines from stdin, so it works in a terminal
//! and from a pipe alike.

use crate::generation::{FinishReason, Request, generate};
use crate::options::{DEFAULT_MAX_NEW_TOKENS, SamplingArgs};
use crate::ready_model::ReadyModel;
use clap::Args;
use flint_core::Backend;
use flint_loader::ChatMessage;
use flint_sampling::Sampler;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Args)]
pub struct ChatArgs {
    /// Model directory (config.json, safetensors, tokenizer.json with a chat template), or a
    /// GGUF file.
    #[arg(long)]
    model: PathBuf,
    /// System message leading the conversation.
    #[arg(long)]
    system: Option<String>,
    /// Most tokens per answer.
    #[arg(long)]
    max_new_tokens: Option<usize>,
    /// Stop an answer when this text appears. Repeatable.
    #[arg(long = "stop")]
    stop: Vec<String>,
    #[command(flatten)]
    sampling: SamplingArgs,
    #[arg(long, default_value = "flex")]
    backend: Backend,
}

const HELP: &str = "/reset starts over, /exit (or end of input) quits, Ctrl-C stops an answer";

pub fn run(args: ChatArgs) -> anyhow::Result<()> {
    let mut ready = ReadyModel::open(&args.model, args.backend)?;
    ready.chat_ids(&[])?; // fail now, not at the first turn, if there is no template
    let sampling = args.sampling.resolve(&ready.defaults);
    let mut sampler =
        Sampler::new(sampling, args.sampling.seed).map_err(|e| anyhow::anyhow!("{e}"))?;
    let max_new_tokens = args
        .max_new_tokens
        .or(ready.defaults.max_new_tokens)
        .unwrap_or(DEFAULT_MAX_NEW_TOKENS);

    // Ctrl-C interrupts the answer being generated, not the session.
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))?;

    let system: Vec<ChatMessage> = args
        .system
        .iter()
        .map(|s| ChatMessage {
            role: "system".into(),
            content: s.clone(),
        })
        .collect();
    let mut messages = system.clone();
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprintln!("[flint] model ready in {:.0} ms. {HELP}", ready.load_ms);
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if interactive {
            eprint!("> ");
            let _ = std::io::stderr().flush();
        }
        let Some(line) = lines.next() else { break };
        let line = line?;
        let line = line.trim_end_matches(['\r', '\n']);
        match line.trim() {
            "" => continue,
            "/exit" | "/quit" => break,
            "/reset" => {
                messages = system.clone();
                ready.session.reset();
                eprintln!("[flint] conversation reset");
                continue;
            }
            "/help" => {
                eprintln!("{HELP}");
                continue;
            }
            _ => {}
        }
        messages.push(ChatMessage {
            role: "user".into(),
            content: line.to_string(),
        });
        let context = ready.chat_ids(&messages)?;
        interrupted.store(false, Ordering::SeqCst);
        let request = Request {
            context: &context,
            max_new_tokens,
            eos_ids: &ready.eos_ids,
            stop_strings: &args.stop,
        };
        let mut stdout = std::io::stdout();
        let result = generate(
            &mut ready.session,
            &ready.tokenizer,
            &mut sampler,
            &request,
            &interrupted,
            |piece| {
                let _ = stdout.write_all(piece.as_bytes());
                let _ = stdout.flush();
            },
        );
        match result {
            Ok(answer) => {
                println!();
                if answer.finish_reason == FinishReason::Interrupted {
                    eprintln!("[flint] interrupted");
                }
                eprintln!(
                    "[flint] prefilled {} new tokens, {} generated at {:.1} tok/s",
                    answer.prefilled,
                    answer.tokens.len(),
                    answer.decode_tokens_per_s()
                );
                messages.push(ChatMessage {
                    role: "assistant".into(),
                    content: answer.text,
                });
            }
            Err(err) => {
                // The turn is dropped; the conversation goes on.
                eprintln!("error: {err:#}");
                messages.pop();
            }
        }
    }
    Ok(())
}
