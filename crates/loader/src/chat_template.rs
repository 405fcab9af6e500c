//! Rendering chat messages with the model's own Jinja `chat_template`, as transformers'
//! `apply_chat_template(..., add_generation_prompt=True)` does.

use flint_core::LoadError;
use minijinja::{Environment, ErrorKind, context};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Template instructions one rendering may run: real templates use tens per message, so
/// this allows conversations of many thousand turns and stops a hostile template (nested
/// `range(100000)` loops) within a second or so.
const TEMPLATE_FUEL: u64 = 20_000_000;

/// Bytes one rendering may write. Fuel bounds instructions, not output: found by fuzzing, a
/// template of 1.3 kB emitted over 256 MiB within its fuel. 16 MiB is millions of tokens,
/// beyond any context.
const MAX_RENDERED_BYTES: usize = 16 << 20;

/// The rendered prompt, refusing to grow past [`MAX_RENDERED_BYTES`] (and remembering it
/// did: minijinja reports a failed write without its message).
struct BoundedOutput(Vec<u8>, bool);

impl std::io::Write for BoundedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_RENDERED_BYTES {
            self.1 = true;
            return Err(std::io::Error::other("output bound"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

pub struct ChatTemplate {
    source: String,
    bos_token: String,
    eos_token: String,
    path: PathBuf,
}

impl ChatTemplate {
    /// The chat template of the model at `path`: a GGUF file's `tokenizer.chat_template`, or
    /// the `tokenizer_config.json` of a model directory (or of the directory holding a
    /// checkpoint file). `Ok(None)` when the model has none.
    pub fn from_model_path(path: &Path) -> Result<Option<Self>, LoadError> {
        if crate::gguf::is_gguf(path) {
            return Self::from_gguf(&crate::gguf::GgufModel::open(path)?);
        }
        Self::from_dir(&crate::model_dir(path))
    }

    /// `tokenizer.chat_template` of a GGUF file, with the BOS/EOS strings of its token ids.
    pub fn from_gguf(model: &crate::gguf::GgufModel) -> Result<Option<Self>, LoadError> {
        use crate::gguf::special_tokens::{chat_template, token_string};
        let Some(source) = chat_template(model)? else {
            return Ok(None);
        };
        Ok(Some(Self {
            source,
            bos_token: token_string(model, "bos_token")?,
            eos_token: token_string(model, "eos_token")?,
            path: model.path().to_path_buf(),
        }))
    }

    /// Reads `chat_template` (and the BOS/EOS strings templates refer to) from
    /// `tokenizer_config.json`. `Ok(None)` when the model has no template.
    pub fn from_dir(dir: &Path) -> Result<Option<Self>, LoadError> {
        let path = dir.join("tokenizer_config.json");
        if !path.is_file() {
            return Ok(None);
        }
        let json = crate::config::read_json(&path)?;
        Self::from_tokenizer_config(&json, &path)
    }

    /// The template of a parsed `tokenizer_config.json` (`path` names it in errors).
    pub fn from_tokenizer_config(
        json: &serde_json::Value,
        path: &Path,
    ) -> Result<Option<Self>, LoadError> {
        let source = match json.get("chat_template") {
            Some(serde_json::Value::String(s)) => s.clone(),
            // Some configs hold a list of named templates; "default" is the chat one.
            Some(serde_json::Value::Array(list)) => list
                .iter()
                .find(|t| t.get("name").and_then(|n| n.as_str()) == Some("default"))
                .and_then(|t| t.get("template")?.as_str().map(str::to_string))
                .ok_or_else(|| LoadError::config(path, "chat_template", "no `default` entry"))?,
            None | Some(serde_json::Value::Null) => return Ok(None),
            Some(_) => {
                return Err(LoadError::config(
                    path,
                    "chat_template",
                    "expected a string or a list of named templates",
                ));
            }
        };
        let token = |key: &str| match json.get(key) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => v
                .get("content")
                .and_then(|c| c.as_str())
                .unwrap_or_default()
                .to_string(),
            None => String::new(),
        };
        Ok(Some(Self {
            source,
            bos_token: token("bos_token"),
            eos_token: token("eos_token"),
            path: path.to_path_buf(),
        }))
    }

    /// The prompt text for `messages`, ending with the assistant turn's opening.
    pub fn render(&self, messages: &[ChatMessage]) -> Result<String, LoadError> {
        let err =
            |e: minijinja::Error| LoadError::config(&self.path, "chat_template", e.to_string());
        let mut env = Environment::new();
        // A template comes with the model: nested loops must not hang the chat.
        env.set_fuel(Some(TEMPLATE_FUEL));
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |msg: String| -> Result<String, minijinja::Error> {
                Err(minijinja::Error::new(ErrorKind::InvalidOperation, msg))
            },
        );
        // minijinja can panic on some hostile templates (found by fuzzing: a negative-step
        // slice of an empty string indexes out of bounds); the template comes with the
        // model, so that is an error about the model, not a crash.
        let mut out = BoundedOutput(Vec::new(), false);
        let rendered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            env.add_template("chat", &self.source)?;
            env.get_template("chat")?.render_captured_to(
                context! {
                    messages => messages,
                    add_generation_prompt => true,
                    bos_token => self.bos_token,
                    eos_token => self.eos_token,
                },
                &mut out,
            )?;
            Ok::<(), minijinja::Error>(())
        }));
        match rendered {
            Ok(Err(_)) if out.1 => Err(LoadError::config(
                &self.path,
                "chat_template",
                format!(
                    "the rendered prompt exceeds {} MiB",
                    MAX_RENDERED_BYTES >> 20
                ),
            )),
            Ok(result) => {
                result.map_err(err)?;
                String::from_utf8(out.0)
                    .map_err(|e| LoadError::config(&self.path, "chat_template", e.to_string()))
            }
            Err(_) => Err(LoadError::config(
                &self.path,
                "chat_template",
                "the template engine (minijinja) panicked on this template",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(source: &str) -> ChatTemplate {
        let json = serde_json::json!({ "chat_template": source, "bos_token": "<s>" });
        ChatTemplate::from_tokenizer_config(&json, Path::new("tokenizer_config.json"))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn renders_messages_with_the_generation_prompt() {
        let t = template(
            "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}\
             {% if add_generation_prompt %}[assistant]{% endif %}",
        );
        let messages = [ChatMessage {
            role: "user".into(),
            content: "hi".into(),
        }];
        assert_eq!(t.render(&messages).unwrap(), "<s>[user]hi[assistant]");
    }

    /// fuzz/regressions/chat_template/negative-step-slice-of-empty-string.json
    #[test]
    fn a_template_that_makes_minijinja_panic_is_an_error() {
        let t = template("{{ ''[1:0:-1] }}");
        let err = t.render(&[]).unwrap_err().to_string();
        assert!(
            err.contains("tokenizer_config.json") && err.contains("`chat_template`"),
            "{err}"
        );
        assert!(err.contains("panicked"), "{err}");
    }

    /// fuzz/regressions/chat_template/output-beyond-the-bound.json, simplified.
    #[test]
    fn a_template_that_writes_gigabytes_is_stopped_at_the_output_bound() {
        let raw = "x".repeat(1000);
        let t = template(&format!(
            "{{% for i in range(100000) %}}{{% for j in range(100) %}}{raw}{{% endfor %}}{{% endfor %}}"
        ));
        let err = t.render(&[]).unwrap_err().to_string();
        assert!(err.contains("`chat_template`"), "{err}");
        assert!(err.contains("exceeds 16 MiB"), "{err}");
    }

    /// Found by fuzzing: a 2 kB template whose instructions work on multi-megabyte strings
    /// (fuel counts instructions, not their size): 4.7 s in the instrumented fuzz build,
    /// 0.3 s here. It must end, with a prompt or an error naming the file (its time is
    /// printed, not asserted: machines differ).
    #[test]
    fn a_template_of_slow_instructions_ends_with_a_result() {
        let raw = include_str!("../../../fuzz/regressions/chat_template/slow-4a0b5d1d.json");
        let Ok(json) = serde_json::from_str::<serde_json::Value>(raw) else {
            panic!("the regression input is JSON");
        };
        let path = Path::new("tokenizer_config.json");
        let start = std::time::Instant::now();
        if let Ok(Some(t)) = ChatTemplate::from_tokenizer_config(&json, path) {
            // The fuzz target's chat.
            let messages: Vec<ChatMessage> = [
                ("system", "Be brief."),
                ("user", "Hi {{ there }}"),
                ("assistant", "Hello."),
                ("user", "Bye"),
            ]
            .iter()
            .map(|(role, content)| ChatMessage {
                role: role.to_string(),
                content: content.to_string(),
            })
            .collect();
            if let Err(e) = t.render(&messages) {
                assert!(e.to_string().contains("tokenizer_config.json"), "{e}");
            }
        }
        println!("slow template: {:?}", start.elapsed());
    }

    #[test]
    fn a_template_that_would_loop_for_hours_runs_out_of_fuel() {
        let t = template(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        );
        let start = std::time::Instant::now();
        let err = t.render(&[]).unwrap_err().to_string();
        assert!(
            err.contains("tokenizer_config.json") && err.contains("`chat_template`"),
            "{err}"
        );
        assert!(err.contains("fuel"), "{err}");
        assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
    }
}
