//! The real SmolLM2-135M Q4_1 GGUF (Q8_0, Q4_1 and F32 tensors) against gguf-py: every
//! metadata value and tensor info, and whole tensors dequantized bit for bit.
//! Needs the fixture (`scripts/fetch-model.sh`) and python3 with gguf (`scripts/setup-python.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

use flint_gguf::{GgmlType, GgufFile, MetadataArray, MetadataValue, dequantize};
use serde_json::{Value, json};

fn model_path() -> PathBuf {
    let cache = std::env::var_os("FLINT_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/flint"));
    let path = cache.join("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/fetch-model.sh",
        path.display()
    );
    path
}

/// Runs `gguf_golden.py dump`, returning the output directory.
fn gguf_py_dump(model: &Path, tensors: &[&str]) -> tempfile::TempDir {
    let root = flint_tests::repo_root();
    let dir = tempfile::tempdir().unwrap();
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let status = Command::new(python)
        .arg(root.join("tests/fixtures/gguf_golden.py"))
        .arg("dump")
        .arg("--gguf")
        .arg(model)
        .arg("--out")
        .arg(dir.path())
        .args(tensors)
        .status()
        .expect("python3 runs (scripts/setup-python.sh installs gguf and numpy)");
    assert!(status.success(), "gguf_golden.py dump failed");
    dir
}

/// Our value in the dump's JSON form (floats as bit patterns).
fn value_json(v: &MetadataValue) -> Value {
    match v {
        MetadataValue::U8(x) => json!(x),
        MetadataValue::I8(x) => json!(x),
        MetadataValue::U16(x) => json!(x),
        MetadataValue::I16(x) => json!(x),
        MetadataValue::U32(x) => json!(x),
        MetadataValue::I32(x) => json!(x),
        MetadataValue::U64(x) => json!(x),
        MetadataValue::I64(x) => json!(x),
        MetadataValue::F32(x) => json!(x.to_bits()),
        MetadataValue::F64(x) => json!(x.to_bits()),
        MetadataValue::Bool(x) => json!(x),
        MetadataValue::String(x) => json!(x),
        MetadataValue::Array(a) => array_json(a),
    }
}

fn array_json(a: &MetadataArray) -> Value {
    match a {
        MetadataArray::U8(v) => json!(v),
        MetadataArray::I8(v) => json!(v),
        MetadataArray::U16(v) => json!(v),
        MetadataArray::I16(v) => json!(v),
        MetadataArray::U32(v) => json!(v),
        MetadataArray::I32(v) => json!(v),
        MetadataArray::U64(v) => json!(v),
        MetadataArray::I64(v) => json!(v),
        MetadataArray::F32(v) => json!(v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()),
        MetadataArray::F64(v) => json!(v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()),
        MetadataArray::Bool(v) => json!(v),
        MetadataArray::String(v) => json!(v),
        MetadataArray::Array(v) => Value::Array(v.iter().map(array_json).collect()),
    }
}

const TENSORS: [&str; 6] = [
    "token_embd.weight",      // Q8_0, 49152 x 576
    "blk.0.attn_q.weight",    // Q4_1
    "blk.0.ffn_down.weight",  // Q4_1
    "blk.29.ffn_gate.weight", // Q4_1
    "blk.0.attn_norm.weight", // F32
    "output_norm.weight",     // F32
];

#[test]
fn matches_gguf_py() {
    let model = model_path();
    let file = GgufFile::open(&model).unwrap();
    let dump = gguf_py_dump(&model, &TENSORS);
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(dump.path().join("meta.json")).unwrap())
            .unwrap();

    // Metadata: same keys, types and values.
    let theirs = meta["metadata"].as_object().unwrap();
    assert_eq!(file.metadata().len(), theirs.len());
    for (key, value) in file.metadata() {
        let expected = &theirs[key.as_str()];
        assert_eq!(value.type_name(), expected["type"], "{key}");
        assert!(value_json(value) == expected["value"], "{key}");
    }

    // Tensor infos: same order, names, shapes, types and absolute data ranges.
    let infos = meta["tensors"].as_array().unwrap();
    assert_eq!(file.tensors().len(), infos.len());
    for (t, e) in file.tensors().iter().zip(infos) {
        assert_eq!(t.name(), e["name"], "name");
        assert_eq!(json!(t.shape()), e["shape"], "{}", t.name());
        assert_eq!(json!(t.ggml_type().id()), e["type"], "{}", t.name());
        assert_eq!(json!(t.data_range().start), e["start"], "{}", t.name());
        assert_eq!(json!(t.n_bytes()), e["n_bytes"], "{}", t.name());
    }

    // Whole tensors, bit for bit.
    let mut types = Vec::new();
    for name in TENSORS {
        let info = file.tensor(name).unwrap();
        types.push(info.ggml_type());
        let raw = std::fs::read(dump.path().join(format!("{name}.f32"))).unwrap();
        let expected: Vec<u32> = raw
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        let ours: Vec<u32> = file
            .dequantize_tensor(info)
            .unwrap()
            .iter()
            .map(|x| x.to_bits())
            .collect();
        assert_eq!(ours.len(), expected.len(), "{name}");
        assert!(ours == expected, "{name} differs from gguf-py");
    }
    for ty in [GgmlType::Q8_0, GgmlType::Q4_1, GgmlType::F32] {
        assert!(types.contains(&ty), "{ty} not covered");
    }
}

#[test]
fn model_metadata_and_all_tensors() {
    let file = GgufFile::open(model_path()).unwrap();
    assert_eq!(file.version(), 3);
    assert_eq!(file.get_str("general.architecture").unwrap(), "llama");
    assert_eq!(file.get_u32("llama.block_count").unwrap(), 30);
    assert_eq!(file.get_u32("llama.embedding_length").unwrap(), 576);
    assert!(
        file.get_f32("llama.attention.layer_norm_rms_epsilon")
            .unwrap()
            > 0.0
    );
    assert_eq!(
        file.get_str_array("tokenizer.ggml.tokens").unwrap().len(),
        49152
    );
    assert_eq!(
        file.get_i32_array("tokenizer.ggml.token_type")
            .unwrap()
            .len(),
        49152
    );
    let emb = file.tensor("token_embd.weight").unwrap();
    assert_eq!(emb.shape(), [576, 49152]);
    assert_eq!(emb.shape_row_major(), [49152, 576]);

    // Every tensor decodes to finite values, and the parallel path equals the serial one.
    for t in file.tensors() {
        let par = file.dequantize_tensor(t).unwrap();
        assert!(par.iter().all(|x| x.is_finite()), "{}", t.name());
        let mut serial = vec![0.0; par.len()];
        dequantize(t.ggml_type(), file.tensor_bytes(t), par.len(), &mut serial).unwrap();
        assert!(
            par.iter()
                .zip(&serial)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{}",
            t.name()
        );
    }
}
