//! Where a load's time goes, step by step (`flint generate --timings` prints it).

use std::time::Duration;

/// Time spent in each load step, in milliseconds.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct LoadTimings {
    /// Reading `config.json` (or synthesising it from GGUF metadata) and picking the
    /// architecture.
    pub config_ms: f64,
    /// Opening and mapping the file(s) (under `--no-mmap`: reading them).
    pub open_map_ms: f64,
    /// Parsing and validating the header(s) and, when sharded, the index.
    pub header_ms: f64,
    /// Building the module with lazy parameters (nothing allocated).
    pub build_ms: f64,
    /// Handing each tensor over: checks, and the one converting or dequantizing copy where
    /// the backend cannot use the mapped bytes.
    pub assign_ms: f64,
    /// Placing the tensors on the device: wrapping them on a CPU, uploading them (and
    /// waiting for the uploads) on a GPU.
    pub to_device_ms: f64,
    /// Computing the buffers no checkpoint holds (RoPE tables) and finishing the model.
    pub buffers_ms: f64,
    /// From the call to the ready model.
    pub total_ms: f64,
}

/// What opening one file cost, split between mapping (or reading) it and parsing its
/// header, summed over the files of a sharded checkpoint.
#[derive(Debug, Default, Clone, Copy)]
pub struct OpenTimes {
    pub map: Duration,
    pub header: Duration,
}

impl std::ops::Add for OpenTimes {
    type Output = OpenTimes;
    fn add(self, other: OpenTimes) -> OpenTimes {
        OpenTimes {
            map: self.map + other.map,
            header: self.header + other.header,
        }
    }
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
