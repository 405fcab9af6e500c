//! One load per fresh process, so each method's peak RSS is its own.
//!
//! The parent re-executes this binary with the hidden `load-child` subcommand; the child
//! loads once, runs one forward pass, and prints a single JSON result line on stdout.

use crate::load::{self, Method};
use crate::rss;
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Marks the result line among anything else a child might print.
const RESULT_PREFIX: &str = "FLINT_BENCH_RESULT ";

#[derive(clap::Args)]
pub struct ChildArgs {
    #[arg(long, value_enum)]
    method: Method,
    /// A checkpoint file, or a model directory (single file or shards).
    #[arg(long)]
    file: PathBuf,
    /// Prompt token ids for the first forward pass, comma-separated.
    #[arg(long, value_delimiter = ',')]
    tokens: Vec<u32>,
}

/// What one child measured.
#[derive(Serialize, Deserialize, Clone)]
pub struct ChildReport {
    pub load_ms: f64,
    /// The first forward pass on the short prompt (absent for the memcpy floor).
    pub forward_ms: Option<f64>,
    /// `VmHWM` right after the load, before any forward pass.
    pub peak_rss_load: u64,
    /// `VmHWM` after the first forward pass.
    pub peak_rss_end: u64,
    /// The greedy next token, to check every method loaded the same weights.
    pub first_token: Option<u32>,
    /// Bytes copied by the memcpy floor.
    pub copied_bytes: Option<usize>,
    /// The floor's copy out of a fresh mapping (page faults included).
    pub fresh_map_ms: Option<f64>,
    /// Bytes the loaded weights occupy, as the method built them.
    #[serde(default)]
    pub final_bytes: u64,
    pub note: String,
}

pub fn run_child(args: &ChildArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let loaded = load::load_once(args.method, &args.file)?;
    let load_ms = start.elapsed().as_secs_f64() * 1e3;
    let peak_rss_load = rss::peak_rss_bytes();
    let mut report = ChildReport {
        load_ms,
        forward_ms: None,
        peak_rss_load,
        peak_rss_end: peak_rss_load,
        first_token: None,
        copied_bytes: None,
        fresh_map_ms: None,
        final_bytes: loaded.final_bytes,
        note: loaded.note,
    };
    match loaded.outcome {
        load::Outcome::Floor(floor) => {
            // The floor is the copy alone, not the header parse or the mapping.
            report.load_ms = floor.ms;
            report.copied_bytes = Some(floor.bytes);
            report.fresh_map_ms = Some(floor.fresh_map_ms);
        }
        load::Outcome::Model(mut model) => {
            let start = Instant::now();
            // A model that loads but cannot run (burn-store's bf16 params) still reports its
            // load; the forward pass's panic becomes a note.
            let forward =
                std::panic::catch_unwind(AssertUnwindSafe(|| model.forward(&args.tokens)));
            match forward {
                Ok(logits) => {
                    report.forward_ms = Some(start.elapsed().as_secs_f64() * 1e3);
                    report.first_token = Some(crate::stats::argmax(&logits));
                }
                Err(payload) => {
                    let msg = payload
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    report
                        .note
                        .push_str(&format!("; first forward FAILED: {msg}"));
                }
            }
            report.peak_rss_end = rss::peak_rss_bytes();
        }
    }
    println!("{RESULT_PREFIX}{}", serde_json::to_string(&report)?);
    Ok(())
}

/// Runs `method` on `file` in a fresh child process; on failure, the child's last words.
pub fn spawn(method: Method, file: &Path, tokens: &[u32]) -> anyhow::Result<ChildReport> {
    let exe = std::env::current_exe().context("locating flint-bench")?;
    let ids: Vec<String> = tokens.iter().map(u32::to_string).collect();
    let output = Command::new(exe)
        .arg("load-child")
        .args(["--method", method.name()])
        .arg("--file")
        .arg(file)
        .args(["--tokens", &ids.join(",")])
        .env("RUST_BACKTRACE", "0")
        .output()
        .context("starting a load child")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if let Some(line) = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(RESULT_PREFIX))
    {
        return Ok(serde_json::from_str(line)?);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    bail!("{} ({})", failure_reason(&stderr), output.status)
}

/// The line that says why a child failed: its `Error:` line, or its panic message.
fn failure_reason(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().map(str::trim).collect();
    if let Some(err) = lines.iter().find_map(|l| l.strip_prefix("Error:")) {
        return err.trim().to_string();
    }
    if let Some(i) = lines.iter().position(|l| l.contains("panicked at")) {
        return format!("panic: {}", lines.get(i + 1).copied().unwrap_or(""));
    }
    lines
        .iter()
        .rev()
        .find(|l| !l.is_empty())
        .unwrap_or(&"no output")
        .to_string()
}
