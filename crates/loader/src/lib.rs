//! flint's loader: from a model directory to a ready [`CausalLm`], the fast way.
//!
//! 1. read `config.json` and pick the architecture plugin that claims it;
//! 2. map every safetensors file once and validate each header;
//! 3. build the module with lazy parameters (nothing allocated, nothing initialised);
//! 4. assign each mapped tensor to its parameter by name: zero-copy where the backend can
//!    compute on the mapped bytes, else one converting copy, releasing the mapped pages behind;
//! 5. reject missing and unexpected tensors; initialise buffers (RoPE tables).
//!
//! The loader knows no architecture: it only speaks [`flint_core`]'s traits.

mod chat_template;
mod checkpoint;
mod config;
mod convert;
mod inspect;
mod mapped_file;
mod safetensors_file;
mod source;
mod tokenizer;

pub use chat_template::{ChatMessage, ChatTemplate};
pub use checkpoint::{Checkpoint, INDEX_FILE, SINGLE_FILE};
pub use config::{GenerationDefaults, eos_token_ids, read_json};
pub use inspect::{TensorSummary, inspect};
pub use source::AssignStats;
pub use tokenizer::TextTokenizer;

use flint_core::{Backend, CausalLm, LoadError, find_architecture};
use source::CheckpointSource;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Time spent in each load step.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct LoadTimings {
    pub config_ms: f64,
    pub map_and_headers_ms: f64,
    pub build_ms: f64,
    pub assign_ms: f64,
    pub buffers_ms: f64,
    pub total_ms: f64,
}

pub struct LoadedModel {
    pub model: Box<dyn CausalLm>,
    pub architecture: &'static str,
    pub backend: Backend,
    pub timings: LoadTimings,
    pub stats: AssignStats,
    /// Bytes of tensor data in the checkpoint.
    pub checkpoint_bytes: usize,
}

/// The directory a model path stands for (`config.json` and friends live there).
pub fn model_dir(path: &Path) -> PathBuf {
    if path.is_file() {
        path.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        path.to_path_buf()
    }
}

/// Loads the model in `path` (a directory, or a safetensors file beside its `config.json`)
/// onto `backend`.
pub fn load_model(path: &Path, backend: Backend) -> Result<LoadedModel, LoadError> {
    let start = Instant::now();
    let mut timings = LoadTimings::default();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;

    let config_path = model_dir(path).join("config.json");
    let config = config::read_json(&config_path)?;
    let architecture = find_architecture(&config, &config_path)?;
    timings.config_ms = ms(start.elapsed());

    let t = Instant::now();
    let checkpoint = Checkpoint::open(path)?;
    timings.map_and_headers_ms = ms(t.elapsed());

    let t = Instant::now();
    let device = backend.device();
    let mut skeleton = architecture.build(&config, &config_path, &device)?;
    timings.build_ms = ms(t.elapsed());

    let t = Instant::now();
    let mut source = CheckpointSource::new(&checkpoint, backend);
    skeleton.load_weights(&mut source)?;
    let unused = source.unused();
    if !unused.is_empty() {
        return Err(LoadError::UnexpectedTensors {
            path: checkpoint.origin.clone(),
            names: unused,
        });
    }
    let stats = source.stats;
    timings.assign_ms = ms(t.elapsed());

    let t = Instant::now();
    let model = skeleton.finish()?;
    timings.buffers_ms = ms(t.elapsed());
    timings.total_ms = ms(start.elapsed());

    Ok(LoadedModel {
        model,
        architecture: architecture.name(),
        backend,
        timings,
        stats,
        checkpoint_bytes: checkpoint.data_bytes(),
    })
}
