//! `burn-store`: Burn's own `SafetensorsStore` loading into the same lazily built module.
//!
//! Without a cast, a bf16 file yields bf16 parameters and the f32 forward pass fails on the
//! dtype mismatch (`burn-store-nocast` shows it), so `burn-store` adds
//! `FloatCastAdapter::to(F32)`: every method then ends with f32 weights and the numbers
//! compare like for like.

use crate::llama_net;
use anyhow::anyhow;
use burn_store::{FloatCastAdapter, ModuleSnapshot, SafetensorsStore};
use flint_core::CausalLm;
use flint_core::burn::tensor::{DType, Device};
use std::path::Path;

pub fn load(
    file: &Path,
    device: &Device,
    cast_to_f32: bool,
) -> anyhow::Result<(Box<dyn CausalLm>, String)> {
    let (mut net, finisher) = llama_net::build(file, device)?;
    let mut store = SafetensorsStore::from_file(file);
    if cast_to_f32 {
        store = store.with_from_adapter(FloatCastAdapter::to(DType::F32));
    }
    let result = net
        .load_from(&mut store)
        .map_err(|e| anyhow!("burn-store: {e}"))?;
    let dtype = net.model.embed_tokens.weight.val().dtype();
    let note = format!(
        "{} tensors applied, {} unused; params {dtype:?}{}",
        result.applied.len(),
        result.unused.len(),
        if cast_to_f32 {
            " (FloatCastAdapter)"
        } else {
            " (no adapter)"
        }
    );
    Ok((finisher.finish(net), note))
}
