//! Helpers shared by flint's workspace-level end-to-end tests: where the SmolLM2 fixture
//! lives, how to build it when absent, and the reference outputs the numpy model wrote.

pub mod gguf_writer;
pub mod malformed;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root: the workspace holding the package under test.
///
/// Found from `CARGO_MANIFEST_DIR` as `cargo test` sets it when it runs a test, because the
/// path compiled into this crate is the checkout that built it: with a target dir shared
/// between checkouts (CI's cache), a crate whose sources did not change is not rebuilt and
/// would point at another, possibly deleted, checkout. The compiled-in path is the
/// fallback for a test binary run by hand.
pub fn repo_root() -> PathBuf {
    let package = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    package
        .ancestors()
        .find(|dir| dir.join("Cargo.toml").is_file() && dir.join("crates").is_dir())
        .map(Path::to_path_buf)
        .unwrap_or(package)
}

/// `$FLINT_CACHE` or `~/.cache/flint`: downloaded wheels and converted fixtures, never in git.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("FLINT_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/flint"))
}

/// The converted SmolLM2 directories and `expected.json`, built once per cache by the
/// Python fixture script and the numpy reference (both run only when their output is absent).
/// The numpy reference's outputs on the fixture's bf16 weights (`hf-bf16`, and the same
/// values in `hf-bf16-sharded` and `hf-f32`).
pub const EXPECTED: &str = "expected.json";
/// The numpy reference's outputs on the GGUF's dequantized weights unrounded (`hf-f32-exact`).
pub const EXPECTED_EXACT: &str = "expected-exact.json";

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
            || !dir.join("hf-f32-exact/model.safetensors").is_file()
        {
            run(&["tests/fixtures/smollm2.py"]);
        }
        // The reference on the bf16 weights, and on the unrounded dequantized ones.
        for (weights, out) in [("hf-bf16", EXPECTED), ("hf-f32-exact", EXPECTED_EXACT)] {
            let expected = dir.join(out);
            if !expected.is_file() {
                let model = dir.join(weights);
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
        }
        dir
    })
}

/// The llama.cpp GGUF the fixtures are converted from (SmolLM2-135M-Instruct, Q4_1 with a
/// Q8_0 embedding and F32 norms), beside them in the cache.
pub const SMOLLM2_GGUF: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The SmolLM2 GGUF file (present once [`smollm2`] has run the fixture script).
pub fn smollm2_gguf() -> PathBuf {
    smollm2().join(SMOLLM2_GGUF)
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

/// The cases of `expected_file` ([`EXPECTED`] or [`EXPECTED_EXACT`]).
pub fn reference_cases(expected_file: &str) -> Vec<ReferenceCase> {
    reference_cases_from(
        &smollm2().join(expected_file),
        &repo_root().join("tests/fixtures/prompts.json"),
    )
}

/// The cases of a numpy reference's output `expected`, with the prompts file it was run on.
pub fn reference_cases_from(expected: &Path, prompts: &Path) -> Vec<ReferenceCase> {
    #[derive(serde::Deserialize)]
    struct Expected {
        cases: Vec<ReferenceCase>,
    }
    let text = std::fs::read_to_string(expected).unwrap();
    let mut expected: Expected = serde_json::from_str(&text).unwrap();
    let prompts: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(prompts).unwrap()).unwrap();
    for case in &mut expected.cases {
        let p = prompts
            .iter()
            .find(|p| p["name"] == case.name.as_str())
            .expect("every reference case is in the prompts file");
        case.prompt = p.get("prompt").and_then(|v| v.as_str()).map(str::to_string);
        case.messages = p.get("messages").cloned();
    }
    expected.cases
}

/// The Gemma 3 270M GGUF (Q4_K_M, from the PyPI part wheels) and the numpy reference's
/// `expected.json` beside it, built by `tests/fixtures/gemma3.py` when absent or stale.
pub fn gemma3() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let status = Command::new(&python)
            .arg("tests/fixtures/gemma3.py")
            .current_dir(repo_root())
            .status()
            .expect("python3 runs");
        assert!(status.success(), "tests/fixtures/gemma3.py failed");
        cache_dir().join("gemma3")
    })
}

