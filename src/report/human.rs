//! Human output in the style of compiler diagnostics:
//!
//! ```text
//! error[pytest/test_failure]: AssertionError: assert 3 == 4
//!   --> calc/core.py:12:5
//!    = test ▸ Run pytest -q
//!    |
//!    | E       assert 3 == 4
//! ```

use crate::logs::Failure;
use crate::logs::rank::RankedFile;
use crate::logs::triage::Triage;

use super::Term;

/// Excerpt lines shown per failure.
const EXCERPT_LINES: usize = 12;
/// Files listed under "likely fix in".
const FILES_SHOWN: usize = 5;

/// The whole triage report.
pub fn triage(t: &Triage, term: &Term) -> String {
    let mut out = String::new();
    for f in &t.failures {
        out.push_str(&failure(f, term));
        out.push('\n');
    }
    if !t.files.is_empty() {
        out.push_str(&files(&t.files, term));
        out.push('\n');
    }
    out.push_str(&summary(t, term));
    out
}

/// One failure as a diagnostic block.
pub fn failure(f: &Failure, term: &Term) -> String {
    let head = if f.needs_code_change {
        term.red("error")
    } else {
        term.yellow("warning")
    };
    let mut out = format!(
        "{head}{}: {}\n",
        term.bold(&format!("[{}/{}]", f.tool, f.kind)),
        term.bold(&f.message)
    );
    let gutter = term.blue("   |");
    if let Some(loc) = location(f) {
        out.push_str(&format!("  {} {loc}\n", term.blue("-->")));
    }
    out.push_str(&format!("   {} {} ▸ {}\n", term.blue("="), f.job, f.step));
    if let Some(test) = &f.test {
        out.push_str(&format!("   {} test: {test}\n", term.blue("=")));
    }
    if !f.needs_code_change {
        out.push_str(&format!(
            "   {} note: {} failures need no code change; {}\n",
            term.blue("="),
            f.kind,
            advice(f)
        ));
    }
    if !f.excerpt.is_empty() {
        out.push_str(&format!("{gutter}\n"));
        for line in f.excerpt.lines().take(EXCERPT_LINES) {
            out.push_str(&format!("{gutter} {}\n", term.dim(line)));
        }
    }
    out
}

/// `file:line:col`, as much of it as is known.
pub fn location(f: &Failure) -> Option<String> {
    let file = f.file.as_deref()?;
    Some(match (f.line, f.column) {
        (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        (Some(l), None) => format!("{file}:{l}"),
        _ => file.to_string(),
    })
}

fn advice(f: &Failure) -> &'static str {
    use crate::logs::Kind::*;
    match f.kind {
        Timeout => "re-run the job, or raise its timeout-minutes",
        Oom => "re-run on a larger runner, or lower the memory the job uses",
        Network => "re-run the job; the network or a registry failed",
        _ => "re-run the job; the runner or GitHub failed",
    }
}

fn files(files: &[RankedFile], term: &Term) -> String {
    let mut out = format!("{}\n", term.bold("likely fix in:"));
    for (i, f) in files.iter().take(FILES_SHOWN).enumerate() {
        out.push_str(&format!(
            "  {}. {} {}\n",
            i + 1,
            f.path,
            term.dim(&format!("({})", f.reasons.join("; ")))
        ));
    }
    out
}

fn summary(t: &Triage, term: &Term) -> String {
    let s = &t.stats;
    let n = t.failures.len();
    let head = if n == 0 {
        term.yellow("no failure found")
    } else {
        term.bold(&format!("{n} failure{}", if n == 1 { "" } else { "s" }))
    };
    let mut out = format!(
        "{head} in {} failed step{} of {} · read {} in {} ms",
        s.failed_steps,
        if s.failed_steps == 1 { "" } else { "s" },
        s.steps,
        human_bytes(s.read.bytes_inflated),
        s.duration_ms
    );
    if s.masked_secrets > 0 {
        out.push_str(&format!(
            " · masked {} secret{}",
            s.masked_secrets,
            if s.masked_secrets == 1 { "" } else { "s" }
        ));
    }
    out.push('\n');
    for w in &t.warnings {
        out.push_str(&format!("{}: {w}\n", term.yellow("warning")));
    }
    out
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < UNITS.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Kind;

    fn plain() -> Term {
        Term::resolve(false, false, "never", false, false)
    }

    #[test]
    fn failure_block_reads_like_a_compiler_diagnostic() {
        let mut f = Failure::new("pytest", Kind::TestFailure, "assert 3 == 4").at(
            "calc/core.py",
            Some(12),
            Some(5),
        );
        f.job = "test".into();
        f.step = "Run pytest -q".into();
        f.excerpt = "E       assert 3 == 4".into();
        let text = failure(&f, &plain());
        assert_eq!(
            text,
            "error[pytest/test_failure]: assert 3 == 4\n  --> calc/core.py:12:5\n   = test ▸ Run pytest -q\n   |\n   | E       assert 3 == 4\n"
        );
    }

    #[test]
    fn infra_failures_say_no_code_change() {
        let f = Failure::new(
            "runner",
            Kind::Timeout,
            "The job exceeded the maximum execution time of 10 minutes",
        );
        let text = failure(&f, &plain());
        assert!(text.starts_with("warning[runner/timeout]"));
        assert!(text.contains("need no code change"));
    }

    #[test]
    fn bytes_are_human() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(12_400_000), "12.4 MB");
    }
}
