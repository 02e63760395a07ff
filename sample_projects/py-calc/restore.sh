#!/usr/bin/env bash
# Restores the healthy state: rewrites every file break.sh edits with its original content.
set -euo pipefail
cd "$(dirname "$0")"
cat > 'calc/stats.py' <<'__HEALTHY__'
"""Descriptive statistics over plain lists of numbers."""


def mean(values):
    if not values:
        raise ValueError("mean() of an empty sequence")
    return sum(values) / len(values)


def median(values):
    if not values:
        raise ValueError("median() of an empty sequence")
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def moving_average(values, window):
    """Averages of every run of `window` consecutive values, oldest first."""
    if window <= 0:
        raise ValueError("window must be positive")
    if window > len(values):
        return []
    return [mean(values[i:i + window]) for i in range(len(values) - window + 1)]


def percentile(values, pct):
    """Nearest-rank percentile, `pct` in 0..100."""
    if not values:
        raise ValueError("percentile() of an empty sequence")
    if not 0 <= pct <= 100:
        raise ValueError("pct must be within 0..100")
    ordered = sorted(values)
    rank = max(1, -(-pct * len(ordered) // 100))
    return ordered[int(rank) - 1]
__HEALTHY__
# build leftovers of test runs
find . -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
rm -rf .pytest_cache
