#!/usr/bin/env bash
# Regenerates the real-output corpus, tests/corpus/cases/, with both generators:
# gen_scripting.py (Python, JavaScript/TypeScript, shell/make, infrastructure, generic) and
# gen_compiled.sh (Rust, Go, Java, C/C++). Each writes the one case format that
# src/logs/parse/corpus.rs reads and checks; each needs its own tools (see its header) and
# installs nothing.
#
# Usage: tests/corpus/generate.sh [case-name-substring]
#   (no argument: every case; a substring: only the cases whose names contain it)
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
status=0
python3 "$HERE/gen_scripting.py" "$@" || status=1
bash "$HERE/gen_compiled.sh" "$@" || status=1
exit $status
