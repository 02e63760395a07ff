#!/usr/bin/env bash
# Restores the healthy state: rewrites every file break.sh edits with its original content.
set -euo pipefail
cd "$(dirname "$0")"
cat > 'textstats/stats.py' <<'__HEALTHY__'
from collections import Counter

from .tokenize import sentences, syllables, words


def flesch_reading_ease(text):
    ws = words(text)
    ss = sentences(text)
    if not ws or not ss:
        return 0.0
    syl = sum(syllables(w) for w in ws)
    return round(206.835 - 1.015 * (len(ws) / len(ss)) - 84.6 * (syl / len(ws)), 1)


def summary(text, top=3):
    ws = words(text)
    return {
        "words": len(ws),
        "sentences": len(sentences(text)),
        "unique": len(set(ws)),
        "top": Counter(ws).most_common(top),
        "reading_ease": flesch_reading_ease(text),
    }
__HEALTHY__
# build leftovers of test runs
find . -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
rm -rf .pytest_cache
