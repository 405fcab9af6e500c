//! flint's loader: from a model directory or a GGUF file to a ready [`CausalLm`], the fast
//! way.
//!
//! 1. read `config.json` (for a GGUF file: synthesise it from the metadata) and pick the
//!    architecture plugin that claims it;
//! 2. map every checkpoint file once and validate each header;
//! 3. refuse a model whose parameters cannot fit in the memory available; build the module
//!    with lazy parameters (nothing allocated, nothing initialised);
//! 4. assign each mapped tensor to its parameter by name: zero-copy where the backend can
//!    compute on the mapped bytes, else one converting (or dequantizing) copy, releasing the
//!    mapped pages behind;
//! 5. reject missing and unexpected tensors; initialise buffers (RoPE tables).
//!
//! Steps 3 to 5 are one code path for both formats (the `WeightSource` trait). The loader
//! knows no architecture: it only speaks [`flint_core`]'s traits.

mod chat_template;
mod checkpoint;
mod config;
mod convert;
mod finite;
pub mod gguf;
mod huge_pages;
mod inspect;
mod mapped_file;
mod memory;
mod observed;
mod safetensors_file;
mod source;
mod timings;
mod tokenizer;
mod weights;

pub use chat_template::{ChatMessage, ChatTemplate};
pub use checkpoint::{Checkpoint, INDEX_FILE, SINGLE_FILE, ShardIndex};
pub use config::{GenerationDefaults, eos_token_ids, read_json, write_json};
pub use convert::{FloatDtype, to_f32_vec};
pub use gguf::export::{ConvertReport, convert_gguf};
pub use gguf::is_gguf;
pub use inspect::{TensorSummary, inspect};
pub use mapped_file::{ReadMode, set_read_mode};
pub use memory::available_bytes;
pub use observed::LoadProgress;
pub use safetensors_file::{TensorEntry, parse_header as parse_safetensors_header};
pub use source::AssignStats;
pub use timings::{LoadTimings, OpenTimes};
pub use tokenizer::TextTokenizer;

use flint_core::{Architecture, Backend, CausalLm, LoadError, find_architecture};
use observed::Observed;
use source::CheckpointSource;
use std::path::{Path, PathBuf};
use std::time::Instant;
use timings::ms;
use weights::WeightSource;

/// How to load, beyond the model and the backend.
#[derive(Default, Clone, Copy)]
pub struct LoadOptions<'a> {
    /// Told of the progress as tensors are placed (e.g. to draw a progress bar).
    pub progress: Option<&'a dyn LoadProgress>,
    /// Widen bf16 weights to f32 at load. By default, on burn-flex, the weights of linear
    /// layers and embeddings stay bf16 as stored (used in place from the mapped file, half
    /// the memory traffic per token); everything else is f32 either way.
    pub f32_weights: bool,
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

impl LoadedModel {
    /// Sets the total load time to the time since `start`.
    fn timed_from(mut self, start: Instant) -> Self {
        self.timings.total_ms = ms(start.elapsed());
        self
    }
}

/// The directory a model path stands for (`config.json` and friends live there).
pub fn model_dir(path: &Path) -> PathBuf {
    if path.is_file() {
        path.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        path.to_path_buf()
    }
}

/// Loads the model in `path` (a directory, a safetensors file beside its `config.json`, or a
/// GGUF file, recognised by its `.gguf` extension or its magic) onto `backend`.
pub fn load_model(path: &Path, backend: Backend) -> Result<LoadedModel, LoadError> {
    load_model_with(path, backend, LoadOptions::default())
}

