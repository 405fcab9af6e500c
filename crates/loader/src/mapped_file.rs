//! A read-only memory map of a checkpoint file, shareable as zero-copy `bytes::Bytes`.

use flint_core::LoadError;
use memmap2::{Mmap, UncheckedAdvice};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A mapped file. Slices of it can outlive the loader (burn-flex tensors keep pointing into
/// the map), so the map is reference-counted and unmapped when the last slice goes.
#[derive(Clone)]
pub struct MappedFile {
    path: PathBuf,
    map: Arc<Mmap>,
}

struct SharedMap(Arc<Mmap>);

impl AsRef<[u8]> for SharedMap {
    fn as_ref(&self) -> &[u8] {
        &self.0[..]
    }
}

/// The whole file, for parsers that take a byte owner (`flint_gguf::GgufFile::from_shared`).
impl AsRef<[u8]> for MappedFile {
    fn as_ref(&self) -> &[u8] {
        self.bytes()
    }
}

impl MappedFile {
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        let file = File::open(path).map_err(|e| LoadError::io(path, e))?;
        // SAFETY: the map is read-only. If another process truncates the file while it is
        // mapped, touching the lost pages raises SIGBUS; flint documents this (as llama.cpp
        // and safetensors do) rather than copying every checkpoint.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| LoadError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            map: Arc::new(map),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map[..]
    }

    /// A zero-copy, reference-counted view of `range` that keeps the map alive.
    pub fn shared_slice(&self, range: std::ops::Range<usize>) -> bytes::Bytes {
        bytes::Bytes::from_owner(SharedMap(self.map.clone())).slice(range)
    }

    /// Tells the kernel the pages of `range` are no longer needed, so they stop counting
    /// in this process's resident memory once their contents were copied elsewhere.
    /// Only whole pages inside the range are released.
    pub fn release(&self, range: std::ops::Range<usize>) {
        let page = page_size();
        let start = range.start.div_ceil(page) * page;
        let end = (range.end / page) * page;
        if end > start {
            // SAFETY: the map is read-only and file-backed; after DONTNEED a later read of
            // these pages faults them back in from the file, so no slice observes a change.
            let _ = unsafe {
                self.map
                    .unchecked_advise_range(UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as usize } else { 4096 }
}
