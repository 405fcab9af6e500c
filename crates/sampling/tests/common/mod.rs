//! A deliberately naive reference for the whole chain: full sorts, textbook definitions,
//! no buffers or partial selection. The crate's optimised stages must agree with it.
//!
//! Logit arithmetic mirrors the crate's f32 operations exactly (so boundary decisions agree);
//! only the filters' algorithms differ.

#![allow(dead_code)]

use std::collections::BTreeMap;

use flint_sampling::{Rng, SamplingConfig};

fn clean(x: f32) -> f32 {
    if x.is_nan() { f32::NEG_INFINITY } else { x }
}

fn weight(l: f32, max: f32) -> f64 {
    if max == f32::INFINITY {
        if l == f32::INFINITY { 1.0 } else { 0.0 }
    } else {
        // The crate flushes weights below the smallest normal f32 (e^-87.3) to zero.
        let w = (l - max).exp();
        if w < f32::MIN_POSITIVE {
            0.0
        } else {
            f64::from(w)
        }
    }
}

/// Logits after penalties and bias, per the documented formulas.
pub fn penalised(logits: &[f32], history: &[u32], cfg: &SamplingConfig) -> Vec<f32> {
    let mut l: Vec<f32> = logits.iter().map(|&x| clean(x)).collect();
    let window: &[u32] = match cfg.repeat_last_n {
        0 => &[],
        n if n < 0 => history,
        n => &history[history.len().saturating_sub(n as usize)..],
    };
    let mut counts: BTreeMap<u32, u32> = BTreeMap::new();
    for &t in window {
        if (t as usize) < l.len() {
            *counts.entry(t).or_default() += 1;
        }
    }
    if cfg.repetition_penalty != 1.0 {
        let p = cfg.repetition_penalty;
        for &t in counts.keys() {
            let x = l[t as usize];
            l[t as usize] = clean(if x > 0.0 { x / p } else { x * p });
        }
    }
    if cfg.presence_penalty != 0.0 || cfg.frequency_penalty != 0.0 {
        for (&t, &c) in &counts {
            let pen = cfg.presence_penalty + cfg.frequency_penalty * c as f32;
            l[t as usize] = clean(l[t as usize] - pen);
        }
    }
    for (&t, &b) in &cfg.logit_bias {
        if let Some(x) = l.get_mut(t as usize) {
            *x = clean(*x + b);
        }
    }
    l
}

/// Live tokens sorted by descending logit, ascending id.
pub fn sorted_live(l: &[f32]) -> Vec<(u32, f32)> {
    let mut v: Vec<(u32, f32)> = l
        .iter()
        .enumerate()
        .filter(|&(_, &x)| x > f32::NEG_INFINITY)
        .map(|(i, &x)| (i as u32, x))
        .collect();
    v.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap().then(a.0.cmp(&b.0)));
    v
}

/// The final distribution, highest probability first (ties: lower id). Empty if nothing is live.
pub fn reference_distribution(
    logits: &[f32],
    history: &[u32],
    cfg: &SamplingConfig,
) -> Vec<(u32, f64)> {
    let mut l = penalised(logits, history, cfg);
    let mut tokens = sorted_live(&l);
    if tokens.is_empty() {
        return Vec::new();
    }
    if cfg.temperature <= 0.0 {
        return vec![(tokens[0].0, 1.0)];
    }
    if cfg.temperature != 1.0 {
        let max = tokens[0].1;
        for x in &mut l {
            *x = if max == f32::INFINITY {
                if *x == f32::INFINITY {
                    0.0
                } else {
                    f32::NEG_INFINITY
                }
            } else {
                clean((*x - max) / cfg.temperature)
            };
        }
        tokens = sorted_live(&l);
    }
    if cfg.top_k > 0 {
        tokens.truncate(cfg.top_k);
    }
    if cfg.top_p < 1.0 {
        let max = tokens[0].1;
        let total: f64 = tokens.iter().map(|t| weight(t.1, max)).sum();
        let mut cum = 0.0;
        for i in 0..tokens.len() {
            cum += weight(tokens[i].1, max);
            if cum >= f64::from(cfg.top_p) * total {
                tokens.truncate(i + 1);
                break;
            }
        }
    }
    if cfg.min_p > 0.0 {
        let max = tokens[0].1;
        let threshold = if max == f32::INFINITY {
            max
        } else {
            (max + f64::from(cfg.min_p).ln() as f32).min(max)
        };
        tokens.retain(|t| t.1 >= threshold);
    }
    if cfg.typical_p < 1.0 {
        tokens = typical(&tokens, cfg.typical_p);
    }
    let max = tokens.iter().map(|t| t.1).fold(f32::NEG_INFINITY, f32::max);
    let total: f64 = tokens.iter().map(|t| weight(t.1, max)).sum();
    let mut dist: Vec<(u32, f64)> = tokens
        .iter()
        .map(|t| (t.0, weight(t.1, max) / total))
        .filter(|t| t.1 > 0.0)
        .collect();
    dist.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap().then(a.0.cmp(&b.0)));
    dist
}

fn typical(tokens: &[(u32, f32)], mass: f32) -> Vec<(u32, f32)> {
    let max = tokens[0].1;
    let total: f64 = tokens.iter().map(|t| weight(t.1, max)).sum();
    let probs: Vec<f64> = tokens.iter().map(|t| weight(t.1, max) / total).collect();
    let entropy: f64 = probs
        .iter()
        .filter(|&&p| p > 0.0)
        .map(|&p| -p * p.ln())
        .sum();
    let mut order: Vec<usize> = (0..tokens.len()).collect();
    let dist = |i: usize| {
        if probs[i] > 0.0 {
            (-probs[i].ln() - entropy).abs()
        } else {
            f64::INFINITY
        }
    };
    // `tokens` is already in (logit desc, id asc) order, so a stable sort gives the tie-break.
    order.sort_by(|&a, &b| dist(a).partial_cmp(&dist(b)).unwrap());
    let mut cum = 0.0;
    let mut keep = order.len();
    for (n, &i) in order.iter().enumerate() {
        cum += probs[i];
        if cum >= f64::from(mass) {
            keep = n + 1;
            break;
        }
    }
    order[..keep].iter().map(|&i| tokens[i]).collect()
}

/// Deterministic, LLM-like logits: Gaussian bulk (std `scale`) plus a few strong candidates.
pub fn synthetic_logits(vocab: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let mut v: Vec<f32> = (0..vocab)
        .map(|_| {
            // Box–Muller.
            let u1 = rng.next_f64().max(1e-300);
            let u2 = rng.next_f64();
            ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32 * scale
        })
        .collect();
    for i in 0..8.min(vocab) {
        let id = (rng.next_u64() % vocab as u64) as usize;
        v[id] = 4.0 * scale + i as f32;
    }
    v
}
