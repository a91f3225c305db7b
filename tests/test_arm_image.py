"""One core's ARM968 image holds only the kernels its Program calls (spinla/armimage.py), and
the code a core needs for each MNIST network's training step fits its 32 KB ITCM with the
documented runtime reserve (armimage.RUNTIME_RESERVE_BYTES, an assumption); the tables, which
live in DTCM, fit the DTCM that tiles leave (machine.dtcm_reserve_bytes).  Skipped, with the
reason, without arm-none-eabi-gcc."""
from __future__ import annotations

import shutil

import pytest

import spinla
from spinla import armimage
from spinla.kernels import KERNELS

needs_gcc = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                               reason="ITCM image tests skipped: arm-none-eabi-gcc not installed "
                                      "(apt-get install gcc-arm-none-eabi)")


def test_every_registered_kernel_has_an_entry_point():
    """...declared in the public header (the one definition of the C API)."""
    import re
    from spinla.armharness import C_DIR
    assert set(KERNELS) <= set(armimage.ENTRY_POINTS), set(KERNELS) - set(armimage.ENTRY_POINTS)
    header = (C_DIR / "spinla.h").read_text()
    for kernel, syms in armimage.ENTRY_POINTS.items():
        for sym in syms:
            assert re.search(rf"\b{sym}\(", header), f"{kernel}: {sym} is not in spinla.h"


@needs_gcc
def test_an_image_links_only_what_it_calls():
    gemm = armimage.link(["gemm_q15"])
    both = armimage.link(["gemm_q15", "adam_q15"])
    every = armimage.link([k for k in armimage.ENTRY_POINTS])
    assert 0 < gemm.text < both.text < every.text
    assert gemm.rodata == 0 < both.rodata          # the optimiser's tables come with adam only
    with pytest.raises(ValueError, match="no ARM entry point"):
        armimage.link(["no_such_kernel"])


@needs_gcc
@pytest.mark.parametrize("network", armimage.NETWORKS)
def test_training_step_code_fits_itcm(network):
    kernels = armimage.network_kernels(network)
    assert {"gemm_q15", "softmax_q15"} <= kernels and kernels & {"adam_q15", "sgd_q15"}
    img = armimage.link(kernels)
    m = spinla.machine.current()
    assert img.text + armimage.RUNTIME_RESERVE_BYTES <= m.itcm_bytes, (
        f"{network}: {img.text} B of kernel code + {armimage.RUNTIME_RESERVE_BYTES} B runtime "
        f"reserve exceed the {m.itcm_bytes} B ITCM ({sorted(kernels)})")
    assert img.rodata <= m.dtcm_reserve_bytes, (
        f"{network}: {img.rodata} B of tables exceed the {m.dtcm_reserve_bytes} B DTCM reserve")
