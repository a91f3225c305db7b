"""Trace one training step of an MNIST network as a Program for the benches (the tracing
itself lives in spinla.mapping, which `spinla map` uses too)."""
from spinla.mapping import EPOCH_IMAGES, NETS, steps_per_epoch, train_step_program  # noqa: F401
