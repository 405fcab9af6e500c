//! Property tests: the optimised stages against their definitions and the naive reference.

mod common;

use common::reference_distribution;
use flint_sampling::stages::{MinP, TopK, TopP};
use flint_sampling::{Candidates, SampleError, Sampler, SamplingConfig, Stage, Workspace};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// Logits with deliberate ties (small integer grid), plus some NaN and `-inf`.
fn tie_heavy_logits(max_len: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(
        prop_oneof![
            8 => (-6i32..6).prop_map(|x| x as f32 * 0.5),
            4 => -20.0f32..20.0,
            1 => Just(f32::NEG_INFINITY),
            1 => Just(f32::NAN),
        ],
        1..max_len,
    )
}

/// Arbitrary floats, including every special value, to check nothing panics.
fn wild_logits() -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<f32>(),
            1 => Just(f32::INFINITY),
            1 => Just(f32::NEG_INFINITY),
            1 => Just(f32::NAN),
            1 => Just(f32::MAX),
            1 => Just(-f32::MAX),
        ],
        1..64,
    )
}

fn config() -> impl Strategy<Value = SamplingConfig> {
    (
        prop_oneof![1 => Just(0.0f32), 1 => Just(1.0f32), 4 => 0.05f32..2.5],
        prop_oneof![1 => Just(0usize), 3 => 1usize..50],
        prop_oneof![1 => Just(1.0f32), 3 => 0.0f32..1.0],
        prop_oneof![1 => Just(0.0f32), 2 => 0.0f32..0.5],
        prop_oneof![3 => Just(1.0f32), 1 => 0.05f32..1.0],
        (
            prop_oneof![1 => Just(1.0f32), 1 => 0.5f32..2.0],
            prop_oneof![1 => Just(0.0f32), 1 => -1.0f32..2.0],
            prop_oneof![1 => Just(0.0f32), 1 => -1.0f32..1.0],
            -1i32..20,
            prop::collection::btree_map(0u32..300, -5.0f32..5.0, 0..4),
        ),
    )
        .prop_map(
            |(temperature, top_k, top_p, min_p, typical_p, (rep, pres, freq, last_n, bias))| {
                SamplingConfig {
                    temperature,
                    top_k,
                    top_p,
                    min_p,
                    typical_p,
                    repetition_penalty: rep,
                    presence_penalty: pres,
                    frequency_penalty: freq,
                    repeat_last_n: last_n,
                    logit_bias: bias,
                }
            },
        )
}

fn live_after(stage: &mut impl Stage, logits: &[f32]) -> Vec<(u32, f32)> {
    let mut ws = Workspace::new();
    let mut c = Candidates::new(logits, &mut ws);
    stage.apply(&mut c, &[]);
    c.live().iter().map(|t| (t.id, t.logit)).collect()
}

