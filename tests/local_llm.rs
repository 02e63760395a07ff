//! Opt-in: the repair loop on every sample project against a REAL small model served by
//! shared/tools/local-llm.sh (`SELFHEAL_LOCAL_LLM=1`, with OPENAI_BASE_URL and
//! SELFHEAL_MODEL from `local-llm.sh env`). Prints heal rate, tokens and time. Each run
//! must end healed (and the tests then pass) or not healed with the tree byte-identical.
//!
//!   eval "$(../shared/tools/local-llm.sh env)"
//!   SELFHEAL_LOCAL_LLM=1 cargo test --test main local_llm -- --nocapture

use std::time::Instant;

use crate::cli::selfheal;
use crate::heal::{broken, run_tests, snapshot};

#[test]
fn heals_sample_projects_with_a_real_small_model() {
    if std::env::var_os("SELFHEAL_LOCAL_LLM").is_none() {
        eprintln!("skipping: set SELFHEAL_LOCAL_LLM=1 and the local-llm.sh env to run it");
        return;
    }
    let base = std::env::var("OPENAI_BASE_URL").expect("OPENAI_BASE_URL from `local-llm.sh env`");
    let only = std::env::var("SELFHEAL_LOCAL_LLM_ONLY").unwrap_or_default();
    let mut names = crate::heal::sample_names();
    names.retain(|n| only.is_empty() || only.split(',').any(|o| o == n));
    let (mut healed, mut tokens, started) = (0, 0u64, Instant::now());
    println!(
        "{:<14} {:>9} {:>8} {:>8} {:>7}",
        "project", "verdict", "attempts", "tokens", "seconds"
    );
    for name in &names {
        let b = broken(name);
        let before = snapshot(b.dir.path());
        let t0 = Instant::now();
        let out = selfheal()
            .env("OPENAI_BASE_URL", &base)
            .env("SELFHEAL_LLM_TIMEOUT_SECS", "300")
            .env("SELFHEAL_LLM_MAX_TOKENS", "512")
            .args([
                "--json",
                "offline",
                b.zip.to_str().unwrap(),
                "--repo-dir",
                b.dir.path().to_str().unwrap(),
                "--sandbox",
                "local",
                "--yes",
                "--max-attempts",
                "2",
            ])
            .output()
            .unwrap();
        let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let verdict = record["verdict"].as_str().unwrap_or("error").to_string();
        let used = record["prompt_tokens"].as_u64().unwrap_or(0)
            + record["completion_tokens"].as_u64().unwrap_or(0);
        tokens += used;
        match out.status.code() {
            Some(0) => {
                assert!(run_tests(&b), "{name}: healed, but its tests fail");
                healed += 1;
            }
            Some(5) => assert!(
                snapshot(b.dir.path()) == before,
                "{name}: not healed but the tree changed"
            ),
            other => panic!(
                "{name}: exit {other:?}\n{}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
        let attempts = record["attempts"].as_array().map_or(0, Vec::len);
        println!(
            "{name:<14} {verdict:>9} {attempts:>8} {used:>8} {:>7.1}",
            t0.elapsed().as_secs_f64()
        );
    }
    println!(
        "healed {healed}/{} · {tokens} tokens ({} per project) · {:.0} s",
        names.len(),
        tokens / names.len().max(1) as u64,
        started.elapsed().as_secs_f64()
    );
}
