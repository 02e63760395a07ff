#!/usr/bin/env bash
# Bug: off-by-one in moving_average — the range stops one window early, so the last window is dropped.
set -euo pipefail
cd "$(dirname "$0")"
sed -i 's/for i in range(len(values) - window + 1)\]/for i in range(len(values) - window)]/' calc/stats.py
