"""The host emulator: runs a Program call by call through the compiled kernels.

Each Call's tile loop runs in C (spinla_c/host/), spread over host threads; Python only walks
the list of Calls.  Temporaries are freed after their last reader, as SDRAM would be reused.
"""
from __future__ import annotations

import numpy as np

from . import checked as _checked
from . import runtime
from .kernels import KERNELS, lib
from .program import Program


def run_program(program: Program, args, run_index: int | None = None,
                checked: bool | None = None) -> list:
    """Run `program` once; run_index (default: the runs so far) picks the stochastic-rounding
    stream, mixed with each call's seed.  checked (default: SPINLA_CHECKED) re-runs every
    tile on only its declared DMA bytes (spinla/checked.py)."""
    if checked is None:
        checked = _checked.enabled()
    if len(args) != len(program.inputs):
        raise TypeError(f"{program.name}: expected {len(program.inputs)} inputs, "
                        f"got {len(args)}")
    env = {}
    for ph, a in zip(program.inputs, args):
        if a is None or a.shape != ph.shape:
            raise ValueError(f"{program.name}: input {ph.name} must have shape {ph.shape}, "
                             f"got {None if a is None else a.shape}")
        env[ph.id] = a
    last = getattr(program, "_last_use", None)
    if last is None:
        last = program._last_use = program.last_use()
    keep = {b.id for b in program.outputs} | {b.id for b in program.inputs}
    run = program.runs if run_index is None else int(run_index)
    for i, call in enumerate(program.calls):
        ins = []
        for b in call.inputs:
            d = env.get(b.id)
            if d is None:
                d = b.data
                if d is None:
                    raise RuntimeError(f"{program.name}: {call.op} reads {b!r}, which no "
                                       f"earlier call wrote and no input binds")
            ins.append(d)
        outs = [np.empty(b.shape, np.int16) for b in call.outputs]
        seed = int(lib.spl_seed_mix(call.seed, run)) if call.stochastic else 0
        sat = KERNELS[call.kernel].run(call, ins, outs, seed)
        if checked:
            _checked.check_call(program, i, call, ins, outs, seed, sat)
        runtime.record(call.op, sat)
        for b, o in zip(call.outputs, outs):
            env[b.id] = o
        for b in call.inputs:
            if last.get(b.id) == i and b.id not in keep and b.id in env:
                del env[b.id]
    program.runs += 1
    runtime.notify(program)
    return [env[b.id] if b.id in env else b.data for b in program.outputs]
