//! The live progress bar on stderr (only when stderr is a terminal): the phase, requests done
//! of expected, and the live request rate.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::engine::Progress;

/// An `indicatif` bar implementing [`Progress`].
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar on stderr, or `None` when stderr is not a terminal.
    pub fn on_stderr() -> Option<Bar> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>8} [{bar:30}] {pos}/{len} requests  {per_sec:>12}  {elapsed}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(Bar { bar })
    }
}

impl Progress for Bar {
    fn phase(&self, name: &'static str, expected: u64) {
        self.bar.reset();
        self.bar.set_prefix(name);
        self.bar.set_length(expected);
        self.bar.set_position(0);
    }

    fn request(&self) {
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
