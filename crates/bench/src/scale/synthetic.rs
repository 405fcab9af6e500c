//! Synthetic bf16 checkpoints in Llama shapes, written once into the cache and reused.
//!
//! Values are deterministic (a splitmix64 stream per 64 Ki-element chunk, seeded by the
//! tensor's name and the chunk's index, so rayon may fill chunks in any order) and small
//! (uniform ±0.02, norms 1.0): two runs write byte-identical files and the forward pass
//! stays finite. A layout is written under a temporary name, fsynced (so
//! `POSIX_FADV_DONTNEED` can drop its clean pages later), given a marker recording every
//! file's size, then renamed: an interrupted generation is never mistaken for a finished one.

use super::shapes::{Fill, LlamaShape, TensorSpec};
use anyhow::{Context, bail};
use flint_loader::{INDEX_FILE, SINGLE_FILE};
use half::bf16;
use rayon::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bumped whenever the bytes written change, so older caches are regenerated.
const GENERATOR_VERSION: u64 = 1;
/// Written last, inside the layout's directory: its presence and content say the layout is
/// complete.
const MARKER: &str = "flint-synthetic.json";
/// Elements per independently seeded chunk.
const CHUNK: usize = 1 << 16;
/// Elements generated per write: bounds the generator's memory.
const BLOCK: usize = 1 << 24;
const SEED: u64 = 0x5EED_F11E_7B1A_0001;

/// How the tensors are split into files.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Layout {
    /// One `model.safetensors`.
    Single,
    /// `model-0000i-of-0000N.safetensors` shards plus `model.safetensors.index.json`.
    Sharded,
}

impl Layout {
    pub fn name(self) -> &'static str {
        match self {
            Layout::Single => "single",
            Layout::Sharded => "sharded",
        }
    }
}

/// The directory of `shape` in `layout` under `root`, generated first unless a complete one
/// is there already.
pub fn ensure(
    root: &Path,
    shape: &LlamaShape,
    layout: Layout,
    shard_bytes: usize,
) -> anyhow::Result<PathBuf> {
    let parent = root.join(shape.name);
    let dir = parent.join(layout.name());
    let marker = marker(shape, layout, shard_bytes);
    if is_complete(&dir, &marker) {
        return Ok(dir);
    }
    let tmp = parent.join(format!("{}.partial", layout.name()));
    for stale in [&tmp, &dir] {
        if stale.exists() {
            std::fs::remove_dir_all(stale)
                .with_context(|| format!("removing {}", stale.display()))?;
        }
    }
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    check_free_space(&tmp, shape)?;
    eprintln!("generating {} ({})...", dir.display(), layout.name());
    let start = std::time::Instant::now();

    let config = serde_json::to_string_pretty(&shape.config_json())?;
    write_synced(&tmp.join("config.json"), config.as_bytes())?;
    let groups = split(shape.tensors(), layout, shard_bytes);
    let mut sizes = BTreeMap::new();
    let mut weight_map = BTreeMap::new();
    let mut total = 0;
    for (name, tensors) in &groups {
        let (size, data) = write_safetensors(&tmp.join(name), tensors)?;
        sizes.insert(name.clone(), size);
        total += data;
        for t in tensors {
            weight_map.insert(t.name.clone(), name.clone());
        }
    }
    if layout == Layout::Sharded {
        let index = json!({ "metadata": { "total_size": total }, "weight_map": weight_map });
        write_synced(
            &tmp.join(INDEX_FILE),
            serde_json::to_string_pretty(&index)?.as_bytes(),
        )?;
    }
    let mut marker = marker;
    marker["files"] = json!(sizes);
    write_synced(&tmp.join(MARKER), marker.to_string().as_bytes())?;
    std::fs::rename(&tmp, &dir).with_context(|| format!("renaming {}", tmp.display()))?;
    File::open(&parent)?.sync_all()?;
    eprintln!(
        "  {} MB in {:.1} s",
        total / 1_000_000,
        start.elapsed().as_secs_f64()
    );
    Ok(dir)
}

/// What a complete layout's marker holds apart from its file sizes.
fn marker(shape: &LlamaShape, layout: Layout, shard_bytes: usize) -> serde_json::Value {
    json!({
        "generator_version": GENERATOR_VERSION,
        "layout": layout.name(),
        "shard_bytes": if layout == Layout::Sharded { shard_bytes } else { 0 },
        "config": shape.config_json(),
    })
}

/// The marker is there, says what we would write, and every file it lists has its size.
fn is_complete(dir: &Path, expected: &serde_json::Value) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join(MARKER)) else {
        return false;
    };
    let Ok(mut found) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    let Some(files) = found.as_object_mut().and_then(|m| m.remove("files")) else {
        return false;
    };
    let Some(files) = files.as_object() else {
        return false;
    };
    &found == expected
        && !files.is_empty()
        && files.iter().all(|(name, size)| {
            std::fs::metadata(dir.join(name)).is_ok_and(|m| Some(m.len()) == size.as_u64())
        })
}

/// File name and tensors of each file: everything in one, or greedy shards of at most
/// `shard_bytes` in module order (a larger tensor gets a shard of its own), as
/// transformers' `save_pretrained` splits them.
fn split(
    tensors: Vec<TensorSpec>,
    layout: Layout,
    shard_bytes: usize,
) -> Vec<(String, Vec<TensorSpec>)> {
    if layout == Layout::Single {
        return vec![(SINGLE_FILE.to_string(), tensors)];
    }
    let mut shards: Vec<Vec<TensorSpec>> = vec![Vec::new()];
    let mut size = 0;
    for t in tensors {
        let bytes = t.elements() * 2;
        let current = shards.last_mut().expect("one shard at least");
        if !current.is_empty() && size + bytes > shard_bytes {
            shards.push(Vec::new());
            size = 0;
        }
        size += bytes;
        shards.last_mut().expect("just pushed").push(t);
    }
    let n = shards.len();
    shards
        .into_iter()
        .enumerate()
        .map(|(i, s)| (format!("model-{:05}-of-{n:05}.safetensors", i + 1), s))
        .collect()
}

