//! Bad input never panics and never loads: each case returns the right error, naming the
//! file and the tensor or key at fault.

use flint_core::{Backend, LoadError};
use flint_loader::load_model;
use flint_tests::tiny;
use safetensors::Dtype;
use serde_json::json;
use std::path::Path;

fn load_err(dir: &Path) -> LoadError {
    match load_model(dir, Backend::Flex) {
        Ok(_) => panic!("{} loaded but should not", dir.display()),
        Err(e) => e,
    }
}

fn valid(dir: &Path) {
    tiny::write(dir, &tiny::config(), &tiny::tensor_shapes());
}

#[test]
fn a_valid_tiny_checkpoint_loads_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    valid(tmp.path());
    let mut loaded = load_model(tmp.path(), Backend::Flex).unwrap();
    let logits = loaded.model.forward(&[1, 2, 3]);
    assert_eq!(logits.len(), tiny::VOCAB);
    assert!(logits.iter().all(|v| v.is_finite()));
}

#[test]
fn missing_weights_file() {
    let tmp = tempfile::tempdir().unwrap();
    valid(tmp.path());
    std::fs::remove_file(tmp.path().join("model.safetensors")).unwrap();
    let err = load_err(tmp.path());
    assert!(matches!(err, LoadError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("model.safetensors"), "{err}");
}

#[test]
fn missing_config_file() {
    let tmp = tempfile::tempdir().unwrap();
    valid(tmp.path());
    std::fs::remove_file(tmp.path().join("config.json")).unwrap();
    let err = load_err(tmp.path());
    assert!(matches!(err, LoadError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("config.json"), "{err}");
}

#[test]
fn truncated_file() {
    let tmp = tempfile::tempdir().unwrap();
    valid(tmp.path());
    let path = tmp.path().join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    for cut in [4, 40, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let err = load_err(tmp.path());
        assert!(
            matches!(err, LoadError::Truncated { .. }),
            "cut {cut}: {err:?}"
        );
        assert!(err.to_string().contains("model.safetensors"), "{err}");
    }
}

#[test]
fn data_offsets_past_the_end_name_the_tensor() {
    let tmp = tempfile::tempdir().unwrap();
    valid(tmp.path());
    let header = json!({
        "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
        "b": {"dtype": "F32", "shape": [4], "data_offsets": [16, 32]},
    });
    tiny::write_raw(&tmp.path().join("model.safetensors"), &header, &[0u8; 20]);
    let err = load_err(tmp.path());
    assert!(matches!(err, LoadError::Truncated { .. }), "{err:?}");
    assert!(err.to_string().contains("`b`"), "{err}");
}

#[test]
fn overlapping_offsets_name_the_tensor() {
    let tmp = tempfile::tempdir().unwrap();
    valid(tmp.path());
    let header = json!({
        "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
        "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]},
    });
    tiny::write_raw(&tmp.path().join("model.safetensors"), &header, &[0u8; 24]);
    let err = load_err(tmp.path());
    match &err {
        LoadError::Tensor { tensor, .. } => assert_eq!(tensor, "b"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn header_size_lie_names_the_tensor() {
    let tmp = tempfile::tempdir().unwrap();
    valid(tmp.path());
    // Shape says 4 floats (16 bytes); offsets span 12.
    let header = json!({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}});
    tiny::write_raw(&tmp.path().join("model.safetensors"), &header, &[0u8; 12]);
    let err = load_err(tmp.path());
    match &err {
        LoadError::Tensor {
            tensor, message, ..
        } => {
            assert_eq!(tensor, "w");
            assert!(
                message.contains("16") && message.contains("12"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn header_that_is_not_json() {
    let tmp = tempfile::tempdir().unwrap();
    valid(tmp.path());
    let path = tmp.path().join("model.safetensors");
    let mut bytes = 10u64.to_le_bytes().to_vec();
    bytes.extend(b"not json!!");
    std::fs::write(&path, bytes).unwrap();
    let err = load_err(tmp.path());
    assert!(matches!(err, LoadError::Header { .. }), "{err:?}");
}

#[test]
fn missing_tensors_are_all_named() {
    let tmp = tempfile::tempdir().unwrap();
    let tensors: Vec<_> = tiny::tensor_shapes()
        .into_iter()
        .filter(|(n, _)| n != "model.norm.weight" && n != "model.layers.1.mlp.up_proj.weight")
        .collect();
    tiny::write(tmp.path(), &tiny::config(), &tensors);
    match load_err(tmp.path()) {
        LoadError::MissingTensors { names, .. } => {
            assert_eq!(
                names,
                ["model.layers.1.mlp.up_proj.weight", "model.norm.weight"]
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unexpected_tensors_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let mut tensors = tiny::tensor_shapes();
    tensors.push(("lm_head.weight".into(), vec![tiny::VOCAB, tiny::HIDDEN]));
    tiny::write(tmp.path(), &tiny::config(), &tensors);
    match load_err(tmp.path()) {
        LoadError::UnexpectedTensors { names, .. } => assert_eq!(names, ["lm_head.weight"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn shape_mismatch_reports_expected_and_found() {
    let tmp = tempfile::tempdir().unwrap();
    let mut tensors = tiny::tensor_shapes();
    let q = tensors
        .iter_mut()
        .find(|(n, _)| n == "model.layers.0.self_attn.q_proj.weight")
        .unwrap();
    q.1 = vec![tiny::HIDDEN, tiny::HIDDEN + 1];
    tiny::write(tmp.path(), &tiny::config(), &tensors);
    match load_err(tmp.path()) {
        LoadError::ShapeMismatch {
            tensor,
            expected,
            found,
            ..
        } => {
            assert_eq!(tensor, "model.layers.0.self_attn.q_proj.weight");
            assert_eq!(expected, [tiny::HIDDEN, tiny::HIDDEN]);
            assert_eq!(found, [tiny::HIDDEN, tiny::HIDDEN + 1]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unsupported_dtype_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    valid(tmp.path());
    tiny::write_safetensors(
        &tmp.path().join("model.safetensors"),
        &tiny::tensor_shapes(),
        Dtype::I32,
    );
    match load_err(tmp.path()) {
        LoadError::DtypeMismatch { tensor, found, .. } => {
            assert_eq!(tensor, "model.embed_tokens.weight");
            assert_eq!(found, "I32");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_model_type() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = tiny::config();
    config["model_type"] = json!("mamba9000");
    config["architectures"] = json!(["Mamba9000ForCausalLM"]);
    tiny::write(tmp.path(), &config, &tiny::tensor_shapes());
    let err = load_err(tmp.path());
    assert!(
        matches!(err, LoadError::UnknownArchitecture { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("mamba9000") && msg.contains("llama"), "{msg}");
}

#[test]
fn malformed_config_json() {
    let tmp = tempfile::tempdir().unwrap();
    valid(tmp.path());
    std::fs::write(
        tmp.path().join("config.json"),
        r#"{"model_type": "llama", "#,
    )
    .unwrap();
    let err = load_err(tmp.path());
    assert!(matches!(err, LoadError::Json { .. }), "{err:?}");
    assert!(err.to_string().contains("config.json"), "{err}");
}

#[test]
fn config_with_wrong_types_or_absurd_sizes_names_the_key() {
    for (key, value) in [
        ("hidden_size", json!("big")),
        ("num_hidden_layers", json!(1_000_000_000u64)),
        ("num_key_value_heads", json!(3)),
        ("rms_norm_eps", json!(-1.0)),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let mut config = tiny::config();
        config[key] = value;
        tiny::write(tmp.path(), &config, &tiny::tensor_shapes());
        match load_err(tmp.path()) {
            LoadError::Config { key: k, .. } => assert_eq!(k, key),
            other => panic!("{key}: {other:?}"),
        }
    }
}

#[test]
fn shard_index_naming_an_absent_shard() {
    let tmp = tempfile::tempdir().unwrap();
    valid(tmp.path());
    std::fs::rename(
        tmp.path().join("model.safetensors"),
        tmp.path().join("model-00001-of-00002.safetensors"),
    )
    .unwrap();
    let mut map = serde_json::Map::new();
    for (i, (name, _)) in tiny::tensor_shapes().iter().enumerate() {
        let shard = if i == 0 { 2 } else { 1 };
        map.insert(
            name.clone(),
            json!(format!("model-0000{shard}-of-00002.safetensors")),
        );
    }
    let index = json!({"metadata": {}, "weight_map": map});
    std::fs::write(
        tmp.path().join("model.safetensors.index.json"),
        index.to_string(),
    )
    .unwrap();
    let err = load_err(tmp.path());
    assert!(matches!(err, LoadError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("model-00002-of-00002"), "{err}");
}

#[test]
fn shard_index_disagreeing_with_shard_headers() {
    let tmp = tempfile::tempdir().unwrap();
    valid(tmp.path());
    std::fs::rename(
        tmp.path().join("model.safetensors"),
        tmp.path().join("model-00001-of-00001.safetensors"),
    )
    .unwrap();
    let mut map = serde_json::Map::new();
    for (name, _) in tiny::tensor_shapes() {
        map.insert(name, json!("model-00001-of-00001.safetensors"));
    }
    map.insert(
        "model.ghost.weight".into(),
        json!("model-00001-of-00001.safetensors"),
    );
    let index = json!({"weight_map": map});
    std::fs::write(
        tmp.path().join("model.safetensors.index.json"),
        index.to_string(),
    )
    .unwrap();
    match load_err(tmp.path()) {
        LoadError::Tensor { tensor, .. } => assert_eq!(tensor, "model.ghost.weight"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_config_too_large_for_memory_is_refused_before_building() {
    let tmp = tempfile::tempdir().unwrap();
    valid(tmp.path());
    // Every key within its bound, but 2^44 embedding parameters alone: 64 TiB as f32.
    let mut config = tiny::config();
    config["vocab_size"] = json!(1 << 24);
    config["hidden_size"] = json!(1 << 20);
    config["num_attention_heads"] = json!(16);
    config["num_key_value_heads"] = json!(4);
    std::fs::write(tmp.path().join("config.json"), config.to_string()).unwrap();
    let err = load_err(tmp.path());
    assert!(matches!(err, LoadError::TooLarge { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("config.json") && msg.contains("TiB as f32"),
        "{msg}"
    );
    assert!(msg.contains("available"), "{msg}");
}

/// The tiny checkpoint with `poison` at element 3 of `tensor`, data 8-byte aligned so that
/// burn-flex can map it.
fn poisoned(dir: &Path, tensor: &str, poison: f32) {
    tiny::write(dir, &tiny::config(), &tiny::tensor_shapes());
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (i, (name, shape)) in tiny::tensor_shapes().into_iter().enumerate() {
        let mut values = tiny::values(shape.iter().product(), i);
        if name == tensor {
            values[3] = poison;
        }
        let start = data.len();
        data.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        header.insert(
            name,
            json!({"dtype": "F32", "shape": shape, "data_offsets": [start, data.len()]}),
        );
    }
    let mut text = serde_json::Value::Object(header).to_string();
    while !text.len().is_multiple_of(8) {
        text.push(' ');
    }
    let mut bytes = (text.len() as u64).to_le_bytes().to_vec();
    bytes.extend(text.as_bytes());
    bytes.extend(data);
    std::fs::write(dir.join("model.safetensors"), bytes).unwrap();
}

#[test]
fn nan_or_infinite_weights_are_refused_where_values_are_copied() {
    let tensor = "model.layers.1.mlp.up_proj.weight";
    for poison in [f32::NAN, f32::INFINITY] {
        let tmp = tempfile::tempdir().unwrap();
        poisoned(tmp.path(), tensor, poison);
        // burn-ndarray gets an owned copy, which is scanned.
        let err = match load_model(tmp.path(), Backend::NdArray) {
            Ok(_) => panic!("loaded a checkpoint holding {poison}"),
            Err(e) => e,
        };
        match &err {
            LoadError::Tensor { tensor: t, .. } => assert_eq!(t, tensor),
            other => panic!("{other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("1 of 128 values are NaN or infinite"), "{msg}");
        assert!(msg.contains("element 3"), "{msg}");
        // burn-flex computes on the mapped f32 bytes: not scanned, by design (scanning
        // would fault in the whole file at load; docs/reliability.md).
        let loaded = load_model(tmp.path(), Backend::Flex).unwrap();
        assert_eq!(loaded.stats.copied, 0);
    }
}
