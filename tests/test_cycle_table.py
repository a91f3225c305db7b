"""The kernels' cycle formulas (spinla/kernels/cycle_table.py) against the instruction-level
ARM968 model (spinla/armcycles.py) on held-out tiles: shapes that tools/calibrate_cycles.py
did not fit on (spinla/armcalib.HELDOUT).  Within 5 %, or the table is stale: re-run
`python tools/calibrate_cycles.py` after changing a kernel.  The qemu part is skipped, with the
reason, without arm-none-eabi-gcc or qemu-arm."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from spinla import armharness as hx
from spinla.kernels import KERNELS, cycle_table

TOLERANCE = 0.05
_missing = hx.toolchain_missing()
qemu = pytest.mark.skipif(_missing is not None, reason=f"cycle-model test skipped: {_missing}")


def _families():
    from spinla import armcalib
    return armcalib.families()


@qemu
@pytest.mark.parametrize("family", sorted(cycle_table.FEATURES))
def test_formula_predicts_held_out_tiles(family):
    from spinla import armcalib
    fit_pts, held = _families()[family]
    assert held, f"{family}: no held-out tiles"
    rows = armcalib.measure(held, offset=len(fit_pts))
    for feats, counted in rows:
        predicted = sum(cycle_table.TABLE[family][n].value * f for n, f in feats.items())
        err = predicted / counted - 1
        assert abs(err) <= TOLERANCE, (
            f"{family}: formula {predicted:.0f} vs instruction model {counted} cycles "
            f"({err:+.1%}) on held-out tile {feats}")


def test_every_family_has_every_term_documented():
    for family, features in cycle_table.FEATURES.items():
        terms = cycle_table.TABLE[family]
        assert set(terms), family
        for name, t in terms.items():
            assert t.how and t.command, (family, name)
            assert "ASSUMPTION" not in t.how, (family, name)


def test_no_cycle_constant_outside_the_table():
    """The kernels' modules hold no cycle constants of their own any more."""
    kdir = Path(cycle_table.__file__).parent
    for p in kdir.glob("*.py"):
        if p.name == "cycle_table.py":
            continue
        assert not re.search(r"^\s*CYCLES?_\w+\s*=", p.read_text(), re.M), p.name


def test_every_call_of_a_training_step_is_priced():
    """LeNet-5's training step lowers to calls of most families; each call's per-tile cycles
    come from the table: finite and positive (views cost nothing)."""
    import spinla
    from spinla import armimage
    from spinla.nn import models
    prog = armimage.training_step_program(models.lenet5, batch=8)
    machine = spinla.machine.current()
    families = set()
    for c in prog.calls:
        cyc = np.asarray(KERNELS[c.kernel].cycles(c, machine), np.float64)
        assert np.all(np.isfinite(cyc)), c.kernel
        assert c.kernel == "view" or np.all(cyc > 0), c.kernel
        families.add(c.kernel)
    assert {"conv2d_q15", "gemm_q15", "adam_q15", "avg_pool2d_q15"} <= families
