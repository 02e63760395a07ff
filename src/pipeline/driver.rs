//! The repair driver: the one entry point the subcommands call. `selfheal offline`
//! repairs the user's checkout, `selfheal run` a run's worktree ([`Driver::repair`]), and
//! `selfheal approve` proves a queued patch again on the current tree ([`Driver::prove`]).
//!
//! It builds the LLM provider chain (client → meter → recorder, or a replay), chooses the
//! validator once (local or Docker from `validate.sandbox`, never a silent fallback),
//! recalls and records the failure memory, keeps proven patches in the approval queue and
//! saves the run record. It prints nothing: progress, warnings and notes go out as
//! [`Event`]s, which `report::events` renders.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;

use super::record::{RunRecord, new_run_id};
use super::repair::{
    Approver, Decision, Mode, PipelineError, Proposal, Repair, patched_copy, repair,
};
use super::{Event, Source};
use crate::approval::queue;
use crate::config::Config;
use crate::error::Hint;
use crate::llm::meter::{Budget, Meter, MeteredProvider};
use crate::llm::{
    ClientOptions, LlmError, OpenAiClient, Provider, RecordingProvider, ReplayProvider,
};
use crate::logs::Failure;
use crate::logs::triage::Triage;
use crate::memory::{Example, Memory, Query};
use crate::patch::Patch;
use crate::validate::{Outcome, Sandbox, ValidationRequest, Validator, resolve_command};

/// Where the model's replies come from: the configured server, optionally recorded as a
/// cassette, or a recorded cassette replayed with no network.
#[derive(Clone, Debug, Default)]
pub struct LlmSource {
    /// `--replay DIR`.
    pub replay: Option<PathBuf>,
    /// `--record DIR`.
    pub record: Option<PathBuf>,
}

/// One repair to run.
pub struct RepairJob<'a> {
    /// The tree to repair: the user's checkout, or a run's worktree.
    pub repo: &'a Path,
    /// Where the run record, the failure memory and the approval queue live.
    pub state_dir: &'a Path,
    pub triage: &'a Triage,
    pub llm: &'a LlmSource,
    pub mode: Mode,
}

/// Runs repairs and re-validations with one configuration and one validator.
pub struct Driver<'a> {
    config: &'a Config,
    /// Whose build caches a local validator reuses.
    repo_root: PathBuf,
    /// Connected on first use: a run with nothing to repair never needs the engine.
    validator: OnceCell<Sandbox>,
    /// Where sandbox image build lines go, when the caller shows them.
    sandbox_progress: Option<SandboxProgress>,
    /// Why the tests run on this machine unasked (no engine answered); said once.
    sandbox_warning: std::sync::Mutex<Option<String>>,
    /// The failed job's own `container:` image, tried before the default images.
    job_image: Option<String>,
    /// Told the tokens of a streamed reply so far, when the caller shows them.
    model_progress: Option<crate::llm::OnTokens>,
}

/// Receives sandbox image build and setup lines (see [`Driver::with_sandbox_progress`]).
pub type SandboxProgress = Arc<dyn Fn(&str) + Send + Sync>;

impl<'a> Driver<'a> {
    pub fn new(config: &'a Config, repo_root: &Path) -> Self {
        Driver {
            config,
            repo_root: repo_root.to_path_buf(),
            validator: OnceCell::new(),
            sandbox_progress: None,
            sandbox_warning: std::sync::Mutex::new(None),
            job_image: None,
            model_progress: None,
        }
    }

    /// Sends the sandbox's image build and setup lines to `progress` (by default they go
    /// to `tracing` at info level).
    pub fn with_sandbox_progress(mut self, progress: SandboxProgress) -> Self {
        self.sandbox_progress = Some(progress);
        self
    }

    /// Tells `progress` how many tokens of a streamed reply have come so far.
    pub fn with_model_progress(mut self, progress: crate::llm::OnTokens) -> Self {
        self.model_progress = Some(progress);
        self
    }

    /// Validates in the failed job's own image when it can be had (see
    /// [`crate::sandbox::job_container`]).
    pub fn with_job_image(mut self, image: Option<String>) -> Self {
        self.job_image = image;
        self
    }

