//! The run record `<state>/runs/<id>.json`: every attempt, its patch, tokens, durations
//! and outcome, written atomically; `--json` prints the same document.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Source;
use crate::llm::Usage;
use crate::logs::Failure;
use crate::risk::Risk;
use crate::validate::Outcome;

pub const SCHEMA: u32 = 1;

/// How a repair ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A validated patch was applied to the working tree.
    Healed,
    /// A validated patch waits in the queue for `selfheal approve`.
    Pending,
    /// `--dry-run`: the patch was shown, nothing was written.
    DryRun,
    /// `--print-prompt`: the prompt was shown, nothing was sent.
    PromptPrinted,
    /// The user said no.
    Rejected,
    /// No patch passed validation within the attempts or the budget.
    NotHealed,
    /// Only failures no code change fixes (timeouts, OOM, network, runner trouble).
    NoCodeChange,
}

impl Verdict {
    pub fn exit_code(self) -> i32 {
        use crate::error::exit;
        match self {
            Verdict::Healed | Verdict::DryRun | Verdict::PromptPrinted => exit::SUCCESS,
            Verdict::Pending => exit::NEEDS_APPROVAL,
            Verdict::Rejected | Verdict::NotHealed => exit::NOT_HEALED,
            Verdict::NoCodeChange => exit::NOTHING_FOUND,
        }
    }
}

/// One attempt: a proposal and what became of it.
#[derive(Clone, Debug, Serialize)]
pub struct AttemptRecord {
    pub n: u32,
    pub source: Source,
    pub diagnosis: String,
    /// The patch as a git-apply-compatible diff; empty when none could be made.
    pub patch: String,
    pub risk: Option<Risk>,
    /// Why the reply could not become a patch (fed back to the model).
    pub refused: Option<String>,
    pub validation: Option<Outcome>,
    pub usage: Usage,
    pub duration_ms: u64,
}

/// The whole repair, as saved and as printed by `--json`.
#[derive(Clone, Debug, Serialize)]
pub struct RunRecord {
    pub schema: u32,
    pub id: String,
    pub repo: PathBuf,
    pub verdict: Verdict,
    pub failures: Vec<Failure>,
    pub attempts: Vec<AttemptRecord>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_usd: f64,
    /// True when a model with no known price answered: `cost_usd` leaves its calls out.
    pub cost_unknown: bool,
    pub llm_calls: u32,
    /// Repairs made by a fixer, not the model.
    pub llm_calls_saved: u32,
    /// Earlier fixes of similar failures given to the model as examples (failure memory).
    pub examples: u32,
    /// Tokens those examples took in each prompt (taken out of the context's budget).
    pub example_tokens: u64,
    pub pending_id: Option<String>,
    pub applied: Vec<String>,
    /// The last patch that passed validation (for the failure memory); not in the JSON.
    #[serde(skip)]
    pub patch: Option<crate::patch::Patch>,
    pub duration_ms: u64,
    /// Why it stopped, in words, when it did not heal.
    pub note: Option<String>,
    /// Lines that looked like prompt injection; their presence blocks auto-approval.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub injection: Vec<crate::risk::injection::Suspect>,
    /// How the model was asked to write its edit: `search_replace`, `function`, `whole_file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_format: Option<String>,
    /// Model replies that parsed into an edit in that format, and ones that did not (the
    /// failure memory keeps both, per model, for `edit_format = "auto"`).
    #[serde(skip_serializing_if = "is_zero")]
    pub replies_parsed: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub replies_unparsed: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl RunRecord {
    /// The cost for people: dollars, or "cost unknown" when a call had no price.
    pub fn cost_text(&self) -> String {
        cost_text(self.cost_usd, self.cost_unknown)
    }

    /// Writes `<state>/runs/<id>.json` atomically.
    pub fn save(&self, state_dir: &Path) -> std::io::Result<PathBuf> {
        let path = state_dir.join("runs").join(format!("{}.json", self.id));
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        crate::store::write_atomic(&path, &json)?;
        Ok(path)
    }
}

/// A run id that sorts by time: `20261124T101502-<pid hex>`.
pub fn new_run_id() -> String {
    let now = std::time::SystemTime::now();
    let millis = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_millis();
    format!(
        "{}-{:x}{millis:03x}",
        crate::date::Utc::from_system(now).compact(),
        std::process::id(),
    )
}

/// `$0.0123`, or `cost unknown` when some of it could not be priced (never shown as free).
pub fn cost_text(cost_usd: f64, unknown: bool) -> String {
    match (unknown, cost_usd > 0.0) {
        (false, _) => format!("${cost_usd:.4}"),
        (true, false) => "cost unknown".to_string(),
        (true, true) => format!("${cost_usd:.4} + unknown"),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_unpriced_model_is_never_shown_as_free() {
        assert_eq!(cost_text(0.0012, false), "$0.0012");
        assert_eq!(cost_text(0.0, false), "$0.0000");
        assert_eq!(cost_text(0.0, true), "cost unknown");
        assert_eq!(cost_text(0.5, true), "$0.5000 + unknown");
    }
    use super::*;

    #[test]
    fn run_ids_start_with_the_date() {
        assert!(new_run_id().starts_with("20"));
    }

    #[test]
    fn verdicts_map_to_exit_codes() {
        use crate::error::exit;
        assert_eq!(Verdict::Healed.exit_code(), exit::SUCCESS);
        assert_eq!(Verdict::Pending.exit_code(), exit::NEEDS_APPROVAL);
        assert_eq!(Verdict::NotHealed.exit_code(), exit::NOT_HEALED);
        assert_eq!(Verdict::NoCodeChange.exit_code(), exit::NOTHING_FOUND);
    }
}
