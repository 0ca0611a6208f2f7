#!/usr/bin/python3
"""Reference values from PyTorch for SegForge's CPU engine (issue 3, "Correctness").

How to run (from the repository root, with Debian's python3-torch; the pyenv
`python3` on PATH has no torch):

    /usr/bin/python3 tests/reference/make_reference.py

It rewrites tests/data/reference/*.safetensors. The files are committed: the
C++ test (tests/core/reference_test.cpp) only reads them, so the test suite
never needs torch. Run it again only when a case is added or a reference
semantics changes, and commit the result; the output is deterministic (fixed
seeds, CPU, float64), so an unchanged script gives identical files.

What is computed and how
------------------------
Every op is written here *functionally* in torch, with Keras (tf.keras 2)
semantics, on NHWC tensors and Keras weight layouts; the conversion to torch's
NCHW / (out, in, kh, kw) happens inside the helpers below, never in C++:

- Conv2D kernel (kh, kw, Cin, F) -> torch (F, Cin, kh, kw).
- Conv2DTranspose kernel (kh, kw, F, Cin) -> torch conv_transpose2d (Cin, F, kh, kw).
- TensorFlow 'same' padding is asymmetric (the extra row/column goes to the
  bottom/right); torch only pads symmetrically, so convolutions and poolings
  pad explicitly with F.pad and then run unpadded. Conv2DTranspose is computed
  unpadded (full output) and then cropped by TF's top/left padding, or
  zero-extended when Keras' output length is larger ('valid', kernel < stride).
- UpSampling2D bilinear is tf.image.resize(bilinear) = half-pixel centres =
  torch interpolate(align_corners=False) with an explicit output size.
  With align_corners (no Keras equivalent) it is torch's align_corners=True.
- AvgPool2D 'same' does not count padded taps (TF), MaxPool2D pads with -inf.
- BatchNormalization: biased batch variance for normalising *and* for the
  moving variance (Keras 3 semantics; tf.keras 2's fused kernel would use the
  unbiased one for the moving average only), moving = m·moving + (1 − m)·batch.
- Losses: Keras' epsilon 1e-7; BCE clips p to [eps, 1 − eps] and takes
  log(p + eps); categorical CE renormalises p over the channels, then clips;
  sparse CE clips, then renormalises (log_softmax of log p, as Keras' TF
  backend does); the two agree unless a probability is below 1e-7.
  Label smoothing as Keras.
  Dice / BCEDice are our own definitions (core/ops/dice_loss.cpp).
- Adam is Keras' (and ours): alpha = lr·sqrt(1 − b2^t)/(1 − b1^t),
  p −= alpha·m / (sqrt(v) + eps) with the *uncorrected* v. torch.optim.Adam
  adds eps to the bias-corrected sqrt(v̂) instead, so it is written out here.

Everything is computed in float64 from float32-representable inputs, then
stored as float32: the reference is as exact as float32 storage allows and the
C++ tolerances only have to cover our float32 arithmetic.

File layout (safetensors, F32 only: integer inputs are stored as exact floats
and converted by the test according to the case's "dtypes")
- ops.safetensors: metadata "cases" = JSON list of {name, op, attrs, training,
  dtypes, grads}; tensors "<case>/in<i>", "/param<i>", "/out<k>", "/dout<k>"
  (the upstream gradient: objective J = Σ dout·out), "/din<i>", "/dparam<i>",
  "/param<i>_after" (parameters after the forward pass: moving statistics).
- unet_<variant>.safetensors: a U-Net as made by core/templates
  (makeUNetProject), metadata "options", "lr", "steps"; tensors "batch/image",
  "batch/mask" (uint8 values), "init/<node>/<param>", "grad/<node>/<param>"
  (first step), "loss/<step>", "step1/<node>/<param>", "step3/<node>/<param>".
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "reference")
KERAS_EPS = 1e-7


# ---------------------------------------------------------------- safetensors

def save_safetensors(path, tensors, metadata):
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(np.asarray(tensors[name], dtype="<f4"))
        data = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    raw = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)


def f32(t):
    """Rounds to float32 values (kept as float64 tensors)."""
    return t.to(torch.float32).to(torch.float64)


def npy(t):
    return t.detach().to(torch.float32).numpy()


# ---------------------------------------------------------------- ops (NHWC, Keras layouts)

def pair(v, default):
    if v is None:
        v = default
    return (v, v) if isinstance(v, int) else tuple(v)


def to_nchw(x):
    return x.permute(0, 3, 1, 2)


def to_nhwc(x):
    return x.permute(0, 2, 3, 1)


def activation(y, name, alpha=0.2):
    if name == "linear":
        return y
    if name == "relu":
        return F.relu(y)
    if name == "leaky_relu":
        return F.leaky_relu(y, alpha)
    if name == "sigmoid":
        return torch.sigmoid(y)
    if name == "softmax":
        return torch.softmax(y, dim=-1)
    if name == "tanh":
        return torch.tanh(y)
    raise ValueError(name)


def same_pads(size, kernel, stride, dilation):
    """TensorFlow 'same': (before, after, output length)."""
    out = -(-size // stride)
    dk = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + dk - size, 0)
    return total // 2, total - total // 2, out


def conv2d(x, params, a):
    k = pair(a.get("kernel_size"), 3)
    s = pair(a.get("strides"), 1)
    d = pair(a.get("dilation_rate"), 1)
    x = to_nchw(x)
    if a.get("padding", "valid") == "same":
        top, bottom, _ = same_pads(x.shape[2], k[0], s[0], d[0])
        left, right, _ = same_pads(x.shape[3], k[1], s[1], d[1])
        x = F.pad(x, (left, right, top, bottom))
    w = params[0].permute(3, 2, 0, 1)
    b = params[1] if a.get("use_bias", True) else None
    y = F.conv2d(x, w, b, stride=s, dilation=d)
    return activation(to_nhwc(y), a.get("activation", "linear"))


def separable_conv2d(x, params, a):
    """keras.layers.SeparableConv2D: depthwise (kh, kw, Cin, dm) -> torch grouped conv
    (Cin*dm, 1, kh, kw), output channel c*dm + m; pointwise (1, 1, Cin*dm, F)."""
    k = pair(a.get("kernel_size"), 3)
    s = pair(a.get("strides"), 1)
    d = pair(a.get("dilation_rate"), 1)
    x = to_nchw(x)
    if a.get("padding", "valid") == "same":
        top, bottom, _ = same_pads(x.shape[2], k[0], s[0], d[0])
        left, right, _ = same_pads(x.shape[3], k[1], s[1], d[1])
        x = F.pad(x, (left, right, top, bottom))
    kh, kw, cin, dm = params[0].shape
    dw = params[0].reshape(kh, kw, cin * dm).permute(2, 0, 1).unsqueeze(1)
    t = F.conv2d(x, dw, None, stride=s, dilation=d, groups=cin)
    b = params[2] if a.get("use_bias", True) else None
    y = F.conv2d(t, params[1].permute(3, 2, 0, 1), b)
    return activation(to_nhwc(y), a.get("activation", "linear"))


def deconv_length(size, kernel, stride, dilation, same):
    dk = (kernel - 1) * dilation + 1
    return size * stride if same else size * stride + max(dk - stride, 0)


def conv2d_transpose(x, params, a):
    k = pair(a.get("kernel_size"), 2)
    s = pair(a.get("strides"), 2)
    d = pair(a.get("dilation_rate"), 1)
    same = a.get("padding", "same") == "same"
    w = params[0].permute(3, 2, 0, 1)  # (kh, kw, F, Cin) -> (Cin, F, kh, kw)
    y = F.conv_transpose2d(to_nchw(x), w, None, stride=s, dilation=d)
    # Keras' output grid is the *input* of a TF conv2d with the same geometry.
    for axis, size in ((2, x.shape[1]), (3, x.shape[2])):
        i = axis - 2
        out = deconv_length(size, k[i], s[i], d[i], same)
        before = same_pads(out, k[i], s[i], d[i])[0] if same else 0
        extra = max(out + before - y.shape[axis], 0)
        if extra:
            y = F.pad(y, (0, extra) if axis == 3 else (0, 0, 0, extra))
        y = y.narrow(axis, before, out)
    y = to_nhwc(y)
    if a.get("use_bias", True):
        y = y + params[1]
    return activation(y, a.get("activation", "linear"))


def pool_geometry(x, a):
    p = pair(a.get("pool_size"), 2)
    s = list(pair(a.get("strides"), 0))
    s = tuple(s[i] or p[i] for i in range(2))
    pads = (0, 0, 0, 0)
    if a.get("padding", "valid") == "same":
        top, bottom, _ = same_pads(x.shape[1], p[0], s[0], 1)
        left, right, _ = same_pads(x.shape[2], p[1], s[1], 1)
        pads = (left, right, top, bottom)
    return p, s, pads


def max_pool(x, params, a):
    p, s, pads = pool_geometry(x, a)
    y = F.max_pool2d(F.pad(to_nchw(x), pads, value=-math.inf), p, s)
    return to_nhwc(y)


def avg_pool(x, params, a):
    p, s, pads = pool_geometry(x, a)
    xs = F.pad(to_nchw(x), pads)
    ones = F.pad(torch.ones_like(to_nchw(x)[:1, :1]), pads)
    total = F.avg_pool2d(xs, p, s) * (p[0] * p[1])
    count = F.avg_pool2d(ones, p, s) * (p[0] * p[1])
    return to_nhwc(total / count)


def upsampling(x, params, a):
    f = pair(a.get("size"), 2)
    if a.get("interpolation", "nearest") == "nearest":
        return x.repeat_interleave(f[0], dim=1).repeat_interleave(f[1], dim=2)
    size = (x.shape[1] * f[0], x.shape[2] * f[1])
    # align_corners=True is PyTorch's own (nn.Upsample(..., align_corners=True)); Keras has none.
    return to_nhwc(F.interpolate(to_nchw(x), size=size, mode="bilinear",
                                 align_corners=a.get("align_corners", False)))


def concatenate(*xs, a):
    return torch.cat(xs, dim=a.get("axis", -1))


def batch_norm(x, params, a, training):
    """Returns the output; updates params' moving statistics in place when training."""
    scale, center = a.get("scale", True), a.get("center", True)
    i = 0
    gamma = beta = None
    if scale:
        gamma, i = params[i], i + 1
    if center:
        beta, i = params[i], i + 1
    moving_mean, moving_var = params[i], params[i + 1]
    eps = a.get("epsilon", 1e-3)
    if training:
        mean = x.mean(dim=(0, 1, 2))
        var = ((x - mean) ** 2).mean(dim=(0, 1, 2))
        m = a.get("momentum", 0.99)
        with torch.no_grad():
            moving_mean.copy_(m * moving_mean + (1 - m) * mean)
            moving_var.copy_(m * moving_var + (1 - m) * var)
    else:
        mean, var = moving_mean, moving_var
    y = (x - mean) / torch.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


