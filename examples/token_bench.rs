//! Prompt-token benchmark (not a test): for every sample project, the tokens of the
//! first prompt selfheal sends against a naive prompt that sends the whole log and the
//! whole reported files (what simple tools do), plus the context-building time.
//!
//!   cargo run --release --example token_bench [-- sample_projects]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use selfheal::config::Config;
use selfheal::context::naive_prompt_tokens;
use selfheal::llm::tokens;
use selfheal::logs::archive::LogSource;
use selfheal::logs::triage::{TriageOptions, triage};
use selfheal::pipeline::repair::first_request;

fn main() {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("sample_projects"));
    let config = Config::defaults();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("failure.zip").is_file())
        .collect();
    dirs.sort();
    println!(
        "{:<14} {:>8} {:>8} {:>7} {:>9}",
        "project", "selfheal", "naive", "ratio", "build ms"
    );
    let (mut ours_sum, mut naive_sum) = (0usize, 0usize);
    for dir in dirs {
        let (ours, naive, ms) = measure(&config, &dir);
        ours_sum += ours;
        naive_sum += naive;
        let name = dir.file_name().unwrap().to_string_lossy();
        println!(
            "{name:<14} {ours:>8} {naive:>8} {:>6.0}% {ms:>9.1}",
            100.0 * ours as f64 / naive.max(1) as f64
        );
    }
    println!(
        "{:<14} {ours_sum:>8} {naive_sum:>8} {:>6.0}%",
        "total",
        100.0 * ours_sum as f64 / naive_sum.max(1) as f64
    );
}

/// (our prompt tokens, naive prompt tokens, context build ms) for one broken project.
fn measure(config: &Config, project: &Path) -> (usize, usize, f64) {
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join("p");
    assert!(
        Command::new("cp")
            .arg("-a")
            .arg(project)
            .arg(&copy)
            .status()
            .unwrap()
            .success()
    );
    assert!(
        Command::new("bash")
            .arg(copy.join("break.sh"))
            .status()
            .unwrap()
            .success()
    );
    let zip = LogSource::Zip(project.join("failure.zip"));
    let opts = TriageOptions {
        repo_dir: Some(copy.clone()),
        ..TriageOptions::default()
    };
    let t = triage(&zip, &opts).unwrap();
    let targets: Vec<_> = t
        .failures
        .iter()
        .filter(|f| f.needs_code_change)
        .cloned()
        .collect();
    let started = Instant::now();
    let (req, _) = first_request(config, &targets, &copy).unwrap();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let ours = tokens::chat_prompt(&req.system, &req.user);
    let log = whole_job_logs(&project.join("failure.zip"));
    (ours, naive_prompt_tokens(&log, &targets, &copy), ms)
}

/// The whole log as GitHub serves it: every top-level job file of the archive, in full.
fn whole_job_logs(zip: &Path) -> String {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut text = String::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        if !entry.name().unwrap().contains('/') {
            entry.read_to_string(&mut text).unwrap();
        }
    }
    text
}
