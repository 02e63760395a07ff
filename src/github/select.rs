//! Which failed runs `selfheal run` should look at: not selfheal's own workflow, not a
//! selfheal branch (a fix that failed must not spawn a fix of the fix), not a run still
//! in progress.

use super::types::Run;

/// Why a run is left alone, or `None` if it is a candidate.
pub fn exclusion(
    run: &Run,
    excluded_workflows: &[String],
    excluded_branch_prefixes: &[String],
) -> Option<String> {
    if run.status.as_deref().is_some_and(|s| s != "completed") {
        return Some("still in progress; logs will be available when it is complete".into());
    }
    let file = run.workflow_file();
    let name = run.name.as_deref().unwrap_or("");
    if let Some(w) = excluded_workflows
        .iter()
        .find(|w| w.as_str() == file || w.as_str() == name || run.path.ends_with(w.as_str()))
    {
        return Some(format!(
            "workflow {w:?} is excluded ([github] excluded_workflows)"
        ));
    }
    let branch = run.head_branch.as_deref().unwrap_or("");
    if let Some(p) = excluded_branch_prefixes
        .iter()
        .find(|p| !p.is_empty() && branch.starts_with(p.as_str()))
    {
        return Some(format!(
            "branch {branch:?} starts with {p:?} ([github] excluded_branch_prefixes)"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(path: &str, name: &str, branch: &str, status: &str) -> Run {
        serde_json::from_value(serde_json::json!({
            "id": 1, "name": name, "head_branch": branch, "head_sha": "a", "event": "push",
            "status": status, "conclusion": "failure", "path": path
        }))
        .unwrap()
    }

    #[test]
    fn excludes_own_workflow_branches_and_running() {
        let wf = vec!["self-heal.yml".to_string(), "selfheal".to_string()];
        let br = vec!["selfheal/".to_string()];
        assert_eq!(
            exclusion(
                &run(".github/workflows/ci.yml", "CI", "main", "completed"),
                &wf,
                &br
            ),
            None
        );
        let by_file = exclusion(
            &run(
                ".github/workflows/self-heal.yml@main",
                "Heal",
                "main",
                "completed",
            ),
            &wf,
            &br,
        );
        assert!(by_file.unwrap().contains("self-heal.yml"));
        assert!(
            exclusion(
                &run(".github/workflows/x.yml", "selfheal", "main", "completed"),
                &wf,
                &br
            )
            .is_some()
        );
        let branch = exclusion(
            &run(
                ".github/workflows/ci.yml",
                "CI",
                "selfheal/run-1-1",
                "completed",
            ),
            &wf,
            &br,
        );
        assert!(branch.unwrap().contains("excluded_branch_prefixes"));
        let running = exclusion(
            &run(".github/workflows/ci.yml", "CI", "main", "in_progress"),
            &wf,
            &br,
        );
        assert!(running.unwrap().contains("in progress"));
    }
}
