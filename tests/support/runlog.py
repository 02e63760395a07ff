"""Writes GitHub Actions run-log ZIPs in the real layout (shared/github-api/LOGS.md).

    <N>_<job>.txt            whole job log (top level)
    <job>/<S>_<step>.txt     one file per step, S = the step's number
    <job>/system.txt         runner metadata

Lines carry the runner's 7-digit UTC timestamps, files start with a UTF-8 BOM, `run:`
steps open with `##[group]Run <cmd>` and the script echoed in ESC[36;1m, and a failing
step ends with `##[error]Process completed with exit code N.` Used by the corpus and
sample-project scripts so every fixture is real tool output in the real layout.

Usage as a library:
    job = Job("test (ubuntu-latest, 3.11)")
    job.step_run("pytest -q", output_text, exit_code=1)
    write_zip("failure.zip", [job])
Usage as a command (wrap one command's real output):
    python3 runlog.py --job test --cmd "pytest -q" --exit 1 --out failure.zip < output.txt
"""
import argparse
import datetime
import re
import sys
import zipfile

BOM = "\ufeff"
_FORBIDDEN = re.compile(r'[/:*?"<>|\\]')


def sanitise(name):
    """The server's renaming of job/step names in entry paths: forbidden chars removed,
    cut at 90 UTF-16 units and trimmed (LOGS.md section 3)."""
    name = _FORBIDDEN.sub("", name)
    units = name.encode("utf-16-le")
    if len(units) > 180:
        name = units[:180].decode("utf-16-le", errors="replace")
    return name.strip()


class Clock:
    def __init__(self, start=None):
        self.t = start or datetime.datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=datetime.timezone.utc)

    def stamp(self, advance_ms=3):
        self.t += datetime.timedelta(milliseconds=advance_ms)
        return self.t.strftime("%Y-%m-%dT%H:%M:%S.") + "%07d" % (self.t.microsecond * 10 + 3) + "Z"


class Job:
    def __init__(self, name, clock=None):
        self.name = name
        self.clock = clock or Clock()
        self.steps = []  # (number, name, [lines])
        self.conclusion = "success"
        self._setup()

    def _add(self, name, messages, number=None):
        number = number if number is not None else (self.steps[-1][0] + 1 if self.steps else 1)
        lines = []
        for m in messages:
            # a message with newlines is one record: continuation lines carry no timestamp
            parts = m.split("\n")
            lines.append(self.clock.stamp() + " " + parts[0])
            lines.extend(parts[1:])
        self.steps.append((number, name, lines))
        return number

    def _setup(self):
        self._add("Set up job", [
            "Current runner version: '2.321.0'",
            "##[group]Operating System", "Ubuntu", "24.04.1", "LTS", "##[endgroup]",
            "##[group]Runner Image", "Image: ubuntu-24.04", "Version: 20241117.1.0", "##[endgroup]",
            "##[group]GITHUB_TOKEN Permissions", "Contents: read", "Metadata: read", "##[endgroup]",
            "Secret source: Actions",
            "Prepare workflow directory",
            "Prepare all required actions",
            "Getting action download info",
            "Download action repository 'actions/checkout@v4' (SHA:11bd71901bbe5b1630ceea73d27597364c9af683)",
            "Complete job name: " + self.name,
        ])
        self._add("Run actions/checkout@v4", [
            "##[group]Run actions/checkout@v4", "with:", "  repository: acme/app", "  token: ***", "##[endgroup]",
            "Syncing repository: acme/app",
            "##[group]Getting Git version info", "Working directory is '/home/runner/work/app/app'",
            "[command]/usr/bin/git version", "git version 2.47.1", "##[endgroup]",
            "[command]/usr/bin/git checkout --progress --force -B main refs/remotes/origin/main",
            "Switched to a new branch 'main'",
        ])

    def step_run(self, cmd, output, exit_code=0, name=None, shell="/usr/bin/bash -e {0}"):
        """A `run:` step: the group header, the script echoed in cyan, then the command's real output."""
        first = cmd.splitlines()[0]
        msgs = ["##[group]Run " + first]
        msgs += ["\x1b[36;1m" + l + "\x1b[0m" for l in cmd.splitlines()]
        msgs += ["shell: " + shell, "##[endgroup]"]
        text = output.replace("\r\n", "\n")
        if text.endswith("\n"):
            text = text[:-1]
        if text:
            msgs += text.split("\n")
        if exit_code:
            msgs.append("##[error]Process completed with exit code %d." % exit_code)
            self.conclusion = "failure"
        return self._add(name or ("Run " + first), msgs)

    def step_raw(self, name, messages):
        return self._add(name, messages)

    def finish(self):
        last = self.steps[-1][0]
        self._add("Post Run actions/checkout@v4", ["Post job cleanup.", "[command]/usr/bin/git version", "git version 2.47.1"], number=last + 8)
        self._add("Complete job", ["Cleaning up orphan processes"], number=last + 9)


def write_zip(path, jobs, step_folders=True, extra_entries=None):
    """One archive for a run. `step_folders=False` leaves out the per-step folders,
    as GitHub sometimes does (LOGS.md section 2)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for ordinal, job in enumerate(jobs):
            if not any(s[1] == "Complete job" for s in job.steps):
                job.finish()
            folder = sanitise(job.name)
            whole = []
            for number, name, lines in job.steps:
                whole.extend(lines)
                if step_folders:
                    z.writestr("%s/%d_%s.txt" % (folder, number, sanitise(name)), BOM + "\n".join(lines) + "\n")
            if step_folders:
                z.writestr(folder + "/system.txt", BOM + job.clock.stamp() + " Requested labels: ubuntu-latest\n")
            z.writestr("%d_%s.txt" % (ordinal, folder), BOM + "\n".join(whole) + "\n")
        for name, data in (extra_entries or {}).items():
            z.writestr(name, data)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--job", default="test")
    ap.add_argument("--cmd", required=True)
    ap.add_argument("--exit", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-step-folders", action="store_true")
    a = ap.parse_args()
    job = Job(a.job)
    job.step_run(a.cmd, sys.stdin.read(), a.exit)
    write_zip(a.out, [job], step_folders=not a.no_step_folders)


if __name__ == "__main__":
    main()
