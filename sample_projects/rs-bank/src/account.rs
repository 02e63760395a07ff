use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankError {
    InsufficientFunds { balance: u64, requested: u64 },
    ZeroAmount,
    UnknownAccount(String),
}

impl fmt::Display for BankError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BankError::InsufficientFunds { balance, requested } => {
                write!(f, "insufficient funds: balance {balance}, requested {requested}")
            }
            BankError::ZeroAmount => write!(f, "amount must be positive"),
            BankError::UnknownAccount(id) => write!(f, "unknown account {id}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    balance: u64,
}

impl Account {
    pub fn new(id: &str, opening: u64) -> Self {
        Account { id: id.to_string(), balance: opening }
    }

    pub fn balance(&self) -> u64 {
        self.balance
    }

    pub fn deposit(&mut self, amount: u64) -> Result<u64, BankError> {
        if amount == 0 {
            return Err(BankError::ZeroAmount);
        }
        self.balance += amount;
        Ok(self.balance)
    }

    /// Takes `amount` out; the balance may reach exactly zero but never go below it.
    pub fn withdraw(&mut self, amount: u64) -> Result<u64, BankError> {
        if amount == 0 {
            return Err(BankError::ZeroAmount);
        }
        if amount > self.balance {
            return Err(BankError::InsufficientFunds { balance: self.balance, requested: amount });
        }
        self.balance -= amount;
        Ok(self.balance)
    }
}
