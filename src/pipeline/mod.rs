//! The repair loop: choose the failures to fix, try the deterministic fixers, build the
//! context, ask the model for a patch, check it (parse, guard, risk), get approval,
//! prove it on a work copy of the tree, and only then apply it to the working tree;
//! on a failed proof, retry with what the tests said ([`repair`]). [`Driver`] is the one
//! entry point the subcommands call: it wires the provider, the validator, the failure
//! memory and the approval queue around the loop. Emits [`Event`]s for the reporters
//! (`report::events`); prints nothing itself.

pub mod driver;
pub mod focus;
pub mod record;
pub mod repair;

pub use driver::{Driver, LlmSource, RepairJob, SandboxProgress, recover};
pub use record::{AttemptRecord, RunRecord, Verdict};
pub use repair::{Approver, Decision, Mode, PipelineError, Proposal, Repair, repair};

use crate::llm::Usage;
use crate::validate::Outcome;

/// Adds the code under test to a triage's ranked files ("likely fix in", `--json`) when the
/// repository is at hand (`offline --repo-dir`, `run`): what the failing test calls, what it
/// patches, the innermost repository frame (`context::localise`).
pub fn locate_code_under_test(t: &mut crate::logs::triage::Triage, repo: &std::path::Path) {
    crate::context::localise::refine(t, repo);
}

/// What happened, as it happens. `report::events` renders these for the CLI.
#[derive(Clone, Debug)]
pub enum Event {
    Started {
        targets: usize,
        max_attempts: u32,
    },
    FixerFailed {
        name: String,
        why: String,
    },
    PromptBuilt {
        attempt: u32,
        prompt_tokens: usize,
        context_tokens: usize,
        /// Earlier fixes of similar failures shown as examples, and their tokens.
        examples: usize,
        example_tokens: usize,
    },
    /// An earlier fix of a similar failure was left out of the prompt: its text addresses
    /// the model.
    ExampleRefused {
        signature: String,
    },
    Replied {
        attempt: u32,
        usage: Usage,
        truncated: bool,
    },
    PatchRefused {
        attempt: u32,
        why: String,
    },
    Proposed(Box<Proposal>),
    Validating {
        attempt: u32,
        command: String,
    },
    Validated {
        attempt: u32,
        outcome: Outcome,
    },
    NoProgress {
        attempt: u32,
    },
    Applied {
        paths: Vec<String>,
    },
    /// Text in the logs or code that addresses the model ("ignore previous instructions").
    InjectionSuspected {
        lines: Vec<String>,
    },
    Prompt {
        system: String,
        user: String,
    },
    /// Trouble that does not stop the repair (the failure memory, the run record).
    Warning(String),
}

/// Where a proposal came from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Llm,
    Fixer(String),
    /// A validated fix of the same failure signature, from the failure memory.
    Memory,
}