fn clean(l: &[f32]) -> Vec<f32> {
    l.iter()
        .map(|&x| if x.is_nan() { f32::NEG_INFINITY } else { x })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 400,
        rng_seed: RngSeed::Fixed(0x5EED_F11E),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Exactly min(k, live) tokens; everything kept beats everything dropped, lower id on ties.
    #[test]
    fn top_k_keeps_exactly_k(logits in tie_heavy_logits(600), k in 1usize..80) {
        let kept = live_after(&mut TopK::new(k), &logits);
        let expected = common::sorted_live(&clean(&logits));
        let n = k.min(expected.len());
        prop_assert_eq!(kept.len(), n);
        prop_assert_eq!(&kept[..], &expected[..n]);
    }

    /// Long rows of nearly equal logits force many buffer compactions in the one-pass top-k
    /// scan; any slack in its rising threshold would drop a token that belongs in the top k.
    #[test]
    fn top_k_scan_is_exact_on_long_close_rows(
        logits in prop::collection::vec(prop_oneof![4 => 0.0f32..0.01, 1 => Just(0.005f32)], 300..3000),
        k in 1usize..120,
    ) {
        let kept = live_after(&mut TopK::new(k), &logits);
        let expected = common::sorted_live(&logits);
        prop_assert_eq!(&kept[..], &expected[..k.min(expected.len())]);
    }

    /// The kept set reaches mass p, dropping its last token would not, and it is a prefix of
    /// the probability order.
    #[test]
    fn top_p_keeps_smallest_set_reaching_p(logits in tie_heavy_logits(600), p in 0.0f32..1.0) {
        let l = clean(&logits);
        let all = common::sorted_live(&l);
        prop_assume!(!all.is_empty());
        let kept = live_after(&mut TopP::new(p), &logits);
        prop_assert!(!kept.is_empty());
        prop_assert_eq!(&kept[..], &all[..kept.len()]);
        let max = all[0].1;
        let w = |x: f32| f64::from((x - max).exp());
        let total: f64 = all.iter().map(|t| w(t.1)).sum();
        let mass: f64 = kept.iter().map(|t| w(t.1)).sum::<f64>() / total;
        let without_last = mass - w(kept[kept.len() - 1].1) / total;
        prop_assert!(mass >= f64::from(p) - 1e-9, "mass {} < p {}", mass, p);
        prop_assert!(without_last < f64::from(p) + 1e-9, "not minimal: {} without last", without_last);
    }

    /// Kept iff p >= min_p * p_max (up to rounding at the boundary).
    #[test]
    fn min_p_keeps_tokens_above_ratio(logits in tie_heavy_logits(300), min_p in 0.001f32..1.0) {
        let all = common::sorted_live(&clean(&logits));
        prop_assume!(!all.is_empty());
        let kept = live_after(&mut MinP::new(min_p), &logits);
        let max = all[0].1;
        for (id, x) in &all {
            let ratio = f64::from(*x - max).exp();
            let is_kept = kept.iter().any(|t| t.0 == *id);
            if ratio > f64::from(min_p) * (1.0 + 1e-5) { prop_assert!(is_kept); }
            if ratio < f64::from(min_p) * (1.0 - 1e-5) { prop_assert!(!is_kept); }
        }
    }

    /// The full optimised chain gives the same distribution as the naive reference.
    #[test]
    fn chain_matches_reference(
        logits in tie_heavy_logits(400),
        history in prop::collection::vec(0u32..450, 0..40),
        cfg in config(),
    ) {
        let expected = reference_distribution(&logits, &history, &cfg);
        let mut sampler = Sampler::new(cfg, 1).unwrap();
        match sampler.probabilities(&logits, &history) {
            Err(SampleError::NoFiniteLogits) => prop_assert!(expected.is_empty()),
            Err(e) => prop_assert!(false, "unexpected {e}"),
            Ok(got) => {
                prop_assert_eq!(got.len(), expected.len());
                for (g, e) in got.iter().zip(&expected) {
                    prop_assert_eq!(g.id, e.0);
                    prop_assert!((f64::from(g.prob) - e.1).abs() < 1e-6, "{:?} vs {:?}", g, e);
                }
            }
        }
    }

    /// Probabilities are positive and sum to 1; a draw always lands in their support.
    #[test]
    fn distribution_is_normalised_and_draws_stay_in_support(
        logits in tie_heavy_logits(400),
        cfg in config(),
        seed in any::<u64>(),
    ) {
        let mut sampler = Sampler::new(cfg, seed).unwrap();
        if let Ok(dist) = sampler.probabilities(&logits, &[]) {
            let sum: f64 = dist.iter().map(|t| f64::from(t.prob)).sum();
            prop_assert!((sum - 1.0).abs() < 1e-5, "sum {}", sum);
            prop_assert!(dist.iter().all(|t| t.prob > 0.0));
            for _ in 0..8 {
                let id = sampler.try_sample(&logits, &[]).unwrap();
                prop_assert!(dist.iter().any(|t| t.id == id));
            }
        }
    }

    /// Any floats at all, any config: no panic; an error only when no logit is finite.
    #[test]
    fn special_values_never_panic(logits in wild_logits(), cfg in config(), seed in any::<u64>()) {
        let mut sampler = Sampler::new(cfg, seed).unwrap();
        let history = [0, 1, 2, 3];
        let id = sampler.sample(&logits, &history);
        prop_assert!((id as usize) < logits.len());
        if let Ok(id) = sampler.try_sample(&logits, &history) {
            prop_assert!(!logits[id as usize].is_nan());
        }
        let any_valid = logits.iter().any(|x| !x.is_nan() && *x > f32::NEG_INFINITY);
        if !any_valid {
            prop_assert_eq!(sampler.try_sample(&logits, &history), Err(SampleError::NoFiniteLogits));
            prop_assert_eq!(sampler.sample(&logits, &history), 0);
        }
    }

    /// Temperature 0 is exactly the argmax of the penalised logits (lowest id on ties).
    #[test]
    fn temperature_zero_is_argmax(logits in tie_heavy_logits(400), seed in any::<u64>()) {
        let cfg = SamplingConfig::greedy();
        let expected = common::sorted_live(&clean(&logits)).first().map(|t| t.0);
        let mut sampler = Sampler::new(cfg, seed).unwrap();
        prop_assert_eq!(sampler.try_sample(&logits, &[]).ok(), expected);
    }
}
