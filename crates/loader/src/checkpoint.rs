//! A model directory's weights: one `model.safetensors`, or the shards named by
//! `model.safetensors.index.json`, each mapped exactly once.

use crate::safetensors_file::{SafetensorsFile, TensorEntry};
use flint_core::LoadError;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

pub const SINGLE_FILE: &str = "model.safetensors";
pub const INDEX_FILE: &str = "model.safetensors.index.json";

/// Every tensor of a checkpoint, by name, with the file that holds it.
pub struct Checkpoint {
    pub files: Vec<SafetensorsFile>,
    /// Tensor name to (index into `files`, entry).
    pub tensors: BTreeMap<String, (usize, TensorEntry)>,
    /// What to name in errors about the checkpoint as a whole.
    pub origin: PathBuf,
}

#[derive(Deserialize)]
struct ShardIndex {
    weight_map: BTreeMap<String, String>,
}

impl Checkpoint {
    /// Opens a checkpoint file, or a directory holding `model.safetensors` or a shard index.
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        if path.is_file() {
            return Self::single(path);
        }
        let index = path.join(INDEX_FILE);
        if index.is_file() {
            return Self::sharded(&index);
        }
        let single = path.join(SINGLE_FILE);
        if single.is_file() {
            return Self::single(&single);
        }
        Err(LoadError::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no {SINGLE_FILE} or {INDEX_FILE} in this directory"),
            ),
        ))
    }

    fn single(path: &Path) -> Result<Self, LoadError> {
        let file = SafetensorsFile::open(path)?;
        let tensors = file
            .tensors
            .iter()
            .map(|(name, entry)| (name.clone(), (0, entry.clone())))
            .collect();
        Ok(Self {
            files: vec![file],
            tensors,
            origin: path.to_path_buf(),
        })
    }

    fn sharded(index_path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(index_path).map_err(|e| LoadError::io(index_path, e))?;
        let index: ShardIndex = serde_json::from_str(&text).map_err(|e| LoadError::Json {
            path: index_path.to_path_buf(),
            message: e.to_string(),
        })?;
        let dir = index_path.parent().unwrap_or(Path::new("."));

        // Map each shard once, whatever the number of tensors naming it.
        let mut shard_names: Vec<&String> = index.weight_map.values().collect();
        shard_names.sort();
        shard_names.dedup();
        let mut files = Vec::with_capacity(shard_names.len());
        let mut file_of: HashMap<&str, usize> = HashMap::new();
        for shard in shard_names {
            if shard.contains('/') || shard.contains('\\') || shard.contains("..") {
                return Err(LoadError::Header {
                    path: index_path.to_path_buf(),
                    message: format!("shard name {shard:?} must be a file in the same directory"),
                });
            }
            file_of.insert(shard.as_str(), files.len());
            files.push(SafetensorsFile::open(&dir.join(shard))?);
        }

        // The index and the shard headers must agree exactly.
        let mut tensors = BTreeMap::new();
        for (name, shard) in &index.weight_map {
            let i = file_of[shard.as_str()];
            let Some(entry) = files[i].tensors.get(name) else {
                return Err(LoadError::Tensor {
                    path: files[i].file.path().to_path_buf(),
                    tensor: name.clone(),
                    message: format!("listed in {INDEX_FILE} but absent from this shard"),
                });
            };
            tensors.insert(name.clone(), (i, entry.clone()));
        }
        for file in &files {
            for name in file.tensors.keys() {
                let listed = index.weight_map.get(name).map(|s| file_of[s.as_str()]);
                if listed.map(|i| files[i].file.path()) != Some(file.file.path()) {
                    return Err(LoadError::Tensor {
                        path: file.file.path().to_path_buf(),
                        tensor: name.clone(),
                        message: format!(
                            "present in this shard but {INDEX_FILE} does not map it here"
                        ),
                    });
                }
            }
        }
        Ok(Self {
            files,
            tensors,
            origin: index_path.to_path_buf(),
        })
    }

    /// Total bytes of tensor data.
    pub fn data_bytes(&self) -> usize {
        self.tensors.values().map(|(_, e)| e.range.len()).sum()
    }
}
