//! The progress bar: an `indicatif` bar on stderr while the run goes, only when stderr is a
//! terminal. A reporter of the live event stream (not the plan-ordered one): it advances as
//! scenario runs really finish and is cleared at `RunFinished`. Terminal output written through [`Progress::writer`] suspends
//! the bar for each line, so the two never garble each other.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::run::Event;

use super::Reporter;

/// A handle on the (possibly absent) progress bar. Cloning shares the bar.
#[derive(Clone, Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar on stderr when stderr is a terminal, otherwise none.
    pub fn stderr_if_terminal() -> Progress {
        if !io::stderr().is_terminal() {
            return Progress::none();
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} scenario runs",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress { bar: Some(bar) }
    }

    /// No bar.
    pub fn none() -> Progress {
        Progress { bar: None }
    }

    /// Whether a bar is shown.
    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// Wraps `out` so that every complete line is written with the bar suspended.
    pub fn writer<W: Write>(&self, out: W) -> Suspending<W> {
        Suspending {
            out,
            bar: self.bar.clone(),
            pending: Vec::new(),
        }
    }
}

impl Reporter for Progress {
    fn on_event(&mut self, event: &Event) {
        let Some(bar) = &self.bar else { return };
        match event {
            Event::RunStarted { scenarios, .. } => {
                bar.set_length(*scenarios as u64);
                bar.enable_steady_tick(Duration::from_millis(120));
            }
            Event::ScenarioFinished { .. } => bar.inc(1),
            Event::RunFinished { .. } => bar.finish_and_clear(),
            _ => {}
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        Ok(())
    }
}

/// A line-buffered writer that hides the progress bar while it writes.
pub struct Suspending<W: Write> {
    out: W,
    bar: Option<ProgressBar>,
    pending: Vec<u8>,
}

impl<W: Write> Suspending<W> {
    fn write_out(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &self.bar {
            Some(bar) if !bar.is_finished() => bar.suspend(|| {
                self.out.write_all(bytes)?;
                self.out.flush()
            }),
            _ => self.out.write_all(bytes),
        }
    }
}

impl<W: Write> Write for Suspending<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(last) = self.pending.iter().rposition(|b| *b == b'\n') {
            let lines: Vec<u8> = self.pending.drain(..=last).collect();
            self.write_out(&lines)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.write_out(&rest)?;
        }
        self.out.flush()
    }
}

impl<W: Write> Drop for Suspending<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_bar_the_writer_passes_lines_through_and_flushes_the_rest() {
        let mut buf = Vec::new();
        {
            let mut w = Progress::none().writer(&mut buf);
            write!(w, "a\nb").unwrap();
            w.flush().unwrap();
        }
        assert_eq!(buf, b"a\nb");
        assert!(!Progress::none().is_shown());
    }
}
