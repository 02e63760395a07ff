//! Tests for the archive reader: every LOGS.md quirk and every bad input, on tiny archives
//! built here with the `zip` writer.

use std::io::{Cursor, Write};

use proptest::prelude::*;
use zip::write::SimpleFileOptions;

use super::*;
use crate::logs::Level;

const TS: &str = "2023-06-29T18:15:54.4601154Z ";

fn log(lines: &[&str]) -> String {
    let mut s = String::from("\u{feff}");
    for l in lines {
        s.push_str(TS);
        s.push_str(l);
        s.push('\n');
    }
    s
}

fn zip_with(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    zip_with(entries, zip::CompressionMethod::Deflated)
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn file_with(name: &str, bytes: &[u8]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    Fixture { _dir: dir, path }
}

fn read_bytes(bytes: &[u8]) -> Result<ReadOutcome, LogError> {
    let f = file_with("logs.zip", bytes);
    read_run(
        &LogSource::from_arg(f.path.to_str().unwrap())?,
        &Limits::default(),
    )
}

fn setup_step() -> String {
    log(&[
        "Current runner version: '2.321.0'",
        "##[group]Operating System",
        "Ubuntu",
        "##[endgroup]",
    ])
}

fn failing_step() -> String {
    log(&[
        "##[group]Run pytest -q",
        "\x1b[36;1mpytest -q\x1b[0m",
        "shell: /usr/bin/bash -e {0}",
        "##[endgroup]",
        "FAILED tests/test_a.py::test_x - assert 1 == 2",
        "##[error]Process completed with exit code 1.",
    ])
}

/// A job's log in the real layout: job file = the step files one after the other.
fn real_layout(job: &str, ordinal: &str) -> Vec<(String, Vec<u8>)> {
    let (s1, s2) = (setup_step(), failing_step());
    vec![
        (
            format!("{ordinal}_{job}.txt"),
            format!("{s1}{s2}").into_bytes(),
        ),
        (format!("{job}/1_Set up job.txt"), s1.into_bytes()),
        (format!("{job}/2_Run pytest -q.txt"), s2.into_bytes()),
        (format!("{job}/system.txt"), b"runner metadata".to_vec()),
    ]
}

fn as_refs(v: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    v.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect()
}

fn all_lines(o: &ReadOutcome) -> Vec<String> {
    o.steps
        .iter()
        .flat_map(|s| s.lines.iter().filter(|l| *l != StepLog::GAP).cloned())
        .collect()
}

#[test]
fn step_files_are_read_and_the_job_file_is_skipped() {
    let entries = real_layout("test (ubuntu-latest, 3.11)", "0");
    let o = read_bytes(&zip_of(&as_refs(&entries))).unwrap();
    let names: Vec<(&str, &str, Option<u32>)> = o
        .steps
        .iter()
        .map(|s| (s.job.as_str(), s.step.as_str(), s.number))
        .collect();
    assert_eq!(
        names,
        vec![
            ("test (ubuntu-latest, 3.11)", "Set up job", Some(1)),
            ("test (ubuntu-latest, 3.11)", "Run pytest -q", Some(2))
        ]
    );
    let failed = &o.steps[1];
    assert!(failed.failed && !o.steps[0].failed);
    assert_eq!(failed.exit_code, Some(1));
    assert_eq!(failed.commands, vec!["pytest -q"]);
    assert_eq!(
        failed.source,
        "test (ubuntu-latest, 3.11)/2_Run pytest -q.txt"
    );
    assert_eq!(failed.lines[0], "##[group]Run pytest -q");
    assert!(
        failed
            .lines
            .contains(&"FAILED tests/test_a.py::test_x - assert 1 == 2".to_string())
    );
    assert_eq!(o.stats.entries, 4);
    assert_eq!(o.stats.entries_read, 2);
    let lines = all_lines(&o);
    let mut unique = lines.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        lines.len(),
        unique.len(),
        "a line was read twice: {lines:?}"
    );
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
}

#[test]
fn missing_step_folder_uses_the_job_file() {
    let body = format!("{}{}", setup_step(), failing_step());
    let o = read_bytes(&zip_of(&[
        ("3_build.txt", body.as_bytes()),
        ("build/system.txt", b"x"),
    ]))
    .unwrap();
    assert_eq!(o.steps.len(), 1);
    assert_eq!(o.steps[0].step, StepLog::UNKNOWN_STEP);
    assert_eq!(o.steps[0].job, "build");
    assert_eq!(o.steps[0].number, None);
    assert!(o.steps[0].failed);
    assert_eq!(o.steps[0].exit_code, Some(1));
}

