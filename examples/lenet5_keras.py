"""LeNet-5 built in Keras, converted with keras2spinnaker, trained on the emulated SpiNNaker
with k2s.fit, evaluated by Keras on the host.

    python examples/lenet5_keras.py                         # full MNIST, one epoch
    python examples/lenet5_keras.py --train 2000 --test 1000   # a subset (what CI runs)
    K2S_SUBSET=2000 python examples/lenet5_keras.py          # the same through the environment

The network is LeCun et al. 1998's LeNet-5 as Keras layers: 28x28 digits padded to 32x32,
C1 6@5x5, S2 average pooling, C3 16@5x5 (fully connected: Keras has no connection table),
S4, C5 120@5x5, F6 84, and a softmax output instead of the paper's RBF units; tanh units.
"""
import argparse
import os

import keras2spinnaker as k2s
from keras2spinnaker import keras2spinnaker
from spinla.datasets import mnist

import keras  # noqa: E402  (after keras2spinnaker, which picks a backend if none is chosen)


def lenet5():
    L = keras.layers
    model = keras.Sequential([
        keras.Input((28, 28)),
        L.Reshape((28, 28, 1)),
        L.ZeroPadding2D(2),
        L.Conv2D(6, 5, activation="tanh"),
        L.AveragePooling2D(2),
        L.Conv2D(16, 5, activation="tanh"),
        L.AveragePooling2D(2),
        L.Conv2D(120, 5, activation="tanh"),
        L.Flatten(),
        L.Dense(84, activation="tanh"),
        L.Dense(10, activation="softmax"),
    ], name="lenet5")
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = os.environ.get("K2S_SUBSET")
    ap.add_argument("--train", type=int, default=int(sub) if sub else None,
                    help="train on the first N images (default: all 60,000; env K2S_SUBSET)")
    ap.add_argument("--test", type=int, default=None, help="evaluate on the first N test images")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args(argv)

    (x, y), (xt, yt) = mnist.load_data()
    x, y = x[:args.train] / 255.0, y[:args.train]
    xt, yt = xt[:args.test] / 255.0, yt[:args.test]

    model = keras2spinnaker(lenet5())
    model.summary()
    hist = k2s.fit(model, x, y, epochs=args.epochs, batch_size=args.batch_size,
                   validation_data=(xt, yt), verbose=2)
    loss, acc = model.evaluate(xt, yt, verbose=0)
    h = hist.history
    print(f"modelled SpiNN-5 training time {sum(h['spinnaker_time_s']):.1f} s, energy "
          f"{sum(h['spinnaker_energy_j']):.0f} J (cost model, not a measurement)")
    print(f"Keras evaluate on {len(xt)} test images: loss {loss:.4f} accuracy {acc:.4f}")
    return acc


if __name__ == "__main__":
    main()
