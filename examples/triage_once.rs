//! Reads one log source (ZIP, job log, cached-run directory or `-`) and triages it once;
//! the benchmark drives this when the `selfheal offline` command is not available.
//!
//! `cargo run --release --example triage_once -- PATH [--read-only]` prints a JSON summary:
//! steps, failures, stats, warnings.

use selfheal::error::Hint;
use selfheal::logs::archive::{self, Limits, LogSource};
use selfheal::logs::triage::{TriageOptions, triage};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args
        .iter()
        .find(|a| !a.starts_with("--") || a.as_str() == "-")
    else {
        eprintln!("usage: triage_once PATH [--read-only]");
        std::process::exit(2);
    };
    let source = match LogSource::from_arg(path) {
        Ok(s) => s,
        Err(e) => fail(&e),
    };
    if args.iter().any(|a| a == "--read-only") {
        match archive::read_run(&source, &Limits::default()) {
            Ok(o) => {
                let steps: Vec<_> = o
                    .steps
                    .iter()
                    .map(|s| {
                        serde_json::json!({"job": s.job, "step": s.step, "number": s.number, "failed": s.failed,
                        "exit_code": s.exit_code, "kept": s.lines.len(), "total_lines": s.total_lines,
                        "annotations": s.annotations.len(), "commands": s.commands, "last": s.lines.last()})
                    })
                    .collect();
                let out =
                    serde_json::json!({"steps": steps, "stats": o.stats, "warnings": o.warnings});
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            }
            Err(e) => fail(&e),
        }
        return;
    }
    match triage(&source, &TriageOptions::default()) {
        Ok(t) => {
            let failures: Vec<_> = t
                .failures
                .iter()
                .map(|f| serde_json::json!({"tool": f.tool, "kind": f.kind, "file": f.file, "line": f.line, "message": f.message, "job": f.job, "step": f.step}))
                .collect();
            let tails: Vec<_> = t
                .steps
                .iter()
                .filter(|s| s.failed)
                .map(|s| serde_json::json!({"job": s.job, "step": s.step, "tail": s.lines[s.lines.len().saturating_sub(3)..]}))
                .collect();
            let out = serde_json::json!({"failures": failures, "failed_steps": tails, "stats": t.stats, "warnings": t.warnings});
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &archive::LogError) -> ! {
    eprintln!("error: {e}\n(hint: {})", e.hint());
    std::process::exit(1);
}
