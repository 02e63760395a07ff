//! `selfheal completions SHELL` and `selfheal man [SUBCOMMAND]`: shell completion scripts
//! (clap_complete) and roff man pages (clap_mangen), both generated from the same clap
//! definitions as `--help`, so they never drift from it. Nothing here reads config.

use clap::CommandFactory;

use super::args::{Cli, CompletionsArgs, ManArgs};
use super::print_stdout;
use crate::error::{Error, exit};

/// Prints the completion script for the shell.
pub fn completions(args: &CompletionsArgs) -> Result<i32, Error> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "selfheal", &mut out);
    print_stdout(&String::from_utf8_lossy(&out))?;
    Ok(exit::SUCCESS)
}

/// Prints the man page of `selfheal`, or of one subcommand (`selfheal-run(1)`).
pub fn man(args: &ManArgs) -> Result<i32, Error> {
    print_stdout(&man_page(args.subcommand.as_deref())?)?;
    Ok(exit::SUCCESS)
}

/// The roff source of the page.
pub fn man_page(subcommand: Option<&str>) -> Result<String, Error> {
    let mut cmd = Cli::command();
    cmd.build();
    let page = match subcommand {
        None => cmd,
        Some(name) => {
            let sub = cmd.find_subcommand(name).cloned().ok_or_else(|| {
                Error::usage(format!("no subcommand `{name}`"))
                    .with_hint("run `selfheal --help` for the list")
            })?;
            // clap names are `&'static str` (without its `string` feature); this process
            // prints one page and exits.
            let bin: &'static str = Box::leak(format!("selfheal-{name}").into_boxed_str());
            sub.name(bin).bin_name(bin)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| Error::runtime("cannot render the man page").with_source(e))?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `--flag` `--help` shows for `path` (the top level, or one subcommand).
    fn help_flags(path: Option<&str>) -> Vec<String> {
        let mut cmd = Cli::command();
        cmd.build();
        let cmd = match path {
            None => cmd,
            Some(name) => cmd.find_subcommand(name).unwrap().clone(),
        };
        let help = cmd.clone().render_long_help().to_string();
        let re = regex::Regex::new(r"(?m)^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)").unwrap();
        let mut flags: Vec<String> = re.captures_iter(&help).map(|c| c[1].to_string()).collect();
        flags.dedup();
        assert!(!flags.is_empty() || path.is_some(), "{help}");
        flags
    }

    fn subcommands() -> Vec<String> {
        Cli::command()
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .filter(|n| n != "help")
            .collect()
    }

    fn script(shell: clap_complete::Shell) -> String {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "selfheal", &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn completions_know_every_subcommand_and_flag_of_help() {
        use clap_complete::Shell;
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell] {
            let text = script(shell);
            for sub in subcommands() {
                assert!(text.contains(&sub), "{shell}: no {sub}");
                for flag in help_flags(Some(&sub)) {
                    let bare = flag.trim_start_matches('-');
                    assert!(
                        text.contains(&flag) || text.contains(&format!("-l {bare}")),
                        "{shell}: no {flag} of {sub}"
                    );
                }
            }
        }
    }

    #[test]
    fn man_pages_list_every_subcommand_and_flag_of_help() {
        let unescape = |s: String| s.replace("\\-", "-");
        let top = unescape(man_page(None).unwrap());
        assert!(
            top.starts_with(".ie") || top.contains(".TH selfheal"),
            "{top}"
        );
        for sub in subcommands() {
            assert!(top.contains(&sub), "selfheal(1) lacks {sub}");
            let page = unescape(man_page(Some(&sub)).unwrap());
            assert!(page.contains(&format!("selfheal-{sub}")), "{page}");
            for flag in help_flags(Some(&sub)) {
                assert!(page.contains(&flag), "selfheal-{sub}(1) lacks {flag}");
            }
        }
        for flag in help_flags(None) {
            assert!(top.contains(&flag), "selfheal(1) lacks {flag}");
        }
        assert!(man_page(Some("nope")).is_err());
    }
}
