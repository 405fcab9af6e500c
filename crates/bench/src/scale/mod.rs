//! `flint-bench scale`: load time, peak RSS and time to first token at 135M, 1B and 3B
//! parameters, single file and sharded, cold and warm page cache, flint against the memcpy
//! floor and burn-store, each load in a fresh child process as `load` does.
//!
//! The 1B and 3B checkpoints are synthetic (random bf16 weights in Llama 3.2 shapes, see
//! `synthetic`), generated once into the cache; the 135M point is the SmolLM2 fixture. Sizes
//! differ by 25x, so a straight line through the warm load times says whether load time
//! grows linearly in bytes and what it costs before the first byte.

mod budget;
mod cache;
mod fit;
mod report;
mod shapes;
mod synthetic;

use crate::checkpoint::Facts;
use crate::child;
use crate::load::Method;
pub use cache::CacheState;
use report::{Cell, Point};
use std::path::PathBuf;
pub use synthetic::Layout;

/// A model size the benchmark runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Size {
    /// SmolLM2-135M, the fixture the tests use (`hf-bf16`, `hf-bf16-sharded`).
    #[value(name = "135m")]
    M135,
    /// Synthetic Llama-3.2-1B shape.
    #[value(name = "1b")]
    B1,
    /// Synthetic Llama-3.2-3B shape.
    #[value(name = "3b")]
    B3,
}

#[derive(clap::Args)]
pub struct ScaleArgs {
    /// Model sizes, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Size::M135, Size::B1, Size::B3])]
    sizes: Vec<Size>,
    /// Checkpoint layouts, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Layout::Single, Layout::Sharded])]
    layouts: Vec<Layout>,
    /// Page-cache states, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [CacheState::Cold, CacheState::Warm])]
    cache: Vec<CacheState>,
    /// Load methods, comma-separated (`flint-flex-no-mmap` is flint's `--no-mmap`).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [
        Method::FloorMemcpy, Method::FlintFlex, Method::FlintFlexNoMmap,
        Method::BurnStore, Method::ReadThenCopy,
    ])]
    methods: Vec<Method>,
    /// Fresh-process loads per method, checkpoint and cache state (the median is reported).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Where the synthetic checkpoints are generated (and reused from).
    #[arg(long, default_value_os_t = flint_tests::cache_dir().join("synthetic"))]
    synthetic: PathBuf,
    /// The SmolLM2 fixture directory (holds `hf-bf16/` and `hf-bf16-sharded/`).
    #[arg(long, default_value_os_t = flint_tests::cache_dir().join("smollm2"))]
    models: PathBuf,
    /// Prompt token ids of the first forward pass (no tokenizer needed).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 450, 7483, 310, 3444])]
    tokens: Vec<u32>,
    /// Largest shard of the sharded synthetic layout, in bytes.
    #[arg(long, default_value_t = 2_000_000_000)]
    shard_bytes: usize,
    /// Only generate (or check) the synthetic checkpoints, then stop.
    #[arg(long)]
    generate_only: bool,
}

pub fn run(args: &ScaleArgs) -> anyhow::Result<()> {
    let mut points = checkpoints(args)?;
    if args.generate_only {
        for p in &points {
            println!("{}", p.path.display());
        }
        return Ok(());
    }
    let reps = args.reps.max(1);
    let mut cells: Vec<Cell> = Vec::new();
    for (pi, point) in points.iter_mut().enumerate() {
        eprintln!("measuring {} ({})...", point.label(), point.path.display());
        let load_before = load_average();
        for &method in &args.methods {
            for &cache in &args.cache {
                cells.push(Cell::new(pi, method, cache));
            }
        }
        // Interleaved, so slow drift of the shared machine hits every method alike.
        for _ in 0..reps {
            for cell in cells.iter_mut().filter(|c| c.point == pi) {
                measure(cell, point, &args.tokens)?;
            }
        }
        point.load_average = Some((load_before, load_average()));
    }
    report::print(&points, &cells, args, reps);
    Ok(())
}

/// One fresh-process load of `cell`'s method, in its cache state, added to its samples.
fn measure(cell: &mut Cell, point: &Point, tokens: &[u32]) -> anyhow::Result<()> {
    if let Some(reason) = budget::refuse(cell.method, &point.facts) {
        cell.skipped = Some(reason);
        return Ok(());
    }
    let before = cell.cache.prepare(&point.facts.files)?;
    let result = child::spawn(cell.method, &point.path, tokens);
    let after = cache::resident_fraction(&point.facts.files)?;
    match result {
        Ok(report) => cell.add(report, before, after),
        Err(err) => cell.failure = Some(err.to_string()),
    }
    Ok(())
}

/// The 1-minute load average: other work on the machine slows the CPU-bound conversions,
/// so each checkpoint's tables say how busy the machine was while they were measured.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// The checkpoints to measure, smallest first, generating the synthetic ones if needed.
fn checkpoints(args: &ScaleArgs) -> anyhow::Result<Vec<Point>> {
    let mut sizes = args.sizes.clone();
    sizes.sort_by_key(|s| *s as u8);
    sizes.dedup();
    let mut points = Vec::new();
    for &size in &sizes {
        for &layout in &args.layouts {
            let path = match size {
                Size::M135 => args.models.join(match layout {
                    Layout::Single => "hf-bf16",
                    Layout::Sharded => "hf-bf16-sharded",
                }),
                Size::B1 => {
                    synthetic::ensure(&args.synthetic, &shapes::LLAMA_1B, layout, args.shard_bytes)?
                }
                Size::B3 => {
                    synthetic::ensure(&args.synthetic, &shapes::LLAMA_3B, layout, args.shard_bytes)?
                }
            };
            let facts = Facts::read(&path)?;
            points.push(Point {
                size,
                layout,
                path,
                facts,
                load_average: None,
            });
        }
    }
    Ok(points)
}
