"""ARM968 cycles of the kernels, counted by the instruction-level model (spinla/armcycles.py:
the ARM build run under qemu-arm, each executed instruction priced by the ARM9E-S rules).

    python bench/arm.py [--label before|after|...]

Writes bench/results/arm.json, keeping the runs recorded under other labels, so the figures of
the pre-rewrite kernels ("before") and of the ARMv5TE rewrite ("after") sit side by side.  Per run:

- gemm: cycles per MAC of whole tiles (call, operand scan, MACs, requantisation) per shape,
  small and full-range data, and of the inner loop (the marginal cost of doubling k);
- conv2d: cycles per MAC (of the k = kh*kw*cin MACs the layer needs, so padding counts as
  overhead) of LeNet-5's C1 and C3 tiles as the planner picks them in a batch-32 training step
  (spinla.kernels.conv), and of its grad-input convolution, with the kernel's path (C1: the
  direct cin = 1 path, no padding; else im2col + GEMM over k rounded up to even);
- cycles per MAC of the weight gradient on LeNet-5-sized layers (whole images);
- requantisation cycles per output (arm_requant_q15, spl_requant_block_q63);
- Adam and SGD cycles per element;
- .text and .rodata bytes per kernel family (the ARM objects, sections apart);
- the held-out error of each family's fitted cycle formula (spinla/kernels/cycle_table.py)
  against the instruction model.

Targets are those of issue 8; the physical limit is one 16x16 MAC per cycle (SMLAxy issues
every cycle on the ARM9E-S).  These are modelled cycles, not a board measurement.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

from spinla import armcalib  # noqa: E402
from spinla import armcases as cases  # noqa: E402
from spinla import armcycles  # noqa: E402
from spinla import armharness as hx  # noqa: E402
from spinla.kernels import conv, cycle_table  # noqa: E402

LIMIT_CYCLES_PER_MAC = 1.0
TARGETS = {  # issue 8
    "gemm_inner_cycles_per_mac": 1.6,
    "gemm_64x128x64_cycles_per_mac": 2.0,
    "gemm_64x128x64_cycles_per_mac_aim": 1.4,
    "conv2d_tile_cycles_per_mac": 2.5,
    "requant_cycles_per_output": 12.0,
}
GEMM_SHAPES = [(4, 4, 16), (16, 16, 64), (32, 32, 64), (64, 128, 64), (13, 7, 37), (32, 10, 84)]
MODES = {"nearest": 0, "stochastic": 1}


def rng():
    return np.random.default_rng(8)


def count(case):
    return armcycles.count(*case)


def gemm_figures(quick: bool):
    out = []
    shapes = GEMM_SHAPES[:3] if quick else GEMM_SHAPES
    for m, n, k in shapes:
        for data in ("small", "full"):
            for mode in (["nearest", "stochastic"] if (m, n, k) == (64, 128, 64) else ["nearest"]):
                c = count(cases.gemm(rng(), m, n, k, data == "full", MODES[mode],
                                     shift=30 if data == "full" else 12))
                out.append(dict(m=m, n=n, k=k, data=data, rounding=mode, cycles=c.cycles,
                                instructions=c.instructions,
                                cycles_per_mac=round(c.cycles / (m * n * k), 3),
                                classes=dict(c.classes)))
    return out


def gemm_inner(data: str):
    """Marginal cycles per MAC of doubling k on a 16x16 tile: the inner loop alone."""
    m = n = 16
    k = 64
    sh = 30 if data == "full" else 12
    c1 = count(cases.gemm(rng(), m, n, k, data == "full", 0, shift=sh)).cycles
    c2 = count(cases.gemm(rng(), m, n, 2 * k, data == "full", 0, shift=sh)).cycles
    return round((c2 - c1) / (m * n * k), 3)


def lenet5_conv_tiles():
    """(label, geometry, tile, ldw, scratch_rows) of LeNet-5's convolutions in a batch-32
    training step, first tile of each, as spinla's planner picks them."""
    out = []
    for i, (op, geom, tile, ldw, rows) in enumerate(armcalib.lenet5_conv_tiles(32)):
        out.append(({0: "C1", 1: "C3"}.get(i, f"{op}{i - 1}"), geom, tile, ldw, rows))
    return out