def clip(p):
    return torch.clamp(p, KERAS_EPS, 1 - KERAS_EPS)


def bce_elements(p, t, logits):
    if logits:
        return F.binary_cross_entropy_with_logits(p, t, reduction="none")
    c = clip(p)
    return -(t * torch.log(c + KERAS_EPS) + (1 - t) * torch.log(1 - c + KERAS_EPS))


def bce_loss(p, t, a):
    ls = a.get("label_smoothing", 0.0)
    return bce_elements(p, t * (1 - ls) + 0.5 * ls, a.get("from_logits", False)).mean()


def cce_loss(p, t, a):
    ls = a.get("label_smoothing", 0.0)
    k = p.shape[-1]
    t = t * (1 - ls) + ls / k
    if a.get("from_logits", False):
        return -(t * torch.log_softmax(p, dim=-1)).sum(-1).mean()
    q = clip(p / p.sum(-1, keepdim=True))
    return -(t * torch.log(q)).sum(-1).mean()


def scce_loss(p, t, a):
    cls = t[..., 0].long()
    ignore = a.get("ignore_class", -1)
    keep = cls != ignore
    onehot = F.one_hot(torch.where(keep, cls, torch.zeros_like(cls)), p.shape[-1]).to(p.dtype)
    if a.get("from_logits", False):
        logp = torch.log_softmax(p, dim=-1)
    else:
        # Keras (2 and 3, TF backend): clip, log, then sparse_softmax_cross_entropy_with_logits,
        # i.e. renormalised *after* clipping (the categorical loss renormalises before).
        logp = torch.log_softmax(torch.log(clip(p)), dim=-1)
    per_pixel = -(onehot * logp).sum(-1)
    return per_pixel[keep].sum() / keep.sum()


