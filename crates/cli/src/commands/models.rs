use flint_core::architectures;

pub fn run() -> anyhow::Result<()> {
    for arch in architectures() {
        println!(
            "{:<10} model_type: {:<20} architectures: {}",
            arch.name(),
            arch.model_types().join(", "),
            arch.class_names().join(", ")
        );
    }
    Ok(())
}
