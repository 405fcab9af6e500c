//! Helpers shared by flint's workspace-level end-to-end tests: where the SmolLM2 fixture
//! lives, how to build it when absent, and the reference outputs the numpy model wrote.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root (this crate lives in `<root>/tests`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `$FLINT_CACHE` or `~/.cache/flint`: downloaded wheels and converted fixtures, never in git.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("FLINT_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/flint"))
}

/// The converted SmolLM2 directories and `expected.json`, built once per cache by the
/// Python fixture script and the numpy reference (both run only when their output is absent).
pub fn smollm2() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = repo_root();
        let dir = cache_dir().join("smollm2");
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let run = |args: &[&str]| {
            let status = Command::new(&python)
                .args(args)
                .current_dir(&root)
                .status()
                .expect("python3 runs");
            assert!(status.success(), "fixture step failed: {args:?}");
        };
        if !dir
            .join("hf-bf16-sharded/model.safetensors.index.json")
            .is_file()
            || !dir.join("hf-f32/model.safetensors").is_file()
        {
            run(&["tests/fixtures/smollm2.py"]);
        }
        let expected = dir.join("expected.json");
        if !expected.is_file() {
            let model = dir.join("hf-bf16");
            run(&[
                "tests/reference/llama_numpy.py",
                "--model",
                model.to_str().unwrap(),
                "--prompts",
                "tests/fixtures/prompts.json",
                "--out",
                expected.to_str().unwrap(),
            ]);
        }
        dir
    })
}

/// One case of the numpy reference's `expected.json`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ReferenceCase {
    pub name: String,
    /// From `prompts.json`: the raw prompt, or the chat messages the template renders.
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub messages: Option<serde_json::Value>,
    pub prompt_text: String,
    pub prompt_ids: Vec<u32>,
    pub generated_ids: Vec<u32>,
    pub generated_text: String,
    pub prompt_logits: Vec<f32>,
    pub max_new_tokens: usize,
}

pub fn reference_cases() -> Vec<ReferenceCase> {
    #[derive(serde::Deserialize)]
    struct Expected {
        cases: Vec<ReferenceCase>,
    }
    let path = smollm2().join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut expected: Expected = serde_json::from_str(&text).unwrap();
    let prompts: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("tests/fixtures/prompts.json")).unwrap(),
    )
    .unwrap();
    for case in &mut expected.cases {
        let p = prompts
            .iter()
            .find(|p| p["name"] == case.name.as_str())
            .expect("every reference case is in prompts.json");
        case.prompt = p.get("prompt").and_then(|v| v.as_str()).map(str::to_string);
        case.messages = p.get("messages").cloned();
    }
    expected.cases
}

/// Greedy choice: the highest logit, the lowest id among equals.
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// A tiny Llama checkpoint written by the tests themselves: shapes and error paths only.
pub mod tiny {
    use safetensors::{Dtype, tensor::TensorView};
    use std::path::Path;

    pub const VOCAB: usize = 32;
    pub const HIDDEN: usize = 8;
    pub const INTER: usize = 16;
    pub const LAYERS: usize = 2;
    pub const HEADS: usize = 2;
    pub const KV_HEADS: usize = 1;
    pub const HEAD_DIM: usize = HIDDEN / HEADS;

    pub fn config() -> serde_json::Value {
        serde_json::json!({
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "vocab_size": VOCAB,
            "hidden_size": HIDDEN,
            "intermediate_size": INTER,
            "num_hidden_layers": LAYERS,
            "num_attention_heads": HEADS,
            "num_key_value_heads": KV_HEADS,
            "rms_norm_eps": 1e-5,
            "rope_theta": 10000.0,
            "max_position_embeddings": 64,
            "tie_word_embeddings": true,
            "eos_token_id": 2
        })
    }

    /// Every tensor a tied tiny Llama needs, HF names and `[out, in]` shapes.
    pub fn tensor_shapes() -> Vec<(String, Vec<usize>)> {
        let mut t = vec![("model.embed_tokens.weight".to_string(), vec![VOCAB, HIDDEN])];
        for l in 0..LAYERS {
            let p = format!("model.layers.{l}");
            let kv = KV_HEADS * HEAD_DIM;
            for (name, shape) in [
                ("self_attn.q_proj.weight", vec![HIDDEN, HIDDEN]),
                ("self_attn.k_proj.weight", vec![kv, HIDDEN]),
                ("self_attn.v_proj.weight", vec![kv, HIDDEN]),
                ("self_attn.o_proj.weight", vec![HIDDEN, HIDDEN]),
                ("mlp.gate_proj.weight", vec![INTER, HIDDEN]),
                ("mlp.up_proj.weight", vec![INTER, HIDDEN]),
                ("mlp.down_proj.weight", vec![HIDDEN, INTER]),
                ("input_layernorm.weight", vec![HIDDEN]),
                ("post_attention_layernorm.weight", vec![HIDDEN]),
            ] {
                t.push((format!("{p}.{name}"), shape));
            }
        }
        t.push(("model.norm.weight".to_string(), vec![HIDDEN]));
        t
    }

    /// Deterministic small values (no RNG crate needed): a hash of the index, in [-0.5, 0.5).
    pub fn values(n: usize, salt: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let x = (i.wrapping_mul(2654435761) ^ salt.wrapping_mul(40503)) % 1000;
                x as f32 / 1000.0 - 0.5
            })
            .collect()
    }

    /// Writes `config.json` and a valid f32 `model.safetensors` holding `tensors`.
    pub fn write(dir: &Path, config: &serde_json::Value, tensors: &[(String, Vec<usize>)]) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        write_safetensors(&dir.join("model.safetensors"), tensors, Dtype::F32);
    }

    pub fn write_safetensors(path: &Path, tensors: &[(String, Vec<usize>)], dtype: Dtype) {
        let buffers: Vec<Vec<u8>> = tensors
            .iter()
            .enumerate()
            .map(|(i, (_, shape))| {
                let vals = values(shape.iter().product(), i);
                match dtype {
                    Dtype::F32 => vals.iter().flat_map(|v| v.to_le_bytes()).collect(),
                    Dtype::I32 => vals
                        .iter()
                        .flat_map(|v| (*v as i32).to_le_bytes())
                        .collect(),
                    other => panic!("tiny writer has no {other:?}"),
                }
            })
            .collect();
        let views: Vec<(String, TensorView)> = tensors
            .iter()
            .zip(&buffers)
            .map(|((name, shape), bytes)| {
                (
                    name.clone(),
                    TensorView::new(dtype, shape.clone(), bytes).unwrap(),
                )
            })
            .collect();
        let bytes = safetensors::serialize(views, None).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// Writes a safetensors file from a hand-made header, to produce files that lie.
    pub fn write_raw(path: &Path, header: &serde_json::Value, data: &[u8]) {
        let header = header.to_string();
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend(header.as_bytes());
        bytes.extend(data);
        std::fs::write(path, bytes).unwrap();
    }
}
