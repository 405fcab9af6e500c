//! `burn-store`: Burn's own `SafetensorsStore` loading into the same lazily built module.
//!
//! Without a cast, a bf16 file yields bf16 parameters and the f32 forward pass fails on the
//! dtype mismatch (`burn-store-nocast` shows it), so `burn-store` adds
//! `FloatCastAdapter::to(F32)`: every method then ends with f32 weights and the numbers
//! compare like for like.
//!
//! `SafetensorsStore` reads one file and knows no `model.safetensors.index.json`; a sharded
//! checkpoint is applied shard by shard into the same module (`allow_partial`: each shard
//! leaves the others' parameters untouched and lazy), and a parameter that no shard filled
//! is an error, as a missing tensor is for a single file.

use crate::{checkpoint, llama_net};
use anyhow::{anyhow, bail};
use burn_store::{FloatCastAdapter, ModuleSnapshot, SafetensorsStore};
use flint_core::CausalLm;
use flint_core::burn::module::Module;
use flint_core::burn::tensor::{DType, Device};
use std::collections::BTreeSet;
use std::path::Path;

/// The loaded model, a note, and the bytes its parameters hold.
pub fn load(
    path: &Path,
    device: &Device,
    cast_to_f32: bool,
) -> anyhow::Result<(Box<dyn CausalLm>, String, u64)> {
    let (mut net, finisher) = llama_net::build(path, device)?;
    let files = checkpoint::files(path)?;
    let sharded = files.len() > 1;
    let (mut applied, mut unused) = (0, 0);
    // A path is missing only if every shard missed it.
    let mut missing: Option<BTreeSet<String>> = None;
    for file in &files {
        let mut store = SafetensorsStore::from_file(file).allow_partial(sharded);
        if cast_to_f32 {
            store = store.with_from_adapter(FloatCastAdapter::to(DType::F32));
        }
        let result = net
            .load_from(&mut store)
            .map_err(|e| anyhow!("burn-store: {e}"))?;
        applied += result.applied.len();
        unused += result.unused.len();
        let here: BTreeSet<String> = result.missing.into_iter().map(|(p, _)| p).collect();
        missing = Some(match missing {
            None => here,
            Some(before) => before.intersection(&here).cloned().collect(),
        });
    }
    if let Some(left) = missing.filter(|m| !m.is_empty()) {
        bail!("burn-store: no shard holds {left:?}");
    }
    let dtype = net.model.embed_tokens.weight.val().dtype();
    let bytes = net.num_params() as u64 * dtype.size() as u64;
    let note = format!(
        "{applied} tensors applied, {unused} unused{}; params {dtype:?}{}",
        if sharded {
            format!(", {} shards one by one", files.len())
        } else {
            String::new()
        },
        if cast_to_f32 {
            " (FloatCastAdapter)"
        } else {
            " (no adapter)"
        }
    );
    Ok((finisher.finish(net), note, bytes))
}
