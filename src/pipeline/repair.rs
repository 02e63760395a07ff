//! The repair loop itself. Order per attempt: propose (fixer or model) → check (parse,
//! plan under the guard, risk) → approve → prove on a work copy → apply. The working
//! tree is written only after a patch is approved AND proven, through the journaled
//! all-or-nothing apply; everything before that happens on copies.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::record::{AttemptRecord, RunRecord, SCHEMA, Verdict};
use super::{Event, Source, focus};
use crate::config::Config;
use crate::context;
use crate::error::Hint;
use crate::fixers;
use crate::llm::language::Language;
use crate::llm::sizing::{self, EditFormat, FormatStat};
use crate::llm::{ChatRequest, Done, LlmError, Provider, Usage, prompts::Prompts};
use crate::logs::{Failure, StepLog, parse, signature};
use crate::memory::examples::{Budget as ExampleBudget, Shown, render_examples};
use crate::patch::guard::Guard;
use crate::patch::{self, Patch};
use crate::risk::{self, Change, Risk};
use crate::validate::{
    Outcome, ValidateError, ValidationRequest, Validator, resolve_command, validate_scoped,
};
use crate::workcopy::WorkCopy;

/// How the user wants the repair to go.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mode {
    /// `--yes`: approve without asking (vetoed or dangerous patches still wait).
    pub yes: bool,
    /// `--dry-run`: show the first patch, write nothing, run nothing.
    pub dry_run: bool,
    /// `--print-prompt`: show the prompt, send nothing.
    pub print_prompt: bool,
    /// A person can answer y/N.
    pub interactive: bool,
}

/// Everything a repair reads.
pub struct Repair<'a> {
    pub config: &'a Config,
    pub repo: &'a Path,
    pub state_dir: PathBuf,
    pub failures: &'a [Failure],
    pub run_id: String,
    pub mode: Mode,
    /// A validated fix of the same failure from the failure memory (patch, diagnosis),
    /// tried first when the files it touches are as it expects.
    pub remembered: Option<(Patch, String)>,
    /// Validated fixes of similar failures from the failure memory, best first; the ones
    /// that fit `[memory]`'s budget are shown to the model as examples.
    pub similar: Vec<crate::memory::Example>,
    /// Log lines triage found addressing the model; with any, no patch is auto-applied.
    pub suspects: Vec<crate::risk::injection::Suspect>,
    /// How this model's earlier replies parsed, per edit format (failure memory), for
    /// `[llm] edit_format = "auto"`.
    pub format_seen: Vec<FormatStat>,
}

/// A patch ready for a decision.
#[derive(Clone, Debug)]
pub struct Proposal {
    pub attempt: u32,
    pub source: Source,
    pub diagnosis: String,
    pub patch: Patch,
    /// Git-apply-compatible diff.
    pub diff: String,
    pub risk: Risk,
    pub validation: Option<Outcome>,
}

impl Proposal {
    /// The risk score, its reasons, and one `mark`ed line per veto or danger.
    pub fn risk_text(&self, mark: &str) -> String {
        let mut s = format!(
            "\nrisk {}/100: {}",
            self.risk.score,
            self.risk.reasons.join("; ")
        );
        for v in self.risk.vetoes.iter().chain(&self.risk.dangers) {
            s.push_str(&format!("\n{mark} {}: {} ({})", v.rule, v.detail, v.path));
        }
        s
    }
}

pub use crate::approval::prompt::Decision;

/// Asks a person about a proposal, or keeps it for later.
pub trait Approver {
    /// y/N before the patch is proven (interactive runs only).
    fn decide(&mut self, proposal: &Proposal) -> Decision;
    /// Saves a proven patch for `selfheal approve`; returns its id.
    fn keep(&mut self, proposal: &Proposal) -> Result<String, String>;
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Validate(#[from] ValidateError),
    #[error(transparent)]
    Apply(#[from] patch::apply::ApplyError),
    #[error(transparent)]
    Guard(#[from] patch::guard::GuardError),
    #[error("could not copy {repo} for validation: {source}")]
    WorkCopy {
        repo: PathBuf,
        source: std::io::Error,
    },
    /// The apply journal of a killed run could not be replayed.
    #[error(transparent)]
    Recover(patch::apply::ApplyError),
}

impl Hint for PipelineError {
    fn hint(&self) -> String {
        match self {
            PipelineError::Llm(e) => e.hint(),
            PipelineError::Validate(e) => e.hint(),
            PipelineError::Apply(e) => e.hint(),
            PipelineError::Guard(e) => e.hint(),
            PipelineError::WorkCopy { .. } => {
                "check that the temporary directory (TMPDIR) is writable and has room".into()
            }
            PipelineError::Recover(_) => {
                "restore the files named above by hand, then run again".into()
            }
        }
    }
}

impl PipelineError {
    /// The exit code: 130 when Ctrl-C or SIGTERM stopped a validation, else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            PipelineError::Validate(crate::validate::ValidateError::Interrupted) => {
                crate::error::exit::INTERRUPTED
            }
            _ => crate::error::exit::ERROR,
        }
    }
}

