"""The host emulator as a Backend: a Buffer's data is its host copy, and a Program runs through
the compiled kernels (spinla.emulator: a traced Program from one C entry point, an eager op
call by call)."""
from __future__ import annotations

import numpy as np

from .. import state
from ..program import Buffer
from . import Backend, Transfer

_EMULATOR = []


def _emulator():
    """spinla.emulator, imported on first use (it imports the kernels, which import this
    package); its attributes are looked up per run, so a test may stand in for them."""
    if not _EMULATOR:
        from .. import emulator
        _EMULATOR.append(emulator)
    return _EMULATOR[0]


class EmulatorBackend(Backend):
    """checked: replay every tile too, on only its declared DMA bytes from its chip's SDRAM
    image, under a placement and its streams (spinla/checked.py); True: place()'s default
    strategy, 'model' / 'data' / 'best': that one; None follows SPINLA_CHECKED."""

    name = "emulator"

    def __init__(self, *args, checked: bool | str | None = None, **kw):
        super().__init__(*args, **kw)
        self.checked = checked

    def upload(self, data, fmt, *, kind: str, name: str | None = None):
        a = np.asarray(data)
        if a.dtype != np.int16:
            raise TypeError(f"upload ({kind}): expected int16 data in {fmt}, got {a.dtype}")
        buf = Buffer(a.shape, fmt, data=np.asarray(a, order="C"), name=name)
        self._record(Transfer(kind, int(a.nbytes), "up", buf.id))
        return buf

    def run(self, program, args, run_index: int) -> list:
        return _emulator().run_program(program, args, run_index=run_index, checked=self.checked)

    def straight(self) -> bool:
        """One Call with nobody watching (no run observers, not checked) runs straight
        through the kernels: its Program would be made, counted and dropped with no one to see
        it, which is a fifth of what a small eager op costs.  A subclass that overrides run
        sees every Program, eager ones included."""
        if self.checked or type(self).run is not EmulatorBackend.run or state.observers():
            return False
        return not _emulator()._checked.enabled()

    def run_op(self, calls, outputs) -> list:
        if len(calls) == 1 and self.straight():
            return _emulator().run_call(calls[0], outputs)
        return super().run_op(calls, outputs)

    def run_kept(self, call, inputs, outputs, op: str, seed: int) -> list:
        return _emulator().run_kept(call, inputs, outputs, op, seed)

    def download(self, buffer) -> np.ndarray:
        if buffer.data is None:
            raise RuntimeError(f"download: {buffer!r} holds no data (a placeholder of a "
                               f"traced Program)")
        self._record(Transfer("result", int(buffer.data.nbytes), "down", buffer.id))
        return buffer.data
