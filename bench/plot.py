"""Figures from the benchmark results (bench/results/*.json -> bench/results/*.png).

    python bench/plot.py

accuracy.png: test error per epoch of each network, fixed point on the emulator against the
float32 twin, with LeCun et al. 1998's figure as a dashed line.
train_speed.png: one epoch's host wall time, emulator against PyTorch float32, per network.
kernels.png: emulator throughput as a fraction of NumPy float32 per kernel shape and host build
(from kernels_builds.json, `bench/kernels.py --also-march x86-64-v3`, else kernels.json).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _load(name):
    p = RESULTS / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def accuracy(res):
    """One panel per network (and per distorted variant); runs with other seeds (NET_seedN)
    share their network's panel, drawn fainter."""
    runs = {n: rows for n, rows in res["results"].items() if rows}
    nets = [n for n in runs if "_seed" not in n]
    cols = min(3, len(nets))
    rows_n = math.ceil(len(nets) / cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(4.2 * cols, 3.2 * rows_n), squeeze=False)
    for ax, net in zip(axes.flat, nets):
        seeds = [k for k in runs if k.startswith(net + "_seed")]
        ax.set_title(net + (f" (+{len(seeds)} more seeds, faint)" if seeds else ""), fontsize=9)
        if len(runs[net]) == 1:     # one result after the whole fit (Boosted LeNet-4)
            _final_bars(ax, [runs[k][0] for k in [net] + seeds], res["paper_error"][net])
            continue
        for k, alpha in [(net, 1.0)] + [(k, 0.35) for k in seeds]:
            rows = runs[k]
            ep = [r["epoch"] for r in rows]
            lab = k == net
            ax.plot(ep, [r["fixed_error"] for r in rows], "o-", color="C0", alpha=alpha, ms=3,
                    label="16-bit fixed point (emulator)" if lab else None)
            ax.plot(ep, [r["float32_error"] for r in rows], "s--", color="C1", alpha=alpha,
                    ms=3, label="float32 (PyTorch)" if lab else None)
        ax.axhline(res["paper_error"][net], color="k", ls=":", label="LeCun et al. 1998")
        ax.set_xlabel("epoch")
        ax.set_ylabel("test error %")
        ax.set_yscale("log")
        for axis in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            axis(matplotlib.ticker.FormatStrFormatter("%.1f"))
        ax.grid(alpha=0.3, which="both")
    for ax in list(axes.flat)[len(nets):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("MNIST test error (python bench/accuracy.py; schedules in accuracy.json)",
                 fontsize=8)
    fig.tight_layout()
    return fig


def _final_bars(ax, rows, paper):
    """Final test error of a network reported once per run: bars at the mean over seeds, one
    dot per seed, the paper's figure as a dotted line."""
    names = []
    for i, (key, color, name) in enumerate((("fixed_error", "C0", "fixed point"),
                                             ("float32_error", "C1", "float32"))):
        v = [r[key] for r in rows]
        ax.bar(i, sum(v) / len(v), 0.6, color=color, alpha=0.6)
        ax.plot([i] * len(v), v, "k.", ms=5)
        names.append(f"{name}\n{sum(v) / len(v):.2f} %")
    ax.axhline(paper, color="k", ls=":")
    ax.set_xticks([0, 1], names)
    ax.set_ylabel(f"test error % after {rows[0]['epoch']} epochs per net")
    ax.set_ylim(0, max(paper, *(r[k] for r in rows for k in ("fixed_error", "float32_error")))
                * 1.25)
    ax.grid(alpha=0.3, axis="y")


def train_speed(res):
    """Bars per network: PyTorch, then each spinla build (native, and e.g. AVX2), with the
    ratio to PyTorch over each spinla bar."""
    rows = res["rows"]
    nets = list(dict.fromkeys(r["net"] for r in rows))
    builds = list(dict.fromkeys(r.get("build", "native") for r in rows))
    width = 0.8 / (1 + len(builds))
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    torch = {r["net"]: r["torch"]["wall_s"] for r in rows}
    ax.bar([i - 0.4 + width / 2 for i in range(len(nets))], [torch[n] for n in nets], width,
           label="PyTorch CPU float32")
    for j, b in enumerate(builds):
        by_net = {r["net"]: r for r in rows if r.get("build", "native") == b}
        xs = [i - 0.4 + width * (j + 1.5) for i, n in enumerate(nets) if n in by_net]
        rs = [by_net[n] for n in nets if n in by_net]
        path = rs[0]["spinla"].get("build", {}).get("simd_path", "")
        ax.bar(xs, [r["spinla"]["wall_s"] for r in rs], width,
               label=f"spinla emulator, {b} build {path} (16-bit fixed point)")
        for x, r in zip(xs, rs):
            ax.text(x, r["spinla"]["wall_s"], f"{r['time_ratio']:.2f}x", ha="center",
                    va="bottom", fontsize=6)
    ax.set_xticks(range(len(nets)), nets)
    ax.set_ylabel("one epoch, host wall time (s)")
    ax.legend(fontsize=7)
    ax.set_title(f"{res['host']['cpu']}, {res['host']['cpus']} CPUs", fontsize=8)
    fig.tight_layout()
    return fig


def kernels(res):
    rows = res["rows"]
    fig, ax = plt.subplots(figsize=(7.5, 0.6 + 0.28 * len(rows)))
    ax.barh([f"{r['case']} ({r.get('simd_path', 'native')})" for r in rows],
            [r["ratio"] for r in rows])
    ax.invert_yaxis()
    ax.axvline(res.get("target_matmul_ratio", res.get("target_ratio", 1.0)), color="k", ls=":",
               label="target (matmul)")
    ax.set_xlabel("emulator throughput / NumPy float32 throughput")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def main():
    for name, fn, sources in (("accuracy", accuracy, ["accuracy"]),
                              ("train_speed", train_speed, ["train_speed"]),
                              ("kernels", kernels, ["kernels_builds", "kernels"])):
        # kernels: the run with every host build (--also-march) when there is one
        res = next((r for r in map(_load, sources) if r is not None), None)
        if res is None:
            print(f"{name}: no results yet (bench/results/{sources[0]}.json)")
            continue
        fig = fn(res)
        out = RESULTS / f"{name}.png"
        fig.savefig(out, dpi=110)
        plt.close(fig)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
