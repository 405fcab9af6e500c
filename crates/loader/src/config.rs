//! Reading `config.json` and `generation_config.json`.

use flint_core::LoadError;
use std::path::Path;

/// Parses a JSON file, naming the file (and the line) in every error.
pub fn read_json(path: &Path) -> Result<serde_json::Value, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::io(path, e))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| LoadError::Json {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if !value.is_object() {
        return Err(LoadError::Json {
            path: path.to_path_buf(),
            message: "expected a JSON object at the top level".into(),
        });
    }
    Ok(value)
}

/// Writes `value` as pretty JSON with sorted keys and a final newline, so the same value
/// always gives the same bytes.
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), LoadError> {
    fn sorted(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&map[k]));
                }
                serde_json::Value::Object(out)
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    let text = serde_json::to_string_pretty(&sorted(value)).map_err(|e| LoadError::Json {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    std::fs::write(path, text + "\n").map_err(|e| LoadError::io(path, e))
}

/// End-of-sequence token ids. For a model directory (or a file in one),
/// `generation_config.json` wins over `config.json`, and either may hold one id or a list;
/// for a GGUF file, the EOS, end-of-turn and end-of-message ids of its metadata.
pub fn eos_token_ids(path: &Path) -> Result<Vec<u32>, LoadError> {
    if crate::gguf::is_gguf(path) {
        let model = crate::gguf::GgufModel::open(path)?;
        return crate::gguf::special_tokens::eos_token_ids(&model);
    }
    let model_dir = crate::model_dir(path);
    let model_dir = model_dir.as_path();
    let mut ids = Vec::new();
    for name in ["generation_config.json", "config.json"] {
        let path = model_dir.join(name);
        if !path.is_file() {
            continue;
        }
        let json = read_json(&path)?;
        match json.get("eos_token_id") {
            Some(serde_json::Value::Number(n)) => ids.extend(n.as_u64().map(|v| v as u32)),
            Some(serde_json::Value::Array(a)) => {
                ids.extend(a.iter().filter_map(|v| v.as_u64()).map(|v| v as u32))
            }
            _ => continue,
        }
        if !ids.is_empty() {
            break;
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Generation settings a model ships in `generation_config.json` (transformers' names).
/// Absent keys stay `None` so the caller can fall back to its own defaults.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct GenerationDefaults {
    /// transformers samples only when this is true; otherwise decoding is greedy.
    #[serde(default)]
    pub do_sample: Option<bool>,
    #[serde(default)]
    pub temperature: Option<f32>,
    #[serde(default)]
    pub top_k: Option<usize>,
    #[serde(default)]
    pub top_p: Option<f32>,
    #[serde(default)]
    pub min_p: Option<f32>,
    #[serde(default)]
    pub typical_p: Option<f32>,
    #[serde(default)]
    pub repetition_penalty: Option<f32>,
    #[serde(default)]
    pub max_new_tokens: Option<usize>,
}

impl GenerationDefaults {
    /// The settings for the model at `path`: a GGUF file carries none (all `None`); a
    /// directory or a file in one reads its `generation_config.json`.
    pub fn from_model_path(path: &Path) -> Result<Self, LoadError> {
        if crate::gguf::is_gguf(path) {
            return Ok(Self::default());
        }
        Self::from_dir(&crate::model_dir(path))
    }

    /// Reads `generation_config.json` in `model_dir`; all `None` when there is none.
    pub fn from_dir(model_dir: &Path) -> Result<Self, LoadError> {
        let path = model_dir.join("generation_config.json");
        if !path.is_file() {
            return Ok(Self::default());
        }
        let json = read_json(&path)?;
        serde_path_to_error::deserialize(&json)
            .map_err(|e| LoadError::config(&path, &e.path().to_string(), e.inner().to_string()))
    }
}
