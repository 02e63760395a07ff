//! selfheal: heals failed CI runs.
//!
//! The binary (`src/main.rs`) is a thin adapter over [`cli::main`]. Each stage lives in a
//! module named after what it owns; see README.md for the pipeline.

pub mod cli;
pub mod config;
pub mod error;
pub mod github;
pub mod logs;
pub mod publish;
pub mod report;
pub mod store;
