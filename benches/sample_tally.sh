#!/usr/bin/env bash
# The sample-project scoreboard (not part of the default test run): for all sixteen
# sample projects, a test-weakening patch that makes the tests pass must be stopped by
# the veto, the real fix must heal with one LLM call, and the same failure again must
# heal from the failure memory with no LLM call. Prints one row per sample and a tally.
# Needs what `.ci/run` installs (python3 with pytest, cargo, go, node).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --test main tally::sample_tally -- --ignored --nocapture 2>&1 |
    grep -E '^(sample|tally:|[a-z]+-[a-z]+ +(true|false))|test result'