#[test]
fn legacy_negative_job_files_are_read() {
    let o = read_bytes(&zip_of(&[(
        "-1234567890_deploy.txt",
        failing_step().as_bytes(),
    )]))
    .unwrap();
    assert_eq!(o.steps[0].job, "deploy");
    assert!(o.steps[0].failed);
}

#[test]
fn mac_junk_and_unknown_entries_are_ignored() {
    let mut entries = real_layout("build", "1");
    entries.push((
        "__MACOSX/build/._2_Run pytest -q.txt".into(),
        b"\0\x05\x16\x07junk".to_vec(),
    ));
    entries.push((".DS_Store".into(), b"\0\0\0\x01Bud1".to_vec()));
    entries.push(("build/.DS_Store".into(), b"\0\0".to_vec()));
    entries.push(("notes.md".into(), b"hello".to_vec()));
    let o = read_bytes(&zip_of(&as_refs(&entries))).unwrap();
    assert_eq!(o.steps.len(), 2);
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
}

#[test]
fn truncated_job_names_match_their_folders_and_the_api() {
    let long = format!("integration {} / shard: 1", "x".repeat(120));
    let [removed, _] = names::sanitised_forms(&long);
    assert_eq!(removed.encode_utf16().count(), 90);
    let entries = real_layout(&removed, "0");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("logs.zip"), zip_of(&as_refs(&entries))).unwrap();
    let jobs = serde_json::json!({"total_count": 1, "jobs": [{"id": 42, "name": long, "conclusion": "failure", "steps": [
        {"name": "Set up job", "number": 1, "conclusion": "success"},
        {"name": "Run the tests", "number": 2, "conclusion": "failure"}]}]});
    std::fs::write(dir.path().join("jobs.json"), jobs.to_string()).unwrap();
    let o = read_run(
        &LogSource::Dir(dir.path().to_path_buf()),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(o.steps.len(), 2, "{:?}", o.steps);
    assert_eq!(o.steps[1].job, long);
    assert_eq!(o.steps[1].step, "Run the tests");
    assert!(o.steps[1].failed);
}

#[test]
fn jobs_take_the_real_name_from_the_set_up_step() {
    let setup = log(&[
        "Current runner version: '2.321.0'",
        "Complete job name: build / test (3.11)",
    ]);
    let s2 = failing_step();
    let entries: Vec<(&str, &[u8])> = vec![
        ("build  test (3.11)/1_Set up job.txt", setup.as_bytes()),
        ("build  test (3.11)/2_Run pytest.txt", s2.as_bytes()),
    ];
    let o = read_bytes(&zip_of(&entries)).unwrap();
    assert!(
        o.steps.iter().all(|s| s.job == "build / test (3.11)"),
        "{:?}",
        o.steps
    );
    let o = read_stream(
        Cursor::new(format!("{setup}{s2}").into_bytes()),
        "job.txt",
        &Limits::default(),
    )
    .unwrap();
    assert!(
        o.steps.iter().all(|s| s.job == "build / test (3.11)"),
        "{:?}",
        o.steps
    );
}

#[test]
fn both_sanitisations_of_slash_names_pair_up() {
    for folder in ["build  test", "build _ test"] {
        let entries = real_layout(folder, "2");
        let o = read_bytes(&zip_of(&as_refs(&entries))).unwrap();
        assert_eq!(o.steps.len(), 2, "{folder}");
        assert_eq!(o.stats.entries_read, 2);
    }
}

#[test]
fn duplicate_job_names_do_not_crash_or_repeat() {
    let s2 = failing_step();
    let other = log(&[
        "only in the second job",
        "##[error]Process completed with exit code 3.",
    ]);
    let entries: Vec<(&str, &[u8])> = vec![
        ("1_test.txt", s2.as_bytes()),
        ("2_test.txt", other.as_bytes()),
        ("test/2_Run pytest -q.txt", s2.as_bytes()),
        ("test/2_Run pytest -q.txt", s2.as_bytes()),
    ];
    let o = read_bytes(&zip_of_allow_dups(&entries)).unwrap();
    assert!(
        o.steps
            .iter()
            .any(|s| s.lines.iter().any(|l| l == "only in the second job"))
    );
    assert!(o.steps.iter().all(|s| !s.lines.is_empty()));
}

