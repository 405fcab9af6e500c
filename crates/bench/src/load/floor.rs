//! `floor-memcpy`: the least any loader that reads every weight must spend, one memcpy of
//! the file's tensor bytes out of the (warm) mapping.

use crate::fixture::{FileFacts, map_file};
use std::path::Path;
use std::time::Instant;

pub struct Floor {
    /// The copy from a mapping whose pages are already mapped in: pure memory bandwidth.
    pub ms: f64,
    /// The same copy from the fresh mapping, paying its page faults, as a loader that maps
    /// the file in a new process does.
    pub fresh_map_ms: f64,
    pub bytes: usize,
}

/// Copies the tensor data of `file` twice into a buffer written beforehand (so the
/// destination's first-touch faults are never timed): once straight after mapping, once
/// more now that the mapping's page tables are filled. The second copy is the floor.
pub fn memcpy(file: &Path) -> anyhow::Result<Floor> {
    let range = FileFacts::read(file)?.data;
    let map = map_file(file)?;
    let src = &map[range];
    let mut dest = vec![1u8; src.len()];
    let mut timed_copy = || {
        let start = Instant::now();
        dest.copy_from_slice(src);
        std::hint::black_box(&mut dest);
        start.elapsed().as_secs_f64() * 1e3
    };
    let fresh_map_ms = timed_copy();
    let ms = timed_copy();
    Ok(Floor {
        ms,
        fresh_map_ms,
        bytes: src.len(),
    })
}
