//! Entry names in a run-log ZIP (LOGS.md §2–3): what each entry is, and how job files,
//! step folders and the jobs API's names match although the server renamed them.
//!
//! Names are only ever compared, never used as paths: a `../` or absolute name is unsafe
//! and skipped with a warning.

/// What one ZIP entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// `<N>_<job>.txt` or legacy `-<digits>_<job>.txt` at the top level.
    JobFile { ordinal: i64, job: String },
    /// `<job>/<S>_<step>.txt`.
    StepFile {
        job: String,
        number: u32,
        step: String,
    },
    /// `<job>/system.txt`, folders, `__MACOSX/`, `.DS_Store`, anything unknown.
    Ignored,
    /// `../x`, `/etc/x`, `C:\x`: never used, reported.
    Unsafe,
}

/// Sorts one entry name into its kind.
pub fn classify(name: &str) -> EntryKind {
    if is_unsafe(name) {
        return EntryKind::Unsafe;
    }
    if name.starts_with("__MACOSX/") || name.ends_with('/') {
        return EntryKind::Ignored;
    }
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        [file] => job_file(file),
        [folder, file] if !folder.is_empty() => step_file(folder, file),
        _ => EntryKind::Ignored,
    }
}

fn is_unsafe(name: &str) -> bool {
    let b = name.as_bytes();
    name.starts_with('/')
        || name.starts_with('\\')
        || name.contains('\0')
        || (b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic())
        || name.split(['/', '\\']).any(|c| c == "..")
}

fn job_file(file: &str) -> EntryKind {
    let Some(stem) = file.strip_suffix(".txt") else {
        return EntryKind::Ignored;
    };
    let Some((num, job)) = split_number(stem, true) else {
        return EntryKind::Ignored;
    };
    EntryKind::JobFile {
        ordinal: num,
        job: job.to_string(),
    }
}

fn step_file(folder: &str, file: &str) -> EntryKind {
    let Some(stem) = file.strip_suffix(".txt") else {
        return EntryKind::Ignored;
    };
    match split_number(stem, false) {
        Some((num, step)) if num >= 0 && num <= i64::from(u32::MAX) => EntryKind::StepFile {
            job: folder.to_string(),
            number: num as u32,
            step: step.to_string(),
        },
        _ => EntryKind::Ignored,
    }
}

/// `12_name` → (12, "name"); `-345_name` → (-345, "name") when `negative` is allowed.
fn split_number(stem: &str, negative: bool) -> Option<(i64, &str)> {
    let (num, rest) = stem.split_once('_')?;
    let digits = if negative {
        num.strip_prefix('-').unwrap_or(num)
    } else {
        num
    };
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((num.parse().ok()?, rest))
}

/// Characters the server does not allow in entry paths.
const FORBIDDEN: &[char] = &['/', ':', '*', '?', '"', '<', '>', '|', '\\'];

/// The names a job or step name may have in the archive: forbidden characters removed
/// (older archives) or replaced by `_` (the "results" service), cut at 90 UTF-16 units
/// and trimmed, as gh mirrors it (LOGS.md §3).
pub fn sanitised_forms(name: &str) -> [String; 2] {
    let removed: String = name.chars().filter(|c| !FORBIDDEN.contains(c)).collect();
    let replaced: String = name
        .chars()
        .map(|c| if FORBIDDEN.contains(&c) { '_' } else { c })
        .collect();
    [truncate_utf16(&removed, 90), truncate_utf16(&replaced, 90)]
}

/// The first `units` UTF-16 code units, trimmed; a split surrogate pair becomes U+FFFD.
pub fn truncate_utf16(s: &str, units: usize) -> String {
    let u: Vec<u16> = s.encode_utf16().take(units).collect();
    String::from_utf16_lossy(&u).trim().to_string()
}

/// A loose key for names that went through different renamings: forbidden characters,
/// `_` and whitespace dropped, lower case, U+FFFD (a split emoji) dropped.
pub fn loose_key(name: &str) -> String {
    name.chars()
        .filter(|c| !FORBIDDEN.contains(c) && *c != '_' && !c.is_whitespace() && *c != '\u{fffd}')
        .flat_map(char::to_lowercase)
        .collect()
}

