#!/usr/bin/env python3
"""Structure checks for our GitHub Actions workflows and composite action (README,
"Security model"): no step runs checked-out code with secrets or a write token.

usage: check_workflows.py ROOT   (checks ROOT/.github/workflows/*.y*ml and ROOT/action.yml)
Prints one line per problem, `file: job: step: rule: detail`; exit 1 when there is any.

A job is *privileged* when its token can write (job permissions, else the workflow's;
none given means the repository default, which may write) or it names a secret. The
composite action is privileged: it runs with whatever its caller passes. Rules:

- pinned:       remote `uses:` pins a full commit SHA or a vX.Y.Z release tag.
- local-action: no `uses: ./…` in a privileged job (that is the checked-out tree's code).
- head-checkout: in workflow_run / pull_request_target workflows a privileged job checks
                out no head ref (head_sha, head_branch, pull_request.head.*): the base
                branch is the trusted tree.
- runs-tree:    no `run:` in a privileged job after a checkout executes files of the tree
                (./x, bash x.sh, make, npm, cargo build/test/run, pytest, docker build, …).
- fork-secrets: in workflow_run / pull_request_target workflows a job that forks can reach
                (its `if:` does not require head_repository.full_name == github.repository)
                names no secret and has no contents/actions/packages write.
- hidden-failure: no `continue-on-error`, no `|| true` (or `|| :`).
"""

import re
import sys
from pathlib import Path

import yaml

SHA = re.compile(r"^[0-9a-f]{40}$")
RELEASE = re.compile(r"^v\d+\.\d+\.\d+$")
HEAD_REF = re.compile(r"head_sha|head_branch|pull_request\.head\.|github\.head_ref|head_commit")
SAME_REPO = re.compile(
    r"head_repository\.full_name\s*==\s*github\.repository|github\.repository\s*==\s*github\.event\.workflow_run\.head_repository\.full_name"
)
UNTRUSTED_EVENTS = {"workflow_run", "pull_request_target"}
FORK_FORBIDDEN_WRITES = {"contents", "actions", "packages", "deployments", "id-token", "attestations"}
# Executing the tree: a relative script, an interpreter on a relative file, a build tool.
RUNS_TREE = [
    re.compile(r"(^|[\s;&|(])\./[\w.-]"),
    re.compile(r"(^|[\s;&|(])(sudo\s+(-\w+\s+)*)?(bash|sh|zsh|python3?|node|ruby|perl|source|\.)\s+(-\w+\s+)*[A-Za-z0-9_.][\w./-]*"),
    re.compile(
        r"(^|[\s;&|(])(make|npm|npx|yarn|pnpm|pytest|tox|nox|mvn|gradle|gradlew|bundle|rake|just)(\s|$)"
    ),
    re.compile(r"(^|[\s;&|(])cargo\s+(build|test|run|install|bench|check|clippy|xtask)\b(?!.*--path\s+\"?\$)"),
    re.compile(r"(^|[\s;&|(])go\s+(build|test|run|generate|vet)\b"),
    re.compile(r"(^|[\s;&|(])pip3?\s+install\s+(-e\s+)?\.(\s|$)"),
    re.compile(r"(^|[\s;&|(])docker\s+(build|compose)\b"),
]
HIDDEN = re.compile(r"\|\|\s*(true|:)(\s|;|$)")


def events(doc):
    on = doc.get("on", doc.get(True))
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return set(on)
    if isinstance(on, dict):
        return set(on)
    return set()


def writes(perms):
    """The scopes a permissions block can write; None means 'not given'."""
    if perms is None:
        return None
    if isinstance(perms, str):
        return {"*"} if perms in ("write-all",) else set()
    return {k for k, v in perms.items() if str(v) == "write"}


def text_of(node):
    return yaml.safe_dump(node, default_flow_style=False) if node is not None else ""


