//! Nanoseconds per sampled token at real vocabulary sizes (SmolLM 49152, Gemma 3 262144).
//!
//! Logits are LLM-like (Gaussian bulk, a few strong candidates); `history` is 64 tokens.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use flint_sampling::{Rng, Sampler, SamplingConfig};
use std::hint::black_box;
use std::time::Duration;

fn logits(vocab: usize) -> Vec<f32> {
    let mut rng = Rng::new(vocab as u64);
    let mut v: Vec<f32> = (0..vocab)
        .map(|_| {
            let u1 = rng.next_f64().max(1e-300);
            let u2 = rng.next_f64();
            ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32 * 2.5
        })
        .collect();
    for i in 0..8 {
        v[(rng.next_u64() % vocab as u64) as usize] = 12.0 + i as f32;
    }
    v
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("sample");
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30)
        .throughput(Throughput::Elements(1));
    let configs = [
        ("greedy", SamplingConfig::greedy()),
        ("default", SamplingConfig::default()),
        (
            "default+penalties",
            SamplingConfig {
                repetition_penalty: 1.1,
                presence_penalty: 0.5,
                frequency_penalty: 0.5,
                ..SamplingConfig::default()
            },
        ),
        (
            "top_p_only",
            SamplingConfig {
                top_k: 0,
                min_p: 0.0,
                ..SamplingConfig::default()
            },
        ),
        ("unfiltered", SamplingConfig::unfiltered()),
    ];
    for vocab in [49_152, 262_144] {
        let row = logits(vocab);
        let history: Vec<u32> = (0..64).map(|i| (i * 7919) % vocab as u32).collect();
        for (name, cfg) in &configs {
            let mut sampler = Sampler::new(cfg.clone(), 42).unwrap();
            group.bench_with_input(BenchmarkId::new(*name, vocab), &row, |b, row| {
                b.iter(|| sampler.sample(black_box(row), black_box(&history)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
