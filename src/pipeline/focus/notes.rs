//! What the short prompt says beside the code: facts the code and the failure show that
//! a 1.5B model misses when it is only shown the code (a module or function under a name
//! like the missing one, a key missing from a table, a function with no `return`), each a
//! sentence that says what to do. Told, the model fixes what it otherwise copied back.

use std::path::Path;

use super::choose::{enclosing_definition, exact, is_def_start, line_of};
use super::place::defined_name;
use super::{Editable, word_at};
use crate::context::symbols;
use crate::llm::Language;
use crate::logs::Failure;
use crate::logs::paths::is_test_path;

/// Quoted keys (`"timeout"`, `'timeout'`) in `text`.
fn quoted_keys(text: &str) -> Vec<&str> {
    static QUOTED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"['"`]([A-Za-z_][\w.-]*)['"`]"#).expect("static regex")
    });
    QUOTED
        .captures_iter(text)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect()
}

/// A key the failure says a lookup missed (`KeyError: 'timeout'`), which the offered code
/// reads, missing from a table that code reads while that table holds other keys the
/// code reads: the table, and a note naming the missing key.
pub(super) fn missing_from_table(
    message: &str,
    editables: &[Editable],
    read: &dyn Fn(&str) -> Option<String>,
) -> Option<(Editable, String)> {
    let code = editables
        .iter()
        .map(|e| e.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let read_keys = quoted_keys(&code);
    let first = message.lines().next().unwrap_or("");
    let key = quoted_keys(first)
        .into_iter()
        .find(|k| read_keys.contains(k))?;
    tables_read(editables, read).into_iter().find_map(|t| {
        let held = quoted_keys(&t.text);
        if held.contains(&key) {
            return None;
        }
        let mut siblings: Vec<&str> = read_keys
            .iter()
            .copied()
            .filter(|k| held.contains(k))
            .collect();
        siblings.dedup();
        if siblings.is_empty() {
            return None;
        }
        let name = t
            .text
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .find(|w| {
                w.len() > 2
                    && w.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            })
            .unwrap_or("the table");
        let listed: Vec<String> = siblings
            .iter()
            .take(4)
            .map(|k| format!("\"{k}\""))
            .collect();
        let note = format!(
            "`{name}` in {} has no \"{key}\" key; it has the other keys the code reads ({}).",
            t.path,
            listed.join(", ")
        );
        Some((t, note))
    })
}

/// Tables looked at at most.
const MAX_TABLES: usize = 3;
/// Lines of one table at most.
const MAX_TABLE_LINES: usize = 40;

/// Module-level tables (`DEFAULTS = {`, `const LIMITS: [u32; 3] = [`) that the offered
/// definitions read, spanning several lines.
fn tables_read(editables: &[Editable], read: &dyn Fn(&str) -> Option<String>) -> Vec<Editable> {
    static CONST: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\b[A-Z][A-Z0-9_]{2,}\b").expect("static regex")
    });
    let mut out: Vec<Editable> = Vec::new();
    for e in editables {
        let Some(text) = read(&e.path) else { continue };
        let lines: Vec<&str> = text.lines().collect();
        for name in CONST.find_iter(&e.text).map(|m| m.as_str()) {
            if out.len() >= MAX_TABLES {
                return out;
            }
            let Some(first) = lines.iter().position(|l| assigns_table(l, name)) else {
                continue;
            };
            let last = symbols::block_end(&lines, first);
            let taken = editables
                .iter()
                .chain(&out)
                .any(|o| o.path == e.path && o.first <= last && first <= o.last);
            if last > first && last - first < MAX_TABLE_LINES && !taken {
                out.push(Editable {
                    path: e.path.clone(),
                    first,
                    last,
                    text: exact(&lines, first, last),
                });
            }
        }
    }
    out
}

