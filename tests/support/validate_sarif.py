#!/usr/bin/env python3
"""Validates SARIF files against the official SARIF 2.1.0 JSON Schema and against GitHub
code scanning's own limits (tests/schemas/README.md): at most 20 runs per file and
25,000 results per run, every result with a ruleId, a location and partialFingerprints.

usage: validate_sarif.py SCHEMA FILE...   Prints `FILE: problem` lines; exit 1 on any.
"""

import json
import sys

import jsonschema


def github_problems(log):
    runs = log.get("runs", [])
    if len(runs) > 20:
        yield f"{len(runs)} runs (code scanning takes at most 20 per file)"
    for run in runs:
        results = run.get("results", [])
        if len(results) > 25000:
            yield f"{len(results)} results in a run (at most 25,000)"
        rules = run.get("tool", {}).get("driver", {}).get("rules", [])
        if len(rules) > 25000:
            yield f"{len(rules)} rules in a run (at most 25,000)"
        ids = {r.get("id") for r in rules}
        for i, r in enumerate(results):
            if not r.get("ruleId"):
                yield f"result {i} has no ruleId"
            elif r["ruleId"] not in ids:
                yield f"result {i}: ruleId {r['ruleId']} is not among the rules"
            if not r.get("locations"):
                yield f"result {i} has no location (code scanning refuses it)"
            if not r.get("partialFingerprints"):
                yield f"result {i} has no partialFingerprints"


def main(schema_path, files):
    schema = json.load(open(schema_path))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    bad = 0
    for path in files:
        try:
            log = json.load(open(path))
        except ValueError as e:
            print(f"{path}: not JSON: {e}")
            bad += 1
            continue
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]
        problems += list(github_problems(log))
        for p in problems:
            print(f"{path}: {p}")
        bad += bool(problems)
    print(f"{len(files)} SARIF file(s) checked, {bad} invalid", file=sys.stderr)
    return 1 if bad or not files else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
