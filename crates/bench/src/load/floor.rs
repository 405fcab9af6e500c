//! `floor-memcpy`: the least any loader that reads every weight must spend, one memcpy of
//! the checkpoint's tensor bytes out of the (warm) mapping.

use crate::checkpoint;
use crate::fixture::{FileFacts, map_file};
use std::path::Path;
use std::time::Instant;

pub struct Floor {
    /// The copy from a mapping whose pages are already mapped in: pure memory bandwidth.
    pub ms: f64,
    /// The same copy from the fresh mapping, paying its page faults (and, with a cold page
    /// cache, the disk reads), as a loader that maps the file in a new process does.
    pub fresh_map_ms: f64,
    pub bytes: usize,
}

/// Copies the tensor data of every file of the checkpoint at `path` (one file, or the
/// shards of a directory) twice into one buffer written beforehand (so the destination's
/// first-touch faults are never timed): once straight after mapping, once more now that the
/// mappings' page tables are filled. The second copy is the floor.
pub fn memcpy(path: &Path) -> anyhow::Result<Floor> {
    let mut sources = Vec::new();
    for file in checkpoint::files(path)? {
        let range = FileFacts::read(&file)?.data;
        sources.push((map_file(&file)?, range));
    }
    let total: usize = sources.iter().map(|(_, r)| r.len()).sum();
    let mut dest = vec![1u8; total];
    let mut timed_copy = || {
        let start = Instant::now();
        let mut at = 0;
        for (map, range) in &sources {
            dest[at..at + range.len()].copy_from_slice(&map[range.clone()]);
            at += range.len();
        }
        std::hint::black_box(&mut dest);
        start.elapsed().as_secs_f64() * 1e3
    };
    let fresh_map_ms = timed_copy();
    let ms = timed_copy();
    Ok(Floor {
        ms,
        fresh_map_ms,
        bytes: total,
    })
}
