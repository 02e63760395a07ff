//! Configuration, resolved once into one [`Config`]:
//! embedded defaults < `self-heal.toml` (repo root, or `--config PATH`) < environment < flags.
//!
//! This is the only module that reads environment variables and config files. The
//! environment is passed in as an [`Env`] snapshot so tests can set any of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, exit};

/// The embedded defaults; `self-heal.toml.example` documents the same keys.
pub const DEFAULTS: &str = include_str!("defaults.toml");
/// The file looked for at the repository root when `--config` is not given.
pub const FILE_NAME: &str = "self-heal.toml";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    pub github: GithubConfig,
    pub llm: LlmConfig,
    pub logs: LogsConfig,
    pub policy: PolicyConfig,
    pub validate: ValidateConfig,
    pub publish: PublishConfig,
    pub approve: ApproveConfig,
    pub output: OutputConfig,
    pub state: StateConfig,
    pub memory: MemoryConfig,
    /// Facts from the environment that are not keys of the file.
    #[serde(skip)]
    pub env: EnvFacts,
    /// Where the file layer came from, if any.
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// `unknown key … in …` and similar, for the CLI to print.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GithubConfig {
    pub api_url: String,
    pub token: String,
    pub repo: String,
    pub excluded_workflows: Vec<String>,
    pub excluded_branch_prefixes: Vec<String>,
    pub poll_interval_secs: u64,
    pub max_wait_secs: u64,
    /// `run`: drop log lines that the last green run of the same job also has.
    pub green_baseline: bool,
    /// `run`: patch failures judged flaky too (by default they are only reported).
    pub heal_flaky: bool,
    /// Earlier flaky judgments of the same failure that make memory alone say "flaky".
    pub flaky_after: u32,
    /// Base URL for git fetch and push (`https://HOST`); empty: derived from `api_url`.
    pub git_url: String,
    /// Errors in a row after which `run` stops retrying a run.
    pub max_error_retries: u32,
    /// `run`: re-run a flaky run's failed jobs once: `auto` (in CI), `on` or `off`.
    pub rerun_flaky: String,
    /// A GitHub App to act as (0: none; the token is used).
    pub app_id: u64,
    /// The App's private key (PEM); `SELFHEAL_GITHUB_APP_PRIVATE_KEY` holds the PEM itself.
    pub app_private_key_path: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LlmConfig {
    pub base_url: String,
    pub api_key: String,
    pub model: String,
    pub temperature: f32,
    pub max_tokens: u32,
    pub timeout_secs: u64,
    pub max_retries: u32,
    pub max_retry_wait_secs: u64,
    pub context_tokens: usize,
    pub max_tokens_per_run: u64,
    pub max_cost_per_run: f64,
    /// US dollars a day (UTC) after which no new repair starts; 0: no cap.
    pub max_cost_usd_per_day: f64,
    /// The price of a model missing from `prices`, per million tokens (0: unknown).
    pub price_in_per_mtok: f64,
    pub price_out_per_mtok: f64,
    pub prompts_dir: String,
    pub prices: BTreeMap<String, Price>,
}

