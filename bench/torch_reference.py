"""The float32 PyTorch twin of a spinla.nn model: same layers, same initial weights, same
optimiser and schedule, so that speed and accuracy comparisons are like for like.

spinla works in NHWC with HWIO kernels (as Keras); PyTorch in NCHW with OIHW kernels.  The twin
keeps PyTorch's layout for speed and converts the weights, and flattens in NHWC order so that
dense layers after convolutions see the same feature order.  LeNet-5's C3 connection table is a
fixed 0/1 mask on the kernel (its masked weights start at 0 and never move, as in spinla).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from spinla.nn import layers as L

ACTS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity,
        "softmax": nn.Identity}   # softmax is fused into the cross-entropy loss


class ScaledTanh(nn.Module):
    def forward(self, x):
        return 1.7159 * torch.tanh(x * (2.0 / 3.0))


class FlattenNHWC(nn.Module):
    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1) if x.dim() == 4 else x.flatten(1)


class MaskedConv2d(nn.Conv2d):
    def __init__(self, *a, mask=None, **kw):
        super().__init__(*a, **kw)
        self.register_buffer("mask", mask)

    def forward(self, x):
        w = self.weight * self.mask if self.mask is not None else self.weight
        return self._conv_forward(x, w, self.bias)


def _act(layer):
    name = layer.activation.name
    return ScaledTanh() if name == "scaled_tanh" else ACTS[name]()


def _dense(layer):
    return [nn.Linear(layer.in_shape[-1], layer.units, bias=layer.use_bias), _act(layer)]


def _conv2d(layer):
    pad = 0 if layer.padding == "valid" else "same"
    mask = None
    if layer.table is not None:
        mask = torch.tensor(np.asarray(layer.table, np.float32).T[:, :, None, None])
    conv = MaskedConv2d(layer.in_shape[-1], layer.filters, layer.kernel_size,
                        stride=layer.strides, padding=pad, bias=layer.use_bias, mask=mask)
    return [conv, _act(layer)]


def _zero_padding2d(layer):
    ph, pw = layer.padding
    return [nn.ZeroPad2d((pw, pw, ph, ph))]


# spinla.nn layer class -> its PyTorch twin (a list of modules): the one table of this
# direction of conversion (spinla/keras/layers.py has Keras -> spinla).  Adding a layer is
# one entry; a layer missing here is refused by name.
TWINS = {
    L.Dense: _dense,
    L.Conv2D: _conv2d,
    L.AvgPool2D: lambda ly: [nn.AvgPool2d(ly.pool_size, ly.strides)],
    L.MaxPool2D: lambda ly: [nn.MaxPool2d(ly.pool_size, ly.strides)],
    L.ZeroPadding2D: _zero_padding2d,
    L.Flatten: lambda ly: [FlattenNHWC()],
    # (28, 28) -> (28, 28, 1): the twin's input is already (N, 1, 28, 28)
    L.Reshape: lambda ly: [],
    L.Activation: lambda ly: [_act(ly)],
    L.Dropout: lambda ly: [nn.Dropout(ly.rate)],
}


def twin(model) -> nn.Sequential:
    """A torch.nn.Sequential with the spinla model's architecture and current weights.
    Input: (N, 1, 28, 28) float32 in [0, 1]."""
    mods = []
    for layer in model.layers:
        make = TWINS.get(type(layer))
        if make is None:
            raise NotImplementedError(f"no PyTorch twin for {type(layer).__name__} layer "
                                      f"{layer.name!r} (bench/torch_reference.py TWINS has "
                                      f"{', '.join(c.__name__ for c in TWINS)})")
        mods += make(layer)
    net = nn.Sequential(*mods)
    load_weights(net, model.get_weights())
    return net


def load_weights(net: nn.Sequential, weights):
    """spinla/Keras weight list (kernel, bias per layer) -> the twin's parameters."""
    it = iter(weights)
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                m.weight.copy_(torch.tensor(next(it).T))
                if m.bias is not None:
                    m.bias.copy_(torch.tensor(next(it)))
            elif isinstance(m, nn.Conv2d):
                m.weight.copy_(torch.tensor(np.transpose(next(it), (3, 2, 0, 1))))
                if m.bias is not None:
                    m.bias.copy_(torch.tensor(next(it)))


def images(x: np.ndarray) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [0, 1]."""
    return torch.tensor(x.astype(np.float32)[:, None] / 255.0)


def train_epoch(net, opt, x: torch.Tensor, y: torch.Tensor, batch_size: int, gen):
    """One shuffled epoch of Adam/SGD on softmax cross-entropy; returns the mean loss."""
    net.train()
    loss_fn = nn.CrossEntropyLoss()
    perm = torch.randperm(len(x), generator=gen)
    total = 0.0
    for i in range(0, len(x), batch_size):
        idx = perm[i:i + batch_size]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x[idx]), y[idx])
        loss.backward()
        opt.step()
        total += float(loss.detach()) * len(idx)
    return total / len(x)


@torch.no_grad()
def predict(net, x: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    net.eval()
    return torch.cat([net(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]).numpy()


def distort(x: torch.Tensor, A: np.ndarray, t: np.ndarray) -> torch.Tensor:
    """The float32 counterpart of spinla.warp_affine: x (N, 1, H, W), output pixel (r, c)
    samples the source bilinearly at A (c - cx, r - cy) + (cx, cy) + t (zero outside), with
    cx = (W - 1) / 2, cy = (H - 1) / 2.  In grid_sample's normalised coordinates (with
    align_corners=True, -1 and 1 are the centres of the edge pixels) that is A scaled per axis
    and t divided by the half-size."""
    n, _, h, w = x.shape
    cx, cy = (w - 1) / 2, (h - 1) / 2
    theta = np.zeros((n, 2, 3))
    theta[:, 0, 0], theta[:, 0, 1] = A[:, 0, 0], A[:, 0, 1] * cy / cx
    theta[:, 1, 0], theta[:, 1, 1] = A[:, 1, 0] * cx / cy, A[:, 1, 1]
    theta[:, 0, 2], theta[:, 1, 2] = t[:, 0] / cx, t[:, 1] / cy
    grid = torch.nn.functional.affine_grid(torch.tensor(theta, dtype=torch.float32),
                                           list(x.shape), align_corners=True)
    return torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="zeros",
                                           align_corners=True)
