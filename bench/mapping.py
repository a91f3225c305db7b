"""Modelled mapping of every MNIST network's training epoch: SpiNN-3, one SpiNN-5 and ten
SpiNN-5 boards, batch 16, 64 and 256, each placement strategy (spinla.place), before and
after issue 9's cost model.

    python bench/mapping.py [--nets mlp1,lenet5] [--batches 16,64,256] [--out bench/results]

Writes bench/results/mapping.json and mapping.png.  Every figure is modelled (spinla.cost),
not measured.  The "before" figures are the cost model of commit 2fa05f6 (every buffer
spread over every chip the Program used, the link term over the whole Program's chips, no
receive CPU cost, 41 W idle SpiNN-5), recorded by running that model on the same traced
steps before it was replaced; they are read from bench/results/mapping_before.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

MACHINES = ("spinn3", "spinn5", "spinn5x10")
STRATEGIES = ("model", "data", "best")


def run(nets, batches, machines, save) -> list:
    """Rows per (machine, net, batch, strategy); machines outermost so that the small ones
    are done first; `save(rows)` after each configuration keeps what is done."""
    from spinla import mapping as mp
    rows = []
    for mname in machines:
        for net in nets:
            for batch in batches:
                t0 = time.perf_counter()
                prog = mp.train_step_program(net, batch, mname)
                for strategy in STRATEGIES:
                    d = mp.public(mp.mapping(prog, net, batch, mname, strategy))
                    d.pop("routing_entries_per_chip")
                    d["not_data_parallel"] = len(d["not_data_parallel"])
                    d["calls"] = len(d["calls"])
                    rows.append(d)
                print(f"{net:15s} b{batch:<4d} {mname:10s} " + "  ".join(
                    f"{r['strategy']} {r['time_per_epoch_s']:8.2f} s" for r in rows[-3:])
                    + f"  ({time.perf_counter() - t0:.1f} s)", flush=True)
                save(rows)
    return rows


def plot(rows, before, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    nets = list(dict.fromkeys(r["net"] for r in rows))
    fig, axes = plt.subplots(1, len(MACHINES), figsize=(5 * len(MACHINES), 4.5), sharey=True)
    for ax, mname in zip(np.atleast_1d(axes), MACHINES):
        x = np.arange(len(nets))
        for i, (label, get) in enumerate([
                ("before issue 9", lambda n: before.get((n, 64, mname))),
                *[(s, lambda n, s=s: next((r["time_per_epoch_s"] for r in rows
                                           if r["net"] == n and r["batch"] == 64
                                           and r["machine"] == mname and r["strategy"] == s),
                                          None)) for s in STRATEGIES]]):
            vals = [get(n) or np.nan for n in nets]
            ax.bar(x + (i - 1.5) * 0.2, vals, 0.2, label=label)
        ax.set_xticks(x)
        ax.set_xticklabels(nets, rotation=30, fontsize=8)
        ax.set_yscale("log")
        ax.set_title(f"{mname}, batch 64")
    np.atleast_1d(axes)[0].set_ylabel("modelled seconds per epoch")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.suptitle("spinla: modelled training epoch per placement strategy (spinla.cost; "
                 "not measured)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def table(path, batch: int = 64) -> str:
    """The README table: seconds per modelled epoch at `batch`, before and per strategy, with
    the best placement's ratio to its roofline and utilisation of the cores it uses."""
    doc = json.loads(Path(path).read_text())
    rows = [r for r in doc["rows"] if r["batch"] == batch]
    out = [f"| network | machine | before (s) | model (s) | data (s) | best (s) | best / "
           f"roofline | best util. used cores | best energy (J) |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    keys = list(dict.fromkeys((r["net"], r["machine"]) for r in rows))
    for net, mname in keys:
        by = {r["strategy"]: r for r in rows if r["net"] == net and r["machine"] == mname}
        b = by["best"]
        before = b["before"]["time_per_epoch_s"] if b.get("before") else float("nan")
        out.append(f"| {net} | {mname} | {before:.1f} | {by['model']['time_per_epoch_s']:.1f} |"
                   f" {by['data']['time_per_epoch_s']:.1f} | {b['time_per_epoch_s']:.1f} | "
                   f"{b['ratio_to_roofline']:.2f} | {100 * b['utilisation_used_cores']:.1f} % "
                   f"| {b['energy_per_epoch_j']:.0f} |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nets", default="mlp1,mlp2,lenet1,lenet4,lenet5,boosted_lenet4")
    ap.add_argument("--batches", default="16,64,256")
    ap.add_argument("--machines", default=",".join(MACHINES))
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--table", action="store_true",
                    help="print the README table from the results file and stop")
    args = ap.parse_args(argv)
    if args.table:
        print(table(Path(args.out) / "mapping.json"))
        return
    nets, machines = args.nets.split(","), args.machines.split(",")
    batches = [int(b) for b in args.batches.split(",")]
    out = Path(args.out)
    before_doc = json.loads((HERE / "results" / "mapping_before.json").read_text())
    before = {(r["net"], r["batch"], r["machine"]): r for r in before_doc["rows"]}
    from spinla._io import atomic_write
    out.mkdir(parents=True, exist_ok=True)

    def save(rows):
        for r in rows:
            b = before.get((r["net"], r["batch"], r["machine"]))
            r["before"] = None if b is None else {k: b[k] for k in (
                "time_per_epoch_s", "energy_per_epoch_j", "utilisation_used_cores")}
        doc = {"note": "every figure is modelled by spinla.cost under spinla.place; "
                       "'before' is the cost model before issue 9 (mapping_before.json)",
               "command": " ".join(["python", "bench/mapping.py"] + list(
                   argv if argv is not None else sys.argv[1:])),
               "before_model": before_doc["model"], "rows": rows}
        with atomic_write(str(out / "mapping.json"), "w") as f:
            json.dump(doc, f, indent=1, default=float)
            f.write("\n")

    rows = run(nets, batches, machines, save)
    try:
        plot(rows, {k: v["time_per_epoch_s"] for k, v in before.items()},
             out / "mapping.png")
    except ImportError:
        print("matplotlib not installed: no mapping.png", file=sys.stderr)
    print(f"wrote {out / 'mapping.json'}")


if __name__ == "__main__":
    main()
