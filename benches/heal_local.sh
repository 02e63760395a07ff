#!/usr/bin/env bash
# Heal rate on a real small model (not a test): starts the local model
# (shared/tools/local-llm.sh: Qwen2.5-Coder 1.5B behind llama-server), then for every
# sample project (or the ones named) breaks a fresh copy with its break.sh and runs
#   1. selfheal offline --yes --sandbox local on it (fresh state dir: no failure memory),
#   2. the naive baseline benches/naive_heal.py on another fresh copy (log tail 150 lines
#      + the whole files the log mentions, "rewrite the file", one retry),
# and prints per project and in total: healed, attempts, prompt/completion tokens, wall
# time, side by side. "healed" means the project's own test command passes afterwards on
# the copy; "tests" counts test files changed (a fix that edits tests is suspect).
# Copies are removed afterwards (restore.sh is run on them first, so a kept copy is healthy).
#
# Usage: bash benches/heal_local.sh [--only selfheal|naive] [--seed N] [--tsv FILE] [PROJECT...]
# Env: SELFHEAL_BIN (default: cargo build, target/debug/selfheal), LOCAL_LLM_SH (path to
# local-llm.sh), LOCAL_LLM_MODEL (coder|tiny), KEEP=1 keeps the copies and logs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ONLY=""
SEED=42
TSV=""
PROJECTS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --only) ONLY=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        --tsv) TSV=$2; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
        *) PROJECTS+=("$1"); shift ;;
    esac
done
if [ ${#PROJECTS[@]} -eq 0 ]; then
    for d in sample_projects/*/; do [ -f "$d/break.sh" ] && PROJECTS+=("$(basename "$d")"); done
fi

LLM=${LOCAL_LLM_SH:-}
for c in ../shared/tools/local-llm.sh ../../shared/tools/local-llm.sh; do
    [ -z "$LLM" ] && [ -x "$c" ] && LLM=$(cd "$(dirname "$c")" && pwd)/local-llm.sh
done
[ -n "$LLM" ] || { echo "local-llm.sh not found: set LOCAL_LLM_SH" >&2; exit 1; }
"$LLM" start >&2
eval "$("$LLM" env)"
export OPENAI_BASE_URL OPENAI_API_KEY SELFHEAL_MODEL
export SELFHEAL_LLM_SEED=$SEED NAIVE_SEED=$SEED

if [ -z "${SELFHEAL_BIN:-}" ]; then
    cargo build --quiet --bin selfheal >&2
    SELFHEAL_BIN=$ROOT/target/debug/selfheal
fi

WORK=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"' EXIT
export CARGO_TARGET_DIR=$WORK/cargo-target GOFLAGS=-count=1

fresh() { # fresh NAME DIR: a broken copy of the sample
    rm -rf "$2" && mkdir -p "$2" && cp -a "sample_projects/$1/." "$2/" && bash "$2/break.sh" >/dev/null
}
passes() { (cd "$1" && sh -c "$2") >/dev/null 2>&1; }
test_files() { # test files that differ between the broken copy and DIR
    local b=$WORK/ref
    fresh "$1" "$b"
    diff -rq --exclude=.selfheal --exclude=__pycache__ --exclude=.pytest_cache --exclude=target "$b" "$2" 2>/dev/null |
        grep -oE '(test|spec)[^ ]*|[^ /]*_test\.[a-z]+' | sort -u | wc -l
}

selfheal_one() { # -> healed attempts prompt completion wall tests
    local name=$1 dir=$WORK/s-$1 cmd=$2 t0 t1 rec
    fresh "$name" "$dir"
    t0=$(date +%s.%N)
    rec=$("$SELFHEAL_BIN" --json --no-config --state-dir "$WORK/state-$name" offline \
        "sample_projects/$name/failure.zip" --repo-dir "$dir" --sandbox local --yes 2>"$WORK/s-$name.err") || echo "selfheal exit $? on $name (see $WORK/s-$name.err)" >&2
    t1=$(date +%s.%N)
    echo "$rec" >"$WORK/s-$name.json"
    local healed=no
    passes "$dir" "$cmd" && healed=yes
    python3 - "$WORK/s-$name.json" "$healed" "$t0" "$t1" "$(test_files "$name" "$dir")" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception:
    r = {}
print(sys.argv[2], len(r.get("attempts", [])), r.get("prompt_tokens", 0), r.get("completion_tokens", 0),
      "%.0f" % (float(sys.argv[4]) - float(sys.argv[3])), sys.argv[5], r.get("verdict", "error"))
PY
}

naive_one() {
    local name=$1 dir=$WORK/n-$1 cmd=$2 out
    fresh "$name" "$dir"
    out=$(python3 benches/naive_heal.py "$dir" "sample_projects/$name/failure.zip" "$cmd" 2>"$WORK/n-$name.err") || echo "naive exit $? on $name (see $WORK/n-$name.err)" >&2
    local healed=no
    passes "$dir" "$cmd" && healed=yes
    python3 - "$out" "$healed" "$(test_files "$name" "$dir")" <<'PY'
import json, sys
try:
    r = json.loads(sys.argv[1])
except Exception:
    r = {}
print(sys.argv[2], r.get("attempts", 0), r.get("prompt_tokens", 0), r.get("completion_tokens", 0),
      "%.0f" % r.get("wall_s", 0), sys.argv[3], "-")
PY
}

ROWS=$WORK/rows.tsv
: >"$ROWS"
printf '%-13s | %-44s | %-38s\n' "" "selfheal: healed att prompt compl wall(s) tests verdict" "naive: healed att prompt compl wall(s) tests"
for name in "${PROJECTS[@]}"; do
    cmd=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["test_command"])' "sample_projects/$name/selfheal.json")
    s="- 0 0 0 0 0 -"; n="- 0 0 0 0 0 -"
    [ "$ONLY" != naive ] && s=$(selfheal_one "$name" "$cmd")
    [ "$ONLY" != selfheal ] && n=$(naive_one "$name" "$cmd")
    printf '%s\t%s\t%s\n' "$name" "$s" "$n" >>"$ROWS"
    read -r sh sa sp sc sw st sv <<<"$s"
    read -r nh na np nc nw nt _ <<<"$n"
    printf '%-13s | %-6s %3s %7s %6s %7s %5s %-12s | %-6s %3s %7s %6s %7s %5s\n' \
        "$name" "$sh" "$sa" "$sp" "$sc" "$sw" "$st" "$sv" "$nh" "$na" "$np" "$nc" "$nw" "$nt"
    for d in "$WORK/s-$name" "$WORK/n-$name"; do
        if [ -d "$d" ]; then bash "$d/restore.sh" >/dev/null; fi
    done
done
python3 - "$ROWS" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
def total(i):
    cols = [r[i].split() for r in rows]
    healed = sum(c[0] == "yes" for c in cols)
    return healed, *(sum(int(c[k]) for c in cols) for k in (1, 2, 3, 4, 5))
for label, i in (("selfheal", 1), ("naive", 2)):
    h, a, p, c, w, t = total(i)
    print(f"total {label:8}: healed {h}/{len(rows)}  attempts {a}  prompt {p}  completion {c}  wall {w} s  test files changed {t}")
PY
[ -n "$TSV" ] && cp "$ROWS" "$TSV"
exit 0
