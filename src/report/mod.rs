//! Reporters: each renders the run's [`Event`] stream in one format. None of them is called by
//! the runner directly; the CLI fans events out to every reporter it was asked for.

pub mod terminal;

use crate::run::Event;

/// Something that renders events.
pub trait Reporter {
    /// Called for every event, in order.
    fn on_event(&mut self, event: &Event);
    /// Called once after `RunFinished`: write files, flush.
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
