//! A tiny ledger: accounts holding integer cents and transfers between them.

pub mod account;
pub mod ledger;

pub use account::{Account, BankError};
pub use ledger::Ledger;