def dice_loss_value(p, t, eps):
    dims = tuple(range(1, p.dim()))
    inter = (p * t).sum(dims)
    total = p.sum(dims) + t.sum(dims)
    return (1 - (2 * inter + eps) / (total + eps)).mean()


def dice_loss(p, t, a):
    return dice_loss_value(p, t, a.get("epsilon", 1e-6))


def bce_dice_loss(p, t, a):
    return (a.get("bce_weight", 1.0) * bce_elements(p, t, False).mean()
            + a.get("dice_weight", 1.0) * dice_loss_value(p, t, a.get("epsilon", 1e-6)))


def focal_loss(p, t, a):
    logits = a.get("from_logits", False)
    s = torch.sigmoid(p) if logits else p
    pt = t * s + (1 - t) * (1 - s)
    loss = (1 - pt) ** a.get("gamma", 2.0) * bce_elements(p, t, logits)
    if a.get("apply_class_balancing", False):
        alpha = a.get("alpha", 0.25)
        loss = (t * alpha + (1 - t) * (1 - alpha)) * loss
    return loss.mean()


def metric_labels(p, t, a):
    k = p.shape[-1]
    if k == 1:
        pred = (p[..., 0] > a.get("threshold", 0.5)).long()
    else:
        pred = p.argmax(-1)
    if t.shape[-1] > 1:
        truth = t.argmax(-1)
    elif k == 1:
        truth = (t[..., 0] > 0.5).long()
    else:
        truth = t[..., 0].round().long()
    return pred, truth, (2 if k == 1 else k)


def overlap_metric(p, t, a, score):
    pred, truth, classes = metric_labels(p, t, a)
    eps = a.get("epsilon", 1e-6)
    first = 1 if p.shape[-1] == 1 else 0
    values = []
    for c in range(first, classes):
        i = ((pred == c) & (truth == c)).sum().double()
        values.append(score(i, (pred == c).sum().double(), (truth == c).sum().double(), eps))
    return torch.stack(values).mean()


def dice_metric(p, t, a):
    return overlap_metric(p, t, a, lambda i, pc, tc, e: (2 * i + e) / (pc + tc + e))


def iou_metric(p, t, a):
    return overlap_metric(p, t, a, lambda i, pc, tc, e: (i + e) / (pc + tc - i + e))


def pixel_accuracy(p, t, a):
    pred, truth, _ = metric_labels(p, t, a)
    return (pred == truth).double().mean()


def run_op(op, inputs, params, a, training):
    """One op, as our schema defines it: inputs/params -> list of outputs."""
    if op == "Conv2D":
        return [conv2d(inputs[0], params, a)]
    if op == "Conv2DTranspose":
        return [conv2d_transpose(inputs[0], params, a)]
    if op == "SeparableConv2D":
        return [separable_conv2d(inputs[0], params, a)]
    if op == "MaxPool2D":
        return [max_pool(inputs[0], params, a)]
    if op == "AvgPool2D":
        return [avg_pool(inputs[0], params, a)]
    if op == "UpSampling2D":
        return [upsampling(inputs[0], params, a)]
    if op == "Concatenate":
        return [concatenate(*inputs, a=a)]
    if op == "Add":
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return [out]
    if op == "Multiply":
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return [out]
    if op == "BatchNormalization":
        return [batch_norm(inputs[0], params, a, training)]
    if op == "Dropout":
        assert not training, "Dropout masks come from our RNG: only inference is comparable"
        return [inputs[0]]
    if op == "Activation":
        return [activation(inputs[0], a.get("activation", "relu"), a.get("alpha", 0.3))]
    if op == "LeakyReLU":
        return [F.leaky_relu(inputs[0], a.get("alpha", 0.3))]
    if op == "GroupNormalization":
        # nn.GroupNorm (F.group_norm) on NCHW; gamma / beta each optional, as Keras has them.
        # (torch 1.13's group_norm backward fails on weight=None: a constant 1 / 0 instead.)
        c = inputs[0].shape[-1]
        k, gamma, beta = 0, torch.ones(c), torch.zeros(c)
        if a.get("scale", True):
            gamma, k = params[k], k + 1
        if a.get("center", True):
            beta = params[k]
        y = F.group_norm(to_nchw(inputs[0]).contiguous(), a.get("groups", 1), gamma, beta, a.get("epsilon", 1e-5))
        return [to_nhwc(y)]
    if op == "GlobalAvgPool2D":
        # nn.AdaptiveAvgPool2d(1) of the PyTorch export, on NCHW.
        return [to_nhwc(F.adaptive_avg_pool2d(to_nchw(inputs[0]), 1))]
    if op == "Cropping2D":
        top, bottom, left, right = a["cropping"]
        x = inputs[0]
        return [x[:, top:x.shape[1] - bottom, left:x.shape[2] - right, :]]
    if op == "ZeroPadding2D":
        top, bottom, left, right = a["padding"]
        return [F.pad(inputs[0], (0, 0, left, right, top, bottom))]
    if op == "Rescale":
        return [inputs[0] * a.get("scale", 1 / 255) + a.get("offset", 0.0)]
    if op == "Cast":
        return [inputs[0].clone()]
    losses = {"BinaryCrossentropy": bce_loss, "CategoricalCrossentropy": cce_loss,
              "SparseCategoricalCrossentropy": scce_loss, "Dice": dice_loss,
              "BCEDice": bce_dice_loss, "Focal": focal_loss, "DiceCoefficient": dice_metric,
              "IoU": iou_metric, "PixelAccuracy": pixel_accuracy}
    return [losses[op](inputs[0], inputs[1], a)]