    /// The validator `validate.sandbox` names, chosen and connected once.
    async fn validator(&self) -> Result<&Sandbox, PipelineError> {
        self.validator
            .get_or_try_init(|| async {
                let chosen =
                    Sandbox::for_job(self.config, &self.repo_root, self.job_image.clone()).await?;
                *self
                    .sandbox_warning
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = chosen.warning;
                Ok::<_, crate::validate::ValidateError>(match self.sandbox_progress.clone() {
                    Some(progress) => chosen.sandbox.with_progress(move |line| progress(line)),
                    None => chosen.sandbox,
                })
            })
            .await
            .map_err(PipelineError::from)
    }

    /// The sandbox's warning, the first time it is asked for (one line per process).
    pub fn take_sandbox_warning(&self) -> Option<String> {
        static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        let w = self
            .sandbox_warning
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()?;
        (!SAID.swap(true, std::sync::atomic::Ordering::Relaxed)).then_some(w)
    }

    /// Repairs the failures of `job.triage` in `job.repo`, saves the run record under
    /// `job.state_dir` and records the outcome in the failure memory. `ask` puts a
    /// proposal to the person at the terminal; proven patches nobody could approve go to
    /// the approval queue.
    pub async fn repair(
        &self,
        job: &RepairJob<'_>,
        ask: &mut dyn FnMut(&Proposal) -> Decision,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<RunRecord, PipelineError> {
        let failures = &job.triage.failures[..];
        let provider = provider(self.config, job.llm, self.model_progress.clone())?;
        let validator = self.validator().await?;
        if let Some(w) = self.take_sandbox_warning() {
            on_event(&Event::Warning(w));
        }
        static PRICE_SAID: std::sync::atomic::AtomicBool =
            std::sync::atomic::AtomicBool::new(false);
        if !job.mode.print_prompt
            && job.llm.replay.is_none()
            && let Some(w) = crate::llm::meter::unknown_price_warning(&self.config.llm)
            && !PRICE_SAID.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            on_event(&Event::Warning(w));
        }
        let (remembered, similar) = recall(self.config, job, on_event);
        let repair_input = Repair {
            config: self.config,
            repo: job.repo,
            state_dir: job.state_dir.to_path_buf(),
            failures,
            run_id: new_run_id(),
            mode: job.mode,
            remembered,
            similar,
            suspects: crate::risk::injection::scan_steps(&job.triage.steps),
            format_seen: recall_formats(self.config, job, on_event),
        };
        let mut approver = QueueApprover {
            repo: job.repo,
            state_dir: job.state_dir,
            failures,
            ask,
        };
        let record = repair(
            &repair_input,
            provider.as_ref(),
            validator,
            &mut approver,
            on_event,
        )
        .await?;
        if let Err(e) = record.save(job.state_dir) {
            on_event(&Event::Warning(format!(
                "could not save the run record in {}: {e}",
                job.state_dir.display()
            )));
        }
        if !job.mode.dry_run && !job.mode.print_prompt {
            remember(job, &record, on_event);
            remember_format(job, &self.config.llm.model, &record, on_event);
        }
        Ok(record)
    }

    /// Runs the tests again on a work copy of `repo` (its current tree) with `patch`
    /// written over it; `run_id` labels the containers.
    pub async fn prove(
        &self,
        repo: &Path,
        patch: &Patch,
        run_id: &str,
    ) -> Result<Outcome, PipelineError> {
        let cfg = &self.config.validate;
        let copy = patched_copy(repo, patch, &cfg.exclude)?;
        let command = resolve_command(&cfg.command, repo)?;
        let req = ValidationRequest::new(
            copy.path(),
            command,
            Duration::from_secs(cfg.timeout_secs),
            run_id,
        );
        Ok(self.validator().await?.validate(&req).await?)
    }
}

/// Restores files a killed run left half-written (the apply journal); call it before
/// anything else touches `repo`. Returns the restored paths.
pub fn recover(repo: &Path, state_dir: &Path) -> Result<Vec<String>, PipelineError> {
    crate::patch::apply::recover(repo, state_dir).map_err(PipelineError::Recover)
}

