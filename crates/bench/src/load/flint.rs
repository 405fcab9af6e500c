//! `flint-flex`, `flint-flex-no-mmap`, `flint-ndarray`: flint's own loader
//! (`flint_loader::load_model`).

use flint_core::{Backend, CausalLm};
use flint_loader::ReadMode;
use std::path::Path;

/// The loaded model, a note, and the bytes its parameters hold (zero-copy views of the file
/// plus owned copies, as the loader counted them).
pub fn load(
    path: &Path,
    backend: Backend,
    mode: ReadMode,
) -> anyhow::Result<(Box<dyn CausalLm>, String, u64)> {
    flint_loader::set_read_mode(mode);
    let loaded = flint_loader::load_model(path, backend)?;
    let (s, t) = (loaded.stats, &loaded.timings);
    let note = format!(
        "zero-copy {} MB, copied {} MB; ms: config {:.0}, open+map {:.0}, headers {:.0}, \
         build {:.0}, assign {:.0}, to device {:.0}, buffers {:.0}",
        s.zero_copy_bytes / 1_000_000,
        s.copied_bytes / 1_000_000,
        t.config_ms,
        t.open_map_ms,
        t.header_ms,
        t.build_ms,
        t.assign_ms,
        t.to_device_ms,
        t.buffers_ms
    );
    let bytes = (s.zero_copy_bytes + s.copied_bytes) as u64;
    Ok((loaded.model, note, bytes))
}
