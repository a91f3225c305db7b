#!/usr/bin/env python3
"""Run the Array API standard's test suite (../shared/array-api-tests, a pinned copy that is
never copied into this repository) against spinla and print pass counts per category.

    python tools/array_api_suite.py [--max-examples N] [--suite DIR] [--json OUT] [-- pytest args]

The suite writes a hypothesis database where it runs, so it runs from a temporary copy.
Namespace: tests/array_api_adapter.py (spinla plus the dtype names the suite insists on; its
docstring says why).  Tests that spinla's fixed-point semantics answer differently, or of
names spinla does not offer, are skipped by tests/array_api_skips.txt, each group under a
comment stating the reason.  Hypothesis runs with a fixed seed and few examples so that CI is
repeatable and takes a few minutes on 2 cores.  Exit status: 1 if any test failed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SUITE = ROOT.parent / "shared" / "array-api-tests"
SKIPS = ROOT / "tests" / "array_api_skips.txt"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-examples", type=int, default=100,
                    help="hypothesis examples (the suite runs a tenth of them for its "
                         "element-by-element tests)")
    ap.add_argument("--suite", type=Path, default=DEFAULT_SUITE)
    ap.add_argument("--json", type=Path, help="also write the per-category counts here")
    ap.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = ap.parse_args(argv)
    if not (args.suite / "array_api_tests").is_dir():
        print(f"array-api: suite not found at {args.suite} (../shared/array-api-tests)",
              file=sys.stderr)
        return 2
    if args.json is not None and not args.json.parent.is_dir():
        print(f"array-api: --json directory {args.json.parent} does not exist", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="spinla-array-api-") as tmp:
        suite = Path(tmp) / "suite"
        shutil.copytree(args.suite, suite)
        report = Path(tmp) / "report.json"
        env = dict(os.environ,
                   ARRAY_API_TESTS_MODULE="array_api_adapter",
                   # spinla has no complex numbers; the suite's local patch allows skipping both
                   ARRAY_API_TESTS_SKIP_DTYPES="complex64,complex128",
                   PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT),
                                               os.environ.get("PYTHONPATH", "")]))
        cmd = [sys.executable, "-m", "pytest", "array_api_tests", "-q", "-p", "no:cacheprovider",
               f"--max-examples={args.max_examples}", "--hypothesis-seed=0",
               "--disable-extension", "linalg", "fft", f"--skips-file={SKIPS}",
               "--json-report", f"--json-report-file={report}", "-rf", "--tb=line",
               *args.pytest_args]
        print("array-api:", " ".join(cmd), flush=True)
        proc = subprocess.run(cmd, cwd=suite, env=env)
        if not report.exists():
            print("array-api: the suite did not produce a report", file=sys.stderr)
            return proc.returncode or 1
        tests = json.loads(report.read_text())["tests"]
    counts = defaultdict(lambda: defaultdict(int))
    for t in tests:
        cat = t["nodeid"].split("::")[0].replace("array_api_tests/test_", "").replace(".py", "")
        counts[cat][t["outcome"]] += 1
    kinds = ["passed", "failed", "skipped"]
    print(f"\n{'category':<36s}" + "".join(f"{k:>9s}" for k in kinds))
    total = defaultdict(int)
    for cat in sorted(counts):
        print(f"{cat:<36s}" + "".join(f"{counts[cat][k]:>9d}" for k in kinds))
        for k in counts[cat]:
            total[k] += counts[cat][k]
    print(f"{'total':<36s}" + "".join(f"{total[k]:>9d}" for k in kinds))
    if args.json:
        args.json.write_text(json.dumps({"max_examples": args.max_examples,
                                         "counts": counts, "total": total}, indent=1))
    return 1 if total["failed"] or total["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
