"""`spinla` command line: train the MNIST networks on the emulated machine, describe machines.

    spinla train lenet5 --epochs 10 --machine spinn5 [--out result.json]
    spinla map lenet5 --machine spinn5 [--strategy best] [--batch 64] [--json] [--png F]
                      [--streams DIR]
    spinla info --machine spinn5
    spinla machines
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time

MODELS = ("mlp1", "mlp2", "lenet1", "lenet4", "lenet5", "boosted_lenet4")


def _positive(kind):
    def parse(s):
        v = kind(s)
        if v <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {s}")
        return v
    return parse


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="spinla", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train one of the six MNIST networks on the emulator")
    tr.add_argument("model", choices=MODELS)
    tr.add_argument("--epochs", type=_positive(int), default=1)
    tr.add_argument("--batch-size", type=_positive(int), default=64)
    tr.add_argument("--machine", default="spinn5",
                    help="spinn3, spinn5, spinn5xN (N boards) or million (default spinn5)")
    tr.add_argument("--optimizer", choices=("adam", "sgd"), default=None,
                    help="default: the model's own (Adam)")
    tr.add_argument("--lr", type=_positive(float), default=None, help="learning rate")
    tr.add_argument("--train-limit", type=_positive(int), default=None,
                    help="use only the first N training images")
    tr.add_argument("--test-limit", type=_positive(int), default=None,
                    help="evaluate on the first N test images only")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--distort", action="store_true",
                    help="train on affine-distorted digits, drawn afresh each epoch and warped "
                         "on the machine (spinla.nn.Distortions, LeCun et al. 1998)")
    tr.add_argument("--data", default=None,
                    help="folder with the MNIST IDX files or an mnist.npz (default: "
                         "$SPINLA_DATA/mnist, then the caches)")
    tr.add_argument("--out", default=None, help="JSON result file (default: "
                    "results/<model>-<machine>.json)")
    tr.add_argument("--report", action="store_true",
                    help="print the per-op cost report of training")
    tr.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sub.add_parser("machines", help="print the machine models and their parameters")
    mp = sub.add_parser("map", help="place a network's training step on a machine and print "
                                    "the modelled mapping (spinla.place, spinla.cost)")
    mp.add_argument("model", choices=MODELS)
    mp.add_argument("--machine", default="spinn5",
                    help="spinn3, spinn5, spinn5xN (N boards) or million (default spinn5)")
    mp.add_argument("--strategy", choices=("model", "data", "best"), default="best")
    mp.add_argument("--batch", type=_positive(int), default=64)
    mp.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    mp.add_argument("--png", default=None, help="picture file (default: "
                    "map-<model>-<machine>-<strategy>-b<batch>.png)")
    mp.add_argument("--no-png", action="store_true", help="write no picture")
    mp.add_argument("--streams", default=None, metavar="DIR",
                    help="write every used core's stream (spinla_c/spinla.h layout) to "
                         "DIR/core-X-Y-C.bin and the buffer table to DIR/buffers.json")
    inf = sub.add_parser("info", help="print a machine model with the source of each figure, and the "
                         "emulator's host SIMD path")
    inf.add_argument("--machine", default="spinn5")
    return ap


def _atomic_json(path: str, payload: dict):
    from ._io import atomic_write
    with atomic_write(path, "w") as f:
        json.dump(payload, f, indent=2, default=float)
        f.write("\n")


class UsageError(ValueError):
    """A bad command-line argument, found before any data is loaded or any training runs."""


def _check_out(path: str):
    """--out must be a file path we can create or replace: checked before training, so a
    typo does not cost a whole run (the file itself is written atomically at the end)."""
    if not path or path.endswith(os.sep):
        raise UsageError(f"--out: {path!r} is not a file name")
    if os.path.isdir(path):
        raise UsageError(f"--out: {path} is a folder, not a file")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise UsageError(f"--out: {path} exists and is not writable")
    folder = os.path.dirname(os.path.abspath(path))
    probe = folder
    while not os.path.exists(probe):             # the folders atomic_write would create
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise UsageError(f"--out: {probe} is a file, not a folder")
    import tempfile
    try:   # a real attempt: os.access says yes to root even where nothing can be created
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as e:
        raise UsageError(f"--out: cannot write in {probe} ({e.strerror})") from None


def check_train_args(args):
    """Every argument of `spinla train` checked up front; errors name the option."""
    import spinla
    try:
        machine = spinla.machine.get(args.machine)
    except ValueError as e:
        raise UsageError(f"--machine: {e}") from None
    if args.data is not None and not os.path.exists(args.data):
        raise UsageError(f"--data: {args.data} does not exist")
    out = args.out or os.path.join("results", f"{args.model}-{machine.name}.json")
    _check_out(out)
    return machine, out


def train(args) -> dict:

    import spinla
    from spinla.datasets import mnist
    from spinla.nn import models

    machine, out = check_train_args(args)           # bad arguments fail before any work
    (x_train, y_train), (x_test, y_test) = mnist.load_data(args.data)
    if args.train_limit:
        x_train, y_train = x_train[:args.train_limit], y_train[:args.train_limit]
    if args.test_limit:
        x_test, y_test = x_test[:args.test_limit], y_test[:args.test_limit]
    model = getattr(models, args.model)(seed=args.seed)
    if args.optimizer or args.lr:
        opt = args.optimizer or "adam"
        cfg = {"name": opt, "learning_rate": args.lr or (1e-3 if opt == "adam" else 0.01)}
        model.compile(optimizer=cfg, loss="categorical_crossentropy")
    spinla.reset_stats()
    print(f"training {args.model} on {len(x_train)} MNIST images for {args.epochs} epoch(s), "
          f"batch {args.batch_size}{', distorted' if args.distort else ''}, emulating "
          f"{machine.name} ({machine.cores} cores)",
          file=sys.stderr)
    t0 = time.perf_counter()
    with spinla.profile(machine) as prof:
        hist = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                         seed=args.seed, verbose=0 if args.quiet else 1,
                         augment=True if args.distort else None)
    train_wall = time.perf_counter() - t0
    with spinla.machine.use(machine):
        test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=256)
    hists = hist if isinstance(hist, list) else [hist]
    per_epoch = [{k: h[k][e] for k in ("loss", "accuracy", "spinnaker_time_s",
                                       "spinnaker_energy_j", "wall_time_s", "images_per_s")
                  if k in h} for h in hists for e in range(len(h.get("loss", [])))]
    total = prof.total
    result = {
        "command": " ".join(shlex.quote(a) for a in ["spinla"] + sys.argv[1:]),
        "model": args.model, "machine": machine.name, "epochs": args.epochs,
        "batch_size": args.batch_size, "train_images": int(len(x_train)),
        "distortions": spinla.nn.Distortions().to_dict() if args.distort else None,
        "test_images": int(len(x_test)), "seed": args.seed,
        "test_loss": float(test_loss), "test_accuracy": float(test_acc),
        "test_error_percent": 100.0 * (1.0 - float(test_acc)),
        "epochs_log": per_epoch,
        "modelled_spinnaker": {"time_s": total.time_s, "energy_j": total.energy_j,
                               "macs": total.macs,
                               "utilisation_machine": total.utilisation_machine,
                               "note": "modelled by spinla.cost, not measured on hardware"},
        "emulator_wall_time_s": train_wall,
        "saturations": dict(spinla.stats().saturated),
    }
    print(f"test accuracy {test_acc:.4f} (error {100 * (1 - test_acc):.2f} %), "
          f"test loss {test_loss:.4f}", file=sys.stderr)
    print(f"training: modelled SpiNNaker time {total.time_s:.3f} s, energy "
          f"{total.energy_j:.3f} J on {machine.name}; emulator wall time {train_wall:.1f} s "
          f"on this host", file=sys.stderr)
    if args.report:
        print(prof.report())
    _atomic_json(out, result)
    print(f"wrote {out}", file=sys.stderr)
    return result


def machines():
    import spinla
    for name in ("spinn3", "spinn5", "million"):
        m = spinla.machine.get(name)
        print(f"== {name}: {m.chips} chips, {m.cores} application cores, "
              f"{m.peak_macs_per_s / 1e9:.1f} G MAC/s peak")
    print()
    print(spinla.machine.spinn5().describe())


def map_(args) -> dict:
    import spinla
    from spinla import mapping as mp

    machine = spinla.machine.get(args.machine)      # a bad name fails before any work
    png = None if args.no_png else (
        args.png or f"map-{args.model}-{machine.name}-{args.strategy}-b{args.batch}.png")
    if png is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ValueError("map: the picture needs matplotlib (pip install 'spinla[bench]'), "
                             "or pass --no-png") from None
    prog = mp.train_step_program(args.model, args.batch, machine)
    d = mp.mapping(prog, args.model, args.batch, machine, args.strategy)
    if png is not None:
        mp.picture(d, png)
    if args.streams:
        from spinla import streams
        from spinla.place import place
        files = streams.write(prog, machine, args.streams, place(prog, machine, args.strategy))
        print(f"wrote {len(files) - 1} core streams and buffers.json to {args.streams}",
              file=sys.stderr)
    if args.json:
        print(json.dumps(mp.public(d), indent=1, default=float))
    else:
        print(mp.text(d))
    if png is not None:
        print(f"wrote {png}", file=sys.stderr)
    return d


def info(args):
    import spinla
    m = spinla.machine.get(args.machine)
    print(m.describe())
    print(f"\npeak {m.peak_macs_per_s / 1e9:.1f} G MAC/s; idle power "
          f"{m.board_idle_power_w * m.boards:.4g} W; host link "
          f"{m.host_link_bits_per_s * m.boards / 1e6:.0f} Mbit/s")
    from .kernels import simd_path
    print(f"emulator: host SIMD path {simd_path()} (spinla_c/spl_simd.h; the portable C is what "
          f"the ARM968 runs)")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            train(args)
        elif args.command == "map":
            map_(args)
        elif args.command == "info":
            info(args)
        else:
            machines()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, TypeError) as e:
        print(f"spinla: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
