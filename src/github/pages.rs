//! Pagination: GitHub's `Link` header (`<URL>; rel="next", <URL>; rel="last"`), whose URLs
//! are absolute (shared/github-api/README.md). We follow `next` as given.

/// The URL with `rel="next"`, if any.
pub fn next_link(header: &str) -> Option<String> {
    link_with_rel(header, "next")
}

/// The URL of the entry whose `rel` list holds `rel`.
pub fn link_with_rel(header: &str, rel: &str) -> Option<String> {
    header.split(',').find_map(|entry| {
        let mut parts = entry.split(';');
        let url = parts.next()?.trim();
        let url = url.strip_prefix('<')?.strip_suffix('>')?;
        let has_rel = parts.any(|p| {
            let p = p.trim();
            p.strip_prefix("rel=")
                .map(|v| v.trim_matches('"').split_whitespace().any(|r| r == rel))
                .unwrap_or(false)
        });
        has_rel.then(|| url.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_among_others() {
        let h = r#"<https://api.github.com/repositories/1/actions/runs?page=1>; rel="prev", <https://api.github.com/repositories/1/actions/runs?page=3>; rel="next", <https://api.github.com/repositories/1/actions/runs?page=5>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://api.github.com/repositories/1/actions/runs?page=3")
        );
        assert_eq!(
            link_with_rel(h, "last").as_deref(),
            Some("https://api.github.com/repositories/1/actions/runs?page=5")
        );
    }

    #[test]
    fn last_page_has_no_next() {
        let h = r#"<https://x/a?page=1>; rel="first", <https://x/a?page=2>; rel="prev""#;
        assert_eq!(next_link(h), None);
        assert_eq!(next_link(""), None);
    }
}
