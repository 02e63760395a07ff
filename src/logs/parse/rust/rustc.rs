//! rustc and clippy diagnostics (human and `--message-format=short`), with the lint that
//! made a warning an error, and cargo's own errors: dependency resolution, manifests, lock
//! files, the registry.

use super::*;

/// The lines after a header up to the end of its block: a blank line (unless cargo's
/// `Caused by:` follows), the next diagnostic header, or 40 lines.
pub(super) fn block_after(lines: &[String], at: usize) -> &[String] {
    let mut end = at + 1;
    while end < lines.len() && end - at < 40 {
        let l = &lines[end];
        if ANY_HEADER.is_match(l) || l == StepLog::GAP {
            break;
        }
        if l.trim().is_empty() {
            let next = lines.get(end + 1).map(|s| s.trim());
            if next != Some("Caused by:") {
                break;
            }
        }
        end += 1;
    }
    &lines[at + 1..end]
}

/// `error…:` headers: rustc diagnostics with a `-->` location, and cargo's own errors.
pub(super) fn diagnostics(lines: &[String], ctx: &Context) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(found) = short_diagnostic(line, ctx) {
            out.push(Found {
                at: i,
                failure: found.with_excerpt(std::slice::from_ref(line)),
            });
            continue;
        }
        let Some(caps) = HEADER.captures(line) else {
            continue;
        };
        let message = caps[2].trim();
        if SUMMARY.is_match(message) {
            continue;
        }
        let code = caps.get(1).map(|m| m.as_str());
        let block = block_after(lines, i);
        let header = line.trim_end();
        let found = match block.iter().take(3).find_map(|l| LOCATION.captures(l)) {
            Some(loc) => compiler_error(header, code, message, block, &loc, ctx),
            None => cargo_error(header, message, block, ctx),
        };
        if let Some(failure) = found {
            let excerpt: Vec<String> = std::iter::once(header.to_string())
                .chain(block.iter().take(14).cloned())
                .collect();
            out.push(Found {
                at: i,
                failure: failure.with_excerpt(&excerpt),
            });
        }
    }
    out
}

/// `--message-format=short`: `src/lib.rs:5:23: error[E0308]: mismatched types: …`.
pub(super) fn short_diagnostic(line: &str, ctx: &Context) -> Option<Failure> {
    let c = SHORT.captures(line)?;
    let message = c[5].trim();
    if SUMMARY.is_match(message) {
        return None;
    }
    let code = c.get(4).map(|m| m.as_str());
    let header = match code {
        Some(code) => format!("error[{code}]: {message}"),
        None => format!("error: {message}"),
    };
    let arrow = format!(" --> {}:{}:{}", &c[1], &c[2], &c[3]);
    let loc = LOCATION.captures(&arrow)?;
    compiler_error(&header, code, message, &[], &loc, ctx)
}

/// A rustc (or clippy, or rustfmt parse) error located by its `-->` line.
pub(super) fn compiler_error(
    header: &str,
    code: Option<&str>,
    message: &str,
    block: &[String],
    loc: &regex::Captures,
    ctx: &Context,
) -> Option<Failure> {
    let file = &loc[1];
    let rusty = file.ends_with(".rs") || file.ends_with("Cargo.toml") || ctx.cargo;
    if code.is_none() && !rusty {
        return None;
    }
    let lint = lint_name(block);
    let kind = match (&lint, code) {
        (Some(_), _) => Kind::Lint,
        (None, Some(c)) if TYPE_ERRORS.contains(&c) => Kind::TypeError,
        (None, Some(c)) if IMPORT_ERRORS.contains(&c) => Kind::ImportError,
        (None, None) if SYNTAX.is_match(message) => Kind::SyntaxError,
        // a registry crate that does not build: a version or toolchain mismatch
        _ if !is_own_path(file) => Kind::Dependency,
        _ => Kind::CompileError,
    };
    let tool = match &lint {
        Some((_, true)) => "clippy",
        Some(_) if ctx.clippy => "clippy",
        None if ctx.fmt_only => "rustfmt",
        _ => "rustc",
    };
    let mut failure = Failure::new(tool, kind, header).at(
        file.to_string(),
        loc[2].parse().ok(),
        loc[3].parse().ok(),
    );
    failure.symbol = match lint {
        Some((name, _)) => Some(name),
        None => named_symbol(message),
    };
    Some(failure)
}