/// The zip writer refuses duplicate names; build such an archive from two halves.
fn zip_of_allow_dups(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<(&str, &[u8])> = entries
        .iter()
        .filter(|(n, _)| seen.insert(*n))
        .copied()
        .collect();
    zip_of(&unique)
}

#[test]
fn cached_dir_names_steps_and_falls_back_to_job_logs() {
    let dir = tempfile::tempdir().unwrap();
    let entries = real_layout("lint", "0");
    std::fs::write(dir.path().join("logs.zip"), zip_of(&as_refs(&entries))).unwrap();
    std::fs::create_dir(dir.path().join("jobs")).unwrap();
    let missing = format!(
        "{}{}",
        setup_step(),
        log(&[
            "##[group]Run cargo test",
            "error[E0308]: mismatched types",
            "##[error]Process completed with exit code 101."
        ])
    );
    std::fs::write(dir.path().join("jobs/77.txt"), missing).unwrap();
    let jobs = serde_json::json!({"total_count": 3, "jobs": [
        {"id": 76, "name": "lint", "conclusion": "failure", "steps": [{"name": "Set up job", "number": 1, "conclusion": "success"}, {"name": "Run pytest", "number": 2, "conclusion": "failure"}]},
        {"id": 77, "name": "test", "conclusion": "failure", "steps": []},
        {"id": 78, "name": "gone", "conclusion": "failure", "steps": []}]});
    std::fs::write(dir.path().join("jobs.json"), jobs.to_string()).unwrap();
    let source = LogSource::from_arg(dir.path().to_str().unwrap()).unwrap();
    let o = read_run(&source, &Limits::default()).unwrap();
    let names: Vec<(&str, &str)> = o
        .steps
        .iter()
        .map(|s| (s.job.as_str(), s.step.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("lint", "Set up job"),
            ("lint", "Run pytest"),
            ("test", StepLog::UNKNOWN_STEP),
            ("test", "Run cargo test")
        ]
    );
    assert!(o.steps[3].failed);
    assert!(
        o.warnings
            .iter()
            .any(|w| w.contains("gone") && w.contains("gh run view --job 78")),
        "{:?}",
        o.warnings
    );
}

#[test]
fn cached_dir_with_a_bad_zip_uses_the_job_logs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("logs.zip"),
        b"<!DOCTYPE html><html><title>Bad gateway</title></html>",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("jobs")).unwrap();
    std::fs::write(dir.path().join("jobs/123.txt"), failing_step()).unwrap();
    let o = read_run(
        &LogSource::Dir(dir.path().to_path_buf()),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(o.steps.len(), 1);
    assert_eq!(o.steps[0].job, "123");
    assert!(o.steps[0].failed);
    assert!(o.warnings[0].contains("HTML page"), "{:?}", o.warnings);
    std::fs::remove_file(dir.path().join("jobs/123.txt")).unwrap();
    let e = read_run(
        &LogSource::Dir(dir.path().to_path_buf()),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("HTML page"), "{e}");
}

#[test]
fn plain_text_is_sniffed_whatever_the_extension() {
    let body = format!("{}{}", setup_step(), failing_step());
    let f = file_with("logs.zip", body.as_bytes());
    let source = LogSource::from_arg(f.path.to_str().unwrap()).unwrap();
    assert!(matches!(source, LogSource::Text(_)));
    let o = read_run(&source, &Limits::default()).unwrap();
    let names: Vec<&str> = o.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(names, vec![StepLog::UNKNOWN_STEP, "Run pytest -q"]);
    assert!(o.steps[1].failed);
}