class Checker:
    def __init__(self):
        self.problems = []

    def report(self, where, rule, detail):
        self.problems.append(f"{where}: {rule}: {detail}")

    def check_uses(self, where, uses, privileged):
        if uses.startswith("./") or uses.startswith(".\\"):
            if privileged:
                self.report(where, "local-action", f"`uses: {uses}` runs the checked-out tree's code with a privileged token")
            return
        if uses.startswith("docker://"):
            if "@sha256:" not in uses:
                self.report(where, "pinned", f"`{uses}` is not pinned by digest")
            return
        ref = uses.rsplit("@", 1)[1] if "@" in uses else ""
        if not (SHA.match(ref) or RELEASE.match(ref)):
            self.report(where, "pinned", f"`{uses}` is not pinned to a commit SHA or a vX.Y.Z release")

    def check_steps(self, where, steps, privileged, untrusted_event, checked_out=False):
        for i, step in enumerate(steps or []):
            name = step.get("name") or step.get("id") or step.get("uses") or f"step {i + 1}"
            at = f"{where}: {name}"
            if "continue-on-error" in step:
                self.report(at, "hidden-failure", "`continue-on-error` hides a failing step")
            uses = step.get("uses")
            run = step.get("run")
            if uses:
                self.check_uses(at, uses, privileged)
                if uses.split("@")[0] == "actions/checkout":
                    checked_out = True
                    ref = str((step.get("with") or {}).get("ref", ""))
                    if privileged and untrusted_event and HEAD_REF.search(ref):
                        self.report(at, "head-checkout", f"checks out `{ref}` with a privileged token")
            if run:
                if HIDDEN.search(run):
                    self.report(at, "hidden-failure", "`|| true` hides a failing command")
                if privileged and checked_out:
                    for line in run.splitlines():
                        if any(p.search(line) for p in RUNS_TREE):
                            self.report(at, "runs-tree", f"`{line.strip()}` executes the checked-out tree with a privileged token")
                            break

    def check_workflow(self, path, doc):
        evs = events(doc)
        untrusted_event = bool(evs & UNTRUSTED_EVENTS)
        top_writes = writes(doc.get("permissions"))
        for job_id, job in (doc.get("jobs") or {}).items():
            where = f"{path.name}: {job_id}"
            if "continue-on-error" in job:
                self.report(where, "hidden-failure", "`continue-on-error` on the job")
            job_writes = writes(job.get("permissions"))
            effective = job_writes if job_writes is not None else top_writes
            secrets = "secrets." in text_of(job) or ("secrets." in text_of(doc.get("env")))
            privileged = effective is None or bool(effective) or secrets
            if untrusted_event and not SAME_REPO.search(str(job.get("if", ""))):
                if secrets:
                    self.report(where, "fork-secrets", "a job that forks' runs reach names a secret")
                bad = (effective or set()) & (FORK_FORBIDDEN_WRITES | {"*"}) if effective is not None else {"default"}
                if bad:
                    self.report(where, "fork-secrets", f"a job that forks' runs reach can write: {sorted(bad)}")
            if "uses" in job:  # a reusable workflow
                self.check_uses(where, job["uses"], privileged)
            self.check_steps(where, job.get("steps"), privileged, untrusted_event)

    def check_action(self, path, doc):
        runs = doc.get("runs") or {}
        if runs.get("using") == "composite":
            # The caller's workspace holds its checkout: relative paths run the caller's tree.
            self.check_steps(path.name, runs.get("steps"), privileged=True, untrusted_event=False, checked_out=True)


def main(root):
    root = Path(root)
    checker = Checker()
    files = sorted((root / ".github" / "workflows").glob("*.y*ml"))
    for path in files:
        checker.check_workflow(path, yaml.safe_load(path.read_text()))
    action = root / "action.yml"
    if action.exists():
        checker.check_action(action, yaml.safe_load(action.read_text()))
    for p in checker.problems:
        print(p)
    print(f"checked {len(files)} workflow(s){' and action.yml' if action.exists() else ''}: {len(checker.problems)} problem(s)", file=sys.stderr)
    return 1 if checker.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