def calibration():
    """Held-out error of each family's fitted formula (cycle_table) against the model."""
    out = {}
    for fam, (fit_pts, held) in armcalib.families().items():
        rows = armcalib.measure(held, offset=len(fit_pts))
        errs = [sum(cycle_table.TABLE[fam][n].value * f for n, f in feats.items()) / c - 1
                for feats, c in rows]
        out[fam] = {"held_out_tiles": len(rows),
                    "max_abs_error": round(max(abs(e) for e in errs), 4)}
    return out


def conv_figures():
    out = []
    for label, geom, tile, ldw, rows in lenet5_conv_tiles():
        names = "n h w cin oh ow cout kh kw sy sx pt pl".split()
        g = {f"g_{k}": v for k, v in zip(names, geom)}
        p0, p1, c0, c1, _ = tile
        k = g["g_kh"] * g["g_kw"] * g["g_cin"]
        macs = (p1 - p0) * (c1 - c0) * k
        n6, n4, _ = conv.direct_blocks(dict(zip(names, geom)), p0, p1, c1 - c0, ldw, rows,
                                       "nearest", 12)
        direct = bool(n6 + n4)
        executed = 6 * n6 + 4 * n4 if direct else (p1 - p0)  # pixels summed per channel
        kx = k if direct else k + (k % 2) * (ldw > k)          # MACs per pixel and channel
        for data in ("small", "full"):
            c = count(cases.conv2d(rng(), g, data == "full", 0, p0, p1, c0, c1, ldw, rows,
                                   shift=12))
            out.append(dict(layer=label, geom=dict(zip(names, geom)), pixels=p1 - p0,
                            channels=c1 - c0, k=k, ldw=ldw, scratch_rows=rows, data=data,
                            cycles=c.cycles, macs=macs,
                            cycles_per_mac=round(c.cycles / macs, 3),
                            path="direct" if direct else "im2col",
                            padded_mac_share=round(executed * kx / ((p1 - p0) * k) - 1, 3)))
    return out


GW_SHAPES = {  # weight gradients of LeNet-5-sized layers, one image, the planner's 64 columns
    "C1-like (32x32x1 -> 6, 5x5)": (1, 32, 32, 1, 6, 5, 5, 1, 1, 0, 0),
    "C3 (14x14x6 -> 16, 5x5)": (1, 14, 14, 6, 16, 5, 5, 1, 1, 0, 0),
}


def gw_figures():
    """Cycles per MAC of the weight gradient (arm_conv2d_grad_weight_q15: exact int64 partial
    sums over the tile's pixels) on whole images of LeNet-5-sized layers."""
    out = []
    for label, geom in GW_SHAPES.items():
        g = cases.conv_geometry(*geom)
        for data in ("small", "full"):
            kernel, sc, arrs = cases.conv2d_gw(rng(), g, data == "full", 0, scratch_cols=64)
            c = count((kernel, sc, arrs))
            macs = ((sc["p1"] - sc["p0"]) * (sc["c1"] - sc["c0"]) * g["g_kh"] * g["g_kw"]
                    * g["g_cin"])
            out.append(dict(layer=label, data=data, cycles=c.cycles, macs=macs,
                            cycles_per_mac=round(c.cycles / macs, 3)))
    return out


def per_element(n: int = 1024):
    out = {}
    for mode, mv in MODES.items():
        c = count(cases.requant(rng(), n, True, mv, shift=6))
        out[f"requant_q15_{mode}"] = round(c.cycles / n, 2)
        c = count(cases.requant_block(rng(), n, False, mv, shift=15))
        out[f"requant_block_q63_{mode}"] = round(c.cycles / n, 2)
        c = count(cases.adam(rng(), n, False, mv))
        out[f"adam_{mode}"] = round(c.cycles / n, 2)
        c = count(cases.sgd(rng(), n, False, mv, momentum=False))
        out[f"sgd_{mode}"] = round(c.cycles / n, 2)
        c = count(cases.sgd(rng(), n, False, mv, momentum=True))
        out[f"sgd_momentum_{mode}"] = round(c.cycles / n, 2)
    return out


