//! selfheal: heals failed CI runs.
//!
//! The binary (`src/main.rs`) is a thin adapter over [`cli::main`]. Each stage lives in a
//! module named after what it owns; see README.md for the pipeline. Dependencies run one
//! way: `cli` → `report` → `pipeline`, `fetch` → the stages → `testrun`, `workcopy`,
//! `interrupt` → `config`, `store`, `error`; `tests/layering.rs` holds the exact table.

pub mod approval;
pub mod cli;
pub mod config;
pub mod context;
pub mod date;
pub mod error;
pub mod fetch;
pub mod fixers;
pub mod flaky;
pub mod github;
pub mod glob;
pub mod interrupt;
pub mod llm;
pub mod logs;
pub mod memory;
pub mod patch;
pub mod pipeline;
pub mod publish;
pub mod report;
pub mod risk;
pub mod sandbox;
pub mod store;
pub mod testrun;
pub mod validate;
pub mod workcopy;
