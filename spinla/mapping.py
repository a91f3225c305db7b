"""The mapping of an MNIST network's training step onto a machine (`spinla map`): its Program
traced once, placed (spinla.place), priced (spinla.cost), and summarised as numbers, text and
a picture.  Every time and energy here is modelled, not measured."""
from __future__ import annotations

import math

import numpy as np

NETS = ("mlp1", "mlp2", "lenet1", "lenet4", "lenet5", "boosted_lenet4")
# Training images one epoch of each network sees: Boosted LeNet-4 trains its three LeNet-4s
# on 60,000, 30,000 and 30,000 images (its filtering passes are not counted).
EPOCH_IMAGES = {n: 60_000 for n in NETS} | {"boosted_lenet4": 120_000}
TRAIN_ROWS = 60_000
MNIST_TRAIN_BYTES = 60_000 * 28 * 28 * 2 + 60_000 * 10 * 2 + 60_000 * 2  # q15 x, targets, labels
# The epoch's order of the training rows (nn.data.place_rows: one int32 per image), loaded
# onto every chip once per epoch beside the resident set.
ORDER_BYTES_PER_IMAGE = 4


def train_step_program(net: str, batch: int, machine):
    """The traced training-step Program of `net` at `batch` rows, lowered for `machine`
    (Boosted LeNet-4: the step of its LeNet-4s, which share one shape).  Traced on a batch of
    random digits: the Program depends on shapes only, not on the images; its resident
    training set then has MNIST's 60,000 rows."""
    from . import machine as mach
    from . import runtime
    from .array import Array
    from .nn import models
    from .program import Buffer

    if net not in NETS:
        raise ValueError(f"map: unknown network {net!r}; use one of {', '.join(NETS)}")
    progs = []

    class _Grab:
        def on_run(self, p):
            if p.name.endswith("_train_step"):
                progs.append(p)

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (batch, 28, 28)).astype(np.uint8)
    y = rng.integers(0, 10, batch)
    with mach.use(machine):
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
        small = progs[0]
        if not small.resident_inputs:
            return small
        # The step traced again for the whole MNIST training set resident on every chip
        # (the run above had only one batch of rows): the same calls, with the set's true
        # size in SDRAM.  Tracing needs shapes and formats only, no data.
        step, _ = m._make_step(batch, m._grad_formats(batch), [len(s) for s in m._ts[1]])
        # Inputs 0-2 are the set, its targets and its labels (Sequential._make_step).
        args = [Array(Buffer((TRAIN_ROWS,) + b.shape[1:] if i < 3 else b.shape, b.fmt))
                for i, b in enumerate(small.inputs)]
        return step.program(*args)


