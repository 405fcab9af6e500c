//! The scale tables: one per checkpoint (every method, cold and warm), flint's ratios to the
//! baselines, and the straight-line fit of load time against checkpoint size.

use super::{CacheState, Layout, ScaleArgs, Size, fit};
use crate::checkpoint::Facts;
use crate::child::ChildReport;
use crate::load::Method;
use crate::stats::{MB, median};
use crate::table::{Table, num};
use std::path::PathBuf;

/// Peak RSS may exceed the bytes the model finally holds by this factor at most.
const RSS_LIMIT: f64 = 1.1;

/// One checkpoint measured.
pub struct Point {
    pub size: Size,
    pub layout: Layout,
    pub path: PathBuf,
    pub facts: Facts,
    /// The 1-minute load average when its measurements started and ended.
    pub load_average: Option<(String, String)>,
}

impl Point {
    pub fn label(&self) -> String {
        let name = match self.size {
            Size::M135 => "SmolLM2-135M",
            Size::B1 => "Llama-1B (synthetic)",
            Size::B3 => "Llama-3B (synthetic)",
        };
        format!("{name}, {}", self.layout.name())
    }

    fn gb(&self) -> f64 {
        self.facts.data_bytes as f64 / 1e9
    }
}

/// One method on one checkpoint in one cache state, over its repetitions.
pub struct Cell {
    pub point: usize,
    pub method: Method,
    pub cache: CacheState,
    runs: Vec<ChildReport>,
    /// Fraction of the checkpoint's pages in the page cache before and after each run.
    resident: Vec<(f64, f64)>,
    pub failure: Option<String>,
    pub skipped: Option<String>,
}

impl Cell {
    pub fn new(point: usize, method: Method, cache: CacheState) -> Self {
        Self {
            point,
            method,
            cache,
            runs: Vec::new(),
            resident: Vec::new(),
            failure: None,
            skipped: None,
        }
    }

    pub fn add(&mut self, report: ChildReport, before: f64, after: f64) {
        self.runs.push(report);
        self.resident.push((before, after));
    }

    fn med(&self, f: impl Fn(&ChildReport) -> Option<f64>) -> Option<f64> {
        median(&self.runs.iter().filter_map(f).collect::<Vec<_>>())
    }

    fn load_ms(&self) -> Option<f64> {
        self.med(|r| Some(r.load_ms))
    }

    fn first_token_ms(&self) -> Option<f64> {
        self.med(|r| r.forward_ms.map(|f| f + r.load_ms))
    }

    fn is_floor(&self) -> bool {
        self.method == Method::FloorMemcpy
    }

    /// The highest resident memory of the run: after the first token, or after the load for
    /// the floor (which runs no forward pass).
    fn peak_mb(&self) -> Option<f64> {
        self.med(|r| Some(r.peak_rss_end.max(r.peak_rss_load) as f64 / MB))
    }

    fn final_mb(&self) -> Option<f64> {
        self.med(|r| (r.final_bytes > 0).then_some(r.final_bytes as f64 / MB))
    }

    /// Peak RSS over the bytes the model holds (`None` for the floor, whose peak counts the
    /// source pages and the copy: 2x by construction).
    fn rss_ratio(&self) -> Option<f64> {
        if self.is_floor() {
            return None;
        }
        ratio(self.peak_mb(), self.final_mb())
    }
}

fn ratio(x: Option<f64>, by: Option<f64>) -> Option<f64> {
    x.zip(by).map(|(x, by)| x / by)
}

/// The floor's memcpy between mapped pages of `point`'s bytes: a property of the machine's
/// memory, not of the page cache, so the warm run's (whose copy competes with no reclaim of
/// the pages just read from disk) serves both cache states.
fn bandwidth_floor_ms(cells: &[Cell], point: usize) -> Option<f64> {
    [CacheState::Warm, CacheState::Cold]
        .into_iter()
        .find_map(|cache| find(cells, point, Method::FloorMemcpy, cache).and_then(Cell::load_ms))
}

/// The cell of `method` on `point` in `cache`, if it produced at least one result.
fn find(cells: &[Cell], point: usize, method: Method, cache: CacheState) -> Option<&Cell> {
    cells
        .iter()
        .find(|c| c.point == point && c.method == method && c.cache == cache && !c.runs.is_empty())
}

pub fn print(points: &[Point], cells: &[Cell], args: &ScaleArgs, reps: usize) {
    println!("### Load at scale (median of {reps} fresh-process loads per cell)\n");
    println!("{}\n", how_to_read(&args.tokens));
    for (pi, point) in points.iter().enumerate() {
        let f = &point.facts;
        println!(
            "#### {} ({} file{}, {:.0} MB of bf16 tensors, {:.2}B parameters, {:.0} MB in f32)\n",
            point.label(),
            f.files.len(),
            if f.files.len() == 1 { "" } else { "s" },
            f.data_bytes as f64 / MB,
            f.f32_bytes as f64 / 4e9,
            f.f32_bytes as f64 / MB
        );
        println!("{}", checkpoint_table(cells, pi).render());
        println!("{}", same_token_line(cells, pi));
        if let Some((before, after)) = &point.load_average {
            println!("Load average (1 min) while measuring: {before} → {after}.");
        }
        println!();
    }
    println!("#### flint against the baselines, in this run\n");
    println!("{}", ratio_table(points, cells, &args.cache).render());
    println!("#### Linearity: load ms = a + b × GB, least squares over the sizes\n");
    println!(
        "x is the checkpoint's bytes of tensors (bf16); \"worst residual\" is the largest \
         distance of a point from the line relative to the point; \"peak RSS ÷ final\" is given \
         for each size (smallest first) and checked against {RSS_LIMIT}×.\n"
    );
    println!("{}", fit_table(points, cells, args).render());
}