/// The lint that made this diagnostic an error, and whether it is clippy's.
pub(super) fn lint_name(block: &[String]) -> Option<(String, bool)> {
    let patterns: [&Regex; 4] = [&LINT_URL, &LINT_IMPLIED, &LINT_ATTR, &LINT_ALLOW];
    for re in patterns {
        for line in block {
            for caps in re.captures_iter(line) {
                let raw = &caps[1];
                let clippy = std::ptr::eq(re, &*LINT_URL) || raw.starts_with("clippy::");
                let name = raw.trim_start_matches("clippy::").replace('-', "_");
                if name != "warnings" && !name.is_empty() {
                    return Some((name, clippy));
                }
            }
        }
    }
    None
}

/// The name an "unresolved"-style message is about: its first backticked text.
pub(super) fn named_symbol(message: &str) -> Option<String> {
    if !NAMES_A_SYMBOL.is_match(message) {
        return None;
    }
    BACKTICKED.captures(message).map(|c| c[1].to_string())
}

/// cargo's own errors (no source location): dependencies, manifests, subcommands.
pub(super) fn cargo_error(
    header: &str,
    message: &str,
    block: &[String],
    ctx: &Context,
) -> Option<Failure> {
    let caused_by = block.join("\n");
    let kind = if CARGO_DEPENDENCY.is_match(message) {
        if CARGO_NETWORK.is_match(&caused_by) {
            Kind::Network
        } else {
            Kind::Dependency
        }
    } else if CARGO_CONFIG.is_match(message) {
        Kind::Config
    } else if message.starts_with("no such command") {
        Kind::CommandNotFound
    } else if message.starts_with("linking with")
        || message.starts_with("failed to run custom build command")
    {
        Kind::CompileError
    } else if ctx.cargo && !ctx.fmt_only {
        Kind::Unknown
    } else {
        return None;
    };
    let mut failure = Failure::new("cargo", kind, header);
    if let Some(path) = manifest_path(message, &caused_by) {
        failure = failure.at(path, None, None);
    }
    if matches!(kind, Kind::Dependency | Kind::Network) {
        failure.symbol = CRATE_NAMED.captures(message).map(|c| c[1].to_string());
    }
    if message.starts_with("linking with") {
        failure.tool = "rustc".into();
        failure.symbol = undefined_symbol(block);
    }
    Some(failure)
}

/// The manifest or lock file a cargo error is about.
pub(super) fn manifest_path(message: &str, caused_by: &str) -> Option<String> {
    if let Some(c) = MANIFEST_AT.captures(message) {
        return c.get(1).or(c.get(2)).map(|m| m.as_str().to_string());
    }
    let text = format!("{message}\n{caused_by}");
    let dir = REQUIRED_BY.captures(&text)?;
    let dir = dir[1].trim_end_matches('/');
    if dir.starts_with('/') || dir.contains(":\\") {
        Some(format!("{dir}/Cargo.toml"))
    } else {
        None
    }
}

/// The first symbol a linker note says is undefined.
pub(super) fn undefined_symbol(block: &[String]) -> Option<String> {
    static UNDEF: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"undefined (?:reference to [`']([^'`]+)'|symbol: (\S+))").unwrap()
    });
    block
        .iter()
        .find_map(|l| UNDEF.captures(l))
        .map(|c| c.get(1).or(c.get(2)).unwrap().as_str().to_string())
}