/// US dollars per million tokens.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LogsConfig {
    pub max_inflated_bytes: u64,
    pub max_ratio: u64,
    pub tail_lines: usize,
    pub max_line_bytes: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PolicyConfig {
    pub allowed_paths: Vec<String>,
    pub denied_paths: Vec<String>,
    pub allow_workflow_edits: bool,
    pub max_file_bytes: u64,
    pub max_auto_risk: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ValidateConfig {
    pub command: String,
    pub setup: String,
    pub timeout_secs: u64,
    pub max_attempts: u32,
    /// `auto` (docker in CI; outside CI docker when an engine answers, else local with a
    /// warning), `docker` or `local`.
    pub sandbox: String,
    pub image: String,
    /// Default images when `image` and `dockerfile` are unset: `auto` (the official image
    /// for the language when a registry answers, else selfheal's Debian images), `official`
    /// or `local`.
    pub images: String,
    /// Pull a missing image through the engine.
    pub pull: bool,
    /// A registry path official images are pulled through (`mirror.example/library`).
    pub registry_mirror: String,
    pub dockerfile: String,
    pub memory_mb: u64,
    pub cpus: f64,
    pub pids: i64,
    pub network: bool,
    pub exclude: Vec<String>,
    /// Variables the local sandbox leaves in the tests' environment although their names
    /// look like secrets (`*_TOKEN`, `*_KEY`, `*_SECRET`, `*PASSWORD*`, cloud credentials).
    pub pass_env: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PublishConfig {
    pub pr: bool,
    pub draft: bool,
    pub labels: Vec<String>,
    pub max_open_prs: u32,
    pub branch_prefix: String,
    pub author_name: String,
    pub author_email: String,
    pub signoff: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApproveConfig {
    pub port: u16,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutputConfig {
    /// `auto`, `always` or `never`.
    pub color: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StateConfig {
    pub dir: String,
}

/// Few-shot examples from the failure memory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemoryConfig {
    /// Most similar fixes shown to the model (0: none).
    pub examples: usize,
    /// Share of `llm.context_tokens` the examples may take (0.0 to 0.5).
    pub examples_share: f64,
    /// Tokens one example may take.
    pub example_max_tokens: usize,
}

/// Environment facts the stages need, read once here.
#[derive(Clone, Debug, Default)]
pub struct EnvFacts {
    pub no_color: bool,
    pub ci: bool,
    /// Running inside GitHub Actions (`GITHUB_ACTIONS=true`).
    pub actions: bool,
    pub github_repository: Option<String>,
    pub github_step_summary: Option<PathBuf>,
    pub github_output: Option<PathBuf>,
    pub docker_host: Option<String>,
    /// Which variable the GitHub token came from (never the token itself).
    pub token_source: Option<&'static str>,
    /// `SELFHEAL_GITHUB_APP_PRIVATE_KEY`: a GitHub App's private key (PEM), as CI secrets
    /// hold it.
    pub app_private_key: Option<secrecy::SecretString>,
}

/// A snapshot of the process environment (or a test's).
#[derive(Clone, Debug, Default)]
pub struct Env(pub BTreeMap<String, String>);

impl Env {
    pub fn from_process() -> Env {
        Env(std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect())
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
    fn is_true(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "0" | "false" | "no"))
    }
}

/// What the caller tells `load`: where the file is, and flag overrides as dotted keys.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `--config PATH`; otherwise `<repo_root>/self-heal.toml` if present.
    pub config_path: Option<PathBuf>,
    pub repo_root: Option<PathBuf>,
    /// `--no-config`: defaults, env and flags only.
    pub no_config: bool,
    /// Flag values, e.g. `("llm.model", "gpt-4o".into())`; highest precedence.
    pub flags: Vec<(String, toml::Value)>,
}

/// Short environment names kept for convenience, beside `SELFHEAL_<SECTION>_<KEY>`.
const ENV_ALIASES: &[(&str, &str)] = &[
    ("SELFHEAL_MODEL", "llm.model"),
    ("SELFHEAL_MAX_ATTEMPTS", "validate.max_attempts"),
    ("SELFHEAL_SANDBOX", "validate.sandbox"),
    ("SELFHEAL_STATE_DIR", "state.dir"),
    ("OPENAI_BASE_URL", "llm.base_url"),
    ("OPENAI_API_KEY", "llm.api_key"),
    ("GITHUB_API_URL", "github.api_url"),
];

impl Config {
    /// The embedded defaults alone.
    pub fn defaults() -> Config {
        toml::from_str(DEFAULTS).expect("embedded defaults parse")
    }

    /// Resolves every layer into one `Config`.
    pub fn load(env: &Env, opts: &LoadOptions) -> Result<Config, Error> {
        let mut table: toml::Table = toml::from_str(DEFAULTS).expect("embedded defaults parse");
        let mut warnings = Vec::new();
        let source = if opts.no_config {
            None
        } else {
            config_file(opts)?
        };
        if let Some(path) = &source {
            let file = read_file_layer(path, &mut warnings)?;
            merge(&mut table, file);
        }
        apply_env(&mut table, env, &mut warnings);
        for (key, value) in &opts.flags {
            set_dotted(&mut table, key, value.clone());
        }
        let mut config: Config = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| {
            Error::usage(format!("invalid configuration: {}", e.message().trim()))
                .with_hint("check the types of the keys you set in self-heal.toml, SELFHEAL_* variables and flags")
        })?;
        config.validate()?;
        config.env = env_facts(env, &mut config);
        config.source = source;
        config.warnings = warnings;
        Ok(config)
    }

    fn validate(&self) -> Result<(), Error> {
        if !matches!(self.validate.sandbox.as_str(), "auto" | "docker" | "local") {
            return Err(
                Error::usage(format!("validate.sandbox is {:?}", self.validate.sandbox))
                    .with_hint("use \"auto\", \"docker\" or \"local\""),
            );
        }
        if !matches!(self.validate.images.as_str(), "auto" | "official" | "local") {
            return Err(
                Error::usage(format!("validate.images is {:?}", self.validate.images))
                    .with_hint("use \"auto\", \"official\" or \"local\""),
            );
        }
        if !matches!(self.output.color.as_str(), "auto" | "always" | "never") {
            return Err(
                Error::usage(format!("output.color is {:?}", self.output.color))
                    .with_hint("use \"auto\", \"always\" or \"never\""),
            );
        }
        if !(0.0..=0.5).contains(&self.memory.examples_share) {
            return Err(Error::usage(format!(
                "memory.examples_share is {}",
                self.memory.examples_share
            ))
            .with_hint("use a share of the context budget between 0.0 and 0.5, e.g. 0.15"));
        }
        if !matches!(self.github.rerun_flaky.as_str(), "auto" | "on" | "off") {
            return Err(Error::usage(format!(
                "github.rerun_flaky is {:?}",
                self.github.rerun_flaky
            ))
            .with_hint("use \"auto\" (in CI), \"on\" or \"off\""));
        }
        if self.validate.max_attempts == 0 {
            return Err(
                Error::usage("validate.max_attempts is 0").with_hint("allow at least 1 attempt")
            );
        }
        Ok(())
    }

    /// The sandbox to use: `docker`, `local`, or (outside CI) `auto`: docker when an engine
    /// answers, else local with a warning.
    pub fn sandbox(&self) -> &str {
        match self.validate.sandbox.as_str() {
            "auto" if self.env.ci => "docker",
            other => other,
        }
    }

    /// Whether `run` re-runs the failed jobs of a run judged flaky.
    pub fn rerun_flaky(&self) -> bool {
        match self.github.rerun_flaky.as_str() {
            "auto" => self.env.ci,
            other => other == "on",
        }
    }

    /// The state directory, relative paths taken from `base` (the repo root).
    pub fn state_dir(&self, base: &Path) -> PathBuf {
        base.join(&self.state.dir)
    }
}

fn config_file(opts: &LoadOptions) -> Result<Option<PathBuf>, Error> {
    if let Some(path) = &opts.config_path {
        if !path.is_file() {
            return Err(
                Error::usage(format!("config file {} does not exist", path.display()))
                    .with_hint("pass an existing file to --config, or drop the flag"),
            );
        }
        return Ok(Some(path.clone()));
    }
    Ok(opts
        .repo_root
        .as_ref()
        .map(|r| r.join(FILE_NAME))
        .filter(|p| p.is_file()))
}

/// Parses the file, warning once per unknown key with its dotted path.
fn read_file_layer(path: &Path, warnings: &mut Vec<String>) -> Result<toml::Table, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("cannot read {}", path.display())).with_source(e))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        Error::usage(format!(
            "{} is not valid TOML: {}",
            path.display(),
            e.message().trim()
        ))
        .with_hint("fix the file, or start again from self-heal.toml.example")
    })?;
    let mut known: toml::Table = toml::from_str(DEFAULTS).expect("embedded defaults parse");
    merge(&mut known, table.clone());
    let de = toml::Value::Table(known);
    let _: Result<Config, _> = serde_ignored::deserialize(de, |p| {
        warnings.push(format!("unknown key `{p}` in {} (ignored)", path.display()));
    });
    Ok(table)
}