impl From<PipelineError> for crate::error::Error {
    fn from(e: PipelineError) -> Self {
        crate::error::Error::from_stage(e.exit_code(), e)
    }
}

/// Mutable state of one repair.
struct Run<'a, 'b> {
    r: &'b Repair<'a>,
    on_event: &'b mut dyn FnMut(&Event),
    record: RunRecord,
    started: Instant,
}

/// Runs the whole loop and returns the record (also when nothing healed).
pub async fn repair<V: Validator<Error = ValidateError> + Sync>(
    r: &Repair<'_>,
    provider: &dyn Provider,
    validator: &V,
    approver: &mut dyn Approver,
    on_event: &mut dyn FnMut(&Event),
) -> Result<RunRecord, PipelineError> {
    let targets: Vec<Failure> = r
        .failures
        .iter()
        .filter(|f| f.needs_code_change)
        .cloned()
        .collect();
    let mut run = Run {
        r,
        on_event,
        record: empty_record(r, &targets),
        started: Instant::now(),
    };
    if targets.is_empty() {
        return Ok(run.finish(
            Verdict::NoCodeChange,
            Some("no failure here is fixed by changing code".into()),
        ));
    }
    (run.on_event)(&Event::Started {
        targets: targets.len(),
        max_attempts: r.config.validate.max_attempts,
    });
    let guard = Guard::new(r.repo, &r.config.policy, Some(&r.state_dir))?;
    if !r.mode.print_prompt
        && let Some(verdict) = run.try_remembered(&targets, validator, approver).await?
    {
        return Ok(run.finish(verdict, None));
    }
    if !r.mode.print_prompt
        && let Some(verdict) = run
            .try_fixers(&targets, &guard, validator, approver)
            .await?
    {
        return Ok(run.finish(verdict, None));
    }
    run.llm_loop(&targets, &guard, provider, validator, approver)
        .await
}

fn empty_record(r: &Repair<'_>, targets: &[Failure]) -> RunRecord {
    RunRecord {
        schema: SCHEMA,
        id: r.run_id.clone(),
        repo: r.repo.to_path_buf(),
        verdict: Verdict::NotHealed,
        failures: targets.to_vec(),
        attempts: Vec::new(),
        prompt_tokens: 0,
        completion_tokens: 0,
        cost_usd: 0.0,
        cost_unknown: false,
        llm_calls: 0,
        llm_calls_saved: 0,
        examples: 0,
        example_tokens: 0,
        pending_id: None,
        applied: Vec::new(),
        patch: None,
        injection: Vec::new(),
        duration_ms: 0,
        note: None,
        edit_format: None,
        replies_parsed: 0,
        replies_unparsed: 0,
    }
}

impl Run<'_, '_> {
    fn finish(mut self, verdict: Verdict, note: Option<String>) -> RunRecord {
        self.record.verdict = verdict;
        self.record.note = note;
        self.record.duration_ms = self.started.elapsed().as_millis() as u64;
        self.record
    }

    fn emit(&mut self, e: Event) {
        (self.on_event)(&e);
    }

    /// A fix that healed this failure before, offered again (and validated again) when
    /// every file it touches still holds what it expects.
    async fn try_remembered<V: Validator<Error = ValidateError> + Sync>(
        &mut self,
        targets: &[Failure],
        validator: &V,
        approver: &mut dyn Approver,
    ) -> Result<Option<Verdict>, PipelineError> {
        let Some((patch, diagnosis)) = self.r.remembered.clone() else {
            return Ok(None);
        };
        let current = |p: &str| std::fs::read_to_string(self.r.repo.join(p)).ok();
        if patch.files.iter().any(|f| current(&f.path) != f.old) {
            return Ok(None);
        }
        let n = self.record.attempts.len() as u32 + 1;
        let proposal = self.propose(n, Source::Memory, diagnosis, patch, targets);
        let (verdict, _) = self
            .decide_and_prove(
                proposal,
                targets,
                validator,
                approver,
                Usage::default(),
                Instant::now(),
            )
            .await?;
        if matches!(verdict, Some(Verdict::Healed | Verdict::Pending)) {
            self.record.llm_calls_saved += 1;
            return Ok(verdict);
        }
        Ok(None)
    }

