//! `--timings`: where the time of a run went, load step by load step, then the first token
//! and the decode, printed on stderr.

use crate::generation::Generated;
use flint_loader::{AssignStats, LoadTimings};
use serde::Serialize;

/// A load's timings with how its tensors were materialised.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    #[serde(flatten)]
    pub timings: LoadTimings,
    #[serde(skip)]
    pub stats: AssignStats,
}

impl LoadReport {
    /// The breakdown, one step a line.
    pub fn lines(&self) -> Vec<String> {
        let t = &self.timings;
        let s = &self.stats;
        let assigned = format!(
            "{} tensors: {} used in place ({:.0} MB), {} copied ({:.0} MB)",
            s.zero_copy + s.copied,
            s.zero_copy,
            s.zero_copy_bytes as f64 / 1e6,
            s.copied,
            s.copied_bytes as f64 / 1e6,
        );
        vec![
            step("config", t.config_ms, ""),
            step("open + map", t.open_map_ms, ""),
            step("header parse", t.header_ms, ""),
            step("build", t.build_ms, "lazy parameters, nothing allocated"),
            step("assign/convert", t.assign_ms, &assigned),
            step("to device", t.to_device_ms, ""),
            step("buffers", t.buffers_ms, "RoPE tables"),
            step("load total", t.total_ms, ""),
        ]
    }
}

/// The first token and the decode of one generation.
pub fn generation_lines(generated: &Generated) -> Vec<String> {
    let decoded = generated.tokens.len().saturating_sub(1);
    vec![
        step(
            "first token",
            generated.first_token_seconds * 1e3,
            &format!(
                "prefill of {} tokens at {:.1} tok/s, then sampling",
                generated.prefilled,
                generated.prefill_tokens_per_s()
            ),
        ),
        step(
            "decode",
            generated.decode_seconds * 1e3,
            &format!(
                "{decoded} tokens at {:.1} tok/s",
                generated.decode_tokens_per_s()
            ),
        ),
    ]
}

fn step(name: &str, ms: f64, detail: &str) -> String {
    let line = format!("  {name:<15}{ms:>10.1} ms");
    if detail.is_empty() {
        line
    } else {
        format!("{line}   {detail}")
    }
}

/// Prints `lines` under a heading on stderr.
pub fn print(lines: &[String]) {
    eprintln!("[flint] timings");
    for line in lines {
        eprintln!("{line}");
    }
}