/// `SELFHEAL_<SECTION>_<KEY>` for every key of the defaults, then the aliases.
fn apply_env(table: &mut toml::Table, env: &Env, warnings: &mut Vec<String>) {
    let defaults: toml::Table = toml::from_str(DEFAULTS).expect("embedded defaults parse");
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (section, value) in &defaults {
        let Some(keys) = value.as_table() else {
            continue;
        };
        for key in keys.keys() {
            let var = format!("SELFHEAL_{}_{}", section.to_uppercase(), key.to_uppercase());
            pairs.push((var, format!("{section}.{key}")));
        }
    }
    pairs.extend(
        ENV_ALIASES
            .iter()
            .map(|(v, k)| (v.to_string(), k.to_string())),
    );
    for (var, key) in pairs {
        let Some(raw) = env.get(&var) else { continue };
        let current = get_dotted(table, &key).cloned();
        match parse_like(raw, current.as_ref()) {
            Some(v) => set_dotted(table, &key, v),
            None => warnings.push(format!(
                "{var}={raw:?} is not a valid value for {key} (ignored)"
            )),
        }
    }
}

/// Parses an environment string as the same type as the default it replaces.
fn parse_like(raw: &str, like: Option<&toml::Value>) -> Option<toml::Value> {
    use toml::Value;
    Some(match like {
        Some(Value::Integer(_)) => Value::Integer(raw.trim().parse().ok()?),
        Some(Value::Float(_)) => Value::Float(raw.trim().parse().ok()?),
        Some(Value::Boolean(_)) => Value::Boolean(match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => return None,
        }),
        Some(Value::Array(_)) => Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.into()))
                .collect(),
        ),
        _ => Value::String(raw.to_string()),
    })
}