def steps_per_epoch(net: str, batch: int) -> int:
    return -(-EPOCH_IMAGES[net] // batch)


def routing_entries(program, placement) -> np.ndarray:
    """Multicast routing-table entries per chip, an upper bound: one per (source chip,
    buffer) tree passing through or ending at the chip, per call (no key/mask merging, no
    default routing of straight-through packets)."""
    from .cost import _flows
    m = placement.machine
    entries = np.zeros(m.chips, np.int64)
    for call, cp, hin in zip(program.calls, placement.calls, placement.homes_in):
        entries += _flows(call, cp, hin, placement, m)
    return entries


def mapping(program, net: str, batch: int, machine, strategy: str = "best") -> dict:
    """The numbers of `spinla map --json`."""
    from .cost import cost_of, resident_load_cost, transfer_cost
    from .machine import get
    from .place import place
    m = get(machine)
    pl = place(program, m, strategy)
    c = cost_of(program, m, placement=pl)
    steps = steps_per_epoch(net, batch)
    per_chip_sdram = np.zeros(m.chips)
    for h in pl.homes.values():
        for chip, nb in h.bytes_on().items():
            per_chip_sdram[chip] += nb
    # A core runs its tiles one after another: its DTCM peak is its largest tile.
    dtcm = max((int(np.max(call.dtcm)) for call in program.calls
                if call.ntiles and call.kernel != "view"), default=0)
    routes = routing_entries(program, pl)
    phases = {}
    for r in c.calls:
        if r.time_s > 0:
            ph = phases.setdefault(r.op, {"op": r.op, "calls": 0, "time_s": 0.0, "bounds": {}})
            ph["calls"] += 1
            ph["time_s"] += r.time_s
            ph["bounds"][r.bound] = ph["bounds"].get(r.bound, 0.0) + r.time_s
    for ph in phases.values():
        ph["bound"] = max(ph["bounds"], key=ph["bounds"].get)
    # A step that gathers its batch from a resident set (nn.fit's) needs the set on every
    # chip once, and each epoch's order of its rows there once per epoch (in the epoch's
    # figures); a step without resident inputs reads its batch where the host put it.
    resident = bool(getattr(program, "resident_inputs", ()))
    load_s, load_j = resident_load_cost(MNIST_TRAIN_BYTES, m) if resident else (0.0, 0.0)
    order_s, order_j = resident_load_cost(EPOCH_IMAGES[net] * ORDER_BYTES_PER_IMAGE, m) \
        if resident else (0.0, 0.0)
    return {
        "net": net, "machine": m.name, "strategy": strategy, "batch": batch,
        "note": "modelled by spinla.cost under spinla.place, not measured on hardware",
        "time_per_step_s": c.time_s, "roofline_per_step_s": c.roofline_s,
        "ratio_to_roofline": c.time_s / c.roofline_s if c.roofline_s else math.nan,
        "steps_per_epoch": steps, "time_per_epoch_s": c.time_s * steps + order_s,
        "energy_per_epoch_j": c.energy_j * steps + order_j,
        "order_load_per_epoch_s": order_s,
        "utilisation_used_cores": c.utilisation_used_cores,
        "utilisation_machine": c.utilisation_machine,
        "chips_used": int(c.chips_used), "cores_used": int(c.cores_used),
        "sdram_peak_bytes_per_chip": int(per_chip_sdram.max()) if m.chips else 0,
        "dtcm_peak_bytes_per_core": dtcm,
        "routing_entries_max_per_chip": int(routes.max()) if len(routes) else 0,
        "routing_entries_note": "upper bound: one entry per multicast tree per chip it "
                                "touches, no key/mask merging, no default routing",
        "routing_entries_per_chip": routes.tolist(),
        "dataset_upload_once_s": transfer_cost(MNIST_TRAIN_BYTES, m),
        # ... and, with resident inputs, the upload fanned out to every chip
        # (spinla.cost.resident_load_cost).
        "dataset_load_every_chip_once_s": load_s, "dataset_load_every_chip_once_j": load_j,
        # Data parallelism: the replica chips the batch is split over, and the calls that
        # are not batch-separable (placed model-parallel instead).
        "replicas": len(pl.replicas) if any(cp.mode == "data" for cp in pl.calls) else 0,
        "data_parallel_calls": sum(cp.mode == "data" for cp in pl.calls),
        "not_data_parallel": [{"call": i, "op": op} for i, op, _ in pl.not_data],
        "phases": list(phases.values()),
        "calls": [{"op": r.op, "kernel": r.kernel, "mode": r.mode, "bound": r.bound,
                   "time_s": r.time_s, "roofline_s": r.roofline_cycles / m.clock_hz,
                   "utilisation": r.utilisation_used_cores, "chips": r.chips_used,
                   "cores": r.cores_used, "packets": r.packets}
                  for r in c.calls if r.time_s > 0],
        "_cost": c, "_placement": pl,
    }


def text(d: dict) -> str:
    """The human-readable report of `spinla map`."""
    out = [f"{d['net']} on {d['machine']}, strategy {d['strategy']}, batch {d['batch']} "
           f"(modelled, spinla.cost; not measured)",
           f"  chips used {d['chips_used']}, cores used {d['cores_used']}; SDRAM peak "
           f"{d['sdram_peak_bytes_per_chip'] / 1e6:.3g} MB per chip, DTCM peak "
           f"{d['dtcm_peak_bytes_per_core'] / 1024:.3g} KB per core; routing entries at most "
           f"{d['routing_entries_max_per_chip']} per chip",
           f"  step {d['time_per_step_s'] * 1e3:.4g} ms (roofline of this placement "
           f"{d['roofline_per_step_s'] * 1e3:.4g} ms, ratio {d['ratio_to_roofline']:.2f}); "
           f"epoch ({d['steps_per_epoch']} steps) {d['time_per_epoch_s']:.4g} s, "
           f"{d['energy_per_epoch_j']:.4g} J; utilisation {100 * d['utilisation_used_cores']:.3g}"
           f" % of the cores used",
           f"  one-time upload of the MNIST training set over the host link: "
           f"{d['dataset_upload_once_s']:.3g} s" + (
               f"; resident on every chip (the steps gather their batches there): "
               f"{d['dataset_load_every_chip_once_s']:.3g} s, "
               f"{d['dataset_load_every_chip_once_j']:.3g} J once, and each epoch's order "
               f"{d['order_load_per_epoch_s'] * 1e3:.3g} ms (in the epoch's time)"
               if d["dataset_load_every_chip_once_s"] else ""),
           f"  {d['data_parallel_calls']} calls data-parallel over {d['replicas']} replica "
           f"chips" + (f"; {len(d['not_data_parallel'])} not batch-separable, placed "
                       f"model-parallel" if d["not_data_parallel"] else "")
           if d["replicas"] else "  no call data-parallel",
           "  time per step by phase (op), with the bound of most of its time:"]
    for ph in sorted(d["phases"], key=lambda p: -p["time_s"]):
        out.append(f"    {ph['op']:<22s} {ph['calls']:4d} calls {ph['time_s'] * 1e6:10.1f} us  "
                   f"{ph['bound']}")
    out.append("  calls (in order): op, kernel, mode, bound, time us, utilisation, chips, cores")
    for r in d["calls"]:
        out.append(f"    {r['op']:<22s} {r['kernel']:<22s} {r['mode']:<5s} {r['bound']:<8s} "
                   f"{r['time_s'] * 1e6:9.1f} {100 * r['utilisation']:6.1f} % {r['chips']:4d} "
                   f"{r['cores']:5d}")
    return "\n".join(out)


def picture(d: dict, path: str):
    """A PNG: the chip grid coloured by busy core-seconds per chip, and the phase timeline per
    chip (each phase a bar where the chip works in it, coloured by its bound)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .place import chip_xy
    c, pl = d["_cost"], d["_placement"]
    m = pl.machine
    cc = np.asarray(c.core_cycles)
    load = np.bincount(np.arange(len(cc)) // m.app_cores_per_chip, weights=cc,
                       minlength=m.chips)[:m.chips]
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(14, 5.5),
                                   gridspec_kw={"width_ratios": [1, 2.2]})
    xy = np.asarray([chip_xy(m, h) for h in range(m.chips)])
    sc = ax0.scatter(xy[:, 0], xy[:, 1], c=load / m.clock_hz * 1e3, s=260, marker="h",
                     cmap="viridis")
    fig.colorbar(sc, ax=ax0, label="busy core-ms per step (modelled)")
    ax0.set_title(f"{m.name}: load per chip")
    ax0.set_aspect("equal")
    ax0.set_xticks([])
    ax0.set_yticks([])
    colours = {"compute": "tab:green", "sdram": "tab:orange", "link": "tab:red",
               "packets": "tab:purple"}
    t0 = 0.0
    for r, cp in zip(c.calls, pl.calls):
        if r.time_s <= 0:
            continue
        for h in cp.chips(m).tolist():
            ax1.broken_barh([(t0 * 1e3, r.time_s * 1e3)], (h - 0.4, 0.8),
                            facecolors=colours.get(r.bound, "grey"))
        t0 += r.time_s
    ax1.set_xlabel("modelled time in the step (ms)")
    ax1.set_ylabel("chip")
    ax1.set_title(f"{d['net']} batch {d['batch']}, {d['strategy']}: phases per chip "
                  f"(colour = bound)")
    from matplotlib.patches import Patch
    ax1.legend(handles=[Patch(color=v, label=k) for k, v in colours.items()],
               loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def public(d: dict) -> dict:
    """The JSON-safe part of a mapping (no Cost or Placement objects)."""
    return {k: v for k, v in d.items() if not k.startswith("_")}
