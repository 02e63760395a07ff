//! The repair pipeline's reporter: [`Event`]s and the final [`RunRecord`] as text for a
//! person, as nextest splits its runner from its reporters. The pipeline emits events and
//! prints nothing; the CLI writes what this module renders where [`Output`] says.

use crate::pipeline::{Event, Proposal, RunRecord, Source, Verdict};

use super::Term;

/// A rendered event and the stream it belongs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Progress, notes and warnings.
    Stderr(String),
    /// What the user asked to see (`--print-prompt`).
    Stdout(String),
}

/// One line (or block) per event; with `quiet` (`--json`) only warnings and the prompt
/// asked for are shown.
pub fn render(e: &Event, term: &Term, quiet: bool) -> Option<Output> {
    match e {
        Event::Warning(text) => return Some(Output::Stderr(format!("warning: {text}"))),
        Event::Prompt { system, user } if !quiet => {
            return Some(Output::Stdout(format!(
                "--- system ---\n{system}\n--- user ---\n{user}\n"
            )));
        }
        _ if quiet => return None,
        _ => {}
    }
    let line = match e {
        Event::Started {
            targets,
            max_attempts,
        } => format!("repairing {targets} failure(s), up to {max_attempts} attempt(s)"),
        Event::FixerFailed { name, why } => format!("{} {name}: {why}", term.dim("fixer")),
        Event::PromptBuilt {
            attempt,
            prompt_tokens,
            context_tokens,
            examples,
            example_tokens,
        } => {
            let examples = match examples {
                0 => String::new(),
                n => format!(", {example_tokens} of {n} earlier fix(es) of similar failures"),
            };
            format!(
                "attempt {attempt}: prompt {prompt_tokens} tokens ({context_tokens} of context{examples})"
            )
        }
        Event::ExampleRefused { signature } => format!(
            "{} an earlier fix ({signature}) was left out of the prompt: its text addresses the model",
            term.yellow("note:")
        ),
        Event::Replied {
            attempt,
            usage,
            truncated,
        } => format!(
            "attempt {attempt}: reply {} tokens{}",
            usage.completion_tokens,
            if *truncated {
                " (cut off at max_tokens)"
            } else {
                ""
            }
        ),
        Event::PatchRefused { attempt, why } => {
            format!("attempt {attempt}: {} {why}", term.yellow("refused:"))
        }
        Event::Proposed(p) => proposal(p, term),
        Event::Validating { attempt, command } => {
            format!("attempt {attempt}: validating with `{command}`")
        }
        Event::Validated { attempt, outcome } => {
            let s = outcome.summary();
            format!(
                "attempt {attempt}: tests {}",
                if outcome.passed {
                    term.green(&s)
                } else {
                    term.red(&s)
                }
            )
        }
        Event::InjectionSuspected { lines } => format!(
            "{} the logs or code address the model (possible prompt injection); the patch will need a person: {}",
            term.red("warning:"),
            lines.join(" | ")
        ),
        Event::NoProgress { attempt } => {
            format!("attempt {attempt}: same failure as before; stopping")
        }
        Event::Applied { paths } => format!("{} {}", term.green("applied"), paths.join(", ")),
        Event::Prompt { .. } | Event::Warning(_) => return None,
    };
    Some(Output::Stderr(line))
}

/// A proposed patch: where it came from, its risk, the diagnosis, the diff and any veto.
fn proposal(p: &Proposal, term: &Term) -> String {
    let source = match &p.source {
        Source::Llm => "model".to_string(),
        Source::Fixer(name) => format!("fixer `{name}`"),
        Source::Memory => "failure memory (it fixed this failure before)".to_string(),
    };
    let mut s = format!(
        "attempt {}: patch from {source} (risk {}/100)\n",
        p.attempt, p.risk.score
    );
    if !p.diagnosis.is_empty() {
        s.push_str(&format!("  {}\n", p.diagnosis));
    }
    s.push_str(&crate::patch::render::render_diff(&p.patch, term.color));
    for v in &p.risk.vetoes {
        s.push_str(&format!(
            "\n{} test-weakening ({}): {} in {}",
            term.red("veto:"),
            v.rule,
            v.detail,
            v.path
        ));
    }
    s
}

/// What the y/N question shows: the diagnosis with the risk, and the diff.
pub fn question(p: &Proposal, term: &Term) -> (String, String) {
    let diagnosis = format!("{}{}", p.diagnosis, p.risk_text(&term.red("!")));
    let diff = crate::patch::render::render_diff(&p.patch, term.color);
    (diagnosis, diff)
}

/// The closing summary of a repair; `None` when only the prompt was asked for.
pub fn result(record: &RunRecord, term: &Term) -> Option<String> {
    let tokens = record.prompt_tokens + record.completion_tokens;
    let head = match record.verdict {
        Verdict::Healed => term.green("healed"),
        Verdict::Pending => term.yellow("pending approval"),
        Verdict::DryRun => term.bold("dry run: nothing written"),
        Verdict::PromptPrinted => return None,
        Verdict::Rejected => term.yellow("rejected"),
        Verdict::NotHealed => term.red("not healed"),
        Verdict::NoCodeChange => term.yellow("no code change needed"),
    };
    let mut out = format!(
        "{head} · {} attempt(s) · {} LLM call(s), {tokens} tokens, {} · {:.1} s\n",
        record.attempts.len(),
        record.llm_calls,
        record.cost_text(),
        record.duration_ms as f64 / 1000.0
    );
    if let Some(id) = &record.pending_id {
        out.push_str(&format!(
            "review it with `selfheal approve show {id}`, apply with `selfheal approve {id}`\n"
        ));
    }
    if let Some(note) = &record.note {
        out.push_str(&format!("{note}\n"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> Term {
        Term::detect("never", true, false)
    }

    #[test]
    fn quiet_shows_only_warnings_and_the_prompt() {
        let t = plain();
        let started = Event::Started {
            targets: 2,
            max_attempts: 3,
        };
        assert_eq!(
            render(&started, &t, false),
            Some(Output::Stderr(
                "repairing 2 failure(s), up to 3 attempt(s)".into()
            ))
        );
        assert_eq!(render(&started, &t, true), None);
        let warning = Event::Warning("memory is locked".into());
        assert_eq!(
            render(&warning, &t, true),
            Some(Output::Stderr("warning: memory is locked".into()))
        );
        let prompt = Event::Prompt {
            system: "s".into(),
            user: "u".into(),
        };
        assert_eq!(
            render(&prompt, &t, false),
            Some(Output::Stdout(
                "--- system ---\ns\n--- user ---\nu\n".into()
            ))
        );
    }
}