fn env_facts(env: &Env, config: &mut Config) -> EnvFacts {
    let mut facts = EnvFacts {
        no_color: env.get("NO_COLOR").is_some(),
        ci: env.is_true("CI"),
        actions: env.is_true("GITHUB_ACTIONS"),
        github_repository: env.get("GITHUB_REPOSITORY").map(str::to_string),
        github_step_summary: env.get("GITHUB_STEP_SUMMARY").map(PathBuf::from),
        github_output: env.get("GITHUB_OUTPUT").map(PathBuf::from),
        docker_host: env.get("DOCKER_HOST").map(str::to_string),
        token_source: None,
        app_private_key: env
            .get("SELFHEAL_GITHUB_APP_PRIVATE_KEY")
            .map(|pem| secrecy::SecretString::from(pem.to_string())),
    };
    // gh's order: GH_TOKEN, then GITHUB_TOKEN, then the config file.
    for var in ["GH_TOKEN", "GITHUB_TOKEN"] {
        if let Some(token) = env.get(var) {
            config.github.token = token.to_string();
            facts.token_source = Some(var);
            break;
        }
    }
    if facts.token_source.is_none() && !config.github.token.is_empty() {
        facts.token_source = Some("config");
    }
    facts
}

/// Deep-merges `over` into `base`: tables merge, everything else replaces.
pub fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) if k != "prices" => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn get_dotted<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let (section, leaf) = key.split_once('.')?;
    table.get(section)?.as_table()?.get(leaf)
}

