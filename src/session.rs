//! The one signal handler of the process, installed before the command line is even parsed,
//! so a Ctrl-C / SIGTERM at any moment is handled. First signal: a command that has test data
//! to protect ([`guard`]) stops sending new steps, cleans up and exits 130; before that point
//! (nothing created yet) the process exits 130 at once. Second signal: exits at once, listing
//! everything left behind (created resources, and creates whose outcome is unknown) so a person
//! can finish it. `serve` takes the first signal as its shutdown ([`shutdown_requested`]).
//! The panic hooks live here too: redaction of the secrets ([`redact_panics`]) and a quiet exit
//! when stdout is closed early ([`quiet_broken_pipe`]).

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

/// From now on panic messages go through redaction too: the token never reaches stderr, even
/// in a bug.
pub fn redact_panics(secret: crate::http::Secret) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()));
        match payload {
            // A closed stdout (`| head`) is not a bug: main's hook exits quietly.
            Some(msg) if msg.starts_with("failed printing to stdout") => default(info),
            Some(msg) => {
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                eprintln!("scimcheck panicked{at}: {}", secret.redact(&msg));
            }
            None => default(info),
        }
    }));
}

/// `scimcheck list | head` closes stdout early; Rust then panics in `println!`. Treat that as the
/// reader being done (exit quietly, as a SIGPIPE would) instead of printing a panic. SIGPIPE
/// itself stays ignored so a run whose output pipe closes still cleans up its test data.
pub fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
