//! Reading the reply back: a definition sent whole is put over the offered one whose
//! first line (or, renamed, whose body) it repeats, re-indented ([`place`]); a reply that
//! only rewrites the failing test is recognised ([`sends_back`]).

use super::Editable;
use crate::patch::{Edit, parse::ParseError};

/// True when `reply`'s code block starts with the first line of `test`, or with one of
/// its lines (an assertion, perhaps with another expected value): the model rewrote the
/// failing test it was shown, not the code.
pub fn sends_back(reply: &str, test: &str) -> bool {
    let head = |text: &str| -> Option<String> {
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("```"))
            .map(str::to_string)
    };
    let block = reply.split_once("```").map_or(reply, |(_, rest)| {
        rest.split_once('\n').map_or(rest, |(_, r)| r)
    });
    let Some(h) = head(block) else { return false };
    // the test's first line, or one of its lines (an assertion) rewritten
    Some(&h) == head(test).as_ref()
        || test
            .lines()
            .map(str::trim)
            .filter(|l| l.len() >= 12)
            .any(|l| dice(l, &h) >= 0.85)
}

/// The edits a reply to the short prompt stands for. A code block is put over the
/// offered definition whose signature it repeats (re-indented if the model dropped the
/// indentation); search/replace blocks and diffs are taken as they are.
pub fn place(reply: &str, editables: &[Editable]) -> Result<Vec<Edit>, String> {
    let edits = match crate::patch::parse_reply(reply) {
        Ok(edits) => edits,
        // no code block, but the corrected line stated in the prose
        Err(ParseError::NoEdits) if let Some(edit) = stated_line(reply, editables) => {
            vec![edit]
        }
        // the short prompt asks for a code block, not the search/replace blocks the
        // parser's own message names
        Err(ParseError::NoEdits) => {
            return Err("the reply holds no code block; send the corrected definition back whole, in one fenced code block".to_string());
        }
        Err(other) => return Err(other.to_string()),
    };
    let mut out = Vec::new();
    for edit in edits {
        let placed = match edit {
            Edit::WholeFile { content, .. } => place_block(&content, editables)?,
            other => other,
        };
        out.push(match placed {
            Edit::Replace {
                path,
                search,
                replace,
            } => {
                let replace = unnarrate(&search, &replace);
                Edit::Replace {
                    path,
                    search,
                    replace,
                }
            }
            other => other,
        });
    }
    Ok(out)
}

/// The names `new` defines more often than `old` does, that `new` defines twice or more:
/// a block placed over one definition that also holds another the file already has (a
/// second `function trimSeparators` beside the first, which in Python silently replaces
/// it).
pub fn defined_again(old: &str, new: &str) -> Vec<String> {
    let count = |text: &str| {
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        for line in text.lines().filter(|l| super::choose::is_def_start(l)) {
            if let Some(name) = defined_name(line) {
                *seen.entry(name.to_string()).or_default() += 1;
            }
        }
        seen
    };
    let (before, after) = (count(old), count(new));
    let mut out: Vec<String> = after
        .into_iter()
        .filter(|(name, n)| *n > 1 && *n > before.get(name).copied().unwrap_or(0))
        .map(|(name, _)| name)
        .collect();
    out.sort();
    out
}

/// What a comment says when it narrates the edit (`# Added this line`, `// Fixed: use >`)
/// rather than explains the code.
static NARRATION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)^(?:added|add\b|corrected|correction|fixed|fix\b|fix:|changed|change\b|modified|updated|was\b|previously|instead\b|now\b|this line|here\b|use[sd]?\b|handle[sd]?\b|ensure[sd]?\b|return(?:s|ed)?\b.*\binstead|bug\b)",
    )
    .expect("static regex")
});

/// `new` without the comments a model adds to narrate its change (`# Added this line`,
/// `# Corrected: ...`): on the lines it wrote (lines also in `old` are kept as they are),
/// a trailing narration is cut and a line that only narrates is dropped. A pull request
/// should read like the project's code.
fn unnarrate(old: &str, new: &str) -> String {
    let had: std::collections::HashSet<&str> = old.lines().map(str::trim).collect();
    let mut out: Vec<&str> = Vec::new();
    for line in new.lines() {
        if had.contains(line.trim()) {
            out.push(line);
            continue;
        }
        match narration_at(line) {
            Some(at) if line[..at].trim().is_empty() => {}
            Some(at) => out.push(line[..at].trim_end()),
            None => out.push(line),
        }
    }
    out.join("\n")
}