# ---------------------------------------------------------------- single-op cases

class Rng:
    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def uniform(self, shape, lo=-1.0, hi=1.0):
        return f32(lo + (hi - lo) * torch.rand(shape, generator=self.g))

    def ints(self, shape, hi):
        return torch.randint(0, hi, shape, generator=self.g).to(torch.float64)

    def binary(self, shape):
        return (torch.rand(shape, generator=self.g) < 0.5).to(torch.float64)

    def onehot(self, shape):
        return F.one_hot(torch.randint(0, shape[-1], shape[:-1], generator=self.g),
                         shape[-1]).to(torch.float64)


def inp(shape, fill="uniform", classes=0, dtype="float32"):
    return {"shape": shape, "fill": fill, "classes": classes, "dtype": dtype}


def make_input(rng, s):
    shape, fill = s["shape"], s["fill"]
    if fill == "uniform":
        return rng.uniform(shape)
    if fill == "prob":
        return rng.uniform(shape, 0.05, 0.95)
    if fill == "positive":
        return rng.uniform(shape, 0.1, 1.1)
    if fill == "binary":
        return rng.binary(shape)
    if fill == "onehot":
        return rng.onehot(shape)
    if fill == "classes":
        return rng.ints(shape, s["classes"])
    if fill == "bytes":
        return rng.ints(shape, 256)
    if fill == "clipped":  # probabilities with exact 0 and 1 to exercise Keras' clip
        p = rng.uniform(shape, 0.05, 0.95).flatten()
        p[0], p[1], p[2] = 0.0, 1.0, 0.0
        return p.reshape(shape)
    raise ValueError(fill)


def param_shapes(op, a, inputs):
    cin = inputs[0].shape[-1]
    if op in ("Conv2D", "Conv2DTranspose"):
        k = pair(a.get("kernel_size"), 3 if op == "Conv2D" else 2)
        f = a["filters"]
        shapes = [(k[0], k[1], cin, f) if op == "Conv2D" else (k[0], k[1], f, cin)]
        if a.get("use_bias", True):
            shapes.append((f,))
        return shapes, [True] * len(shapes)
    if op == "SeparableConv2D":
        k, dm, f = pair(a.get("kernel_size"), 3), a.get("depth_multiplier", 1), a["filters"]
        shapes = [(k[0], k[1], cin, dm), (1, 1, cin * dm, f)]
        if a.get("use_bias", True):
            shapes.append((f,))
        return shapes, [True] * len(shapes)
    if op == "BatchNormalization":
        n = int(a.get("scale", True)) + int(a.get("center", True))
        return [(cin,)] * (n + 2), [True] * n + [False, False]
    if op == "GroupNormalization":
        n = int(a.get("scale", True)) + int(a.get("center", True))
        return [(cin,)] * n, [True] * n
    return [], []


