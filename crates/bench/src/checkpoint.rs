//! The safetensors files a checkpoint path stands for: a single file, or a directory holding
//! `model.safetensors` or the shards its `model.safetensors.index.json` names. The baselines
//! have no shard support of their own, so the bench resolves shards once, here, the way
//! flint's loader does.

use crate::fixture::FileFacts;
use anyhow::{Context, bail};
use flint_loader::{INDEX_FILE, SINGLE_FILE, ShardIndex};
use std::path::{Path, PathBuf};

/// Every safetensors file of the checkpoint at `path`, shards in index order.
pub fn files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let index = path.join(INDEX_FILE);
    if index.is_file() {
        let text = std::fs::read(&index).with_context(|| format!("reading {}", index.display()))?;
        let shards = ShardIndex::parse(&index, &text)?.shards;
        return Ok(shards.iter().map(|s| path.join(s)).collect());
    }
    let single = path.join(SINGLE_FILE);
    if single.is_file() {
        return Ok(vec![single]);
    }
    bail!("{}: no {SINGLE_FILE} or {INDEX_FILE}", path.display())
}

/// Sizes summed over every file of a checkpoint.
pub struct Facts {
    pub files: Vec<PathBuf>,
    /// Bytes of tensor data, as stored.
    pub data_bytes: usize,
    /// Parameter count times 4: the size of the model once every weight is f32.
    pub f32_bytes: usize,
    /// The largest single tensor in f32, for the memory estimates of copying loaders.
    pub largest_f32_bytes: usize,
}

impl Facts {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let files = files(path)?;
        let mut facts = Facts {
            files: Vec::new(),
            data_bytes: 0,
            f32_bytes: 0,
            largest_f32_bytes: 0,
        };
        for file in &files {
            let one = FileFacts::read(file)?;
            facts.data_bytes += one.data.len();
            facts.f32_bytes += one.f32_bytes;
            facts.largest_f32_bytes = facts.largest_f32_bytes.max(one.largest_f32_bytes);
        }
        facts.files = files;
        Ok(facts)
    }
}