/// Where a narrating comment (`#` or `//`, outside a string) starts on `line`.
fn narration_at(line: &str) -> Option<usize> {
    for marker in ["#", "//"] {
        for (at, _) in line.match_indices(marker) {
            let before = &line[..at];
            let in_string = before.matches('"').count() % 2 == 1
                || before.matches('\'').count() % 2 == 1
                || before.matches('`').count() % 2 == 1;
            let spaced = before.is_empty() || before.ends_with([' ', '\t']);
            let said = line[at + marker.len()..].trim_start_matches(['#', '/', ' ']);
            if spaced && !in_string && NARRATION.is_match(said) {
                return Some(at);
            }
        }
    }
    None
}

/// A reply in prose that states the corrected line in backticks ("The correct import is
/// `from .tokenize import words`."; the reasoning candidate often stops there): the last
/// quoted line that is new and clearly replaces one offered line, placed over it.
fn stated_line(reply: &str, editables: &[Editable]) -> Option<Edit> {
    if reply.contains("```") {
        return None;
    }
    let offered: std::collections::HashSet<&str> = editables
        .iter()
        .flat_map(|e| e.text.lines().map(str::trim))
        .collect();
    super::backticked(reply)
        .filter(|q| q.len() >= 8 && !q.contains('\n') && !offered.contains(q))
        .filter_map(|q| place_lines(&[q], editables))
        .last()
}

/// Most lines a block may have to be placed line by line.
const MAX_LINE_BLOCK: usize = 3;

/// How alike (Dice) a sent line must be to the one it replaces.
const LINE_ALIKE: f64 = 0.75;

/// A short block that is not a whole definition but the changed line or two (small models
/// send `from textstats.tokenize import words` alone): placed over the consecutive lines
/// of one offered definition that its lines are most like, each clearly the best match.
fn place_lines(block: &[&str], editables: &[Editable]) -> Option<Edit> {
    let sent: Vec<&str> = block
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect();
    if sent.is_empty() || sent.len() > MAX_LINE_BLOCK {
        return None;
    }
    let mut found: Option<(&Editable, usize)> = None;
    for e in editables {
        let have: Vec<&str> = e.text.lines().collect();
        if have.len() < sent.len() {
            continue;
        }
        let alike = |at: usize| -> Option<f64> {
            let scores: Vec<f64> = sent
                .iter()
                .zip(&have[at..at + sent.len()])
                .map(|(a, b)| dice(a.trim(), b.trim()))
                .collect();
            scores
                .iter()
                .all(|s| *s >= LINE_ALIKE)
                .then(|| scores.iter().sum::<f64>())
        };
        let matches: Vec<(usize, f64)> = (0..=have.len() - sent.len())
            .filter_map(|at| alike(at).map(|s| (at, s)))
            .collect();
        match (matches.as_slice(), found) {
            ([(at, _)], None) => found = Some((e, *at)),
            ([], _) => {}
            _ => return None, // ambiguous: more than one place
        }
    }
    let (e, at) = found?;
    let have: Vec<&str> = e.text.lines().collect();
    let old = &have[at..at + sent.len()];
    let replace: Vec<String> = sent
        .iter()
        .zip(old)
        .map(|(new, was)| reindent(new, indent_of(new), indent_of(was)))
        .collect();
    Some(Edit::Replace {
        path: Some(e.path.clone()),
        search: old.join("\n"),
        replace: replace.join("\n"),
    })
}

/// How alike (Dice, over the whole text) a block must be to an offered definition whose
/// name it changed to be taken as that definition.
const RENAMED_ALIKE: f64 = 0.8;