def cases():
    img, small, pd = [2, 6, 6, 3], [2, 4, 4, 2], [2, 3, 3, 2]
    odd = [2, 5, 5, 3]

    def loss(name, op, a, pred, target, dims=None):
        dims = dims or pd
        return (name, op, a, [inp(dims, pred), target])

    c = [
        ("conv_3x3_same", "Conv2D", {"filters": 4, "padding": "same"}, [inp(img)]),
        ("conv_3x3_valid", "Conv2D", {"filters": 4}, [inp(odd)]),
        ("conv_3x3_same_s2_even", "Conv2D", {"filters": 3, "strides": 2, "padding": "same"}, [inp(img)]),
        ("conv_3x3_same_s2_odd", "Conv2D", {"filters": 3, "strides": 2, "padding": "same"}, [inp(odd)]),
        ("conv_3x3_valid_s2", "Conv2D", {"filters": 3, "strides": 2}, [inp(odd)]),
        ("conv_3x3_dilated2_same", "Conv2D", {"filters": 2, "dilation_rate": 2, "padding": "same"},
         [inp([2, 7, 7, 3])]),
        ("conv_3x3_dilated2_valid", "Conv2D", {"filters": 2, "dilation_rate": 2}, [inp([2, 7, 7, 3])]),
        ("conv_1x1", "Conv2D", {"filters": 5, "kernel_size": 1}, [inp(odd)]),
        ("conv_1x1_nobias_softmax", "Conv2D",
         {"filters": 3, "kernel_size": 1, "use_bias": False, "activation": "softmax"}, [inp(odd)]),
        ("conv_2x2_same_relu", "Conv2D",
         {"filters": 3, "kernel_size": 2, "padding": "same", "activation": "relu"}, [inp(odd)]),
        ("conv_rect_s12_same_tanh", "Conv2D",
         {"filters": 3, "kernel_size": [2, 3], "strides": [1, 2], "padding": "same", "activation": "tanh"},
         [inp(img)]),
        ("conv_3x3_same_sigmoid", "Conv2D", {"filters": 2, "padding": "same", "activation": "sigmoid"},
         [inp(small)]),
        ("conv_3x3_same_leaky", "Conv2D", {"filters": 2, "padding": "same", "activation": "leaky_relu"},
         [inp(small)]),
        ("convT_2x2_s2_same", "Conv2DTranspose", {"filters": 3}, [inp(small)]),
        ("convT_3x3_s2_same", "Conv2DTranspose", {"filters": 2, "kernel_size": 3}, [inp([2, 3, 3, 2])]),
        ("convT_3x3_s2_valid_relu", "Conv2DTranspose",
         {"filters": 2, "kernel_size": 3, "padding": "valid", "activation": "relu"}, [inp([2, 3, 3, 2])]),
        ("convT_1x1_s2_valid", "Conv2DTranspose",
         {"filters": 2, "kernel_size": 1, "padding": "valid"}, [inp(small)]),
        ("convT_3x3_s1_dilated2_same", "Conv2DTranspose",
         {"filters": 2, "kernel_size": 3, "strides": 1, "dilation_rate": 2}, [inp(small)]),
        ("convT_4x4_s2_same_nobias", "Conv2DTranspose",
         {"filters": 2, "kernel_size": 4, "use_bias": False}, [inp([2, 3, 3, 2])]),
        ("maxpool_2_valid_odd", "MaxPool2D", {}, [inp(odd)]),
        ("maxpool_3_s2_same", "MaxPool2D", {"pool_size": 3, "strides": 2, "padding": "same"}, [inp(img)]),
        ("maxpool_2_same_odd", "MaxPool2D", {"padding": "same"}, [inp(odd)]),
        ("avgpool_2_valid", "AvgPool2D", {}, [inp(odd)]),
        ("avgpool_2_same_odd", "AvgPool2D", {"padding": "same"}, [inp(odd)]),
        ("avgpool_3_s1_same", "AvgPool2D", {"pool_size": 3, "strides": 1, "padding": "same"}, [inp(small)]),
        ("upsample_nearest_2", "UpSampling2D", {}, [inp(small)]),
        ("upsample_nearest_2x3", "UpSampling2D", {"size": [2, 3]}, [inp(small)]),
        ("upsample_bilinear_2", "UpSampling2D", {"interpolation": "bilinear"}, [inp([2, 3, 4, 2])]),
        ("upsample_bilinear_3x2", "UpSampling2D", {"size": [3, 2], "interpolation": "bilinear"},
         [inp(small)]),
        ("concat_channels_3", "Concatenate", {"num_inputs": 3},
         [inp([2, 3, 3, 2]), inp([2, 3, 3, 1]), inp([2, 3, 3, 3])]),
        ("concat_height", "Concatenate", {"axis": 1}, [inp([2, 2, 3, 2]), inp([2, 3, 3, 2])]),
        ("concat_width", "Concatenate", {"axis": 2}, [inp([2, 3, 1, 2]), inp([2, 3, 2, 2])]),
        ("add_2", "Add", {}, [inp(small), inp(small)]),
        ("add_broadcast_3", "Add", {"num_inputs": 3}, [inp(small), inp([2, 1, 1, 2]), inp([2, 4, 4, 1])]),
        ("multiply_2", "Multiply", {}, [inp(small), inp(small)]),
        ("multiply_broadcast_3", "Multiply", {"num_inputs": 3},
         [inp([2, 3, 3, 2]), inp([2, 3, 3, 1]), inp([2, 1, 3, 2])]),
        ("batchnorm_train", "BatchNormalization", {}, [inp([3, 4, 4, 3])]),
        ("batchnorm_train_momentum", "BatchNormalization", {"momentum": 0.9, "epsilon": 1e-5},
         [inp([2, 3, 3, 2])]),
        ("batchnorm_train_noaffine", "BatchNormalization", {"center": False, "scale": False},
         [inp(small)]),
        ("batchnorm_infer", "BatchNormalization", {}, [inp([2, 3, 3, 3])], False),
        ("dropout_infer", "Dropout", {"rate": 0.3}, [inp(small)], False),
        ("act_relu", "Activation", {"activation": "relu"}, [inp(small)]),
        ("act_leaky_default", "Activation", {"activation": "leaky_relu"}, [inp(small)]),
        ("act_leaky_0.1", "Activation", {"activation": "leaky_relu", "alpha": 0.1}, [inp(small)]),
        ("act_sigmoid", "Activation", {"activation": "sigmoid"}, [inp(small)]),
        ("act_softmax", "Activation", {"activation": "softmax"}, [inp([2, 3, 3, 4])]),
        ("act_tanh", "Activation", {"activation": "tanh"}, [inp(small)]),
        ("act_linear", "Activation", {"activation": "linear"}, [inp(small)]),
        ("crop", "Cropping2D", {"cropping": [1, 0, 2, 1]}, [inp(odd)]),
        ("pad", "ZeroPadding2D", {"padding": [1, 2, 0, 1]}, [inp(small)]),
        ("rescale_float", "Rescale", {"scale": 0.5, "offset": 0.1}, [inp(small)]),
        ("rescale_uint8", "Rescale", {"scale": 1 / 255}, [inp(small, "bytes", dtype="uint8")]),
        ("cast_uint8", "Cast", {"dtype": "float32"}, [inp(small, "bytes", dtype="uint8")]),
        loss("bce", "BinaryCrossentropy", {}, "prob", inp(pd, "binary")),
        loss("bce_soft_target", "BinaryCrossentropy", {}, "prob", inp(pd, "prob")),
        loss("bce_clipped", "BinaryCrossentropy", {}, "clipped", inp(pd, "binary")),
        loss("bce_smooth", "BinaryCrossentropy", {"label_smoothing": 0.2}, "prob", inp(pd, "binary")),
        loss("bce_logits_smooth", "BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1},
             "uniform", inp(pd, "prob")),
        loss("cce", "CategoricalCrossentropy", {}, "positive", inp([2, 3, 3, 3], "onehot"), [2, 3, 3, 3]),
        loss("cce_smooth", "CategoricalCrossentropy", {"label_smoothing": 0.1}, "positive",
             inp([2, 3, 3, 3], "onehot"), [2, 3, 3, 3]),
        loss("cce_logits_smooth", "CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2},
             "uniform", inp([2, 3, 3, 3], "onehot"), [2, 3, 3, 3]),
        loss("scce", "SparseCategoricalCrossentropy", {}, "positive",
             inp([2, 3, 3, 1], "classes", 3, "int32"), [2, 3, 3, 3]),
        loss("scce_uint8", "SparseCategoricalCrossentropy", {}, "prob",
             inp([2, 3, 3, 1], "classes", 4, "uint8"), [2, 3, 3, 4]),
        loss("scce_logits", "SparseCategoricalCrossentropy", {"from_logits": True}, "uniform",
             inp([2, 3, 3, 1], "classes", 3, "int32"), [2, 3, 3, 3]),
        loss("scce_logits_ignore", "SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 1},
             "uniform", inp([2, 3, 3, 1], "classes", 3, "int32"), [2, 3, 3, 3]),
        loss("dice", "Dice", {}, "prob", inp(pd, "binary")),
        loss("dice_eps1", "Dice", {"epsilon": 1.0}, "prob", inp(pd, "binary")),
        loss("bce_dice", "BCEDice", {}, "prob", inp(pd, "binary")),
        loss("bce_dice_weighted", "BCEDice", {"bce_weight": 0.5, "dice_weight": 2.0}, "prob",
             inp(pd, "binary")),
        loss("focal", "Focal", {}, "prob", inp(pd, "binary")),
        loss("focal_logits_balanced", "Focal",
             {"from_logits": True, "apply_class_balancing": True, "gamma": 1.5}, "uniform",
             inp(pd, "binary")),
        loss("focal_gamma0", "Focal", {"gamma": 0.0}, "prob", inp(pd, "binary")),
        loss("metric_dice_binary", "DiceCoefficient", {}, "prob", inp([2, 4, 4, 1], "binary"), [2, 4, 4, 1]),
        loss("metric_iou_binary", "IoU", {"threshold": 0.3}, "prob", inp([2, 4, 4, 1], "binary"),
             [2, 4, 4, 1]),
        loss("metric_acc_binary", "PixelAccuracy", {}, "prob", inp([2, 4, 4, 1], "binary"), [2, 4, 4, 1]),
        loss("metric_dice_classes", "DiceCoefficient", {}, "positive",
             inp([2, 4, 4, 1], "classes", 3, "int32"), [2, 4, 4, 3]),
        loss("metric_iou_onehot", "IoU", {}, "positive", inp([2, 4, 4, 3], "onehot"), [2, 4, 4, 3]),
        loss("metric_acc_classes", "PixelAccuracy", {}, "positive",
             inp([2, 4, 4, 1], "classes", 3, "uint8"), [2, 4, 4, 3]),
        ("sepconv_3x3_same", "SeparableConv2D", {"filters": 4, "padding": "same"}, [inp(img)]),
        ("sepconv_3x3_valid_dm2_relu", "SeparableConv2D",
         {"filters": 3, "depth_multiplier": 2, "activation": "relu"}, [inp(odd)]),
        ("sepconv_3x3_same_s2_odd_nobias", "SeparableConv2D",
         {"filters": 2, "strides": 2, "padding": "same", "use_bias": False}, [inp(odd)]),
        ("sepconv_3x3_dilated2_same_leaky", "SeparableConv2D",
         {"filters": 2, "dilation_rate": 2, "padding": "same", "activation": "leaky_relu"},
         [inp([2, 7, 7, 3])]),
        # After the others, so that their seeds (1000 + index) and data stay as they were.
        ("upsample_bilinear_align_corners_2", "UpSampling2D",
         {"interpolation": "bilinear", "align_corners": True}, [inp([2, 3, 4, 2])]),
        ("upsample_bilinear_align_corners_3", "UpSampling2D",
         {"size": 3, "interpolation": "bilinear", "align_corners": True}, [inp([2, 4, 3, 2])]),
        ("upsample_bilinear_align_corners_3x2_one_row", "UpSampling2D",
         {"size": [3, 2], "interpolation": "bilinear", "align_corners": True}, [inp([2, 1, 3, 2])]),
        # The ops of the ONNX import (after the others, so that their seeds
        # (1000 + index) and data stay as they were).
        ("leaky_relu_default", "LeakyReLU", {}, [inp(small)]),
        ("leaky_relu_0.01", "LeakyReLU", {"alpha": 0.01}, [inp(small)]),
        ("leaky_relu_1.7", "LeakyReLU", {"alpha": 1.7}, [inp(small)]),
        ("global_avgpool_odd", "GlobalAvgPool2D", {}, [inp(odd)]),
        ("global_avgpool_1x1", "GlobalAvgPool2D", {}, [inp([2, 1, 1, 3])]),
        # GroupNormalization (nn.GroupNorm), appended last for the same reason.
        ("groupnorm_groups2", "GroupNormalization", {"groups": 2}, [inp([2, 4, 3, 6])]),
        ("groupnorm_instance", "GroupNormalization", {"groups": 4, "epsilon": 1e-3}, [inp([2, 3, 5, 4])]),
        ("groupnorm_layer_noscale", "GroupNormalization", {"groups": 1, "scale": False},
         [inp([1, 4, 4, 3])]),
    ]
    return [x if len(x) == 5 else x + (True,) for x in c]


