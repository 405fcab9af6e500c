//! One error type for everything that can go wrong between a path on disk and a ready model.
//! Every variant names the file and, where there is one, the tensor or key at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The OS error is part of the message, not a `source`: printed as a chain
    /// (`{:#}`), it would otherwise appear twice.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: malformed JSON: {message}")]
    Json { path: PathBuf, message: String },
    #[error("{path}: invalid config key `{key}`: {message}")]
    Config {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error(
        "{path}: unknown architecture (model_type {model_type:?}, architectures {architectures:?}); registered: {known}"
    )]
    UnknownArchitecture {
        path: PathBuf,
        model_type: Option<String>,
        architectures: Vec<String>,
        known: String,
    },
    #[error("{path}: {message}")]
    Header { path: PathBuf, message: String },
    #[error("{path}: truncated: {message}")]
    Truncated { path: PathBuf, message: String },
    #[error("{path}: tensor `{tensor}`: {message}")]
    Tensor {
        path: PathBuf,
        tensor: String,
        message: String,
    },
    #[error("{path}: tensor `{tensor}` has shape {found:?}, the model expects {expected:?}")]
    ShapeMismatch {
        path: PathBuf,
        tensor: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("{path}: tensor `{tensor}` has dtype {found}, supported: {supported}")]
    DtypeMismatch {
        path: PathBuf,
        tensor: String,
        found: String,
        supported: String,
    },
    #[error("{path}: missing tensors the model needs: {}", names.join(", "))]
    MissingTensors { path: PathBuf, names: Vec<String> },
    #[error("{path}: unexpected tensors the model does not use: {}", names.join(", "))]
    UnexpectedTensors { path: PathBuf, names: Vec<String> },
    /// The model cannot fit in the memory available (refused before allocating).
    #[error("{path}: model too large: {message}")]
    TooLarge { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Tokenizer { path: PathBuf, message: String },
    #[error("{message}")]
    Other { message: String },
}

impl LoadError {
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error,
        }
    }

    pub fn config(path: impl Into<PathBuf>, key: &str, message: impl Into<String>) -> Self {
        Self::Config {
            path: path.into(),
            key: key.to_string(),
            message: message.into(),
        }
    }
}