def sizes():
    """.text and .rodata bytes per kernel object (sections summed from `size -A`)."""
    subprocess.run(["make", "-s", "arm-harness"], cwd=hx.ROOT, check=True)
    out = {}
    for o in sorted((hx.ROOT / "arm-build" / "harness").glob("*_q15.o")):
        text = rodata = 0
        for line in subprocess.run(["arm-none-eabi-size", "-A", str(o)], capture_output=True,
                                   text=True, check=True).stdout.splitlines():
            f = line.split()
            if len(f) >= 2 and f[0].startswith(".text"):
                text += int(f[1])
            elif len(f) >= 2 and f[0].startswith(".rodata"):
                rodata += int(f[1])
        out[o.stem] = {"text": text, "rodata": rodata}
    out["total"] = {k: sum(v[k] for v in out.values()) for k in ("text", "rodata")}
    return out


def toolchain():
    v = lambda cmd: subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
    return {"gcc": v(["arm-none-eabi-gcc", "--version"]), "qemu": v(["qemu-arm", "--version"]),
            "flags": "-mcpu=arm968e-s -marm -Os, SPL_HOT functions -O2 (Makefile ARM_FLAGS, spinla_c/spl_dsp.h)", "qemu_cpu": hx.QEMU_CPU}


def verdicts(run):
    g = {(r["m"], r["n"], r["k"], r["data"], r["rounding"]): r["cycles_per_mac"]
         for r in run["gemm"]}
    big = g.get((64, 128, 64, "small", "nearest"))
    conv_worst = max(r["cycles_per_mac"] for r in run["conv2d"]
                     if r["layer"] in ("C1", "C3") and r["data"] == "small")
    req = run["per_element"]["requant_q15_nearest"]
    return {
        "gemm_inner_small": [run["gemm_inner_cycles_per_mac"]["small"],
                             TARGETS["gemm_inner_cycles_per_mac"]],
        "gemm_64x128x64_small": [big, TARGETS["gemm_64x128x64_cycles_per_mac"]],
        "conv2d_C1_C3_worst_small": [conv_worst, TARGETS["conv2d_tile_cycles_per_mac"]],
        "requant_per_output": [req, TARGETS["requant_cycles_per_output"]],
        "_format": "[measured, target]; the limit is 1.0 cycle per MAC",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--label", default="before",
                    help="name of this run in arm.json (other labels are kept)")
    ap.add_argument("--quick", action="store_true", help="a few GEMM shapes only")
    args = ap.parse_args()
    why = hx.toolchain_missing()
    if why:
        sys.exit(f"bench/arm.py: {why}")
    hx.build_arm()
    run = {"git": _common.git_rev(), "toolchain": toolchain(), "gemm": gemm_figures(args.quick),
           "gemm_inner_cycles_per_mac": {d: gemm_inner(d) for d in ("small", "full")},
           "conv2d": conv_figures(), "conv2d_gw": gw_figures(), "per_element": per_element(),
           "sizes": sizes(),
           "calibration_held_out": calibration()}
    run["verdicts"] = verdicts(run)
    old = _common.load("arm") or {}
    runs = dict(old.get("runs", {}))
    runs[args.label] = run
    path = _common.save("arm", {"model": "spinla/armcycles.py (modelled ARM968 cycles)",
                                "limit_cycles_per_mac": LIMIT_CYCLES_PER_MAC,
                                "targets": TARGETS, "runs": runs})
    print(f"{args.label}: gemm inner {run['gemm_inner_cycles_per_mac']} cycles/MAC (target "
          f"{TARGETS['gemm_inner_cycles_per_mac']}, limit {LIMIT_CYCLES_PER_MAC})")
    for r in run["gemm"]:
        print(f"  gemm {r['m']}x{r['n']}x{r['k']} {r['data']:5s} {r['rounding']:10s} "
              f"{r['cycles_per_mac']:7.2f} cycles/MAC")
    for r in run["conv2d"]:
        print(f"  conv {r['layer']:18s} {r['pixels']}px x {r['channels']}ch k={r['k']} "
              f"ldw={r['ldw']} {r['data']:5s} {r['cycles_per_mac']:7.2f} cycles/MAC")
    for r in run["conv2d_gw"]:
        print(f"  conv grad weight {r['layer']:28s} {r['data']:5s} {r['cycles_per_mac']:7.2f} "
              f"cycles/MAC")
    for k, v in run["per_element"].items():
        print(f"  {k:28s} {v:7.2f} cycles/element")
    print(f"  sizes total: .text {run['sizes']['total']['text']} B, .rodata "
          f"{run['sizes']['total']['rodata']} B")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