    /// Deterministic fixers first: a validated fixer patch saves the LLM call.
    async fn try_fixers<V: Validator<Error = ValidateError> + Sync>(
        &mut self,
        targets: &[Failure],
        guard: &Guard,
        validator: &V,
        approver: &mut dyn Approver,
    ) -> Result<Option<Verdict>, PipelineError> {
        let timeout = Duration::from_secs(self.r.config.validate.timeout_secs);
        for fixer in fixers::fixers_for(targets) {
            if fixer.runs_repo_code() && self.r.config.sandbox() == "docker" {
                self.emit(Event::FixerFailed {
                    name: fixer.name.into(),
                    why: "it runs the repository's code, which runs only in the sandbox; \
                          the model gets the failure instead"
                        .into(),
                });
                continue;
            }
            let files = match fixers::run_fixer(&fixer, self.r.repo, timeout) {
                Ok(files) => files,
                Err(e) => {
                    self.emit(Event::FixerFailed {
                        name: fixer.name.into(),
                        why: e.to_string(),
                    });
                    continue;
                }
            };
            let patch = fixer_patch(files, guard)?;
            let n = self.record.attempts.len() as u32 + 1;
            let proposal = self.propose(
                n,
                Source::Fixer(fixer.name.into()),
                format!("`{}` fixes this mechanically", fixer.name),
                patch,
                targets,
            );
            let (verdict, _) = self
                .decide_and_prove(
                    proposal,
                    targets,
                    validator,
                    approver,
                    Usage::default(),
                    Instant::now(),
                )
                .await?;
            if let Some(v) = verdict {
                if v == Verdict::Healed || v == Verdict::Pending {
                    self.record.llm_calls_saved += 1;
                }
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    async fn llm_loop<V: Validator<Error = ValidateError> + Sync>(
        mut self,
        targets: &[Failure],
        guard: &Guard,
        provider: &dyn Provider,
        validator: &V,
        approver: &mut dyn Approver,
    ) -> Result<RunRecord, PipelineError> {
        let cfg = self.r.config;
        let shown = self.show_examples();
        let budget = sizing::context_tokens(&cfg.llm).saturating_sub(shown.tokens);
        let b = brief(targets, self.r.repo, budget);
        let ctx_text = self.screen_injection(b.ctx_text.clone());
        let prompts = Prompts::from_config(&cfg.llm)?.with_examples(&shown.text);
        let (format, focus) = self.choose_format(targets, &b);
        self.record.edit_format = Some(format.name().to_string());
        let ask = Asking {
            format,
            focus: focus.as_ref(),
            prompts: &prompts,
            brief: &b,
            ctx_text: &ctx_text,
            test_sent_back: std::cell::Cell::new(false),
            said: std::cell::RefCell::new(None),
        };
        let candidates = sizing::candidates(&cfg.llm);
        let mut feedback: Option<(String, String)> = None; // (previous patch, what went wrong)
        let mut tried: Vec<String> = Vec::new();
        let mut last_signature: Option<String> = None;
        for _round in 0..cfg.validate.max_attempts {
            let n = self.record.attempts.len() as u32 + 1;
            // Source windows and test output may hold a committed key: mask like the logs.
            let (base, _) = crate::llm::mask_request(&ask.request(&cfg.llm, feedback.as_ref())?);
            self.emit(Event::PromptBuilt {
                attempt: n,
                prompt_tokens: crate::llm::tokens::chat_prompt(&base.system, &base.user),
                context_tokens: b.ctx.tokens,
                examples: shown.count,
                example_tokens: shown.tokens,
            });
            if self.r.mode.print_prompt {
                self.emit(Event::Prompt {
                    system: base.system.clone(),
                    user: base.user.clone(),
                });
                return Ok(self.finish(Verdict::PromptPrinted, None));
            }
            let mut cands: Vec<Candidate> = Vec::new();
            for i in 0..candidates {
                match self
                    .candidate(provider, &base, i, &ask, &b.files, guard, &tried, &cands)
                    .await
                {
                    Gathered::Budget(what) => {
                        return Ok(
                            self.finish(Verdict::NotHealed, Some(format!("stopped: {what}")))
                        );
                    }
                    Gathered::Fatal(e) => return Err(e.into()),
                    Gathered::Refused(why) => {
                        if feedback.as_ref().is_none_or(|(p, _)| p.is_empty()) {
                            feedback = Some((String::new(), why));
                        }
                    }
                    Gathered::Duplicate => {}
                    Gathered::Ready(c) => cands.push(c),
                }
            }
            // the smallest change first: it is the cheapest to prove and the least risky
            cands.sort_by_key(|c| c.changed);
            let mut failed: Option<(String, Outcome)> = None;
            for c in cands {
                tried.push(c.diff.clone());
                let proposal = self.propose(c.n, Source::Llm, c.diagnosis, c.patch, targets);
                let diff = proposal.diff.clone();
                let (verdict, outcome) = self
                    .decide_and_prove(proposal, targets, validator, approver, c.usage, c.started)
                    .await?;
                if let Some(v) = verdict {
                    let note = self.record.note.take();
                    return Ok(self.finish(v, note));
                }
                if let Some(outcome) = outcome
                    && failed.is_none()
                {
                    failed = Some((diff, outcome));
                }
            }
            let Some((diff, outcome)) = failed else {
                continue;
            };
            let sig = outcome_signature(&outcome);
            if last_signature.as_ref() == Some(&sig) {
                self.emit(Event::NoProgress {
                    attempt: self.record.attempts.len() as u32,
                });
                return Ok(self.finish(
                    Verdict::NotHealed,
                    Some("two attempts in a row failed the same way".into()),
                ));
            }
            last_signature = Some(sig);
            let said = match format {
                EditFormat::SearchReplace => outcome.tail.clone(),
                _ => brief_outcome(&outcome),
            };
            feedback = Some((diff, said));
        }
        Ok(self.finish(
            Verdict::NotHealed,
            Some(format!(
                "no patch passed validation in {} attempts",
                cfg.validate.max_attempts
            )),
        ))
    }

    /// The edit format for this run and, for `function` and `whole_file`, what the short
    /// prompt offers; `search_replace` when nothing can be offered.
    fn choose_format(
        &mut self,
        targets: &[Failure],
        b: &Briefing,
    ) -> (EditFormat, Option<focus::Focus>) {
        let wanted = sizing::edit_format(&self.r.config.llm, &self.r.format_seen);
        let whole = || {
            focus::whole_file(&targets[0], &b.ctx, self.r.repo, &b.main_file)
                .map(|f| (EditFormat::WholeFile, f))
        };
        let focused = match wanted {
            EditFormat::SearchReplace => None,
            // no definition holds the failing line (a module-level import, a constant):
            // a short file is asked back whole, which small models manage better than a
            // SEARCH block
            EditFormat::Function => focus::focus(&targets[0], &b.ctx, self.r.repo)
                .map(|f| (wanted, f))
                .or_else(whole),
            EditFormat::WholeFile => whole(),
        };
        match focused {
            Some((format, f)) => (format, Some(f)),
            None => (EditFormat::SearchReplace, None),
        }
    }

    /// Asks for candidate `i` of a round and turns it into a patch worth proving.
    #[allow(clippy::too_many_arguments)]
    async fn candidate(
        &mut self,
        provider: &dyn Provider,
        base: &ChatRequest,
        i: u32,
        ask: &Asking<'_>,
        files: &[String],
        guard: &Guard,
        tried: &[String],
        cands: &[Candidate],
    ) -> Gathered {
        let started = Instant::now();
        let n = self.record.attempts.len() as u32 + 1;
        let mut req = sampled(base, i, &self.r.config.llm);
        if i >= 2
            && let Some(said) = ask.said.borrow_mut().take()
        {
            req.user.push_str(&format!(
                "\n\nAnother reviewer said what is wrong: {said}\nWrite the corrected code block."
            ));
        }
        let reply = match self.ask(provider, &req, n).await {
            Ok(reply) => reply,
            Err(LlmError::Budget { what, .. }) => return Gathered::Budget(what),
            Err(
                e @ (LlmError::EmptyReply { .. }
                | LlmError::BadReply { .. }
                | LlmError::Timeout(_)
                | LlmError::Silent { .. }),
            ) => {
                let why = e.to_string();
                self.refuse(n, &why, Usage::default(), started, "");
                return Gathered::Refused(format!("Your reply could not be used: {why}"));
            }
            Err(e) => return Gathered::Fatal(e),
        };
        let patch = match ask.plan(&reply.text, files, guard) {
            Ok(p) => {
                self.record.replies_parsed += 1;
                p
            }
            Err(why) => {
                self.record.replies_unparsed += 1;
                self.refuse(n, &why, reply.usage, started, &reply.text);
                return Gathered::Refused(format!("Your reply could not be applied: {why}"));
            }
        };
        let diff = patch::render::git_diff(&patch);
        if tried.contains(&diff) || cands.iter().any(|c| c.diff == diff) {
            let why = "the same patch as a candidate already tried";
            self.refuse(n, why, reply.usage, started, &reply.text);
            return Gathered::Duplicate;
        }
        let changed = patch
            .files
            .iter()
            .map(|f| {
                risk::LineDiff::of(&Change {
                    path: &f.path,
                    old: f.old.as_deref(),
                    new: f.new.as_deref(),
                })
                .changed()
            })
            .sum();
        Gathered::Ready(Candidate {
            n,
            diagnosis: diagnosis_of(&reply.text),
            patch,
            diff,
            changed,
            usage: reply.usage,
            started,
        })
    }

    async fn ask(
        &mut self,
        provider: &dyn Provider,
        req: &ChatRequest,
        n: u32,
    ) -> Result<crate::llm::ChatReply, LlmError> {
        let reply = provider.complete(req).await?;
        self.record.llm_calls += 1;
        self.record.prompt_tokens += reply.usage.prompt_tokens;
        self.record.completion_tokens += reply.usage.completion_tokens;
        let budget = crate::llm::meter::Budget::from_config(&self.r.config.llm);
        self.record.cost_usd +=
            budget.cost(reply.usage.prompt_tokens, reply.usage.completion_tokens);
        self.record.cost_unknown |= budget.price.is_none();
        self.emit(Event::Replied {
            attempt: n,
            usage: reply.usage,
            truncated: reply.truncated(),
        });
        Ok(reply)
    }

    /// The similar fixes that fit the examples' budget, rendered for the prompt and counted
    /// in the record; ones whose text addresses the model are left out and reported.
    fn show_examples(&mut self) -> Shown {
        let budget = ExampleBudget::from_config(self.r.config);
        let shown = render_examples(&self.r.similar, budget);
        for signature in &shown.refused {
            self.emit(Event::ExampleRefused {
                signature: signature.clone(),
            });
        }
        self.record.examples = shown.count as u32;
        self.record.example_tokens = shown.tokens as u64;
        shown
    }

    /// Flags text that addresses the model; when there is any, the whole context is fenced
    /// as untrusted data (so it stays out of the instructions) and no patch of this run is
    /// applied without a person.
    fn screen_injection(&mut self, ctx_text: String) -> String {
        let mut suspects = self.r.suspects.clone();
        suspects.extend(risk::injection::scan(&ctx_text));
        if suspects.is_empty() {
            return ctx_text;
        }
        self.emit(Event::InjectionSuspected {
            lines: suspects.iter().map(|s| s.text.clone()).collect(),
        });
        self.record.injection = suspects;
        risk::injection::quote_untrusted("CI output and source code", &ctx_text)
    }

    fn refuse(&mut self, n: u32, why: &str, usage: Usage, started: Instant, reply: &str) {
        self.emit(Event::PatchRefused {
            attempt: n,
            why: why.to_string(),
        });
        self.record.attempts.push(AttemptRecord {
            n,
            source: Source::Llm,
            diagnosis: diagnosis_of(reply),
            patch: String::new(),
            risk: None,
            refused: Some(why.to_string()),
            validation: None,
            usage,
            duration_ms: started.elapsed().as_millis() as u64,
        });
    }

    fn propose(
        &mut self,
        n: u32,
        source: Source,
        diagnosis: String,
        patch: Patch,
        targets: &[Failure],
    ) -> Proposal {
        let changes: Vec<Change<'_>> = patch
            .files
            .iter()
            .map(|f| Change {
                path: &f.path,
                old: f.old.as_deref(),
                new: f.new.as_deref(),
            })
            .collect();
        let mut risk = risk::assess(&changes, targets);
        if !self.record.injection.is_empty() {
            risk.dangers.push(risk::Finding {
                rule: "prompt-injection".into(),
                path: String::new(),
                detail: format!(
                    "the log or code addressed the model: `{}`",
                    self.record.injection[0].text
                ),
            });
        }
        let diff = patch::render::git_diff(&patch);
        Proposal {
            attempt: n,
            source,
            diagnosis,
            patch,
            diff,
            risk,
            validation: None,
        }
    }

    /// Approval, proof and apply for one proposal. `Some(verdict)` ends the repair;
    /// `None` with an outcome means "failed validation, retry".
    async fn decide_and_prove<V: Validator<Error = ValidateError> + Sync>(
        &mut self,
        mut p: Proposal,
        targets: &[Failure],
        validator: &V,
        approver: &mut dyn Approver,
        usage: Usage,
        started: Instant,
    ) -> Result<(Option<Verdict>, Option<Outcome>), PipelineError> {
        self.emit(Event::Proposed(Box::new(p.clone())));
        let mode = self.r.mode;
        if mode.dry_run {
            self.push_attempt(&p, usage, started);
            return Ok((Some(Verdict::DryRun), None));
        }
        if mode.interactive && !mode.yes && approver.decide(&p) != Decision::Approve {
            self.push_attempt(&p, usage, started);
            return Ok((Some(Verdict::Rejected), None));
        }
        let outcome = self.prove(&p, targets, validator).await?;
        p.validation = Some(outcome.clone());
        self.push_attempt(&p, usage, started);
        if !outcome.passed {
            return Ok((None, Some(outcome)));
        }
        self.record.patch = Some(p.patch.clone());
        let auto_ok = p.risk.auto_approvable(self.r.config.policy.max_auto_risk)
            || (!self.r.config.env.ci && !p.risk.vetoed() && p.risk.dangers.is_empty());
        let approved_before = mode.interactive && !mode.yes;
        if approved_before || (mode.yes && auto_ok) {
            self.apply(&p.patch)?;
            return Ok((Some(Verdict::Healed), Some(outcome)));
        }
        Ok((Some(self.keep(&p, approver)), Some(outcome)))
    }

    /// Keeps a proven patch for `selfheal approve`.
    fn keep(&mut self, p: &Proposal, approver: &mut dyn Approver) -> Verdict {
        match approver.keep(p) {
            Ok(id) => {
                self.record.pending_id = Some(id);
                Verdict::Pending
            }
            Err(why) => {
                self.record.note = Some(format!("the patch could not be kept for approval: {why}"));
                Verdict::NotHealed
            }
        }
    }

    fn push_attempt(&mut self, p: &Proposal, usage: Usage, started: Instant) {
        self.record.attempts.push(AttemptRecord {
            n: p.attempt,
            source: p.source.clone(),
            diagnosis: p.diagnosis.clone(),
            patch: p.diff.clone(),
            risk: Some(p.risk.clone()),
            refused: None,
            validation: p.validation.clone(),
            usage,
            duration_ms: started.elapsed().as_millis() as u64,
        });
    }

    /// Runs the tests on a work copy with the patch written over it.
    async fn prove<V: Validator<Error = ValidateError> + Sync>(
        &mut self,
        p: &Proposal,
        targets: &[Failure],
        validator: &V,
    ) -> Result<Outcome, PipelineError> {
        let cfg = &self.r.config.validate;
        let copy = patched_copy(self.r.repo, &p.patch, &cfg.exclude)?;
        let command = resolve_command(&cfg.command, self.r.repo)?;
        self.emit(Event::Validating {
            attempt: p.attempt,
            command: command.clone(),
        });
        let mut req = ValidationRequest::new(
            copy.path(),
            command,
            Duration::from_secs(cfg.timeout_secs),
            self.r.run_id.clone(),
        );
        req.failing_tests = targets.iter().filter_map(|f| f.test.clone()).collect();
        let outcome = validate_scoped(validator, &req).await?;
        self.emit(Event::Validated {
            attempt: p.attempt,
            outcome: outcome.clone(),
        });
        Ok(outcome)
    }

    fn apply(&mut self, patch: &Patch) -> Result<(), PipelineError> {
        let applied = patch::apply::apply_patch(self.r.repo, &self.r.state_dir, patch)?;
        applied.commit()?;
        let paths = patch
            .paths()
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        self.record.applied = paths.clone();
        self.emit(Event::Applied { paths });
        Ok(())
    }
}

/// A work copy of `repo` with `patch` written over it, for validation.
pub(super) fn patched_copy(
    repo: &Path,
    patch: &Patch,
    exclude: &[String],
) -> Result<WorkCopy, PipelineError> {
    let files: Vec<(String, Option<String>)> = patch
        .files
        .iter()
        .map(|f| (f.path.clone(), f.new.clone()))
        .collect();
    WorkCopy::create(repo, &files, exclude).map_err(|source| PipelineError::WorkCopy {
        repo: repo.to_path_buf(),
        source,
    })
}

fn fixer_patch(files: Vec<fixers::FixedFile>, guard: &Guard) -> Result<Patch, PipelineError> {
    let mut patch = Patch::default();
    for f in files {
        let path = guard.check_path(&f.path)?;
        patch.files.push(patch::FileChange {
            path,
            old: Some(f.old),
            new: Some(f.new),
        });
    }
    Ok(patch)
}

/// Parses and plans a reply; the error text is what the model is told.
fn plan_reply(text: &str, context_files: &[String], guard: &Guard) -> Result<Patch, String> {
    let edits = patch::parse_reply(text).map_err(|e| e.to_string())?;
    patch::plan::plan_patch(&edits, context_files, guard).map_err(|e| e.to_string())
}

/// One candidate patch, parsed and planned, not yet proven.
struct Candidate {
    n: u32,
    diagnosis: String,
    patch: Patch,
    diff: String,
    /// Lines it changes (the cheapest is proven first).
    changed: usize,
    usage: Usage,
    started: Instant,
}

/// What asking for one candidate gave.
enum Gathered {
    Ready(Candidate),
    /// No usable patch; the reason is what the model is told next.
    Refused(String),
    /// The same patch as one already tried or gathered.
    Duplicate,
    Budget(String),
    Fatal(LlmError),
}

/// How this run asks the model: the format and what its prompt is built from.
struct Asking<'a> {
    format: EditFormat,
    focus: Option<&'a focus::Focus>,
    prompts: &'a Prompts,
    brief: &'a Briefing,
    ctx_text: &'a str,
    /// The model sent the failing test back instead of the code: later requests leave
    /// the test out (small models that start rewriting a test they are shown keep at it).
    test_sent_back: std::cell::Cell<bool>,
    /// What a candidate said was wrong without writing code (the reasoning candidate
    /// often stops after its sentence): handed to the next candidate of the round.
    said: std::cell::RefCell<Option<String>>,
}

impl Asking<'_> {
    /// The request of a round; `feedback` is the previous patch and what went wrong.
    fn request(
        &self,
        c: &crate::config::LlmConfig,
        feedback: Option<&(String, String)>,
    ) -> Result<ChatRequest, LlmError> {
        let b = self.brief;
        let mut req = match (self.focus, feedback) {
            (Some(f), fb) => {
                let without_test;
                let f = if self.test_sent_back.get() {
                    without_test = focus::Focus {
                        test: None,
                        ..f.clone()
                    };
                    &without_test
                } else {
                    f
                };
                let previous = fb.map(|(p, o)| (p.as_str(), o.as_str()));
                let purpose = if fb.is_some() { "retry" } else { "patch" };
                let mut r = ChatRequest::from_config(
                    c,
                    purpose,
                    focus::system(self.prompts)?,
                    focus::user_message(self.prompts, f, self.format, previous)?,
                );
                r.done = Done::FencedBlock;
                r
            }
            (None, None) => self
                .prompts
                .patch(c, &b.langs, &b.main_file, "", self.ctx_text)?,
            (None, Some((prev, out))) => {
                self.prompts
                    .retry(c, &b.langs, &b.main_file, self.ctx_text, prev, out)?
            }
        };
        if self.focus.is_none() {
            req.done = Done::EditBlocks;
        }
        req.max_tokens = sizing::reply_cap(c, self.format);
        Ok(req)
    }

    /// Parses and plans a reply; the error text is what the model is told.
    fn plan(&self, text: &str, files: &[String], guard: &Guard) -> Result<Patch, String> {
        match self.focus {
            Some(f) => {
                if f.test
                    .as_ref()
                    .is_some_and(|(_, code)| focus::sends_back(text, code))
                {
                    self.test_sent_back.set(true);
                    // not quoting the test's line back: told which line it started with,
                    // the 1.5B model wrote the test again
                    return Err(format!(
                        "the reply rewrites the test, and the test is right; write `{}` again with the bug fixed",
                        f.editables[0].signature().trim()
                    ));
                }
                let prose = text.trim();
                if !prose.contains("```") && prose.len() > 20 && blames_offered_code(prose, f) {
                    let cut: String = prose.chars().take(MAX_SAID_CHARS).collect();
                    *self.said.borrow_mut() = Some(cut);
                }
                let edits = focus::place(text, &f.editables)?;
                let mut files = files.to_vec();
                files.extend(f.editables.iter().map(|e| e.path.clone()));
                let patch =
                    patch::plan::plan_patch(&edits, &files, guard).map_err(|e| e.to_string())?;
                for file in &patch.files {
                    let (old, new) = (
                        file.old.as_deref().unwrap_or(""),
                        file.new.as_deref().unwrap_or(""),
                    );
                    if let Some(name) = focus::defined_again(old, new).first() {
                        return Err(format!(
                            "the reply defines `{name}` a second time in {}; send back only `{}` whole, corrected",
                            file.path,
                            f.editables[0].signature().trim()
                        ));
                    }
                }
                Ok(patch)
            }
            None => plan_reply(text, files, guard),
        }
    }
}

/// True when `prose` quotes (in backticks) a line of the offered code: reasoning that
/// blames the test (`approx(t, …)` is wrong) would mislead the next candidate.
fn blames_offered_code(prose: &str, f: &focus::Focus) -> bool {
    focus::backticked(prose)
        .filter(|q| q.len() >= 6)
        .any(|q| f.editables.iter().any(|e| e.text.contains(q)))
}

/// Most characters of a reasoning reply handed on to the next candidate.
const MAX_SAID_CHARS: usize = 600;

/// Candidate `i` of a round: the first at the configured temperature, the others sampled
/// warmer (and with another seed) so that they differ. On the short prompt the second is
/// asked to say what is wrong before its code: small models that copy a definition back
/// unchanged when told "no other text" find the bug more often when they reason first
/// (seen with the 1.5B model on js-cart), and the tests judge either way.
fn sampled(base: &ChatRequest, i: u32, c: &crate::config::LlmConfig) -> ChatRequest {
    let mut req = base.clone();
    if i > 0 {
        req.temperature = c.temperature.max((0.55 + 0.15 * i as f32).min(1.0));
        req.seed = base.seed.map(|s| s + i64::from(i));
    }
    if i == 1 && base.done == Done::FencedBlock {
        req.user = req.user.replace(" No other text.", "");
        req.user.push_str(focus::REASON_FIRST);
    }
    req
}

/// What the tests said after a failed proof, briefly: the first failure triage finds in
/// the output (message and a few lines), else the last lines.
fn brief_outcome(outcome: &Outcome) -> String {
    let step = StepLog {
        failed: true,
        lines: outcome.tail.lines().map(str::to_string).collect(),
        ..StepLog::default()
    };
    match parse::parse_step(&step, None).first() {
        Some(f) => {
            let excerpt: Vec<&str> = f.excerpt.lines().collect();
            let keep = &excerpt[excerpt.len().saturating_sub(12)..];
            format!("{}\n{}", f.message.trim(), keep.join("\n"))
        }
        None => {
            let lines: Vec<&str> = outcome.tail.lines().collect();
            lines[lines.len().saturating_sub(15)..].join("\n")
        }
    }
}

/// The `Cause: …` line the prompts ask for, else the first prose line of the reply.
pub fn diagnosis_of(reply: &str) -> String {
    let prose = |l: &&str| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with("```") && !t.starts_with("<<<<<<<") && !t.contains('/')
            || t.to_lowercase().starts_with("cause")
    };
    // code inside a fence is the edit, not what the model said about it
    let mut in_fence = false;
    let outside: Vec<&str> = reply
        .lines()
        .filter(|l| {
            let fence = l.trim_start().starts_with("```");
            if fence {
                in_fence = !in_fence;
            }
            !in_fence && !fence
        })
        .collect();
    let said = outside
        .iter()
        .find(|l| l.trim().to_lowercase().starts_with("cause:"))
        .or_else(|| outside.iter().find(|l| prose(l)))
        .map(|l| l.trim().trim_matches(['*', '#']).trim().to_string());
    if let Some(said) = said {
        return said;
    }
    // a bare code block (the short prompt's answer): name what it rewrites
    let mut code = reply
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("```"));
    match code.nth(1).map(str::trim).filter(|l| !l.is_empty()) {
        Some(first) => format!("rewrites `{first}`"),
        None => String::new(),
    }
}

