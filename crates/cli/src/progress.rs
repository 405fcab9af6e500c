//! The load progress bar: drawn on stderr only when stderr is a terminal and the load has
//! already taken half a second, so quick loads, pipes and logs stay clean.

use flint_loader::LoadProgress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::Cell;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Loads quicker than this never show a bar (it would only flicker).
pub const SHOW_AFTER: Duration = Duration::from_millis(500);

pub struct LoadBar {
    bar: ProgressBar,
    start: Instant,
    /// Whether a bar may be drawn at all (stderr is a terminal).
    drawable: bool,
    show_after: Duration,
    shown: Cell<bool>,
}

impl LoadBar {
    /// A bar for stderr, shown once a load passes [`SHOW_AFTER`] if stderr is a terminal.
    pub fn for_stderr() -> Self {
        Self::new(std::io::stderr().is_terminal(), SHOW_AFTER)
    }

    pub fn new(drawable: bool, show_after: Duration) -> Self {
        // Hidden until it has earned its place; `update` attaches it to stderr.
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "[flint] loading {bar:30} {decimal_bytes}/{decimal_total_bytes} \
                 {decimal_bytes_per_sec} eta {eta}",
            )
            .expect("the template is valid"),
        );
        Self {
            bar,
            start: Instant::now(),
            drawable,
            show_after,
            shown: Cell::new(false),
        }
    }

    /// Whether the bar is being drawn.
    #[cfg(test)]
    fn is_shown(&self) -> bool {
        self.shown.get()
    }
}

impl LoadProgress for LoadBar {
    fn update(&self, done: u64, total: u64) {
        if !self.shown.get() && self.drawable && self.start.elapsed() >= self.show_after {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown.set(true);
        }
        self.bar.set_length(total);
        self.bar.set_position(done);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_only_on_a_terminal_and_only_after_the_delay() {
        let piped = LoadBar::new(false, Duration::ZERO);
        piped.update(1, 10);
        assert!(!piped.is_shown());

        let quick = LoadBar::new(true, Duration::from_secs(3600));
        quick.update(1, 10);
        assert!(!quick.is_shown());

        let slow = LoadBar::new(true, Duration::ZERO);
        slow.update(1, 10);
        assert!(slow.is_shown());
        assert_eq!(slow.bar.position(), 1);
        assert_eq!(slow.bar.length(), Some(10));
    }
}
