//! Helpers shared by flint's workspace-level end-to-end tests: where the SmolLM2 fixture
//! lives, how to build it when absent, and the reference outputs the numpy model wrote.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root (this crate lives in `<root>/tests`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
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
        if !dir.join("hf-bf16-sharded/model.safetensors.index.json").is_file()
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
