//! The repair half of `selfheal offline` (and later `run`): builds the LLM provider
//! chain (client → meter → recorder, or a replay), picks the validator (local or
//! Docker, never a silent fallback), wires the terminal approver and the pending
//! queue, renders pipeline events on stderr, and restores the tree on Ctrl-C.

use std::path::Path;
use std::sync::Arc;

use crate::approval::{prompt, queue};
use crate::error::{Error, exit};
use crate::llm::meter::{Budget, Meter, MeteredProvider};
use crate::llm::{ClientOptions, OpenAiClient, Provider, RecordingProvider, ReplayProvider};
use crate::logs::Failure;
use crate::logs::triage::Triage;
use crate::memory::{Example, Memory, Query};
use crate::pipeline::{
    self, Approver, Decision, Event, Mode, Proposal, Repair, RunRecord, Verdict,
};
use crate::report::Term;
use crate::sandbox::{DockerOptions, DockerValidator};
use crate::validate::{LocalValidator, Sandbox};

use super::args::RepairArgs;
use super::{Ctx, print_stdout};

/// Repairs `failures` in `repo` and prints the result; returns the exit code.
pub fn heal(ctx: &Ctx, args: &RepairArgs, repo: &Path, t: &Triage) -> Result<i32, Error> {
    crate::llm::init_tls();
    let state_dir = ctx.config.state_dir(repo);
    recover_journal(ctx, repo, &state_dir)?;
    let rt = super::runtime()?;
    rt.block_on(async {
        tokio::select! {
            res = heal_async(ctx, args, repo, &state_dir, t) => res,
            _ = crate::validate::interrupted() => Err(Error::new(exit::INTERRUPTED, "interrupted; nothing was applied to the working tree")),
        }
    })
}

async fn heal_async(
    ctx: &Ctx,
    args: &RepairArgs,
    repo: &Path,
    state_dir: &Path,
    t: &Triage,
) -> Result<i32, Error> {
    let record = repair_in(ctx, args, repo, state_dir, t).await?;
    print_result(ctx, &record)?;
    Ok(record.verdict.exit_code())
}

/// Repairs `failures` in `repo` (the user's checkout, or a run's worktree) and saves the
/// run record under `state_dir`; prints progress, not the result.
pub async fn repair_in(
    ctx: &Ctx,
    args: &RepairArgs,
    repo: &Path,
    state_dir: &Path,
    t: &Triage,
) -> Result<RunRecord, Error> {
    let failures = &t.failures[..];
    let provider = provider(ctx, args)?;
    let validator = validator(ctx).await?;
    let mode = Mode {
        yes: args.yes,
        dry_run: args.dry_run,
        print_prompt: args.print_prompt,
        interactive: ctx.term.interactive(),
    };
    let (remembered, similar) = recall(&ctx.config, state_dir, repo, failures);
    let repair = Repair {
        config: &ctx.config,
        repo,
        state_dir: state_dir.to_path_buf(),
        failures,
        run_id: pipeline::record::new_run_id(),
        mode,
        remembered,
        similar,
        suspects: t.injection.clone(),
    };
    let mut approver = CliApprover {
        repo,
        state_dir,
        failures,
        term: ctx.term,
    };
    let term = ctx.term;
    let quiet = ctx.json;
    let mut on_event = |e: &Event| render_event(e, &term, quiet);
    let record = pipeline::repair(
        &repair,
        provider.as_ref(),
        &validator,
        &mut approver,
        &mut on_event,
    )
    .await
    .map_err(pipeline_error)?;
    if let Err(e) = record.save(state_dir) {
        eprintln!(
            "warning: could not save the run record in {}: {e}",
            state_dir.display()
        );
    }
    if !args.dry_run && !args.print_prompt {
        remember(state_dir, repo, failures, &record);
    }
    Ok(record)
}

/// The primary failure: the first one a code change fixes.
fn primary(failures: &[Failure]) -> Option<&Failure> {
    failures.iter().find(|f| f.needs_code_change)
}

