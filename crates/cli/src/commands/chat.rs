//! `flint chat`: a multi-turn conversation that keeps its KV cache between turns, so each
//! turn prefills only the new tokens. Reads lines from stdin, so it works in a terminal
//! and from a pipe alike.

use crate::generation::{FinishReason, Request, generate};
use crate::run_args::RunArgs;
use crate::timings;
use clap::Args;
use flint_loader::ChatMessage;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Args)]
pub struct ChatArgs {
    #[command(flatten)]
    run: RunArgs,
}

const HELP: &str = "/reset starts over, /exit (or end of input) quits, Ctrl-C stops an answer";

pub fn run(args: ChatArgs) -> anyhow::Result<()> {
    let args = args.run;
    let mut ready = args.open()?;
    ready.chat_ids(&[])?; // fail now, not at the first turn, if there is no template
    let (_, mut sampler) = args.sampler(&ready)?;
    let max_new_tokens = args.max_new_tokens(&ready);

    // Ctrl-C interrupts the answer being generated, not the session.
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))?;

    if args.timings {
        timings::print(&ready.load.lines());
    }
    let system: Vec<ChatMessage> = args.system_message().into_iter().collect();
    let mut messages = system.clone();
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprintln!("[flint] model ready in {:.0} ms. {HELP}", ready.load_ms());
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
                if args.timings {
                    timings::print(&timings::generation_lines(&answer));
                }
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
