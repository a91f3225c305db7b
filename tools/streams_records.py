"""Packet records per training step and streams.build time, this tree's builder against
another's streams.py (same process, so the time is a ratio, not a figure to publish).

    python tools/streams_records.py /path/to/other/spinla/streams.py [--batch 8]

For MLP-1 and LeNet-5's training steps as `spinla map` places them (spinn5, model- and
data-parallel): send + recv records, the bytes the recvs move (equal for both builders) and
the best-of-4 build time of this tree's builder over the other's.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import time

import spinla
from spinla import mapping, streams
from spinla.place import place


def _load(path):
    spec = importlib.util.spec_from_file_location("spinla._other_streams", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _records(cores):
    return sum(len(p.send) + len(p.recv) for v in cores.values() for p in v)


def _moved(cores):
    """Bytes the recvs bring (a record without rows is an old contiguous one)."""
    return sum(r["rows"] * r["row_bytes"] if "rows" in r else r["bytes"]
               for v in cores.values() for p in v for r in p.recv)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("other", help="the streams.py to compare with")
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args(argv)
    other = _load(args.other)
    m = spinla.machine.get("spinn5")
    for name in ("mlp1", "lenet5"):
        prog = mapping.train_step_program(name, args.batch, m)
        for strategy in ("model", "data"):
            pl = place(prog, m, strategy)
            best, out = {}, {}
            for _ in range(4):
                for tag, mod in (("other", other), ("this", streams)):
                    t = time.perf_counter()
                    cores, _ = mod.build(prog, m, pl)
                    t = time.perf_counter() - t
                    best[tag] = min(best.get(tag, t), t)
                    out[tag] = (_records(cores), _moved(cores))
            print(f"{name} batch {args.batch} {strategy}: records {out['other'][0]} -> "
                  f"{out['this'][0]}, recv bytes {out['other'][1]} -> {out['this'][1]}, "
                  f"build time this/other {best['this'] / best['other']:.2f}")


if __name__ == "__main__":
    main()
