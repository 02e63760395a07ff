//! Finds root causes in real tools' output. One file per ecosystem; each parser looks only
//! for its own tool's shapes and says where in the step it found them. GitHub's own
//! annotations (`annotation`) confirm what the parsers found or add what they missed, and
//! `generic` answers (last error lines, any `path:line`, a kind from `classify`) when none
//! matched: never nothing.

pub mod annotation;
pub mod c;
pub mod classify;
pub mod consequence;
#[cfg(any(test, feature = "test-support"))]
pub mod corpus;
pub mod generic;
pub mod go;
pub mod infra;
pub mod java;
pub mod js;
pub mod python;
pub mod rust;
pub mod shell;

use super::{Failure, StepLog};

/// One failure and the index in `StepLog::lines` where it starts (for log order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub at: usize,
    pub failure: Failure,
}

/// A parser: the tool names it answers to for `--tool`, and its entry point.
pub struct Parser {
    pub tools: &'static [&'static str],
    pub parse: fn(&StepLog) -> Vec<Found>,
}

/// Every ecosystem parser. `generic` is not here: it runs only when these find nothing.
pub const PARSERS: &[Parser] = &[
    Parser {
        tools: python::TOOLS,
        parse: python::parse,
    },
    Parser {
        tools: rust::TOOLS,
        parse: rust::parse,
    },
    Parser {
        tools: go::TOOLS,
        parse: go::parse,
    },
    Parser {
        tools: js::TOOLS,
        parse: js::parse,
    },
    Parser {
        tools: java::TOOLS,
        parse: java::parse,
    },
    Parser {
        tools: c::TOOLS,
        parse: c::parse,
    },
    Parser {
        tools: shell::TOOLS,
        parse: shell::parse,
    },
    Parser {
        tools: infra::TOOLS,
        parse: infra::parse,
    },
];

/// Tool names accepted by `--tool`.
pub fn tool_names() -> Vec<&'static str> {
    PARSERS
        .iter()
        .flat_map(|p| p.tools.iter().copied())
        .collect()
}

/// Every failure found in one step's kept lines, in log order. With `tool`, only the
/// parser that knows that tool runs (and the failures carry that tool's name).
pub fn parse_step(step: &StepLog, tool: Option<&str>) -> Vec<Failure> {
    let mut found: Vec<Found> = match tool {
        Some(t) => PARSERS
            .iter()
            .filter(|p| p.tools.contains(&t))
            .flat_map(|p| (p.parse)(step))
            .collect(),
        None => PARSERS.iter().flat_map(|p| (p.parse)(step)).collect(),
    };
    annotation::apply(step, &mut found);
    if found.iter().all(|f| !f.failure.needs_code_change) && step.failed {
        // infra findings alone may hide a code failure the parsers missed; generic adds its guess
        // only when nothing at all was found.
        if found.is_empty() {
            found = generic::parse(step);
        }
    }
    if found.is_empty() && tool.is_some() {
        found = generic::parse(step);
    }
    found.sort_by_key(|f| f.at);
    name_unknown_kinds(step, &mut found);
    consequence::causes_first(&mut found);
    let mut out: Vec<Failure> = Vec::new();
    for f in found {
        let dup = out.iter().any(|o| {
            o.file == f.failure.file
                && o.line == f.failure.line
                && o.kind == f.failure.kind
                && o.message == f.failure.message
        });
        if !dup {
            let mut failure = f.failure;
            if let Some(t) = tool {
                failure.tool = t.to_string();
            }
            out.push(failure);
        }
    }
    out
}

/// A failure a parser claimed without a kind gets one from what its line and excerpt say
/// (a missing `DATABASE_URL`, an unreachable repository), when they say one.
fn name_unknown_kinds(step: &StepLog, found: &mut [Found]) {
    for f in found
        .iter_mut()
        .filter(|f| f.failure.kind == super::Kind::Unknown)
    {
        let at = f.at.min(step.lines.len().saturating_sub(1));
        let kind =
            classify::kind_of(&f.failure.message).or_else(|| classify::kind_near(&step.lines, at));
        if let Some(kind) = kind {
            f.failure.kind = kind;
            f.failure.needs_code_change = kind.needs_code_change();
        }
    }
}

/// Shared helpers for parsers.
pub mod util {
    use std::sync::LazyLock;

    use regex::Regex;

    static HUNK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@").unwrap());

    /// Lines `[from, to)` of `lines` around `at`, clamped, for an excerpt.
    pub fn window(lines: &[String], at: usize, before: usize, after: usize) -> Vec<String> {
        let from = at.saturating_sub(before);
        let to = (at + after + 1).min(lines.len());
        lines[from.min(to)..to].to_vec()
    }

    /// The first changed line of the unified diff whose file header is at `header`: the
    /// first hunk's new start plus its leading context lines. `None` without a hunk
    /// within the next few lines.
    pub fn first_changed_line(lines: &[String], header: usize) -> Option<u32> {
        let end = (header + 5).min(lines.len());
        let h = (header + 1..end).find(|&j| HUNK.is_match(&lines[j]))?;
        let start: u32 = HUNK.captures(&lines[h])?[1].parse().ok()?;
        let context = lines[h + 1..]
            .iter()
            .take_while(|l| l.starts_with(' ') || l.is_empty())
            .count() as u32;
        Some(start + context)
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Fragments of real tool output, so random lines often look like a tool's.
    const SHAPES: &[&str] = &[
        "error[E0308]: mismatched types",
        "  --> src/lib.rs:",
        "FAILED tests/test_x.py::test_y - AssertionError",
        "Traceback (most recent call last):",
        "  File \"a.py\", line ",
        "--- FAIL: TestX (0.00s)",
        "    x_test.go:",
        "src/a.ts(3,5): error TS2322: ",
        "thread 'main' panicked at src/main.rs:",
        "[ERROR] /w/X.java:[12,5] cannot find symbol",
        "make: *** [Makefile:3: test] Error 1",
        "##[error]Process completed with exit code 1.",
        "⋯",
        "",
    ];

    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            (0..SHAPES.len(), any::<u16>(), "[ -~]{0,40}")
                .prop_map(|(i, n, tail)| format!("{}{n}{tail}", SHAPES[i])),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn parsers_never_panic_and_a_failed_step_always_gets_an_answer(
            lines in prop::collection::vec(line(), 0..60),
            failed in any::<bool>(),
            tool in prop::option::of(0..4usize),
        ) {
            let step = StepLog { lines, failed, ..StepLog::default() };
            let names = tool_names();
            let tool = tool.map(|i| names[i * 7 % names.len()]);
            let found = parse_step(&step, tool);
            if failed && tool.is_none() && !step.lines.is_empty() {
                prop_assert!(!found.is_empty(), "a failed step got no answer");
            }
        }
    }
}
