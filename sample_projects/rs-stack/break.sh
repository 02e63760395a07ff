#!/usr/bin/env bash
# Bug: off-by-one in Stack::peek — indexes items[len] instead of items[len - 1] -> index out of bounds panic.
set -euo pipefail
cd "$(dirname "$0")"
sed -i 's/Some(&self\.items\[self\.items\.len() - 1\])/Some(\&self.items[self.items.len()])/' src/stack.rs
