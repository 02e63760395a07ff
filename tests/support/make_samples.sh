#!/usr/bin/env bash
# Regenerates sample_projects/*/failure.zip from real test runs and checks every sample
# (healthy passes, break.sh fails, the declared fix passes, restore.sh restores exactly).
# Usage: tests/support/make_samples.sh [--check] [sample-name ...]
set -euo pipefail
exec python3 "$(dirname "$0")/make_samples.py" "$@"
