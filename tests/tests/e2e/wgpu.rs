//! The GPU path (burn-wgpu through WebGPU) on the real models. On a machine without a GPU
//! this runs on Mesa's lavapipe (software Vulkan, installed by `scripts/setup-vulkan.sh`),
//! so the same kernels, uploads and limits are exercised in CI. Set
//! `FLINT_SKIP_GPU_TESTS=1` to skip them on a machine with no WebGPU adapter at all.
//!
//! f32 only here: Burn's device settings are per process, and f16 runs in the CLI tests
//! (their own processes).

use crate::reference::check_model;
use flint_core::gpu::{self, GpuFloat};
use flint_core::{Backend, WgpuTarget};
use flint_loader::load_model;
use flint_tests::{EXPECTED, gemma3_gguf, gemma3_reference_cases, reference_cases, smollm2};

/// The wgpu backend in f32 on the first adapter, or `None` when skipping is asked for.
fn wgpu_f32() -> Option<Backend> {
    if std::env::var_os("FLINT_SKIP_GPU_TESTS").is_some() {
        eprintln!("FLINT_SKIP_GPU_TESTS is set: skipping a wgpu test");
        return None;
    }
    assert!(
        !gpu::adapters().is_empty(),
        "no WebGPU adapter: run scripts/setup-vulkan.sh (Mesa lavapipe) or set \
         FLINT_SKIP_GPU_TESTS=1"
    );
    Some(Backend::Wgpu(WgpuTarget {
        adapter: None,
        dtype: GpuFloat::F32,
    }))
}

/// SmolLM2 (bf16 file, converted to f32 on load, uploaded tensor by tensor) gives the numpy
/// reference's greedy tokens and logits on the GPU. A subset of the cases: software Vulkan
/// decodes at a few tokens per second.
#[test]
fn smollm2_on_wgpu_matches_the_reference() {
    let Some(backend) = wgpu_f32() else { return };
    let cases: Vec<_> = reference_cases(EXPECTED)
        .into_iter()
        .filter(|c| ["capital_france", "chat_default_system"].contains(&c.name.as_str()))
        .collect();
    assert_eq!(cases.len(), 2);
    check_model(&smollm2().join("hf-bf16"), &cases, backend, 1e-3);
}

/// Every adapter listed has real limits, and the first is the one `--device 0` opens.
#[test]
fn adapters_are_listed_with_their_limits() {
    let Some(_) = wgpu_f32() else { return };
    let adapters = gpu::adapters();
    for (i, a) in adapters.iter().enumerate() {
        assert_eq!(a.index, i);
        assert!(a.max_tensor_bytes() >= 128 << 20, "{a}");
        assert!(!a.name.is_empty());
    }
}

/// Gemma 3's tied 262,144 × 640 embedding is 671 MB in f32, more than lavapipe's (and
/// many adapters') largest binding of 128 MiB: it is staged on the host and split into row
/// blocks that fit, so the model still loads, and gives the reference's first greedy tokens.
#[test]
fn gemma3_embedding_larger_than_a_gpu_buffer_is_split_and_runs() {
    let Some(backend) = wgpu_f32() else { return };
    let case = gemma3_reference_cases().remove(0);
    let mut model = load_model(&gemma3_gguf(), backend).unwrap().model;
    let logits = model.forward(&case.prompt_ids);
    let worst = logits
        .iter()
        .zip(&case.prompt_logits)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-2, "max |logit diff| {worst}");
    let mut next = flint_tests::argmax(&logits);
    for expected in &case.generated_ids[..3] {
        assert_eq!(next, *expected);
        next = flint_tests::argmax(&model.forward(&[next]));
    }
}
