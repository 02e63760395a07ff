#!/usr/bin/env bash
# Bug: the lexer parses number literals as i32 while Token::Num holds an i64 -> E0308 mismatched types.
set -euo pipefail
cd "$(dirname "$0")"
sed -i 's/text\.parse::<i64>()/text.parse::<i32>()/' src/lexer.rs
