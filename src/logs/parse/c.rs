//! Parser for C and C++ toolchains: gcc and clang diagnostics (`x.c:12:5: error: …` with
//! their `In function` / note / caret lines), linker errors (GNU ld, lld, Apple ld) and CMake
//! configure errors.
//!
//! Kinds: a missing header (`fatal error: x.h: No such file or directory`, clang's `'x.h'
//! file not found`) is `import_error`, like a missing module elsewhere; warnings made errors
//! by `-Werror` are `lint`; parse errors `syntax_error`; type mismatches `type_error`;
//! undefined references and other compiler errors `compile_error`; a library the linker
//! cannot find (`cannot find -lfoo`) and CMake's failed `find_package` are `dependency`.
//! The tool is `clang` when the step ran clang or clang's `N errors generated.` shows, else
//! `gcc`. Summaries (`collect2: error: ld returned 1 exit status`, `clang: error: linker
//! command failed`, `compilation terminated.`) are skipped. In C++ template noise the first
//! error is reported, moved to the project's `required from here` / `requested here` line
//! when the error itself sits in a system header.

use std::sync::LazyLock;

use regex::Regex;

use super::Found;
use super::util::window;
use crate::logs::{Failure, Frame, Kind, StepLog};

/// Tool names this parser answers to for `--tool`.
pub const TOOLS: &[&str] = &["gcc", "clang", "cmake", "ld"];

const SOURCE_EXT: &str =
    r"\.(?:c|h|cc|cpp|cxx|c\+\+|hpp|hxx|hh|h\+\+|ipp|tpp|inl|inc|m|mm|cu|cuh|S|s)";

static DIAGNOSTIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^((?:[A-Za-z]:)?[^\s:][^:]*?{SOURCE_EXT}|/[^\s:]*/include/[^\s:]*):(\d+):(?:(\d+):)? (fatal error|error): (.+)$"
    ))
    .unwrap()
});
static REQUIRED_FROM_HERE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^((?:[A-Za-z]:)?[^\s:][^:]*?{SOURCE_EXT}):(\d+):(?:\d+:)?\s+required from here"
    ))
    .unwrap()
});
static REQUESTED_HERE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"^((?:[A-Za-z]:)?[^\s:][^:]*?{SOURCE_EXT}):(\d+):(?:\d+:)? note: in instantiation of .* requested here")).unwrap()
});
static QUOTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[‘'`\x22]([^’'`\x22]+)[’'\x22]").unwrap());
static NO_MEMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"no member named [‘'\x22]([^’'\x22]+)[’'\x22]").unwrap());
static MISSING_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\S+?): No such file or directory$|^[‘'\x22]([^’'\x22]+)[’'\x22] file not found")
        .unwrap()
});
static WERROR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[-Werror(?:=|,-W)([\w+=-]+)\]$").unwrap());
static SYNTAX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:expected |stray |missing terminating|unterminated|extraneous closing|expected$|unknown type name|invalid preprocessing directive|#error|extra tokens)").unwrap()
});
static TYPES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"incompatible (?:type|pointer)|invalid conversion|cannot convert|no matching (?:function|constructor|member function)|invalid operands|too (?:few|many) arguments|conflicting types|no viable conversion|cannot initialize|assigning to .* from incompatible|no match for|invalid initialization|request for member .* which is of non-class type|cannot bind|discards .*qualifier|incomplete type|is not a (?:class|pointer)|non-const lvalue|lvalue required").unwrap()
});
static UNDEFINED_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\S*ld(?:\.\w+)?: )?(?:(\S+?)(?::(\d+)|:\([^)]*\))?: )?(?:undefined reference to|multiple definition of) [`‘']([^'’`]+)['’]").unwrap()
});
static LLD_UNDEFINED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\S*ld(?:\.lld)?: error: (?:undefined symbol|duplicate symbol): (.+)$").unwrap()
});
static LLD_REFERENCED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^>>> referenced by (\S+?):(\d+)").unwrap());
static APPLE_UNDEFINED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s+\x22_?([^\x22]+)\x22, referenced from:").unwrap());
static MISSING_LIB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\S*ld(?:\.\w+)?: (?:error: )?(?:cannot find|library not found for) -l(\S+?)(?::.*)?$",
    )
    .unwrap()
});
static CMAKE_AT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^CMake Error at (.+?):(\d+) \((\w+)\):\s*$").unwrap());
static CMAKE_PLAIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^CMake Error(?: in (\S+?))?: ?(.*)$").unwrap());
static CMAKE_STACK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s+(\S+?):(\d+) \((\w+)\)\s*$").unwrap());
static PACKAGE_NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:Could NOT find |provided by\s+\x22|package '|No package ')([\w.+-]+)").unwrap()
});

/// Failures in `step`, with where each starts.
pub fn parse(step: &StepLog) -> Vec<Found> {
    let step = &*super::generic::unmarked(step);
    let lines = &step.lines;
    let compiler = compiler_of(step);
    let mut out = diagnostics(lines, compiler);
    out.extend(linker_errors(lines));
    out.extend(cmake_errors(lines));
    out
}

/// `clang` when the step ran clang or printed clang's summary, else `gcc`.
fn compiler_of(step: &StepLog) -> &'static str {
    static GENERATED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\d+ (?:warnings? and \d+ )?errors? generated\.$").unwrap());
    let clang = step.commands.iter().any(|c| c.contains("clang"))
        || step.lines.iter().any(|l| GENERATED.is_match(l));
    if clang { "clang" } else { "gcc" }
}

/// Compiler `error:` / `fatal error:` lines.
fn diagnostics(lines: &[String], compiler: &'static str) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = DIAGNOSTIC.captures(line) else {
            continue;
        };
        let message = c[5].trim();
        let (kind, symbol) = classify(message);
        let mut failure = Failure::new(compiler, kind, format!("{}: {message}", &c[4])).at(
            c[1].to_string(),
            c[2].parse().ok(),
            c.get(3).and_then(|m| m.as_str().parse().ok()),
        );
        failure.symbol = symbol;
        relocate_to_own_code(&mut failure, lines, i);
        let before = usize::from(i > 0 && lines[i - 1].contains(": In "));
        let excerpt = window(lines, i, before, detail_lines(lines, i));
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&excerpt),
        });
    }
    out
}

/// Kind and symbol of one compiler error.
fn classify(message: &str) -> (Kind, Option<String>) {
    if let Some(c) = MISSING_HEADER.captures(message) {
        let header = c.get(1).or(c.get(2)).map(|m| m.as_str().to_string());
        return (Kind::ImportError, header);
    }
    let kind = if WERROR.is_match(message) {
        Kind::Lint
    } else if SYNTAX.is_match(message) {
        Kind::SyntaxError
    } else if TYPES.is_match(message) {
        Kind::TypeError
    } else {
        Kind::CompileError
    };
    let symbol = if kind == Kind::SyntaxError {
        None
    } else {
        named_symbol(message)
    };
    (kind, symbol)
}

/// The name an error is about: the member after "no member named", else the first quoted
/// name, without its argument list.
fn named_symbol(message: &str) -> Option<String> {
    let raw = NO_MEMBER
        .captures(message)
        .or_else(|| QUOTED.captures(message))?;
    let name = raw[1].split('(').next().unwrap_or_default().trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// How many source, caret and note lines follow an error (excerpt size).
fn detail_lines(lines: &[String], at: usize) -> usize {
    lines[at + 1..]
        .iter()
        .take(8)
        .take_while(|l| l.starts_with(' ') || l.contains(": note: ") || l.contains("|"))
        .count()
}

/// True for compiler and SDK headers rather than the project's files.
fn is_system_path(path: &str) -> bool {
    [
        "/usr/include/",
        "/usr/lib/gcc",
        "/usr/local/include/",
        "/usr/lib/llvm",
        "/include/c++/",
        "/Library/Developer/",
        "/Applications/Xcode",
        "/opt/homebrew/",
        "/nix/store/",
    ]
    .iter()
    .any(|p| path.contains(p))
}

/// An error inside a system header (template noise) moves to the project line that
/// instantiated it: gcc's `required from here` above, clang's `requested here` below.
fn relocate_to_own_code(failure: &mut Failure, lines: &[String], at: usize) {
    let Some(file) = failure.file.clone().filter(|f| is_system_path(f)) else {
        return;
    };
    let own = |c: regex::Captures| {
        (!is_system_path(&c[1])).then(|| (c[1].to_string(), c[2].parse::<u32>().ok()))
    };
    let above = lines[at.saturating_sub(40)..at]
        .iter()
        .rev()
        .find_map(|l| REQUIRED_FROM_HERE.captures(l).and_then(own));
    let below = || {
        lines[at + 1..]
            .iter()
            .take(60)
            .find_map(|l| REQUESTED_HERE.captures(l).and_then(own))
    };
    if let Some((own_file, own_line)) = above.or_else(below) {
        failure.frames = vec![
            Frame {
                file: own_file.clone(),
                line: own_line,
                function: None,
            },
            Frame {
                file,
                line: failure.line,
                function: None,
            },
        ];
        failure.file = Some(own_file);
        failure.line = own_line;
        failure.column = None;
    }
}

/// Undefined references (GNU ld, lld, Apple ld), duplicate symbols and missing libraries.
fn linker_errors(lines: &[String]) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(failure) = linker_failure(lines, i, line) else {
            continue;
        };
        let dup = out
            .iter()
            .any(|f| f.failure.symbol == failure.symbol && f.failure.file == failure.file);
        if !dup {
            out.push(Found {
                at: i,
                failure: failure.with_excerpt(&window(lines, i, 1, 2)),
            });
        }
    }
    out
}

/// The linker failure reported on `lines[i]`, if any.
fn linker_failure(lines: &[String], i: usize, line: &str) -> Option<Failure> {
    if let Some(c) = UNDEFINED_REF.captures(line) {
        let mut failure = Failure::new("ld", Kind::CompileError, line.trim());
        if let Some(file) = c
            .get(1)
            .map(|m| m.as_str())
            .filter(|f| !f.ends_with(".o") && !f.ends_with(".a") && !f.ends_with(".obj"))
        {
            failure = failure.at(file, c.get(2).and_then(|m| m.as_str().parse().ok()), None);
        }
        failure.symbol = Some(c[3].to_string());
        return Some(failure);
    }
    if let Some(c) = LLD_UNDEFINED.captures(line) {
        let mut failure = Failure::new("ld", Kind::CompileError, line.trim());
        if let Some(r) = lines[i + 1..]
            .iter()
            .take(3)
            .find_map(|l| LLD_REFERENCED.captures(l))
        {
            failure = failure.at(&r[1], r[2].parse().ok(), None);
        }
        failure.symbol = Some(c[1].trim().to_string());
        return Some(failure);
    }
    if let Some(c) = APPLE_UNDEFINED.captures(line) {
        let header = i > 0 && lines[i - 1].starts_with("Undefined symbols for architecture");
        let mut failure = Failure::new(
            "ld",
            Kind::CompileError,
            format!("undefined symbol: {}", &c[1]),
        );
        failure.symbol = Some(c[1].to_string());
        return header.then_some(failure);
    }
    let c = MISSING_LIB.captures(line)?;
    let mut failure = Failure::new("ld", Kind::Dependency, line.trim());
    failure.symbol = Some(c[1].to_string());
    Some(failure)
}

/// `CMake Error at file:line (command):` blocks and plain `CMake Error:` lines.
fn cmake_errors(lines: &[String]) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let failure = if let Some(c) = CMAKE_AT.captures(line) {
            cmake_at(lines, i, &c[1], c[2].parse().ok(), &c[3])
        } else if let Some(c) = CMAKE_PLAIN.captures(line) {
            let mut f = Failure::new("cmake", Kind::Config, line.trim());
            if let Some(file) = c.get(1) {
                f = f.at(file.as_str(), None, None);
            }
            f
        } else {
            continue;
        };
        let body = block_len(lines, i);
        out.push(Found {
            at: i,
            failure: failure.with_excerpt(&window(lines, i, 0, body.min(12))),
        });
    }
    out
}

/// The failure for a `CMake Error at` block: located in the project's CMakeLists, not in
/// CMake's own modules (via the `Call Stack`), kind `dependency` for packages not found.
fn cmake_at(lines: &[String], at: usize, file: &str, line: Option<u32>, command: &str) -> Failure {
    let body: Vec<&String> = lines[at + 1..].iter().take(block_len(lines, at)).collect();
    let text = body.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
    let first = body
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let finder = command.starts_with("find_") || command == "pkg_check_modules";
    let not_found = text.contains("Could NOT find")
        || text.contains("could not find")
        || text.contains("did not find")
        || text.contains("not found");
    let kind = if finder || not_found {
        Kind::Dependency
    } else {
        Kind::Config
    };
    let (mut file, mut line) = (file.to_string(), line);
    let in_cmake = |f: &str| f.contains("/share/cmake") || f.contains("/Modules/");
    let caller = body
        .iter()
        .rev()
        .filter_map(|l| CMAKE_STACK.captures(l))
        .find(|c| !in_cmake(&c[1]));
    if let Some(c) = caller.filter(|_| in_cmake(&file)) {
        (file, line) = (c[1].to_string(), c[2].parse().ok());
    }
    let message = format!(
        "CMake Error at {file}:{} ({command}): {first}",
        line.unwrap_or(0)
    );
    let mut failure = Failure::new("cmake", kind, message).at(file, line, None);
    if kind == Kind::Dependency {
        failure.symbol = PACKAGE_NAMED.captures(&text).map(|c| c[1].to_string());
    }
    failure
}

/// Lines in a CMake message block: indented or blank, up to the next unindented line.
fn block_len(lines: &[String], at: usize) -> usize {
    let mut n = 0;
    for l in lines[at + 1..].iter().take(60) {
        if !(l.is_empty() || l.starts_with([' ', '\t']) || l.starts_with("Call Stack")) {
            break;
        }
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(text: &str, cmd: &str) -> Failure {
        let step = StepLog {
            failed: true,
            lines: text.lines().map(str::to_string).collect(),
            commands: vec![cmd.to_string()],
            ..StepLog::default()
        };
        let mut found = parse(&step);
        found.sort_by_key(|f| f.at);
        found.into_iter().next().expect("a failure").failure
    }

    #[test]
    fn corpus_cases_match_expectations() {
        crate::logs::parse::corpus::assert_cases(&["c-", "cpp-"], 10);
    }

    #[test]
    fn plain_quotes_in_c_locale() {
        let f = first(
            "main.c:3:5: error: 'x' undeclared (first use in this function)\n",
            "make",
        );
        assert_eq!(
            (f.tool.as_str(), f.kind, f.symbol.as_deref()),
            ("gcc", Kind::CompileError, Some("x"))
        );
    }

    #[test]
    fn mypy_style_lines_are_not_c() {
        let step = StepLog {
            lines: vec!["app.py:3: error: Incompatible types".into()],
            ..StepLog::default()
        };
        assert!(parse(&step).is_empty());
    }

    #[test]
    fn lld_undefined_symbol_with_reference() {
        let f = first(
            "ld.lld: error: undefined symbol: helper\n>>> referenced by main.c:5 (/w/main.c:5)\n>>>               main.o:(main)\n",
            "clang main.c -fuse-ld=lld",
        );
        assert_eq!(
            (
                f.tool.as_str(),
                f.symbol.as_deref(),
                f.file.as_deref(),
                f.line
            ),
            ("ld", Some("helper"), Some("main.c"), Some(5))
        );
    }

    #[test]
    fn apple_undefined_symbols() {
        let f = first(
            "Undefined symbols for architecture arm64:\n  \"_helper\", referenced from:\n      _main in main-1a2b.o\nld: symbol(s) not found for architecture arm64\n",
            "clang main.c",
        );
        assert_eq!(f.symbol.as_deref(), Some("helper"));
    }

    #[test]
    fn missing_library_is_a_dependency() {
        let f = first(
            "/usr/bin/ld: cannot find -lssl: No such file or directory\ncollect2: error: ld returned 1 exit status\n",
            "gcc x.c -lssl",
        );
        assert_eq!(
            (f.kind, f.symbol.as_deref()),
            (Kind::Dependency, Some("ssl"))
        );
    }

    #[test]
    fn clang_template_error_moves_to_requested_here() {
        let text = "/usr/include/c++/v1/algorithm:100:5: error: invalid operands to binary expression ('Person' and 'Person')\n        if (a < b)\n            ~ ^ ~\nsrc/names.cpp:12:5: note: in instantiation of function template specialization 'std::sort<Person *>' requested here\n    std::sort(v.begin(), v.end());\n    ^\n1 error generated.\n";
        let f = first(text, "make");
        assert_eq!((f.tool.as_str(), f.kind), ("clang", Kind::TypeError));
        assert_eq!(
            (f.file.as_deref(), f.line),
            (Some("src/names.cpp"), Some(12))
        );
    }

    #[test]
    fn cmake_module_error_uses_call_stack() {
        let text = "CMake Error at /usr/share/cmake-3.25/Modules/FindPackageHandleStandardArgs.cmake:230 (message):\n  Could NOT find OpenSSL (missing: OPENSSL_CRYPTO_LIBRARY)\nCall Stack (most recent call first):\n  /usr/share/cmake-3.25/Modules/FindOpenSSL.cmake:670 (find_package_handle_standard_args)\n  CMakeLists.txt:7 (find_package)\n\n";
        let f = first(text, "cmake -B build");
        assert_eq!(
            (f.kind, f.file.as_deref(), f.line, f.symbol.as_deref()),
            (
                Kind::Dependency,
                Some("CMakeLists.txt"),
                Some(7),
                Some("OpenSSL")
            )
        );
    }
}
