//! `flint devices`: the GPU adapters WebGPU offers, numbered as `--device` takes them.

use flint_core::gpu;

pub fn run() -> anyhow::Result<()> {
    let adapters = gpu::adapters();
    if adapters.is_empty() {
        anyhow::bail!(
            "no GPU adapter found through WebGPU (Vulkan, Metal, DX12 or GL); install a driver \
             (on Debian without a GPU: mesa-vulkan-drivers, the lavapipe software adapter)"
        );
    }
    for adapter in adapters {
        println!("{adapter}");
    }
    Ok(())
}