/// What the failure memory knows for the primary failure: a validated fix of the same
/// failure, and validated fixes of similar ones (`[memory] examples` at most). Memory
/// trouble is a warning, not an error.
fn recall(
    config: &crate::config::Config,
    state_dir: &Path,
    repo: &Path,
    failures: &[Failure],
) -> (Option<(crate::patch::Patch, String)>, Vec<Example>) {
    let Some(f) = primary(failures) else {
        return (None, Vec::new());
    };
    let repo = repo.display().to_string();
    let found = Memory::open(state_dir).and_then(|m| {
        let same = m.validated_fix(&f.signature)?;
        let similar = m.similar_fixes(&Query::new(f, &repo), config.memory.examples)?;
        Ok((same, similar))
    });
    found.unwrap_or_else(|e| {
        eprintln!("warning: {e}");
        (None, Vec::new())
    })
}

/// Records the outcome in the failure memory.
fn remember(state_dir: &Path, repo: &Path, failures: &[Failure], record: &RunRecord) {
    let Some(f) = primary(failures) else { return };
    let last = record.attempts.last();
    let validated = last
        .and_then(|a| a.validation.as_ref())
        .is_some_and(|v| v.passed);
    let patch = match (validated, last) {
        (true, Some(a)) if !a.patch.is_empty() => record
            .patch
            .as_ref()
            .and_then(|p| serde_json::to_string(p).ok())
            .unwrap_or_default(),
        _ => String::new(),
    };
    let outcome = crate::memory::Outcome {
        at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        repo: repo.display().to_string(),
        signature: f.signature.clone(),
        tool: f.tool.clone(),
        kind: f.kind.to_string(),
        message: f.message.clone(),
        diagnosis: last.map(|a| a.diagnosis.clone()).unwrap_or_default(),
        patch,
        validated,
        verdict: serde_json::to_value(record.verdict)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        source: match last.map(|a| &a.source) {
            Some(pipeline::Source::Fixer(n)) => format!("fixer:{n}"),
            Some(pipeline::Source::Memory) => "memory".into(),
            _ => "llm".into(),
        },
        prompt_tokens: record.prompt_tokens,
        completion_tokens: record.completion_tokens,
        cost_usd: record.cost_usd,
        llm_calls: record.llm_calls,
        llm_calls_saved: record.llm_calls_saved,
    };
    if let Err(e) = Memory::open(state_dir).and_then(|m| m.record(&outcome)) {
        eprintln!("warning: {e}");
    }
}

/// client → meter → recorder; or a replay of a recording, with no network.
fn provider(ctx: &Ctx, args: &RepairArgs) -> Result<Box<dyn Provider>, Error> {
    let meter = Arc::new(Meter::new(Budget::from_config(&ctx.config.llm)));
    if let Some(dir) = &args.replay {
        let replay = ReplayProvider::open(dir).map_err(llm_error)?;
        return Ok(Box::new(MeteredProvider::new(replay, meter)));
    }
    let client =
        OpenAiClient::new(ClientOptions::from_config(&ctx.config.llm)).map_err(llm_error)?;
    let metered = MeteredProvider::new(client, meter);
    match &args.record {
        Some(dir) => Ok(Box::new(
            RecordingProvider::new(metered, dir).map_err(llm_error)?,
        )),
        None => Ok(Box::new(metered)),
    }
}

pub async fn validator(ctx: &Ctx) -> Result<Sandbox, Error> {
    match ctx.config.sandbox() {
        "docker" => {
            let opts = DockerOptions::from_config(
                &ctx.config.validate,
                ctx.config.env.docker_host.clone(),
            );
            let docker = DockerValidator::connect(opts)
                .await
                .map_err(|e| Error::runtime(e.to_string()))?;
            Ok(Sandbox::Docker(Box::new(docker)))
        }
        _ => {
            let mut local = LocalValidator::new();
            for (k, v) in pipeline::stage::cache_env(&ctx.repo_root) {
                local = local.with_env(k, v);
            }
            Ok(Sandbox::Local(local))
        }
    }
}

