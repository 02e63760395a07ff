//! Names the failure says cannot be found, looked for under a similar name nearby. A
//! rename whose callers were not all updated is a common break (`undefined: Normalize`
//! after `Normalize` became `normalizeWord`); the compiler names only the missing name,
//! and a model shown only the caller cannot know the new one.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::symbols::{self, Found};
use super::walk::{MAX_FILE_BYTES, SourceFile, read_capped};

/// Files read at most, nearest first.
const MAX_FILES: usize = 64;

/// A line that defines something, and the name it defines.
static DEFINES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[ \t]*(?:(?:export|default|pub(?:\([^)]*\))?|public|private|protected|static|async|final|abstract)\s+)*(?:def|fn|func(?:\s*\([^)]*\))?|function\*?|class|struct|enum|trait|interface|type|fun)\s+([A-Za-z_$][\w$]*)",
    )
    .expect("static regex")
});

/// For each of `missing`, the definitions in `files` (ordered nearest first) of names like
/// it, as (missing name, definition). At most two per missing name.
pub fn definitions_like(
    root: &Path,
    files: &[SourceFile],
    missing: &[String],
) -> Vec<(String, Found)> {
    let mut out: Vec<(String, Found)> = Vec::new();
    if missing.is_empty() {
        return out;
    }
    for f in files.iter().take(MAX_FILES) {
        let Some(text) = read_capped(&root.join(&f.rel), MAX_FILE_BYTES) else {
            continue;
        };
        for defined in defined_names(&text) {
            for want in missing {
                let already = out.iter().filter(|(m, _)| m == want).count();
                if already >= 2
                    || !alike(want, defined)
                    || out.iter().any(|(_, d)| d.name == defined)
                {
                    continue;
                }
                let re = symbols::definition_regex(defined);
                if let Some(d) = symbols::definition_in(&text, &re, defined, &f.rel) {
                    out.push((want.clone(), d));
                }
            }
        }
    }
    out
}

/// The names defined on the lines of `text`.
fn defined_names(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| {
            DEFINES
                .captures(l)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str())
        })
        .collect()
}

/// True for two different names a rename or a typo could turn into each other: the same
/// but for case and underscores, one inside the other (`Normalize`, `normalizeWord`), a
/// few letters apart (`recieve`, `receive`), or sharing a word of five letters or more
/// (`compute_total`, `order_total`).
pub fn alike(a: &str, b: &str) -> bool {
    if a == b {
        return false;
    }
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let (x, y) = (fold(a), fold(b));
    let shorter = x.len().min(y.len());
    if x == y {
        return true;
    }
    if shorter >= 4 && (x.contains(&y) || y.contains(&x)) {
        return true;
    }
    let allowed = match shorter {
        0..=3 => 0,
        4..=5 => 1,
        _ => 2,
    };
    if allowed > 0 && edit_distance(&x, &y) <= allowed {
        return true;
    }
    let (wa, wb) = (symbols::name_words(a), symbols::name_words(b));
    wa.iter().any(|w| w.len() >= 5 && wb.contains(w))
}

/// Levenshtein distance, on chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (up + 1).min(row[j] + 1).min(diag + usize::from(ca != *cb));
            diag = up;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Language;

    #[test]
    fn renamed_and_misspelt_names_are_alike_and_others_are_not() {
        assert!(alike("Normalize", "normalizeWord"));
        assert!(alike("parse_port", "parsePort"));
        assert!(alike("recieve", "receive"));
        assert!(alike("total_price", "total_prices"));
        assert!(alike("compute_total", "order_total"));
        assert!(
            !alike("load_user", "save_user"),
            "short shared words are not enough"
        );
        assert!(!alike("Area", "Area"), "the same name is no rename");
        assert!(!alike("add", "sub"));
        assert!(!alike("len", "lent"), "short names are too easily alike");
        assert!(!alike("Normalize", "Count"));
    }

    #[test]
    fn a_renamed_definition_is_found_near_the_caller() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("wordfreq")).unwrap();
        std::fs::write(
            d.path().join("wordfreq/text.go"),
            "package wordfreq\n\n// normalizeWord lower-cases a word.\nfunc normalizeWord(word string) string {\n\treturn strings.ToLower(word)\n}\n\nfunc other() {}\n",
        )
        .unwrap();
        let files = vec![SourceFile {
            rel: "wordfreq/text.go".into(),
            language: Language::Go,
        }];
        let found = definitions_like(d.path(), &files, &["Normalize".into()]);
        assert_eq!(found.len(), 1, "{found:?}");
        let (missing, def) = &found[0];
        assert_eq!(missing, "Normalize");
        assert_eq!(
            (def.name.as_str(), def.rel.as_str()),
            ("normalizeWord", "wordfreq/text.go")
        );
        assert_eq!((def.first, def.last), (4, 6));
        assert!(definitions_like(d.path(), &files, &[]).is_empty());
    }
}
