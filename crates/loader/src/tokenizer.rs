//! Text to token ids and back, from the model directory's `tokenizer.json` or a GGUF
//! file's tokenizer metadata.

use flint_core::LoadError;
use std::path::{Path, PathBuf};
use tokenizers::Tokenizer;

pub struct TextTokenizer {
    inner: Tokenizer,
    path: PathBuf,
}

impl TextTokenizer {
    /// The tokenizer of the model at `path`: a GGUF file's own (built from its metadata), or
    /// `tokenizer.json` of a model directory (or of the directory holding a checkpoint file).
    pub fn from_model_path(path: &Path) -> Result<Self, LoadError> {
        if crate::gguf::is_gguf(path) {
            return Self::from_gguf(&crate::gguf::GgufModel::open(path)?);
        }
        Self::from_dir(&crate::model_dir(path))
    }

    /// Builds the tokenizer a GGUF file describes (see [`crate::gguf::tokenizer`]).
    pub fn from_gguf(model: &crate::gguf::GgufModel) -> Result<Self, LoadError> {
        Ok(Self {
            inner: crate::gguf::tokenizer::build_tokenizer(model)?,
            path: model.path().to_path_buf(),
        })
    }

    pub fn from_dir(dir: &Path) -> Result<Self, LoadError> {
        let path = dir.join("tokenizer.json");
        if !path.is_file() {
            return Err(LoadError::io(
                &path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "tokenizer.json not found"),
            ));
        }
        let inner = Tokenizer::from_file(&path).map_err(|e| LoadError::Tokenizer {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(Self { inner, path })
    }

    /// Encodes `text`. `add_special_tokens` applies the tokenizer's own post-processor (a BOS
    /// for Llama 2 style tokenizers); chat prompts pass `false`, since the template already
    /// wrote every special token it wants.
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, LoadError> {
        self.inner
            .encode(text, add_special_tokens)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| LoadError::Tokenizer {
                path: self.path.clone(),
                message: e.to_string(),
            })
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String, LoadError> {
        self.inner
            .decode(ids, true)
            .map_err(|e| LoadError::Tokenizer {
                path: self.path.clone(),
                message: e.to_string(),
            })
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }
}