fn place_block(code: &str, editables: &[Editable]) -> Result<Edit, String> {
    let lines: Vec<&str> = code.trim_end_matches('\n').lines().collect();
    let first = lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .ok_or("the code block is empty")?;
    let head = lines[first].trim();
    // the same name defined, and lines alike (a small model may change a parameter)
    let score = |e: &Editable| {
        let alike = dice(header(e.signature()), header(head));
        match (defined_name(e.signature()), defined_name(head)) {
            (Some(a), Some(b)) if a != b => 0.0,
            (Some(_), Some(_)) => 0.5 + alike / 2.0,
            _ => alike,
        }
    };
    let by_head = editables
        .iter()
        .max_by(|a, b| score(a).total_cmp(&score(b)))
        .ok_or("no definition was offered")?;
    // no first line matches: a definition sent back renamed (`normalizeWord` as the
    // `Normalize` its callers want) is still that definition when the rest is alike
    let whole = lines[first..].join("\n");
    let renamed = editables
        .iter()
        .filter(|e| defined_name(e.signature()).is_some() && defined_name(head).is_some())
        .map(|e| (e, dice(&e.text, &whole)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .filter(|(_, alike)| *alike >= RENAMED_ALIKE)
        .map(|(e, _)| e);
    let best = match renamed {
        Some(e) if score(by_head) < 0.6 => e,
        _ => by_head,
    };
    if score(best) < 0.6 && renamed.is_none() {
        if let Some(edit) = place_lines(&lines[first..], editables) {
            return Ok(edit);
        }
        return Err(format!(
            "the code block starts with `{head}`, which is not the first line of a definition shown; \
             send back one of them whole, starting with its first line (e.g. `{}`)",
            // the likeliest one (they are offered best first), not the least unlike
            editables[0].signature().trim()
        ));
    }
    let want = indent_of(best.signature());
    let have = indent_of(lines[first]);
    let body: Vec<String> = lines[first..]
        .iter()
        .map(|l| reindent(l, have, want))
        .collect();
    Ok(Edit::Replace {
        path: Some(best.path.clone()),
        search: best.text.clone(),
        replace: body.join("\n"),
    })
}

/// A definition's first line up to where its body opens: a one-line definition
/// (`func (c Circle) Area() float64 { return … }`) compares with the same definition
/// rewritten over several lines by its header alone.
fn header(line: &str) -> &str {
    let line = line.trim();
    match line.find('{') {
        Some(at) => &line[..=at],
        None => line,
    }
}

/// The name a definition line defines: the first identifier before `(` that is not a
/// keyword (`def mean(`, `fn area(`, `func (s *Store) Set(`, `discount() {`, `function f(`).
pub(super) fn defined_name(line: &str) -> Option<&str> {
    static CALLED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"([A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\s*\(").expect("static regex")
    });
    const KEYWORDS: &[&str] = &[
        "def", "fn", "func", "function", "async", "if", "for", "while",
    ];
    CALLED
        .captures_iter(line)
        .map(|c| c.get(1).map_or("", |m| m.as_str()))
        .find(|n| !KEYWORDS.contains(n))
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

fn reindent(line: &str, have: &str, want: &str) -> String {
    if have == want || line.trim().is_empty() {
        return line.to_string();
    }
    match line.strip_prefix(have) {
        Some(rest) => format!("{want}{rest}"),
        None => format!("{want}{}", line.trim_start()),
    }
}

