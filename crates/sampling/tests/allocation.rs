//! The decode loop must not allocate: after a warm-up step, `sample` reuses its buffers.
//!
//! A counting global allocator records allocations made on this test's thread only.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use flint_sampling::{Sampler, SamplingConfig};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ACTIVE.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn sampling_allocates_nothing_after_warm_up() {
    let logits = common::synthetic_logits(49_152, 4, 2.0);
    let history: Vec<u32> = (0..200).map(|i| i * 37 % 49_152).collect();
    let configs = [
        SamplingConfig::greedy(),
        SamplingConfig::default(),
        SamplingConfig::unfiltered(),
        SamplingConfig {
            top_k: 0,
            typical_p: 0.9,
            repetition_penalty: 1.2,
            presence_penalty: 0.4,
            frequency_penalty: 0.1,
            repeat_last_n: -1,
            logit_bias: [(5, 2.0), (6, f32::NEG_INFINITY)].into(),
            ..SamplingConfig::default()
        },
    ];
    // The counter itself works (guards against a vacuous pass).
    ACTIVE.with(|a| a.set(true));
    std::hint::black_box(Vec::<u8>::with_capacity(16));
    ACTIVE.with(|a| a.set(false));
    assert!(ALLOCATIONS.load(Ordering::Relaxed) >= 1);

    for cfg in configs {
        let mut sampler = Sampler::new(cfg.clone(), 1).unwrap();
        sampler.sample(&logits, &history); // grows the buffers
        ALLOCATIONS.store(0, Ordering::Relaxed);
        ACTIVE.with(|a| a.set(true));
        for _ in 0..20 {
            std::hint::black_box(sampler.sample(&logits, &history));
        }
        ACTIVE.with(|a| a.set(false));
        assert_eq!(ALLOCATIONS.load(Ordering::Relaxed), 0, "{cfg:?}");
    }
}