/// [`load_model`] with options (progress reporting).
pub fn load_model_with(
    path: &Path,
    backend: Backend,
    options: LoadOptions,
) -> Result<LoadedModel, LoadError> {
    let start = Instant::now();
    if gguf::is_gguf(path) {
        // The configuration lives in the file, so it is opened first.
        let file = gguf::GgufModel::open(path)?;
        return load_opened_gguf(&file, backend, options, start);
    }

    let mut timings = LoadTimings::default();
    let t = Instant::now();
    let config_path = model_dir(path).join("config.json");
    let config = config::read_json(&config_path)?;
    let architecture = find_architecture(&config, &config_path)?;
    timings.config_ms = ms(t.elapsed());
    let checkpoint = Checkpoint::open(path)?;
    timings.open_map_ms = ms(checkpoint.open_times.map);
    timings.header_ms = ms(checkpoint.open_times.header);
    let mut source = CheckpointSource::new(&checkpoint, backend, options.f32_weights);
    assemble(
        architecture,
        &config,
        &config_path,
        &mut source,
        backend,
        options,
        timings,
    )
    .map(|loaded| loaded.timed_from(start))
}

/// Loads the model of an already opened GGUF file (callers that also want its tokenizer and
/// chat template open the file once). The timings count the file's opening
/// ([`gguf::GgufModel::open_times`]) but the total starts at this call.
pub fn load_gguf(
    file: &gguf::GgufModel,
    backend: Backend,
    options: LoadOptions,
) -> Result<LoadedModel, LoadError> {
    load_opened_gguf(file, backend, options, Instant::now())
}

fn load_opened_gguf(
    file: &gguf::GgufModel,
    backend: Backend,
    options: LoadOptions,
    start: Instant,
) -> Result<LoadedModel, LoadError> {
    let mut timings = LoadTimings {
        open_map_ms: ms(file.open_times.map),
        header_ms: ms(file.open_times.header),
        ..LoadTimings::default()
    };
    let t = Instant::now();
    let config = gguf::config::hf_config(file)?;
    let architecture = find_architecture(&config, file.path())?;
    timings.config_ms = ms(t.elapsed());
    let mut source = gguf::GgufSource::new(file)?;
    assemble(
        architecture,
        &config,
        file.path(),
        &mut source,
        backend,
        options,
        timings,
    )
    .map(|loaded| loaded.timed_from(start))
}

/// The steps every format shares: build with no weight, assign by name, refuse unused
/// tensors, compute the buffers.
fn assemble(
    architecture: &'static dyn Architecture,
    config: &serde_json::Value,
    config_path: &Path,
    source: &mut dyn WeightSource,
    backend: Backend,
    options: LoadOptions,
    mut timings: LoadTimings,
) -> Result<LoadedModel, LoadError> {
    let t = Instant::now();
    memory::check_fits(architecture, config, config_path)?;
    let device = backend.device()?;
    let mut skeleton = architecture.build(config, config_path, &device)?;
    timings.build_ms = ms(t.elapsed());

    let t = Instant::now();
    let mut observed = Observed::new(source, options.progress);
    skeleton.load_weights(&mut observed)?;
    let mut placing = observed.placing;
    // GPU uploads are queued: the last of them is done only once the device has synced.
    let sync = Instant::now();
    device.sync().map_err(|e| LoadError::Other {
        message: format!("{}: the device failed while loading: {e:?}", backend),
    })?;
    placing += sync.elapsed();
    if let Some(progress) = options.progress {
        progress.finish();
    }
    // A file rewritten meanwhile may have served a mix of two versions (truncation would
    // have raised SIGBUS instead: see docs/reliability.md).
    source.check_unchanged()?;
    let unused = source.unused();
    if !unused.is_empty() {
        return Err(LoadError::UnexpectedTensors {
            path: source.origin().to_path_buf(),
            names: unused,
        });
    }
    let stats = source.stats();
    timings.to_device_ms = ms(placing);
    timings.assign_ms = ms(t.elapsed() - placing);

    let t = Instant::now();
    let model = skeleton.finish()?;
    timings.buffers_ms = ms(t.elapsed());

    Ok(LoadedModel {
        model,
        architecture: architecture.name(),
        backend,
        timings,
        stats,
        checkpoint_bytes: source.data_bytes(),
    })
}
