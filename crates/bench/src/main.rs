//! `flint-bench`: flint's loader and forward pass measured side by side with their baselines.
//!
//! Every number is a ratio taken in one run, because this machine is shared and noisy:
//! absolute times drift between runs, but methods timed in the same run, interleaved and
//! repeated (median reported), compare fairly. The page cache is warmed first, so load
//! times measure the loader, not the disk.
//!
//! - `load`: load time, time to first token and peak RSS per load method, each load in a
//!   fresh child process so the peak RSS belongs to that method alone.
//! - `speed`: prefill and decode tokens/s on flex and ndarray, and of the numpy reference.
//! - `scale`: load time, peak RSS and time to first token at 135M, 1B and 3B parameters
//!   (synthetic checkpoints), single file and sharded, cold and warm page cache.

mod checkpoint;
mod child;
mod fixture;
mod llama_net;
mod load;
mod numpy_ref;
mod rss;
mod scale;
mod speed;
mod stats;
mod table;

// Links the Llama plugin so `flint_loader::load_model` finds the architecture.
use flint_model_llama as _;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "flint-bench",
    about = "Side-by-side load and speed benchmarks of flint"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load time, time to first token and peak RSS of each load method, bf16 and f32 files.
    Load {
        #[command(flatten)]
        fixture: fixture::FixtureArgs,
        /// Fresh-process loads per method and file (the median is reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
    },
    /// Prefill and decode tokens/s: flint on flex and ndarray, and the numpy reference.
    Speed {
        #[command(flatten)]
        fixture: fixture::FixtureArgs,
        /// Repetitions per engine (the median is reported).
        #[arg(long, default_value_t = 3)]
        reps: usize,
        /// Greedy decode steps timed after the prefill.
        #[arg(long, default_value_t = 64)]
        decode_tokens: usize,
        /// Python interpreter that runs the numpy reference.
        #[arg(long, default_value = "python3")]
        python: String,
        /// The numpy reference script.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/reference/llama_numpy.py"))]
        reference: PathBuf,
    },
    /// Load time, first token and peak RSS at 135M, 1B and 3B parameters, cold and warm.
    Scale(scale::ScaleArgs),
    /// One load in this (fresh) process; prints a result line for the parent.
    #[command(hide = true)]
    LoadChild(child::ChildArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Load { fixture, reps } => load::run(&fixture, reps.max(1)),
        Command::Speed {
            fixture,
            reps,
            decode_tokens,
            python,
            reference,
        } => speed::run(
            &fixture,
            reps.max(1),
            decode_tokens.max(1),
            &python,
            &reference,
        ),
        Command::Scale(args) => scale::run(&args),
        Command::LoadChild(args) => child::run_child(&args),
    }
}