/// Sørensen–Dice similarity of two lines' character bigrams (1.0: same).
fn dice(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let grams = |s: &str| -> Vec<(char, char)> {
        let c: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
        let mut g: Vec<(char, char)> = c.windows(2).map(|w| (w[0], w[1])).collect();
        g.sort_unstable();
        g
    };
    let (x, y) = (grams(a), grams(b));
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0);
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    2.0 * common as f64 / (x.len() + y.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::focus::fixture::editable;

    #[test]
    fn comments_that_narrate_the_edit_are_left_out() {
        let old = "DEFAULTS = {\n    \"port\": 8080,  # the usual\n}";
        let new = "DEFAULTS = {\n    \"port\": 8080,  # the usual\n    \"timeout\": 30,  # Added this line\n    # Corrected: the timeout was missing\n}";
        assert_eq!(
            unnarrate(old, new),
            "DEFAULTS = {\n    \"port\": 8080,  # the usual\n    \"timeout\": 30,\n}"
        );
        // a comment that explains the code stays, and so does a `#` in a string
        let kept = "    if amount > self.balance {  // the whole balance may be withdrawn\n    let tag = \"# fixed\";";
        assert_eq!(unnarrate("", kept), kept);
        assert_eq!(
            unnarrate(
                "",
                "    return x.get(k, 0)  # Use .get() to handle a missing key"
            ),
            "    return x.get(k, 0)"
        );
    }

    #[test]
    fn a_block_that_fits_nothing_offered_is_refused_naming_the_likeliest_definition() {
        let offered = |path: &str, text: &str| Editable {
            path: path.into(),
            first: 0,
            last: text.lines().count() - 1,
            text: text.into(),
        };
        let editables = [
            offered(
                "inventory/report.py",
                "def stock_value(store):\n    return pricing.compute_total(lines, tax=False)",
            ),
            offered(
                "inventory/store.py",
                "    def restock(self, sku, amount):\n        self.items[sku].quantity += amount",
            ),
        ];
        let err = place(
            "```python\ndef compute_total(lines, tax=True):\n    return sum(lines)\n```",
            &editables,
        )
        .unwrap_err();
        assert!(err.contains("(e.g. `def stock_value(store):`)"), "{err}");
    }

    #[test]
    fn a_definition_added_beside_one_the_file_has_is_found() {
        let old = "export function slugify(t) {\n  return t;\n}\n\nfunction trimSeparators(s) {\n  return s;\n}\n";
        let new = "export function slugify(t) {\n  return t;\n}\n\nfunction trimSeparators(str, sep) {\n  return str;\n}\n\nfunction trimSeparators(s) {\n  return s;\n}\n";
        assert_eq!(defined_again(old, new), ["trimSeparators"]);
        // a new helper once, or a file that already had two, is fine
        let helper = format!("{old}\nfunction pad(s) {{\n  return s;\n}}\n");
        assert!(defined_again(old, &helper).is_empty());
        assert!(defined_again(new, new).is_empty());
    }

    #[test]
    fn a_corrected_line_stated_in_prose_is_placed() {
        let file = Editable {
            path: "textstats/stats.py".into(),
            first: 0,
            last: 2,
            text: "from collections import Counter\n\nfrom .tokenizer import sentences, syllables, words".into(),
        };
        let reply = "The line `from .tokenizer import sentences, syllables, words` is wrong because `textstats.tokenizer` does not exist. The correct import is `from .tokenize import sentences, syllables, words`.";
        match &place(reply, std::slice::from_ref(&file)).unwrap()[0] {
            Edit::Replace {
                search, replace, ..
            } => {
                assert_eq!(search, "from .tokenizer import sentences, syllables, words");
                assert_eq!(replace, "from .tokenize import sentences, syllables, words");
            }
            other => panic!("{other:?}"),
        }
        // prose that only names the wrong line is no edit
        let err = place(
            "The line `from .tokenizer import sentences, syllables, words` is wrong.",
            std::slice::from_ref(&file),
        )
        .unwrap_err();
        assert!(err.contains("no code block"), "{err}");
    }

    #[test]
    fn a_changed_line_sent_alone_is_placed_over_the_line_it_changes() {
        let file = Editable {
            path: "textstats/stats.py".into(),
            first: 0,
            last: 4,
            text: "from collections import Counter\n\nfrom .tokenizer import sentences, syllables, words\n\n\ndef summary(text):\n    return words(text)".into(),
        };
        let reply = "The module is tokenize.\n```python\nfrom .tokenize import sentences, syllables, words\n```\n";
        match &place(reply, std::slice::from_ref(&file)).unwrap()[0] {
            Edit::Replace {
                path,
                search,
                replace,
            } => {
                assert_eq!(path.as_deref(), Some("textstats/stats.py"));
                assert_eq!(search, "from .tokenizer import sentences, syllables, words");
                assert_eq!(replace, "from .tokenize import sentences, syllables, words");
            }
            other => panic!("{other:?}"),
        }
        // a line like nothing offered is still refused
        assert!(place("```python\nimport numpy as np\n```", &[file]).is_err());
    }

    #[test]
    fn a_reply_with_no_code_asks_for_a_code_block() {
        let why = place("The line with fetch is wrong.", &[editable()]).unwrap_err();
        assert!(
            why.contains("no code block") && !why.contains("SEARCH"),
            "{why}"
        );
    }

    #[test]
    fn a_rewritten_method_is_placed_by_signature_and_end() {
        let e = editable();
        // unindented, with a copied gutter, chatter around
        let reply = "Here is the fix:\n```javascript\n8| discount() {\n9|   const percent = couponPercent(this.coupon, this.subtotal());\n10|   return roundCents((this.subtotal() * percent) / 100);\n11| }\n```\nThis rounds.";
        let edits = place(reply, std::slice::from_ref(&e)).unwrap();
        let Edit::Replace {
            path,
            search,
            replace,
        } = &edits[0]
        else {
            panic!("{edits:?}")
        };
        assert_eq!(path.as_deref(), Some("src/cart.js"));
        assert_eq!(search, &e.text);
        assert_eq!(
            replace,
            "  discount() {\n    const percent = couponPercent(this.coupon, this.subtotal());\n    return roundCents((this.subtotal() * percent) / 100);\n  }"
        );
    }

    #[test]
    fn a_block_that_is_not_an_offered_definition_is_refused_with_a_reason() {
        let e = editable();
        let err = place(
            "```javascript\ntest('discount', () => {\n  assert.equal(1, 1);\n});\n```",
            &[e],
        )
        .unwrap_err();
        assert!(err.contains("discount() {"), "{err}");
        let cut = place(
            "```javascript\n  discount() {\n    return 1;\n",
            &[editable()],
        )
        .unwrap_err();
        assert!(cut.contains("cut off"), "{cut}");
    }

    #[test]
    fn a_one_line_definition_rewritten_over_several_lines_is_placed_over_itself() {
        let go = |first: usize, text: &str| Editable {
            path: "shapes/shapes.go".into(),
            first,
            last: first + text.lines().count() - 1,
            text: text.into(),
        };
        let circle = go(
            23,
            "func (c Circle) Area() float64      { return 2 * math.Pi * c.R }",
        );
        let triangle = go(
            31,
            "func (t Triangle) Area() float64 {\n\ts := t.Perimeter() / 2\n\treturn math.Sqrt(s * (s - t.A) * (s - t.B) * (s - t.C))\n}",
        );
        let reply =
            "```go\nfunc (c Circle) Area() float64 {\n\treturn math.Pi * c.R * c.R\n}\n```\n";
        let edits = place(reply, &[triangle, circle.clone()]).unwrap();
        match &edits[0] {
            Edit::Replace { search, .. } => assert_eq!(search, &circle.text),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_definition_sent_back_under_the_name_its_callers_want_replaces_it() {
        let count = Editable {
            path: "wordfreq/count.go".into(),
            first: 15,
            last: 17,
            text: "func Count(text string) int {\n\treturn len(Normalize(text))\n}".into(),
        };
        let renamed = Editable {
            path: "wordfreq/text.go".into(),
            first: 11,
            last: 16,
            text: "func normalizeWord(word string) string {\n\tw := strings.ToLower(word)\n\tif stopWords[w] {\n\t\treturn \"\"\n\t}\n\treturn w\n}".into(),
        };
        let reply = "```go\nfunc Normalize(word string) string {\n\tw := strings.ToLower(word)\n\tif stopWords[w] {\n\t\treturn \"\"\n\t}\n\treturn w\n}\n```\n";
        let edits = place(reply, &[count.clone(), renamed.clone()]).unwrap();
        match &edits[0] {
            Edit::Replace {
                path,
                search,
                replace,
            } => {
                assert_eq!(path.as_deref(), Some("wordfreq/text.go"));
                assert_eq!(search, &renamed.text);
                assert!(replace.starts_with("func Normalize(word string)"));
            }
            other => panic!("{other:?}"),
        }
        // a sentence on what is wrong before the block (the reasoning candidate) is fine
        let reasoned = format!("The call uses the old name.\n\n{reply}");
        assert_eq!(
            place(&reasoned, &[count.clone(), renamed.clone()]).unwrap(),
            edits
        );
        // a different function under a new name is no rename
        let other =
            "```go\nfunc Tokens(text string) []string {\n\treturn strings.Fields(text)\n}\n```\n";
        assert!(place(other, &[count, renamed]).is_err());
    }

    #[test]
    fn a_reply_that_rewrites_the_test_is_recognised() {
        let test = "fn transfer_works() {\n    assert_eq!(1, 1);\n}";
        assert!(sends_back(
            "Here:\n```rust\nfn transfer_works() {\n    assert_eq!(1, 2);\n}\n```",
            test
        ));
        assert!(!sends_back(
            "```rust\npub fn transfer(&mut self) {\n}\n```",
            test
        ));
        let js = "test('coupon', () => {\n  assert.equal(cart.discount(), 2.7);\n});";
        assert!(sends_back(
            "```javascript\nassert.equal(cart.discount(), 2.69);\n```",
            js
        ));
        assert!(!sends_back(
            "```javascript\n  discount() {\n    return 1;\n  }\n```",
            js
        ));
    }

    #[test]
    fn names_of_definitions() {
        assert_eq!(defined_name("  discount() {"), Some("discount"));
        assert_eq!(
            defined_name("def moving_average(xs, n):"),
            Some("moving_average")
        );
        assert_eq!(defined_name("func (s *Store) Set(k string) {"), Some("Set"));
        assert_eq!(defined_name("pub fn area<T>(x: T) -> f64 {"), Some("area"));
        assert_eq!(defined_name("test('discount', () => {"), Some("test"));
        assert_eq!(defined_name("class Cart {"), None);
    }
}
