"""One core's ARM968 image: only the kernels its Program calls, linked with --gc-sections, with
code (.text) and tables (.rodata) reported apart.

    python -m spinla.armimage gemm_q15 conv2d_q15 ...   # or: make arm-image IMAGE="gemm_q15 ..."
    python -m spinla.armimage --network lenet5           # the kernels of a training step

The kernels are the -ffunction-sections -fdata-sections objects `make arm-harness` builds
(arm-build/harness/*_q15.o); the link roots are the C entry points of the chosen kernels
(ENTRY_POINTS), so a table or a helper no chosen kernel reaches is dropped.

Where things live (stated, not measured on a board):
- code (.text) in ITCM, 32 KB (machine.itcm_bytes), with RUNTIME_RESERVE_BYTES kept for the
  code that is not a kernel (ASSUMPTION, below);
- read-only tables (.rodata: the LUT tables, the optimiser's square-root and reciprocal
  tables) in DTCM, read by data loads in one cycle like ITCM (SDRAM is 20-30 times slower,
  ../shared/spinnaker-facts.md).  They do not fit next to the code: LeNet-5's training step
  needs 23,540 B of code and 7,176 B of tables (Boosted LeNet-4, the largest, 24,532 B of
  code: `make arm-image NETWORK=boosted_lenet4`).  In DTCM they come out
  of machine.dtcm_reserve_bytes, the part of DTCM not given to tiles, which they share with
  the stack and the runtime's globals (see tests/test_arm_image.py).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import armharness as hx

# C entry points of every registered kernel (spinla/kernels/*.py register names); "view"
# moves no data and runs no code.
ENTRY_POINTS = {
    "gemm_q15": ["arm_gemm_q15"],
    "conv2d_q15": ["arm_conv2d_q15"],
    "conv2d_pack_q15": ["arm_conv2d_pack_q15"],
    "conv2d_gw_q15": ["arm_conv2d_grad_weight_q15"],
    "conv2d_gw_reduce_q15": ["arm_conv2d_grad_weight_reduce_q15"],
    "copy_q15": ["arm_copy_q15", "arm_fill_q15"],
    "gather_rows_q15": ["arm_gather_rows_q15"],
    "gather_rows_indexed_q15": ["arm_gather_rows_q15"],
    "view": [],
    "eltwise_q15": ["arm_eltwise_q15"],
    "lut_q15": ["arm_lut_q15"],
    "sgd_q15": ["arm_sgd_q15"],
    "adam_q15": ["arm_adam_q15"],
    "avg_pool2d_q15": ["arm_avg_pool2d_q15"],
    "max_pool2d_q15": ["arm_max_pool2d_q15"],
    "avg_pool2d_grad_q15": ["arm_avg_pool2d_grad_q15"],
    "max_pool2d_grad_q15": ["arm_max_pool2d_grad_q15"],
    "reduce_q15": ["arm_reduce_q15"],
    "reduce_part_q15": ["arm_reduce_q15"],     # its rq NULL mode: a split sum's partials
    "requant_q15": ["arm_requant_q15"],
    "softmax_q15": ["arm_softmax_q15", "arm_logsumexp_q15"],
    "warp_affine_q15": ["spl_warp_affine_q15"],
}

# ASSUMPTION: ITCM kept for the code that is not a kernel: spinnaker_tools' SARK and spin1_api
# (start-up, the event loop, DMA and packet handlers) and spinla's per-core dispatcher of a
# Program's phases.  Neither is built in this repository; 8 KB is a named guess, to be replaced
# by the size map of the real runtime image.  (The largest training image, Boosted LeNet-4's,
# leaves 8,236 B beside its 24,532 B of kernel code: a runtime over that would not fit.)
RUNTIME_RESERVE_BYTES = 8 * 1024


@dataclass
class Image:
    kernels: tuple
    text: int
    rodata: int
    elf: Path | None = None



def _objects() -> list[Path]:
    hx.build_arm()
    return sorted((hx.ROOT / "arm-build" / "harness").glob("*_q15.o"))


def _sections(elf: Path) -> tuple[int, int]:
    out = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    text = rodata = 0
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and f[1].isdigit():
            if f[0].startswith(".text"):
                text += int(f[1])
            elif f[0].startswith(".rodata"):
                rodata += int(f[1])
    return text, rodata


def link(kernels, out: Path | None = None) -> Image:
    """Link the image of `kernels` (registered names) and measure it."""
    kernels = tuple(sorted(set(kernels)))
    unknown = [k for k in kernels if k not in ENTRY_POINTS]
    if unknown:
        raise ValueError(f"armimage: no ARM entry point known for kernels {unknown} "
                         f"(add them to spinla/armimage.py ENTRY_POINTS)")
    syms = [s for k in kernels for s in ENTRY_POINTS[k]]
    if not syms:
        return Image(kernels, 0, 0)
    with tempfile.TemporaryDirectory(prefix="spinla-img-") as d:
        elf = Path(out) if out else Path(d) / "core.elf"
        cmd = ["arm-none-eabi-gcc", "-mcpu=arm968e-s", "-marm", "-nostdlib", "-static",
               "-Wl,--gc-sections", f"-Wl,-e,{syms[0]}",
               *(f"-Wl,--require-defined={s}" for s in syms), *map(str, _objects()), "-lgcc",
               "-o", str(elf)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise hx.HarnessError(f"armimage: link failed: {' '.join(cmd)}\n{r.stderr}")
        text, rodata = _sections(elf)
    return Image(kernels, text, rodata, Path(out) if out else None)


class _Recorder:
    def __init__(self):
        self.programs = []

    def on_run(self, program):
        self.programs.append(program)


def training_programs(model_fn, batch: int = 8, augment=None):
    """Every Program run while `model_fn()` trains one step of `batch` random 28x28 digits
    (the step itself, plus data movement and, with augment, the distortion pass)."""
    from . import runtime
    model = model_fn()
    net = model.nets[0] if hasattr(model, "nets") else model
    rng = np.random.default_rng(0)
    x = rng.random((batch, 28, 28))
    y = np.arange(batch) % 10
    rec = _Recorder()
    runtime.add_observer(rec)
    try:
        net.fit(x, y, epochs=1, batch_size=batch, verbose=0, augment=augment)
    finally:
        runtime.remove_observer(rec)
    return rec.programs


def training_step_program(model_fn, batch: int = 8):
    """The training step's Program (the one with the optimiser update)."""
    for p in training_programs(model_fn, batch):
        if any(c.kernel in ("adam_q15", "sgd_q15") for c in p.calls):
            return p
    raise RuntimeError(f"{model_fn.__name__}: no training step Program was run")