#[test]
fn streams_are_sniffed_and_zips_spooled() {
    let entries = real_layout("build", "0");
    let o = read_stream(
        Cursor::new(zip_of(&as_refs(&entries))),
        "standard input",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(o.steps.len(), 2);
    assert!(o.steps[1].failed);
    let o = read_stream(
        Cursor::new(failing_step().into_bytes()),
        "standard input",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(o.steps.last().unwrap().exit_code, Some(1));
    let e = read_stream(
        Cursor::new(Vec::new()),
        "standard input",
        &Limits::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("nothing came in"), "{e}");
}

#[test]
fn gh_run_view_log_output_keeps_its_job_and_step_columns() {
    let text = format!(
        "build\tSet up job\t\u{feff}{TS}Current runner version: '2.321.0'\n\
         build\tRun pytest\t{TS}##[group]Run pytest\n\
         build\tRun pytest\t{TS}##[endgroup]\n\
         build\tRun pytest\t{TS}E   assert 1 == 2\n\
         build\tRun pytest\t{TS}##[error]Process completed with exit code 1.\n"
    );
    let o = read_stream(
        Cursor::new(text.into_bytes()),
        "failed.log",
        &Limits::default(),
    )
    .unwrap();
    let names: Vec<(&str, &str)> = o
        .steps
        .iter()
        .map(|s| (s.job.as_str(), s.step.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![("build", "Set up job"), ("build", "Run pytest")]
    );
    assert_eq!(
        o.steps[1].lines,
        vec![
            "##[group]Run pytest",
            "E   assert 1 == 2",
            "##[error]Process completed with exit code 1."
        ]
    );
    assert!(o.steps[1].failed);
}

#[test]
fn html_and_json_bodies_say_what_they_are() {
    let html =
        b"<!DOCTYPE html><html><head><title>Sign in to GitHub</title></head><body></body></html>";
    let e = read_bytes(html).unwrap_err();
    assert!(
        matches!(&e, LogError::NotALog { what, .. } if what.contains("HTML page") && what.contains("Sign in to GitHub")),
        "{e}"
    );
    let json =
        br#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest/actions"}"#;
    let e = read_bytes(json).unwrap_err();
    assert!(
        e.to_string()
            .contains("JSON error from GitHub, not a log: Not Found"),
        "{e}"
    );
    assert!(!e.hint().is_empty());
}

#[test]
fn empty_inputs_are_clear_errors() {
    let e = read_bytes(b"").unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    let e = read_bytes(&zip_of(&[])).unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    let e = read_bytes(&zip_of(&[("build/system.txt", b"x"), (".DS_Store", b"y")])).unwrap_err();
    assert!(e.to_string().contains("no job logs"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    assert!(
        read_run(
            &LogSource::Dir(dir.path().to_path_buf()),
            &Limits::default()
        )
        .is_err()
    );
    let e = LogSource::from_arg("/definitely/not/here.zip").unwrap_err();
    assert!(matches!(e, LogError::Io { .. }));
}

#[test]
fn cut_archive_keeps_the_entries_before_the_cut() {
    let mut entries = Vec::new();
    for j in 0..4 {
        entries.extend(real_layout(&format!("job{j}"), &j.to_string()));
    }
    let bytes = zip_of(&as_refs(&entries));
    let cut = &bytes[..bytes.len() * 2 / 3];
    let o = read_bytes(cut).unwrap();
    assert!(
        o.warnings
            .iter()
            .any(|w| w.contains("archive is cut after")),
        "{:?}",
        o.warnings
    );
    assert!(!o.steps.is_empty());
    assert!(o.stats.entries < 16);
}

#[test]
fn cut_inside_the_first_entry_still_reads_its_start() {
    let big = log(&(0..2000)
        .map(|i| format!("line {i} of the first step"))
        .collect::<Vec<_>>()
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    let bytes = zip_of(&[("0_build.txt", big.as_bytes())]);
    let o = read_bytes(&bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(o.steps.len(), 1);
    assert!(o.steps[0].total_lines > 10);
    assert!(
        o.warnings.iter().any(|w| w.contains("ends inside")),
        "{:?}",
        o.warnings
    );
    let e = read_bytes(&bytes[..20]).unwrap_err();
    assert!(
        matches!(e, LogError::Corrupt { .. } | LogError::NotALog { .. }),
        "{e}"
    );
}

#[test]
fn streamed_archives_with_data_descriptors_are_walked() {
    let mut w = zip::ZipWriter::new_stream(Vec::new());
    for (name, data) in as_refs(&real_layout("build", "0")) {
        w.start_file(name, SimpleFileOptions::default()).unwrap();
        w.write_all(data).unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    let o = read_bytes(&bytes).unwrap();
    assert_eq!(o.steps.len(), 2, "{:?}", o.warnings);
    // without its central directory: the walker must find every entry's end by inflating
    let cd = find_central_directory(&bytes);
    let o = read_bytes(&bytes[..cd]).unwrap();
    assert_eq!(o.steps.len(), 2, "{:?}", o.warnings);
    assert!(o.steps[1].failed);
}

fn find_central_directory(b: &[u8]) -> usize {
    b.windows(4).position(|w| w == b"PK\x01\x02").unwrap()
}

#[test]
fn corrupt_entry_data_is_a_warning() {
    let entries = real_layout("build", "0");
    let mut bytes = zip_of(&as_refs(&entries));
    let name = b"build/2_Run pytest -q.txt";
    let at = bytes.windows(name.len()).position(|w| w == name).unwrap() + name.len();
    for b in &mut bytes[at + 2..at + 40] {
        *b = 0xff;
    }
    let o = read_bytes(&bytes).unwrap();
    assert!(
        o.warnings.iter().any(|w| w.contains("2_Run pytest")),
        "{:?}",
        o.warnings
    );
    assert!(o.steps.iter().any(|s| s.step == "Set up job"));
}

#[test]
fn zip_slip_names_are_skipped_with_a_warning() {
    let s = failing_step();
    let o = read_bytes(&zip_of(&[
        ("../../etc/1_evil.txt", b"x"),
        ("/abs/1_x.txt", b"x"),
        ("0_build.txt", s.as_bytes()),
    ]))
    .unwrap();
    assert_eq!(o.steps.len(), 1);
    assert_eq!(
        o.warnings.iter().filter(|w| w.contains("unsafe")).count(),
        2,
        "{:?}",
        o.warnings
    );
}

#[test]
fn zip_bombs_are_refused_while_inflating() {
    let zeros = vec![b'a'; 8 << 20];
    let bytes = zip_of(&[("0_build.txt", &zeros)]);
    let f = file_with("bomb.zip", &bytes);
    let limits = Limits {
        max_ratio: 100,
        ..Limits::default()
    };
    let e = read_run(&LogSource::Zip(f.path.clone()), &limits).unwrap_err();
    assert!(
        matches!(&e, LogError::Bomb { what, .. } if what.contains("max_ratio")),
        "{e}"
    );
    let limits = Limits {
        max_inflated_bytes: 1 << 20,
        ..Limits::default()
    };
    let e = read_run(&LogSource::Zip(f.path.clone()), &limits).unwrap_err();
    assert!(
        matches!(&e, LogError::Bomb { what, .. } if what.contains("max_inflated_bytes")),
        "{e}"
    );
    assert!(read_run(&LogSource::Zip(f.path.clone()), &Limits::default()).is_ok());
}

#[test]
fn bombs_without_a_directory_are_refused_too() {
    let mut w = zip::ZipWriter::new_stream(Vec::new());
    w.start_file("0_build.txt", SimpleFileOptions::default())
        .unwrap();
    w.write_all(&vec![b'a'; 8 << 20]).unwrap();
    let bytes = w.finish().unwrap().into_inner();
    let cut = &bytes[..find_central_directory(&bytes)];
    let f = file_with("bomb.zip", cut);
    let limits = Limits {
        max_inflated_bytes: 1 << 20,
        ..Limits::default()
    };
    let e = read_run(&LogSource::Zip(f.path.clone()), &limits).unwrap_err();
    assert!(e.to_string().contains("max_inflated_bytes"), "{e}");
}

#[test]
fn stored_entries_and_non_utf8_bytes() {
    let body = b"\xEF\xBB\xBF2023-06-29T18:15:54.4601154Z caf\xe9 \xff\n2023-06-29T18:15:54.4601154Z ##[error]Process completed with exit code 2.\n";
    let o = read_bytes(&zip_with(
        &[("0_build.txt", body)],
        zip::CompressionMethod::Stored,
    ))
    .unwrap();
    assert_eq!(o.steps[0].lines[0], "caf\u{fffd} \u{fffd}");
    assert_eq!(o.steps[0].exit_code, Some(2));
}

#[test]
fn long_single_line_is_cut_and_memory_stays_small() {
    let mut body = String::from(TS);
    body.push_str(&"y".repeat(6 << 20));
    body.push('\n');
    body.push_str(&log(&["##[error]Process completed with exit code 1."]));
    let o = read_bytes(&zip_of(&[("0_build.txt", body.as_bytes())])).unwrap();
    let s = &o.steps[0];
    assert_eq!(s.total_lines, 2);
    assert!(s.lines[0].len() <= Limits::default().max_line_bytes);
    assert_eq!(s.total_bytes, body.len() as u64);
}

#[test]
fn annotations_are_collected_with_locations() {
    let body = log(&[
        "##[error]src/a.py#L3",
        "##[warning]src/b.ts:4:2: unused",
        "##[error]Process completed with exit code 1.",
    ]);
    let o = read_bytes(&zip_of(&[("0_build.txt", body.as_bytes())])).unwrap();
    let a = &o.steps[0].annotations;
    assert_eq!(a.len(), 3);
    assert_eq!(
        (a[0].file.as_deref(), a[0].line),
        (Some("src/a.py"), Some(3))
    );
    assert_eq!(a[1].level, Level::Warning);
}

#[test]
fn raw_workflow_commands_become_annotations() {
    let body = log(&[
        "::warning file=src/a.py,line=2,col=1::unused import",
        "##[error]Process completed with exit code 1.",
    ]);
    let o = read_bytes(&zip_of(&[("0_build.txt", body.as_bytes())])).unwrap();
    let a = &o.steps[0].annotations[0];
    assert_eq!(
        (a.level, a.file.as_deref(), a.line, a.message.as_str()),
        (Level::Warning, Some("src/a.py"), Some(2), "unused import")
    );
}

#[test]
fn secrets_in_kept_lines_are_masked_and_counted() {
    let body = log(&[
        "export TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "##[error]Process completed with exit code 1.",
    ]);
    let o = read_bytes(&zip_of(&[("0_build.txt", body.as_bytes())])).unwrap();
    assert_eq!(o.steps[0].lines[0], "export TOKEN=***");
    assert_eq!(o.steps[0].masked, 1);
}

#[test]
fn many_jobs_read_in_parallel_keep_their_order() {
    let mut entries = Vec::new();
    for j in 0..12 {
        entries.extend(real_layout(&format!("job {j:02}"), &j.to_string()));
    }
    let o = read_bytes(&zip_of(&as_refs(&entries))).unwrap();
    let jobs: Vec<&str> = o.steps.iter().map(|s| s.job.as_str()).step_by(2).collect();
    let expected: Vec<String> = (0..12).map(|j| format!("job {j:02}")).collect();
    assert_eq!(jobs, expected);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = read_bytes(&bytes);
        let mut zipped = b"PK\x03\x04".to_vec();
        zipped.extend_from_slice(&bytes);
        let _ = read_bytes(&zipped);
    }

    #[test]
    fn damaged_archives_never_panic(cut in 0usize..2000, flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..6)) {
        let entries = real_layout("build", "0");
        let mut bytes = zip_of(&as_refs(&entries));
        for (at, v) in flips {
            let n = bytes.len();
            bytes[at % n] = v;
        }
        let n = bytes.len();
        let _ = read_bytes(&bytes[..cut.min(n)]);
        let _ = read_bytes(&bytes);
    }

    #[test]
    fn any_layout_reads_each_line_once(
        jobs in proptest::collection::vec(("[a-c]{1,2}", any::<bool>(), any::<bool>()), 1..5),
    ) {
        let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut n = 0;
        for (j, (name, with_folder, with_file)) in jobs.iter().enumerate() {
            let step = |k: usize| log(&[&format!("uniq-{j}-{k}-a"), &format!("uniq-{j}-{k}-b")]);
            let (a, b) = (step(1), step(2));
            if *with_file || !*with_folder {
                let file = format!("{j}_{name}.txt");
                entries.push((file, format!("{a}{b}").into_bytes()));
            }
            if *with_folder && seen.insert(name.clone()) {
                entries.push((format!("{name}/1_One.txt"), a.into_bytes()));
                entries.push((format!("{name}/2_Two.txt"), b.into_bytes()));
            }
            n += 1;
        }
        prop_assume!(n > 0);
        let o = read_bytes(&zip_of(&as_refs(&entries))).unwrap();
        let lines = all_lines(&o);
        let mut unique = lines.clone();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(lines.len(), unique.len());
    }
}
