//! `flint-bench load`: each load method on the bf16 and the f32 file, side by side.

mod burn_store;
mod flint;
mod floor;
mod read_then_copy;
mod report;

use crate::child::{self, ChildReport};
use crate::fixture::{FileFacts, FixtureArgs, warm_page_cache};
use crate::stats::MB;
use flint_core::{Backend, CausalLm};
use flint_loader::{ReadMode, TextTokenizer};
use report::MethodSummary;
use std::path::Path;

/// A way to get the checkpoint's weights into memory.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Method {
    FloorMemcpy,
    ReadThenCopy,
    BurnStore,
    BurnStoreNocast,
    FlintFlex,
    /// flint on flex with `--no-mmap` (`ReadMode::Copy`); measured by `scale` only.
    FlintFlexNoMmap,
    FlintNdarray,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::FloorMemcpy,
        Method::ReadThenCopy,
        Method::BurnStore,
        Method::BurnStoreNocast,
        Method::FlintFlex,
        Method::FlintNdarray,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::FloorMemcpy => "floor-memcpy",
            Method::ReadThenCopy => "read-then-copy",
            Method::BurnStore => "burn-store",
            Method::BurnStoreNocast => "burn-store-nocast",
            Method::FlintFlex => "flint-flex",
            Method::FlintFlexNoMmap => "flint-flex-no-mmap",
            Method::FlintNdarray => "flint-ndarray",
        }
    }
}

/// What one load produced.
pub enum Outcome {
    Floor(floor::Floor),
    Model(Box<dyn CausalLm>),
}

pub struct Loaded {
    pub outcome: Outcome,
    pub note: String,
    /// Bytes the loaded weights occupy (f32 copies plus zero-copy views of the file).
    pub final_bytes: u64,
}

/// Loads the checkpoint at `path` (a file, or a directory with one file or shards) once
/// with `method` (in the child process). The baselines use burn-flex, the CPU backend
/// upstream recommends.
pub fn load_once(method: Method, path: &Path) -> anyhow::Result<Loaded> {
    let model = |(model, note, final_bytes): (Box<dyn CausalLm>, String, u64)| Loaded {
        outcome: Outcome::Model(model),
        note,
        final_bytes,
    };
    Ok(match method {
        Method::FloorMemcpy => {
            let floor = floor::memcpy(path)?;
            Loaded {
                final_bytes: floor.bytes as u64,
                outcome: Outcome::Floor(floor),
                note: String::new(),
            }
        }
        Method::ReadThenCopy => {
            let (m, bytes) = read_then_copy::load(path, &Backend::Flex.device()?)?;
            let note = "std::fs::read + one f32 copy per tensor (flex)".into();
            model((m, note, bytes))
        }
        Method::BurnStore | Method::BurnStoreNocast => {
            let cast = method == Method::BurnStore;
            let (m, note, bytes) = burn_store::load(path, &Backend::Flex.device()?, cast)?;
            model((m, format!("{note}, flex"), bytes))
        }
        Method::FlintFlex => model(flint::load(path, Backend::Flex, ReadMode::Map)?),
        Method::FlintFlexNoMmap => model(flint::load(path, Backend::Flex, ReadMode::Copy)?),
        Method::FlintNdarray => model(flint::load(path, Backend::NdArray, ReadMode::Map)?),
    })
}

/// The parent: runs every method `reps` times per file, interleaved, each in a fresh child.
pub fn run(fixture: &FixtureArgs, reps: usize) -> anyhow::Result<()> {
    let tokenizer = TextTokenizer::from_dir(&fixture.bf16_dir())?;
    let prompt = fixture.prompt("capital_france")?;
    let tokens = tokenizer.encode(&prompt, true)?;
    println!("### Load (SmolLM2-135M, median of {reps} fresh-process loads per cell)\n");
    println!(
        "First token: load + one forward pass on {:?} ({} tokens); \
         the tokenizer is loaded outside the timing.\n",
        prompt,
        tokens.len()
    );
    for dir in [fixture.bf16_dir(), fixture.f32_dir()] {
        let file = dir.join("model.safetensors");
        warm_page_cache(&file)?;
        let facts = FileFacts::read(&file)?;
        let mut samples: Vec<Vec<ChildReport>> = vec![Vec::new(); Method::ALL.len()];
        let mut failures: Vec<Option<String>> = vec![None; Method::ALL.len()];
        // Interleaved, so slow drift of the shared machine hits every method alike.
        for _ in 0..reps {
            for (i, &method) in Method::ALL.iter().enumerate() {
                match child::spawn(method, &file, &tokens) {
                    Ok(report) => samples[i].push(report),
                    Err(err) => failures[i] = Some(err.to_string()),
                }
            }
        }
        let label = dir.file_name().unwrap_or_default().to_string_lossy();
        println!(
            "#### `{label}/model.safetensors` ({:.0} MB of tensors; all f32: {:.0} MB)\n",
            facts.data.len() as f64 / MB,
            facts.f32_bytes as f64 / MB
        );
        let summaries: Vec<MethodSummary> = Method::ALL
            .iter()
            .zip(samples.iter().zip(failures))
            .map(|(&method, (runs, failure))| MethodSummary::new(method, runs, failure))
            .collect();
        println!(
            "{}",
            report::table(&summaries, facts.f32_bytes, &tokenizer).render()
        );
        println!("{}", report::comparison(&summaries).render());
    }
    Ok(())
}