def network_kernels(name: str, batch: int = 8) -> set:
    """Kernels a core runs while the MNIST network `name` (spinla.nn.models) trains; the
    boosted net trains with distortions, as in the paper."""
    from .nn import models
    augment = None
    if name == "boosted_lenet4":
        from .nn import distortions
        augment = distortions.get(True)
    progs = training_programs(getattr(models, name), batch, augment)
    return {c.kernel for p in progs for c in p.calls}


NETWORKS = ("mlp1", "mlp2", "lenet1", "lenet4", "lenet5", "boosted_lenet4")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kernels", nargs="*", help="registered kernel names (spinla/kernels)")
    ap.add_argument("--network", choices=NETWORKS, help="the kernels of a training step")
    args = ap.parse_args(argv)
    why = hx.toolchain_missing()
    if why:
        sys.exit(f"armimage: {why}")
    from .machine import spinn5
    kernels = set(args.kernels) | (network_kernels(args.network) if args.network else set())
    img = link(kernels)
    m = spinn5()
    fits = img.text + RUNTIME_RESERVE_BYTES <= m.itcm_bytes
    print(f"kernels: {' '.join(img.kernels)}")
    print(f"ITCM: .text {img.text} B + runtime reserve {RUNTIME_RESERVE_BYTES} B (assumption) "
          f"of {m.itcm_bytes} B: {'fits' if fits else 'DOES NOT FIT'}")
    print(f"DTCM: .rodata (tables) {img.rodata} B, out of the {m.dtcm_reserve_bytes} B DTCM "
          f"reserve (machine.dtcm_reserve_bytes), shared with the stack and globals")


if __name__ == "__main__":
    main()