fn set_dotted(table: &mut toml::Table, key: &str, value: toml::Value) {
    let (section, leaf) = key.split_once('.').unwrap_or(("", key));
    let entry = table
        .entry(section.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(t) = entry.as_table_mut() {
        t.insert(leaf.to_string(), value);
    }
}

/// Every leaf key of a TOML table as `section.key` (price tables count as one key).
pub fn leaf_keys(table: &toml::Table) -> Vec<String> {
    let mut out = Vec::new();
    for (section, v) in table {
        if let Some(t) = v.as_table() {
            for key in t.keys() {
                out.push(format!("{section}.{key}"));
            }
        }
    }
    out.sort();
    out
}

/// Exit code for configuration problems.
pub const EXIT: i32 = exit::USAGE;

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env(pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    #[test]
    fn defaults_load() {
        let c = Config::load(&env(&[]), &LoadOptions::default()).unwrap();
        assert_eq!(c.validate.max_attempts, 3);
        assert_eq!(c.llm.context_tokens, 6000);
        assert_eq!(
            c.sandbox(),
            "auto",
            "docker when an engine answers, else local"
        );
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE_NAME),
            "[llm]\nmodel = \"from-file\"\ntemperature = 0.5\n[validate]\nmax_attempts = 5\n",
        )
        .unwrap();
        let opts = LoadOptions {
            repo_root: Some(dir.path().into()),
            ..Default::default()
        };
        let c = Config::load(&env(&[("SELFHEAL_LLM_TEMPERATURE", "0.25")]), &opts).unwrap();
        assert_eq!(c.llm.model, "from-file");
        assert_eq!(c.llm.temperature, 0.25);
        assert_eq!(c.validate.max_attempts, 5);
        let opts = LoadOptions {
            flags: vec![("llm.model".into(), "from-flag".into())],
            ..opts
        };
        let c = Config::load(&env(&[("SELFHEAL_MODEL", "from-env")]), &opts).unwrap();
        assert_eq!(c.llm.model, "from-flag");
    }

    #[test]
    fn unknown_keys_warn_with_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.toml");
        std::fs::write(&path, "[llm]\nmodle = \"typo\"\n[nope]\na = 1\n").unwrap();
        let opts = LoadOptions {
            config_path: Some(path.clone()),
            ..Default::default()
        };
        let c = Config::load(&env(&[]), &opts).unwrap();
        assert!(
            c.warnings
                .iter()
                .any(|w| w.contains("`llm.modle`") && w.contains("x.toml")),
            "{:?}",
            c.warnings
        );
        assert!(
            c.warnings.iter().any(|w| w.contains("`nope`")),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn token_precedence_is_gh_then_github_then_file() {
        let c = Config::load(
            &env(&[("GH_TOKEN", "a"), ("GITHUB_TOKEN", "b")]),
            &LoadOptions::default(),
        )
        .unwrap();
        assert_eq!(
            (c.github.token.as_str(), c.env.token_source),
            ("a", Some("GH_TOKEN"))
        );
        let c = Config::load(&env(&[("GITHUB_TOKEN", "b")]), &LoadOptions::default()).unwrap();
        assert_eq!(c.env.token_source, Some("GITHUB_TOKEN"));
        let c = Config::load(&env(&[]), &LoadOptions::default()).unwrap();
        assert_eq!(c.env.token_source, None);
    }

    #[test]
    fn openai_and_ci_env() {
        let e = env(&[
            ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),
            ("OPENAI_API_KEY", "k"),
            ("CI", "true"),
            ("NO_COLOR", "1"),
        ]);
        let c = Config::load(&e, &LoadOptions::default()).unwrap();
        assert_eq!(c.llm.base_url, "http://127.0.0.1:9/v1");
        assert_eq!(c.llm.api_key, "k");
        assert!(c.env.ci && c.env.no_color);
        assert_eq!(c.sandbox(), "docker");
        assert!(
            c.rerun_flaky(),
            "re-running flaky runs is on in CI by default"
        );
        assert!(
            !Config::load(&env(&[]), &LoadOptions::default())
                .unwrap()
                .rerun_flaky()
        );
    }

    #[test]
    fn app_identity_comes_from_env_or_file() {
        let e = env(&[
            ("SELFHEAL_GITHUB_APP_ID", "4242"),
            (
                "SELFHEAL_GITHUB_APP_PRIVATE_KEY",
                "-----BEGIN RSA PRIVATE KEY-----",
            ),
        ]);
        let c = Config::load(&e, &LoadOptions::default()).unwrap();
        assert_eq!(c.github.app_id, 4242);
        assert!(c.env.app_private_key.is_some());
        let opts = LoadOptions {
            flags: vec![("github.rerun_flaky".into(), "sometimes".into())],
            ..Default::default()
        };
        assert_eq!(
            Config::load(&env(&[]), &opts).unwrap_err().code,
            exit::USAGE
        );
    }

    #[test]
    fn bad_values_are_usage_errors() {
        let opts = LoadOptions {
            flags: vec![("validate.sandbox".into(), "vm".into())],
            ..Default::default()
        };
        let e = Config::load(&env(&[]), &opts).unwrap_err();
        assert_eq!(e.code, exit::USAGE);
        assert!(e.hint.unwrap().contains("docker"));
        let e = env(&[("SELFHEAL_VALIDATE_MAX_ATTEMPTS", "many")]);
        let c = Config::load(&e, &LoadOptions::default()).unwrap();
        assert!(c.warnings[0].contains("SELFHEAL_VALIDATE_MAX_ATTEMPTS"));
    }

    #[test]
    fn example_parses_and_covers_every_key() {
        let example = include_str!("../../self-heal.toml.example");
        let parsed: toml::Table = toml::from_str(example).expect("example parses");
        let c: Config = toml::Value::Table(parsed.clone())
            .try_into()
            .expect("example is a valid config");
        let defaults: toml::Table = toml::from_str(DEFAULTS).unwrap();
        assert_eq!(
            leaf_keys(&parsed),
            leaf_keys(&defaults),
            "example and defaults list different keys"
        );
        let from_struct: toml::Table = toml::Table::try_from(&c).unwrap();
        assert_eq!(
            leaf_keys(&from_struct),
            leaf_keys(&defaults),
            "Config has keys the example lacks"
        );
        assert_eq!(
            toml::Value::Table(parsed),
            toml::Value::Table(defaults),
            "example defaults differ from embedded ones"
        );
    }
}