/// A failed validation's root cause, as triage would sign it: the same signature twice
/// in a row means the model is not making progress.
fn outcome_signature(outcome: &Outcome) -> String {
    let step = StepLog {
        failed: true,
        lines: outcome.tail.lines().map(str::to_string).collect(),
        ..StepLog::default()
    };
    let failures = parse::parse_step(&step, None);
    match failures.first() {
        Some(f) => signature::signature_of(f),
        None => signature::normalise(outcome.tail.lines().last().unwrap_or("")),
    }
}

/// What the model is shown about the failures: the context and what it implies.
pub struct Briefing {
    pub ctx: context::Context,
    pub ctx_text: String,
    /// Repo files in the context, in rank order.
    pub files: Vec<String>,
    pub langs: Vec<Language>,
    /// The file named in the edit-format example.
    pub main_file: String,
}

/// Builds the context for `targets` within `budget` tokens.
pub fn brief(targets: &[Failure], repo: &Path, budget: usize) -> Briefing {
    let ctx = context::build(targets, repo, budget);
    let ctx_text = ctx.render();
    let files = context_files(&ctx);
    let langs = languages(&ctx, targets, &files);
    let main_file = ctx
        .primary_file
        .clone()
        .or_else(|| files.first().cloned())
        .unwrap_or_default();
    Briefing {
        ctx,
        ctx_text,
        files,
        langs,
        main_file,
    }
}

