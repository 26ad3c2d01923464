#!/usr/bin/env python3
"""Compare scimcheck's JSON reports from real servers with tests/real-servers/expected.yaml.

Usage: compare.py EXPECTED.yaml NAME=REPORT.json [NAME=REPORT.json ...]

A check is named by its id when it has the same outcome in every dialect it ran in, and as
`id [dialect]` when only one dialect failed (or warned). For each server the failing and the
warning names must equal the `failures` and `warnings` of the expectation file; anything else is
printed as a difference and the exit status is 1. Checks listed under `scimcheck_bugs` are false
failures described in FINDINGS.md: they still count as a difference (the check must be fixed, not
the expectation), the list only says which finding explains them.
"""
import json
import sys
from collections import defaultdict

import yaml

BAD_OUTCOMES = ("fail", "warn")


def names(report, outcome):
    """The names (id, or `id [dialect]`) of the checks with this outcome."""
    ran = defaultdict(set)
    hit = defaultdict(set)
    for scenario in report["scenarios"]:
        dialect = scenario.get("dialect") or "default"
        for check in scenario["checks"]:
            ran[check["id"]].add(dialect)
            if check["outcome"] == outcome:
                hit[check["id"]].add(dialect)
    out = {}
    for check_id, dialects in hit.items():
        if dialects == ran[check_id]:
            out[check_id] = dialects
        else:
            for dialect in sorted(dialects):
                out[f"{check_id} [{dialect}]"] = {dialect}
    return out


def first_finding(report, name):
    check_id, _, dialect = name.partition(" [")
    dialect = dialect.rstrip("]")
    for scenario in report["scenarios"]:
        if dialect and (scenario.get("dialect") or "default") != dialect:
            continue
        for check in scenario["checks"]:
            if check["id"] == check_id and check["outcome"] in BAD_OUTCOMES:
                for finding in check.get("findings") or []:
                    return finding["message"].splitlines()[0][:200]
                return (check.get("transport_error") or check.get("note") or "")[:200]
    return ""


def counts(report):
    tally = defaultdict(int)
    for scenario in report["scenarios"]:
        for check in scenario["checks"]:
            tally[check["outcome"]] += 1
    return tally


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        expected = yaml.safe_load(f)["servers"]
    differs = False
    lines = []
    for arg in argv[2:]:
        server, _, path = arg.partition("=")
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
        want = expected.get(server) or {}
        bugs = want.get("scimcheck_bugs") or {}
        tally = counts(report)
        total = sum(tally.values())
        extra_outcomes = ", ".join(f"{n} {o}" for o, n in sorted(tally.items()) if o not in ("pass", "fail", "warn", "skip"))
        lines.append(
            f"{server}: {total} checks, {tally['pass']} passed, {tally['fail']} failed, {tally['warn']} warned, "
            f"{tally['skip']} skipped" + (f", {extra_outcomes}" if extra_outcomes else "")
        )
        for outcome, key in (("fail", "failures"), ("warn", "warnings")):
            named = names(report, outcome)
            got = set(named)
            exp = set((want.get(key) or {}).keys())
            runs = sum(len(dialects) for dialects in named.values())
            justified = sum(len(named[name]) for name in got & exp)
            lines.append(
                f"  {key}: {len(got)} distinct ({runs} counting each dialect), "
                f"{len(got & exp)} distinct ({justified}) as expected"
            )
            for name in sorted(got - exp):
                differs = True
                note = f"  [scimcheck bug {bugs[name]}, see FINDINGS.md]" if name in bugs else ""
                lines.append(f"  + unexpected {outcome}: {name}: {first_finding(report, name)}{note}")
            for name in sorted(exp - got):
                differs = True
                lines.append(f"  - expected {outcome} did not happen: {name} ({want[key][name]})")
    print("\n".join(lines))
    if differs:
        print("real servers: the results differ from tests/real-servers/expected.yaml (+ new, - gone)")
        return 1
    print("real servers: every failure and warning is the expected, justified one")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