/// client → meter → recorder; or a replay of a recording, with no network. One meter
/// (and so one budget) per repair.
fn provider(
    config: &Config,
    llm: &LlmSource,
    on_tokens: Option<crate::llm::OnTokens>,
) -> Result<Box<dyn Provider>, LlmError> {
    let meter = Arc::new(Meter::new(Budget::from_config(&config.llm)));
    if let Some(dir) = &llm.replay {
        let replay = ReplayProvider::open(dir)?;
        return Ok(Box::new(MeteredProvider::new(replay, meter)));
    }
    let client = OpenAiClient::new(ClientOptions {
        on_tokens,
        ..ClientOptions::from_config(&config.llm)
    })?;
    let metered = MeteredProvider::new(client, meter);
    match &llm.record {
        Some(dir) => Ok(Box::new(RecordingProvider::new(metered, dir)?)),
        None => Ok(Box::new(metered)),
    }
}

/// The primary failure: the first one a code change fixes.
fn primary(failures: &[Failure]) -> Option<&Failure> {
    failures.iter().find(|f| f.needs_code_change)
}

/// What the failure memory knows for the primary failure: a validated fix of the same
/// failure, and validated fixes of similar ones (`[memory] examples` at most). Memory
/// trouble is a warning, not an error.
fn recall(
    config: &Config,
    job: &RepairJob<'_>,
    on_event: &mut dyn FnMut(&Event),
) -> (Option<(Patch, String)>, Vec<Example>) {
    let Some(f) = primary(&job.triage.failures) else {
        return (None, Vec::new());
    };
    let repo = job.repo.display().to_string();
    let found = Memory::open(job.state_dir).and_then(|m| {
        let same = m.validated_fix(&f.signature)?;
        let similar = m.similar_fixes(&Query::new(f, &repo), config.memory.examples)?;
        Ok((same, similar))
    });
    found.unwrap_or_else(|e| {
        on_event(&Event::Warning(e.with_hint()));
        (None, Vec::new())
    })
}

/// How this model's earlier replies parsed, per edit format (for `edit_format = "auto"`);
/// memory trouble is a warning and leaves it empty.
fn recall_formats(
    config: &Config,
    job: &RepairJob<'_>,
    on_event: &mut dyn FnMut(&Event),
) -> Vec<crate::llm::sizing::FormatStat> {
    Memory::open(job.state_dir)
        .and_then(|m| m.format_stats(&config.llm.model))
        .unwrap_or_else(|e| {
            on_event(&Event::Warning(e.with_hint()));
            Vec::new()
        })
}

/// How the model's replies parsed in this run, remembered for `edit_format = "auto"`.
fn remember_format(
    job: &RepairJob<'_>,
    model: &str,
    record: &RunRecord,
    on_event: &mut dyn FnMut(&Event),
) {
    let Some(format) = &record.edit_format else {
        return;
    };
    if record.replies_parsed + record.replies_unparsed == 0 {
        return;
    }
    let stat = crate::llm::sizing::FormatStat {
        format: format.clone(),
        parsed: record.replies_parsed,
        failed: record.replies_unparsed,
    };
    if let Err(e) = Memory::open(job.state_dir).and_then(|m| m.record_format(model, &stat)) {
        on_event(&Event::Warning(e.with_hint()));
    }
}

/// Records the outcome in the failure memory.
fn remember(job: &RepairJob<'_>, record: &RunRecord, on_event: &mut dyn FnMut(&Event)) {
    let Some(f) = primary(&job.triage.failures) else {
        return;
    };
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
        repo: job.repo.display().to_string(),
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
            Some(Source::Fixer(n)) => format!("fixer:{n}"),
            Some(Source::Memory) => "memory".into(),
            _ => "llm".into(),
        },
        prompt_tokens: record.prompt_tokens,
        completion_tokens: record.completion_tokens,
        cost_usd: record.cost_usd,
        llm_calls: record.llm_calls,
        llm_calls_saved: record.llm_calls_saved,
    };
    if let Err(e) = Memory::open(job.state_dir).and_then(|m| m.record(&outcome)) {
        on_event(&Event::Warning(e.with_hint()));
    }
}

/// Asks through `ask`, and keeps proven patches nobody approved in the approval queue.
struct QueueApprover<'a, 'b> {
    repo: &'a Path,
    state_dir: &'a Path,
    failures: &'a [Failure],
    ask: &'b mut dyn FnMut(&Proposal) -> Decision,
}

impl Approver for QueueApprover<'_, '_> {
    fn decide(&mut self, p: &Proposal) -> Decision {
        (self.ask)(p)
    }

    fn keep(&mut self, p: &Proposal) -> Result<String, String> {
        let first = primary(self.failures);
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
        diagnosis.push_str(&p.risk_text("!"));
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
