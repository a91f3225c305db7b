"""Fit the kernels' cycle formulas to the instruction-level ARM968 model and rewrite the table.

    python tools/calibrate_cycles.py [FAMILY ...]

Counts every fit and held-out tile of spinla/armcalib.py under qemu-arm (spinla/armcycles.py),
fits each family's formula (spinla/kernels/cycle_table.py FEATURES) by least squares on the
relative error, prints fit and held-out errors, and rewrites cycle_table.TABLE (only the named
families, or all).  Needs arm-none-eabi-gcc and qemu-arm.  Re-run after changing a kernel.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spinla import armcalib, armharness  # noqa: E402
from spinla.kernels import cycle_table  # noqa: E402


def main(argv):
    why = armharness.toolchain_missing()
    if why:
        sys.exit(f"calibrate_cycles: {why}")
    armharness.build_arm()
    only = set(argv) or None
    cycle_table.CALIBRATING = True
    results = armcalib.calibrate(only)
    path = armcalib.write_table(results)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
