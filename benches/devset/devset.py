#!/usr/bin/env python3
"""Development set for localisation: real failures of public projects nobody here wrote.

Each case is a public repository at a commit where a real test fails: either the parent
of a commit that fixed a bug and added or changed a test (with that new test checked out),
or the project at a pinned commit with one small mutation (an operator flipped, a `+ 1`
dropped) that the project's own tests catch. The test command runs for real; its output is
wrapped in the GitHub run-log layout (tests/support/runlog.py) with the runner's workspace
path, and the files and lines of the real fix (or of the mutation) are recorded.

Nothing fetched is committed: `manifest.json` lists repo / commit / test command / fix
lines, and `build` regenerates the cases under `--work` (default /tmp/selfheal-devset).
The repositories come from local git mirrors (`--mirrors DIR` holding `owner+name/repo`,
as the session's fetch tool leaves them, or any clone reachable as DIR/owner+name).

    devset.py mine --repo owner/name --lang python --limit 8     # find fix commits, print entries
    devset.py mutate --repo owner/name --lang go --file x.go --limit 3
    devset.py build                                               # every manifest case
    devset.py bench --bin target/debug/selfheal                  # file@1, file@3, lines in prompt, tokens
"""
import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import runlog  # noqa: E402

MANIFEST = os.path.join(HERE, "manifest.json")
SHIM = os.path.join(HERE, "mocha_shim.cjs")
TIMEOUT = 240

SOURCE_EXT = {"python": (".py",), "go": (".go",), "javascript": (".js", ".mjs", ".cjs"), "rust": (".rs",)}


def is_test_path(path):
    """The same rule as selfheal's logs::paths::is_test_path."""
    name = path.rsplit("/", 1)[-1]
    parts = path.split("/")
    return (any(p in ("tests", "test", "__tests__", "spec") for p in parts) or name.startswith("test_")
            or name.endswith("_test.py") or name.endswith("_test.go") or ".test." in name or ".spec." in name
            or name == "conftest.py" or "benches/" in path or "examples/" in path)


def test_command(lang, tests):
    """The command CI would run for these test files (or the whole suite when none)."""
    if lang == "python":
        return "python3 -m pytest -q -p no:cacheprovider " + (" ".join(tests) if tests else "")
    if lang == "go":
        dirs = sorted({"./" + (t.rsplit("/", 1)[0] if "/" in t else ".") for t in tests}) or ["./..."]
        return "go test " + " ".join(d.replace("/.", "") if d != "./." else "." for d in dirs)
    if lang == "javascript":
        return "node --require ./.mocha_shim.cjs --test " + (" ".join(tests) if tests else "test/")
    if lang == "rust":
        names = [t[len("tests/"):-3] for t in tests if t.startswith("tests/") and t.count("/") == 1]
        return "cargo test -q" + "".join(" --test " + n for n in names)
    raise ValueError(lang)


