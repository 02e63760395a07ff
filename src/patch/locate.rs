//! Finds where a block of lines sits in a file, exactly or with whitespace drift, and
//! explains a miss with the closest lines.
//!
//! Matching goes from strict to lenient and stops at the first level with any match:
//! exact lines; trailing whitespace ignored; blank lines ignored too; indentation shifted
//! by one consistent amount (the replacement is re-indented by the same amount). A
//! relaxed match is used only when it is unique. Files keep their own line endings:
//! untouched lines keep their bytes, new lines get the file's dominant ending.

use std::ops::Range;

/// A file as lines, each with its own ending (`"\n"`, `"\r\n"` or `""` for a last line
/// without one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TextFile {
    lines: Vec<(String, String)>,
    eol: &'static str,
}

impl TextFile {
    pub(crate) fn parse(content: &str) -> TextFile {
        let mut lines = Vec::new();
        let mut crlf = 0usize;
        for piece in content.split_inclusive('\n') {
            let (text, eol) = match piece.strip_suffix("\r\n") {
                Some(t) => (t, "\r\n"),
                None => match piece.strip_suffix('\n') {
                    Some(t) => (t, "\n"),
                    None => (piece, ""),
                },
            };
            crlf += usize::from(eol == "\r\n");
            lines.push((text.to_string(), eol.to_string()));
        }
        let lf = lines.iter().filter(|(_, e)| e == "\n").count();
        TextFile {
            lines,
            eol: if crlf > lf { "\r\n" } else { "\n" },
        }
    }

    pub(crate) fn render(&self) -> String {
        self.lines
            .iter()
            .flat_map(|(t, e)| [t.as_str(), e.as_str()])
            .collect()
    }

    pub(crate) fn texts(&self) -> Vec<&str> {
        self.lines.iter().map(|(t, _)| t.as_str()).collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.lines.len()
    }

    /// Replaces `range` with `new`. A replaced last line without a newline keeps that
    /// property; every other line ends with the file's dominant ending.
    pub(crate) fn splice(&mut self, range: Range<usize>, new: &[String]) {
        let at_end_without_eol = range.end == self.lines.len()
            && range.end > range.start
            && self.lines.last().is_some_and(|(_, e)| e.is_empty());
        let eol = self.eol;
        let replacement: Vec<(String, String)> =
            new.iter().map(|t| (t.clone(), eol.to_string())).collect();
        let end = range.start + replacement.len();
        self.lines.splice(range, replacement);
        let last = self.lines.len();
        for (_, e) in self.lines.iter_mut().take(last.saturating_sub(1)) {
            if e.is_empty() {
                *e = eol.to_string();
            }
        }
        if at_end_without_eol && end == last && end > 0 {
            self.lines[end - 1].1.clear();
        }
    }
}

/// Splits block text (each line ending in `\n`) into lines.
pub(crate) fn block_lines(text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect()
}

/// Where a block was found and what to put there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub range: Range<usize>,
    pub replacement: Vec<String>,
    /// Set when a leniency was needed, for the reviewer.
    pub note: Option<String>,
}

/// Why a block was not placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Miss {
    /// No match at any level; the text explains the closest lines.
    NotFound(String),
    /// Several matches at the strictest level that matched; 1-based start lines.
    Ambiguous(Vec<usize>),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Level {
    Exact,
    TrailingSpace,
    BlankLines,
    Indentation,
}

impl Level {
    fn note(self) -> Option<&'static str> {
        match self {
            Level::Exact => None,
            Level::TrailingSpace => Some("trailing whitespace differed"),
            Level::BlankLines => Some("blank lines and trailing whitespace differed"),
            Level::Indentation => Some("indentation differed; the replacement was re-indented"),
        }
    }
}

