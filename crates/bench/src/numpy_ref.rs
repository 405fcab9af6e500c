//! The numpy reference (`tests/reference/llama_numpy.py --bench`) as a peer to compare with.

use anyhow::{Context, bail};
use std::path::Path;
use std::process::Command;

pub struct NumpySpeed {
    pub prefill_tps: f64,
    pub decode_tps: f64,
}

/// Runs the reference's own benchmark on prompt `case` and parses its two result lines
/// (`prefill: X tokens/s ...`, `decode: Y tokens/s ...`).
pub fn run(
    python: &str,
    script: &Path,
    model_dir: &Path,
    prompts: &Path,
    case: &str,
    decode_tokens: usize,
) -> anyhow::Result<NumpySpeed> {
    let output = Command::new(python)
        .arg(script)
        .arg("--model")
        .arg(model_dir)
        .arg("--prompts")
        .arg(prompts)
        .args(["--bench", "--bench-case", case])
        .args(["--bench-tokens", &decode_tokens.to_string()])
        .output()
        .with_context(|| format!("running {python} {}", script.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "numpy reference failed ({}): {}",
            output.status,
            stderr.trim()
        );
    }
    let rate = |key: &str| -> anyhow::Result<f64> {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("no `{key}` line in the reference output:\n{stdout}"))
    };
    Ok(NumpySpeed {
        prefill_tps: rate("prefill:")?,
        decode_tps: rate("decode:")?,
    })
}
