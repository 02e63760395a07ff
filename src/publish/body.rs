//! The words of a fix: the commit message (diagnosis and a `Signed-off-by` trailer) and
//! the pull request's title and body, with a hidden marker holding the failure signature so
//! a later run can find the pull request again (dedupe).

/// What the lead's pipeline knows about the fix; every field ends up in the PR body.
/// Kept with a pending patch (serde) so an approval later publishes the same words.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FixReport {
    /// One line, e.g. `fix failing test_parse in tests/test_io.py`.
    pub title: String,
    /// The failure as the user saw it (first error lines, file:line).
    pub failure: String,
    /// Why it failed and what the change does.
    pub diagnosis: String,
    /// `git diff --stat`-like summary, or a short diff.
    pub diff_summary: String,
    /// The validation command and how it ended.
    pub validation: String,
    /// Repair attempts used.
    pub attempts: u32,
    pub tokens: u64,
    pub cost_usd: f64,
    pub model: String,
    /// The failed run's page.
    pub run_url: String,
    /// Why a person must review this fix (the risk score and its reasons); when set, the
    /// body opens with it.
    pub review: String,
}

/// The line that ties a pull request to a failure signature.
pub fn signature_marker(signature: &str) -> String {
    format!("<!-- selfheal-signature: {signature} -->")
}

/// The signature in a PR body, if selfheal wrote it.
pub fn signature_in(body: &str) -> Option<&str> {
    let start = body.find("<!-- selfheal-signature: ")? + "<!-- selfheal-signature: ".len();
    let rest = &body[start..];
    Some(rest[..rest.find(" -->")?].trim())
}

/// The commit message: title, diagnosis, run, signature, and the sign-off trailer.
pub fn commit_message(
    r: &FixReport,
    run_id: u64,
    attempt: u32,
    signature: &str,
    signoff: Option<(&str, &str)>,
) -> String {
    let mut m = format!("selfheal: {}\n\n", one_line(&r.title));
    if !r.diagnosis.trim().is_empty() {
        m.push_str(r.diagnosis.trim());
        m.push_str("\n\n");
    }
    m.push_str(&format!(
        "Run: {} (run {run_id}, attempt {attempt})\n",
        r.run_url
    ));
    m.push_str(&format!("Failure-Signature: {signature}\n"));
    if let Some((name, email)) = signoff {
        m.push_str(&format!("Signed-off-by: {name} <{email}>\n"));
    }
    m
}

/// The pull request title.
pub fn pr_title(r: &FixReport) -> String {
    format!("selfheal: {}", one_line(&r.title))
}

/// The pull request body (GitHub Markdown).
pub fn pr_body(r: &FixReport, run_id: u64, attempt: u32, signature: &str) -> String {
    let mut b = String::new();
    if !r.review.trim().is_empty() {
        b.push_str(r.review.trim());
        b.push_str("\n\n");
    }
    b.push_str(&format!(
        "selfheal found the cause of a failed run and proposes this fix.\n\n**Run:** [{run_id}]({}) (attempt {attempt})\n\n",
        r.run_url
    ));
    section(&mut b, "Failure", &fenced(&r.failure));
    section(&mut b, "Diagnosis", r.diagnosis.trim());
    section(&mut b, "Change", &fenced(&r.diff_summary));
    section(&mut b, "Validation", r.validation.trim());
    b.push_str(&format!(
        "<sub>{} attempt(s) · {} tokens · ${:.4} · model {}</sub>\n\n",
        r.attempts, r.tokens, r.cost_usd, r.model
    ));
    b.push_str("Review the change before merging; selfheal never pushes to your branches.\n\n");
    b.push_str(&signature_marker(signature));
    b.push('\n');
    b
}

fn section(b: &mut String, title: &str, text: &str) {
    if text.trim().is_empty() {
        return;
    }
    b.push_str(&format!("### {title}\n\n{text}\n\n"));
}

/// A code fence long enough that no backtick run inside can close it.
fn fenced(text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}text\n{}\n{fence}", text.trim_end())
}

fn one_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    line.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> FixReport {
        FixReport {
            title: "fix test_parse\nsecond line".into(),
            failure: "E   assert 1 == 2\n```".into(),
            diagnosis: "Off by one in parse().".into(),
            diff_summary: " src/parse.py | 2 +-".into(),
            validation: "`pytest -q` passed".into(),
            attempts: 2,
            tokens: 1234,
            cost_usd: 0.0012,
            model: "gpt-4o-mini".into(),
            run_url: "https://github.com/acme/api/actions/runs/5".into(),
            review: String::new(),
        }
    }

    #[test]
    fn a_fix_needing_review_opens_with_its_risk() {
        let mut r = report();
        r.review = "**Needs review: risk 62/100**".into();
        let b = pr_body(&r, 5, 1, "sig");
        assert!(
            b.starts_with("**Needs review: risk 62/100**\n\nselfheal found"),
            "{b}"
        );
        assert!(pr_body(&report(), 5, 1, "sig").starts_with("selfheal found"));
    }

    #[test]
    fn commit_message_has_trailer_last() {
        let m = commit_message(
            &report(),
            5,
            1,
            "pytest/test_failure/ab",
            Some(("selfheal", "s@x.org")),
        );
        assert!(m.starts_with("selfheal: fix test_parse\n\nOff by one"));
        assert!(m.contains("Failure-Signature: pytest/test_failure/ab\n"));
        assert!(m.ends_with("Signed-off-by: selfheal <s@x.org>\n"));
        assert!(!commit_message(&report(), 5, 1, "s", None).contains("Signed-off-by"));
    }

    #[test]
    fn body_holds_everything_and_round_trips_the_signature() {
        let b = pr_body(&report(), 5, 1, "pytest/test_failure/ab");
        for part in [
            "### Failure",
            "### Diagnosis",
            "### Change",
            "### Validation",
            "1234 tokens",
            "$0.0012",
            "attempt 1",
        ] {
            assert!(b.contains(part), "{part} missing from\n{b}");
        }
        assert!(
            b.contains("````text\nE   assert 1 == 2\n```\n````"),
            "fence must outgrow the content:\n{b}"
        );
        assert_eq!(signature_in(&b), Some("pytest/test_failure/ab"));
        assert_eq!(signature_in("a human's PR"), None);
        assert_eq!(pr_title(&report()), "selfheal: fix test_parse");
    }
}
