//! Command-line interface: parses flags, resolves the configuration once, and hands
//! each subcommand to its own file, which calls the pipeline (or a stage) and renders
//! the result with `report`. Subcommands never call each other; what the repairing
//! ones share is in [`wiring`]. Stages return typed errors, converted into [`Error`]
//! with their hint and cause chain.

pub mod approve;
pub mod args;
pub mod check;
pub mod docs;
pub mod history;
pub mod logging;
pub mod offline;
pub mod run;
pub mod sandbox;
pub mod spend;
pub mod wiring;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Parser;

use crate::config::{Config, Env, LoadOptions};
use crate::error::{Error, exit};
use crate::report::{Progress, Term, progress};
use args::{Cli, ColorWhen, Command, GlobalArgs};

/// What every subcommand gets: the resolved config, the terminal facts, output mode.
#[derive(Clone)]
pub struct Ctx {
    pub config: Config,
    pub term: Term,
    pub json: bool,
    /// The repository root subcommands work in (flags, else the current directory).
    pub repo_root: PathBuf,
    /// Bars and spinners for the long steps; draws nothing off a terminal, in CI or with `--json`.
    pub progress: Progress,
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::SUCCESS
            };
        }
    };
    logging::install(cli.global.verbose, cli.global.color);
    let json = cli.global.json;
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => report_error(&e, json),
    }
}

fn dispatch(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Offline(args) => {
            let repo_root = offline::repo_root(&args);
            let ctx = context(&cli.global, &repo_root, offline::flags(&args))?;
            offline::run(&ctx, &args)
        }
        Command::Run(args) => {
            let ctx = context(&cli.global, Path::new("."), run::flags(&args))?;
            run::run(&ctx, &args)
        }
        Command::Check(args) => {
            let ctx = context(&cli.global, Path::new("."), Vec::new())?;
            check::run(&ctx, &args)
        }
        Command::History(args) => {
            let ctx = context(&cli.global, Path::new("."), Vec::new())?;
            history::run(&ctx, &args)
        }
        Command::Approve(args) => {
            let ctx = context(&cli.global, Path::new("."), Vec::new())?;
            approve::run(&ctx, &args)
        }
        Command::Completions(args) => docs::completions(&args),
        Command::Man(args) => docs::man(&args),
        Command::Sandbox(args) => {
            let ctx = context(&cli.global, Path::new("."), Vec::new())?;
            sandbox::run(&ctx, &args)
        }
    }
}

/// Resolves config and terminal facts once for a subcommand.
fn context(
    global: &GlobalArgs,
    repo_root: &Path,
    mut flags: Vec<(String, toml::Value)>,
) -> Result<Ctx, Error> {
    if let Some(c) = global.color {
        let v = match c {
            ColorWhen::Auto => "auto",
            ColorWhen::Always => "always",
            ColorWhen::Never => "never",
        };
        flags.push(("output.color".into(), v.into()));
    }
    if let Some(dir) = &global.state_dir {
        flags.push(("state.dir".into(), dir.clone().into()));
    }
    let opts = LoadOptions {
        config_path: global.config.clone(),
        repo_root: Some(repo_root.to_path_buf()),
        no_config: global.no_config,
        flags,
    };
    let config = Config::load(&Env::from_process(), &opts)?;
    for w in &config.warnings {
        eprintln!("warning: {w}");
    }
    let term = Term::detect(&config.output.color, config.env.no_color, config.env.ci);
    Ok(Ctx {
        config,
        term,
        json: global.json,
        repo_root: repo_root.to_path_buf(),
        progress: Progress::stderr(progress::enabled(&term, global.json)),
    })
}

/// Prints the error (stderr always; also JSON on stdout with `--json`) and returns its code.
fn report_error(e: &Error, json: bool) -> i32 {
    let color = Term::detect("auto", std::env::var_os("NO_COLOR").is_some(), false);
    let text = e.render();
    let _ = write!(
        std::io::stderr(),
        "{}",
        text.replacen("error", &color.red("error"), 1)
    );
    if json {
        let report = crate::report::json::ErrorReport {
            schema: crate::report::json::SCHEMA,
            error: &e.message,
            hint: e.hint.as_deref(),
            exit_code: e.code,
        };
        let _ = print_stdout(&crate::report::json::to_string(&report));
    }
    e.code
}

/// The async runtime every subcommand runs its stages on (the one place it is built).
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::runtime("cannot start the async runtime").with_source(e))
}

/// Writes to stdout; a closed pipe (`selfheal … | head`) is not an error (ripgrep does the same).
pub fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::runtime("cannot write to standard output").with_source(e)),
    }
}
