"""Records the cost model's figures for every MNIST network's traced training step, so that a
speed-up of placement and pricing (spinla/place.py, spinla/cost.py) can be checked to change
no result: run it before the change with --write REF.json and after it with --check REF.json;
every figure must be exactly equal (==, not approximately).

    .venv/bin/python tools/cost_equality.py --write /tmp/ref.json
    .venv/bin/python tools/cost_equality.py --check /tmp/ref.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time

# Imported up front so that a run records the code as it was when it started.
from spinla import cost, mapping, place  # noqa: F401

MACHINES = ("spinn3", "spinn5", "spinn5x10")
BATCHES = (16, 64)
STRATEGIES = ("model", "data", "best")


def _figures(c) -> dict:
    """Every Cost field that matters: totals, utilisations, and each call's row."""
    d = c.to_dict()
    d["calls"] = [{k: v for k, v in row.items()} for row in d["calls"]]
    return d


def record(nets) -> dict:
    out = {}
    for net in nets:
        for batch in BATCHES:
            for mach in MACHINES:
                prog = mapping.train_step_program(net, batch, mach)
                for s in STRATEGIES:
                    key = f"{net}/b{batch}/{mach}/{s}"
                    t0 = time.perf_counter()
                    out[key] = _figures(cost.cost_of(prog, mach, strategy=s))
                    print(f"{key}: {out[key]['time_s']!r} s modelled "
                          f"({time.perf_counter() - t0:.2f} s to price)", flush=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", metavar="JSON")
    g.add_argument("--check", metavar="JSON")
    ap.add_argument("--nets", default=",".join(mapping.NETS))
    a = ap.parse_args(argv)
    got = record(a.nets.split(","))
    if a.write:
        with open(a.write, "w") as f:
            json.dump(got, f, indent=0, sort_keys=True)
        return 0
    with open(a.check) as f:
        ref = json.load(f)
    # Round-trip through JSON so both sides are compared as the same Python types.
    got = json.loads(json.dumps(got, sort_keys=True))
    bad = [k for k in got if k in ref and got[k] != ref[k]]
    missing = [k for k in got if k not in ref]
    for k in bad:
        diff = [f for f in got[k] if got[k][f] != ref[k].get(f)]
        print(f"DIFFERS {k}: {diff}")
    print(f"{len(got) - len(bad) - len(missing)} of {len(got)} costs identical; "
          f"{len(bad)} differ; {len(missing)} not in the reference")
    return 1 if bad or missing else 0


if __name__ == "__main__":
    sys.exit(main())
