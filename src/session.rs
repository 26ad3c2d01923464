//! The one signal handler of the process, installed before the command line is even parsed,
//! so a Ctrl-C / SIGTERM at any moment is handled. First signal: a command that has test data
//! to protect ([`guard`]) stops sending new steps, cleans up and exits 130; before that point
//! (nothing created yet) the process exits 130 at once. Second signal: exits at once, listing
//! everything left behind (created resources, and creates whose outcome is unknown) so a person
//! can finish it. `serve` takes the first signal as its shutdown ([`shutdown_requested`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use colored::Colorize;

use crate::exit;
use crate::run::Ledger;

struct Guarded {
    stop: Arc<AtomicBool>,
    ledger: Arc<Ledger>,
}

static GUARDED: Mutex<Option<Guarded>> = Mutex::new(None);
static SERVING: AtomicBool = AtomicBool::new(false);
static SHUTDOWN: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Installs the handler; call inside the runtime, first thing.
pub fn install() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // Registered now (not when first polled): a signal from here on is not lost.
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        tokio::spawn(async move {
            let mut count = 0;
            loop {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                count += 1;
                on_signal(count);
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        let mut count = 0;
        while tokio::signal::ctrl_c().await.is_ok() {
            count += 1;
            on_signal(count);
        }
    });
}

fn on_signal(count: usize) {
    if SERVING.load(Ordering::SeqCst) {
        SHUTDOWN.notify_one();
        return;
    }
    let guarded = GUARDED.lock().expect("session lock");
    let Some(g) = guarded.as_ref() else {
        eprintln!(
            "\n{} interrupted before any test data was created: exiting",
            "!".yellow().bold()
        );
        std::process::exit(exit::INTERRUPTED);
    };
    if count == 1 {
        g.stop.store(true, Ordering::SeqCst);
        eprintln!(
            "\n{} interrupted: cleaning up (press Ctrl-C again to exit at once)",
            "!".yellow().bold()
        );
        return;
    }
    eprintln!(
        "{} exiting without finishing cleanup; left behind:",
        "!".red().bold()
    );
    for c in g.ledger.remaining(None) {
        eprintln!("  DELETE {}  ({})", c.path, c.label);
    }
    for p in g.ledger.in_flight() {
        eprintln!(
            "  {}  (a create still on its way: delete what this finds)",
            p.lookup()
        );
    }
    for p in g.ledger.unresolved() {
        eprintln!(
            "  {}  (a create whose outcome is unknown: delete what this finds)",
            p.lookup()
        );
    }
    std::process::exit(exit::INTERRUPTED);
}

/// From now on the first signal sets `stop` (the run cleans up and exits 130) and the second
/// lists what `ledger` holds.
pub fn guard(stop: Arc<AtomicBool>, ledger: Arc<Ledger>) {
    *GUARDED.lock().expect("session lock") = Some(Guarded { stop, ledger });
}

/// `serve`: resolves at the first signal (the server shuts down and exits 0).
pub async fn shutdown_requested() {
    SERVING.store(true, Ordering::SeqCst);
    SHUTDOWN.notified().await;
}
