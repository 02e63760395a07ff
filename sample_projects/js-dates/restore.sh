#!/usr/bin/env bash
# Restores the healthy state: rewrites every file break.sh edits with its original content.
set -euo pipefail
cd "$(dirname "$0")"
cat > 'src/dates.js' <<'__HEALTHY__'
'use strict';

const DAY_MS = 24 * 60 * 60 * 1000;

function parseDay(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) throw new TypeError(`not a YYYY-MM-DD date: ${text}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
}

function formatDay(date) {
  return date.toISOString().slice(0, 10);
}

function addDays(date, days) {
  return new Date(date.getTime() + days * DAY_MS);
}

/** The Monday on or before `date` (ISO weeks start on Monday). */
function startOfWeek(date) {
  const offset = (date.getUTCDay() + 6) % 7;
  const monday = addDays(date, -offset);
  return monday;
}

function daysBetween(a, b) {
  return Math.round((b.getTime() - a.getTime()) / DAY_MS);
}

module.exports = { DAY_MS, parseDay, formatDay, addDays, startOfWeek, daysBetween };
__HEALTHY__