fn how_to_read(tokens: &[u32]) -> String {
    format!(
        "Each cell is one method loading one checkpoint in a fresh child process. **cold**: \
         every file of the checkpoint was dropped from the page cache \
         (`posix_fadvise(DONTNEED)`) right before the child started, so the load reads the \
         disk; **warm**: the files were read beforehand. \"in cache before→after\" is the \
         fraction of the checkpoint's pages resident (`mincore`) when the child started and \
         when it ended: ~0% before a cold run shows the drop worked, and less than 100% after \
         a warm one means memory pressure evicted part of the file during the load. \
         \"× floor\" divides by `floor-memcpy`'s copy of the same bytes between mapped pages \
         in the warm run (memory bandwidth); \"× fresh map\" by the floor's copy out of a \
         fresh mapping in the same cache state (page faults; in a cold run, the disk reads \
         too). \"first token\" \
         is load plus one forward pass on token ids {tokens:?}. \"final MB\" is what the \
         method's weights occupy once loaded (flint: `AssignStats` zero-copy + copied bytes; \
         burn-store: parameters × the dtype it ends with; read-then-copy: its f32 copies; the \
         floor: its copy), and \"÷ final\" divides the peak RSS (`VmHWM`, after the first token, \
         mapped file pages included) by it. \"skipped\" cells would not fit in the memory \
         available when they were due."
    )
}

fn checkpoint_table(cells: &[Cell], point: usize) -> Table {
    let mut table = Table::new(&[
        "method",
        "cache",
        "load ms",
        "× floor",
        "× fresh map",
        "first token ms",
        "peak RSS load MB",
        "peak RSS +1st token MB",
        "final MB",
        "÷ final",
        "in cache before→after",
        "next token",
        "notes",
    ]);
    for cell in cells.iter().filter(|c| c.point == point) {
        let name = cell.method.name().to_string();
        let cache = cell.cache.name().to_string();
        if cell.runs.is_empty() {
            let why = cell
                .skipped
                .clone()
                .or_else(|| cell.failure.as_ref().map(|f| format!("FAILED: {f}")))
                .unwrap_or_else(|| "no result".into());
            let mut row = vec![name, cache];
            row.extend(std::iter::repeat_n("–".to_string(), 10));
            row.push(why);
            table.row(row);
            continue;
        }
        let floor = find(cells, point, Method::FloorMemcpy, cell.cache);
        let floor_ms = bandwidth_floor_ms(cells, point);
        let fresh_ms = floor.and_then(|f| f.med(|r| r.fresh_map_ms));
        let resident = |pick: fn(&(f64, f64)) -> f64| {
            median(&cell.resident.iter().map(pick).collect::<Vec<_>>()).map(|x| x * 100.0)
        };
        let mut note = cell.runs[0].note.clone();
        if let Some(bytes) = cell.runs[0].copied_bytes {
            let gbs = |ms: f64| bytes as f64 / ms / 1e6;
            note = format!(
                "memcpy of {:.0} MB between mapped pages: {} GB/s; from a fresh map: {} ms ({} GB/s)",
                bytes as f64 / MB,
                num(cell.load_ms().map(gbs), 1),
                num(fresh_ms, 0),
                num(fresh_ms.map(gbs), 2),
            );
        }
        if let Some(err) = &cell.failure {
            note.push_str(&format!("; some runs FAILED: {err}"));
        }
        let after_forward = |x: Option<f64>| {
            if cell.is_floor() {
                "–".to_string()
            } else {
                num(x, 0)
            }
        };
        table.row(vec![
            name,
            cache,
            num(cell.load_ms(), 0),
            num(ratio(cell.load_ms(), floor_ms), 1),
            num(ratio(cell.load_ms(), fresh_ms), 2),
            num(cell.first_token_ms(), 0),
            num(cell.med(|r| Some(r.peak_rss_load as f64 / MB)), 0),
            after_forward(cell.med(|r| Some(r.peak_rss_end as f64 / MB))),
            num(cell.final_mb(), 0),
            num(
                if cell.is_floor() {
                    ratio(cell.peak_mb(), cell.final_mb())
                } else {
                    cell.rss_ratio()
                },
                2,
            ),
            format!(
                "{}%→{}%",
                num(resident(|r| r.0), 0),
                num(resident(|r| r.1), 0)
            ),
            cell.runs[0]
                .first_token
                .map_or("–".into(), |t| t.to_string()),
            note,
        ]);
    }
    table
}

