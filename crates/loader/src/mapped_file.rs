//! A read-only memory map of a checkpoint file (or, in copy mode, the file read into memory),
//! shareable as zero-copy `bytes::Bytes`.

use crate::huge_pages;
use flint_core::LoadError;
use memmap2::{Mmap, MmapMut, UncheckedAdvice};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// How checkpoint files are brought into memory.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ReadMode {
    /// Map read-only (fast, shared with the page cache; a file truncated meanwhile raises
    /// SIGBUS on access).
    #[default]
    Map,
    /// Read the whole file into an owned buffer (one sequential read): what happens to the
    /// file afterwards cannot affect the process. `--no-mmap`.
    Copy,
}

static COPY_MODE: AtomicBool = AtomicBool::new(false);

/// Sets how every later load brings files into memory (the CLI's `--no-mmap`).
pub fn set_read_mode(mode: ReadMode) {
    COPY_MODE.store(mode == ReadMode::Copy, Ordering::Relaxed);
}

fn read_mode() -> ReadMode {
    if COPY_MODE.load(Ordering::Relaxed) {
        ReadMode::Copy
    } else {
        ReadMode::Map
    }
}

/// A mapped (or read) file. Slices of it can outlive the loader (burn-flex tensors keep
/// pointing into it), so the bytes are reference-counted and freed when the last slice goes.
#[derive(Clone)]
pub struct MappedFile {
    path: PathBuf,
    map: Arc<Storage>,
    /// Length and modification time when mapped, to notice a file rewritten under us.
    stamp: Stamp,
}

enum Storage {
    /// The file mapped read-only.
    Map(Mmap),
    /// The file read into anonymous memory (`--no-mmap`): its first `usize` bytes.
    Read(Mmap, usize),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Stamp {
    fn of(metadata: &std::fs::Metadata) -> Self {
        Self {
            len: metadata.len(),
            modified: metadata.modified().ok(),
        }
    }
}

struct SharedMap(Arc<Storage>);

impl AsRef<[u8]> for SharedMap {
    fn as_ref(&self) -> &[u8] {
        self.0.bytes()
    }
}

impl Storage {
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Map(map) => map,
            Storage::Read(memory, len) => &memory[..*len],
        }
    }
}

impl AsRef<[u8]> for MappedFile {
    fn as_ref(&self) -> &[u8] {
        self.bytes()
    }
}

