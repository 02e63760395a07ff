//! Evaluates integer arithmetic such as `2 * (3 + 4) - 10 / 5`.

pub mod lexer;
pub mod parser;

pub use parser::{eval, EvalError};
