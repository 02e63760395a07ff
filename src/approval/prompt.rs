//! The terminal y/N question: shows the diagnosis, then the diff, then asks.
//!
//! The default is No. Without a terminal (CI, a pipe) nothing is read from stdin: the
//! answer is [`Decision::Defer`] and the patch waits in the pending queue.

use console::Term;
use dialoguer::Confirm;

/// What the person decided about a proposed patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Apply the patch.
    Approve,
    /// Do not apply it; it is recorded as rejected.
    Reject,
    /// No answer (no terminal, Esc, or the prompt failed): keep it pending.
    Defer,
}

/// Shows `diagnosis` and `diff` on stderr and asks whether to apply. Returns
/// [`Decision::Defer`] at once when `term_is_tty` is false.
pub fn ask(diagnosis: &str, diff: &str, term_is_tty: bool) -> Decision {
    if !term_is_tty {
        return Decision::Defer;
    }
    let term = Term::stderr();
    if term.write_str(&compose(diagnosis, diff)).is_err() {
        return Decision::Defer;
    }
    let answer = Confirm::new()
        .with_prompt("Apply this patch? (Esc keeps it pending)")
        .default(false)
        .interact_on_opt(&term);
    decision_from(answer)
}

/// The text shown above the question.
fn compose(diagnosis: &str, diff: &str) -> String {
    let mut out = format!(
        "Diagnosis:\n{}\n\nProposed patch:\n{diff}",
        diagnosis.trim_end()
    );
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn decision_from(answer: dialoguer::Result<Option<bool>>) -> Decision {
    match answer {
        Ok(Some(true)) => Decision::Approve,
        Ok(Some(false)) => Decision::Reject,
        Ok(None) | Err(_) => Decision::Defer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_tty_defers_without_reading_stdin() {
        assert_eq!(ask("d", "diff", false), Decision::Defer);
    }

    #[test]
    fn answers_map_to_decisions() {
        assert_eq!(decision_from(Ok(Some(true))), Decision::Approve);
        assert_eq!(decision_from(Ok(Some(false))), Decision::Reject);
        assert_eq!(decision_from(Ok(None)), Decision::Defer);
        let io = dialoguer::Error::IO(std::io::Error::other("not a terminal"));
        assert_eq!(decision_from(Err(io)), Decision::Defer);
    }

    #[test]
    fn diagnosis_comes_before_the_diff() {
        let text = compose("off by one in average()\n\n", "--- a/x\n+++ b/x");
        assert_eq!(
            text,
            "Diagnosis:\noff by one in average()\n\nProposed patch:\n--- a/x\n+++ b/x\n"
        );
    }
}
