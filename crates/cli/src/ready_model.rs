//! Everything a generating command needs from a model directory, opened once.

use crate::generation::Session;
use anyhow::Context;
use flint_core::Backend;
use flint_loader::{
    ChatMessage, ChatTemplate, GenerationDefaults, TextTokenizer, eos_token_ids, load_model,
    model_dir,
};
use std::path::{Path, PathBuf};

pub struct ReadyModel {
    pub session: Session,
    pub tokenizer: TextTokenizer,
    pub template: Option<ChatTemplate>,
    pub eos_ids: Vec<u32>,
    pub defaults: GenerationDefaults,
    pub load_ms: f64,
    dir: PathBuf,
}

impl ReadyModel {
    pub fn open(path: &Path, backend: Backend) -> anyhow::Result<Self> {
        let dir = model_dir(path);
        let loaded = load_model(path, backend)?;
        Ok(Self {
            session: Session::new(loaded.model),
            tokenizer: TextTokenizer::from_dir(&dir)?,
            template: ChatTemplate::from_dir(&dir)?,
            eos_ids: eos_token_ids(&dir)?,
            defaults: GenerationDefaults::from_dir(&dir)?,
            load_ms: loaded.timings.total_ms,
            dir,
        })
    }

    /// Token ids of a chat rendered with the model's template, ready for the assistant turn.
    pub fn chat_ids(&self, messages: &[ChatMessage]) -> anyhow::Result<Vec<u32>> {
        let template = self
            .template
            .as_ref()
            .with_context(|| format!("{}: the model has no chat_template", self.dir.display()))?;
        // The template writes every special token it wants; add none.
        Ok(self.tokenizer.encode(&template.render(messages)?, false)?)
    }
}
