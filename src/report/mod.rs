//! Rendering for people and programs: `term` (TTY, CI, colour facts), `human`
//! (compiler-diagnostic style), `events` (the repair pipeline's progress and result),
//! `json` (the stable `--json` schema), `sarif` (code scanning), `actions` (the step
//! summary and outputs inside GitHub Actions), `progress` (bars and spinners on a terminal).

pub mod actions;
pub mod events;
pub mod human;
pub mod json;
pub mod progress;
pub mod sarif;
pub mod term;

pub use progress::Progress;
pub use term::Term;
