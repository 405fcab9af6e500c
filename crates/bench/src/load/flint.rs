//! `flint-flex`, `flint-ndarray`: flint's own loader (`flint_loader::load_model`).

use flint_core::{Backend, CausalLm};
use std::path::Path;

pub fn load(file: &Path, backend: Backend) -> anyhow::Result<(Box<dyn CausalLm>, String)> {
    let loaded = flint_loader::load_model(file, backend)?;
    let s = loaded.stats;
    let note = format!(
        "zero-copy {} MB, copied {} MB",
        s.zero_copy_bytes / 1_000_000,
        s.copied_bytes / 1_000_000
    );
    Ok((loaded.model, note))
}
