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
