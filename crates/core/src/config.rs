//! Reading an architecture's hyper-parameters out of `config.json`, with errors that name
//! the file and the offending key (`rope_scaling.factor`, `num_hidden_layers`, ...).

use crate::LoadError;
use serde::de::DeserializeOwned;
use std::path::Path;

/// Deserializes `json` (the parsed `config.json` at `path`) into `T`.
pub fn parse_config<T: DeserializeOwned>(
    json: &serde_json::Value,
    path: &Path,
) -> Result<T, LoadError> {
    serde_path_to_error::deserialize(json).map_err(|e| {
        // A missing field is reported at its parent ("."); serde names it in the message.
        let key = match e.path().to_string() {
            p if p == "." => e
                .inner()
                .to_string()
                .split('`')
                .nth(1)
                .unwrap_or("?")
                .to_string(),
            p => p,
        };
        LoadError::config(path, &key, e.inner().to_string())
    })
}

/// Refuses a size outside `1..=max` (corrupt or hostile configs are stopped before anything
/// is sized from them).
pub fn check_size(path: &Path, key: &str, value: usize, max: usize) -> Result<(), LoadError> {
    if value == 0 || value > max {
        return Err(LoadError::config(
            path,
            key,
            format!("{value} is outside 1..={max}"),
        ));
    }
    Ok(())
}