/// Writes one bf16 safetensors file with tensors laid out in name order (as the Python
/// writer does) and its header padded to 8 bytes, so every tensor starts 8-byte aligned.
/// Returns the file's size and its bytes of tensor data.
fn write_safetensors(path: &Path, tensors: &[TensorSpec]) -> anyhow::Result<(u64, usize)> {
    let mut order: Vec<&TensorSpec> = tensors.iter().collect();
    order.sort_by(|a, b| a.name.cmp(&b.name));
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), json!({ "format": "pt" }));
    let mut offset = 0;
    for t in &order {
        let end = offset + t.elements() * 2;
        header.insert(
            t.name.clone(),
            json!({ "dtype": "BF16", "shape": t.shape, "data_offsets": [offset, end] }),
        );
        offset = end;
    }
    let mut header = serde_json::to_vec(&header)?;
    while !header.len().is_multiple_of(8) {
        header.push(b' ');
    }
    let mut file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(&(header.len() as u64).to_le_bytes())?;
    file.write_all(&header)?;
    let mut block = vec![0u8; BLOCK.min(max_elements(tensors)) * 2];
    for t in &order {
        let seed = SEED ^ fnv1a(t.name.as_bytes());
        let n = t.elements();
        let mut start = 0;
        while start < n {
            let len = BLOCK.min(n - start);
            let bytes = &mut block[..len * 2];
            fill(bytes, t.fill, seed, start);
            file.write_all(bytes)
                .with_context(|| format!("writing {}", path.display()))?;
            start += len;
        }
    }
    file.sync_all()
        .with_context(|| format!("syncing {}", path.display()))?;
    let size = file.metadata()?.len();
    Ok((size, offset))
}

fn max_elements(tensors: &[TensorSpec]) -> usize {
    tensors.iter().map(TensorSpec::elements).max().unwrap_or(0)
}

/// Fills `bytes` with the bf16 values of elements `first..` of a tensor seeded by `seed`.
/// `first` is a multiple of `CHUNK`, so chunk `i` of the block is the tensor's chunk
/// `first / CHUNK + i` wherever the block boundaries fall.
fn fill(bytes: &mut [u8], fill: Fill, seed: u64, first: usize) {
    debug_assert!(first.is_multiple_of(CHUNK));
    bytes
        .par_chunks_mut(CHUNK * 2)
        .enumerate()
        .for_each(|(i, chunk)| {
            let mut state = seed ^ ((first / CHUNK + i) as u64).wrapping_mul(0xA24B_AED4_963E_E407);
            for pair in chunk.chunks_exact_mut(2) {
                let value = match fill {
                    Fill::Ones => 1.0,
                    Fill::Uniform => {
                        // 24 random bits to [0, 1), then to ±0.02.
                        let unit = (splitmix64(&mut state) >> 40) as f32 / (1u64 << 24) as f32;
                        (unit * 2.0 - 1.0) * 0.02
                    }
                };
                pair.copy_from_slice(&bf16::from_f32(value).to_le_bytes());
            }
        });
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable hash of a tensor name (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01B3)
    })
}

fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Refuses to start a generation the disk cannot hold, rather than filling it.
fn check_free_space(dir: &Path, shape: &LlamaShape) -> anyhow::Result<()> {
    let needed: usize = shape.tensors().iter().map(|t| t.elements() * 2).sum();
    let path = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())?;
    // SAFETY: statvfs only writes the struct it is given.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
        return Ok(()); // unknown: let the writes say
    }
    let free = stat.f_bavail as u64 * stat.f_frsize as u64;
    let margin = 1 << 30;
    if (needed as u64) + margin > free {
        bail!(
            "{}: {:.1} GB free, generating {} needs {:.1} GB",
            dir.display(),
            free as f64 / 1e9,
            shape.name,
            needed as f64 / 1e9
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_do_not_depend_on_block_boundaries() {
        let mut whole = vec![0u8; CHUNK * 2 * 3];
        fill(&mut whole, Fill::Uniform, 7, 0);
        let mut tail = vec![0u8; CHUNK * 2];
        fill(&mut tail, Fill::Uniform, 7, CHUNK * 2);
        assert_eq!(&whole[CHUNK * 4..], &tail[..]);
        let values: Vec<f32> = whole
            .chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect();
        // bf16 rounds 0.02 up by at most half an ulp (2^-14 there).
        assert!(values.iter().all(|v| v.abs() <= 0.0201 && v.is_finite()));
        assert!(values.iter().any(|&v| v != values[0]));
    }

    #[test]
    fn shards_respect_the_limit_and_keep_module_order() {
        let shape = super::super::shapes::LLAMA_1B;
        let shards = split(shape.tensors(), Layout::Sharded, 1_000_000_000);
        let names: Vec<String> = shards
            .iter()
            .flat_map(|(_, ts)| ts.iter().map(|t| t.name.clone()))
            .collect();
        let expected: Vec<String> = shape.tensors().into_iter().map(|t| t.name).collect();
        assert_eq!(names, expected);
        for (_, ts) in &shards {
            let bytes: usize = ts.iter().map(|t| t.elements() * 2).sum();
            assert!(ts.len() == 1 || bytes <= 1_000_000_000, "{bytes}");
        }
        assert!(shards[0].0.starts_with("model-00001-of-"));
    }
}
