//! JavaScript and TypeScript: tsc, eslint, jest, vitest, `node --test`, uncaught errors
//! from plain `node` (missing modules, crashes, the V8 heap limit) and npm's own errors.
//!
//! `JavaScript heap out of memory` is reported here as `oom` by tool `node`, not by the
//! infra parser, since node printed it.

mod lint;
mod runners;

use std::sync::LazyLock;

use regex::Regex;

use super::Found;
use super::generic::one_line;
use super::util::window;
use crate::logs::{Failure, Kind, StepLog};

/// Tool names this parser answers to for `--tool`.
pub const TOOLS: &[&str] = &[
    "tsc",
    "eslint",
    "jest",
    "vitest",
    "node-test",
    "node",
    "npm",
    "pnpm",
    "yarn",
    "mocha",
    "prettier",
    "bun",
];

/// An uncaught error at the start of a line: `TypeError: x`, `Error [ERR_X]: y`.
static UNCAUGHT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^((?:[A-Z]\w*)?Error)(?: \[(\w+)\])?: (.*)$").unwrap());
static NODE_SOURCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^((?:file://)?/[^\s:]+|[A-Za-z]:\\\S+):(\d+)$").unwrap());
static PNPM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?:‼\s*)?(ERR_PNPM_\w+)\s+(.*)$").unwrap());
static YARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^(?:error (Your lockfile needs to be updated.*|Couldn't find (?:package|any versions for) "(@?[^@"]+).*|An unexpected error occurred: .*)|➤ YN(0028|0035|0018|0016): (?:│ )?(.*))$"#).unwrap()
});
static NETWORK_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"ENOTFOUND|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ECONNREFUSED|socket hang up|network")
        .unwrap()
});
static IMPORTED_FROM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r" imported from (\S+)").unwrap());
static HEAP_OOM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"FATAL ERROR: .*(?:heap out of memory|Allocation failed)").unwrap()
});
static NPM_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^npm (?:ERR!|error) code (\S+)\s*$").unwrap());
static NPM_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^npm (?:ERR!|error)\s?(.*)$").unwrap());
static NPM_LIFECYCLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^npm (?:ERR!|error) (?:Lifecycle script `([^`]+)` failed|missing script: (\S+)|Missing script: .(\w[\w:-]*).)").unwrap()
});
static NPM_404: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"'(@?[^@'\s]+)(?:@[^'\s]*)?' is not in (?:this|the npm) registry|GET \S+/(@?[\w.-]+(?:%2f[\w.-]+)?) - Not found").unwrap()
});

/// Failures in `step`, with where each starts.
pub fn parse(step: &StepLog) -> Vec<Found> {
    let step = &*super::generic::unmarked(step);
    let lines = &step.lines;
    let mut found = lint::tsc(lines);
    found.extend(lint::eslint(lines));
    found.extend(lint::prettier(lines));
    found.extend(runners::jest(lines));
    found.extend(runners::vitest(lines));
    found.extend(runners::node_tap(lines));
    found.extend(runners::node_spec(lines));
    found.extend(runners::mocha(lines));
    found.extend(runners::bun(lines));
    found.extend(runners::jest_coverage(lines));
    found.extend(uncaught(lines));
    found.extend(heap_oom(lines));
    found.extend(npm(lines));
    found.extend(pnpm_and_yarn(lines));
    found
}

/// node's report of an uncaught error: the error line at column 0 followed by its stack.
fn uncaught(lines: &[String]) -> Vec<Found> {
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = UNCAUGHT.captures(line) else {
            continue;
        };
        // a hint line or two (`Did you mean …`) may sit between the error and its stack
        let first_at = (i + 1..(i + 4).min(lines.len())).find(|&j| lines[j].starts_with("    at "));
        let stack_end = (i + 1..lines.len())
            .take_while(|&j| {
                first_at.is_some_and(|f| j < f)
                    || lines[j].starts_with("    at ")
                    || lines[j].starts_with("Require stack:")
                    || lines[j].starts_with("- ")
            })
            .last();
        let Some(end) = stack_end.filter(|&e| (i + 1..=e).any(|j| lines[j].starts_with("    at ")))
        else {
            continue;
        };
        let frames = {
            let mut v: Vec<_> = lines[i + 1..=end]
                .iter()
                .filter_map(|l| runners::stack_frame(l))
                .collect();
            v.reverse();
            v
        };
        let mut f = Failure::new(
            "node",
            node_kind(&c[1], c.get(2).map(|m| m.as_str()), &c[3]),
            one_line(line),
        );
        f.symbol = missing_module(&c[3]);
        let source = i.checked_sub(5).map_or(0, |s| s)..i;
        let thrown_at = source.clone().rev().find_map(|j| {
            NODE_SOURCE
                .captures(&lines[j])
                .map(|m| (m[1].to_string(), m[2].parse().ok()))
        });
        let own = frames
            .iter()
            .rev()
            .find(|fr| !super::generic::is_vendor_path(&fr.file));
        let importer = IMPORTED_FROM.captures(&c[3]).map(|m| m[1].to_string());
        match (own, thrown_at, importer) {
            (Some(fr), _, _) => f = f.at(fr.file.clone(), fr.line, None),
            (None, Some((file, line)), _) => {
                f = f.at(file.trim_start_matches("file://"), line, None)
            }
            (None, None, Some(file)) => f = f.at(file.trim_start_matches("file://"), None, None),
            _ => {}
        }
        f.frames = super::generic::own_frames(&frames);
        let at = source
            .clone()
            .find(|&j| NODE_SOURCE.is_match(&lines[j]))
            .unwrap_or(i);
        found.push(Found {
            at,
            failure: f.with_excerpt(&window(lines, i, i - at, (end - i).min(8))),
        });
    }
    found
}

fn node_kind(name: &str, code: Option<&str>, message: &str) -> Kind {
    if name == "SyntaxError" {
        Kind::SyntaxError
    } else if missing_module(message).is_some()
        || code.is_some_and(|c| c.contains("MODULE_NOT_FOUND"))
    {
        Kind::ImportError
    } else {
        Kind::Unknown
    }
}

fn missing_module(message: &str) -> Option<String> {
    static RE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"Cannot find (?:module|package) '([^']+)'").unwrap());
    RE.captures(message).map(|c| c[1].to_string())
}

/// V8's `FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory`.
fn heap_oom(lines: &[String]) -> Vec<Found> {
    let Some(i) = lines.iter().position(|l| HEAP_OOM.is_match(l)) else {
        return Vec::new();
    };
    let f = Failure::new("node", Kind::Oom, one_line(&lines[i]));
    vec![Found {
        at: i,
        failure: f.with_excerpt(&window(lines, i, 3, 1)),
    }]
}

/// npm's `npm ERR! code X` / `npm error code X` blocks and lifecycle-script failures.
fn npm(lines: &[String]) -> Vec<Found> {
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = NPM_CODE.captures(line) {
            if let Some(f) = npm_code(lines, i, &c[1]) {
                found.push(Found { at: i, failure: f });
            }
        } else if let Some(c) = NPM_LIFECYCLE.captures(line) {
            let (script, missing) = match c.get(1) {
                Some(s) => (s.as_str().to_string(), false),
                None => (
                    c.get(2).or(c.get(3)).map_or("", |m| m.as_str()).to_string(),
                    true,
                ),
            };
            let kind = if missing { Kind::Config } else { Kind::Unknown };
            let mut f = Failure::new(
                "npm",
                kind,
                one_line(
                    NPM_LINE
                        .captures(line)
                        .map_or(line.as_str(), |m| m.get(1).unwrap().as_str()),
                ),
            );
            f.symbol = Some(script).filter(|s| !s.is_empty());
            found.push(Found {
                at: i,
                failure: f.with_excerpt(&window(lines, i, 2, 4)),
            });
        }
    }
    found
}

/// pnpm's `ERR_PNPM_*` errors and yarn's (classic `error …`, berry `➤ YN0028: …`) install
/// failures; script failures (`ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL`, `Command failed`) are
/// left to the tool the script ran.
fn pnpm_and_yarn(lines: &[String]) -> Vec<Found> {
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let f = if let Some(c) = PNPM.captures(line) {
            let Some(kind) = pnpm_kind(&c[1], &c[2]) else {
                continue;
            };
            let mut f = Failure::new("pnpm", kind, one_line(&format!("{}: {}", &c[1], &c[2])));
            if c[1].contains("LOCKFILE") {
                f = f.at("pnpm-lock.yaml", None, None);
            }
            f
        } else if let Some(c) = YARN.captures(line) {
            let text = c.get(1).or(c.get(4)).map_or("", |m| m.as_str());
            let kind = if NETWORK_WORDS.is_match(text) {
                Kind::Network
            } else {
                Kind::Dependency
            };
            let mut f = Failure::new("yarn", kind, one_line(text));
            f.symbol = c.get(2).map(|m| m.as_str().to_string());
            if text.contains("lockfile") {
                f = f.at("yarn.lock", None, None);
            }
            f
        } else {
            continue;
        };
        found.push(Found {
            at: i,
            failure: f.with_excerpt(&window(lines, i, 2, 3)),
        });
    }
    found
}

fn pnpm_kind(code: &str, message: &str) -> Option<Kind> {
    if code.contains("RUN_FIRST_FAIL") || code.contains("RECURSIVE_EXEC") {
        return None;
    }
    Some(
        if NETWORK_WORDS.is_match(code) || NETWORK_WORDS.is_match(message) {
            Kind::Network
        } else if code.contains("NO_SCRIPT") || code.contains("CONFIG") {
            Kind::Config
        } else {
            Kind::Dependency
        },
    )
}

/// The failure an `npm error code X` block describes; `None` for lifecycle exit codes
/// (`code 1`, `ELIFECYCLE`), which the script's own failure already explains.
fn npm_code(lines: &[String], i: usize, code: &str) -> Option<Failure> {
    if code.chars().all(|c| c.is_ascii_digit()) || code == "ELIFECYCLE" {
        return None;
    }
    let kind = match code {
        "ENOTFOUND" | "ECONNRESET" | "ETIMEDOUT" | "EAI_AGAIN" | "ECONNREFUSED"
        | "EHOSTUNREACH" | "ENETUNREACH" | "ERR_SOCKET_TIMEOUT" | "E500" | "E502" | "E503"
        | "E504" => Kind::Network,
        "ENOENT" | "EJSONPARSE" | "ENOWORKSPACES" => Kind::Config,
        "ENOSPC" => Kind::Infra,
        _ => Kind::Dependency,
    };
    let detail: Vec<&str> = lines[i + 1..]
        .iter()
        .take(12)
        .filter_map(|l| {
            NPM_LINE
                .captures(l)
                .map(|c| c.get(1).unwrap().as_str().trim())
        })
        .filter(|t| !t.is_empty())
        .collect();
    let first = detail
        .iter()
        .find(|t| !t.starts_with("syscall") && !t.starts_with("errno"))
        .copied()
        .unwrap_or("");
    let mut f = Failure::new("npm", kind, one_line(&format!("{code}: {first}")));
    f.symbol = detail.iter().find_map(|t| {
        NPM_404
            .captures(t)
            .and_then(|c| c.get(1).or(c.get(2)).map(|m| m.as_str().to_string()))
    });
    if code == "ERESOLVE" || code == "ETARGET" || code == "EUSAGE" {
        f = f.at("package.json", None, None);
    }
    Some(f.with_excerpt(&window(lines, i, 0, 8)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::parse::corpus;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn corpus_js_cases() {
        corpus::assert_cases(&["ts_", "js_", "infra_node"], 13);
    }

    #[test]
    fn npm_404_names_the_package() {
        let l = lines(
            "npm ERR! code E404\nnpm ERR! 404 Not Found - GET https://registry.npmjs.org/left-padd - Not found\nnpm ERR! 404\nnpm ERR! 404  'left-padd@^1.0.0' is not in this registry.",
        );
        let f = &npm(&l)[0].failure;
        assert_eq!(f.kind, Kind::Dependency);
        assert_eq!(f.symbol.as_deref(), Some("left-padd"));
        assert!(f.message.starts_with("E404: 404 Not Found"));
    }

    #[test]
    fn pnpm_and_yarn_install_failures() {
        let l = lines(
            " ERR_PNPM_OUTDATED_LOCKFILE  Cannot install with \"frozen-lockfile\" because pnpm-lock.yaml is not up to date with package.json\n\
             error Couldn't find package \"left-padd@^1.0.0\" required by \"app@1.0.0\" on the \"npm\" registry.\n\
             ➤ YN0028: │ The lockfile would have been modified by this install, which is explicitly forbidden.\n\
             ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL  app@1.0.0 test: `jest`",
        );
        let found = pnpm_and_yarn(&l);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].failure.file.as_deref(), Some("pnpm-lock.yaml"));
        assert_eq!(found[1].failure.symbol.as_deref(), Some("left-padd"));
        assert_eq!(found[2].failure.file.as_deref(), Some("yarn.lock"));
        assert!(found.iter().all(|f| f.failure.kind == Kind::Dependency));
    }

    #[test]
    fn npm_network_and_lifecycle() {
        let l = lines(
            "npm error code ECONNRESET\nnpm error network aborted\nnpm error Lifecycle script `test` failed with error:\nnpm error code 1",
        );
        let found = npm(&l);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].failure.kind, Kind::Network);
        assert_eq!(found[1].failure.symbol.as_deref(), Some("test"));
    }

    #[test]
    fn uncaught_type_error_with_source_line() {
        let l = lines(
            "/home/runner/work/app/app/src/index.js:4\n  return cfg.port.toString();\n                  ^\n\nTypeError: Cannot read properties of undefined (reading 'toString')\n    at start (/home/runner/work/app/app/src/index.js:4:19)\n    at Object.<anonymous> (/home/runner/work/app/app/src/index.js:7:1)\n    at Module._compile (node:internal/modules/cjs/loader:1554:14)\n\nNode.js v22.12.0",
        );
        let found = uncaught(&l);
        assert_eq!(found[0].at, 0);
        let f = &found[0].failure;
        assert_eq!(f.kind, Kind::Unknown);
        assert_eq!(f.line, Some(4));
        assert_eq!(f.frames.len(), 2);
    }
}