LOSS_OPS = {"BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "Dice",
            "BCEDice", "Focal"}
METRIC_OPS = {"DiceCoefficient", "IoU", "PixelAccuracy"}


def make_ops_file(path):
    tensors, meta = {}, []
    for index, (name, op, a, specs, training) in enumerate(cases()):
        rng = Rng(1000 + index)
        inputs = [make_input(rng, s) for s in specs]
        shapes, trainable = param_shapes(op, a, inputs)
        params = []
        for shape, tr in zip(shapes, trainable):
            params.append(rng.uniform(shape) if tr else rng.uniform(shape, 0.2, 1.0))
        initial = [p.clone() for p in params]
        wants = [s["dtype"] == "float32" and not (op in LOSS_OPS and i == 1) and op not in METRIC_OPS
                 for i, s in enumerate(specs)]
        leaves = [x.clone().requires_grad_(w) for x, w in zip(inputs, wants)]
        pleaves = [p.clone().requires_grad_(tr) for p, tr in zip(params, trainable)]
        outs = run_op(op, leaves, pleaves, a, training)
        douts = [torch.tensor(1.3) if o.dim() == 0 else rng.uniform(tuple(o.shape)) for o in outs]
        for i, x in enumerate(inputs):
            tensors[f"{name}/in{i}"] = npy(x)
        for i, p in enumerate(initial):
            tensors[f"{name}/param{i}"] = npy(p)
            tensors[f"{name}/param{i}_after"] = npy(pleaves[i])
        for k, (o, d) in enumerate(zip(outs, douts)):
            tensors[f"{name}/out{k}"] = npy(o)
            tensors[f"{name}/dout{k}"] = npy(d)
        grads = [w for w in wants] + list(trainable)
        if any(grads) and op not in METRIC_OPS:
            objective = sum((o * d).sum() for o, d in zip(outs, douts))
            objective.backward()
            for i, x in enumerate(leaves):
                if wants[i]:
                    tensors[f"{name}/din{i}"] = npy(x.grad)
            for i, p in enumerate(pleaves):
                if trainable[i]:
                    tensors[f"{name}/dparam{i}"] = npy(p.grad)
        meta.append({"name": name, "op": op, "attrs": a, "training": training,
                     "dtypes": [s["dtype"] for s in specs]})
    save_safetensors(path, tensors, {"cases": json.dumps(meta), "generator": "tests/reference/make_reference.py",
                                     "torch": torch.__version__})
    return len(meta)


