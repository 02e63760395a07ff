#!/usr/bin/env python3
"""Regenerates every sample_projects/<name>/failure.zip from scratch and checks each project.

For each project (a directory with a selfheal.json) it
  1. copies the project to a temp dir and runs its test command: must pass (healthy state);
  2. runs break.sh there (twice: it must be idempotent) and runs the tests again: must fail;
     that real output, with the temp path rewritten to /home/runner/work/<name>/<name>, is
     wrapped in the GitHub run-log ZIP layout by runlog.py and written to failure.zip;
  3. applies the fix described in selfheal.json to the broken copy: tests must pass again;
  4. in a fresh copy runs break.sh then restore.sh: the tree must equal the original;
     (`ci_steps_before` in selfheal.json: commands run first in the same job, e.g. a build;
     they must succeed and their real output becomes earlier steps of the job log);
  5. writes the measured facts back into selfheal.json: bug.line (first line the fix changes,
     1-based, in the broken file) and expected_exit_code.
The healthy run of step 1 (with the `ci_steps_before`) is written to green.zip: the last
green run of the same job, that `selfheal run` and `offline --baseline` subtract.

Usage: python3 tests/support/make_samples.py [--check | --green-only] [name ...]
  --check       verify only; leave failure.zip and selfheal.json untouched
  --green-only  write green.zip only (step 1)
Needs python3 with pytest, cargo, go and node/npm on PATH. No network is used.
"""
import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAMPLES = os.path.join(ROOT, "sample_projects")
sys.path.insert(0, HERE)
import runlog  # noqa: E402

IGNORED = {"__pycache__", ".pytest_cache", "target", "node_modules", ".git"}
MAX_ZIP_BYTES = 50 * 1024


def fail(name, msg):
    raise SystemExit(f"[{name}] {msg}")


def copy_project(src, dst):
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(*IGNORED))


def snapshot(tree):
    files = {}
    for base, dirs, names in os.walk(tree):
        dirs[:] = [d for d in dirs if d not in IGNORED]
        for n in names:
            p = os.path.join(base, n)
            with open(p, "rb") as fh:
                files[os.path.relpath(p, tree)] = fh.read()
    return files


def tool_paths():
    """Local install locations and the runner's equivalents, most specific first."""
    pairs = [(sys.prefix, "/opt/hostedtoolcache/Python/%d.%d.%d/x64" % sys.version_info[:3])]
    try:
        goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True).stdout.strip()
        gover = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()
        if goroot:
            pairs.append((goroot, "/opt/hostedtoolcache/go/%s/x64" % gover.removeprefix("go")))
    except OSError:
        pass
    home = os.path.expanduser("~")
    if home not in ("/", "/home/runner"):
        pairs.append((home, "/home/runner"))
    return pairs


def env_for(meta, target_dir):
    env = dict(os.environ)
    for k in ("PIP_FIND_LINKS", "RUST_BACKTRACE", "FORCE_COLOR", "NO_COLOR", "CARGO_TERM_COLOR", "PYTEST_ADDOPTS", "NODE_OPTIONS"):
        env.pop(k, None)
    env.update({
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
        "CARGO_TARGET_DIR": target_dir,
        "CARGO_NET_OFFLINE": "true",
        "GOFLAGS": "-count=1",  # a fresh runner has no test cache
        "GOPROXY": "off",
        "npm_config_update_notifier": "false",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INDEX": "1",  # `pip install` steps must find everything installed already
        "PIP_ROOT_USER_ACTION": "ignore",
    })
    env.update(meta.get("ci_env", {}))
    return env


def run_tests(meta, cwd, target_dir):
    p = subprocess.run(meta["test_command"], shell=True, cwd=cwd, env=env_for(meta, target_dir),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def run_script(name, path):
    p = subprocess.run(["bash", path], capture_output=True, text=True)
    if p.returncode:
        fail(name, f"{os.path.basename(path)} failed: {p.stderr}")


def ci_paths(text, name, copy, target_dir):
    runner = f"/home/runner/work/{name}/{name}"
    text = text.replace(target_dir, runner + "/target").replace(copy, runner)
    for local, remote in tool_paths():
        text = text.replace(local, remote)
    return text


def write_zip(meta, before, output, exit_code, path, index, days_before=0):
    name = meta["name"]
    import datetime
    start = datetime.datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=index, minutes=7 * index) - datetime.timedelta(days=days_before, minutes=41 * days_before)
    job = runlog.Job(meta["ci_job"], clock=runlog.Clock(start))
    for _, _, lines in job.steps:  # the checkout step names this sample's repository
        for i, line in enumerate(lines):
            lines[i] = line.replace("/home/runner/work/app/app", f"/home/runner/work/{name}/{name}").replace("acme/app", f"acme/{name}")
    for cmd, out in before:
        job.step_run(cmd, out, 0)
    number = job.step_run(meta["test_command"], output, exit_code)
    if meta.get("ci_env"):
        lines = next(s[2] for s in job.steps if s[0] == number)
        at = next(i for i, l in enumerate(lines) if l.endswith(" ##[endgroup]"))
        stamp = lines[at].split(" ", 1)[0]
        env_lines = [f"{stamp} env:"] + [f"{stamp}   {k}: {v}" for k, v in meta["ci_env"].items()]
        lines[at:at] = env_lines
    runlog.write_zip(path, [job])


