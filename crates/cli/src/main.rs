//! `flint`: run large language models on Burn, loaded straight from memory-mapped files.

mod commands;
mod generation;
mod options;
mod page_sizes;
mod progress;
mod ready_model;
mod run_args;
mod stop;
mod timings;

// Architecture plugins, one `extern crate` per `flint-model-*` dependency (see build.rs).
include!(concat!(env!("OUT_DIR"), "/plugins.rs"));

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "flint",
    version,
    about = "Run LLMs on Burn, ready almost as soon as asked"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate text from a prompt or a chat.
    Generate(commands::generate::GenerateArgs),
    /// Talk with a model, turn by turn, keeping the KV cache between turns.
    Chat(commands::chat::ChatArgs),
    /// Write a GGUF file out as a Hugging Face model directory (safetensors, configs,
    /// tokenizer).
    Convert(commands::convert::ConvertArgs),
    /// List a checkpoint's tensors from its headers alone.
    Inspect(commands::inspect::InspectArgs),
    /// List the registered model architectures.
    Models,
    /// List the GPU adapters `--backend wgpu --device N` can use, with their limits.
    Devices,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => commands::generate::run(args),
        Command::Chat(args) => commands::chat::run(args),
        Command::Convert(args) => commands::convert::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Models => commands::models::run(),
        Command::Devices => commands::devices::run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