# ---------------------------------------------------------------- U-Net training step

def unet_params(o, rng):
    """Initial parameters by '<node>/<param>', Keras layouts, he_normal-like scales."""
    p = {}

    def conv(name, cin, cout, k=3, bias=True):
        std = math.sqrt(2.0 / (k * k * cin))
        p[f"{name}/kernel"] = f32(torch.randn((k, k, cin, cout), generator=rng.g) * std)
        if bias:
            p[f"{name}/bias"] = rng.uniform((cout,), -0.1, 0.1)

    def bn(name, c):
        p[f"{name}/gamma"] = rng.uniform((c,), 0.8, 1.2)
        p[f"{name}/beta"] = rng.uniform((c,), -0.1, 0.1)
        p[f"{name}/moving_mean"] = torch.zeros(c)
        p[f"{name}/moving_variance"] = torch.ones(c)

    def block(prefix, cin, cout):
        for i in (1, 2):
            conv(f"{prefix}_conv{i}", cin if i == 1 else cout, cout, bias=not o["batchnorm"])
            if o["batchnorm"]:
                bn(f"{prefix}_bn{i}", cout)

    f = o["filters"]
    cin = o["channels"]
    for level in range(o["depth"]):
        block(f"enc{level + 1}", cin, f << level)
        cin = f << level
    block("bottleneck", cin, f << o["depth"])
    cin = f << o["depth"]
    for level in reversed(range(o["depth"])):
        prefix = f"dec{level + 1}"
        if o["up"] == "transpose":
            k = f"{prefix}_up/kernel"
            std = math.sqrt(2.0 / (2 * 2 * cin))
            p[k] = f32(torch.randn((2, 2, f << level, cin), generator=rng.g) * std)  # (kh, kw, F, Cin)
            p[f"{prefix}_up/bias"] = rng.uniform((f << level,), -0.1, 0.1)
            up_channels = f << level
        elif o["up"] == "upsample_conv":  # UpSampling2D, then a 3×3 ReLU conv halving the channels
            conv(f"{prefix}_upconv", cin, f << level)
            up_channels = f << level
        else:
            up_channels = cin
        block(prefix, (f << level) + up_channels, f << level)
        cin = f << level
    conv("output", cin, o["classes"], k=1)
    return p


