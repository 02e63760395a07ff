//! README.md stays true: its test command is the one CI runs, and every `selfheal`
//! command in it that needs no network works as written.

use std::path::Path;

use crate::cli::selfheal;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// Lines of ```sh blocks, without trailing comments.
fn shell_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("```") {
            inside = line == "```sh";
            continue;
        }
        if inside {
            out.push(line.split(" # ").next().unwrap_or(line).trim().to_string());
        }
    }
    out
}

#[test]
fn the_test_command_is_the_one_ci_runs() {
    let ci =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")).unwrap();
    assert!(
        shell_lines(&readme())
            .iter()
            .any(|l| l == "cargo test --locked")
    );
    assert!(ci.contains("cargo test --locked"));
}

#[test]
fn offline_triage_commands_work_as_written() {
    let commands: Vec<String> = shell_lines(&readme())
        .into_iter()
        .filter(|l| l.starts_with("selfheal offline") && l.contains("--no-llm"))
        .collect();
    assert!(
        !commands.is_empty(),
        "the README shows no offline triage command"
    );
    for line in commands {
        let args: Vec<&str> = line.split_whitespace().skip(1).collect();
        let out = selfheal()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "`{line}` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("error["),
            "`{line}` found nothing"
        );
    }
}

#[test]
fn exit_code_table_matches_the_binary() {
    let text = readme();
    for (code, name, _) in selfheal::error::exit::TABLE {
        assert!(
            text.contains(&format!("| {code} | {name} |")),
            "README lacks exit code {code} {name}"
        );
    }
}

#[test]
fn every_file_the_readme_names_is_in_this_repository() {
    let text = readme();
    assert!(
        !text.contains("../"),
        "the README points outside the repository"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = regex::Regex::new(r"`([A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+/?)`").unwrap();
    let mut checked = 0;
    for c in path.captures_iter(&text) {
        let p = &c[1];
        // State-dir paths are made at run time; URLs and `owner/name` are not files.
        let first = p.split('/').next().unwrap();
        if first == ".selfheal" || p.contains("://") || !(p.contains('.') || p.ends_with('/')) {
            continue;
        }
        // A path inside a sample project (`calc/stats.py`) counts too.
        let in_a_sample = crate::heal::sample_names()
            .iter()
            .any(|s| root.join("sample_projects").join(s).join(p).exists());
        assert!(
            root.join(p).exists() || in_a_sample,
            "README names `{p}`, which is not in the repository"
        );
        checked += 1;
    }
    assert!(checked > 10, "only {checked} paths checked");
}