/// True for an unindented line that assigns `name` a table opened on that line.
fn assigns_table(line: &str, name: &str) -> bool {
    if line.starts_with([' ', '\t']) || !line.trim_end().ends_with(['{', '[', '(']) {
        return false;
    }
    let words = line.split_once('=').map_or("", |(lhs, _)| lhs);
    let mut idents = words.split(|c: char| !c.is_alphanumeric() && c != '_');
    idents.any(|w| w == name)
        && words.split_whitespace().all(|w| {
            w.contains(name) || DECLARES.contains(&w) || w.starts_with(':') || w.starts_with('[')
        })
}

/// Words that may come before a declared name.
const DECLARES: &[&str] = &[
    "pub",
    "pub(crate)",
    "const",
    "static",
    "let",
    "var",
    "export",
    "final",
];

/// When `e` is defined under a name like one the failure says is missing (`order_total`
/// for the missing `compute_total`) and other code calls it by that name, a note saying
/// to call it, and `e` is not offered: renaming it back would break those callers, so the caller
/// that uses the old name is what to fix.
pub(super) fn renamed_with_callers(
    e: &Editable,
    missing: &[String],
    repo: &Path,
) -> Option<String> {
    let name = defined_name(e.signature())?;
    if missing.iter().any(|m| m == name) {
        return None;
    }
    let wanted = missing
        .iter()
        .find(|m| crate::context::similar::alike(m, name))?;
    let lang = Language::from_path(&e.path)?;
    let callers: Vec<String> = crate::context::walk::source_files(repo, 2000)
        .into_iter()
        .filter(|f| f.language.kin(lang) && !is_test_path(&f.rel))
        .filter(|f| {
            let Ok(text) = std::fs::read_to_string(repo.join(&f.rel)) else {
                return false;
            };
            text.lines().enumerate().any(|(i, l)| {
                let own = f.rel == e.path && (e.first..=e.last).contains(&i);
                !own && calls(l, name)
            })
        })
        .map(|f| f.rel)
        .take(3)
        .collect();
    if callers.is_empty() {
        return None;
    }
    // said plainly, with what not to do: told only that `order_total` exists, the 1.5B
    // model kept adding the missing `compute_total`
    Some(format!(
        "{} has no `{wanted}`; it has `{}`, which {} call{}. Do not add `{wanted}`: call `{name}`.",
        e.path,
        e.signature().trim().trim_end_matches(['{', ':']).trim(),
        callers.join(", "),
        if callers.len() == 1 { "s" } else { "" }
    ))
}

/// True when `line` calls `name` (`name(`, `.name(`), not defining it.
fn calls(line: &str, name: &str) -> bool {
    word_at(line, name).any(|at| line[at + name.len()..].trim_start().starts_with('('))
        && !(is_def_start(line) && defined_name(line) == Some(name))
}

/// When a failed import names a module (`textstats.tokenizer`) that is not among the
/// listed files but one like it is (`tokenize.py`): a note saying which to import.
/// Shown only the listing, the 1.5B model kept the missing name.
pub(super) fn module_note(
    message: &str,
    listed: &str,
    failing_line: Option<&str>,
) -> Option<String> {
    static MODULE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"[A-Za-z_][\w\-]*(?:[./][A-Za-z_][\w\-]*)*").expect("static regex")
    });
    let first = message.lines().next().unwrap_or("");
    for listing in listed.lines() {
        let Some((dir, names)) = listing
            .strip_prefix("Files in ")
            .and_then(|l| l.split_once(": "))
        else {
            continue;
        };
        let entries: Vec<&str> = names.split(", ").collect();
        for m in MODULE.find_iter(first) {
            let wanted = m.as_str().rsplit(['.', '/']).next().unwrap_or("");
            if wanted.len() < 3 {
                continue;
            }
            let stem = |e: &str| -> String {
                let e = e.trim_end_matches('/');
                e.split_once('.').map_or(e, |(s, _)| s).to_string()
            };
            if entries.iter().any(|e| stem(e) == wanted) {
                continue;
            }
            if let Some(like) = entries
                .iter()
                .find(|e| crate::context::similar::alike(wanted, &stem(e)))
            {
                let have = stem(like);
                // as the failing line spells it (`.tokenizer` → `.tokenize`): told to import
                // from `tokenize`, the 1.5B model dropped the relative dot
                let have = failing_line
                    .and_then(|l| {
                        l.split(|c: char| !(c.is_alphanumeric() || "._/-@".contains(c)))
                            .find(|t| t.ends_with(wanted))
                    })
                    .map_or(have.clone(), |t| {
                        format!("{}{have}", &t[..t.len() - wanted.len()])
                    });
                return Some(format!(
                    "{dir} has no `{wanted}` module; it has `{like}`. Do not add `{wanted}`: import from `{have}`."
                ));
            }
        }
    }
    None
}

