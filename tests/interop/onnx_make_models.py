"""Builds small PyTorch U-Nets, exports them with torch.onnx.export and writes
what the ONNX import test compares SegForge against.

    onnx_make_models.py OUT_DIR [NAME ...]

For each model NAME (all of them when none is named) OUT_DIR/NAME/ holds:
  model.onnx          the export (eval mode; see EXPORTS for opset and options)
  io.safetensors      "input" (N×C×H×W, seeded) and "output" (PyTorch's eval
                      forward on it), float32
  state_dict.safetensors  the model's state_dict (PyTorch names, layouts)
and OUT_DIR/NAME/ops.txt the ONNX op types the file holds, one a line.

Deterministic: seeded, single-threaded. Needs torch 1.13 and onnx (Debian's
python3-torch / python3-onnx); safetensors is written by hand (8-byte
little-endian header length, JSON header, raw little-endian data).
"""

import json
import os
import struct
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F


# --- safetensors ----------------------------------------------------------


def write_safetensors(path, tensors):
    """tensors: name → numpy float32 array (any shape)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(tensors[name].shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# --- building blocks ------------------------------------------------------


def conv_bn_relu(cin, cout, stride=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def double_conv(cin, cout):
    return nn.Sequential(conv_bn_relu(cin, cout), conv_bn_relu(cout, cout))


class PlainUNet(nn.Module):
    """(a) Conv3×3+BN+ReLU ×2, MaxPool 2, ConvTranspose k2 s2, cat skips,
    1×1 head + sigmoid; channels 4/8/16, depth 2."""

    def __init__(self, cin=3, classes=1):
        super().__init__()
        self.enc1 = double_conv(cin, 4)
        self.enc2 = double_conv(4, 8)
        self.bottom = double_conv(8, 16)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(16, 8, kernel_size=2, stride=2)
        self.dec2 = double_conv(16, 8)
        self.up1 = nn.ConvTranspose2d(8, 4, kernel_size=2, stride=2)
        self.dec1 = double_conv(8, 4)
        self.head = nn.Conv2d(4, classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        b = self.bottom(self.pool(e2))
        d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return torch.sigmoid(self.head(d1))


class BasicBlock(nn.Module):
    """ResNet basic block; a 1×1 projection (stride 2) when the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResUNet(nn.Module):
    """(b) stem 3×3 s2 + BN + ReLU, MaxPool k3 s2 p1, basic blocks (one with
    stride 2 and a 1×1 stride-2 projection), decoder: bilinear ×2
    (align_corners=False) + cat + conv, 1×1 head (logits)."""

    def __init__(self, cin=3, classes=2):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(cin, 8, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
        )
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = BasicBlock(8, 8, 1)
        self.layer2 = BasicBlock(8, 16, 2)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.dec2 = conv_bn_relu(16 + 8, 8)
        self.dec1 = conv_bn_relu(8 + 8, 8)
        self.head = nn.Conv2d(8, classes, 1)

    def forward(self, x):
        s = self.stem(x)  # /2
        l1 = self.layer1(self.pool(s))  # /4
        l2 = self.layer2(l1)  # /8
        d2 = self.dec2(torch.cat([self.up(l2), l1], dim=1))  # /4
        d1 = self.dec1(torch.cat([F.interpolate(d2, scale_factor=2, mode="bilinear",
                                                align_corners=False), s], dim=1))  # /2
        return F.interpolate(self.head(d1), scale_factor=2, mode="bilinear", align_corners=False)


