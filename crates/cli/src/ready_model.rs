//! Everything a generating command needs from a model (a directory, a checkpoint file in
//! one, or a GGUF file), opened once.

use crate::generation::Session;
use crate::progress::LoadBar;
use crate::timings::LoadReport;
use anyhow::Context;
use flint_core::Backend;
use flint_loader::gguf::{self, GgufModel};
use flint_loader::{
    ChatMessage, ChatTemplate, GenerationDefaults, LoadOptions, TextTokenizer, eos_token_ids,
    is_gguf, load_gguf, load_model_with,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub struct ReadyModel {
    pub session: Session,
    pub tokenizer: TextTokenizer,
    pub template: Option<ChatTemplate>,
    pub eos_ids: Vec<u32>,
    pub defaults: GenerationDefaults,
    pub load: LoadReport,
    path: PathBuf,
}

impl ReadyModel {
    /// Loads the model at `path`; `f32_weights` widens bf16 weights at load (`--dtype f32`).
    pub fn open(path: &Path, backend: Backend, f32_weights: bool) -> anyhow::Result<Self> {
        let bar = LoadBar::for_stderr();
        let options = LoadOptions {
            progress: Some(&bar),
            f32_weights,
        };
        if is_gguf(path) {
            return Self::open_gguf(path, backend, options);
        }
        let loaded = load_model_with(path, backend, options)?;
        Ok(Self {
            session: Session::new(loaded.model),
            tokenizer: TextTokenizer::from_model_path(path)?,
            template: ChatTemplate::from_model_path(path)?,
            eos_ids: eos_token_ids(path)?,
            defaults: GenerationDefaults::from_model_path(path)?,
            load: LoadReport {
                timings: loaded.timings,
                stats: loaded.stats,
            },
            path: path.to_path_buf(),
        })
    }

    /// A GGUF file holds the model, tokenizer and template: it is opened (and its header
    /// parsed) once for all of them.
    fn open_gguf(path: &Path, backend: Backend, options: LoadOptions) -> anyhow::Result<Self> {
        let start = Instant::now();
        let file = GgufModel::open(path)?;
        let mut loaded = load_gguf(&file, backend, options)?;
        loaded.timings.total_ms = start.elapsed().as_secs_f64() * 1e3;
        Ok(Self {
            session: Session::new(loaded.model),
            tokenizer: TextTokenizer::from_gguf(&file)?,
            template: ChatTemplate::from_gguf(&file)?,
            eos_ids: gguf::special_tokens::eos_token_ids(&file)?,
            defaults: GenerationDefaults::default(),
            load: LoadReport {
                timings: loaded.timings,
                stats: loaded.stats,
            },
            path: path.to_path_buf(),
        })
    }

    /// Milliseconds from the call to the ready model.
    pub fn load_ms(&self) -> f64 {
        self.load.timings.total_ms
    }

    /// Token ids of a chat rendered with the model's template, ready for the assistant turn.
    pub fn chat_ids(&self, messages: &[ChatMessage]) -> anyhow::Result<Vec<u32>> {
        let template = self
            .template
            .as_ref()
            .with_context(|| format!("{}: the model has no chat_template", self.path.display()))?;
        // The template writes every special token it wants; add none.
        Ok(self.tokenizer.encode(&template.render(messages)?, false)?)
    }
}