/// How well an archive name matches a (possibly longer, unsanitised) name: 3 exact,
/// 2 a sanitised form, 1 loosely equal or a truncated prefix, 0 no match.
pub fn match_score(archive_name: &str, name: &str) -> u8 {
    if archive_name == name {
        return 3;
    }
    if sanitised_forms(name).iter().any(|f| f == archive_name) {
        return 2;
    }
    let (a, n) = (loose_key(archive_name), loose_key(name));
    if a.is_empty() || n.is_empty() {
        return 0;
    }
    // older archives cut names much shorter (`0_... (Arm64, Release)  com.txt`)
    let a_core = loose_key(archive_name.trim_start_matches("..."));
    if a == n || (a.len() >= 8 && n.starts_with(&a)) || (a_core.len() >= 8 && n.contains(&a_core)) {
        return 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_real_layout() {
        assert_eq!(
            classify("3_build.txt"),
            EntryKind::JobFile {
                ordinal: 3,
                job: "build".into()
            }
        );
        assert_eq!(
            classify("-1234567_build.txt"),
            EntryKind::JobFile {
                ordinal: -1234567,
                job: "build".into()
            }
        );
        assert_eq!(
            classify("build/11_Post Check out code.txt"),
            EntryKind::StepFile {
                job: "build".into(),
                number: 11,
                step: "Post Check out code".into()
            }
        );
        assert_eq!(classify("build/system.txt"), EntryKind::Ignored);
        assert_eq!(classify("build/"), EntryKind::Ignored);
        assert_eq!(classify("__MACOSX/build/._1_x.txt"), EntryKind::Ignored);
        assert_eq!(classify(".DS_Store"), EntryKind::Ignored);
        assert_eq!(classify("build/.DS_Store"), EntryKind::Ignored);
        assert_eq!(classify("readme.md"), EntryKind::Ignored);
        assert_eq!(classify("a/b/1_c.txt"), EntryKind::Ignored);
        assert_eq!(classify("build/-1_x.txt"), EntryKind::Ignored);
        assert_eq!(classify("x_build.txt"), EntryKind::Ignored);
        assert_eq!(
            classify("10_build (ubuntu-24.04, 3.11) _ build.txt"),
            EntryKind::JobFile {
                ordinal: 10,
                job: "build (ubuntu-24.04, 3.11) _ build".into()
            }
        );
    }

    #[test]
    fn zip_slip_names_are_unsafe() {
        for n in [
            "../1_x.txt",
            "/etc/1_x.txt",
            "a/../../1_x.txt",
            "C:\\1_x.txt",
            "c:/x.txt",
            "\\\\server\\x",
            "a\\..\\b",
        ] {
            assert_eq!(classify(n), EntryKind::Unsafe, "{n}");
        }
    }

    #[test]
    fn sanitising_matches_both_services() {
        let [removed, replaced] = sanitised_forms("build / test: unit");
        assert_eq!(removed, "build  test unit");
        assert_eq!(replaced, "build _ test_ unit");
        assert_eq!(match_score("build  test unit", "build / test: unit"), 2);
        assert_eq!(match_score("build _ test_ unit", "build / test: unit"), 2);
        assert_eq!(match_score("build", "build"), 3);
        assert_eq!(match_score("deploy", "build"), 0);
    }

    #[test]
    fn truncates_at_90_utf16_units() {
        let long = format!("{}😀tail", "a".repeat(89));
        let cut = truncate_utf16(&long, 90);
        assert_eq!(cut, format!("{}\u{fffd}", "a".repeat(89)));
        assert_eq!(match_score(&cut, &long), 2);
        let name = "x".repeat(200);
        assert_eq!(truncate_utf16(&name, 90).len(), 90);
        assert_eq!(match_score(&"x".repeat(90), &name), 2);
    }

    #[test]
    fn short_truncated_names_match_loosely() {
        assert_eq!(
            match_score(
                "... (Arm64, Release)  com",
                "build (Arm64, Release) / compile"
            ),
            1
        );
    }
}
