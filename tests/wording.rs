//! Wording under review: the `--help` of every subcommand and the rendered text of the
//! common errors are insta snapshots (`tests/snapshots/main__wording__*.snap`), so a
//! change of wording shows in the diff. Temporary paths are replaced by `<TMP>`.
//!
//! After an intended change: `INSTA_UPDATE=always cargo test --test main wording`, then
//! review the `.snap` diff.

use std::path::Path;

use clap::CommandFactory;
use selfheal::cli::args::Cli;

use crate::cli::selfheal;

/// stderr (or stdout) of `selfheal ARGS`, with `tmp` written as `<TMP>`, and the exit code.
fn run(args: &[&str], tmp: &Path, stdout: bool) -> String {
    let out = selfheal()
        .env_remove("SELFHEAL_SANDBOX") // config files' values are what some cases show
        .args(args)
        .env("COLUMNS", "100")
        .current_dir(tmp)
        .output()
        .unwrap();
    let text = if stdout { &out.stdout } else { &out.stderr };
    let text = String::from_utf8_lossy(text);
    let tmp = tmp.to_string_lossy();
    format!(
        "$ selfheal {}\nexit code: {}\n{}",
        args.join(" ").replace(tmp.as_ref(), "<TMP>"),
        out.status.code().unwrap_or(-1),
        text.replace(tmp.as_ref(), "<TMP>")
    )
}

#[test]
fn help_of_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_snapshot!("help", run(&["--help"], dir.path(), true));
    for sub in Cli::command().get_subcommands() {
        let name = sub.get_name().to_string();
        if name == "help" {
            continue;
        }
        insta::assert_snapshot!(
            format!("help_{name}"),
            run(&[&name, "--help"], dir.path(), true)
        );
    }
}

#[test]
fn a_log_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(run(
        &["offline", "/nonexistent/logs.zip", "--no-llm"],
        dir.path(),
        false
    ));
}

#[test]
fn a_file_that_is_not_a_log() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("logs.zip");
    std::fs::write(&zip, "<html>Sign in to GitHub</html>").unwrap();
    insta::assert_snapshot!(run(
        &["offline", zip.to_str().unwrap(), "--no-llm"],
        dir.path(),
        false
    ));
}

#[test]
fn an_unknown_tool() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("job.txt");
    std::fs::write(&log, "x\n").unwrap();
    let text = run(
        &[
            "offline",
            log.to_str().unwrap(),
            "--no-llm",
            "--tool",
            "no-such-tool",
        ],
        dir.path(),
        false,
    );
    // The list of known tools grows with every parser; the snapshot keeps the shape.
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("(hint: use one of:") {
                "(hint: use one of: <the known tools>)"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(text);
}

#[test]
fn a_config_file_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(run(
        &["--config", "/nonexistent/self-heal.toml", "history"],
        dir.path(),
        false
    ));
}

#[test]
fn a_config_value_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("self-heal.toml");
    std::fs::write(&cfg, "[validate]\nsandbox = \"vm\"\n").unwrap();
    insta::assert_snapshot!(run(
        &["--config", cfg.to_str().unwrap(), "history"],
        dir.path(),
        false
    ));
}

#[test]
fn a_pending_patch_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    insta::assert_snapshot!(run(
        &[
            "--state-dir",
            state.to_str().unwrap(),
            "approve",
            "show",
            "20260101-000000-nope"
        ],
        dir.path(),
        false
    ));
}

#[test]
fn a_failure_memory_that_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("memory.sqlite"),
        "not a database\n".repeat(100),
    )
    .unwrap();
    insta::assert_snapshot!(run(
        &["--state-dir", dir.path().to_str().unwrap(), "history"],
        dir.path(),
        false
    ));
}

#[test]
fn a_since_that_is_neither_a_date_nor_a_duration() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(run(
        &["run", "--repo", "acme/api", "--since", "yesterday"],
        dir.path(),
        false
    ));
}