impl MappedFile {
    /// Maps `path`, or reads it under [`ReadMode::Copy`].
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        Self::open_with(path, read_mode())
    }

    pub fn open_with(path: &Path, mode: ReadMode) -> Result<Self, LoadError> {
        let mut file = File::open(path).map_err(|e| LoadError::io(path, e))?;
        let metadata = file.metadata().map_err(|e| LoadError::io(path, e))?;
        if !metadata.is_file() {
            return Err(LoadError::io(
                path,
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"),
            ));
        }
        // SAFETY: the map is read-only. If another process truncates the file while it is
        // mapped, touching the lost pages raises SIGBUS; flint documents this (as llama.cpp
        // and safetensors do) rather than copying every checkpoint, and checks the file's
        // length and mtime after loading (`check_unchanged`) to catch a rewrite that did not
        // crash; `ReadMode::Copy` (`--no-mmap`) avoids the map. See docs/reliability.md.
        let map = match mode {
            ReadMode::Map => {
                let map = unsafe { Mmap::map(&file) }.map_err(|e| LoadError::io(path, e))?;
                huge_pages::advise(&map);
                Storage::Map(map)
            }
            ReadMode::Copy => {
                let len = metadata.len() as usize;
                let mut memory =
                    MmapMut::map_anon(len.max(1)).map_err(|e| LoadError::io(path, e))?;
                huge_pages::advise(&memory);
                file.read_exact(&mut memory[..len])
                    .map_err(|e| LoadError::io(path, e))?;
                let memory = memory
                    .make_read_only()
                    .map_err(|e| LoadError::io(path, e))?;
                Storage::Read(memory, len)
            }
        };
        let stamp = Stamp::of(&metadata);
        if map.bytes().len() as u64 != stamp.len {
            return Err(changed(path));
        }
        Ok(Self {
            path: path.to_path_buf(),
            map: Arc::new(map),
            stamp,
        })
    }

    /// Errs if the file at our path no longer has the length and modification time it had
    /// when mapped: it was rewritten or replaced while loading, so the values read may mix
    /// two versions of it.
    pub fn check_unchanged(&self) -> Result<(), LoadError> {
        let metadata = std::fs::metadata(&self.path).map_err(|e| LoadError::io(&self.path, e))?;
        if Stamp::of(&metadata) != self.stamp {
            return Err(changed(&self.path));
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn bytes(&self) -> &[u8] {
        self.map.bytes()
    }

    /// A zero-copy, reference-counted view of `range` that keeps the map alive.
    pub fn shared_slice(&self, range: std::ops::Range<usize>) -> bytes::Bytes {
        bytes::Bytes::from_owner(SharedMap(self.map.clone())).slice(range)
    }

    /// Tells the kernel the pages of `range` are no longer needed, so they stop counting
    /// in this process's resident memory once their contents were copied elsewhere.
    /// Only whole pages inside the range are released.
    pub fn release(&self, range: std::ops::Range<usize>) {
        let Storage::Map(map) = &*self.map else {
            return; // read memory is freed whole, with its last user
        };
        let page = page_size();
        let start = range.start.div_ceil(page) * page;
        let end = (range.end / page) * page;
        if end > start {
            // SAFETY: the map is read-only and file-backed; after DONTNEED a later read of
            // these pages faults them back in from the file, so no slice observes a change.
            let _ = unsafe {
                map.unchecked_advise_range(UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }
}

fn changed(path: &Path) -> LoadError {
    LoadError::Header {
        path: path.to_path_buf(),
        message: "the file changed while it was being loaded (rewritten, truncated or \
                  replaced); load it again once it is complete"
            .into(),
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as usize } else { 4096 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_rewritten_after_mapping_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        std::fs::write(&path, [1u8; 64]).unwrap();
        let mapped = MappedFile::open(&path).unwrap();
        assert!(mapped.check_unchanged().is_ok());

        // Same length, new contents: only the modification time tells.
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        file.set_modified(later).unwrap();
        let err = mapped.check_unchanged().unwrap_err().to_string();
        assert!(
            err.contains("w.safetensors") && err.contains("changed"),
            "{err}"
        );
    }

    #[test]
    fn copy_mode_reads_the_file_and_no_longer_depends_on_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let content: Vec<u8> = (0..=255).collect();
        std::fs::write(&path, &content).unwrap();
        let copied = MappedFile::open_with(&path, ReadMode::Copy).unwrap();
        // Truncating a mapped file would make these bytes raise SIGBUS; copied, they stay.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        assert_eq!(copied.bytes(), &content[..]);
        assert_eq!(copied.shared_slice(10..20).as_ref(), &content[10..20]);
        copied.release(0..256);
        assert!(copied.check_unchanged().is_err());
    }

    /// The `VmFlags` line of the mapping of `/proc/self/smaps` that holds `address`.
    #[cfg(target_os = "linux")]
    fn vm_flags_at(address: usize) -> String {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split(' ').next().unwrap_or("");
            if let Some((start, end)) = range.split_once('-')
                && let (Ok(start), Ok(end)) = (
                    usize::from_str_radix(start, 16),
                    usize::from_str_radix(end, 16),
                )
            {
                inside = (start..end).contains(&address);
            } else if inside && line.starts_with("VmFlags:") {
                return line.to_string();
            }
        }
        panic!("no mapping holds {address:#x}");
    }

    /// Both ways of holding a checkpoint ask for 2 MiB pages (`hg` is `MADV_HUGEPAGE`).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_map_and_the_read_buffer_are_advised_huge_pages() {
        if !Path::new("/sys/kernel/mm/transparent_hugepage").exists() {
            return; // a kernel without transparent huge pages refuses the advice
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        std::fs::write(&path, vec![7u8; 6 << 20]).unwrap();
        for mode in [ReadMode::Map, ReadMode::Copy] {
            let file = MappedFile::open_with(&path, mode).unwrap();
            let middle = file.bytes().as_ptr() as usize + (3 << 20);
            let flags = vm_flags_at(middle);
            assert!(
                flags.split_whitespace().any(|f| f == "hg"),
                "{mode:?}: {flags}"
            );
        }
    }

    #[test]
    fn a_directory_is_not_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let err = MappedFile::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }
}
