//! What the terminal can do, decided once from facts passed in (not queried), so tests
//! can set any combination: colour only on a TTY unless forced, NO_COLOR honoured,
//! progress bars only on an interactive stderr outside CI.

use console::Style;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Term {
    pub stdout_tty: bool,
    pub stderr_tty: bool,
    pub color: bool,
    pub ci: bool,
}

impl Term {
    /// `color` is the config/flag choice: `auto`, `always` or `never`.
    pub fn resolve(
        stdout_tty: bool,
        stderr_tty: bool,
        color: &str,
        no_color: bool,
        ci: bool,
    ) -> Term {
        let color = match color {
            "always" => true,
            "never" => false,
            _ => stdout_tty && !no_color,
        };
        Term {
            stdout_tty,
            stderr_tty,
            color,
            ci,
        }
    }

    /// Reads the real terminal state of this process.
    pub fn detect(color: &str, no_color: bool, ci: bool) -> Term {
        use std::io::IsTerminal;
        Term::resolve(
            std::io::stdout().is_terminal(),
            std::io::stderr().is_terminal(),
            color,
            no_color,
            ci,
        )
    }

    pub fn progress_bars(&self) -> bool {
        self.stderr_tty && !self.ci
    }

    /// May we ask the user y/N?
    pub fn interactive(&self) -> bool {
        use std::io::IsTerminal;
        self.stderr_tty && !self.ci && std::io::stdin().is_terminal()
    }

    pub fn paint(&self, style: Style, text: &str) -> String {
        style.force_styling(self.color).apply_to(text).to_string()
    }

    pub fn red(&self, t: &str) -> String {
        self.paint(Style::new().red().bold(), t)
    }
    pub fn yellow(&self, t: &str) -> String {
        self.paint(Style::new().yellow().bold(), t)
    }
    pub fn green(&self, t: &str) -> String {
        self.paint(Style::new().green().bold(), t)
    }
    pub fn blue(&self, t: &str) -> String {
        self.paint(Style::new().blue().bold(), t)
    }
    pub fn bold(&self, t: &str) -> String {
        self.paint(Style::new().bold(), t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint(Style::new().dim(), t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_rules() {
        assert!(Term::resolve(true, true, "auto", false, false).color);
        assert!(
            !Term::resolve(true, true, "auto", true, false).color,
            "NO_COLOR"
        );
        assert!(
            !Term::resolve(false, true, "auto", false, false).color,
            "pipe"
        );
        assert!(Term::resolve(false, false, "always", true, false).color);
        assert!(!Term::resolve(true, true, "never", false, false).color);
    }

    #[test]
    fn progress_only_on_interactive_stderr_outside_ci() {
        assert!(Term::resolve(false, true, "auto", false, false).progress_bars());
        assert!(!Term::resolve(true, true, "auto", false, true).progress_bars());
        assert!(!Term::resolve(true, false, "auto", false, false).progress_bars());
    }

    #[test]
    fn paint_is_plain_without_colour() {
        let t = Term::resolve(false, false, "never", false, false);
        assert_eq!(t.red("x"), "x");
        let t = Term::resolve(false, false, "always", false, false);
        assert!(t.red("x").contains("\u{1b}["));
    }
}