/// The Gemma 3 GGUF file.
pub fn gemma3_gguf() -> PathBuf {
    gemma3().join("gemma-3-270m-q4_k_m.gguf")
}

/// The numpy reference's Gemma 3 cases.
pub fn gemma3_reference_cases() -> Vec<ReferenceCase> {
    reference_cases_from(
        &gemma3().join("expected.json"),
        &repo_root().join("tests/fixtures/prompts-gemma3.json"),
    )
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

    /// The GGUF counterpart of [`tensor_shapes`]'s Hugging Face name, as llama.cpp writes it.
    pub fn gguf_name(hf: &str) -> String {
        let globals = [
            ("model.embed_tokens.weight", "token_embd.weight"),
            ("model.norm.weight", "output_norm.weight"),
            ("lm_head.weight", "output.weight"),
        ];
        if let Some((_, g)) = globals.iter().find(|(h, _)| *h == hf) {
            return g.to_string();
        }
        let rest = hf.strip_prefix("model.layers.").unwrap();
        let (layer, suffix) = rest.split_once('.').unwrap();
        let gguf = match suffix {
            "input_layernorm.weight" => "attn_norm.weight",
            "self_attn.q_proj.weight" => "attn_q.weight",
            "self_attn.k_proj.weight" => "attn_k.weight",
            "self_attn.v_proj.weight" => "attn_v.weight",
            "self_attn.o_proj.weight" => "attn_output.weight",
            "post_attention_layernorm.weight" => "ffn_norm.weight",
            "mlp.gate_proj.weight" => "ffn_gate.weight",
            "mlp.up_proj.weight" => "ffn_up.weight",
            "mlp.down_proj.weight" => "ffn_down.weight",
            other => panic!("no GGUF name for {other}"),
        };
        format!("blk.{layer}.{gguf}")
    }

    /// llama.cpp's Q/K row permutation (`convert_hf_to_gguf.py` `LlamaModel.permute`):
    /// `W.reshape(n_head, 2, hd/2, n_in).swapaxes(1, 2)`.
    pub fn permute_rows(w: &[f32], shape: &[usize], n_head: usize) -> Vec<f32> {
        let (rows, n_in) = (shape[0], shape.get(1).copied().unwrap_or(1));
        let hd = rows / n_head;
        let mut out = vec![0.0; w.len()];
        for h in 0..n_head {
            for a in 0..2 {
                for b in 0..hd / 2 {
                    let src = h * hd + a * (hd / 2) + b;
                    let dst = h * hd + b * 2 + a;
                    out[dst * n_in..(dst + 1) * n_in]
                        .copy_from_slice(&w[src * n_in..(src + 1) * n_in]);
                }
            }
        }
        out
    }

    /// A GGUF metadata value for [`write_gguf`].
    pub enum Meta {
        U32(u32),
        F32(f32),
        Bool(bool),
        Str(String),
        Strs(Vec<String>),
        I32s(Vec<i32>),
        F32s(Vec<f32>),
    }

    /// One F32 GGUF tensor: name, row-major (Hugging Face order) shape, values.
    pub type GgufTensor = (String, Vec<usize>, Vec<f32>);

    /// Writes a GGUF v3 file with F32 tensors, laid out as llama.cpp does (32-byte
    /// alignment, dims `ne0` first).
    pub fn write_gguf(path: &Path, metadata: &[(String, Meta)], tensors: &[GgufTensor]) {
        use crate::gguf_writer::*;
        fn le<T: Copy, const N: usize>(xs: &[T], to: fn(T) -> [u8; N]) -> Vec<u8> {
            xs.iter().flat_map(|&x| to(x)).collect()
        }
        let mut file = Builder::default();
        for (key, value) in metadata {
            let (type_id, bytes) = match value {
                Meta::U32(v) => (T_U32, v.to_le_bytes().to_vec()),
                Meta::F32(v) => (T_F32, v.to_le_bytes().to_vec()),
                Meta::Bool(v) => (T_BOOL, vec![*v as u8]),
                Meta::Str(v) => (T_STRING, string(v.as_bytes())),
                Meta::Strs(v) => {
                    let items: Vec<u8> = v.iter().flat_map(|s| string(s.as_bytes())).collect();
                    (T_ARRAY, array(T_STRING, v.len() as u64, &items))
                }
                Meta::I32s(v) => (
                    T_ARRAY,
                    array(T_I32, v.len() as u64, &le(v, i32::to_le_bytes)),
                ),
                Meta::F32s(v) => (
                    T_ARRAY,
                    array(T_F32, v.len() as u64, &le(v, f32::to_le_bytes)),
                ),
            };
            file = file.kv(key, type_id, &bytes);
        }
        for (name, shape, values) in tensors {
            let dims: Vec<u64> = shape.iter().rev().map(|&d| d as u64).collect();
            file = file.tensor(TensorSpec::new(
                name,
                &dims,
                0,
                le(values, f32::to_le_bytes),
            ));
        }
        std::fs::write(path, file.build()).unwrap();
    }

    /// The metadata llama.cpp writes for the tiny Llama of [`config`] (architecture
    /// `general_architecture`), with a 32-token byte-level BPE vocabulary.
    pub fn gguf_metadata(general_architecture: &str) -> Vec<(String, Meta)> {
        let a = general_architecture;
        let key = |s: &str| format!("{a}.{s}");
        let mut tokens: Vec<String> = vec!["<s>".into(), "<pad>".into(), "</s>".into()];
        tokens.extend((0..VOCAB - 3).map(|i| ((b'a' + i as u8) as char).to_string()));
        let mut types = vec![1i32; VOCAB];
        types[..3].fill(3);
        vec![
            ("general.architecture".to_string(), Meta::Str(a.to_string())),
            (key("block_count"), Meta::U32(LAYERS as u32)),
            (key("context_length"), Meta::U32(64)),
            (key("embedding_length"), Meta::U32(HIDDEN as u32)),
            (key("feed_forward_length"), Meta::U32(INTER as u32)),
            (key("attention.head_count"), Meta::U32(HEADS as u32)),
            (key("attention.head_count_kv"), Meta::U32(KV_HEADS as u32)),
            (key("attention.layer_norm_rms_epsilon"), Meta::F32(1e-5)),
            (key("rope.freq_base"), Meta::F32(10000.0)),
            ("tokenizer.ggml.model".to_string(), Meta::Str("gpt2".into())),
            ("tokenizer.ggml.pre".to_string(), Meta::Str("smollm".into())),
            ("tokenizer.ggml.tokens".to_string(), Meta::Strs(tokens)),
            ("tokenizer.ggml.token_type".to_string(), Meta::I32s(types)),
            ("tokenizer.ggml.merges".to_string(), Meta::Strs(vec![])),
            ("tokenizer.ggml.bos_token_id".to_string(), Meta::U32(0)),
            ("tokenizer.ggml.eos_token_id".to_string(), Meta::U32(2)),
        ]
    }

    /// The tensors of [`write_safetensors`]'s tiny Llama (same values), under their GGUF
    /// names, Q/K permuted when `permute` is true (as llama.cpp stores Llama models).
    pub fn gguf_tensors(permute: bool) -> Vec<GgufTensor> {
        tensor_shapes()
            .into_iter()
            .enumerate()
            .map(|(i, (name, shape))| {
                let mut v = values(shape.iter().product(), i);
                if permute && name.ends_with("q_proj.weight") {
                    v = permute_rows(&v, &shape, HEADS);
                } else if permute && name.ends_with("k_proj.weight") {
                    v = permute_rows(&v, &shape, KV_HEADS);
                }
                (gguf_name(&name), shape, v)
            })
            .collect()
    }
}
