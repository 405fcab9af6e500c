//! `flint inspect`: a checkpoint's tensors from its headers alone.

use crate::checkpoint::Checkpoint;
use flint_core::LoadError;
use std::path::Path;

#[derive(Debug, Clone, serde::Serialize)]
pub struct TensorSummary {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<usize>,
    pub bytes: usize,
    pub file: String,
}

/// Lists every tensor, sorted by name. Touches only the header pages of each file.
pub fn inspect(path: &Path) -> Result<Vec<TensorSummary>, LoadError> {
    let checkpoint = Checkpoint::open(path)?;
    Ok(checkpoint
        .tensors
        .iter()
        .map(|(name, (file, entry))| TensorSummary {
            name: name.clone(),
            dtype: format!("{:?}", entry.dtype),
            shape: entry.shape.clone(),
            bytes: entry.range.len(),
            file: checkpoint.files[*file]
                .file
                .path()
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
        })
        .collect())
}
