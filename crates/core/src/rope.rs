//! Rotary position embedding (RoPE), in the "rotate-half" layout Hugging Face checkpoints use.
//!
//! The cos/sin tables are non-persistent buffers: no checkpoint stores them, so they are
//! computed after the weights are loaded, on the model's device. They grow on demand
//! (doubling) instead of being built for `max_position_embeddings` up front, which for a
//! 128k-context model would cost more memory than a small model's weights.

use crate::LoadError;
use burn::tensor::{Device, Tensor, TensorData};
use std::path::Path;

/// How rotary frequencies are rescaled for context extension (`rope_scaling` in config.json).
#[derive(Debug, Clone, PartialEq)]
pub enum RopeScaling {
    /// Position interpolation: every frequency divided by `factor`.
    Linear { factor: f64 },
    /// Llama 3.x: long wavelengths divided by `factor`, short ones kept, a smooth ramp between.
    Llama3 {
        factor: f64,
        low_freq_factor: f64,
        high_freq_factor: f64,
        original_max_position_embeddings: f64,
    },
}

impl RopeScaling {
    /// Reads `rope_scaling` of a `config.json`: `null`/absent/`default` is no scaling;
    /// `linear` and `llama3` are supported, any other type is an error naming the key.
    pub fn from_config(
        value: Option<&serde_json::Value>,
        path: &Path,
    ) -> Result<Option<Self>, LoadError> {
        let s = match value {
            None | Some(serde_json::Value::Null) => return Ok(None),
            Some(s) => s,
        };
        let kind = s
            .get("rope_type")
            .or_else(|| s.get("type"))
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let num = |key: &str| -> Result<f64, LoadError> {
            s.get(key).and_then(|v| v.as_f64()).ok_or_else(|| {
                LoadError::config(
                    path,
                    &format!("rope_scaling.{key}"),
                    "missing or not a number",
                )
            })
        };
        Ok(match kind {
            "default" => None,
            "linear" => Some(RopeScaling::Linear {
                factor: num("factor")?,
            }),
            "llama3" => Some(RopeScaling::Llama3 {
                factor: num("factor")?,
                low_freq_factor: num("low_freq_factor")?,
                high_freq_factor: num("high_freq_factor")?,
                original_max_position_embeddings: num("original_max_position_embeddings")?,
            }),
            other => {
                return Err(LoadError::config(
                    path,
                    "rope_scaling.rope_type",
                    format!("`{other}` is not supported (linear, llama3)"),
                ));
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RopeConfig {
    pub head_dim: usize,
    pub theta: f64,
    pub scaling: Option<RopeScaling>,
}

impl RopeConfig {
    /// Inverse frequencies `theta^(-2i/d)` for `i < d/2`, after scaling.
    pub fn inverse_frequencies(&self) -> Vec<f64> {
        let d = self.head_dim as f64;
        let base: Vec<f64> = (0..self.head_dim / 2)
            .map(|i| 1.0 / self.theta.powf(2.0 * i as f64 / d))
            .collect();
        match &self.scaling {
            None => base,
            Some(RopeScaling::Linear { factor }) => base.iter().map(|f| f / factor).collect(),
            Some(RopeScaling::Llama3 {
                factor,
                low_freq_factor,
                high_freq_factor,
                original_max_position_embeddings: old_ctx,
            }) => {
                let low_freq_wavelen = old_ctx / low_freq_factor;
                let high_freq_wavelen = old_ctx / high_freq_factor;
                base.iter()
                    .map(|&f| {
                        let wavelen = 2.0 * std::f64::consts::PI / f;
                        if wavelen < high_freq_wavelen {
                            f
                        } else if wavelen > low_freq_wavelen {
                            f / factor
                        } else {
                            let smooth = (old_ctx / wavelen - low_freq_factor)
                                / (high_freq_factor - low_freq_factor);
                            (1.0 - smooth) * f / factor + smooth * f
                        }
                    })
                    .collect()
            }
        }
    }
}

/// Precomputed cos/sin tables `[positions, head_dim]` on a device.
#[derive(Debug, Clone)]
pub struct Rope {
    inv_freq: Vec<f64>,
    head_dim: usize,
    cos: Tensor<2>,
    sin: Tensor<2>,
    capacity: usize,
    device: Device,
}

impl Rope {
    pub fn new(config: &RopeConfig, initial_positions: usize, device: &Device) -> Self {
        let inv_freq = config.inverse_frequencies();
        let (cos, sin) = tables(&inv_freq, config.head_dim, initial_positions, device);
        Self {
            inv_freq,
            head_dim: config.head_dim,
            cos,
            sin,
            capacity: initial_positions,
            device: device.clone(),
        }
    }

    /// Rotates `x` `[batch, heads, seq, head_dim]` whose first row sits at position `start`.
    pub fn apply(&mut self, x: Tensor<4>, start: usize) -> Tensor<4> {
        let [_, _, seq, hd] = x.dims();
        self.ensure_capacity(start + seq);
        if let Some(rotated) = crate::cpu::flex::rotate_half(&x, &self.cos, &self.sin, start) {
            return rotated;
        }
        let cos = self.cos.clone().narrow(0, start, seq).unsqueeze::<4>();
        let sin = self.sin.clone().narrow(0, start, seq).unsqueeze::<4>();
        let half = hd / 2;
        let x1 = x.clone().narrow(3, 0, half);
        let x2 = x.clone().narrow(3, half, half);
        let rotated = Tensor::cat(vec![x2.neg(), x1], 3);
        x * cos + rotated * sin
    }

    fn ensure_capacity(&mut self, positions: usize) {
        if positions <= self.capacity {
            return;
        }
        let capacity = positions.next_power_of_two().max(self.capacity * 2);
        let (cos, sin) = tables(&self.inv_freq, self.head_dim, capacity, &self.device);
        self.cos = cos;
        self.sin = sin;
        self.capacity = capacity;
    }
}

fn tables(
    inv_freq: &[f64],
    head_dim: usize,
    positions: usize,
    device: &Device,
) -> (Tensor<2>, Tensor<2>) {
    let mut cos = Vec::with_capacity(positions * head_dim);
    let mut sin = Vec::with_capacity(positions * head_dim);
    for pos in 0..positions {
        // Both halves of a head share the frequencies (rotate-half layout).
        for _ in 0..2 {
            for &f in inv_freq {
                let angle = pos as f64 * f;
                cos.push(angle.cos() as f32);
                sin.push(angle.sin() as f32);
            }
        }
    }
    let shape = [positions, head_dim];
    (
        Tensor::from_data(TensorData::new(cos, shape), device),
        Tensor::from_data(TensorData::new(sin, shape), device),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama3_scaling_matches_transformers_formula() {
        // Values from transformers' `_compute_llama3_parameters` for Llama 3.1 settings.
        let cfg = RopeConfig {
            head_dim: 128,
            theta: 500_000.0,
            scaling: Some(RopeScaling::Llama3 {
                factor: 8.0,
                low_freq_factor: 1.0,
                high_freq_factor: 4.0,
                original_max_position_embeddings: 8192.0,
            }),
        };
        let plain = RopeConfig {
            scaling: None,
            ..cfg.clone()
        };
        let scaled = cfg.inverse_frequencies();
        let base = plain.inverse_frequencies();
        // Highest frequency (short wavelength) is untouched; the lowest is divided by 8.
        assert_eq!(scaled[0], base[0]);
        assert!((scaled[63] - base[63] / 8.0).abs() < 1e-18);
        // A frequency in the ramp lies strictly between the two.
        let mid = (0..64)
            .find(|&i| {
                let w = 2.0 * std::f64::consts::PI / base[i];
                w > 2048.0 && w < 8192.0
            })
            .unwrap();
        assert!(scaled[mid] < base[mid] && scaled[mid] > base[mid] / 8.0);
    }

    #[test]
    fn linear_scaling_divides_every_frequency() {
        let cfg = RopeConfig {
            head_dim: 8,
            theta: 10_000.0,
            scaling: Some(RopeScaling::Linear { factor: 4.0 }),
        };
        let base = RopeConfig {
            scaling: None,
            ..cfg.clone()
        }
        .inverse_frequencies();
        for (s, b) in cfg.inverse_frequencies().iter().zip(base) {
            assert!((s - b / 4.0).abs() < 1e-15);
        }
    }
}
