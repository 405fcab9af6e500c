//! `flint-bench speed`: prefill and greedy-decode throughput of flint on each CPU backend,
//! and of the numpy reference, on the same prompt in the same run.

use crate::fixture::{FixtureArgs, cache_in_huge_pages};
use crate::numpy_ref;
use crate::stats::{argmax, median};
use crate::table::{Table, num};
use flint_core::Backend;
use flint_loader::TextTokenizer;
use std::path::Path;
use std::time::Instant;

/// The prompt of the prefill measurement (97 tokens with SmolLM2's tokenizer).
const PROMPT_CASE: &str = "long_paragraph";

/// A way of running the model: a backend, and whether bf16 weights are widened to f32 at
/// load (flex keeps linear and embedding weights bf16 by default).
struct Engine {
    label: &'static str,
    backend: Backend,
    f32_weights: bool,
}

const ENGINES: [Engine; 3] = [
    Engine {
        label: "flint-flex (bf16 weights in place, default)",
        backend: Backend::Flex,
        f32_weights: false,
    },
    Engine {
        label: "flint-flex --dtype f32",
        backend: Backend::Flex,
        f32_weights: true,
    },
    Engine {
        label: "flint-ndarray (f32)",
        backend: Backend::NdArray,
        f32_weights: true,
    },
];

/// One load and generation on one backend.
struct Sample {
    load_ms: f64,
    prefill_tps: f64,
    decode_tps: f64,
    generated: Vec<u32>,
}

/// Loads the model, warms it up, then times the prefill of `prompt` and `steps` greedy
/// decode steps. The model is dropped afterwards, so each sample starts from a fresh load.
fn measure(dir: &Path, engine: &Engine, prompt: &[u32], steps: usize) -> anyhow::Result<Sample> {
    let options = flint_loader::LoadOptions {
        f32_weights: engine.f32_weights,
        ..Default::default()
    };
    let start = Instant::now();
    let mut model = flint_loader::load_model_with(dir, engine.backend, options)?.model;
    let load_ms = start.elapsed().as_secs_f64() * 1e3;

    // Warm-up (thread pools, first-touch of weights), as the numpy reference does.
    model.forward(&prompt[..prompt.len().min(4)]);
    model.reset();

    let start = Instant::now();
    let mut logits = model.forward(prompt);
    let prefill_s = start.elapsed().as_secs_f64();

    let mut generated = Vec::with_capacity(steps);
    let start = Instant::now();
    for _ in 0..steps {
        let next = argmax(&logits);
        generated.push(next);
        logits = model.forward(&[next]);
    }
    let decode_s = start.elapsed().as_secs_f64();
    Ok(Sample {
        load_ms,
        prefill_tps: prompt.len() as f64 / prefill_s,
        decode_tps: steps as f64 / decode_s,
        generated,
    })
}

pub fn run(
    fixture: &FixtureArgs,
    reps: usize,
    steps: usize,
    python: &str,
    reference: &Path,
) -> anyhow::Result<()> {
    let dir = fixture.bf16_dir();
    // Every engine then maps or reads a file cached as a first flint load leaves it.
    cache_in_huge_pages(&dir.join("model.safetensors"))?;
    let tokenizer = TextTokenizer::from_dir(&dir)?;
    let prompt = tokenizer.encode(&fixture.prompt(PROMPT_CASE)?, true)?;

    let mut flint: Vec<Vec<Sample>> = ENGINES.iter().map(|_| Vec::new()).collect();
    let mut numpy = Vec::new();
    let mut numpy_error = None;
    // Interleaved, so slow drift of the shared machine hits every engine alike.
    for _ in 0..reps {
        for (i, engine) in ENGINES.iter().enumerate() {
            flint[i].push(measure(&dir, engine, &prompt, steps)?);
        }
        match numpy_ref::run(
            python,
            reference,
            &dir,
            &fixture.prompts,
            PROMPT_CASE,
            steps,
        ) {
            Ok(s) => numpy.push(s),
            Err(e) => numpy_error = Some(e.to_string()),
        }
    }

    println!(
        "### Speed (SmolLM2-135M `hf-bf16`, prompt `{PROMPT_CASE}` = {} tokens, \
         {steps} greedy decode steps, median of {reps}; the checkpoint cached in 2 MiB \
         folios, as a first flint load from disk leaves it)\n",
        prompt.len()
    );
    let np_prefill: Vec<f64> = numpy.iter().map(|s| s.prefill_tps).collect();
    let np_decode: Vec<f64> = numpy.iter().map(|s| s.decode_tps).collect();
    let ratio = |x: Option<f64>, by: Option<f64>| x.zip(by).map(|(x, by)| x / by);
    let mut table = Table::new(&[
        "engine",
        "load ms",
        "prefill tok/s (min–max)",
        "× numpy",
        "decode tok/s (min–max)",
        "× numpy",
        "load + prefill + decode ms",
    ]);
    let mut totals = Vec::new();
    for (i, engine) in ENGINES.iter().enumerate() {
        let values = |f: &dyn Fn(&Sample) -> f64| flint[i].iter().map(f).collect::<Vec<f64>>();
        let col = |f: &dyn Fn(&Sample) -> f64| median(&values(f));
        let (prefill, decode) = (values(&|s| s.prefill_tps), values(&|s| s.decode_tps));
        let load = col(&|s| s.load_ms);
        let total = col(&|s| {
            s.load_ms + 1e3 * (prompt.len() as f64 / s.prefill_tps + steps as f64 / s.decode_tps)
        });
        totals.push((engine.label, total));
        table.row(vec![
            engine.label.to_string(),
            num(load, 0),
            with_range(&prefill),
            num(ratio(median(&prefill), median(&np_prefill)), 2),
            with_range(&decode),
            num(ratio(median(&decode), median(&np_decode)), 2),
            num(total, 0),
        ]);
    }
    let numpy_label = match &numpy_error {
        Some(e) if numpy.is_empty() => format!("numpy reference (FAILED: {e})"),
        _ => "numpy reference (OpenBLAS, f32)".to_string(),
    };
    table.row(vec![
        numpy_label,
        "–".into(),
        with_range(&np_prefill),
        "1.00".into(),
        with_range(&np_decode),
        "1.00".into(),
        "–".into(),
    ]);
    print!("{}", table.render());
    println!();

    let same = flint
        .iter()
        .all(|s| s[0].generated == flint[0][0].generated);
    println!(
        "Greedy tokens identical for every engine: {}.",
        if same { "yes" } else { "NO" }
    );
    if let Some(&(fastest, Some(ms))) = totals
        .iter()
        .filter(|(_, t)| t.is_some())
        .min_by(|a, b| a.1.unwrap().total_cmp(&b.1.unwrap()))
    {
        println!(
            "Faster for load + {}-token prefill + {steps}-token decode: **{fastest}** ({ms:.0} ms).",
            prompt.len()
        );
    }
    Ok(())
}

/// The median and, since the machine is shared, the spread of the repetitions around it.
fn with_range(values: &[f64]) -> String {
    let min = values.iter().copied().reduce(f64::min);
    let max = values.iter().copied().reduce(f64::max);
    match (median(values), min, max) {
        (Some(m), Some(lo), Some(hi)) => format!("{m:.1} ({lo:.1}–{hi:.1})"),
        _ => "–".into(),
    }
}
