//! Where the benchmark's model and prompts live, and the facts about them every table needs.

use anyhow::{Context, bail};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Clone)]
pub struct FixtureArgs {
    /// Directory holding `hf-bf16/` and `hf-f32/` (SmolLM2-135M as built by the fixture script).
    #[arg(long, default_value_os_t = default_root())]
    pub models: PathBuf,
    /// The prompts file shared with the numpy reference.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/prompts.json"))]
    pub prompts: PathBuf,
}

/// The fixture directory the tests use (`$FLINT_CACHE`, else `~/.cache/flint`).
fn default_root() -> PathBuf {
    flint_tests::cache_dir().join("smollm2")
}

impl FixtureArgs {
    pub fn bf16_dir(&self) -> PathBuf {
        self.models.join("hf-bf16")
    }
    pub fn f32_dir(&self) -> PathBuf {
        self.models.join("hf-f32")
    }

    /// The text of prompt `name` in the prompts file.
    pub fn prompt(&self, name: &str) -> anyhow::Result<String> {
        let text = std::fs::read_to_string(&self.prompts)
            .with_context(|| format!("reading {}", self.prompts.display()))?;
        let cases: serde_json::Value = serde_json::from_str(&text)?;
        let found = cases.as_array().and_then(|cases| {
            cases
                .iter()
                .find(|c| c["name"] == name)
                .and_then(|c| c["prompt"].as_str())
        });
        match found {
            Some(p) => Ok(p.to_string()),
            None => bail!("no plain prompt named {name} in {}", self.prompts.display()),
        }
    }
}

/// What a safetensors file holds, read from its header.
pub struct FileFacts {
    /// Byte range of the tensor data (everything after the header).
    pub data: std::ops::Range<usize>,
    /// Parameter count times 4: the size of the model once every weight is f32.
    pub f32_bytes: usize,
    /// The largest single tensor, in f32.
    pub largest_f32_bytes: usize,
}

impl FileFacts {
    pub fn read(file: &Path) -> anyhow::Result<Self> {
        let bytes = map_file(file)?;
        let (header_len, meta) = safetensors::SafeTensors::read_metadata(&bytes[..])
            .with_context(|| format!("parsing the header of {}", file.display()))?;
        let sizes: Vec<usize> = meta
            .tensors()
            .values()
            .map(|t| t.shape.iter().product::<usize>())
            .collect();
        Ok(Self {
            data: 8 + header_len..bytes.len(),
            f32_bytes: sizes.iter().sum::<usize>() * 4,
            largest_f32_bytes: sizes.iter().max().copied().unwrap_or(0) * 4,
        })
    }
}

/// Reads `file` once so every later load finds it in the page cache.
pub fn warm_page_cache(file: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    std::hint::black_box(&bytes);
    Ok(())
}

/// Puts `file` in the page cache as 2 MiB folios, the way a first flint load from disk
/// leaves it: drops its cached pages (`posix_fadvise(DONTNEED)`, after which only pages
/// other processes map stay), then faults it back in through a map advised
/// `MADV_HUGEPAGE`, as flint's loader maps checkpoints. A file read with `read()` or just
/// written is cached in smaller folios, which flint can only map with 4 KiB pages, and
/// decode speed differs by about 12% between the two (docs/design.md).
pub fn cache_in_huge_pages(file: &Path) -> anyhow::Result<()> {
    drop_from_page_cache(file)?;
    let map = map_file(file)?;
    map.advise(memmap2::Advice::HugePage)
        .with_context(|| format!("madvise(MADV_HUGEPAGE) on {}", file.display()))?;
    let touched: u64 = map.iter().step_by(4096).map(|&b| b as u64).sum();
    std::hint::black_box(touched);
    Ok(())
}

/// Asks the kernel to drop `file`'s cached pages. Only clean pages that no process maps
/// go: a file just written must be fsynced first, and the caller must hold no map of it
/// (the scale generator fsyncs; the parent maps nothing while children load).
pub fn drop_from_page_cache(file: &Path) -> anyhow::Result<()> {
    let handle =
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    // SAFETY: a plain syscall on a descriptor we own; it returns an errno, not -1.
    let rc = unsafe { libc::posix_fadvise(handle.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    if rc != 0 {
        bail!(
            "posix_fadvise(DONTNEED) on {}: {}",
            file.display(),
            std::io::Error::from_raw_os_error(rc)
        );
    }
    Ok(())
}

/// A read-only map of `file`.
pub fn map_file(file: &Path) -> anyhow::Result<memmap2::Mmap> {
    let handle =
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    // SAFETY: read-only map of a fixture nobody truncates while the benchmark runs.
    let map = unsafe { memmap2::Mmap::map(&handle) }
        .with_context(|| format!("mapping {}", file.display()))?;
    Ok(map)
}
