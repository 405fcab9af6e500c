//! Chi-square goodness of fit: sampled frequencies must match the filtered softmax.
//!
//! Seeds are fixed, so these are deterministic; the critical values (α = 0.001) make a
//! correct sampler pass with overwhelming margin for any seed, while a biased CDF walk, an
//! off-by-one in a filter or a skewed RNG fails by orders of magnitude.

mod common;

use common::{reference_distribution, synthetic_logits};
use flint_sampling::{Sampler, SamplingConfig};

/// Upper 0.1% point of chi-square with `df` degrees of freedom (Wilson–Hilferty).
fn chi_square_critical(df: usize) -> f64 {
    let df = df as f64;
    let z = 3.090_232; // standard normal upper 0.1%
    let h = 2.0 / (9.0 * df);
    df * (1.0 - h + z * h.sqrt()).powi(3)
}

/// Draws `n` tokens and checks the histogram against the reference distribution, pooling
/// tokens whose expected count is below 5 into one bin.
fn check_fit(logits: &[f32], cfg: SamplingConfig, seed: u64, n: usize) {
    let expected = reference_distribution(logits, &[], &cfg);
    assert!(expected.len() > 1, "test needs a non-trivial support");
    let mut sampler = Sampler::new(cfg, seed).unwrap();
    let mut counts = vec![0u64; logits.len()];
    for _ in 0..n {
        counts[sampler.sample(logits, &[]) as usize] += 1;
    }
    let in_support: u64 = expected.iter().map(|&(id, _)| counts[id as usize]).sum();
    assert_eq!(in_support, n as u64, "sampled a token the filters removed");

    let (mut chi2, mut bins) = (0.0, 0);
    let (mut pooled_obs, mut pooled_exp) = (0.0, 0.0);
    for &(id, p) in &expected {
        let e = p * n as f64;
        let o = counts[id as usize] as f64;
        if e < 5.0 {
            pooled_obs += o;
            pooled_exp += e;
        } else {
            chi2 += (o - e).powi(2) / e;
            bins += 1;
        }
    }
    if pooled_exp > 0.0 {
        chi2 += (pooled_obs - pooled_exp).powi(2) / pooled_exp;
        bins += 1;
    }
    let critical = chi_square_critical(bins - 1);
    assert!(
        chi2 < critical,
        "chi2 {chi2:.1} >= {critical:.1} with {bins} bins"
    );
}

#[test]
fn default_chain_matches_filtered_softmax() {
    let logits = synthetic_logits(512, 11, 1.0);
    check_fit(&logits, SamplingConfig::default(), 1234, 200_000);
}

#[test]
fn unfiltered_softmax_over_small_vocab() {
    let logits: Vec<f32> = (0..20).map(|i| (i as f32 * 0.37).sin() * 2.0).collect();
    check_fit(&logits, SamplingConfig::unfiltered(), 99, 200_000);
}

#[test]
fn top_p_without_top_k_over_larger_vocab() {
    let logits = synthetic_logits(4096, 5, 1.5);
    let cfg = SamplingConfig {
        temperature: 1.3,
        top_k: 0,
        top_p: 0.9,
        min_p: 0.0,
        ..SamplingConfig::default()
    };
    check_fit(&logits, cfg, 7, 100_000);
}

#[test]
fn typical_and_penalised_chain() {
    let logits = synthetic_logits(256, 3, 1.0);
    let cfg = SamplingConfig {
        typical_p: 0.8,
        top_k: 100,
        min_p: 0.0,
        ..SamplingConfig::default()
    };
    check_fit(&logits, cfg, 2024, 100_000);
}

#[test]
fn a_biased_sampler_would_fail() {
    // Guard against a vacuous test: a half-strength shift of the logits must be rejected.
    let logits: Vec<f32> = (0..20).map(|i| (i as f32 * 0.37).sin() * 2.0).collect();
    let skewed: Vec<f32> = logits.iter().map(|x| x * 1.1).collect();
    let expected = reference_distribution(&logits, &[], &SamplingConfig::unfiltered());
    let mut sampler = Sampler::new(SamplingConfig::unfiltered(), 99).unwrap();
    let n = 200_000;
    let mut counts = [0u64; 20];
    for _ in 0..n {
        counts[sampler.sample(&skewed, &[]) as usize] += 1;
    }
    let chi2: f64 = expected
        .iter()
        .map(|&(id, p)| {
            let e = p * n as f64;
            (counts[id as usize] as f64 - e).powi(2) / e
        })
        .sum();
    assert!(chi2 > chi_square_critical(expected.len() - 1));
}