/// Finds `search` in `file`. With `hint` (a 1-based line from a hunk header) several
/// matches are resolved to the nearest one; without it they are an error.
pub(crate) fn locate(
    file: &[&str],
    search: &[String],
    replace: &[String],
    hint: Option<usize>,
) -> Result<Found, Miss> {
    for level in [
        Level::Exact,
        Level::TrailingSpace,
        Level::BlankLines,
        Level::Indentation,
    ] {
        let found = matches_at(level, file, search, replace);
        let chosen = match (found.len(), hint) {
            (0, _) => continue,
            (1, _) => found.into_iter().next(),
            (_, Some(h)) => found
                .into_iter()
                .min_by_key(|f| f.range.start.abs_diff(h.saturating_sub(1))),
            (_, None) => {
                return Err(Miss::Ambiguous(
                    found.iter().map(|f| f.range.start + 1).collect(),
                ));
            }
        };
        return Ok(chosen.expect("non-empty"));
    }
    Err(Miss::NotFound(closest_lines(file, search)))
}

fn matches_at(level: Level, file: &[&str], search: &[String], replace: &[String]) -> Vec<Found> {
    let note = level.note().map(String::from);
    match level {
        Level::Exact | Level::TrailingSpace => {
            let eq = |a: &str, b: &str| {
                if level == Level::Exact {
                    a == b
                } else {
                    a.trim_end() == b.trim_end()
                }
            };
            windows(file.len(), search.len(), |i, k| eq(file[i + k], &search[k]))
                .into_iter()
                .map(|i| Found {
                    range: i..i + search.len(),
                    replacement: replace.to_vec(),
                    note: note.clone(),
                })
                .collect()
        }
        Level::BlankLines | Level::Indentation => {
            relaxed_matches(level, file, search, replace, note)
        }
    }
}

/// Start indices where `eq(start, k)` holds for every `k < len`.
fn windows(n: usize, len: usize, eq: impl Fn(usize, usize) -> bool) -> Vec<usize> {
    if len == 0 || len > n {
        return Vec::new();
    }
    (0..=n - len)
        .filter(|&i| (0..len).all(|k| eq(i, k)))
        .collect()
}

/// Matching on non-blank lines only, by trimmed-end or fully trimmed text.
fn relaxed_matches(
    level: Level,
    file: &[&str],
    search: &[String],
    replace: &[String],
    note: Option<String>,
) -> Vec<Found> {
    let f: Vec<(usize, &str)> = file
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i, *l))
        .collect();
    let s: Vec<&str> = search
        .iter()
        .map(String::as_str)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let key = |l: &str| {
        if level == Level::Indentation {
            l.trim().to_string()
        } else {
            l.trim_end().to_string()
        }
    };
    let replace = trim_blank_edges(search, replace);
    windows(f.len(), s.len(), |i, k| key(f[i + k].1) == key(s[k]))
        .into_iter()
        .filter_map(|i| {
            let pairs: Vec<(&str, &str)> = (0..s.len()).map(|k| (f[i + k].1, s[k])).collect();
            let replacement = match level {
                Level::Indentation => reindent(&pairs, &replace)?,
                _ => replace.clone(),
            };
            Some(Found {
                range: f[i].0..f[i + s.len() - 1].0 + 1,
                replacement,
                note: note.clone(),
            })
        })
        .collect()
}

/// Drops from `replace` the blank lines at its edges that the search also had at its
/// edges, since the relaxed match does not cover them.
fn trim_blank_edges(search: &[String], replace: &[String]) -> Vec<String> {
    let blank = |l: &String| l.trim().is_empty();
    let lead = search.iter().take_while(|l| blank(l)).count();
    let trail = search
        .iter()
        .rev()
        .take_while(|l| blank(l))
        .count()
        .min(search.len() - lead);
    let lead = lead.min(replace.iter().take_while(|l| blank(l)).count());
    let rest = &replace[lead..];
    let trail = trail.min(rest.iter().rev().take_while(|l| blank(l)).count());
    rest[..rest.len() - trail].to_vec()
}

/// How the file's indentation differs from the search's, uniformly on every line.
#[derive(PartialEq, Eq, Clone, Debug)]
enum Shift {
    Add(String),
    Remove(usize),
}

