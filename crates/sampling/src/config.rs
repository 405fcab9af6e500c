//! User-facing sampling options, with llama.cpp's defaults and the same meaning as in
//! llama.cpp and HF transformers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// All sampling options. `Default` gives llama.cpp's defaults (see each field).
///
/// Every stage has a neutral value that switches it off, so a config can describe anything
/// from pure greedy to plain softmax sampling. Missing fields deserialize to the defaults;
/// unknown fields are rejected so a typo in a config file is not silently ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplingConfig {
    /// Softmax temperature. `<= 0` means greedy (argmax, lowest id on ties). Default 0.8.
    pub temperature: f32,
    /// Keep the `top_k` highest-logit tokens. `0` disables. Default 40.
    pub top_k: usize,
    /// Nucleus: keep the smallest highest-probability set whose mass is `>= top_p` (at least
    /// one token). `1.0` disables. Default 0.95.
    pub top_p: f32,
    /// Keep tokens with `p >= min_p * p_max`. `0.0` disables. Default 0.05.
    pub min_p: f32,
    /// Locally typical sampling (Meister et al.): keep the smallest set, closest to the
    /// entropy first, whose mass is `>= typical_p`. `1.0` disables. Default 1.0.
    pub typical_p: f32,
    /// CTRL repetition penalty: a repeated token's logit is divided by it when positive and
    /// multiplied by it otherwise, once per distinct token. `1.0` disables. Default 1.0.
    pub repetition_penalty: f32,
    /// OpenAI presence penalty: subtracted once from every token seen in the window.
    /// `0.0` disables. Default 0.0.
    pub presence_penalty: f32,
    /// OpenAI frequency penalty: subtracted once per occurrence in the window.
    /// `0.0` disables. Default 0.0.
    pub frequency_penalty: f32,
    /// How many of the most recent tokens the penalties look at: `0` disables the penalties,
    /// `-1` uses the whole history. Default 64.
    pub repeat_last_n: i32,
    /// Added to the logit of each listed token id, after the penalties. In code,
    /// `f32::NEG_INFINITY` bans a token; JSON cannot carry infinities, so use e.g. `-1e30`.
    pub logit_bias: BTreeMap<u32, f32>,
}

impl Default for SamplingConfig {
    fn default() -> Self {
        Self {
            temperature: 0.8,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            typical_p: 1.0,
            repetition_penalty: 1.0,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            repeat_last_n: 64,
            logit_bias: BTreeMap::new(),
        }
    }
}

impl SamplingConfig {
    /// Deterministic argmax decoding (penalties and bias still apply if set later).
    pub fn greedy() -> Self {
        Self {
            temperature: 0.0,
            ..Self::default()
        }
    }

    /// Plain softmax sampling at temperature 1: every filter and penalty off.
    pub fn unfiltered() -> Self {
        Self {
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
            min_p: 0.0,
            ..Self::default()
        }
    }

    /// Whether the sampler picks the argmax instead of drawing.
    pub fn is_greedy(&self) -> bool {
        self.temperature <= 0.0
    }

    /// Whether any penalty reads the history.
    pub fn has_penalties(&self) -> bool {
        self.repeat_last_n != 0
            && (self.repetition_penalty != 1.0
                || self.presence_penalty != 0.0
                || self.frequency_penalty != 0.0)
    }

    /// Rejects values with no meaning (NaN, probabilities outside `[0, 1]`, a non-positive
    /// repetition penalty, `repeat_last_n < -1`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let unit = |field, v: f32| check(field, "in [0, 1]", v, (0.0..=1.0).contains(&v));
        check(
            "temperature",
            "finite",
            self.temperature,
            self.temperature.is_finite(),
        )?;
        unit("top_p", self.top_p)?;
        unit("min_p", self.min_p)?;
        unit("typical_p", self.typical_p)?;
        let rp = self.repetition_penalty;
        check(
            "repetition_penalty",
            "finite and > 0",
            rp,
            rp.is_finite() && rp > 0.0,
        )?;
        for (field, v) in [
            ("presence_penalty", self.presence_penalty),
            ("frequency_penalty", self.frequency_penalty),
        ] {
            check(field, "finite", v, v.is_finite())?;
        }
        check(
            "repeat_last_n",
            ">= -1",
            self.repeat_last_n,
            self.repeat_last_n >= -1,
        )?;
        for (&id, &bias) in &self.logit_bias {
            if bias.is_nan() {
                return Err(ConfigError::NanBias { id });
            }
        }
        Ok(())
    }
}

fn check(
    field: &'static str,
    expected: &'static str,
    value: impl ToString,
    ok: bool,
) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            field,
            expected,
            value: value.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_llama_cpp_like() {
        let c = SamplingConfig::default();
        c.validate().unwrap();
        assert_eq!(
            (c.temperature, c.top_k, c.top_p, c.min_p),
            (0.8, 40, 0.95, 0.05)
        );
        assert!(!c.has_penalties());
    }

    #[test]
    fn json_round_trip_and_partial_input() {
        let mut c = SamplingConfig::default();
        c.logit_bias.insert(7, -1e30);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<SamplingConfig>(&json).unwrap(), c);

        let partial: SamplingConfig = serde_json::from_str(r#"{"top_k": 5}"#).unwrap();
        assert_eq!(partial.top_k, 5);
        assert_eq!(partial.top_p, 0.95);
        assert!(serde_json::from_str::<SamplingConfig>(r#"{"topk": 5}"#).is_err());
    }

    #[test]
    fn validate_rejects_meaningless_values() {
        let bad = [
            SamplingConfig {
                top_p: 1.5,
                ..Default::default()
            },
            SamplingConfig {
                min_p: -0.1,
                ..Default::default()
            },
            SamplingConfig {
                typical_p: f32::NAN,
                ..Default::default()
            },
            SamplingConfig {
                temperature: f32::INFINITY,
                ..Default::default()
            },
            SamplingConfig {
                repetition_penalty: 0.0,
                ..Default::default()
            },
            SamplingConfig {
                repeat_last_n: -2,
                ..Default::default()
            },
            SamplingConfig {
                presence_penalty: f32::NAN,
                ..Default::default()
            },
        ];
        for c in bad {
            assert!(c.validate().is_err(), "{c:?}");
        }
        let mut c = SamplingConfig::default();
        c.logit_bias.insert(3, f32::NAN);
        assert_eq!(c.validate(), Err(ConfigError::NanBias { id: 3 }));
    }
}
