use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct InspectArgs {
    /// A safetensors or GGUF file, or a model directory (single file or sharded).
    path: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: InspectArgs) -> anyhow::Result<()> {
    let tensors = flint_loader::inspect(&args.path)?;
    let total_bytes: usize = tensors.iter().map(|t| t.bytes).sum();
    let total_params: usize = tensors
        .iter()
        .map(|t| t.shape.iter().product::<usize>())
        .sum();
    if args.json {
        let out = serde_json::json!({
            "tensors": tensors,
            "total_tensors": tensors.len(),
            "total_parameters": total_params,
            "total_bytes": total_bytes,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let width = tensors.iter().map(|t| t.name.len()).max().unwrap_or(4);
    println!(
        "{:<width$}  {:<5}  {:<16}  {:>12}  file",
        "name", "dtype", "shape", "bytes"
    );
    for t in &tensors {
        println!(
            "{:<width$}  {:<5}  {:<16}  {:>12}  {}",
            t.name,
            t.dtype,
            format!("{:?}", t.shape),
            t.bytes,
            t.file
        );
    }
    println!(
        "{} tensors, {} parameters, {} bytes ({:.1} MB)",
        tensors.len(),
        total_params,
        total_bytes,
        total_bytes as f64 / 1e6
    );
    Ok(())
}
