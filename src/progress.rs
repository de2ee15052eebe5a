//! Progress on stderr for the steps that can take seconds: a bar (done / total, elapsed,
//! remaining time) or a spinner (elapsed time).
//!
//! Off unless the binary calls [`show`] (it does unless `--quiet`), and even then drawn only
//! when stderr is a terminal: the library, tests and pipes never see a byte of it, and a
//! hidden step costs one branch per call. Progress is cleared when its step ends, so
//! stdout and every file written are the same with and without it.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static SHOWN: AtomicBool = AtomicBool::new(false);

/// Lets the steps that follow draw progress on stderr when it is a terminal (`slth` calls
/// this unless `--quiet`); the library's default is to draw nothing.
pub fn show(on: bool) {
    SHOWN.store(on && std::io::stderr().is_terminal(), Ordering::Relaxed);
}

/// Whether steps draw progress now.
pub fn shown() -> bool {
    SHOWN.load(Ordering::Relaxed)
}

/// One step's progress on stderr, or nothing when progress is hidden. Cleared when dropped.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar of `total` units (`what` names them: "weights", "inputs").
    pub fn bar(total: u64, message: impl Into<String>, what: &str) -> Progress {
        if !shown() {
            return Progress(None);
        }
        let template = format!(
            "{{msg}} [{{bar:30}}] {{human_pos}}/{{human_len}} {what}, {{elapsed}} elapsed, ~{{eta}} left"
        );
        let style = ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = ProgressBar::new(total)
            .with_style(style)
            .with_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress(Some(bar))
    }

    /// A spinner for a step whose length is not known.
    pub fn spinner(message: impl Into<String>) -> Progress {
        if !shown() {
            return Progress(None);
        }
        let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = ProgressBar::new_spinner()
            .with_style(style)
            .with_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }

    /// A step that draws nothing.
    pub fn hidden() -> Progress {
        Progress(None)
    }

    /// `n` more units done (callable from several threads).
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(n);
        }
    }

    /// A new message (computed only when progress is shown).
    pub fn message(&self, message: impl FnOnce() -> String) {
        if let Some(bar) = &self.0 {
            bar.set_message(message());
        }
    }

    /// Starts over with `total` units.
    pub fn restart(&self, total: u64) {
        if let Some(bar) = &self.0 {
            // Position first: a draw in between then shows 0 of the old total, not the
            // old position over the new one.
            bar.reset();
            bar.set_length(total);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_progress_draws_nothing_and_accepts_every_call() {
        // Tests run with stderr captured or piped: show(true) keeps progress off.
        show(true);
        assert!(!shown() || std::io::stderr().is_terminal());
        show(false);
        let bar = Progress::bar(10, "block 1", "weights");
        assert!(bar.0.is_none());
        bar.inc(3);
        bar.message(|| unreachable!("a hidden step formats no message"));
        bar.restart(5);
        assert!(Progress::spinner("bound").0.is_none());
    }
}
