"""k2s.fit on the emulator against Keras's own fit (jax backend, CPU, float32): one epoch of
the proposal's model and of a Keras LeNet-5, from the same initial weights.

    python bench/keras_speed.py [--models proposal,lenet5] [--limit N]

Each (side, model) runs in its own subprocess, one after the other, so that neither side's
threads compete with the other's.  Both start from the same Keras model (same seed, same
initial weights), train one epoch on the 60,000 MNIST training images already in memory
(pixels / 255, as the proposal's script), and are evaluated by Keras's evaluate on the 10,000
test images.  The time is the wall time of the fit call alone, first epoch included as the
user meets it (Keras's includes its XLA compilation; k2s.fit's its tracing and Adam's
calibration pass); the conversion (keras2spinnaker) is timed apart.  Batch: the proposal's
Keras default 32; LeNet-5 64 with Adam 1e-3.

Target (issue 7): k2s.fit within 2x of Keras's time and within 1 percentage point of its
accuracy.  Modelled SpiNN-5 time and energy of the epoch are the cost model's, not
measurements.  Host timings on a shared machine are noisy: see README.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

MODELS = {"proposal": 32, "lenet5": 64}   # model -> batch size
# Settings that change the timings, recorded with each run.
ENV_KEYS = ("SPINLA_THREADS", "OMP_WAIT_POLICY", "OMP_NUM_THREADS", "KERAS_BACKEND")


def _keras_model(name):
    import keras
    keras.utils.set_random_seed(0)
    if name == "proposal":
        m = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dropout(0.2),
                              keras.layers.Dense(10, activation="softmax")])
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
        return m
    spec = importlib.util.spec_from_file_location("lenet5_keras",
                                                  ROOT / "examples" / "lenet5_keras.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.lenet5()


def worker(side, name, limit):
    import keras2spinnaker as k2s   # picks Keras's jax backend when none is chosen
    import keras
    from spinla.datasets import mnist
    (x, y), (xt, yt) = mnist.load_data()
    if limit:
        x, y = x[:limit], y[:limit]
    x, xt = x / 255.0, xt / 255.0
    model = _keras_model(name)
    batch = MODELS[name]
    res = dict(side=side, model=name, batch_size=batch, images=len(x),
               keras_backend=keras.backend.backend())
    if side == "keras":
        t0 = time.perf_counter()
        h = model.fit(x, y, epochs=1, batch_size=batch, verbose=0)
        res["fit_s"] = time.perf_counter() - t0
    else:
        t0 = time.perf_counter()
        model = k2s.keras2spinnaker(model)
        res["convert_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        h = k2s.fit(model, x, y, epochs=1, batch_size=batch, verbose=0, seed=0)
        res["fit_s"] = time.perf_counter() - t0
        res["modelled_spinnaker_time_s"] = h.history["spinnaker_time_s"][0]
        res["modelled_spinnaker_energy_j"] = h.history["spinnaker_energy_j"][0]
        res["spinla_test_accuracy"] = model._k2s.spinla.evaluate(xt, yt)[1]
    res["train_loss"] = h.history["loss"][0]
    loss, acc = model.evaluate(xt, yt, verbose=0, batch_size=1000)
    res["test_loss"], res["test_accuracy"] = float(loss), float(acc)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--limit", type=int, default=None, help="first N training images only")
    ap.add_argument("--worker", choices=["keras", "k2s"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    names = args.models.split(",")
    for n in names:
        if n not in MODELS:
            ap.error(f"unknown model {n!r}; choose from {', '.join(MODELS)}")
    if args.worker:
        print(json.dumps(worker(args.worker, names[0], args.limit)))
        return
    import _common
    rows = []
    for name in names:
        wargs = ["--models", name] + (["--limit", str(args.limit)] if args.limit else [])
        k = _common.run_worker(__file__, ["--worker", "keras", *wargs], f"keras {name}")
        s = _common.run_worker(__file__, ["--worker", "k2s", *wargs], f"k2s {name}")
        ratio = s["fit_s"] / k["fit_s"]
        gap = 100 * (k["test_accuracy"] - s["test_accuracy"])
        rows.append(dict(model=name, keras=k, k2s=s, time_ratio=ratio,
                         accuracy_gap_points=gap))
        print(f"{name:<9s} Keras fit {k['fit_s']:6.1f} s acc {100 * k['test_accuracy']:.2f} %   "
              f"k2s.fit {s['fit_s']:6.1f} s acc {100 * s['test_accuracy']:.2f} % "
              f"(spinla's own evaluation {100 * s['spinla_test_accuracy']:.2f} %)   "
              f"time ratio {ratio:4.2f}   accuracy gap {gap:+.2f} points   modelled SpiNN-5 "
              f"{s['modelled_spinnaker_time_s']:.1f} s {s['modelled_spinnaker_energy_j']:.0f} J",
              flush=True)
    worst = max(r["time_ratio"] for r in rows)
    worst_gap = max(r["accuracy_gap_points"] for r in rows)
    print(f"highest time ratio {worst:.2f} (target <= 2); largest accuracy gap "
          f"{worst_gap:+.2f} points (target <= 1)")
    env = {k: os.environ[k] for k in ENV_KEYS if k in os.environ}
    run = dict(command=" ".join([f"{k}={v}" for k, v in env.items()]
                                + [Path(sys.executable).name] + sys.argv),
               env=env, limit=args.limit, date=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                             time.gmtime()),
               git=_common.git_rev(), rows=rows, highest_time_ratio=worst,
               largest_accuracy_gap_points=worst_gap)
    # One file, one run per environment (threading settings change the emulator's times on
    # a shared host a lot: README): a new run replaces the earlier one with the same env.
    old = _common.load("keras_speed") or {}
    runs = [r for r in old.get("runs", []) if (r.get("env"), r.get("limit")) != (env, args.limit)]
    path = _common.save("keras_speed", dict(target_time_ratio=2.0,
                                            target_accuracy_gap_points=1.0,
                                            runs=runs + [run]))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
