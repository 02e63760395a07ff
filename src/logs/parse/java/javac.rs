//! javac and kotlinc errors as Maven, Gradle or javac print them (`-Werror` warnings too),
//! with the caret's column and the kind the message says.

use super::*;

/// javac / Maven / Kotlin compiler errors.
pub(super) fn compile_errors(raw: &[String], lines: &[Line], gradle: bool) -> Vec<Found> {
    let werror = lines
        .iter()
        .any(|l| l.text.contains("warnings found and -Werror specified"));
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let warning = matches!(line.level, Some("WARNING" | "WARN"));
        if line.level == Some("INFO") || warning && !werror {
            continue;
        }
        if let Some(found) = werror_warning(raw, lines, i, gradle).filter(|_| werror) {
            out.push(found);
            continue;
        }
        let (tool, file, l, col, message) = if let Some(c) = MAVEN_LOC.captures(line.text) {
            (
                "maven",
                c[1].to_string(),
                c[2].parse().ok(),
                c[3].parse().ok(),
                c[4].trim().to_string(),
            )
        } else if let Some(c) = JAVAC_LOC.captures(line.text) {
            let tool = if gradle { "gradle" } else { "javac" };
            (
                tool,
                c[1].to_string(),
                c[2].parse().ok(),
                caret_column(lines, i),
                c[3].trim().to_string(),
            )
        } else if let Some(c) = KOTLIN_LOC.captures(line.text) {
            let l = c.get(2).or(c.get(4)).and_then(|m| m.as_str().parse().ok());
            let col = c.get(3).or(c.get(5)).and_then(|m| m.as_str().parse().ok());
            ("gradle", c[1].to_string(), l, col, c[6].trim().to_string())
        } else {
            continue;
        };
        let details = compile_details(lines, i);
        let kind = if warning {
            Kind::Lint
        } else {
            compile_kind(&message)
        };
        let mut failure = Failure::new(tool, kind, message.clone()).at(file, l, col);
        failure.symbol = details
            .iter()
            .find_map(|d| SYMBOL_LINE.captures(d.text))
            .map(|c| c[1].to_string())
            .or_else(|| PACKAGE_MISSING.captures(&message).map(|c| c[1].to_string()))
            .or_else(|| UNRESOLVED.captures(&message).map(|c| c[1].to_string()));
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&window(raw, i, 0, details.len())),
        });
    }
    out
}

/// A javac warning (`X.java:12: warning: [deprecation] …`) in a build that `-Werror` failed:
/// a `lint` failure named by its category.
pub(super) fn werror_warning(
    raw: &[String],
    lines: &[Line],
    i: usize,
    gradle: bool,
) -> Option<Found> {
    static JAVAC_WARNING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^((?:[A-Za-z]:)?[^\s:][^:]*?\.java):(\d+): warning: (.+)$").unwrap()
    });
    static CATEGORY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\[([\w-]+)\]").unwrap());
    let c = JAVAC_WARNING.captures(lines[i].text)?;
    let message = c[3].trim();
    let tool = if gradle { "gradle" } else { "javac" };
    let mut failure = Failure::new(tool, Kind::Lint, message).at(
        &c[1],
        c[2].parse().ok(),
        caret_column(lines, i),
    );
    failure.symbol = CATEGORY.captures(message).map(|m| m[1].to_string());
    Some(Found {
        at: i,
        failure: failure.with_excerpt(&window(raw, i, 0, 2)),
    })
}

/// The source, caret, `symbol:` and `location:` lines after a compiler error.
pub(super) fn compile_details<'a>(lines: &'a [Line<'a>], at: usize) -> Vec<&'a Line<'a>> {
    lines[at + 1..]
        .iter()
        .take(6)
        .take_while(|l| {
            let t = l.text.trim_start();
            !t.is_empty()
                && (l.text.starts_with(' ') || l.text.starts_with('\t'))
                && !MAVEN_LOC.is_match(t)
                && !JAVAC_LOC.is_match(t)
        })
        .collect()
}

/// javac's column: where the `^` sits under the echoed source line.
pub(super) fn caret_column(lines: &[Line], at: usize) -> Option<u32> {
    let caret = lines.get(at + 2)?.text;
    (caret.trim() == "^")
        .then(|| caret.find('^').map(|p| p as u32 + 1))
        .flatten()
}

/// The kind of a compiler message.
pub(super) fn compile_kind(message: &str) -> Kind {
    if SYNTAX_MSG.is_match(message) {
        Kind::SyntaxError
    } else if TYPE_MSG.is_match(message) {
        Kind::TypeError
    } else if PACKAGE_MISSING.is_match(message)
        || message.starts_with("Unresolved reference") && message.contains('.')
    {
        Kind::ImportError
    } else {
        Kind::CompileError
    }
}
