#!/usr/bin/env python3
"""The naive baseline of benches/heal_local.sh (not a test): what a short script does
with the same model. It sends the last 150 lines of the failed job's log plus every
repository file the log mentions, whole, asks the model to rewrite the file, writes
what comes back, runs the tests, and retries once with the test output.

Usage: naive_heal.py REPO_DIR FAILURE_ZIP TEST_COMMAND
Needs OPENAI_BASE_URL (and optionally OPENAI_API_KEY, SELFHEAL_MODEL, NAIVE_SEED).
Prints one JSON line: healed, attempts, prompt_tokens, completion_tokens, wall_s,
touched_tests (the files it changed that are tests).
Standard library only.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
import zipfile

TAIL = 150
MAX_FILE_BYTES = 40_000
RUNNER = re.compile(r"^(?:/home/runner/work|/Users/runner/work|/__w|[A-Za-z]:/a|.*/_work)/[^/]+/[^/]+/")
PATH = re.compile(r"[A-Za-z0-9_./\\:-]+\.(?:py|rs|go|js|mjs|cjs|ts|java|toml|json)\b")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z ")
FENCE = re.compile(r"^(\S+)\s*\n```[\w+-]*\n(.*?)\n```", re.S | re.M)


def log_tail(zip_path):
    """The last TAIL lines of the job log(s) that failed."""
    lines = []
    with zipfile.ZipFile(zip_path) as z:
        for name in sorted(z.namelist()):
            if "/" in name or not name.endswith(".txt"):
                continue
            text = z.read(name).decode("utf-8", "replace").lstrip("\ufeff")
            if "##[error]" in text or "exit code" in text:
                lines += [STAMP.sub("", l) for l in text.splitlines()]
    return lines[-TAIL:]


def mentioned_files(repo, lines):
    found = []
    for line in lines:
        for raw in PATH.findall(line):
            p = RUNNER.sub("", raw.replace("\\", "/")).lstrip("./")
            p = p.split(":")[0]
            full = os.path.join(repo, p)
            if p not in found and os.path.isfile(full) and os.path.getsize(full) < MAX_FILE_BYTES:
                found.append(p)
    return found


def is_test(p):
    name = os.path.basename(p)
    return (
        "/test" in "/" + p
        or name.startswith("test_")
        or name.endswith(("_test.go", "_test.py", ".test.js", ".test.mjs", ".spec.js"))
    )


def ask(messages):
    base = os.environ["OPENAI_BASE_URL"].rstrip("/")
    body = {
        "model": os.environ.get("SELFHEAL_MODEL", "local"),
        "messages": messages,
        "temperature": 0.0,
        "max_tokens": int(os.environ.get("NAIVE_MAX_TOKENS", "2048")),
        "seed": int(os.environ.get("NAIVE_SEED", "42")),
    }
    req = urllib.request.Request(
        base + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Bearer " + os.environ.get("OPENAI_API_KEY", "local"),
        },
    )
    with urllib.request.urlopen(req, timeout=int(os.environ.get("NAIVE_TIMEOUT", "900"))) as r:
        reply = json.load(r)
    usage = reply.get("usage") or {}
    return reply["choices"][0]["message"]["content"] or "", usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)


def write_files(repo, reply, allowed):
    """Whole files in the reply, each a path line then a fenced block."""
    written = []
    for path, body in FENCE.findall(reply):
        path = path.strip("`*:# ").lstrip("./")
        if path not in allowed:
            continue
        with open(os.path.join(repo, path), "w") as f:
            f.write(body + "\n")
        written.append(path)
    if not written and len(allowed) == 1:
        # one file asked for: take the first fenced block as it
        m = re.search(r"```[\w+-]*\n(.*?)\n```", reply, re.S)
        if m:
            with open(os.path.join(repo, allowed[0]), "w") as f:
                f.write(m.group(1) + "\n")
            written.append(allowed[0])
    return written


def run_tests(repo, command):
    env = dict(os.environ, CARGO_TARGET_DIR=os.environ.get("CARGO_TARGET_DIR", "/tmp/selfheal-naive-target"))
    p = subprocess.run(["sh", "-c", command], cwd=repo, capture_output=True, text=True, env=env, timeout=900)
    return p.returncode == 0, (p.stdout + p.stderr).splitlines()[-60:]


def main():
    repo, zip_path, command = sys.argv[1:4]
    started = time.time()
    tail = log_tail(zip_path)
    files = mentioned_files(repo, tail)
    shown = "\n\n".join(f"{p}\n```\n{open(os.path.join(repo, p)).read()}```" for p in files)
    messages = [
        {"role": "system", "content": "You are a senior engineer who fixes failing CI builds."},
        {
            "role": "user",
            "content": "The CI build failed. Last lines of the log:\n```\n"
            + "\n".join(tail)
            + "\n```\n\nFiles mentioned in the log:\n\n"
            + shown
            + "\n\nFix the bug. Rewrite the file that needs changing: reply with its path on one line, "
            "then the whole corrected file in a fenced code block.",
        },
    ]
    prompt = completion = attempts = 0
    healed, touched = False, set()
    for attempts in (1, 2):
        reply, p, c = ask(messages)
        prompt, completion = prompt + p, completion + c
        written = write_files(repo, reply, files)
        touched |= {w for w in written if is_test(w)}
        healed, out = run_tests(repo, command)
        if healed:
            break
        messages += [
            {"role": "assistant", "content": reply},
            {"role": "user", "content": "The tests still fail:\n```\n" + "\n".join(out) + "\n```\nTry again: the whole corrected file."},
        ]
    print(json.dumps({
        "healed": healed,
        "attempts": attempts,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "wall_s": round(time.time() - started, 1),
        "touched_tests": sorted(touched),
    }))


if __name__ == "__main__":
    main()
