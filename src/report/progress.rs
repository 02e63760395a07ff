//! Progress on a terminal for the long steps: the log download (bytes), waiting for the
//! model (elapsed, and the tokens so far when the reply streams), validation (command, elapsed) and sandbox image builds (the build's
//! latest line). Drawn on stderr with indicatif only when [`enabled`]: stderr is a
//! terminal, not in CI, not with `--json` (NO_COLOR changes colours, not this). Fed by the
//! pipeline's [`Event`]s and the stages' progress callbacks; the stages draw nothing.
//!
//! One bar at a time: a new step replaces the last, and any other stderr writer goes
//! through [`suspend`] so a line never tears the bar.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Term;
use crate::pipeline::Event;

/// Whether progress is drawn: an interactive stderr outside CI, and not `--json`.
pub fn enabled(term: &Term, json: bool) -> bool {
    term.progress_bars() && !json
}

/// The bar on the real stderr now, so other writers can step around it.
static ON_SCREEN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Runs `f` (which writes to stderr) with the bar on screen, if any, taken away meanwhile.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let bar = ON_SCREEN.lock().ok().and_then(|b| b.clone());
    match bar {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

type DrawTo = Box<dyn Fn() -> ProgressDrawTarget + Send + Sync>;

/// The progress display of one command; cheap to clone into callbacks.
#[derive(Clone)]
pub struct Progress {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    draw_to: DrawTo,
    /// True for the process's stderr (then [`suspend`] knows the bar).
    on_stderr: bool,
    current: Mutex<Option<Step>>,
}

/// The bar now shown and what it is for.
struct Step {
    bar: ProgressBar,
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Download(String),
    Model,
    Validation,
    Build,
}

impl Progress {
    /// Bars on stderr when `on`; otherwise a display that draws nothing.
    pub fn stderr(on: bool) -> Progress {
        if !on {
            return Progress::off();
        }
        Progress::with_target(Box::new(ProgressDrawTarget::stderr), true)
    }

    /// Draws nothing.
    pub fn off() -> Progress {
        Progress { inner: None }
    }

    /// Bars drawn where `draw_to` says (tests pass an in-memory terminal).
    pub fn to(draw_to: impl Fn() -> ProgressDrawTarget + Send + Sync + 'static) -> Progress {
        Progress::with_target(Box::new(draw_to), false)
    }

    fn with_target(draw_to: DrawTo, on_stderr: bool) -> Progress {
        Progress {
            inner: Some(Arc::new(Inner {
                draw_to,
                on_stderr,
                current: Mutex::new(None),
            })),
        }
    }

    /// Starts, replaces or ends a bar as the pipeline goes.
    pub fn event(&self, e: &Event) {
        match e {
            Event::PromptBuilt {
                attempt,
                prompt_tokens,
                ..
            } => self.spinner(
                Kind::Model,
                format!("waiting for the model (attempt {attempt}, {prompt_tokens} prompt tokens)"),
            ),
            Event::Validating { command, .. } => {
                self.spinner(Kind::Validation, format!("validating `{command}`"))
            }
            Event::Replied { .. } => self.finish(&Kind::Model),
            Event::Validated { .. } => self.finish(&Kind::Validation),
            _ => {}
        }
    }

    /// `n` tokens of the model's reply have streamed in: shown beside the wait.
    pub fn model_tokens(&self, n: u64) {
        let Some(inner) = &self.inner else { return };
        let current = inner.current.lock().expect("progress lock");
        if let Some(step) = current.as_ref().filter(|s| s.kind == Kind::Model) {
            step.bar.set_message(format!("{n} tokens so far"));
        }
    }

    /// `bytes` of `what` downloaded so far, out of `total` when the server said; `done`
    /// ends the bar.
    pub fn download(&self, what: &str, bytes: u64, total: Option<u64>, done: bool) {
        let Some(inner) = &self.inner else { return };
        let kind = Kind::Download(what.to_string());
        if done {
            self.finish(&kind);
            return;
        }
        let mut current = inner.current.lock().expect("progress lock");
        if current.as_ref().is_none_or(|s| s.kind != kind) {
            let bar = ProgressBar::with_draw_target(total, (inner.draw_to)());
            bar.set_style(if total.is_some() {
                style("{prefix} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}")
            } else {
                style("{spinner} {prefix} {bytes} {bytes_per_sec}")
            });
            bar.set_prefix(format!("downloading {what}"));
            inner.show(&mut current, Step { bar, kind });
        }
        if let Some(step) = current.as_ref() {
            step.bar.set_position(bytes);
        }
    }

    /// One line of a sandbox image build: shown under the running step, or on a spinner
    /// of its own when nothing else runs.
    pub fn build_line(&self, line: &str) {
        let Some(inner) = &self.inner else { return };
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        {
            let current = inner.current.lock().expect("progress lock");
            if let Some(step) = current.as_ref() {
                step.bar.set_message(line.to_string());
                return;
            }
        }
        self.spinner(Kind::Build, "preparing the sandbox image".into());
        self.build_line(line);
    }

    /// Takes any bar off the screen (before the command's result is printed).
    pub fn clear(&self) {
        let Some(inner) = &self.inner else { return };
        let mut current = inner.current.lock().expect("progress lock");
        inner.show_none(&mut current);
    }

    fn spinner(&self, kind: Kind, prefix: String) {
        let Some(inner) = &self.inner else { return };
        let bar = ProgressBar::with_draw_target(None, (inner.draw_to)());
        bar.set_style(style("{spinner} {prefix} {elapsed} {wide_msg}"));
        bar.set_prefix(Cow::Owned(prefix));
        bar.enable_steady_tick(Duration::from_millis(120));
        let mut current = inner.current.lock().expect("progress lock");
        inner.show(&mut current, Step { bar, kind });
    }

    fn finish(&self, kind: &Kind) {
        let Some(inner) = &self.inner else { return };
        let mut current = inner.current.lock().expect("progress lock");
        if current
            .as_ref()
            .is_some_and(|s| &s.kind == kind || s.kind == Kind::Build)
        {
            inner.show_none(&mut current);
        }
    }
}

impl Inner {
    fn show(&self, current: &mut Option<Step>, step: Step) {
        step.bar.tick();
        if self.on_stderr {
            *ON_SCREEN.lock().expect("progress lock") = Some(step.bar.clone());
        }
        if let Some(old) = current.replace(step) {
            old.bar.finish_and_clear();
        }
    }

    fn show_none(&self, current: &mut Option<Step>) {
        if let Some(old) = current.take() {
            old.bar.finish_and_clear();
        }
        if self.on_stderr {
            *ON_SCREEN.lock().expect("progress lock") = None;
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let mut current = self.current.get_mut().map(Option::take).unwrap_or(None);
        self.show_none(&mut current);
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("progress template")
        .progress_chars("=> ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::InMemoryTerm;

    fn term(stderr_tty: bool, ci: bool) -> Term {
        Term::resolve(false, stderr_tty, "auto", false, ci)
    }

    #[test]
    fn drawn_only_on_an_interactive_stderr_outside_ci_and_json() {
        assert!(enabled(&term(true, false), false));
        assert!(!enabled(&term(true, false), true), "--json");
        assert!(!enabled(&term(true, true), false), "CI");
        assert!(!enabled(&term(false, false), false), "stderr is a pipe");
        let no_color = Term::resolve(true, true, "auto", true, false);
        assert!(enabled(&no_color, false), "NO_COLOR is about colour only");
    }

    fn in_memory() -> (InMemoryTerm, Progress) {
        let screen = InMemoryTerm::new(4, 100);
        let to = screen.clone();
        let progress = Progress::to(move || ProgressDrawTarget::term_like(Box::new(to.clone())));
        (screen, progress)
    }

    #[test]
    fn validation_shows_the_command_and_goes_away_when_done() {
        let (screen, progress) = in_memory();
        progress.event(&Event::Validating {
            attempt: 1,
            command: "python3 -m pytest -q".into(),
        });
        progress.build_line("Step 2/4 : RUN pip install -r requirements.txt");
        std::thread::sleep(Duration::from_millis(150));
        let shown = screen.contents();
        assert!(
            shown.contains("validating `python3 -m pytest -q` 0s"),
            "{shown:?}"
        );
        assert!(shown.contains("Step 2/4 : RUN pip install"), "{shown:?}");
        progress.event(&Event::Validated {
            attempt: 1,
            outcome: crate::validate::Outcome {
                passed: true,
                exit_code: Some(0),
                timed_out: false,
                oom_killed: false,
                duration: Duration::from_secs(1),
                tail: String::new(),
                command: "python3 -m pytest -q".into(),
            },
        });
        assert_eq!(screen.contents().trim(), "", "cleared");
    }

    #[test]
    fn waiting_for_the_model_shows_the_tokens_streamed_so_far() {
        let (screen, progress) = in_memory();
        progress.model_tokens(3); // no wait shown yet: nothing to add it to
        assert_eq!(screen.contents().trim(), "");
        progress.event(&Event::PromptBuilt {
            attempt: 1,
            prompt_tokens: 812,
            context_tokens: 700,
            examples: 0,
            example_tokens: 0,
        });
        progress.model_tokens(41);
        std::thread::sleep(Duration::from_millis(150));
        let shown = screen.contents();
        assert!(
            shown.contains("waiting for the model (attempt 1, 812 prompt tokens)"),
            "{shown:?}"
        );
        assert!(shown.contains("41 tokens so far"), "{shown:?}");
    }

    #[test]
    fn a_download_counts_bytes_against_the_total() {
        let (screen, progress) = in_memory();
        progress.download("run 7 logs", 1024, Some(4096), false);
        progress.download("run 7 logs", 2048, Some(4096), false);
        std::thread::sleep(Duration::from_millis(100));
        progress.download("run 7 logs", 2048, Some(4096), false);
        let shown = screen.contents();
        assert!(shown.contains("downloading run 7 logs"), "{shown:?}");
        assert!(shown.contains("2.00 KiB/4.00 KiB"), "{shown:?}");
        progress.download("run 7 logs", 4096, Some(4096), true);
        assert_eq!(screen.contents().trim(), "");
    }

    #[test]
    fn off_draws_nothing_and_suspend_still_runs() {
        let progress = Progress::off();
        progress.event(&Event::Validating {
            attempt: 1,
            command: "make test".into(),
        });
        progress.download("x", 1, None, false);
        assert_eq!(suspend(|| 7), 7);
    }
}
