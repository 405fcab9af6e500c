//! flint-gguf's errors as [`LoadError`]s naming the file and the key or tensor at fault.

use flint_core::LoadError;
use flint_gguf::{ErrorKind, GgufError};
use std::path::Path;

/// Converts a reader error about the file at `path`.
pub fn load_error(path: &Path, err: GgufError) -> LoadError {
    let path = path.to_path_buf();
    match err.kind() {
        ErrorKind::Io(e) => LoadError::Io {
            path,
            error: std::io::Error::new(e.kind(), e.to_string()),
        },
        kind @ ErrorKind::Truncated { .. } => LoadError::Truncated {
            path,
            message: strip_truncated(&kind.to_string()),
        },
        // A count the bytes left cannot hold, or a tensor's data reaching past the end: a
        // cut-off file, too.
        kind @ (ErrorKind::TensorOutOfRange { .. } | ErrorKind::TooLarge { .. }) => {
            LoadError::Truncated {
                path,
                message: kind.to_string(),
            }
        }
        ErrorKind::MissingKey { key } => LoadError::config(path, key, "missing GGUF metadata key"),
        kind @ ErrorKind::WrongType { key, .. } => LoadError::config(path, key, kind.to_string()),
        ErrorKind::Dequant { tensor, source } => LoadError::Tensor {
            path,
            tensor: tensor.clone(),
            message: source.to_string(),
        },
        kind => LoadError::Header {
            path,
            message: format!("invalid GGUF file: {kind}"),
        },
    }
}

/// `LoadError::Truncated` already says "truncated: ".
fn strip_truncated(message: &str) -> String {
    message
        .strip_prefix("truncated: ")
        .unwrap_or(message)
        .to_string()
}
