//! The live progress bar of `scimcheck load` on stderr (only when stderr is a terminal), fed by
//! the engine's [`Progress`] calls: the phase, requests done of expected, and the live request
//! rate.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::loadtest::Progress;

/// An `indicatif` bar implementing [`Progress`]: one bar per phase.
pub struct Bar {
    current: Mutex<Option<ProgressBar>>,
}

impl Bar {
    /// A bar on stderr, or `None` when stderr is not a terminal.
    pub fn on_stderr() -> Option<Bar> {
        std::io::stderr().is_terminal().then(|| Bar {
            current: Mutex::new(None),
        })
    }

    fn with(&self, f: impl FnOnce(&ProgressBar)) {
        if let Some(bar) = self.current.lock().expect("progress lock").as_ref() {
            f(bar);
        }
    }
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix:>8} [{bar:30}] {pos}/{len} requests  {rate:>11}  {elapsed}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .with_key(
        "rate",
        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.1} req/s", state.per_sec());
        },
    )
    .progress_chars("=> ")
}

impl Progress for Bar {
    fn phase(&self, name: &'static str, expected: u64) {
        // Set up hidden, then show: no frame with a stale length or name.
        let bar = ProgressBar::with_draw_target(Some(expected), ProgressDrawTarget::hidden())
            .with_style(style())
            .with_prefix(name);
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Some(old) = self.current.lock().expect("progress lock").replace(bar) {
            old.finish_and_clear();
        }
    }

    fn request(&self) {
        self.with(|b| b.inc(1));
    }

    fn finish(&self) {
        if let Some(old) = self.current.lock().expect("progress lock").take() {
            old.finish_and_clear();
        }
    }
}
