//! Names too common to be the code under test: keywords that look like calls, builtins and
//! standard-library helpers, assertion and test-framework helpers. One list for both
//! readers of a failing test's calls: `calls` skips these names outright, and `localise`
//! looks one up only when an imported module qualifies it (and never takes one for a
//! module-level name).
//!
//! A name belongs here only when it is wrong for both: `parse`, for one, is not here
//! (a parser is often the very code a test calls).

use std::collections::HashSet;
use std::sync::LazyLock;

/// The list, by what the names are. Order does not matter.
#[rustfmt::skip]
const COMMON: &[&str] = &[
    // Keywords and keyword-like words followed by `(` or `{`.
    "if", "for", "while", "loop", "match", "return", "switch", "case", "select", "catch",
    "elif", "else", "except", "with", "await", "async", "function", "func", "fn", "def",
    "lambda", "new", "not", "and", "or", "in", "is", "yield", "typeof", "instanceof",
    "delete", "void", "throw", "raise", "move", "ref", "mut", "let", "const", "var", "go",
    "defer", "self", "this", "super",
    // Python builtins.
    "print", "len", "str", "int", "float", "bool", "bytes", "list", "dict", "set", "tuple",
    "object", "type", "range", "isinstance", "sorted", "sum", "abs", "min", "max", "repr",
    "iter", "next", "zip", "map", "filter", "enumerate", "open", "getattr", "setattr",
    "hasattr",
    // Rust prelude, macros and ubiquitous methods.
    "Some", "Ok", "Err", "None", "Box", "Vec", "String", "Arc", "Rc", "vec", "format",
    "println", "eprintln", "panic", "write", "writeln", "matches", "unwrap", "expect",
    "unwrap_err", "expect_err", "to_string", "to_owned", "into", "clone", "collect", "as_str",
    "as_ref", "push", "append",
    // JavaScript globals.
    "require", "console", "log", "JSON", "Object", "Array", "Promise", "Number", "Math",
    "Date", "Error", "Buffer", "Symbol",
    // Go and C standard library.
    "fmt", "errors", "strings", "math", "json", "Sprintf", "Printf", "Println", "printf",
    // Assertion helpers.
    "assert", "assert_eq", "assert_ne", "debug_assert", "assertEqual", "assertEquals",
    "assertNotEqual", "assertAlmostEqual", "assertTrue", "assertFalse", "assertIn",
    "assertNotIn", "assertIs", "assertIsNone", "assertIsNotNone", "assertRaises",
    "assertRaisesRegex", "assertListEqual", "assertDictEqual", "assertCountEqual",
    "assertThat", "raises", "approx", "toBe", "toEqual", "toStrictEqual", "toThrow",
    "toMatch", "equal", "notEqual", "strictEqual", "notStrictEqual", "deepEqual",
    "deepStrictEqual", "ok", "throws", "rejects", "doesNotThrow", "DeepEqual", "Equal",
    "NoError", "True", "False", "Nil",
    // Test frameworks: Go's testing.T, pytest, unittest.mock, mocha/jest.
    "Errorf", "Fatalf", "Fatal", "Log", "Logf", "Run", "Helper", "Parallel", "fail", "skip",
    "mark", "parametrize", "fixture", "patch", "mock", "Mock", "MagicMock", "describe", "it",
    "test", "before", "after", "beforeEach", "afterEach",
    // Receiver names of test helpers (`t`, `b`) and one-letter locals.
    "t", "b", "f", "m",
];

static SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| COMMON.iter().copied().collect());

/// Whether `name` is too common to be the code under test.
pub(crate) fn is_common(name: &str) -> bool {
    SET.contains(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_builtins_and_helpers_are_common_a_parser_is_not() {
        for name in [
            "if",
            "len",
            "unwrap",
            "assertEqual",
            "toBe",
            "Errorf",
            "Math",
            "fmt",
        ] {
            assert!(is_common(name), "{name}");
        }
        for name in ["parse", "moving_average", "withdraw", "cartTotal"] {
            assert!(!is_common(name), "{name}");
        }
        assert_eq!(SET.len(), COMMON.len(), "no name twice");
    }
}
