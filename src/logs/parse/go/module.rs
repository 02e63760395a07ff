//! Module errors (`go: …`): resolution, `go.sum`, checksums, the proxy, `go.mod` syntax.

use super::*;

/// `go:` errors about modules and go.mod, and `go.mod:line:` parse errors.
pub(super) fn module_errors(lines: &[String]) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let failure = if let Some(c) = MOD_ERROR.captures(line) {
            let kind = if DEPENDENCY_MSG.is_match(&c[4]) {
                Kind::Dependency
            } else {
                Kind::Config
            };
            Failure::new("go", kind, line.trim()).at(
                c[1].to_string(),
                c[2].parse().ok(),
                c.get(3).and_then(|m| m.as_str().parse().ok()),
            )
        } else if let Some(c) = GO_ERROR.captures(line) {
            let Some(kind) = go_error_kind(&c[1], lines.get(i + 1)) else {
                continue;
            };
            let mut failure = Failure::new("go", kind, line.trim());
            failure.symbol = module_named(&c[1]);
            if kind != Kind::Network {
                failure = failure.at("go.mod", None, None);
            }
            failure
        } else {
            continue;
        };
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&window(lines, i, 0, 3)),
        });
    }
    out
}

/// The kind of a `go: …` message, when it is an error.
pub(super) fn go_error_kind(message: &str, next: Option<&String>) -> Option<Kind> {
    let text = format!("{message} {}", next.map_or("", |s| s.as_str()));
    if NETWORK_MSG.is_match(&text) {
        Some(Kind::Network)
    } else if CONFIG_MSG.is_match(message) {
        Some(Kind::Config)
    } else if DEPENDENCY_MSG.is_match(message) {
        Some(Kind::Dependency)
    } else {
        None
    }
}

/// The module or package path a `go:` message names first (`go: github.com/x/y@v1: …`).
pub(super) fn module_named(message: &str) -> Option<String> {
    static MODULE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:^|module |package )([a-z0-9.-]+\.[a-z]{2,}/[^\s@:;]+)").unwrap()
    });
    MODULE.captures(message).map(|c| c[1].to_string())
}