def git(repo, *args, check=True):
    r = subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("git %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def mirror_of(mirrors, repo):
    base = os.path.join(mirrors, repo.replace("/", "+"))
    for cand in (os.path.join(base, "repo"), base):
        if os.path.isdir(cand):
            return cand
    raise SystemExit("no mirror of %s under %s (fetch it first)" % (repo, mirrors))


def checkout(mirrors, repo, commit, dest):
    """A fresh work tree of `repo` at `commit` in `dest`."""
    if os.path.isdir(os.path.join(dest, ".git")):
        git(dest, "checkout", "-q", "-f", commit)
        git(dest, "clean", "-qfdx", "-e", "target")
    else:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        subprocess.run(["git", "clone", "-q", "--no-checkout", mirror_of(mirrors, repo), dest], check=True)
        git(dest, "checkout", "-q", "-f", commit)


def run_tests(lang, cwd, cmd, target_dir):
    env = dict(os.environ, CI="true", NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1", GOFLAGS="-mod=mod -buildvcs=false",
               GOTOOLCHAIN="local", CARGO_TERM_COLOR="never", CARGO_TARGET_DIR=target_dir, CARGO_NET_OFFLINE="false")
    if lang == "javascript":
        with open(SHIM) as src, open(os.path.join(cwd, ".mocha_shim.cjs"), "w") as dst:
            dst.write(src.read())
    try:
        r = subprocess.run(["bash", "-c", cmd], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
        return r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired:
        return None, ""


def changed(repo, a, b):
    return [l for l in git(repo, "diff", "--name-only", a, b).splitlines() if l]


def fix_lines(repo, parent, commit, files):
    """Lines of the parent that the fix changed, per file (insertions: the lines around them)."""
    out = {}
    for f in files:
        diff = git(repo, "diff", "-U0", parent, commit, "--", f)
        lines = set()
        for m in re.finditer(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@", diff, re.M):
            start, count = int(m.group(1)), int(m.group(2) if m.group(2) is not None else 1)
            lines.update(range(start, start + count) if count else (start, start + 1))
        if lines:
            out[f] = sorted(lines)
    return out


def mine(args):
    """Fix commits whose new test fails on the parent and passes on the fix."""
    work = os.path.join(args.work, "mine", args.repo.replace("/", "+"))
    checkout(args.mirrors, args.repo, "HEAD", work)
    exts = SOURCE_EXT[args.lang]
    found = []
    log = git(work, "log", "--no-merges", "--format=%H", "-n", str(args.scan), "HEAD")
    for commit in log.split():
        parents = git(work, "rev-list", "--parents", "-n", "1", commit).split()[1:]
        if len(parents) != 1:
            continue
        parent = parents[0]
        files = [f for f in changed(work, parent, commit) if f.endswith(exts)]
        tests = [f for f in files if is_test_path(f)]
        code = [f for f in files if not is_test_path(f)]
        if not tests or not code or len(code) > 2:
            continue
        if any(subprocess.run(["git", "-C", work, "cat-file", "-e", "%s:%s" % (parent, f)],
                              capture_output=True).returncode for f in code):
            continue  # the fix creates a file: no file of the failing state holds it
        lines = fix_lines(work, parent, commit, code)
        if not lines or sum(len(v) for v in lines.values()) > args.max_lines:
            continue
        case = {"id": "%s-%s" % (args.repo.split("/")[1], commit[:8]), "repo": args.repo, "lang": args.lang,
                "kind": "fix", "commit": commit, "tests": tests, "cmd": test_command(args.lang, tests), "fix": lines}
        if verify(args, case, work) is not None:
            print(json.dumps(case), flush=True)
            found.append(case)
            if len(found) >= args.limit:
                break
    return found


def prepare(args, case, dest):
    """`dest` at the failing state of `case`; True when it could be made."""
    if case["kind"] == "fix":
        parent = git_parent(args, case, dest)
        checkout(args.mirrors, case["repo"], parent, dest)
        existing = [t for t in case["tests"] if subprocess.run(
            ["git", "-C", dest, "cat-file", "-e", "%s:%s" % (case["commit"], t)], capture_output=True).returncode == 0]
        git(dest, "checkout", "-q", case["commit"], "--", *existing)
        return True
    checkout(args.mirrors, case["repo"], case["commit"], dest)
    path = os.path.join(dest, case["file"])
    with open(path) as f:
        lines = f.read().split("\n")
    line = lines[case["line"] - 1]
    if case["from"] not in line:
        return False
    lines[case["line"] - 1] = line.replace(case["from"], case["to"], 1)
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return True


def git_parent(args, case, dest):
    if not os.path.isdir(os.path.join(dest, ".git")):
        checkout(args.mirrors, case["repo"], case["commit"], dest)
    return git(dest, "rev-parse", case["commit"] + "^").strip()


def target_dir(args, case):
    return os.path.join(args.work, "cargo-target", case["repo"].replace("/", "+"))


def verify(args, case, work):
    """The failing output when the case fails before the fix and passes after it."""
    if not prepare(args, case, work):
        return None
    code, out = run_tests(case["lang"], work, case["cmd"], target_dir(args, case))
    if not code or not out.strip():
        return None
    if case["kind"] == "fix":
        checkout(args.mirrors, case["repo"], case["commit"], work)
        ok, _ = run_tests(case["lang"], work, case["cmd"], target_dir(args, case))
        if ok != 0:
            return None
    return code, out


MUTATIONS = [(" <= ", " < "), (" < ", " <= "), (" >= ", " > "), (" > ", " >= "), (" == ", " != "),
             (" != ", " == "), (" + 1", ""), (" - 1", ""), (" and ", " or "), (" && ", " || "),
             (" || ", " && "), (" or ", " and "), ("+= 1", "+= 2"), ("[1:]", "[2:]"), ("[:-1]", "[:-2]")]


def mutate(args):
    """Single-operator mutations of `--file` that the project's own tests catch."""
    work = os.path.join(args.work, "mutate", args.repo.replace("/", "+"))
    checkout(args.mirrors, args.repo, "HEAD", work)
    commit = git(work, "rev-parse", "HEAD").strip()
    with open(os.path.join(work, args.file)) as f:
        lines = f.read().split("\n")
    spots = []
    for i, line in enumerate(lines):
        s = line.strip()
        if not s or s.startswith(("#", "//", "*", "/*", "\"", "'")) or "assert" in s or "fmt." in s:
            continue
        for a, b in MUTATIONS:
            if a in line and line.count(a) == 1:
                spots.append((i + 1, a, b))
    random.Random(args.seed).shuffle(spots)
    found = 0
    tests = args.tests.split(",") if args.tests else []
    for line, a, b in spots[: args.tries]:
        case = {"id": "%s-mut-%s-%d" % (args.repo.split("/")[1], os.path.basename(args.file).split(".")[0], line),
                "repo": args.repo, "lang": args.lang, "kind": "mutation", "commit": commit, "file": args.file,
                "line": line, "from": a, "to": b, "tests": tests, "cmd": test_command(args.lang, tests),
                "fix": {args.file: [line]}}
        if verify(args, case, work) is not None:
            print(json.dumps(case), flush=True)
            found += 1
            if found >= args.limit:
                break


def workspace(case):
    name = case["repo"].split("/")[1]
    return "/home/runner/work/%s/%s" % (name, name)


def build(args):
    cases = load(args)
    os.makedirs(args.work, exist_ok=True)
    built = []
    for case in cases:
        dest = os.path.join(args.work, "cases", case["id"])
        repo = os.path.join(dest, "repo")
        zip_path = os.path.join(dest, "failure.zip")
        if os.path.exists(zip_path) and not args.force:
            built.append(case)
            continue
        if not prepare(args, case, repo):
            print("skip %s: could not prepare" % case["id"], file=sys.stderr)
            continue
        code, out = run_tests(case["lang"], repo, case["cmd"], target_dir(args, case))
        if not code:
            print("skip %s: the test did not fail (exit %s)" % (case["id"], code), file=sys.stderr)
            continue
        out = out.replace(os.path.realpath(repo), workspace(case)).replace(repo, workspace(case))
        job = runlog.Job("test")
        job.step_run(case["cmd"], out, exit_code=code)
        runlog.write_zip(zip_path, [job])
        with open(os.path.join(dest, "case.json"), "w") as f:
            json.dump(case, f, indent=1)
        print("built %s (%d lines of output)" % (case["id"], out.count("\n")), file=sys.stderr)
        built.append(case)
    return built


def load(args):
    with open(MANIFEST) as f:
        cases = json.load(f)["cases"]
    if args.only:
        cases = [c for c in cases if re.search(args.only, c["id"])]
    return cases


PIECE = re.compile(r"^(\S+) lines (\d+)-(\d+)(?: \(whole file\))?:$", re.M)


def shown_lines(prompt):
    """(file, line) pairs the prompt's code pieces show."""
    shown = set()
    for m in PIECE.finditer(prompt):
        for n in range(int(m.group(2)), int(m.group(3)) + 1):
            shown.add((m.group(1), n))
    return shown


def bench(args):
    cases = [c for c in load(args) if os.path.exists(os.path.join(args.work, "cases", c["id"], "failure.zip"))]
    rows = []
    for case in cases:
        dest = os.path.join(args.work, "cases", case["id"])
        zip_path, repo = os.path.join(dest, "failure.zip"), os.path.join(dest, "repo")
        if not prepare(args, case, repo):
            continue
        tri = subprocess.run([args.bin, "offline", zip_path, "--no-llm", "--repo-dir", repo, "--json"],
                             capture_output=True, text=True)
        try:
            files = [f["path"] for f in json.loads(tri.stdout).get("files", [])]
        except ValueError:
            files = []
        with tempfile.TemporaryDirectory() as state:
            env = dict(os.environ, OPENAI_API_KEY="unused", OPENAI_BASE_URL="http://127.0.0.1:9/v1",
                       SELFHEAL_STATE_DIR=state, NO_COLOR="1")
            pr = subprocess.run([args.bin, "offline", zip_path, "--repo-dir", repo, "--print-prompt"],
                                capture_output=True, text=True, env=env)
        prompt = pr.stdout
        fixed = {(f, n) for f, ns in case["fix"].items() for n in ns}
        shown = shown_lines(prompt)
        fix_files = set(case["fix"])
        row = {"id": case["id"], "lang": case["lang"], "top": files[:3],
               "file@1": bool(files[:1]) and files[0] in fix_files,
               "file@3": any(f in fix_files for f in files[:3]),
               "lines_in_prompt": bool(fixed) and fixed <= shown,
               "some_line_in_prompt": bool(fixed & shown),
               "prompt_tokens": approx_tokens(prompt)}
        rows.append(row)
        if args.verbose:
            print(json.dumps(row), file=sys.stderr)
    report(rows, args.label)


def approx_tokens(text):
    """The same estimate for every run: ~4 characters a token (cl100k averages 3.6-4.2 on code)."""
    return (len(text) + 3) // 4


def report(rows, label):
    if not rows:
        print("no cases built; run `devset.py build` first")
        return
    n = len(rows)
    langs = sorted({r["lang"] for r in rows})
    pct = lambda k, rs: "%d/%d" % (sum(r[k] for r in rs), len(rs))
    print("%s: %d cases (%s)" % (label, n, ", ".join("%s %d" % (l, sum(r["lang"] == l for r in rows)) for l in langs)))
    print("| set | file@1 | file@3 | all fixed lines in prompt | a fixed line in prompt | median prompt tokens |")
    print("|---|---|---|---|---|---|")
    for name, rs in [("all", rows)] + [(l, [r for r in rows if r["lang"] == l]) for l in langs]:
        med = int(statistics.median(r["prompt_tokens"] for r in rs))
        print("| %s | %s | %s | %s | %s | %d |" % (name, pct("file@1", rs), pct("file@3", rs), pct("lines_in_prompt", rs),
                                                 pct("some_line_in_prompt", rs), med))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirrors", default=os.environ.get("DEVSET_MIRRORS", "/work/.mirror"))
    ap.add_argument("--work", default=os.environ.get("DEVSET_WORK", "/tmp/selfheal-devset"))
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("mine")
    m.add_argument("--repo", required=True)
    m.add_argument("--lang", required=True, choices=sorted(SOURCE_EXT))
    m.add_argument("--limit", type=int, default=5)
    m.add_argument("--scan", type=int, default=400)
    m.add_argument("--max-lines", type=int, default=12)
    u = sub.add_parser("mutate")
    u.add_argument("--repo", required=True)
    u.add_argument("--lang", required=True, choices=sorted(SOURCE_EXT))
    u.add_argument("--file", required=True)
    u.add_argument("--tests", default="", help="comma-separated test files to run (default: the whole suite)")
    u.add_argument("--limit", type=int, default=2)
    u.add_argument("--tries", type=int, default=12)
    u.add_argument("--seed", type=int, default=13)
    b = sub.add_parser("build")
    b.add_argument("--only")
    b.add_argument("--force", action="store_true")
    r = sub.add_parser("bench")
    r.add_argument("--bin", default=os.path.join(ROOT, "target", "debug", "selfheal"))
    r.add_argument("--only")
    r.add_argument("--label", default="devset")
    r.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    {"mine": mine, "mutate": mutate, "build": build, "bench": bench}[args.cmd](args)


if __name__ == "__main__":
    main()
