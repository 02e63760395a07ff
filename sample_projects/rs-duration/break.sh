#!/usr/bin/env bash
# Bug: wrong format spec in Display for Duration — hours use {:2} (space padded) instead of {:02}.
set -euo pipefail
cd "$(dirname "$0")"
sed -i 's/write!(f, "{:02}:{:02}:{:02}", h, m, s)/write!(f, "{:2}:{:02}:{:02}", h, m, s)/' src/lib.rs
