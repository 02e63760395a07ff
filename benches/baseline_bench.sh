#!/usr/bin/env bash
# Log differencing on a CI-sized log (not a test): builds a Python project with many
# passing tests, runs its CI step for real (pip install of the project, then pytest -v)
# healthy (the green run) and with one bug that fails one test (the failed run), wraps both in the run-log ZIP
# layout, and runs token_bench on it: failed-step log tokens and prompt tokens with and
# without the green run subtracted, and whether the root cause stayed the same.
# Usage: bash benches/baseline_bench.sh [TESTS]   (default 600 tests)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-600}
python3 -c 'import wheel' 2>/dev/null || python3 -m pip install -q wheel  # pip builds the project with it
WORK=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
P=$WORK/projects/py-big
mkdir -p "$P/bigcalc" "$P/tests"
cat >"$P/pyproject.toml" <<'TOML'
[project]
name = "bigcalc"
version = "0.1.0"
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"
[tool.setuptools]
packages = ["bigcalc"]
TOML
cat >"$P/bigcalc/__init__.py" <<'PY'
def scale(x, k):
    return x * k


def clamp(x, lo, hi):
    return max(lo, min(x, hi))
PY
python3 - "$P" "$N" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
per = 30
for f in range((n + per - 1) // per):
    lines = ["from bigcalc import clamp, scale", ""]
    for i in range(f * per, min(n, (f + 1) * per)):
        lines += [f"def test_scale_{i}():", f"    assert scale({i}, 3) == {3 * i}", ""]
        lines += [f"def test_clamp_{i}():", f"    assert clamp({i}, 10, 20) == {min(max(i, 10), 20)}", ""]
    open(os.path.join(root, "tests", f"test_part{f:02d}.py"), "w").write("\n".join(lines))
PY
cat >"$P/break.sh" <<'SH'
#!/usr/bin/env bash
cd "$(dirname "$0")" && sed -i 's/    return x \* k/    return x * k if x != 7 else x * (k + 1)/' bigcalc/__init__.py
SH
CMD='python3 -m pip install --no-deps --no-build-isolation -v . && python3 -m pytest -v -p no:cacheprovider'
run_ci() { # $1 = dir, $2 = zip, wraps the real output with runner paths
    local rc=0 out
    out=$(cd "$1" && bash -c "$CMD" 2>&1) || rc=$?
    printf '%s\n' "$out" | sed "s#$1#/home/runner/work/bigcalc/bigcalc#g; s#$WORK#/home/runner/work/_temp#g" |
        python3 "$ROOT/tests/support/runlog.py" --job "test (3.11)" --cmd "$CMD" --exit "$rc" --out "$2"
}
cp -a "$P" "$WORK/green" && run_ci "$WORK/green" "$P/green.zip"
cp -a "$P" "$WORK/red" && bash "$WORK/red/break.sh" && run_ci "$WORK/red" "$P/failure.zip"
ls -l "$P"/*.zip; [ -n "${KEEP:-}" ] && echo "kept $WORK"
cargo run --quiet --release --example token_bench -- "$WORK/projects"