/// Whether every method that ran a forward pass predicted the same next token.
fn same_token_line(cells: &[Cell], point: usize) -> String {
    let mut tokens: Vec<(Method, u32)> = cells
        .iter()
        .filter(|c| c.point == point)
        .flat_map(|c| {
            c.runs
                .iter()
                .filter_map(move |r| r.first_token.map(|t| (c.method, t)))
        })
        .collect();
    tokens.sort_by_key(|t| t.1);
    match (tokens.first(), tokens.last()) {
        (Some(a), Some(b)) if a.1 == b.1 => {
            format!(
                "Greedy next token identical in every run of every method: yes ({}).",
                a.1
            )
        }
        (Some(_), Some(_)) => format!(
            "Greedy next token identical in every run of every method: **no** ({:?}).",
            tokens
        ),
        _ => "No forward pass ran.".into(),
    }
}

/// Per checkpoint and cache state: how flint-flex compares with each baseline.
fn ratio_table(points: &[Point], cells: &[Cell], caches: &[CacheState]) -> Table {
    let mut table = Table::new(&[
        "checkpoint",
        "cache",
        "flint-flex load ms",
        "× floor",
        "vs burn-store: load × faster",
        "first token × sooner",
        "peak RSS × lower",
        "vs read-then-copy: load × faster",
        "mmap vs --no-mmap: load × faster",
        "peak RSS × lower",
    ]);
    for (pi, point) in points.iter().enumerate() {
        for &cache in caches {
            let get = |m| find(cells, pi, m, cache);
            let flint = get(Method::FlintFlex);
            let faster = |other: Option<&Cell>, what: fn(&Cell) -> Option<f64>| {
                num(ratio(other.and_then(what), flint.and_then(what)), 2)
            };
            let burn = get(Method::BurnStore);
            let copy = get(Method::ReadThenCopy);
            let nommap = get(Method::FlintFlexNoMmap);
            table.row(vec![
                point.label(),
                cache.name().into(),
                num(flint.and_then(Cell::load_ms), 0),
                num(
                    ratio(flint.and_then(Cell::load_ms), bandwidth_floor_ms(cells, pi)),
                    1,
                ),
                faster(burn, Cell::load_ms),
                faster(burn, Cell::first_token_ms),
                faster(burn, Cell::peak_mb),
                faster(copy, Cell::load_ms),
                faster(nommap, Cell::load_ms),
                faster(nommap, Cell::peak_mb),
            ]);
        }
    }
    table
}

/// Per method, layout and cache state: the straight line through load time against size.
fn fit_table(points: &[Point], cells: &[Cell], args: &ScaleArgs) -> Table {
    let mut table = Table::new(&[
        "method",
        "layout",
        "cache",
        "points (GB → load ms)",
        "a: constant ms",
        "b: ms per GB",
        "→ GB/s",
        "R²",
        "worst residual",
        "peak RSS ÷ final, each size",
        &format!("≤ {RSS_LIMIT}× at every size"),
    ]);
    for &method in &args.methods {
        for &layout in &args.layouts {
            for &cache in &args.cache {
                let series: Vec<(f64, &Cell)> = points
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.layout == layout)
                    .filter_map(|(pi, p)| find(cells, pi, method, cache).map(|c| (p.gb(), c)))
                    .collect();
                let xy: Vec<(f64, f64)> = series
                    .iter()
                    .filter_map(|(gb, c)| c.load_ms().map(|ms| (*gb, ms)))
                    .collect();
                let shown: Vec<String> = xy
                    .iter()
                    .map(|(gb, ms)| format!("{gb:.2} → {ms:.0}"))
                    .collect();
                let fit = fit::line(&xy);
                let rss: Vec<f64> = series.iter().filter_map(|(_, c)| c.rss_ratio()).collect();
                let missing = points.iter().filter(|p| p.layout == layout).count() - xy.len();
                let mut shown = shown.join(", ");
                if missing > 0 {
                    shown.push_str(&format!(" ({missing} size(s) missing)"));
                }
                table.row(vec![
                    method.name().into(),
                    layout.name().into(),
                    cache.name().into(),
                    shown,
                    num(fit.as_ref().map(|f| f.a), 0),
                    num(fit.as_ref().map(|f| f.b), 0),
                    num(fit.as_ref().map(|f| 1e3 / f.b), 2),
                    num(fit.as_ref().map(|f| f.r2), 4),
                    fit.as_ref().map_or("–".into(), |f| {
                        format!("{:.0} %", f.worst_relative_residual * 100.0)
                    }),
                    if rss.is_empty() {
                        "–".into()
                    } else {
                        let each: Vec<String> = rss.iter().map(|r| format!("{r:.2}")).collect();
                        each.join(", ")
                    },
                    match rss.iter().copied().reduce(f64::max) {
                        None => "–".into(),
                        Some(worst) if worst <= RSS_LIMIT => "yes".into(),
                        Some(_) => "no".into(),
                    },
                ]);
            }
        }
    }
    table
}
