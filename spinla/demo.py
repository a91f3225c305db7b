"""`make demo`: train MLP-1 (784-300-10) on MNIST for one epoch on the emulated SpiNN-5 board,
then print the test accuracy and the cost report (modelled SpiNNaker time and energy)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "mlp1", "--epochs", "1", "--machine", "spinn5", "--report",
                   "--out", "results/demo-mlp1.json", *sys.argv[1:]]))
