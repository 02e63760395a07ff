//! Which CI wrote a log, and where it checked the repository out.
//!
//! `selfheal offline` reads GitHub Actions logs, GitLab CI job traces, Jenkins console text
//! and plain output piped in. [`detect`] tells them apart from the first bytes (`--from`
//! forces one). The workspace a job ran in is learned from the log itself ([`learn`]: the
//! checkout's `git init`, GitLab's `Initialized empty Git repository in …`, Jenkins'
//! `Building in workspace …` / `Running on … in …`, a script's `cd /abs/path`), so the
//! paths tools print come out relative to the repository whatever the CI.

use std::sync::LazyLock;

use regex::Regex;

/// The CI system a log comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ci {
    /// GitHub Actions: a run-log ZIP or a job log with runner timestamps and `##[…]` markers.
    Github,
    /// A GitLab CI job trace (`section_start:…` markers, `ERROR: Job failed: exit code N`).
    Gitlab,
    /// Jenkins console text (`[Pipeline]` lines, `Started by …`, `Finished: FAILURE`).
    Jenkins,
    /// Any command's output (`make 2>&1 | selfheal offline -`): one failed step.
    Plain,
}

impl Ci {
    /// Every CI, as `--from` names them.
    pub const ALL: [Ci; 4] = [Ci::Github, Ci::Gitlab, Ci::Jenkins, Ci::Plain];

    pub fn as_str(self) -> &'static str {
        match self {
            Ci::Github => "github",
            Ci::Gitlab => "gitlab",
            Ci::Jenkins => "jenkins",
            Ci::Plain => "plain",
        }
    }
}

impl std::str::FromStr for Ci {
    type Err = String;

    fn from_str(s: &str) -> Result<Ci, String> {
        Ci::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown CI `{s}`: use github, gitlab, jenkins or plain"))
    }
}

static GITHUB_STAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^(?:\x{feff})?(?:[^\t\n]*\t[^\t\n]*\t)?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ",
    )
    .expect("static pattern")
});
static GITLAB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"section_start:\d+:|(?m)^Running with gitlab-runner |(?m)^ERROR: Job failed: |(?m)^Job succeeded$")
        .expect("static pattern")
});
static JENKINS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^(?:\[[^\]]{8,40}\] |\d\d:\d\d:\d\d(?:\.\d+)? )?(?:\[Pipeline\] |Started by (?:user|an SCM|timer|upstream|GitHub|remote)|Building (?:remotely on .* )?in workspace |Running on .* in /|Finished: (?:FAILURE|SUCCESS|UNSTABLE|ABORTED))")
        .expect("static pattern")
});

/// The CI that wrote `head` (the first bytes of a text log). GitLab and Jenkins announce
/// themselves in their first lines; GitHub job logs carry the runner's timestamps;
/// anything else is plain output.
pub fn detect(head: &[u8]) -> Ci {
    let text = String::from_utf8_lossy(head);
    if GITLAB.is_match(&text) {
        Ci::Gitlab
    } else if JENKINS.is_match(&text) {
        Ci::Jenkins
    } else if GITHUB_STAMP.is_match(&text)
        || text.contains("##[group]")
        || text.contains("##[error]")
    {
        Ci::Github
    } else {
        Ci::Plain
    }
}

static LEARNED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:^|\s)(?:Initialized empty|Reinitialized existing) Git repository in (\S+?)/\.git/?\s*$",
        r"|^\[command\]\S*git(?:\.exe)? init (\S+)\s*$",
        r"|^Building (?:remotely on \S+.*? )?in workspace (\S+)\s*$",
        r"|^Running on \S+.*? in (/\S+|[A-Za-z]:\\\S+)\s*$",
        r"|^(?:\$|\+|>) cd (/\S+|[A-Za-z]:\\\S+)\s*$",
    ))
    .expect("static pattern")
});

/// The workspace a cleaned log line names, normalised to `/` and without a trailing slash.
pub fn learn(line: &str) -> Option<String> {
    let c = LEARNED.captures(line.trim_end())?;
    let raw = (1..=5).find_map(|i| c.get(i))?.as_str();
    let p = raw
        .trim_matches(|c| c == '"' || c == '\'')
        .replace('\\', "/");
    let p = p.trim_end_matches('/');
    (p.len() > 1).then(|| p.to_string())
}

/// `p` relative to the longest learned workspace it lies in.
pub fn strip_learned(p: &str, workspaces: &[String]) -> Option<String> {
    workspaces
        .iter()
        .filter_map(|w| p.strip_prefix(w.as_str())?.strip_prefix('/'))
        .min_by_key(|rest| rest.len())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_ci_from_its_first_lines() {
        assert_eq!(
            detect(b"\xef\xbb\xbf2024-05-01T10:00:00.1234567Z ##[group]Run make\n"),
            Ci::Github
        );
        assert_eq!(
            detect(b"Running with gitlab-runner 17.0.0 (44feccdf)\n  on docker-1 abc\n"),
            Ci::Gitlab
        );
        assert_eq!(
            detect(b"\x1b[0Ksection_start:1716544000:prepare_executor\r\x1b[0KPreparing"),
            Ci::Gitlab
        );
        assert_eq!(
            detect(b"Started by user Ada\n[Pipeline] Start of Pipeline\n"),
            Ci::Jenkins
        );
        assert_eq!(
            detect(b"[2024-05-01T10:00:00.123Z] [Pipeline] node\n"),
            Ci::Jenkins
        );
        assert_eq!(
            detect(b"cc -c main.c\nmain.c:3:1: error: expected ';'\n"),
            Ci::Plain
        );
    }

    #[test]
    fn learns_workspaces_from_checkout_and_cd_lines() {
        let cases = [
            (
                "Initialized empty Git repository in /builds/acme/shop/.git/",
                "/builds/acme/shop",
            ),
            (
                "Reinitialized existing Git repository in /builds/x/1/acme/shop/.git/",
                "/builds/x/1/acme/shop",
            ),
            (
                "Building in workspace /var/lib/jenkins/workspace/shop-ci",
                "/var/lib/jenkins/workspace/shop-ci",
            ),
            (
                "Running on agent-7 in /home/jenkins/agent/workspace/shop_main",
                "/home/jenkins/agent/workspace/shop_main",
            ),
            (
                "Building remotely on win-2 (windows) in workspace C:\\Jenkins\\workspace\\shop",
                "C:/Jenkins/workspace/shop",
            ),
            ("$ cd /srv/app", "/srv/app"),
            (
                "[command]/usr/bin/git init /home/runner/work/app/app",
                "/home/runner/work/app/app",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(learn(line).as_deref(), Some(want), "{line}");
        }
        assert_eq!(learn("cd build"), None);
        let ws = vec!["/builds/acme".to_string(), "/builds/acme/shop".to_string()];
        assert_eq!(
            strip_learned("/builds/acme/shop/src/a.py", &ws).as_deref(),
            Some("src/a.py")
        );
        assert_eq!(strip_learned("/usr/lib/x.py", &ws), None);
    }
}