def unet_forward(o, p, image, mask, training=True):
    """Returns the loss (BCEDice for 1 class, sparse CE otherwise), as the template wires it."""
    def block(prefix, x):
        for i in (1, 2):
            name = f"{prefix}_conv{i}"
            if o["batchnorm"]:
                x = conv2d(x, [p[f"{name}/kernel"]], {"padding": "same", "use_bias": False})
                bn = f"{prefix}_bn{i}"
                x = batch_norm(x, [p[f"{bn}/gamma"], p[f"{bn}/beta"], p[f"{bn}/moving_mean"],
                                   p[f"{bn}/moving_variance"]], {}, training)
                x = F.relu(x)
            else:
                x = conv2d(x, [p[f"{name}/kernel"], p[f"{name}/bias"]],
                           {"padding": "same", "activation": "relu"})
        return x

    x = image * (1 / 255)
    skips = []
    for level in range(o["depth"]):
        x = block(f"enc{level + 1}", x)
        skips.append(x)
        x = max_pool(x, [], {})
    x = block("bottleneck", x)
    for level in reversed(range(o["depth"])):
        prefix = f"dec{level + 1}"
        if o["up"] == "transpose":
            x = conv2d_transpose(x, [p[f"{prefix}_up/kernel"], p[f"{prefix}_up/bias"]],
                                 {"kernel_size": 2, "strides": 2, "padding": "same"})
        else:
            x = upsampling(x, [], {"size": 2})
            if o["up"] == "upsample_conv":
                x = conv2d(x, [p[f"{prefix}_upconv/kernel"], p[f"{prefix}_upconv/bias"]],
                           {"padding": "same", "activation": "relu"})
        x = torch.cat([skips[level], x], dim=-1)
        x = block(prefix, x)
    binary = o["classes"] == 1
    pred = conv2d(x, [p["output/kernel"], p["output/bias"]],
                  {"kernel_size": 1, "activation": "sigmoid" if binary else "softmax"})
    if binary:
        return bce_dice_loss(pred, mask * (1 / 255), {})
    return scce_loss(pred, mask, {})


def make_unet_file(path, o, lr, steps, seed, optimizer):
    rng = Rng(seed)
    size = o["size"]
    params = unet_params(o, rng)
    image = rng.ints((2, size, size, o["channels"]), 256)
    # A mask that depends on the image (a bright blob), so the task is learnable.
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    blob = ((yy - size * 0.4) ** 2 + (xx - size * 0.6) ** 2 < (size * 0.3) ** 2).to(torch.float64)
    mask = torch.stack([blob, blob.flip(0)]).unsqueeze(-1)
    if o["classes"] == 1:
        mask = mask * 255
    else:
        mask = mask * (o["classes"] - 1)
    tensors = {"batch/image": npy(image), "batch/mask": npy(mask)}
    for k, v in params.items():
        tensors[f"init/{k}"] = npy(v)

    trainable = [k for k in params if not k.endswith(("moving_mean", "moving_variance"))]
    state = {k: (torch.zeros_like(params[k]), torch.zeros_like(params[k])) for k in trainable}
    b1, b2, eps = 0.9, 0.999, 1e-7
    kind = optimizer["kind"]
    for step in range(1, steps + 1):
        leaves = {k: v.clone().requires_grad_(k in trainable) for k, v in params.items()}
        loss = unet_forward(o, leaves, image, mask)
        loss.backward()
        tensors[f"loss/{step}"] = npy(loss.detach().reshape(()))
        with torch.no_grad():
            alpha = lr * math.sqrt(1 - b2 ** step) / (1 - b1 ** step)
            for k in params:
                if k not in trainable:  # moving statistics, updated in place by the forward pass
                    params[k] = leaves[k].detach().clone()
                    continue
                g = leaves[k].grad
                if step == 1:
                    tensors[f"grad/{k}"] = npy(g)
                m, v = state[k]
                if kind == "sgd":  # Keras: velocity = momentum·velocity − lr·g; p += velocity
                    m.mul_(optimizer["momentum"]).sub_(lr * g)
                    params[k] = params[k] + m
                    continue
                if kind == "adamw":  # Keras: the decoupled decay first, p −= lr·wd·p
                    params[k] = params[k] - lr * optimizer["weight_decay"] * params[k]
                m.mul_(b1).add_((1 - b1) * g)
                v.mul_(b2).add_((1 - b2) * g * g)
                params[k] = params[k] - alpha * m / (v.sqrt() + eps)
        if step in (1, steps):
            for k, v in params.items():
                tensors[f"step{step}/{k}"] = npy(v)
    meta = {"options": json.dumps(o), "lr": repr(lr), "steps": str(steps),
            "optimizer": json.dumps(optimizer),
            "optimizer_note": "Keras semantics; adam(w): beta1=0.9 beta2=0.999 epsilon=1e-7",
            "generator": "tests/reference/make_reference.py", "torch": torch.__version__}
    save_safetensors(path, tensors, meta)
    return sum(v.numel() for k, v in params.items() if k in trainable)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    n = make_ops_file(os.path.join(OUT_DIR, "ops.safetensors"))
    print(f"ops.safetensors: {n} cases")
    adam = {"kind": "adam"}
    variants = [
        ("unet_transpose", dict(depth=2, filters=4, size=16, channels=3, classes=1, batchnorm=False,
                                up="transpose"), 11, adam),
        ("unet_bn_upsample", dict(depth=2, filters=4, size=16, channels=3, classes=1, batchnorm=True,
                                  up="upsample"), 12, adam),
        # The engine issue's reference architecture in small; 16 filters, so that every
        # 3×3 layer but the first runs the Winograd kernels. SGD with momentum.
        ("unet_upsample_conv_sgd", dict(depth=1, filters=16, size=16, channels=3, classes=1, batchnorm=False,
                                        up="upsample_conv"), 13, {"kind": "sgd", "momentum": 0.9}),
        # Depth 1: at depth 2 with 4 filters the 4×4 bottleneck has units whose gradient is
        # exactly 0 in float32 but ~1e-9 in float64 after a step, and Adam's normalised
        # step turns that difference into a whole step for one side only.
        ("unet_upsample_conv_adamw", dict(depth=1, filters=8, size=16, channels=3, classes=1, batchnorm=False,
                                          up="upsample_conv"), 14, {"kind": "adamw", "weight_decay": 0.05}),
    ]
    for name, o, seed, optimizer in variants:
        count = make_unet_file(os.path.join(OUT_DIR, name + ".safetensors"), o, lr=0.01, steps=3, seed=seed,
                               optimizer=optimizer)
        print(f"{name}.safetensors: {count} trainable parameters")
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in os.listdir(OUT_DIR))
    print(f"total {total / 1024:.1f} KiB in {os.path.relpath(OUT_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
