//! Prompt-token benchmark (not a test): for every sample project, the tokens of the
//! first prompt selfheal sends against a naive prompt that sends the whole log and the
//! whole reported files (what simple tools do), plus the context-building time. With a
//! `green.zip` beside `failure.zip`, also the failed steps' log tokens and the prompt
//! tokens after subtracting the green run (log differencing), and whether the root
//! cause stayed the same.
//!
//!   cargo run --release --example token_bench [-- sample_projects]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use selfheal::config::Config;
use selfheal::context::naive_prompt_tokens;
use selfheal::llm::tokens;
use selfheal::logs::Failure;
use selfheal::logs::archive::LogSource;
use selfheal::logs::triage::{Triage, TriageOptions, triage};
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
        "{:<14} {:>8} {:>8} {:>7} {:>9} | {:>8} {:>8} {:>8} {:>5}",
        "project",
        "selfheal",
        "naive",
        "ratio",
        "build ms",
        "step tok",
        "- green",
        "prompt",
        "same"
    );
    let mut sum = [0usize; 5];
    let mut same_all = true;
    for dir in dirs {
        let m = measure(&config, &dir);
        for (s, v) in sum
            .iter_mut()
            .zip([m.ours, m.naive, m.step, m.step_green, m.ours_green])
        {
            *s += v;
        }
        same_all &= m.same_cause;
        let name = dir.file_name().unwrap().to_string_lossy();
        println!(
            "{name:<14} {:>8} {:>8} {:>6.0}% {:>9.1} | {:>8} {:>8} {:>8} {:>5}",
            m.ours,
            m.naive,
            pct(m.ours, m.naive),
            m.ms,
            m.step,
            m.step_green,
            m.ours_green,
            m.same_cause
        );
    }
    println!(
        "{:<14} {:>8} {:>8} {:>6.0}% {:>9} | {:>8} {:>8} {:>8} {:>5}",
        "total",
        sum[0],
        sum[1],
        pct(sum[0], sum[1]),
        "",
        sum[2],
        sum[3],
        sum[4],
        same_all
    );
    println!(
        "green-run differencing: failed-step log tokens {} -> {} ({:.0}% fewer), first prompt {} -> {} ({:.0}% fewer)",
        sum[2],
        sum[3],
        100.0 - pct(sum[3], sum[2]),
        sum[0],
        sum[4],
        100.0 - pct(sum[4], sum[0])
    );
}

fn pct(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

/// One project's figures.
struct Measured {
    ours: usize,
    naive: usize,
    ms: f64,
    /// Tokens of the failed steps' kept lines, whole and with the green run subtracted.
    step: usize,
    step_green: usize,
    /// The first prompt with the green run subtracted.
    ours_green: usize,
    /// The first failure's tool, kind, file, line and signature are the same either way.
    same_cause: bool,
}

fn measure(config: &Config, project: &Path) -> Measured {
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
    let targets = code_failures(&t);
    let started = Instant::now();
    let (req, _) = first_request(config, &targets, &copy).unwrap();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let ours = tokens::chat_prompt(&req.system, &req.user);
    let log = whole_job_logs(&project.join("failure.zip"));
    let green = project.join("green.zip");
    let g = if green.is_file() {
        let opts = TriageOptions {
            baseline: Some(LogSource::Zip(green)),
            ..opts
        };
        triage(&zip, &opts).unwrap()
    } else {
        t.clone()
    };
    let green_targets = code_failures(&g);
    let (req_green, _) = first_request(config, &green_targets, &copy).unwrap();
    let cause = |fs: &[Failure]| {
        fs.first().map(|f| {
            (
                f.tool.clone(),
                f.kind,
                f.file.clone(),
                f.line,
                f.signature.clone(),
            )
        })
    };
    Measured {
        ours,
        naive: naive_prompt_tokens(&log, &targets, &copy),
        ms,
        step: step_tokens(&t),
        step_green: step_tokens(&g),
        ours_green: tokens::chat_prompt(&req_green.system, &req_green.user),
        same_cause: cause(&targets) == cause(&green_targets),
    }
}

fn code_failures(t: &Triage) -> Vec<Failure> {
    t.failures
        .iter()
        .filter(|f| f.needs_code_change)
        .cloned()
        .collect()
}

/// Tokens of the lines triage kept from the steps it parsed.
fn step_tokens(t: &Triage) -> usize {
    let text: Vec<&str> = t
        .steps
        .iter()
        .flat_map(|s| s.lines.iter().map(String::as_str))
        .collect();
    tokens::count(&text.join("\n"))
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
