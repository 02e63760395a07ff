use rs_bank::{Account, BankError, Ledger};

#[test]
fn deposit_then_withdraw() {
    let mut acct = Account::new("alice", 100);
    assert_eq!(acct.deposit(50), Ok(150));
    assert_eq!(acct.withdraw(30), Ok(120));
}

#[test]
fn withdraw_entire_balance() {
    let mut acct = Account::new("bob", 75);
    assert_eq!(acct.withdraw(75), Ok(0));
}

#[test]
fn overdraft_is_refused() {
    let mut acct = Account::new("carol", 10);
    assert_eq!(
        acct.withdraw(11),
        Err(BankError::InsufficientFunds { balance: 10, requested: 11 })
    );
    assert_eq!(acct.balance(), 10);
}

#[test]
fn transfer_moves_money_and_records_history() {
    let mut ledger = Ledger::default();
    ledger.open("a", 200);
    ledger.open("b", 0);
    ledger.transfer("a", "b", 200).unwrap();
    assert_eq!(ledger.balance("a"), Ok(0));
    assert_eq!(ledger.balance("b"), Ok(200));
    assert_eq!(ledger.history().len(), 1);
}

#[test]
fn transfer_to_unknown_account_changes_nothing() {
    let mut ledger = Ledger::default();
    ledger.open("a", 50);
    assert_eq!(ledger.transfer("a", "zed", 10), Err(BankError::UnknownAccount("zed".into())));
    assert_eq!(ledger.balance("a"), Ok(50));
}
