//! Sampling flags and how they combine with the model's `generation_config.json`.
//!
//! Precedence: a flag, else the model's `generation_config.json`, else flint's defaults.
//! As in transformers, a model that does not set `do_sample: true` decodes greedily unless
//! a positive `--temperature` is given; the filters then use llama.cpp's defaults
//! (top-k 40, top-p 0.95, min-p 0.05) unless the model or a flag sets them.

use clap::Args;
use flint_loader::GenerationDefaults;
use flint_sampling::SamplingConfig;

/// Default `--max-new-tokens` when neither flag nor model sets it.
pub const DEFAULT_MAX_NEW_TOKENS: usize = 256;

#[derive(Args, Debug, Clone, Default)]
pub struct SamplingArgs {
    /// Softmax temperature; 0 is greedy (argmax, lowest id on ties).
    #[arg(long)]
    pub temperature: Option<f32>,
    /// Keep the K most likely tokens (0 disables).
    #[arg(long)]
    pub top_k: Option<usize>,
    /// Nucleus sampling: keep the smallest set of tokens whose probability reaches P.
    #[arg(long)]
    pub top_p: Option<f32>,
    /// Keep tokens at least P times as likely as the most likely one.
    #[arg(long)]
    pub min_p: Option<f32>,
    /// Locally typical sampling mass (1 disables).
    #[arg(long)]
    pub typical_p: Option<f32>,
    /// Multiplicative repetition penalty (CTRL / transformers form; 1 disables).
    #[arg(long)]
    pub repeat_penalty: Option<f32>,
    /// Tokens of history the penalties look at (0 disables, -1 all).
    #[arg(long, allow_negative_numbers = true)]
    pub repeat_last_n: Option<i32>,
    /// OpenAI presence penalty.
    #[arg(long, allow_negative_numbers = true)]
    pub presence_penalty: Option<f32>,
    /// OpenAI frequency penalty.
    #[arg(long, allow_negative_numbers = true)]
    pub frequency_penalty: Option<f32>,
    /// Seed of the sampler's own random generator: same seed, same text, on any machine.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl SamplingArgs {
    /// The sampling settings this run uses.
    pub fn resolve(&self, model: &GenerationDefaults) -> SamplingConfig {
        let mut config = SamplingConfig::default();
        let samples = model.do_sample.unwrap_or(false);
        config.temperature = if samples {
            model.temperature.unwrap_or(config.temperature)
        } else {
            0.0
        };
        if let Some(v) = model.top_k {
            config.top_k = v;
        }
        if let Some(v) = model.top_p {
            config.top_p = v;
        }
        if let Some(v) = model.min_p {
            config.min_p = v;
        }
        if let Some(v) = model.typical_p {
            config.typical_p = v;
        }
        if let Some(v) = model.repetition_penalty {
            config.repetition_penalty = v;
        }
        let flags = [
            (self.temperature, &mut config.temperature),
            (self.top_p, &mut config.top_p),
            (self.min_p, &mut config.min_p),
            (self.typical_p, &mut config.typical_p),
            (self.repeat_penalty, &mut config.repetition_penalty),
            (self.presence_penalty, &mut config.presence_penalty),
            (self.frequency_penalty, &mut config.frequency_penalty),
        ];
        for (flag, field) in flags {
            if let Some(v) = flag {
                *field = v;
            }
        }
        if let Some(v) = self.top_k {
            config.top_k = v;
        }
        if let Some(v) = self.repeat_last_n {
            config.repeat_last_n = v;
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_unless_the_model_samples_or_a_temperature_is_given() {
        let none = GenerationDefaults::default();
        assert_eq!(SamplingArgs::default().resolve(&none).temperature, 0.0);
        let hot = SamplingArgs {
            temperature: Some(0.7),
            ..Default::default()
        };
        let c = hot.resolve(&none);
        assert_eq!((c.temperature, c.top_k, c.top_p), (0.7, 40, 0.95));
    }

    #[test]
    fn model_settings_apply_and_flags_override_them() {
        let model = GenerationDefaults {
            do_sample: Some(true),
            temperature: Some(0.6),
            top_p: Some(0.9),
            top_k: Some(20),
            ..Default::default()
        };
        let c = SamplingArgs::default().resolve(&model);
        assert_eq!((c.temperature, c.top_k, c.top_p), (0.6, 20, 0.9));
        let flags = SamplingArgs {
            top_k: Some(5),
            temperature: Some(0.0),
            ..Default::default()
        };
        let c = flags.resolve(&model);
        assert_eq!((c.temperature, c.top_k, c.top_p), (0.0, 5, 0.9));
    }
}