/// A value that was not there: `Cannot read properties of undefined`, `'NoneType' object
/// has no attribute`, a nil pointer.
static MISSING_VALUE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)of undefined|of null\b|undefined is not|is undefined|'NoneType' object|nil pointer",
    )
    .expect("static regex")
});

/// When the failure is a missing value read from a parameter of the function it happened
/// in (`formatDay(date)` reading `date.toISOString()`), the function whose result the
/// test passed as that argument (`formatDay(startOfWeek(…))` → `startOfWeek`): the value
/// was missing before the call, so that function is the likelier culprit (a forgotten
/// `return` is the classic), and it is offered first.
pub(super) fn producer_of_missing_value(
    target: &Failure,
    failing_line: Option<&str>,
    read: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    if !MISSING_VALUE.is_match(&target.message) {
        return None;
    }
    let (path, line) = (target.file.as_ref()?, target.line? as usize);
    let text = read(path)?;
    let lines: Vec<&str> = text.lines().collect();
    let (first, _) = enclosing_definition(&lines, line.checked_sub(1)?)?;
    let crashed = defined_name(lines[first])?;
    let params = lines[first]
        .split_once('(')
        .map_or("", |(_, rest)| rest.split(')').next().unwrap_or(""));
    let failing = failing_line?;
    let reads_param = params
        .split(',')
        .filter_map(|p| {
            p.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                .find(|w| !w.is_empty() && *w != "self" && *w != "mut")
        })
        .any(|p| {
            word_at(failing, p).any(|at| {
                !failing[..at].ends_with('.')
                    && matches!(failing[at + p.len()..].chars().next(), Some('.' | '['))
            })
        });
    if !reads_param {
        return None;
    }
    let call = regex::Regex::new(&format!(
        r"\b{}\s*\(\s*(?:[\w$]+\.)*([A-Za-z_$][\w$]*)\s*\(",
        regex::escape(crashed)
    ))
    .ok()?;
    target
        .frames
        .iter()
        .filter(|f| is_test_path(&f.file))
        .filter_map(|f| line_of(read, &f.file, f.line?))
        .find_map(|l| call.captures(&l).map(|c| c[1].to_string()))
}

