//! `selfheal offline LOGS`: triage, then repair in the checkout, from a run-log ZIP, a job
//! log, a cached run directory, another CI's log (GitLab, Jenkins, plain output; `--from`)
//! or stdin, with no GitHub access.

use std::path::{Path, PathBuf};

use crate::error::{Error, exit};
use crate::logs::archive::{Limits, LogSource};
use crate::logs::triage::{Triage, TriageOptions, triage};
use crate::pipeline::RepairJob;
use crate::report::sarif::{self, SarifOptions};
use crate::report::{human, json};

use super::args::{Format, OfflineArgs};
use super::{Ctx, print_stdout, spend, wiring};

/// The repository the logs belong to: `--repo-dir`, else the current directory.
pub fn repo_root(args: &OfflineArgs) -> PathBuf {
    args.repo_dir.clone().unwrap_or_else(|| PathBuf::from("."))
}

/// Flag overrides for the config layer.
pub fn flags(args: &OfflineArgs) -> Vec<(String, toml::Value)> {
    wiring::repair_flags(&args.repair)
}

pub fn run(ctx: &Ctx, args: &OfflineArgs) -> Result<i32, Error> {
    let t = triage_logs(ctx, args)?;
    if let Some(path) = &args.repair.sarif_out {
        let opts = SarifOptions {
            src_root: Some(&ctx.repo_root),
            fallback_uri: None,
        };
        write_sarif(path, &sarif::to_string(&t.failures, &opts))?;
    }
    let sarif_stdout = args.repair.format == Some(Format::Sarif) && !ctx.json;
    if args.no_llm || sarif_stdout || t.failures.is_empty() {
        return report_triage(ctx, args, &t);
    }
    if !ctx.json && !args.repair.print_prompt {
        eprint!("{}", human::triage(&t, &ctx.term));
    }
    repair(ctx, args, &t)
}

/// Repairs the triaged failures in the checkout and prints the result; returns the exit code.
fn repair(ctx: &Ctx, args: &OfflineArgs, t: &Triage) -> Result<i32, Error> {
    crate::llm::init_tls();
    let repo = &ctx.repo_root;
    let state_dir = ctx.config.state_dir(repo);
    wiring::recover(ctx, repo, &state_dir)?;
    let store = crate::store::Store::open(&state_dir)?;
    let spends = args.repair.replay.is_none() && !args.repair.print_prompt;
    if let Some(why) = spend::stop_reason(&ctx.config.llm, &store, spends) {
        return Err(Error::new(exit::ERROR, why).with_hint(
            "raise [llm] max_cost_usd_per_day (SELFHEAL_LLM_MAX_COST_USD_PER_DAY), or replay a recording with --replay",
        ));
    }
    let rt = super::runtime()?;
    let driver = wiring::driver(ctx, repo);
    let llm = wiring::llm_source(&args.repair);
    let job = RepairJob {
        repo,
        state_dir: &state_dir,
        triage: t,
        llm: &llm,
        mode: wiring::mode(ctx, &args.repair),
    };
    rt.block_on(async {
        tokio::select! {
            res = wiring::repair(ctx, &driver, &job) => {
                let record = res?;
                spend::count(&store, record.cost_usd);
                wiring::print_result(ctx, &record)?;
                Ok(record.verdict.exit_code())
            }
            _ = crate::interrupt::interrupted() => Err(Error::new(exit::INTERRUPTED, "interrupted; nothing was applied to the working tree")),
        }
    })
}

/// Reads and triages the logs named on the command line.
pub fn triage_logs(ctx: &Ctx, args: &OfflineArgs) -> Result<Triage, Error> {
    if let Some(tool) = &args.repair.tool {
        let known = crate::logs::parse::tool_names();
        if !known.contains(&tool.as_str()) {
            return Err(Error::usage(format!("unknown tool `{tool}` for --tool"))
                .with_hint(format!("use one of: {}", known.join(", "))));
        }
    }
    let source = LogSource::from_arg(&args.logs)?;
    let opts = TriageOptions {
        tool: args.repair.tool.clone(),
        repo_dir: repo_dir_for_paths(args, &ctx.repo_root),
        limits: Limits::from_config(&ctx.config.logs),
        baseline: args
            .baseline
            .as_deref()
            .map(LogSource::from_arg)
            .transpose()?,
        from: args
            .from
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(Error::usage)?,
    };
    let mut t = triage(&source, &opts)?;
    if let Some(root) = &opts.repo_dir {
        crate::pipeline::locate_code_under_test(&mut t, root);
    }
    Ok(t)
}

/// Paths are checked against the repo only when it is one (`--repo-dir`, or a git checkout).
fn repo_dir_for_paths(args: &OfflineArgs, root: &Path) -> Option<PathBuf> {
    if args.repo_dir.is_some() || root.join(".git").exists() {
        Some(root.to_path_buf())
    } else {
        None
    }
}

fn report_triage(ctx: &Ctx, args: &OfflineArgs, t: &Triage) -> Result<i32, Error> {
    let format = if ctx.json {
        Format::Json
    } else {
        args.repair.format.unwrap_or(Format::Human)
    };
    let text = match format {
        Format::Json => json::to_string(&json::triage_report(t)),
        Format::Human => human::triage(t, &ctx.term),
        Format::Sarif => sarif::to_string(
            &t.failures,
            &SarifOptions {
                src_root: Some(&ctx.repo_root),
                fallback_uri: None,
            },
        ),
    };
    print_stdout(&text)?;
    Ok(if t.failures.is_empty() {
        exit::NOTHING_FOUND
    } else {
        exit::SUCCESS
    })
}

/// Writes a SARIF file for `--sarif-out`, creating its directory.
pub fn write_sarif(path: &Path, text: &str) -> Result<(), Error> {
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, text)
    };
    write().map_err(|e| {
        Error::runtime(format!("cannot write SARIF to {}: {e}", path.display()))
            .with_hint("pass --sarif-out a path in a writable directory")
    })
}
