#!/usr/bin/env bash
# Bug: startOfWeek computes the Monday but no longer returns it (missing return -> undefined),
# so callers crash with "Cannot read properties of undefined".
set -euo pipefail
cd "$(dirname "$0")"
sed -i '/^  const monday = addDays(date, -offset);$/{n;/^  return monday;$/d}' src/dates.js