/// When the offered definition `name` (whose result the test uses) has no `return` in a
/// language that needs one: a note saying so. Shown the function, the 1.5B model copied it
/// back unchanged; told, it added the `return`.
pub(super) fn returns_nothing(editables: &[Editable], name: &str) -> Option<String> {
    let e = editables
        .iter()
        .find(|e| defined_name(e.signature()) == Some(name))?;
    let nothing = match Language::from_path(&e.path)? {
        Language::JavaScript | Language::TypeScript => "undefined",
        Language::Python => "None",
        _ => return None,
    };
    let body = e.text.split_once('\n')?.1;
    let returns = body
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == "return" || w == "yield");
    (!returns).then(|| {
        format!(
            "`{name}` has no `return`, so it returns {nothing}, and the test uses what it returns."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::focus::fixture::write_all;
    use crate::pipeline::focus::focus;

    #[test]
    fn a_table_missing_the_key_a_lookup_missed_is_offered_alone() {
        let dir = write_all(&[
            (
                "app/config.py",
                "import os\n\nDEFAULTS = {\n    \"host\": \"127.0.0.1\",\n    \"port\": 8080,\n}\n\nPREFIX = \"APP_\"\n\n\ndef load_config(environ):\n    settings = dict(DEFAULTS)\n    for key in DEFAULTS:\n        settings[key] = environ.get(PREFIX + key.upper(), settings[key])\n    return settings\n",
            ),
            (
                "app/client.py",
                "def client_options(cfg):\n    return {\"port\": cfg[\"port\"], \"timeout\": cfg[\"timeout\"]}\n",
            ),
            (
                "tests/test_client.py",
                "from app.client import client_options\nfrom app.config import load_config\n\n\ndef test_client_options():\n    opts = client_options(load_config({}))\n    assert opts == {\"timeout\": 30}\n",
            ),
        ]);
        let mut f = Failure::new(
            "pytest",
            crate::logs::Kind::TestFailure,
            "KeyError: 'timeout'",
        )
        .at("app/client.py", Some(2), None);
        f.test = Some("tests/test_client.py::test_client_options".into());
        f.frames = vec![crate::logs::Frame {
            file: "tests/test_client.py".into(),
            line: Some(6),
            function: None,
        }];
        let ctx = crate::context::build(std::slice::from_ref(&f), dir.path(), 2500);
        let got = focus(&f, &ctx, dir.path()).expect("definitions to offer");
        assert_eq!(got.editables.len(), 1, "{:?}", got.editables);
        let table = &got.editables[0];
        assert!(table.text.starts_with("DEFAULTS = {"), "{table:?}");
        assert_eq!(
            (table.first, table.last),
            (2, 5),
            "from its line to the closing brace"
        );
        assert_eq!(
            got.files,
            "`DEFAULTS` in app/config.py has no \"timeout\" key; it has the other keys the code reads (\"port\")."
        );
        let (test_path, test) = got.test.clone().expect("the test, from its frame");
        assert_eq!(test_path, "tests/test_client.py");
        assert!(test.starts_with("def test_client_options():"), "{test}");
        // an attribute missing from None is no lookup in a table
        let offered = |text: &str| Editable {
            path: "app/config.py".into(),
            first: 10,
            last: 14,
            text: text.into(),
        };
        let read = |_: &str| std::fs::read_to_string(dir.path().join("app/config.py")).ok();
        let reader = offered(
            "def load_config(environ):\n    settings = dict(DEFAULTS)\n    return settings[\"port\"]",
        );
        assert!(
            missing_from_table(
                "AttributeError: 'NoneType' object has no attribute 'tier'",
                std::slice::from_ref(&reader),
                &read
            )
            .is_none()
        );
        // nor is a key the table holds
        assert!(missing_from_table("KeyError: 'port'", &[reader], &read).is_none());
        // a reply that rewrites the table is put over it
        let reply = "```python\nDEFAULTS = {\n    \"host\": \"127.0.0.1\",\n    \"port\": 8080,\n    \"timeout\": 30,\n}\n```";
        let edits = crate::pipeline::focus::place(reply, &got.editables).unwrap();
        assert!(
            matches!(&edits[0], crate::patch::Edit::Replace { search, .. } if search.starts_with("DEFAULTS = {")),
            "{edits:?}"
        );
    }

    #[test]
    fn a_renamed_definition_others_call_by_its_new_name_is_not_offered() {
        let pricing = "def compute_like(x):\n    return x\n\n\ndef order_total(lines, tax=True):\n    return sum(lines)\n";
        let report = "from . import pricing\n\n\ndef untaxed(lines):\n    return pricing.compute_total(lines, tax=False)\n";
        let test = "from inventory.report import untaxed\n\n\ndef test_untaxed():\n    assert untaxed([1, 2]) == 3\n";
        let store =
            "from . import pricing\n\n\ndef sell(lines):\n    return pricing.order_total(lines)\n";
        let f = Failure::new(
            "pytest",
            crate::logs::Kind::TestFailure,
            "AttributeError: module 'inventory.pricing' has no attribute 'compute_total'",
        )
        .at("inventory/report.py", Some(5), None);
        let mut files = vec![
            ("inventory/pricing.py", pricing),
            ("inventory/report.py", report),
            ("tests/test_report.py", test),
        ];
        // nobody else calls `order_total`: renaming it back is a fix, so it is offered
        let alone = write_all(&files);
        let ctx = crate::context::build(std::slice::from_ref(&f), alone.path(), 2500);
        let got = focus(&f, &ctx, alone.path()).unwrap();
        assert!(
            got.editables
                .iter()
                .any(|e| e.text.starts_with("def order_total")),
            "{:?}",
            got.editables
        );
        // store.py calls it by its new name: the caller is what to fix
        files.push(("inventory/store.py", store));
        let called = write_all(&files);
        let ctx = crate::context::build(std::slice::from_ref(&f), called.path(), 2500);
        let got = focus(&f, &ctx, called.path()).unwrap();
        assert!(
            !got.editables
                .iter()
                .any(|e| e.text.starts_with("def order_total")),
            "{:?}",
            got.editables
        );
        assert!(
            got.editables[0].text.starts_with("def untaxed"),
            "{:?}",
            got.editables
        );
        assert!(
            got.files.contains(
                "inventory/pricing.py has no `compute_total`; it has `def order_total(lines, tax=True)`, which inventory/store.py calls. Do not add `compute_total`: call `order_total`."
            ),
            "{}",
            got.files
        );
    }

    #[test]
    fn a_module_missing_beside_one_like_it_is_named_as_the_line_spells_it() {
        let listed = "Files in textstats/: __init__.py, stats.py, tokenize.py";
        assert_eq!(
            module_note(
                "ModuleNotFoundError: No module named 'textstats.tokenizer'",
                listed,
                Some("from .tokenizer import sentences, words")
            )
            .as_deref(),
            Some(
                "textstats/ has no `tokenizer` module; it has `tokenize.py`. Do not add `tokenizer`: import from `.tokenize`."
            )
        );
        assert_eq!(
            module_note(
                "Error: Cannot find module './formater'",
                "Files in lib/: formatter.js, index.js",
                Some("const fmt = require('./formater');")
            )
            .as_deref(),
            Some(
                "lib/ has no `formater` module; it has `formatter.js`. Do not add `formater`: import from `./formatter`."
            )
        );
        // the module is there: the failure is something else
        assert_eq!(
            module_note("No module named 'textstats.tokenize'", listed, None),
            None
        );
    }

    #[test]
    fn a_missing_value_read_from_a_parameter_puts_the_function_that_made_it_first() {
        let dates = "'use strict';\n\nfunction formatDay(date) {\n  return date.toISOString().slice(0, 10);\n}\n\nfunction startOfWeek(date) {\n  const monday = new Date(date);\n}\n\nmodule.exports = { formatDay, startOfWeek };\n";
        let test = "const { formatDay, startOfWeek } = require('../src/dates');\n\ntest('monday', () => {\n  assert.equal(formatDay(startOfWeek(new Date())), '2024-03-11');\n});\n";
        let dir = write_all(&[("src/dates.js", dates), ("test/dates.test.js", test)]);
        let mut f = Failure::new(
            "node-test",
            crate::logs::Kind::TestFailure,
            "\"Cannot read properties of undefined (reading 'toISOString')\"",
        )
        .at("src/dates.js", Some(4), None);
        f.frames = vec![crate::logs::Frame {
            file: "test/dates.test.js".into(),
            line: Some(4),
            function: None,
        }];
        let ctx = crate::context::build(std::slice::from_ref(&f), dir.path(), 2500);
        let got = focus(&f, &ctx, dir.path()).unwrap();
        assert!(
            got.editables[0].text.starts_with("function startOfWeek"),
            "{:?}",
            got.editables
        );
        assert!(
            got.editables[1].text.starts_with("function formatDay"),
            "{:?}",
            got.editables
        );
        assert_eq!(
            got.files,
            "`startOfWeek` has no `return`, so it returns undefined, and the test uses what it returns."
        );
        // a missing value that is not a parameter (a lookup inside) keeps the crash site first
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).ok();
        let mut inside = f.clone();
        inside.message = "TypeError: Cannot read properties of undefined (reading 'x')".into();
        assert_eq!(
            producer_of_missing_value(&inside, Some("  return lookup().x;"), &read),
            None
        );
    }
}
