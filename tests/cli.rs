//! The binary's contract: help, exit codes, JSON-only stdout, errors with hints.

use assert_cmd::Command;
use predicates::prelude::*;

/// The binary with a clean environment; tests run on this machine unless a test asks
/// for Docker (the default would pick Docker whenever an engine answers).
pub fn selfheal() -> Command {
    let mut cmd = Command::cargo_bin("selfheal").unwrap();
    cmd.env_remove("CI")
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .env("SELFHEAL_SANDBOX", "local")
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn help_lists_subcommands_and_exit_codes() {
    selfheal().arg("--help").assert().success().stdout(
        predicate::str::contains("offline").and(predicate::str::contains("needs-approval")),
    );
}

#[test]
fn unknown_flag_is_a_usage_error() {
    selfheal().args(["offline", "--bogus"]).assert().code(2);
}

#[test]
fn missing_log_file_says_what_to_do() {
    selfheal()
        .args(["offline", "/nonexistent/logs.zip", "--no-llm"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("error: cannot read /nonexistent/logs.zip")
                .and(predicate::str::contains("hint:")),
        );
}

#[test]
fn json_errors_go_to_stdout_as_json() {
    let out = selfheal()
        .args(["offline", "/nonexistent/logs.zip", "--no-llm", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON only");
    assert_eq!(v["schema"], 1);
    assert_eq!(v["exit_code"], 1);
}

#[test]
fn unknown_tool_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("job.txt");
    std::fs::write(&log, "x\n").unwrap();
    selfheal()
        .args([
            "offline",
            log.to_str().unwrap(),
            "--no-llm",
            "--tool",
            "no-such-tool",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown tool"));
}

#[test]
fn bad_config_value_is_a_usage_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[validate]\nsandbox = \"vm\"\n").unwrap();
    selfheal()
        .env_remove("SELFHEAL_SANDBOX") // the file's value must be the one read
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "offline",
            "x.zip",
            "--no-llm",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("validate.sandbox"));
}

#[test]
fn unknown_config_key_warns_with_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("self-heal.toml"), "[llm]\nmodle = \"x\"\n").unwrap();
    selfheal()
        .current_dir(dir.path())
        .args(["offline", "missing.zip", "--no-llm"])
        .assert()
        .stderr(
            predicate::str::contains("unknown key `llm.modle`")
                .and(predicate::str::contains("self-heal.toml")),
        );
}
