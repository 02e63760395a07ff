use std::collections::BTreeMap;

use crate::account::{Account, BankError};

#[derive(Debug, Default)]
pub struct Ledger {
    accounts: BTreeMap<String, Account>,
    history: Vec<(String, String, u64)>,
}

impl Ledger {
    pub fn open(&mut self, id: &str, opening: u64) {
        self.accounts.insert(id.to_string(), Account::new(id, opening));
    }

    pub fn balance(&self, id: &str) -> Result<u64, BankError> {
        self.get(id).map(Account::balance)
    }

    fn get(&self, id: &str) -> Result<&Account, BankError> {
        self.accounts.get(id).ok_or_else(|| BankError::UnknownAccount(id.to_string()))
    }

    /// Moves `amount` between two accounts; nothing changes when it fails.
    pub fn transfer(&mut self, from: &str, to: &str, amount: u64) -> Result<(), BankError> {
        self.get(to)?;
        let source = self
            .accounts
            .get_mut(from)
            .ok_or_else(|| BankError::UnknownAccount(from.to_string()))?;
        source.withdraw(amount)?;
        self.accounts.get_mut(to).expect("checked above").deposit(amount)?;
        self.history.push((from.to_string(), to.to_string(), amount));
        Ok(())
    }

    pub fn history(&self) -> &[(String, String, u64)] {
        &self.history
    }
}