/// The first request the loop sends for `targets` (what `--print-prompt` shows).
pub fn first_request(
    config: &Config,
    targets: &[Failure],
    repo: &Path,
) -> Result<(ChatRequest, usize), LlmError> {
    let b = brief(
        targets,
        repo,
        crate::llm::sizing::context_tokens(&config.llm),
    );
    let req = Prompts::from_config(&config.llm)?.patch(
        &config.llm,
        &b.langs,
        &b.main_file,
        "",
        &b.ctx_text,
    )?;
    Ok((req, b.ctx.tokens))
}

/// Repo files the model was shown, in rank order, once each.
fn context_files(ctx: &context::Context) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for path in ctx.pieces.iter().filter_map(|p| p.path.clone()) {
        if !files.contains(&path) {
            files.push(path);
        }
    }
    files
}

fn languages(ctx: &context::Context, targets: &[Failure], files: &[String]) -> Vec<Language> {
    let mut langs: Vec<Language> = ctx.languages.clone();
    langs.extend(files.iter().filter_map(|f| Language::from_path(f)));
    langs.extend(targets.iter().filter_map(|f| Language::from_tool(&f.tool)));
    let mut unique = Vec::new();
    for l in langs {
        if !unique.contains(&l) {
            unique.push(l);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnosis_prefers_the_cause_line() {
        assert_eq!(
            diagnosis_of("Sure!\nCause: off-by-one in range()\ncalc.py\n<<<<<<< SEARCH"),
            "Cause: off-by-one in range()"
        );
        assert_eq!(
            diagnosis_of("**The loop stops one early.**\n```python"),
            "The loop stops one early."
        );
        assert_eq!(
            diagnosis_of("```go\nfunc (s *Store) Set(k string) {\n\ts.data[k] = 1\n}\n```\n"),
            "rewrites `func (s *Store) Set(k string) {`"
        );
        assert_eq!(
            diagnosis_of("The map is never made.\n\n```go\nfunc New() *Store {\n}\n```"),
            "The map is never made."
        );
    }

    #[test]
    fn reasoning_is_handed_on_only_when_it_blames_the_offered_code() {
        let f = focus::Focus {
            failure: "unit Circle.Area = 6.28, want 3.14".into(),
            test: None,
            editables: vec![focus::Editable {
                path: "shapes/shapes.go".into(),
                first: 23,
                last: 23,
                text: "func (c Circle) Area() float64 { return 2 * math.Pi * c.R }".into(),
            }],
            files: String::new(),
        };
        assert!(blames_offered_code(
            "The line `return 2 * math.Pi * c.R` is wrong: the area is pi r squared.",
            &f
        ));
        assert!(!blames_offered_code(
            "The line `approx(t, \"unit Circle.Area\", Circle{R: 1}.Area(), math.Pi)` is wrong because it compares the area with itself.",
            &f
        ));
        assert!(!blames_offered_code("The area formula is wrong.", &f));
    }

    #[test]
    fn candidates_differ_and_the_second_on_the_short_prompt_reasons_first() {
        let c = crate::config::Config::defaults().llm;
        let mut base =
            ChatRequest::from_config(&c, "patch", "sys".into(), "Write it. No other text.".into());
        base.seed = Some(42);
        base.done = Done::FencedBlock;
        let (a, b, third) = (
            sampled(&base, 0, &c),
            sampled(&base, 1, &c),
            sampled(&base, 2, &c),
        );
        assert_eq!(a, base);
        assert!(b.user.ends_with(focus::REASON_FIRST) && b.seed == Some(43) && b.temperature > 0.5);
        assert!(!b.user.contains("No other text"), "{}", b.user);
        assert_eq!(third.user, "Write it. No other text.");
        assert!(third.temperature > b.temperature);
        base.done = Done::EditBlocks;
        assert_eq!(
            sampled(&base, 1, &c).user,
            "Write it. No other text.",
            "search/replace prompts are left alone"
        );
    }
}
