//! The `container:` image a workflow job runs in, read from the workflow file, so the
//! sandbox validates in the same image as the failed job.
//!
//! GitHub Actions accepts `container: image:tag` and `container: { image: image:tag, … }`
//! (docs: "Running jobs in a container"). The job is matched by its id or its `name:`, and a
//! matrix leg's log name (`test (3.12, ubuntu)`) by the part before the parenthesis. A value
//! with an expression (`${{ … }}`) cannot be resolved here and is ignored. This is a
//! line-based reader of the two shapes above, not a YAML parser: anything else yields `None`.

/// The image of the first of `jobs` that sets one in the workflow at `workflow_path`
/// (relative to `repo`; a trailing `@ref`, as run objects carry it, is ignored).
pub fn for_jobs(repo: &std::path::Path, workflow_path: &str, jobs: &[&str]) -> Option<String> {
    let rel = workflow_path.split('@').next().unwrap_or_default();
    if rel.is_empty() || rel.starts_with('/') || rel.contains("..") {
        return None;
    }
    let text = std::fs::read_to_string(repo.join(rel)).ok()?;
    jobs.iter().find_map(|job| container_image(&text, job))
}

/// The image of the job named `job_name` in `workflow` (YAML text), if it sets one.
pub fn container_image(workflow: &str, job_name: &str) -> Option<String> {
    let lines: Vec<&str> = workflow.lines().collect();
    let jobs_at = lines.iter().position(|l| l.trim_end() == "jobs:")?;
    let body = &lines[jobs_at + 1..];
    let job_indent = body
        .iter()
        .find(|l| is_content(l))
        .map(|l| indent(l))
        .filter(|&i| i > 0)?;
    let mut start = None;
    for (i, line) in body.iter().enumerate() {
        if !is_content(line) {
            continue;
        }
        if indent(line) < job_indent {
            break;
        }
        if indent(line) == job_indent {
            if let Some(image) = start
                .take()
                .and_then(|s| job_image(body[s..i].iter().copied(), job_name))
            {
                return Some(image);
            }
            start = Some(i);
        }
    }
    let s = start?;
    let end = body[s + 1..]
        .iter()
        .position(|l| is_content(l) && indent(l) < job_indent)
        .map_or(body.len(), |p| s + 1 + p);
    job_image(body[s..end].iter().copied(), job_name)
}

/// The image of one job block (its first line is `id:`) when the job is `job_name`.
fn job_image<'a>(mut block: impl Iterator<Item = &'a str>, job_name: &str) -> Option<String> {
    let header = block.next()?;
    let id = header.trim().strip_suffix(':')?.trim();
    let lines: Vec<&str> = block.filter(|l| is_content(l)).collect();
    let key_indent = lines.first().map(|l| indent(l))?;
    let name = lines
        .iter()
        .filter(|l| indent(l) == key_indent)
        .find_map(|l| value_of(l, "name"));
    if !matches_job(job_name, id) && !name.as_deref().is_some_and(|n| matches_job(job_name, n)) {
        return None;
    }
    let at = lines
        .iter()
        .position(|l| indent(l) == key_indent && key_of(l) == Some("container"))?;
    let inline = value_of(lines[at], "container").filter(|v| !v.is_empty());
    let image = match inline {
        Some(v) if v.starts_with('{') => flow_image(&v)?,
        Some(v) => v,
        None => lines[at + 1..]
            .iter()
            .take_while(|l| indent(l) > key_indent)
            .find_map(|l| value_of(l, "image"))?,
    };
    (!image.is_empty() && !image.contains("${{")).then_some(image)
}

/// True when the log's job name is `declared`, or a matrix leg of it.
fn matches_job(log_name: &str, declared: &str) -> bool {
    let declared = unquote(declared);
    log_name == declared
        || log_name
            .strip_prefix(declared.as_str())
            .is_some_and(|rest| rest.starts_with(" ("))
}

/// `image` from a flow mapping such as `{ image: "node:20", options: --cpus 1 }`.
fn flow_image(value: &str) -> Option<String> {
    value
        .trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .find_map(|part| value_of(part, "image"))
}

/// The value of `key: value` on `line`, unquoted, without a trailing comment.
fn value_of(line: &str, key: &str) -> Option<String> {
    let rest = line.trim().strip_prefix(key)?.strip_prefix(':')?;
    let rest = match rest.find(" #") {
        Some(i) => &rest[..i],
        None => rest,
    };
    Some(unquote(rest.trim()))
}

fn key_of(line: &str) -> Option<&str> {
    line.trim().split_once(':').map(|(k, _)| k.trim())
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches(|c| c == '"' || c == '\'').to_string()
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Not blank and not a comment.
fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORKFLOW: &str = r#"name: CI
on: [push]
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: ruff check .
  test:
    name: Tests
    runs-on: ubuntu-latest
    # the job's own image
    container:
      image: "python:3.11-slim"  # pinned
      options: --cpus 1
    strategy:
      matrix:
        py: ["3.11"]
    steps:
      - uses: actions/checkout@v4
  build:
    runs-on: ubuntu-latest
    container: node:20-bookworm
    steps:
      - run: npm test
  dyn:
    container: ${{ matrix.image }}
  flow:
    container: { image: 'golang:1.22', options: --init }
"#;

    #[test]
    fn reads_block_inline_and_flow_forms() {
        assert_eq!(
            container_image(WORKFLOW, "Tests"),
            Some("python:3.11-slim".into())
        );
        assert_eq!(
            container_image(WORKFLOW, "Tests (3.11)"),
            Some("python:3.11-slim".into())
        );
        assert_eq!(
            container_image(WORKFLOW, "test"),
            Some("python:3.11-slim".into())
        );
        assert_eq!(
            container_image(WORKFLOW, "build"),
            Some("node:20-bookworm".into())
        );
        assert_eq!(
            container_image(WORKFLOW, "flow"),
            Some("golang:1.22".into())
        );
    }

    #[test]
    fn reads_the_workflow_of_a_run_from_the_checkout() {
        let repo = tempfile::tempdir().unwrap();
        let dir = repo.path().join(".github/workflows");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ci.yml"), WORKFLOW).unwrap();
        let path = ".github/workflows/ci.yml@refs/heads/main";
        assert_eq!(
            for_jobs(repo.path(), path, &["lint", "build"]),
            Some("node:20-bookworm".into())
        );
        assert_eq!(for_jobs(repo.path(), path, &["lint"]), None);
        assert_eq!(for_jobs(repo.path(), "../etc/x.yml", &["build"]), None);
        assert_eq!(
            for_jobs(repo.path(), ".github/workflows/none.yml", &["build"]),
            None
        );
    }

    #[test]
    fn no_image_for_jobs_without_one_or_with_expressions() {
        assert_eq!(container_image(WORKFLOW, "lint"), None);
        assert_eq!(container_image(WORKFLOW, "dyn"), None);
        assert_eq!(container_image(WORKFLOW, "missing"), None);
        assert_eq!(container_image(WORKFLOW, "Testsuite"), None);
        assert_eq!(container_image("name: x\n", "test"), None);
    }
}
