//! `--timings`: how much of the mapped checkpoint the kernel maps with 2 MiB pages.
//!
//! Decode streams every weight once per token and runs about 12% faster through 2 MiB
//! pages than through 4 KiB ones (docs/design.md). Whether it gets them depends on how the
//! file sits in the page cache, which nothing else shows, so the timings say it, from
//! `/proc/self/smaps` (Linux only).

use std::path::Path;

/// Resident bytes of the maps of the checkpoint's files, and how many are in 2 MiB pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappedPages {
    pub resident_bytes: u64,
    pub huge_bytes: u64,
}

impl MappedPages {
    /// Of the maps of files at or under `model`; `None` when there are none (a GGUF
    /// dequantized into memory, `--no-mmap`, or another OS).
    pub fn of_model(model: &Path) -> Option<Self> {
        let model = model.canonicalize().ok()?;
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        Self::from_smaps(&smaps, &model)
    }

    fn from_smaps(smaps: &str, model: &Path) -> Option<Self> {
        let (mut totals, mut found, mut inside) = (Self::zero(), false, false);
        for line in smaps.lines() {
            if let Some(path) = map_header(line) {
                inside = path.starts_with('/') && Path::new(path).starts_with(model);
                found |= inside;
            } else if inside {
                let kb = |key: &str| -> Option<u64> {
                    line.strip_prefix(key)?
                        .trim()
                        .strip_suffix("kB")?
                        .trim()
                        .parse()
                        .ok()
                };
                if let Some(v) = kb("Rss:") {
                    totals.resident_bytes += v * 1024;
                } else if let Some(v) = kb("FilePmdMapped:") {
                    totals.huge_bytes += v * 1024;
                }
            }
        }
        found.then_some(totals)
    }

    fn zero() -> Self {
        Self {
            resident_bytes: 0,
            huge_bytes: 0,
        }
    }

    /// The `--timings` line.
    pub fn line(&self) -> String {
        let mb = |b: u64| b as f64 / 1e6;
        let mut line = format!(
            "  2 MiB pages    {:>7.0} of {:.0} MB of the mapped checkpoint",
            mb(self.huge_bytes),
            mb(self.resident_bytes)
        );
        if self.huge_bytes * 2 < self.resident_bytes {
            line.push_str(
                " (the page cache holds the file in small pages; `dd if=FILE iflag=nocache \
                 count=0` drops them, and the next load reads 2 MiB pages)",
            );
        }
        line
    }
}

/// The path of an smaps map header (`start-end perms offset dev inode path`; empty for an
/// anonymous map), `None` for the other lines.
fn map_header(line: &str) -> Option<&str> {
    let mut fields = line.splitn(6, ' ');
    let range = fields.next()?;
    let (start, end) = range.split_once('-')?;
    if !start
        .chars()
        .chain(end.chars())
        .all(|c| c.is_ascii_hexdigit())
    {
        return None;
    }
    Some(fields.nth(4).map_or("", str::trim))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_maps_of_files_under_the_model_only() {
        let smaps = "\
7f0000000000-7f0010000000 r--s 00000000 fd:01 1234                       /m/model.safetensors
Size:             262144 kB
Rss:              200000 kB
FilePmdMapped:    196608 kB
VmFlags: rd mr me ms hg
7f0010000000-7f0010100000 rw-p 00000000 00:00 0 
Rss:                1024 kB
FilePmdMapped:         0 kB
7f0020000000-7f0020100000 r--p 00000000 fd:01 99                         /usr/lib/libc.so.6
Rss:                 900 kB
FilePmdMapped:         0 kB
7f0030000000-7f0031000000 r--s 00000000 fd:01 1235                       /m/shard 2.safetensors
Rss:                4096 kB
FilePmdMapped:      2048 kB
";
        let pages = MappedPages::from_smaps(smaps, Path::new("/m")).unwrap();
        assert_eq!(pages.resident_bytes, (200_000 + 4096) * 1024);
        assert_eq!(pages.huge_bytes, (196_608 + 2048) * 1024);
        assert!(!pages.line().contains("small pages"));
        assert!(MappedPages::from_smaps(smaps, Path::new("/elsewhere")).is_none());
        let small = MappedPages {
            resident_bytes: 100 << 20,
            huge_bytes: 0,
        };
        assert!(small.line().contains("iflag=nocache"));
    }
}
