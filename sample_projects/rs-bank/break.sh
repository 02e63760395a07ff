#!/usr/bin/env bash
# Bug: wrong comparison operator in Account::withdraw (>= instead of >), so withdrawing the
# exact balance is refused as InsufficientFunds.
set -euo pipefail
cd "$(dirname "$0")"
sed -i 's/if amount > self\.balance {/if amount >= self.balance {/' src/account.rs
