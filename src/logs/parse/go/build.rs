//! `go build`, `go vet` and linters (golangci-lint, staticcheck) diagnostics: `file:line:col:
//! message`, their kind and the symbol they name.

use super::*;

/// Compiler, vet and linter diagnostics: `file.go:line[:col]: message` at column 0.
pub(super) fn source_errors(lines: &[String], cmds: &str) -> Vec<Found> {
    let linter_run = if cmds.contains("golangci-lint") {
        Some("golangci-lint")
    } else if cmds.contains("staticcheck") {
        Some("staticcheck")
    } else {
        None
    };
    let vet_run = cmds.contains("go vet");
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = SOURCE_ERROR.captures(line) else {
            continue;
        };
        let message = c[5].trim();
        if message.starts_with("warning:") || message == "too many errors" {
            continue;
        }
        let from_vet = c.get(1).is_some() || vet_run;
        let (tool, kind, symbol) = classify(message, from_vet, linter_run);
        let mut failure = Failure::new(tool, kind, line.trim()).at(
            c[2].to_string(),
            c[3].parse().ok(),
            c.get(4).and_then(|m| m.as_str().parse().ok()),
        );
        failure.symbol = symbol;
        let after = continuation(lines, i);
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&window(lines, i, 1, after)),
        });
    }
    out
}

/// How many indented lines (`have`/`want`, source and caret) follow a diagnostic.
pub(super) fn continuation(lines: &[String], at: usize) -> usize {
    lines[at + 1..]
        .iter()
        .take(6)
        .take_while(|l| l.starts_with('\t') || l.starts_with("  ") && !TEST_LOG.is_match(l))
        .count()
}

/// Tool, kind and symbol of one `file.go:l:c: message` diagnostic.
pub(super) fn classify(
    message: &str,
    from_vet: bool,
    linter_run: Option<&'static str>,
) -> (&'static str, Kind, Option<String>) {
    let linter = LINTER_SUFFIX.captures(message).map(|c| c[1].to_string());
    if let Some(name) = linter.filter(|n| linter_run.is_some() || known_linter(n)) {
        let kind = if name == "typecheck" {
            compile_kind(message)
        } else {
            Kind::Lint
        };
        let symbol = if kind == Kind::Lint {
            Some(name.clone())
        } else {
            undefined_name(message)
        };
        let tool = match linter_run {
            Some(t) => t,
            None if STATICCHECK_CODE.is_match(&name) => "staticcheck",
            None => "golangci-lint",
        };
        return (tool, kind, symbol);
    }
    if let Some(c) = VET_ANALYZER.captures(message) {
        return ("go-vet", Kind::Lint, Some(c[1].to_string()));
    }
    let kind = compile_kind(message);
    if (from_vet || VET_MSG.is_match(message)) && kind == Kind::CompileError {
        return ("go-vet", Kind::Lint, None);
    }
    let tool = if from_vet { "go-vet" } else { "go" };
    (tool, kind, undefined_name(message))
}

/// The kind of a compiler message.
pub(super) fn compile_kind(message: &str) -> Kind {
    if SYNTAX_MSG.is_match(message) {
        Kind::SyntaxError
    } else if TYPE_MSG.is_match(message) {
        Kind::TypeError
    } else if DEPENDENCY_MSG.is_match(message) {
        Kind::Dependency
    } else if IMPORT_MSG.is_match(message) {
        Kind::ImportError
    } else {
        Kind::CompileError
    }
}

/// Linters golangci-lint prints as a `(name)` suffix.
pub(super) fn known_linter(name: &str) -> bool {
    const LINTERS: &[&str] = &[
        "errcheck",
        "govet",
        "staticcheck",
        "unused",
        "gosimple",
        "ineffassign",
        "typecheck",
        "revive",
        "gocritic",
        "gosec",
        "misspell",
        "goimports",
        "gofmt",
        "gofumpt",
        "stylecheck",
        "unparam",
        "prealloc",
        "bodyclose",
        "dupl",
        "goconst",
        "gocyclo",
        "lll",
        "nakedret",
        "noctx",
        "errorlint",
        "exhaustive",
        "nilerr",
        "whitespace",
        "wrapcheck",
        "unconvert",
        "godot",
        "forcetypeassert",
        "contextcheck",
        "copyloopvar",
        "intrange",
        "perfsprint",
        "usestdlibvars",
        "testifylint",
        "thelper",
        "paralleltest",
        "tparallel",
        "mnd",
        "funlen",
        "gocognit",
        "cyclop",
        "nestif",
        "nolintlint",
        "errname",
        "predeclared",
        "asciicheck",
    ];
    LINTERS.contains(&name) || STATICCHECK_CODE.is_match(name)
}

/// The name a compiler message is about (undefined names, unused imports, packages).
pub(super) fn undefined_name(message: &str) -> Option<String> {
    let c = UNDEFINED.captures(message)?;
    (1..c.len())
        .find_map(|g| c.get(g))
        .map(|m| m.as_str().trim_end_matches(';').to_string())
}
