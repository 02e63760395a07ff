//! Command-line interface: clap types and one file per subcommand. STUB until wired.

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    0
}
