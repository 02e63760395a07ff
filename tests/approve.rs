//! `selfheal approve`: a patch deferred by a run without a terminal is listed, shown,
//! re-validated and applied, or rejected with a reason; the lock holds.

use crate::cli::selfheal;
use crate::heal::{broken, fix_reply, offline, runtime, snapshot};
use selfheal::llm::fake::{FakeLlm, Scripted};

fn approve(state_repo: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut cmd = selfheal();
    cmd.current_dir(state_repo).arg("approve").args(args);
    cmd.output().unwrap()
}

/// A broken rs-stack with its validated fix waiting in the queue; returns its id.
fn deferred() -> (crate::heal::Broken, String) {
    let rt = runtime();
    let llm = rt.block_on(FakeLlm::start());
    let b = broken("rs-stack");
    llm.push(Scripted::ok(&fix_reply(&b)));
    let out = offline(&b, &llm, &[]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = approve(b.dir.path(), &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let id = v["pending"][0]["id"].as_str().unwrap().to_string();
    (b, id)
}

#[test]
fn a_deferred_patch_is_listed_shown_and_applied() {
    let (b, id) = deferred();
    let list = approve(b.dir.path(), &[]);
    assert!(String::from_utf8_lossy(&list.stdout).contains(&id));
    let show = approve(b.dir.path(), &["show", &id]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        text.contains("--- a/src/stack.rs") && text.contains("validation:"),
        "{text}"
    );
    let out = approve(b.dir.path(), &[&id, "--yes"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        approve(b.dir.path(), &[]).status.code(),
        Some(3),
        "queue is empty afterwards"
    );
}

#[test]
fn a_rejected_patch_leaves_the_tree_and_keeps_the_reason() {
    let (b, id) = deferred();
    let before = snapshot(b.dir.path());
    let out = approve(b.dir.path(), &["--reject", &id, "--reason", "wrong layer"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(snapshot(b.dir.path()) == before);
    let history =
        std::fs::read_to_string(b.dir.path().join(".selfheal/pending/history.jsonl")).unwrap();
    assert!(
        history.contains("wrong layer") && history.contains("rejected"),
        "{history}"
    );
}

#[test]
fn a_patch_whose_files_moved_is_not_applied() {
    let (b, id) = deferred();
    let file = b.dir.path().join("src/stack.rs");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("\n// edited by hand\n");
    std::fs::write(&file, &text).unwrap();
    let out = approve(b.dir.path(), &[&id, "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("changed since the patch was made"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn a_locked_patch_is_not_applied_twice() {
    let (b, id) = deferred();
    let state = b.dir.path().join(".selfheal");
    let _held = selfheal::approval::lock_pending(&state, &id).unwrap();
    let out = approve(b.dir.path(), &[&id, "--yes"]);
    assert_ne!(
        out.status.code(),
        Some(0),
        "a second approver must not apply while the lock is held"
    );
}
