use clap::Args;
use flint_loader::{FloatDtype, convert_gguf};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct ConvertArgs {
    /// The GGUF file to convert.
    input: PathBuf,
    /// Output directory (created if needed): model.safetensors, config.json,
    /// generation_config.json, tokenizer.json, tokenizer_config.json.
    out_dir: PathBuf,
    /// Element type of model.safetensors: bf16, f16 (rounded to nearest even) or f32.
    #[arg(long, default_value = "bf16")]
    dtype: FloatDtype,
}

pub fn run(args: ConvertArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let report = convert_gguf(&args.input, &args.out_dir, args.dtype)?;
    eprintln!(
        "[flint] wrote {} tensors ({:.1} MB) to {} in {:.2} s{}",
        report.tensors,
        report.weight_bytes as f64 / 1e6,
        report.out_dir.display(),
        start.elapsed().as_secs_f64(),
        if report.skipped.is_empty() {
            String::new()
        } else {
            format!(
                "; left out (recomputed by the model): {}",
                report.skipped.join(", ")
            )
        }
    );
    Ok(())
}