fn indent(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

fn shift_of(file_line: &str, search_line: &str) -> Option<Shift> {
    let (fi, si) = (indent(file_line), indent(search_line));
    if fi.len() >= si.len() && fi.ends_with(si) {
        Some(Shift::Add(fi[..fi.len() - si.len()].to_string()))
    } else if si.ends_with(fi) {
        Some(Shift::Remove(si.len() - fi.len()))
    } else {
        None
    }
}

/// Re-indents `replace` by the one shift all matched lines share; `None` if they differ.
fn reindent(pairs: &[(&str, &str)], replace: &[String]) -> Option<Vec<String>> {
    let shift = shift_of(pairs[0].0, pairs[0].1)?;
    if pairs
        .iter()
        .any(|(f, s)| shift_of(f, s).as_ref() != Some(&shift))
    {
        return None;
    }
    Some(
        replace
            .iter()
            .map(|l| match &shift {
                _ if l.trim().is_empty() => l.clone(),
                Shift::Add(prefix) => format!("{prefix}{l}"),
                Shift::Remove(n) => {
                    let mut strip = indent(l).len().min(*n);
                    while !l.is_char_boundary(strip) {
                        strip -= 1;
                    }
                    l[strip..].to_string()
                }
            })
            .collect(),
    )
}

/// Describes the window of the file most similar to `search`, and the first line that
/// differs, so the model can copy the lines exactly next time.
pub(crate) fn closest_lines(file: &[&str], search: &[String]) -> String {
    let s: Vec<&str> = search.iter().map(|l| l.trim()).collect();
    if file.is_empty() {
        return "the file is empty".into();
    }
    let len = s.len().min(file.len()).max(1);
    let Some((start, score)) = best_window(file, &s, len) else {
        return "no similar lines".into();
    };
    if score < 0.3 {
        return "no lines in the file are similar to the SEARCH lines; copy them verbatim from the file".into();
    }
    let percent = (score * 100.0).round() as u32;
    let mut out = if len == 1 {
        format!("the closest line is {} ({percent}% similar):\n", start + 1)
    } else {
        format!(
            "the closest lines are {}-{} ({percent}% similar):\n",
            start + 1,
            start + len
        )
    };
    for (k, line) in file[start..start + len].iter().enumerate() {
        out.push_str(&format!("{:>5} | {line}\n", start + k + 1));
    }
    if let Some(k) =
        (0..len.min(search.len())).find(|&k| file[start + k].trim_end() != search[k].trim_end())
    {
        out.push_str(&format!(
            "line {} of the file is `{}` but the SEARCH has `{}`",
            start + k + 1,
            file[start + k].trim(),
            search[k].trim()
        ));
    }
    out
}

/// Most similar window (start, mean line similarity); earlier windows win ties.
fn best_window(file: &[&str], s: &[&str], len: usize) -> Option<(usize, f64)> {
    let file_grams: Vec<Vec<(char, char)>> = file.iter().map(|l| bigrams(l.trim())).collect();
    let search_grams: Vec<Vec<(char, char)>> = (0..len)
        .map(|k| bigrams(s.get(k).copied().unwrap_or("")))
        .collect();
    let line_score = |i: usize, k: usize| {
        let (a, b) = (file[i].trim(), s.get(k).copied().unwrap_or(""));
        if a == b {
            1.0
        } else {
            dice_sorted(&file_grams[i], &search_grams[k])
        }
    };
    let score = |i: usize| (0..len).map(|k| line_score(i + k, k)).sum::<f64>() / len as f64;
    (0..=file.len() - len)
        .map(|i| (i, score(i)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
}

/// Sørensen–Dice similarity of character bigrams; 1.0 for equal strings.
#[cfg(test)]
fn dice(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    dice_sorted(&bigrams(a), &bigrams(b))
}

fn bigrams(s: &str) -> Vec<(char, char)> {
    let chars: Vec<char> = s.chars().collect();
    let mut v: Vec<(char, char)> = chars.windows(2).map(|w| (w[0], w[1])).collect();
    v.sort_unstable();
    v
}

fn dice_sorted(x: &[(char, char)], y: &[(char, char)]) -> f64 {
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f64 / (x.len() + y.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn text_file_round_trips_mixed_endings() {
        for s in ["", "a", "a\n", "a\r\nb\nc", "a\r\n\r\n", "\n\n"] {
            assert_eq!(TextFile::parse(s).render(), s);
        }
    }

    #[test]
    fn splice_uses_dominant_ending_and_keeps_missing_final_newline() {
        let mut f = TextFile::parse("a\r\nb\r\nc");
        f.splice(1..3, &v(&["B", "C"]));
        assert_eq!(f.render(), "a\r\nB\r\nC");
        let mut f = TextFile::parse("a\nb");
        f.splice(2..2, &v(&["c"]));
        assert_eq!(f.render(), "a\nb\nc\n");
    }

    #[test]
    fn exact_match_and_ambiguity() {
        let file = ["a", "b", "a", "b"];
        assert_eq!(
            locate(&file, &v(&["a", "b"]), &v(&["x"]), None),
            Err(Miss::Ambiguous(vec![1, 3]))
        );
        let found = locate(&file, &v(&["b", "a"]), &v(&["x"]), None).unwrap();
        assert_eq!((found.range, found.note), (1..3, None));
        let near = locate(&file, &v(&["a", "b"]), &v(&["x"]), Some(3)).unwrap();
        assert_eq!(near.range, 2..4);
    }

    #[test]
    fn trailing_whitespace_and_blank_lines_drift() {
        let file = ["fn a() {  ", "", "    x();", "}"];
        let f = locate(
            &file,
            &v(&["fn a() {", "    x();"]),
            &v(&["fn a() {", "    y();"]),
            None,
        )
        .unwrap();
        assert_eq!(f.range, 0..3);
        assert_eq!(f.replacement, v(&["fn a() {", "    y();"]));
        assert!(f.note.unwrap().contains("blank lines"));
    }

    #[test]
    fn indentation_drift_reindents_the_replacement() {
        let file = [
            "class A:",
            "    def f(self):",
            "        return 1",
            "    def g(self):",
            "        return 2",
        ];
        let f = locate(
            &file,
            &v(&["def f(self):", "    return 1"]),
            &v(&["def f(self):", "    return 10"]),
            None,
        )
        .unwrap();
        assert_eq!(f.range, 1..3);
        assert_eq!(f.replacement, v(&["    def f(self):", "        return 10"]));
        let f = locate(
            &file,
            &v(&["            return 2"]),
            &v(&["            return 20", "          "]),
            None,
        )
        .unwrap();
        assert_eq!(f.replacement, v(&["        return 20", "          "]));
    }

    #[test]
    fn inconsistent_indentation_is_not_a_match() {
        let file = ["a", "    b"];
        let miss = locate(&file, &v(&["  a", "b"]), &v(&["c"]), None).unwrap_err();
        assert!(matches!(miss, Miss::NotFound(_)));
    }

    #[test]
    fn miss_shows_closest_lines_and_the_first_difference() {
        let file = [
            "def average(xs):",
            "    total = 0",
            "    for x in xs:",
            "        total += x",
            "    return total / (len(xs) - 1)",
        ];
        let Err(Miss::NotFound(why)) = locate(
            &file,
            &v(&[
                "    for x in xs:",
                "        total += x",
                "    return total / len(xs)",
            ]),
            &[],
            None,
        ) else {
            panic!()
        };
        assert!(why.starts_with("the closest lines are 3-5"), "{why}");
        assert!(why.contains("line 5 of the file is `return total / (len(xs) - 1)` but the SEARCH has `return total / len(xs)`"), "{why}");
        let Err(Miss::NotFound(why)) = locate(&file, &v(&["zzzz qqqq"]), &[], None) else {
            panic!()
        };
        assert!(why.contains("copy them verbatim"), "{why}");
    }

    #[test]
    fn dice_bounds() {
        assert_eq!(dice("abc", "abc"), 1.0);
        assert_eq!(dice("ab", "cd"), 0.0);
        assert!(dice("return a", "return b") > 0.7);
    }
}
