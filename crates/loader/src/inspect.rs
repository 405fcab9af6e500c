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

/// Lists every tensor, sorted by name. Touches only the header pages of each file. For a
/// GGUF file the names are the file's own and the dtype is the ggml type (`Q4_1`, ...);
/// shapes are row-major (Hugging Face order) for both formats.
pub fn inspect(path: &Path) -> Result<Vec<TensorSummary>, LoadError> {
    if crate::gguf::is_gguf(path) {
        let model = crate::gguf::GgufModel::open(path)?;
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut tensors: Vec<TensorSummary> = model
            .file()
            .tensors()
            .iter()
            .map(|t| TensorSummary {
                name: t.name().to_string(),
                dtype: t.ggml_type().to_string(),
                shape: t.shape_row_major().iter().map(|&d| d as usize).collect(),
                bytes: t.n_bytes() as usize,
                file: file.clone(),
            })
            .collect();
        tensors.sort_by(|a, b| a.name.cmp(&b.name));
        return Ok(tensors);
    }
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