def fixed_text(name, meta, broken_dir):
    fix = meta["fix"]
    path = os.path.join(broken_dir, fix["file"])
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if text.count(fix["find"]) != 1:
        fail(name, f"fix.find occurs {text.count(fix['find'])} times in broken {fix['file']}, want 1")
    return path, text, text.replace(fix["find"], fix["replace"])


def first_changed_line(before, after):
    a, b = before.splitlines(), after.splitlines()
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i + 1
    return min(len(a), len(b)) + 1


def trees_equal(a, b):
    cmp = filecmp.dircmp(a, b, ignore=list(IGNORED))
    stack = [cmp]
    while stack:
        c = stack.pop()
        if c.left_only or c.right_only or c.diff_files or c.funny_files:
            return False
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
        if mismatch or errors:
            return False
        stack.extend(c.subdirs.values())
    return True


def run_steps_before(name, meta, cwd, target_dir):
    """The `ci_steps_before` of the job, which must succeed: [(cmd, output)]."""
    before = []
    for cmd in meta.get("ci_steps_before", []):
        brc, bout = run_tests(dict(meta, test_command=cmd), cwd, target_dir)
        if brc != 0:
            fail(name, f"step {cmd!r} failed (exit {brc}):\n{bout[-2000:]}")
        before.append((cmd, ci_paths(bout, name, cwd, target_dir)))
    return before


def process(name, work, check, index, green_only=False):
    src = os.path.join(SAMPLES, name)
    meta_path = os.path.join(src, "selfheal.json")
    with open(meta_path, encoding="utf-8") as fh:
        meta = json.load(fh)
    copy = os.path.join(work, "run", name)
    target_dir = os.path.join(work, "target-" + name)

    # 1. healthy: its log is the green run's
    copy_project(src, copy)
    green_before = run_steps_before(name, meta, copy, target_dir)
    rc, out = run_tests(meta, copy, target_dir)
    if rc != 0:
        fail(name, f"tests fail in the healthy state (exit {rc}):\n{out[-3000:]}")
    if not check:
        green_log = ci_paths(out, name, copy, target_dir)
        write_zip(meta, green_before, green_log, 0, os.path.join(src, "green.zip"), index, days_before=1)
    if green_only:
        shutil.rmtree(copy)
        print(f"ok  {name:<14} green.zip", flush=True)
        return

    shutil.rmtree(target_dir, ignore_errors=True)  # CI builds from a clean checkout

    # 2. broken (break.sh must be idempotent)
    copy_project(src, copy)
    run_script(name, os.path.join(copy, "break.sh"))
    once = snapshot(copy)
    if once == snapshot(src):
        fail(name, "break.sh changed nothing")
    run_script(name, os.path.join(copy, "break.sh"))
    if snapshot(copy) != once:
        fail(name, "break.sh is not idempotent")
    before = run_steps_before(name, meta, copy, target_dir)  # e.g. installing deps, a build
    rc, out = run_tests(meta, copy, target_dir)
    if rc == 0:
        fail(name, "tests still pass after break.sh")
    log = ci_paths(out, name, copy, target_dir)
    everything = log + "".join(out for _, out in before)
    for leak in (work, ROOT, "/tmp/", os.path.expanduser("~") + "/"):
        if leak in everything:
            bad = [l for l in everything.splitlines() if leak in l][:3]
            fail(name, f"local path {leak!r} left in the log: {bad}")

    # 3. the declared fix makes the tests pass again
    path, broken, fixed = fixed_text(name, meta, copy)
    line = first_changed_line(broken, fixed)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(fixed)
    frc, fout = run_tests(meta, copy, target_dir)
    if frc != 0:
        fail(name, f"tests still fail after applying fix (exit {frc}):\n{fout[-3000:]}")

    # 4. break + restore gives back the original tree
    copy_project(src, copy)
    run_script(name, os.path.join(copy, "break.sh"))
    run_script(name, os.path.join(copy, "restore.sh"))
    if not trees_equal(src, copy):
        fail(name, "restore.sh does not restore the original tree")
    shutil.rmtree(copy)

    # 5. results
    zip_path = os.path.join(src, "failure.zip")
    if check:
        if meta["bug"].get("line") != line or meta.get("expected_exit_code") != rc:
            fail(name, f"selfheal.json is stale: bug.line={line}, exit code={rc}")
        if not os.path.exists(zip_path):
            fail(name, "failure.zip is missing")
    else:
        write_zip(meta, before, log, rc, zip_path, index)
        if os.path.getsize(zip_path) > MAX_ZIP_BYTES:
            fail(name, f"failure.zip is {os.path.getsize(zip_path)} bytes")
        meta["bug"]["line"] = line
        meta["expected_exit_code"] = rc
        meta["failure_zip"] = "failure.zip"
        with open(meta_path, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
    first_error = next((l for l in log.splitlines() if any(k in l for k in ("Error", "error", "FAIL", "panicked", "not ok"))), "")
    print(f"ok  {name:<14} exit {rc}  bug {meta['bug']['file']}:{line}  | {first_error.strip()[:90]}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="verify only, write nothing")
    ap.add_argument("--green-only", action="store_true", help="write green.zip only")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    names = sorted(d for d in os.listdir(SAMPLES) if os.path.isfile(os.path.join(SAMPLES, d, "selfheal.json")))
    if a.names:
        unknown = set(a.names) - set(names)
        if unknown:
            raise SystemExit(f"unknown sample(s): {', '.join(sorted(unknown))}")
    work = tempfile.mkdtemp(prefix="selfheal-samples-")
    try:
        for index, name in enumerate(names):
            if not a.names or name in a.names:
                process(name, work, a.check, index, a.green_only)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
