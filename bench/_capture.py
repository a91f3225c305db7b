"""Trace one training step of an MNIST network as a Program (for the cost model and mapping
benches), without MNIST: a batch of random digits of the right shape is enough to trace it."""
from __future__ import annotations

import numpy as np

NETS = ["mlp1", "mlp2", "lenet1", "lenet4", "lenet5", "boosted_lenet4"]
# Training images one epoch of each network sees: Boosted LeNet-4 trains its three LeNet-4s
# on 60,000, 30,000 and 30,000 images (bench/train_speed.py; the filtering passes excluded).
EPOCH_IMAGES = {n: 60_000 for n in NETS} | {"boosted_lenet4": 120_000}


def train_step_program(net: str, batch: int, machine):
    """The traced training-step Program of `net` at `batch` rows, lowered for `machine`
    (Boosted LeNet-4: the step of its LeNet-4s, which all share one shape)."""
    import spinla
    from spinla import runtime
    from spinla.nn import models

    progs = []

    class _Grab:
        def on_run(self, p):
            if p.name.endswith("_train_step"):
                progs.append(p)

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (batch, 28, 28)).astype(np.uint8)
    y = rng.integers(0, 10, batch)
    with spinla.machine.use(machine):
        m = getattr(models, net)(seed=0)
        if net == "boosted_lenet4":
            m = m.nets[0]
        grab = _Grab()
        runtime.add_observer(grab)
        try:
            m.fit(x, y, epochs=1, batch_size=batch, verbose=0, seed=0)
        finally:
            runtime.remove_observer(grab)
    if not progs:
        raise RuntimeError(f"{net}: no training-step Program ran")
    return progs[0]


def steps_per_epoch(net: str, batch: int) -> int:
    return -(-EPOCH_IMAGES[net] // batch)
