//! Dequantization throughput on a GGUF file, per ggml type, single-threaded and parallel.
//!
//! `cargo run --release -p flint-gguf --example dequant_throughput [-- FILE.gguf]`
//! (default: the SmolLM2 fixture in `$FLINT_CACHE` or `~/.cache/flint`). MB/s counts the
//! input (quantized) bytes, 1 MB = 10^6 bytes; the best of 5 passes is reported. A second
//! table decodes 256Ki random elements of every supported type (output stays in cache), to
//! show kernel speed apart from memory bandwidth.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use flint_gguf::{GgmlType, GgufFile, can_dequantize, dequantize, dequantize_par};

fn default_model() -> PathBuf {
    let cache = std::env::var_os("FLINT_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/flint")
        });
    cache.join("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
}

#[derive(Default)]
struct Totals {
    bytes: u64,
    elements: u64,
    serial: Duration,
    parallel: Duration,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(default_model);
    let start = Instant::now();
    let file = GgufFile::open(&path)?;
    let open_time = start.elapsed();
    let mut by_type: BTreeMap<GgmlType, Totals> = BTreeMap::new();
    for t in file.tensors() {
        let bytes = file.tensor_bytes(t);
        let n = t.n_elements() as usize;
        let mut out = vec![0.0f32; n];
        let mut best = [Duration::MAX; 2];
        for _ in 0..5 {
            let start = Instant::now();
            dequantize(t.ggml_type(), bytes, n, &mut out)?;
            best[0] = best[0].min(start.elapsed());
            let start = Instant::now();
            dequantize_par(t.ggml_type(), bytes, n, &mut out)?;
            best[1] = best[1].min(start.elapsed());
        }
        let totals = by_type.entry(t.ggml_type()).or_default();
        totals.bytes += bytes.len() as u64;
        totals.elements += n as u64;
        totals.serial += best[0];
        totals.parallel += best[1];
    }
    println!(
        "{} ({} threads; open + parse {:.1} ms)\n{:<6} {:>9} {:>12} {:>14} {:>14}",
        path.display(),
        rayon::current_num_threads(),
        open_time.as_secs_f64() * 1e3,
        "type",
        "tensors",
        "MB in",
        "serial MB/s",
        "parallel MB/s"
    );
    for (ty, t) in &by_type {
        let count = file
            .tensors()
            .iter()
            .filter(|x| x.ggml_type() == *ty)
            .count();
        let mb = t.bytes as f64 / 1e6;
        println!(
            "{:<6} {:>9} {:>12.1} {:>14.0} {:>14.0}   ({:.0} / {:.0} Melem/s)",
            ty.name(),
            count,
            mb,
            mb / t.serial.as_secs_f64(),
            mb / t.parallel.as_secs_f64(),
            t.elements as f64 / 1e6 / t.serial.as_secs_f64(),
            t.elements as f64 / 1e6 / t.parallel.as_secs_f64(),
        );
    }
    synthetic()
}

/// Random blocks of every supported type, small enough to stay in cache.
fn synthetic() -> Result<(), Box<dyn std::error::Error>> {
    const N: usize = 256 * 1024;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut out = vec![0.0f32; N];
    println!("\nsynthetic, {N} elements per pass, serial");
    for ty in GgmlType::all().filter(|t| can_dequantize(*t)) {
        let bytes: Vec<u8> = (0..N / ty.block_size() * ty.type_size())
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Keep high bytes small so f16 scales stay finite (x86 has no NaN penalty,
                // but finite data is the realistic case).
                (state >> 56) as u8 & 0x3f
            })
            .collect();
        let mut best = Duration::MAX;
        for _ in 0..20 {
            let start = Instant::now();
            dequantize(ty, &bytes, N, &mut out)?;
            best = best.min(start.elapsed());
        }
        println!(
            "{:<6} {:>8.0} MB/s in {:>8.0} Melem/s",
            ty.name(),
            bytes.len() as f64 / 1e6 / best.as_secs_f64(),
            N as f64 / 1e6 / best.as_secs_f64()
        );
    }
    Ok(())
}
