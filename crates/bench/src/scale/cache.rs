//! Putting a checkpoint's files in or out of the page cache before a load, and checking
//! that it worked: a "cold" load is only cold if the kernel really dropped the pages.

use crate::fixture::drop_from_page_cache;
use anyhow::{Context, bail};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Whether the checkpoint's pages are cached when a load starts.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum CacheState {
    /// Dropped with `posix_fadvise(DONTNEED)` right before the child starts: the load reads
    /// from disk.
    Cold,
    /// Read once beforehand: the load measures the loader, not the disk.
    Warm,
}

impl CacheState {
    pub fn name(self) -> &'static str {
        match self {
            CacheState::Cold => "cold",
            CacheState::Warm => "warm",
        }
    }

    /// Brings `files` into this state; returns the fraction of their pages resident
    /// afterwards, as `mincore` reports it.
    pub fn prepare(self, files: &[PathBuf]) -> anyhow::Result<f64> {
        match self {
            CacheState::Cold => files.iter().try_for_each(|f| drop_from_page_cache(f))?,
            CacheState::Warm => {
                // Reading 6 GB from the cache costs a second; skip it when nothing is missing.
                if resident_fraction(files)? < 1.0 {
                    files.iter().try_for_each(|f| read_through(f))?;
                }
            }
        }
        resident_fraction(files)
    }
}

/// Reads `file` through a small buffer, so its pages land in the cache without the parent
/// holding a copy (a 6 GB `fs::read` would).
fn read_through(file: &Path) -> anyhow::Result<()> {
    let mut handle =
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let mut buf = vec![0u8; 16 << 20];
    while handle.read(&mut buf)? > 0 {}
    Ok(())
}

/// The fraction of the pages of `files` that are in the page cache (1.0 for no pages).
pub fn resident_fraction(files: &[PathBuf]) -> anyhow::Result<f64> {
    let (mut resident, mut total) = (0usize, 0usize);
    for file in files {
        let (r, t) = resident_pages(file)?;
        resident += r;
        total += t;
    }
    Ok(if total == 0 {
        1.0
    } else {
        resident as f64 / total as f64
    })
}

/// `mincore` over a fresh map of `file`: mapping faults nothing in, so this only looks.
fn resident_pages(file: &Path) -> anyhow::Result<(usize, usize)> {
    let map = crate::fixture::map_file(file)?;
    if map.is_empty() {
        return Ok((0, 0));
    }
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let pages = map.len().div_ceil(page);
    let mut status = vec![0u8; pages];
    // SAFETY: the range is our own live mapping and `status` has one byte per page of it.
    let rc = unsafe {
        libc::mincore(
            map.as_ptr() as *mut libc::c_void,
            map.len(),
            status.as_mut_ptr(),
        )
    };
    if rc != 0 {
        bail!(
            "mincore on {}: {}",
            file.display(),
            std::io::Error::last_os_error()
        );
    }
    Ok((status.iter().filter(|&&s| s & 1 == 1).count(), pages))
}