/// Restores files a killed run left half-written (the apply journal), before anything else.
fn recover_journal(ctx: &Ctx, repo: &Path, state_dir: &Path) -> Result<(), Error> {
    let restored = crate::patch::apply::recover(repo, state_dir).map_err(|e| {
        Error::runtime(e.to_string())
            .with_hint("restore the files named above by hand, then run again")
    })?;
    if !restored.is_empty() && !ctx.json {
        eprintln!(
            "{}: restored {} after an interrupted run",
            ctx.term.yellow("note"),
            restored.join(", ")
        );
    }
    Ok(())
}

struct CliApprover<'a> {
    repo: &'a Path,
    state_dir: &'a Path,
    failures: &'a [Failure],
    term: Term,
}

impl Approver for CliApprover<'_> {
    fn decide(&mut self, p: &Proposal) -> Decision {
        let diagnosis = format!("{}{}", p.diagnosis, risk_text(p, &self.term.red("!")));
        let diff = crate::patch::render::render_diff(&p.patch, self.term.color);
        prompt::ask(&diagnosis, &diff, self.term.interactive())
    }

    fn keep(&mut self, p: &Proposal) -> Result<String, String> {
        let first = self.failures.iter().find(|f| f.needs_code_change);
        let summary = first
            .map(|f| format!("{} {}: {}", f.tool, f.kind, f.message))
            .unwrap_or_default();
        let signature = first.map(|f| f.signature.clone()).unwrap_or_default();
        let repo = self
            .repo
            .canonicalize()
            .unwrap_or_else(|_| self.repo.to_path_buf());
        let mut diagnosis = p.diagnosis.clone();
        if let Some(v) = &p.validation {
            diagnosis.push_str(&format!("\n\nvalidation: `{}` {}", v.command, v.summary()));
        }
        diagnosis.push_str(&risk_text(p, "!"));
        let new = queue::NewPending {
            repo: &repo.to_string_lossy(),
            run_id: None,
            failure_summary: &summary,
            signature: &signature,
            risk: p.risk.score,
            diagnosis: &diagnosis,
            patch: &p.patch,
        };
        queue::save_pending(self.state_dir, &new)
            .map(|m| m.id)
            .map_err(|e| e.to_string())
    }
}

/// The risk score, its reasons, and one `mark`ed line per veto or danger.
fn risk_text(p: &Proposal, mark: &str) -> String {
    let mut s = format!("\nrisk {}/100: {}", p.risk.score, p.risk.reasons.join("; "));
    for v in p.risk.vetoes.iter().chain(&p.risk.dangers) {
        s.push_str(&format!("\n{mark} {}: {} ({})", v.rule, v.detail, v.path));
    }
    s
}

