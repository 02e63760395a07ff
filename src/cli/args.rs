//! The clap types: global flags and one struct per subcommand. Flags are `Option`s so
//! that "not given" falls through to the config file and the environment.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Heals failed CI runs: finds the root cause in GitHub Actions logs, proposes a fix,
/// proves it by running the tests, and can open a pull request.
#[derive(Debug, Parser)]
#[command(name = "selfheal", version, about, long_about = None, after_help = after_help())]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

fn after_help() -> String {
    format!(
        "{}\nEnvironment: GH_TOKEN, GITHUB_TOKEN (in that order), OPENAI_API_KEY, OPENAI_BASE_URL, \
         SELFHEAL_<SECTION>_<KEY>, NO_COLOR, CI, RUST_LOG.\nConfiguration: self-heal.toml at the repository root \
         (see self-heal.toml.example).",
        crate::error::exit::help_text()
    )
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Read configuration from PATH instead of ./self-heal.toml.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Ignore self-heal.toml: embedded defaults, environment and flags only.
    #[arg(long, global = true)]
    pub no_config: bool,
    /// Print only JSON on stdout (schema documented in README.md, `"schema": 1`).
    #[arg(long, global = true)]
    pub json: bool,
    /// When to colour output [default: from config, else auto; NO_COLOR is honoured].
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    pub color: Option<ColorWhen>,
    /// Where selfheal keeps its cache, pending patches and run records [default: .selfheal].
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<String>,
    /// More detail on stderr: -v selfheal's debug messages (retries, waits, sandbox steps),
    /// -vv the libraries' too; RUST_LOG, when set, is the filter instead.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SandboxKind {
    Docker,
    Local,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find failed GitHub Actions runs, heal them, and open pull requests.
    Run(RunArgs),
    /// Pre-flight: say what is missing (token, LLM endpoint, Docker, git identity, …).
    Check(CheckArgs),
    /// Triage and repair from cached or given logs, with no GitHub access.
    Offline(OfflineArgs),
    /// Review pending patches, in the terminal or on a local web page.
    Approve(ApproveArgs),
    /// Recent repairs, success rates per tool and kind, tokens, cost, LLM calls saved.
    History(HistoryArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print the man page (roff) of selfheal or of one subcommand.
    Man(ManArgs),
    /// Sandbox images: `build` makes selfheal's Debian images where no registry answers.
    Sandbox(SandboxArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A subcommand whose page to print (`selfheal-run(1)`); without it, `selfheal(1)`.
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub action: SandboxAction,
}

#[derive(Debug, Subcommand)]
pub enum SandboxAction {
    /// Build the Debian base image from the recipe in this binary (debootstrap, no registry;
    /// needs root), then the language images [default: the language of the current directory].
    Build(SandboxBuildArgs),
}

#[derive(Debug, Args)]
pub struct SandboxBuildArgs {
    /// Also build the image for this language (repeatable).
    #[arg(long, value_parser = parse_lang)]
    pub lang: Vec<crate::validate::Lang>,
    /// Build the images of every language selfheal knows.
    #[arg(long, conflicts_with = "lang")]
    pub all: bool,
    /// Build only the base image (language images are built from it when first needed).
    #[arg(long, conflicts_with_all = ["lang", "all"])]
    pub base_only: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How many recent repairs to list.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

/// Flags shared by every subcommand that repairs.
#[derive(Debug, Args)]
pub struct RepairArgs {
    /// Approve the patch without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the patch, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Where to run the tests [default: docker in CI, else local].
    #[arg(long, value_enum)]
    pub sandbox: Option<SandboxKind>,
    /// Repair attempts before giving up [default: from self-heal.toml, else 3].
    #[arg(long, env = "SELFHEAL_MAX_ATTEMPTS", value_name = "N")]
    pub max_attempts: Option<u32>,
    /// LLM model id [default: from config, env SELFHEAL_MODEL].
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// Print the prompt that would be sent, and send nothing.
    #[arg(long)]
    pub print_prompt: bool,
    /// Save every LLM exchange (masked) to DIR.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Answer LLM requests from a recording in DIR, with no network.
    #[arg(long, value_name = "DIR", conflicts_with = "record")]
    pub replay: Option<PathBuf>,
    /// Force this tool's parser instead of detecting it (pytest, cargo, go, tsc, …).
    #[arg(long, value_name = "TOOL")]
    pub tool: Option<String>,
    /// Output format; `--json` is the same as `--format json`; `sarif` prints the
    /// failures as SARIF 2.1.0 (in `offline`, triage only, like --no-llm).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Also write the failures as SARIF 2.1.0 to PATH (for code scanning's upload-sarif).
    #[arg(long, value_name = "PATH")]
    pub sarif_out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct OfflineArgs {
    /// A run-log ZIP, a job log (.txt), a cached run directory, a GitLab or Jenkins log, or `-` for stdin.
    #[arg(value_name = "LOGS")]
    pub logs: String,
    /// The checkout to check paths against and repair [default: current directory if it is a git repository].
    #[arg(long, value_name = "DIR")]
    pub repo_dir: Option<PathBuf>,
    /// Triage only: report the root causes, call no LLM, change nothing.
    #[arg(long)]
    pub no_llm: bool,
    /// Logs of the last green run of the same job: lines that also occur there are dropped.
    #[arg(long, value_name = "LOGS")]
    pub baseline: Option<String>,
    /// The CI that wrote a text log [default: detected from its first lines].
    #[arg(long, value_name = "CI", value_parser = ["github", "gitlab", "jenkins", "plain"])]
    pub from: Option<String>,
    #[command(flatten)]
    pub repair: RepairArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// OWNER/NAME [default: GITHUB_REPOSITORY, else the origin remote].
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// GitHub API base URL [default: GITHUB_API_URL, else https://api.github.com].
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Only this run.
    #[arg(long, value_name = "ID")]
    pub run_id: Option<u64>,
    #[arg(long)]
    pub branch: Option<String>,
    /// Workflow file name or id.
    #[arg(long)]
    pub workflow: Option<String>,
    #[arg(long)]
    pub event: Option<String>,
    /// Only runs created since (YYYY-MM-DD or a duration like 2d).
    #[arg(long)]
    pub since: Option<String>,
    /// At most this many runs.
    #[arg(long, default_value_t = 5)]
    pub limit: u32,
    /// Keep polling for new failures until interrupted.
    #[arg(long)]
    pub watch: bool,
    /// Open the pull request as a draft.
    #[arg(long)]
    pub draft: bool,
    /// Push nothing and open no pull request.
    #[arg(long)]
    pub no_pr: bool,
    /// Act even on failures whose earlier fix was rejected.
    #[arg(long)]
    pub force: bool,
    /// Patch failures judged flaky too (passed on a re-run or on the same commit).
    #[arg(long)]
    pub heal_flaky: bool,
    /// Do not fetch the last green run's log to subtract from the failed one.
    #[arg(long)]
    pub no_baseline: bool,
    /// Never re-run a flaky run's failed jobs [default: from [github] rerun_flaky, on in CI].
    #[arg(long)]
    pub no_rerun: bool,
    /// Triage only: the diagnosis (and a comment on the run's pull request), no LLM, no
    /// sandbox, no pull request. Always so for a run whose commit comes from a fork.
    #[arg(long)]
    pub triage_only: bool,
    #[command(flatten)]
    pub repair: RepairArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Also make one tiny completion and start one container.
    #[arg(long)]
    pub deep: bool,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// `show ID`, or the ID of a pending patch to apply. Without it, list the queue.
    #[arg(value_name = "ID|show")]
    pub target: Vec<String>,
    /// Reject this pending patch.
    #[arg(long, value_name = "ID")]
    pub reject: Option<String>,
    /// Why it was rejected (kept in the history).
    #[arg(long, requires = "reject")]
    pub reason: Option<String>,
    /// Serve the review page on 127.0.0.1.
    #[arg(long)]
    pub web: bool,
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Apply without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// `--lang`: one of the languages selfheal has images for.
fn parse_lang(name: &str) -> Result<crate::validate::Lang, String> {
    crate::validate::Lang::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = crate::validate::Lang::ALL
            .iter()
            .map(|l| l.name())
            .collect();
        format!("unknown language {name:?}; use one of {}", known.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_lists_exit_codes_and_subcommands() {
        let help = Cli::command().render_long_help().to_string();
        for word in [
            "run",
            "check",
            "offline",
            "approve",
            "needs-approval",
            "nothing-found",
            "GH_TOKEN",
        ] {
            assert!(help.contains(word), "--help lacks {word}");
        }
    }
}