class PadUp(nn.Module):
    """milesial Pytorch-UNet's Up block: the upsampled tensor is padded to the
    skip's size, computed from the shapes."""

    def __init__(self, cin, cout, bilinear):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            self.conv = double_conv(cin + cout, cout)
        else:
            self.up = nn.ConvTranspose2d(cin, cin // 2, kernel_size=2, stride=2)
            self.conv = double_conv(cin // 2 + cout, cout)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        return self.conv(torch.cat([x2, x1], dim=1))


class MilesialUNet(nn.Module):
    """(c) odd input (the pads are not zero), one transposed and one bilinear
    align_corners=True Up block, LeakyReLU(0.01) before the head."""

    def __init__(self, cin=1, classes=1):
        super().__init__()
        self.inc = double_conv(cin, 4)
        self.down1 = nn.Sequential(nn.MaxPool2d(2), double_conv(4, 8))
        self.down2 = nn.Sequential(nn.MaxPool2d(2), double_conv(8, 16))
        self.up1 = PadUp(16, 8, bilinear=False)
        self.up2 = PadUp(8, 4, bilinear=True)
        self.act = nn.LeakyReLU(0.01)
        self.outc = nn.Conv2d(4, classes, 1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x = self.up1(x3, x2)
        x = self.up2(x, x1)
        return self.outc(self.act(x))


class SqueezeExcite(nn.Module):
    def __init__(self, c, r=2):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, c // r, 1)
        self.fc2 = nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        w = torch.sigmoid(self.fc2(F.relu(self.fc1(self.pool(x)))))
        return x * w


class ExtrasNet(nn.Module):
    """(c) ConvTranspose2d(k3, s2, p1, output_padding=1), a squeeze-excitation
    block, a strided conv with bias, a softmax head over 3 classes."""

    def __init__(self, cin=3, classes=3):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(cin, 8, 3, padding=1), nn.ReLU())
        self.down = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
        self.se = SqueezeExcite(16)
        self.up = nn.ConvTranspose2d(16, 8, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.dec = nn.Sequential(nn.Conv2d(16, 8, 3, padding=1), nn.LeakyReLU(0.01))
        self.head = nn.Conv2d(8, classes, 1)

    def forward(self, x):
        e = self.enc(x)
        d = self.se(self.down(e))
        y = self.dec(torch.cat([self.up(d), e], dim=1))
        return torch.softmax(self.head(y), dim=1)


class OpsZoo(nn.Module):
    """The rest of what U-Net exports hold: dilation, an even kernel with
    stride 2, AvgPool (exported with a zero Pad before it), Tanh, Dropout,
    nearest ×2, bilinear to a size, a crop by slicing, a 3-input sum. (Zero
    padding by nn.ZeroPad2d/F.pad exports as the shape chain milesial_odd has.)"""

    def __init__(self, cin=3):
        super().__init__()
        self.dilated = nn.Conv2d(cin, 6, 3, padding=2, dilation=2)
        self.second = nn.Conv2d(6, 6, 3, padding=1)
        self.strided = nn.Conv2d(6, 8, 4, stride=2, padding=1)
        self.pool = nn.AvgPool2d(2)
        self.drop = nn.Dropout(0.3)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.mix = nn.Conv2d(8 + 6, 4, 1)
        self.head = nn.Conv2d(4, 2, 3, padding=1)

    def forward(self, x):
        a = torch.tanh(self.dilated(x))  # 20×20
        b = F.relu(self.second(a))  # 20×20
        c = self.drop(self.pool(F.relu(self.strided(b))))  # 10 → 5
        u = self.up(F.interpolate(c, size=(10, 10), mode="bilinear", align_corners=False))  # 20
        m = self.mix(torch.cat([u, a + b + a], dim=1))
        return self.head(m)[:, :, 1:-1, 2:-1]  # a crop: 18×17


class GeluNet(nn.Module):
    """An op SegForge has no counterpart for (GELU exports as Div, Erf, Add,
    Mul): the import must leave a placeholder and go on."""

    def __init__(self, cin=3):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        return torch.sigmoid(self.conv2(F.gelu(self.conv1(x))))


class NnUNetStage(nn.Module):
    """(d) nnU-Net's conv block: Conv 3×3 (bias), InstanceNorm2d(affine=True),
    LeakyReLU(0.01), twice, with a stride-2 conv between; a 1×1 head."""

    def __init__(self, cin=3, classes=2):
        super().__init__()

        def block(a, b, stride=1):
            return nn.Sequential(nn.Conv2d(a, b, 3, stride=stride, padding=1),
                                 nn.InstanceNorm2d(b, affine=True), nn.LeakyReLU(0.01))

        self.enc = block(cin, 8)
        self.down = block(8, 8, stride=2)
        self.head = nn.Conv2d(8, classes, 1)

    def forward(self, x):
        return self.head(self.down(self.enc(x)))


class GroupNormNet(nn.Module):
    """(d) Conv, nn.GroupNorm(2, 8) (exported by torch 1.13 as Reshape,
    InstanceNormalization, Reshape, Mul, Add), ReLU, a 1×1 head."""

    def __init__(self, cin=3, classes=2):
        super().__init__()
        self.conv = nn.Conv2d(cin, 8, 3, padding=1)
        self.norm = nn.GroupNorm(2, 8)
        self.head = nn.Conv2d(8, classes, 1)

    def forward(self, x):
        return self.head(F.relu(self.norm(self.conv(x))))


# --- the exports ----------------------------------------------------------

# name: (model factory, input C×H×W, opset, keep BatchNorm, export_params, the file's weights:
#        None = the model's, "other" = other random ones, "fresh" = PyTorch's default init)
EXPORTS = {
    # (a) plain U-Net: as users get it (Conv+BN fused by the export) and with BN nodes kept
    "unet_plain": (PlainUNet, (3, 32, 32), 13, False, True, None),
    "unet_plain_bn": (PlainUNet, (3, 32, 32), 13, True, True, None),
    # (b) ResNet-encoder U-Net, fused at opset 11 and BN kept at opset 13
    "resunet": (ResUNet, (3, 32, 32), 11, False, True, None),
    "resunet_bn": (ResUNet, (3, 32, 32), 13, True, True, None),
    # (c) extras
    "milesial_odd": (MilesialUNet, (1, 37, 35), 17, False, True, None),
    "extras_softmax": (ExtrasNet, (3, 24, 24), 13, False, True, None),
    "ops_zoo": (OpsZoo, (3, 20, 20), 13, False, True, None),
    "gelu_placeholder": (GeluNet, (3, 16, 16), 13, False, True, None),
    # (d) instance and group normalisation
    "nnunet_instancenorm": (NnUNetStage, (3, 16, 16), 13, False, True, None),
    "groupnorm": (GroupNormNet, (3, 12, 12), 13, False, True, None),
    # weights from the state_dict: no initializers at all / other weights in the file
    "unet_bn_noparams": (PlainUNet, (3, 32, 32), 13, True, False, None),
    "resunet_bn_stale": (ResUNet, (3, 32, 32), 13, True, True, "other"),
    # an untrained model exported to look at, trained weights brought later: its
    # BatchNorms' equal initializers (ones, zeros) are merged by the export, the
    # rest reached through Identity nodes named as the state_dict names them
    "resunet_bn_fresh": (ResUNet, (3, 32, 32), 13, True, True, "fresh"),
}

BATCH = 2


def randomize(model, seed):
    """Seeded weights with non-trivial BatchNorm statistics and biases; the
    kernels scaled by their fan-in so that values stay near unit size."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                w = m.weight
                fan_in = w[0].numel()
                if isinstance(m, nn.ConvTranspose2d):  # (in, out, kh, kw): in·kh·kw/s² taps
                    fan_in = w.shape[0] * w.shape[2] * w.shape[3] // (m.stride[0] * m.stride[1])
                w.copy_(torch.randn(w.shape, generator=g) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.rand(m.bias.shape, generator=g) - 0.5)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.InstanceNorm2d)) and m.affine:
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(torch.rand(m.bias.shape, generator=g) - 0.5)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) - 0.5)
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))


def export(name, out_dir):
    factory, chw, opset, keep_bn, export_params, stale = EXPORTS[name]
    torch.manual_seed(0)
    model = factory()
    randomize(model, seed=sum(map(ord, name)))
    model.eval()
    g = torch.Generator().manual_seed(1234)
    x = torch.randn((BATCH,) + chw, generator=g)
    with torch.no_grad():
        y = model(x)

    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()
             if v.dtype.is_floating_point}
    write_safetensors(os.path.join(d, "state_dict.safetensors"), state)
    write_safetensors(os.path.join(d, "io.safetensors"),
                      {"input": x.numpy(), "output": y.numpy()})

    if stale == "other":  # the file holds other weights: the state_dict must replace them
        randomize(model, seed=99)
    elif stale == "fresh":
        torch.manual_seed(0)
        model = factory().eval()
    kwargs = dict(
        opset_version=opset,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        export_params=export_params,
    )
    if keep_bn:
        # TrainingMode.EVAL (the default) runs the eval peephole, which folds
        # BatchNorm into the preceding Conv; PRESERVE with the model in eval
        # skips it and exports BatchNormalization (running statistics).
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
        kwargs["do_constant_folding"] = False
    path = os.path.join(d, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(model, x, path, **kwargs)

    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    with open(os.path.join(d, "ops.txt"), "w") as f:
        f.write("\n".join(ops) + "\n")
    has_bn = "BatchNormalization" in ops
    if keep_bn != has_bn:
        raise SystemExit(f"{name}: BatchNormalization {'missing' if keep_bn else 'left'}: {ops}")
    if not export_params and len(m.graph.initializer) > 0:
        floats = [i.name for i in m.graph.initializer if i.data_type == onnx.TensorProto.FLOAT
                  and np.prod(i.dims) > 1]
        if floats:
            raise SystemExit(f"{name}: export_params=False left weight initializers {floats}")
    print(f"{name}: opset {opset}, {len(m.graph.node)} nodes, "
          f"{len(m.graph.initializer)} initializers, in {tuple(x.shape)} out {tuple(y.shape)} "
          f"in [{y.min():.3f}, {y.max():.3f}] std {y.std():.3f}, "
          f"ops {' '.join(ops)}")


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")  # torch's export notes, not ours
    torch.use_deterministic_algorithms(True)
    out_dir = sys.argv[1]
    names = sys.argv[2:] or list(EXPORTS)
    for name in names:
        if name not in EXPORTS:
            raise SystemExit(f"unknown model {name!r}; known: {', '.join(EXPORTS)}")
        export(name, out_dir)


if __name__ == "__main__":
    main()
