//! A model directory's weights: one `model.safetensors`, or the shards named by
//! `model.safetensors.index.json`, each mapped exactly once.

use crate::safetensors_file::{SafetensorsFile, TensorEntry};
use crate::timings::OpenTimes;
use flint_core::LoadError;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const SINGLE_FILE: &str = "model.safetensors";
pub const INDEX_FILE: &str = "model.safetensors.index.json";

/// Every tensor of a checkpoint, by name, with the file that holds it.
pub struct Checkpoint {
    pub files: Vec<SafetensorsFile>,
    /// Tensor name to (index into `files`, entry).
    pub tensors: BTreeMap<String, (usize, TensorEntry)>,
    /// What to name in errors about the checkpoint as a whole.
    pub origin: PathBuf,
    /// Mapping and header parsing, over all files (the index counts as a header).
    pub open_times: OpenTimes,
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
        let open_times = file.open_times;
        let tensors = file
            .tensors
            .iter()
            .map(|(name, entry)| (name.clone(), (0, entry.clone())))
            .collect();
        Ok(Self {
            files: vec![file],
            tensors,
            origin: path.to_path_buf(),
            open_times,
        })
    }

    fn sharded(index_path: &Path) -> Result<Self, LoadError> {
        let start = Instant::now();
        let text = std::fs::read(index_path).map_err(|e| LoadError::io(index_path, e))?;
        let index = ShardIndex::parse(index_path, &text)?;
        let mut open_times = OpenTimes {
            map: Duration::ZERO,
            header: start.elapsed(),
        };
        let dir = index_path.parent().unwrap_or(Path::new("."));
        // Map each shard once, whatever the number of tensors naming it.
        let mut files = Vec::with_capacity(index.shards.len());
        for shard in &index.shards {
            let path = dir.join(shard);
            if !path.is_file() {
                let message = format!("shard listed in {INDEX_FILE} is missing");
                let kind = std::io::ErrorKind::NotFound;
                return Err(LoadError::io(path, std::io::Error::new(kind, message)));
            }
            let file = SafetensorsFile::open(&path)?;
            open_times = open_times + file.open_times;
            files.push(file);
        }
        let headers: Vec<(&Path, &BTreeMap<String, TensorEntry>)> =
            files.iter().map(|f| (f.file.path(), &f.tensors)).collect();
        let matching = Instant::now();
        let tensors = index.match_headers(&headers)?;
        open_times.header += matching.elapsed();
        Ok(Self {
            files,
            tensors,
            origin: index_path.to_path_buf(),
            open_times,
        })
    }

    /// Total bytes of tensor data.
    pub fn data_bytes(&self) -> usize {
        self.tensors.values().map(|(_, e)| e.range.len()).sum()
    }
}

/// `model.safetensors.index.json`: the shard that holds each tensor.
#[derive(Debug)]
pub struct ShardIndex {
    path: PathBuf,
    weight_map: BTreeMap<String, String>,
    /// Every shard file named, sorted, each once.
    pub shards: Vec<String>,
}

impl ShardIndex {
    /// Parses the index at `path` (whose bytes are `text`). Shard names must be plain file
    /// names: an index must not reach outside its directory.
    pub fn parse(path: &Path, text: &[u8]) -> Result<Self, LoadError> {
        #[derive(Deserialize)]
        struct Raw {
            weight_map: BTreeMap<String, String>,
        }
        let raw: Raw = serde_json::from_slice(text).map_err(|e| LoadError::Json {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut shards: Vec<String> = raw.weight_map.values().cloned().collect();
        shards.sort();
        shards.dedup();
        for shard in &shards {
            if shard.is_empty()
                || shard.contains('/')
                || shard.contains('\\')
                || shard.contains("..")
                || shard.contains('\0')
            {
                return Err(LoadError::Header {
                    path: path.to_path_buf(),
                    message: format!("shard name {shard:?} must be a file in the same directory"),
                });
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            weight_map: raw.weight_map,
            shards,
        })
    }

    /// Checks that the index and the shard headers agree exactly (each tensor listed is in
    /// its shard, each shard's tensor is listed there) and returns every tensor with the
    /// position of its shard. `headers[i]` is the parsed header of `self.shards[i]`.
    pub fn match_headers(
        &self,
        headers: &[(&Path, &BTreeMap<String, TensorEntry>)],
    ) -> Result<BTreeMap<String, (usize, TensorEntry)>, LoadError> {
        if headers.len() != self.shards.len() {
            return Err(LoadError::Other {
                message: format!(
                    "{}: {} shards named, {} headers given",
                    self.path.display(),
                    self.shards.len(),
                    headers.len()
                ),
            });
        }
        let file_of: HashMap<&str, usize> = self
            .shards
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        let mut tensors = BTreeMap::new();
        for (name, shard) in &self.weight_map {
            let i = file_of[shard.as_str()];
            let (path, header) = headers[i];
            let Some(entry) = header.get(name) else {
                return Err(LoadError::Tensor {
                    path: path.to_path_buf(),
                    tensor: name.clone(),
                    message: format!("listed in {INDEX_FILE} but absent from this shard"),
                });
            };
            tensors.insert(name.clone(), (i, entry.clone()));
        }
        for (i, (path, header)) in headers.iter().enumerate() {
            for name in header.keys() {
                if self.weight_map.get(name).map(|s| file_of[s.as_str()]) != Some(i) {
                    return Err(LoadError::Tensor {
                        path: path.to_path_buf(),
                        tensor: name.clone(),
                        message: format!(
                            "present in this shard but {INDEX_FILE} does not map it here"
                        ),
                    });
                }
            }
        }
        Ok(tensors)
    }
}
