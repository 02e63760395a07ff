//! A kind for a line no tool parser claimed, from what it says: dependency resolution,
//! the network, the runner or machine (infra), the configuration, a missing command.
//! The generic fallback and unclaimed annotations ask here before they settle for
//! `unknown`. Patterns are tool-neutral wordings seen in npm, pip, cargo, go, Maven,
//! Gradle, apt, curl, git, Docker, GitLab runners and Jenkins agents.

use std::sync::LazyLock;

use regex::Regex;

use crate::logs::Kind;

struct Rule {
    kind: Kind,
    pattern: Regex,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |kind, p: &str| Rule {
        kind,
        pattern: Regex::new(p).expect("static pattern"),
    };
    vec![
        rule(
            Kind::CommandNotFound,
            r"(?i): command not found|: not found$|is not recognized as an internal or external command|executable file not found in \$PATH|No such file or directory \(os error 2\)|exec: \x22[^\x22]+\x22: executable file not found|The term '[^']+' is not recognized",
        ),
        rule(
            Kind::Network,
            r"(?i)could not resolve host|temporary failure in name resolution|name or service not known|getaddrinfo|connection (?:reset|refused|timed out)|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|TLS handshake|certificate verify failed|SSL(?:_ERROR| routines)|network is unreachable|no route to host|i/o timeout|read timed out|\b50[0234]\b.*(?:registry|repository|proxy|gateway|server)|(?:registry|repository|proxy)\S*.*\b50[0234]\b|Service Unavailable|Bad Gateway|Gateway Time-?out|toomanyrequests|rate limit exceeded|failed to fetch|Failed to download|unable to access '[^']+'",
        ),
        rule(
            Kind::Infra,
            r"(?i)no space left on device|ENOSPC|disk quota exceeded|runner has received a shutdown signal|lost communication with the server|runner system failure|The operation was canceled|job was cancel|was aborted|Agent went offline|agent .* disconnected|Cannot connect to the Docker daemon|pod .* (?:evicted|OOMKilled)|Killed\s*$|terminated by signal|killed by signal|Segmentation fault \(core dumped\)",
        ),
        rule(
            Kind::Dependency,
            r"(?i)lock ?file|lockfile|package-lock\.json|yarn\.lock|pnpm-lock|Cargo\.lock|poetry\.lock|go\.sum|go mod tidy|updates to go\.mod needed|checksum mismatch|integrity check failed|EINTEGRITY|could not resolve dependenc|unable to resolve dependenc|ERESOLVE|dependency resolution|ResolutionImpossible|No matching distribution found|Could not find a version that satisfies|version solving failed|failed to select a version|no matching package named|could not find artifact|Could not resolve dependencies|Could not find \S+:\S+:\S+|version .* (?:not found|does not exist)|No matching version found|ETARGET|E404|404 Not Found.*(?:package|module|artifact)|not found in registry|unknown revision|requires a peer of|does not appear to be a git repository|Could not read from remote repository|Repository not found",
        ),
        rule(
            Kind::Config,
            r"(?i)unknown (?:option|flag|argument|command-line option)|unrecognized (?:option|arguments?)|invalid (?:option|argument|yaml|configuration|config)|yaml: line \d+|mapping values are not allowed|could not parse (?:config|yaml|toml)|error parsing (?:config|yaml|toml)|TOML parse error|JSONDecodeError|is not defined in (?:the )?(?:environment|secrets)|secret .* (?:not found|is not set|missing)|environment variable \S+ (?:is )?not set|missing required (?:environment variable|secret|input)|Input required and not supplied|must be set|Unexpected value '|jobs config should contain|Invalid workflow file|KeyError: '[A-Z][A-Z0-9]*_[A-Z0-9_]+'|os\.environ\[|Permission denied \(publickey\)",
        ),
    ]
});

/// The kind `text` names, when it names one of the non-tool kinds.
pub fn kind_of(text: &str) -> Option<Kind> {
    RULES
        .iter()
        .find(|r| r.pattern.is_match(text))
        .map(|r| r.kind)
}

/// The kind of the deciding line, looking at the lines just before it (then the two
/// after) when it says nothing itself (`npm ERR! code E404` precedes npm's last words).
pub fn kind_near(lines: &[String], at: usize) -> Option<Kind> {
    let from = at.saturating_sub(3);
    std::iter::once(at)
        .chain((from..at).rev())
        .chain(at + 1..(at + 3).min(lines.len()))
        .filter_map(|i| lines.get(i))
        .find_map(|l| kind_of(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_non_tool_kind_is_recognised() {
        let cases = [
            (
                "bash: line 1: mvn: command not found",
                Kind::CommandNotFound,
            ),
            ("/bin/sh: 1: yarn: not found", Kind::CommandNotFound),
            (
                "fatal: unable to access 'https://github.com/x/y/': Could not resolve host: github.com",
                Kind::Network,
            ),
            (
                "npm ERR! request to https://registry.npmjs.org/left-pad failed, reason: connect ECONNREFUSED 127.0.0.1:443",
                Kind::Network,
            ),
            ("write /tmp/x: no space left on device", Kind::Infra),
            (
                "ERROR: Job failed: execution took longer than 1h0m0s seconds (runner system failure)",
                Kind::Infra,
            ),
            (
                "go: updates to go.mod needed; to update it:\n\tgo mod tidy",
                Kind::Dependency,
            ),
            (
                "ERROR: Could not find a version that satisfies the requirement leftpad==9.9",
                Kind::Dependency,
            ),
            ("npm ERR! code ERESOLVE", Kind::Dependency),
            (
                "verifying github.com/x/y@v1.2.3: checksum mismatch",
                Kind::Dependency,
            ),
            ("error: unknown option `--frobnicate'", Kind::Config),
            (
                "yaml: line 3: mapping values are not allowed in this context",
                Kind::Config,
            ),
            (
                "Error: Input required and not supplied: token",
                Kind::Config,
            ),
        ];
        for (line, want) in cases {
            assert_eq!(kind_of(line), Some(want), "{line}");
        }
        assert_eq!(kind_of("KeyError: 'DATABASE_URL'"), Some(Kind::Config));
        assert_eq!(
            kind_of("fatal: Could not read from remote repository."),
            Some(Kind::Dependency)
        );
        assert_eq!(kind_of("assert 3 == 4"), None);
        assert_eq!(kind_of("KeyError: 'name'"), None);
    }

    #[test]
    fn the_lines_before_explain_a_bare_deciding_line() {
        let lines: Vec<String> = [
            "npm ERR! code E404",
            "npm ERR! 404 Not Found - GET https://registry.npmjs.org/nope - Not found",
            "npm ERR! A complete log of this run can be found in: x",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(kind_near(&lines, 2), Some(Kind::Dependency));
    }
}
