//! Whether a load can run without pushing the machine out of memory: a 3B model is
//! ~12.9 GB in f32 and the copying baselines hold the file besides, so each method's need is
//! estimated from the checkpoint's sizes and checked against `MemAvailable` right before
//! its child starts. A method that would not fit is reported as skipped, not run.

use crate::checkpoint::Facts;
use crate::load::Method;

/// Kept free for the rest of the machine: a Burn build beside us peaks near 3 GB, and an
/// estimate that is a little short must not end in the OOM killer picking someone.
const HEADROOM: u64 = 3 << 30;
/// Stacks, the binary, the RoPE tables, activations of the first forward pass.
const OVERHEAD: u64 = 1 << 28;

/// Anonymous memory (not page cache, which the kernel can reclaim) `method` needs at its
/// peak on this checkpoint.
pub fn need(method: Method, facts: &Facts) -> u64 {
    let (file, f32_model, largest) = (
        facts.data_bytes as u64,
        facts.f32_bytes as u64,
        facts.largest_f32_bytes as u64,
    );
    OVERHEAD
        + match method {
            // The destination buffer.
            Method::FloorMemcpy => file,
            // One converted copy per tensor; the mapped pages are page cache.
            Method::FlintFlex | Method::FlintNdarray => f32_model,
            // The files read whole into owned buffers, held until the load ends.
            Method::FlintFlexNoMmap | Method::ReadThenCopy => file + f32_model,
            // A tensor's bytes are copied and cast on the way in (transient).
            Method::BurnStore | Method::BurnStoreNocast => f32_model + 2 * largest,
        }
}

/// `Some(reason)` when `method` should not run now.
pub fn refuse(method: Method, facts: &Facts) -> Option<String> {
    let need = need(method, facts);
    let available = flint_loader::available_bytes()?;
    (need + HEADROOM > available).then(|| {
        format!(
            "skipped (needs ~{:.1} GB + {:.1} GB kept free; {:.1} GB available)",
            need as f64 / 1e9,
            HEADROOM as f64 / 1e9,
            available as f64 / 1e9
        )
    })
}
