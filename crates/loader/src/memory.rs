//! Refusing a model that cannot fit before anything is allocated for it: a config (or a
//! GGUF's metadata) of absurd sizes must give an error that says how much it would need, not
//! an out-of-memory kill halfway through a load.

use flint_core::{Architecture, LoadError};
use std::path::Path;

/// Bytes per parameter once loaded: the CPU backends compute in f32.
const BYTES_PER_PARAMETER: u64 = 4;

/// Checks that the parameters `config` describes fit in the memory available now.
/// The KV cache and the RoPE tables grow with the context, so they are not counted.
pub fn check_fits(
    architecture: &dyn Architecture,
    config: &serde_json::Value,
    config_path: &Path,
) -> Result<(), LoadError> {
    let parameters = architecture.parameter_count(config, config_path)?;
    let needed = parameters.saturating_mul(BYTES_PER_PARAMETER);
    match available_bytes() {
        Some(available) if needed > available => Err(LoadError::TooLarge {
            path: config_path.to_path_buf(),
            message: format!(
                "{} parameters need {} as f32, but only {} of memory is available",
                parameters,
                human(needed),
                human(available)
            ),
        }),
        _ => Ok(()),
    }
}

/// `MemAvailable + SwapFree` from `/proc/meminfo` (what can be had without killing
/// anything); `None` where the platform does not say, and the check is then skipped.
pub fn available_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib.saturating_mul(1024))
    };
    Some(field("MemAvailable:")?.saturating_add(field("SwapFree:").unwrap_or(0)))
}

/// `12.3 GiB`-style sizes for messages.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_a_person_would() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(3 << 30), "3.0 GiB");
        assert_eq!(human(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn this_machine_reports_its_memory() {
        let available = available_bytes().expect("Linux has /proc/meminfo");
        assert!(available > 1 << 20, "{available}");
    }
}
