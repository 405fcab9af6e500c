//! The load tables: per-method medians, and flint's ratios to the baselines.

use super::Method;
use crate::child::ChildReport;
use crate::stats::{MB, median};
use crate::table::{Table, num};
use flint_loader::TextTokenizer;

/// The medians of one method's runs on one file.
pub struct MethodSummary {
    method: Method,
    load_ms: Option<f64>,
    /// Load plus the first forward pass.
    first_token_ms: Option<f64>,
    rss_load_mb: Option<f64>,
    rss_end_mb: Option<f64>,
    next_token: Option<u32>,
    /// Bytes the memcpy floor copied, and its copy time from a fresh mapping.
    floor: Option<(usize, Option<f64>)>,
    note: String,
    /// Why some (or all) runs produced no result.
    failure: Option<String>,
    runs: usize,
}

impl MethodSummary {
    pub fn new(method: Method, runs: &[ChildReport], failure: Option<String>) -> Self {
        let med = |f: &dyn Fn(&ChildReport) -> Option<f64>| {
            median(&runs.iter().filter_map(f).collect::<Vec<_>>())
        };
        let first = runs.first();
        Self {
            method,
            load_ms: med(&|r| Some(r.load_ms)),
            first_token_ms: med(&|r| r.forward_ms.map(|f| f + r.load_ms)),
            rss_load_mb: med(&|r| Some(r.peak_rss_load as f64 / MB)),
            rss_end_mb: med(&|r| Some(r.peak_rss_end as f64 / MB)),
            next_token: first.and_then(|r| r.first_token),
            floor: first
                .and_then(|r| r.copied_bytes)
                .map(|bytes| (bytes, med(&|r| r.fresh_map_ms))),
            note: first.map(|r| r.note.clone()).unwrap_or_default(),
            failure,
            runs: runs.len(),
        }
    }

    fn of(summaries: &[Self], method: Method) -> Option<&Self> {
        summaries.iter().find(|s| s.method == method)
    }
}

fn ratio(x: Option<f64>, by: Option<f64>) -> Option<f64> {
    x.zip(by).map(|(x, by)| x / by)
}

/// One row per method: medians, their ratios to the floor and to the f32 model size.
pub fn table(summaries: &[MethodSummary], f32_bytes: usize, tokenizer: &TextTokenizer) -> Table {
    let mut table = Table::new(&[
        "method",
        "load ms",
        "× floor",
        "first token ms",
        "peak RSS load MB",
        "÷ f32 model",
        "peak RSS +1st token MB",
        "÷ f32 model",
        "next token",
        "notes",
    ]);
    let floor_ms = MethodSummary::of(summaries, Method::FloorMemcpy).and_then(|s| s.load_ms);
    let model_mb = Some(f32_bytes as f64 / MB);
    for s in summaries {
        if s.runs == 0 {
            let why = s.failure.as_deref().unwrap_or("no result");
            let mut cells = vec![s.method.name().to_string()];
            cells.extend(std::iter::repeat_n("–".to_string(), 8));
            cells.push(format!("FAILED: {why}"));
            table.row(cells);
            continue;
        }
        let next = s.next_token.map_or("–".into(), |id| {
            let text = tokenizer.decode(&[id]).unwrap_or_default();
            format!("{id} {text:?}")
        });
        let mut note = s.note.clone();
        if let (Some((bytes, fresh)), Some(ms)) = (s.floor, s.load_ms) {
            let gbs = |ms: f64| bytes as f64 / ms / 1e6;
            note = format!(
                "memcpy of {:.0} MB, mapped pages: {:.1} GB/s; from a fresh map: {} ms ({} GB/s)",
                bytes as f64 / MB,
                gbs(ms),
                num(fresh, 1),
                num(fresh.map(gbs), 1)
            );
        }
        if let Some(err) = &s.failure {
            note.push_str(&format!("; some runs FAILED: {err}"));
        }
        // The floor runs no forward pass.
        let after_forward = |x: Option<f64>, digits| match s.floor {
            Some(_) => "–".to_string(),
            None => num(x, digits),
        };
        table.row(vec![
            s.method.name().to_string(),
            num(s.load_ms, 1),
            num(ratio(s.load_ms, floor_ms), 2),
            num(s.first_token_ms, 1),
            num(s.rss_load_mb, 0),
            num(ratio(s.rss_load_mb, model_mb), 2),
            after_forward(s.rss_end_mb, 0),
            after_forward(ratio(s.rss_end_mb, model_mb), 2),
            next,
            note,
        ]);
    }
    table
}

/// flint against each baseline: how many times faster to load and to the first token, and
/// how many times less peak memory once the model has run (mapped pages included).
pub fn comparison(summaries: &[MethodSummary]) -> Table {
    let mut table = Table::new(&[
        "flint vs baseline",
        "load: × faster",
        "first token: × sooner",
        "peak RSS +1st token: × lower",
    ]);
    for flint in [Method::FlintFlex, Method::FlintNdarray] {
        for baseline in [Method::BurnStore, Method::ReadThenCopy] {
            let (Some(f), Some(b)) = (
                MethodSummary::of(summaries, flint),
                MethodSummary::of(summaries, baseline),
            ) else {
                continue;
            };
            table.row(vec![
                format!("{} vs {}", flint.name(), baseline.name()),
                num(ratio(b.load_ms, f.load_ms), 1),
                num(ratio(b.first_token_ms, f.first_token_ms), 2),
                num(ratio(b.rss_end_mb, f.rss_end_mb), 2),
            ]);
        }
    }
    table
}
