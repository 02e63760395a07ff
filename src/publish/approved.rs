//! A fix of a failed run that waits for a person: what `selfheal run` would have
//! published, kept beside the pending patch (`origin.json` in its queue entry), so that
//! `selfheal approve ID` (or the web page) later publishes exactly what `run --yes` would
//! have: the same branch, commit message, DCO trailer, PR title and body, and the same
//! restraint rules ([`super::Publisher::publish`]).

use serde::{Deserialize, Serialize};

use super::{FileChange, Fix, FixReport};

/// The format of `origin.json`; bump when a field changes meaning.
pub const RUN_FIX_VERSION: u32 = 1;

/// Everything about the run that publishing a later-approved patch needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFix {
    pub version: u32,
    /// `owner/name`.
    pub repo: String,
    /// The API the run came from (GitHub, or a GHES `https://HOST/api/v3`).
    pub api_url: String,
    pub run_id: u64,
    pub attempt: u32,
    /// The run's branch: the PR's base.
    pub base_branch: String,
    /// The run's `head_sha`: the fix's parent commit.
    pub base_sha: String,
    pub signature: String,
    pub report: FixReport,
    /// `run --draft`.
    pub draft: bool,
    /// `run --force`: publish even over a closed-unmerged PR for the same failure.
    pub force: bool,
}

impl RunFix {
    /// The fix to publish: `changes` are the patch's files as they are after it.
    pub fn fix(&self, changes: Vec<FileChange>) -> Fix {
        Fix {
            run_id: self.run_id,
            attempt: self.attempt,
            base_branch: self.base_branch.clone(),
            base_sha: self.base_sha.clone(),
            signature: self.signature.clone(),
            changes,
            report: self.report.clone(),
            force: self.force,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("RunFix serializes")
    }

    /// Reads `origin.json`; a newer or unreadable one says so.
    pub fn from_json(value: &serde_json::Value) -> Result<RunFix, String> {
        let version = value.get("version").and_then(serde_json::Value::as_u64);
        if version != Some(u64::from(RUN_FIX_VERSION)) {
            return Err(format!(
                "the pending patch's run record has format {version:?}, this selfheal reads {RUN_FIX_VERSION}"
            ));
        }
        serde_json::from_value(value.clone()).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_fix() -> RunFix {
        RunFix {
            version: RUN_FIX_VERSION,
            repo: "acme/api".into(),
            api_url: "https://api.github.com".into(),
            run_id: 7,
            attempt: 2,
            base_branch: "main".into(),
            base_sha: "a".repeat(40),
            signature: "pytest/test_failure/0123456789abcdef".into(),
            report: FixReport {
                title: "fix it".into(),
                ..FixReport::default()
            },
            draft: false,
            force: false,
        }
    }

    #[test]
    fn round_trips_and_refuses_other_versions() {
        let r = run_fix();
        assert_eq!(RunFix::from_json(&r.to_json()).unwrap(), r);
        let mut newer = r.to_json();
        newer["version"] = 2.into();
        assert!(RunFix::from_json(&newer).unwrap_err().contains("format"));
    }

    #[test]
    fn the_fix_carries_the_patched_files() {
        let changes = vec![
            FileChange {
                path: "a.py".into(),
                contents: Some(b"y\n".to_vec()),
            },
            FileChange {
                path: "gone.py".into(),
                contents: None,
            },
        ];
        let fix = run_fix().fix(changes);
        assert_eq!((fix.run_id, fix.attempt), (7, 2));
        assert_eq!(fix.changes[0].contents.as_deref(), Some(&b"y\n"[..]));
        assert_eq!(fix.changes[1].contents, None);
        assert_eq!(fix.report.title, "fix it");
    }
}
