#!/usr/bin/env bash
# Bug: stats.py imports from a module that does not exist (textstats.tokenizer instead of
# textstats.tokenize), so the package fails to import and pytest stops at collection.
set -euo pipefail
cd "$(dirname "$0")"
sed -i 's/^from \.tokenize import /from .tokenizer import /' textstats/stats.py
