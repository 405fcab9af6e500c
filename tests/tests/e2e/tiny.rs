//! Llama configuration variants SmolLM2 does not exercise, on tiny self-written checkpoints:
//! an untied output head, attention/MLP biases, RoPE scaling; and the KV cache's promise
//! that decoding token by token equals running the whole sequence at once.

use flint_core::Backend;
use flint_loader::load_model;
use flint_tests::tiny;
use serde_json::json;
use std::path::Path;

fn variant_dir(dir: &Path, edit: impl Fn(&mut serde_json::Value, &mut Vec<(String, Vec<usize>)>)) {
    let mut config = tiny::config();
    let mut tensors = tiny::tensor_shapes();
    edit(&mut config, &mut tensors);
    tiny::write(dir, &config, &tensors);
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Whole-sequence logits equal prefill-then-decode logits, on both backends, and the two
/// backends agree.
fn check_incremental_equals_full(dir: &Path) {
    let tokens = [3u32, 7, 1, 30, 12, 5];
    let mut last = Vec::new();
    for backend in Backend::ALL {
        let mut model = load_model(dir, backend).unwrap().model;
        let full = model.forward(&tokens);
        model.reset();
        model.forward(&tokens[..2]);
        model.forward(&tokens[2..4]);
        model.forward(&[tokens[4]]);
        let step = model.forward(&[tokens[5]]);
        assert_eq!(model.cached_tokens(), tokens.len());
        // Rewinding the cache and re-running the tail gives the same answer again.
        model.truncate(3);
        assert_eq!(model.cached_tokens(), 3);
        let rewound = model.forward(&tokens[3..]);
        assert!(
            max_diff(&full, &rewound) < 1e-5,
            "{backend}: truncate drift"
        );
        assert!(
            max_diff(&full, &step) < 1e-5,
            "{backend}: cache drift {}",
            max_diff(&full, &step)
        );
        assert!(full.iter().all(|v| v.is_finite()));
        last.push(full);
    }
    assert!(max_diff(&last[0], &last[1]) < 1e-4, "flex vs ndarray");
}

#[test]
fn tied_head_kv_cache_matches_full_sequence() {
    let tmp = tempfile::tempdir().unwrap();
    variant_dir(tmp.path(), |_, _| {});
    check_incremental_equals_full(tmp.path());
}

#[test]
fn untied_head_with_biases() {
    let tmp = tempfile::tempdir().unwrap();
    variant_dir(tmp.path(), |config, tensors| {
        config["tie_word_embeddings"] = json!(false);
        config["attention_bias"] = json!(true);
        config["mlp_bias"] = json!(true);
        tensors.push(("lm_head.weight".into(), vec![tiny::VOCAB, tiny::HIDDEN]));
        let kv = tiny::KV_HEADS * tiny::HEAD_DIM;
        for l in 0..tiny::LAYERS {
            for (name, n) in [
                ("self_attn.q_proj.bias", tiny::HIDDEN),
                ("self_attn.k_proj.bias", kv),
                ("self_attn.v_proj.bias", kv),
                ("self_attn.o_proj.bias", tiny::HIDDEN),
                ("mlp.gate_proj.bias", tiny::INTER),
                ("mlp.up_proj.bias", tiny::INTER),
                ("mlp.down_proj.bias", tiny::HIDDEN),
            ] {
                tensors.push((format!("model.layers.{l}.{name}"), vec![n]));
            }
        }
    });
    check_incremental_equals_full(tmp.path());

    // Without its lm_head the untied model is incomplete, and says which tensor is missing.
    let tensors: Vec<_> = tiny::tensor_shapes();
    let mut config = tiny::config();
    config["tie_word_embeddings"] = json!(false);
    let tmp2 = tempfile::tempdir().unwrap();
    tiny::write(tmp2.path(), &config, &tensors);
    let err = load_model(tmp2.path(), Backend::Flex)
        .err()
        .expect("must fail");
    assert!(err.to_string().contains("lm_head.weight"), "{err}");
}

#[test]
fn rope_scaling_variants_load_and_change_long_range_outputs() {
    let plain = tempfile::tempdir().unwrap();
    variant_dir(plain.path(), |_, _| {});
    let tokens: Vec<u32> = (0..40).map(|i| (i * 7 % 32) as u32).collect();
    let reference = load_model(plain.path(), Backend::Flex)
        .unwrap()
        .model
        .forward(&tokens);
    for scaling in [
        json!({"rope_type": "linear", "factor": 4.0}),
        json!({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 16}),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        variant_dir(tmp.path(), |config, _| {
            config["rope_scaling"] = scaling.clone()
        });
        check_incremental_equals_full(tmp.path());
        let scaled = load_model(tmp.path(), Backend::Flex)
            .unwrap()
            .model
            .forward(&tokens);
        assert!(
            max_diff(&reference, &scaled) > 1e-4,
            "{scaling}: scaling had no effect"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    variant_dir(tmp.path(), |config, _| {
        config["rope_scaling"] = json!({"rope_type": "yarn", "factor": 2.0})
    });
    let err = load_model(tmp.path(), Backend::Flex)
        .err()
        .expect("yarn is not supported");
    assert!(err.to_string().contains("rope_scaling"), "{err}");
}