/// One progress line per event on stderr (nothing with --json).
fn render_event(e: &Event, term: &Term, quiet: bool) {
    if quiet {
        return;
    }
    let line = match e {
        Event::Started {
            targets,
            max_attempts,
        } => format!("repairing {targets} failure(s), up to {max_attempts} attempt(s)"),
        Event::FixerFailed { name, why } => format!("{} {name}: {why}", term.dim("fixer")),
        Event::PromptBuilt {
            attempt,
            prompt_tokens,
            context_tokens,
            examples,
            example_tokens,
        } => {
            let examples = match examples {
                0 => String::new(),
                n => format!(", {example_tokens} of {n} earlier fix(es) of similar failures"),
            };
            format!(
                "attempt {attempt}: prompt {prompt_tokens} tokens ({context_tokens} of context{examples})"
            )
        }
        Event::ExampleRefused { signature } => format!(
            "{} an earlier fix ({signature}) was left out of the prompt: its text addresses the model",
            term.yellow("note:")
        ),
        Event::Replied {
            attempt,
            usage,
            truncated,
        } => format!(
            "attempt {attempt}: reply {} tokens{}",
            usage.completion_tokens,
            if *truncated {
                " (cut off at max_tokens)"
            } else {
                ""
            }
        ),
        Event::PatchRefused { attempt, why } => {
            format!("attempt {attempt}: {} {why}", term.yellow("refused:"))
        }
        Event::Proposed(p) => proposal_text(p, term),
        Event::Validating { attempt, command } => {
            format!("attempt {attempt}: validating with `{command}`")
        }
        Event::Validated { attempt, outcome } => {
            let s = outcome.summary();
            format!(
                "attempt {attempt}: tests {}",
                if outcome.passed {
                    term.green(&s)
                } else {
                    term.red(&s)
                }
            )
        }
        Event::InjectionSuspected { lines } => format!(
            "{} the logs or code address the model (possible prompt injection); the patch will need a person: {}",
            term.red("warning:"),
            lines.join(" | ")
        ),
        Event::NoProgress { attempt } => {
            format!("attempt {attempt}: same failure as before; stopping")
        }
        Event::Applied { paths } => format!("{} {}", term.green("applied"), paths.join(", ")),
        Event::Prompt { system, user } => {
            let _ = print_stdout(&format!("--- system ---\n{system}\n--- user ---\n{user}\n"));
            return;
        }
    };
    eprintln!("{line}");
}

fn proposal_text(p: &Proposal, term: &Term) -> String {
    let source = match &p.source {
        pipeline::Source::Llm => "model".to_string(),
        pipeline::Source::Fixer(name) => format!("fixer `{name}`"),
        pipeline::Source::Memory => "failure memory (it fixed this failure before)".to_string(),
    };
    let mut s = format!(
        "attempt {}: patch from {source} (risk {}/100)\n",
        p.attempt, p.risk.score
    );
    if !p.diagnosis.is_empty() {
        s.push_str(&format!("  {}\n", p.diagnosis));
    }
    s.push_str(&crate::patch::render::render_diff(&p.patch, term.color));
    for v in &p.risk.vetoes {
        s.push_str(&format!(
            "\n{} test-weakening ({}): {} in {}",
            term.red("veto:"),
            v.rule,
            v.detail,
            v.path
        ));
    }
    s
}

pub fn print_result(ctx: &Ctx, record: &RunRecord) -> Result<(), Error> {
    if ctx.json {
        return print_stdout(&crate::report::json::to_string(record));
    }
    let tokens = record.prompt_tokens + record.completion_tokens;
    let head = match record.verdict {
        Verdict::Healed => ctx.term.green("healed"),
        Verdict::Pending => ctx.term.yellow("pending approval"),
        Verdict::DryRun => ctx.term.bold("dry run: nothing written"),
        Verdict::PromptPrinted => return Ok(()),
        Verdict::Rejected => ctx.term.yellow("rejected"),
        Verdict::NotHealed => ctx.term.red("not healed"),
        Verdict::NoCodeChange => ctx.term.yellow("no code change needed"),
    };
    let mut out = format!(
        "{head} · {} attempt(s) · {} LLM call(s), {tokens} tokens, ${:.4} · {:.1} s\n",
        record.attempts.len(),
        record.llm_calls,
        record.cost_usd,
        record.duration_ms as f64 / 1000.0
    );
    if let Some(id) = &record.pending_id {
        out.push_str(&format!(
            "review it with `selfheal approve show {id}`, apply with `selfheal approve {id}`\n"
        ));
    }
    if let Some(note) = &record.note {
        out.push_str(&format!("{note}\n"));
    }
    print_stdout(&out)
}

fn llm_error(e: crate::llm::LlmError) -> Error {
    let hint = e.hint();
    Error::runtime(e.to_string()).with_hint(hint)
}

fn pipeline_error(e: pipeline::repair::PipelineError) -> Error {
    use pipeline::repair::PipelineError as P;
    match e {
        P::Llm(e) => llm_error(e),
        P::Validate(e) => Error::from(e),
        other => Error::runtime(other.to_string()),
    }
}
