#!/usr/bin/python3
"""Regenerates the seed corpus of the ONNX fuzz target (tests/fuzz/onnx_import/):
tiny convolutional nets exported by torch.onnx.export (PyTorch 1.13) at opsets
11 and 13 — Conv, BatchNormalization (kept and fused), Relu, MaxPool,
ConvTranspose, Resize (nearest and bilinear), Concat, Sigmoid, with the
Shape/Gather/Unsqueeze chains a dynamic batch brings — a model built with
onnx.helper holding what torch rarely writes (FLOAT16/DOUBLE/INT8 initializers,
float_data, every attribute kind, an If with subgraphs, external data), and
the project's own ONNX export of a depth-1 U-Net template (and of
resources/projects/sample_unet.segforge when it is under 100 KB; it is 7.7 MB now). Channel counts are tiny so that each file is a few KB and the
replay of every prefix stays fast. Inputs a fuzzer found (crash-*, named by
what they found) are kept beside them and not touched here.

usage: /usr/bin/python3 tests/fuzz/make_onnx_seeds.py [SEGFORGE_CLI]
       (default: build/test/app/segforge-cli; skipped when missing)
"""
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

here = Path(__file__).resolve().parent
out = here / "onnx_import"
out.mkdir(exist_ok=True)
torch.manual_seed(17)


class TinyUNet(nn.Module):
    """Conv+BN+Relu, MaxPool, a bottleneck, ConvTranspose up, Concat, 1×1 Conv."""

    def __init__(self, c=2):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU())
        self.mid = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, bias=False), nn.ReLU())
        self.up = nn.ConvTranspose2d(c, c, 2, stride=2)
        self.head = nn.Conv2d(2 * c, 1, 1)

    def forward(self, x):
        e = self.enc(x)
        m = self.mid(F.max_pool2d(e, 2))
        return torch.sigmoid(self.head(torch.cat([self.up(m), e], 1)))


class TinyResizeNet(nn.Module):
    """Stride-2 Conv, residual Add, Resize (bilinear or nearest) back up, Concat."""

    def __init__(self, mode, c=2):
        super().__init__()
        self.mode = mode
        self.down = nn.Conv2d(1, c, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(c)
        self.res = nn.Conv2d(c, c, 3, padding=1)
        self.head = nn.Conv2d(c + 1, 2, 1)

    def forward(self, x):
        d = F.relu(self.bn(self.down(x)))
        d = d + self.res(d)
        if self.mode == "bilinear":
            u = F.interpolate(d, scale_factor=2.0, mode="bilinear", align_corners=False)
        else:
            u = F.interpolate(d, scale_factor=2.0, mode="nearest")
        return torch.softmax(self.head(torch.cat([u, x], 1)), 1)


def export(model, name, opset, dynamic, fold):
    model.eval()
    x = torch.randn(1, 1, 8, 8)
    buf = io.BytesIO()
    torch.onnx.export(model, x, buf, opset_version=opset, input_names=["input"],
                      output_names=["output"], do_constant_folding=fold,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}} if dynamic else None)
    data = buf.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    (out / name).write_bytes(data)
    print(f"{name}: {len(data)} bytes")


export(TinyUNet(), "torch_unet_opset11.onnx", 11, dynamic=False, fold=True)
export(TinyUNet(), "torch_unet_opset13_dynamic_bn.onnx", 13, dynamic=True, fold=False)
export(TinyResizeNet("bilinear"), "torch_resize_bilinear_opset13.onnx", 13, dynamic=False, fold=True)
export(TinyResizeNet("nearest"), "torch_resize_nearest_opset11_dynamic.onnx", 11, dynamic=True, fold=False)


def helper_model():
    """What torch rarely writes: other element types, typed data fields, every attribute kind, If."""
    inits = [
        numpy_helper.from_array(np.arange(6, dtype=np.float16).reshape(2, 3) / 4, "half"),
        numpy_helper.from_array(np.array([0.5, -1e300], dtype=np.float64), "double"),
        numpy_helper.from_array(np.array([-3, 7], dtype=np.int8), "int8"),
        numpy_helper.from_array(np.array([True, False]), "bool"),
        helper.make_tensor("float_data", TensorProto.FLOAT, [2, 2], [1.0, 2.0, 3.0, 4.0]),
        helper.make_tensor("int64_data", TensorProto.INT64, [3], [1, -1, 1 << 40]),
        helper.make_tensor("bf16", TensorProto.BFLOAT16, [2], [16256, 49216]),
    ]
    then_g = helper.make_graph([helper.make_node("Identity", ["x"], ["t"])], "then", [],
                               [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"])], "else", [],
                               [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)])
    nodes = [
        helper.make_node("Constant", [], ["c"], value=helper.make_tensor("v", TensorProto.INT64, [2], [1, 2])),
        helper.make_node("Constant", [], ["cf"], value_float=2.5),
        helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3], pads=[1, 0, 1, 2],
                         strides=[1, 1], dilations=[1, 1], group=1, auto_pad="NOTSET"),
        helper.make_node("LeakyRelu", ["y"], ["z"], alpha=0.1),
        helper.make_node("Resize", ["z", "", "scales"], ["r"], mode="linear",
                         coordinate_transformation_mode="half_pixel"),
        helper.make_node("If", ["cond"], ["o"], then_branch=then_g, else_branch=else_g),
        helper.make_node("Custom", ["o"], ["q"], domain="com.example", names=["a", "b"], weights=[0.5, 1.5]),
    ]
    inits += [numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w"),
              numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")]
    graph = helper.make_graph(
        nodes, "assorted",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 4]),
         helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("q", TensorProto.FLOAT, ["N", 1, None, 8])], inits,
        value_info=[helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1, 4, 4])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                   helper.make_opsetid("com.example", 1)],
                             producer_name="onnx.helper")


m = helper_model()
(out / "helper_assorted_types.onnx").write_bytes(m.SerializeToString())
print(f"helper_assorted_types.onnx: {len(m.SerializeToString())} bytes")

# A tensor stored as external data: the fuzz target reads without a folder, so
# this seed exercises the refusal path and the parsing of the external_data entries.
ext = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1, 1, 3, 3])
ext.data_location = TensorProto.EXTERNAL
for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", "36")):
    entry = ext.external_data.add()
    entry.key, entry.value = k, v
g = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"])], "ext",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 2, 2])], [ext])
(out / "helper_external_data.onnx").write_bytes(helper.make_model(g).SerializeToString())

# The project's own exporter.
cli = Path(sys.argv[1] if len(sys.argv) > 1 else here / "../../build/test/app/segforge-cli").resolve()
project = here / "../../resources/projects/sample_unet.segforge"
if cli.exists():
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "sample_unet.onnx"
        r = subprocess.run([str(cli), "export", str(project.resolve()), "--to", "onnx", "-o", str(target)],
                           capture_output=True, text=True)
        # Also a depth-1, 2-filter U-Net template: the exporter's output at a few KB.
        tiny = Path(tmp) / "tiny.segforge"
        subprocess.run([str(cli), "template", "unet", "--depth", "1", "--filters", "2", "--size", "16",
                        "-o", str(tiny)], check=True, capture_output=True)
        tiny_onnx = Path(tmp) / "tiny.onnx"
        subprocess.run([str(cli), "export", str(tiny), "--to", "onnx", "-o", str(tiny_onnx)],
                       check=True, capture_output=True)
        (out / "segforge_tiny_unet.onnx").write_bytes(tiny_onnx.read_bytes())
        print(f"segforge_tiny_unet.onnx: {tiny_onnx.stat().st_size} bytes")
        if r.returncode == 0 and target.exists() and target.stat().st_size < 100_000:
            (out / "segforge_sample_unet.onnx").write_bytes(target.read_bytes())
            print(f"segforge_sample_unet.onnx: {target.stat().st_size} bytes")
        else:
            size = target.stat().st_size if target.exists() else 0
            print(f"segforge export skipped (rc {r.returncode}, {size} bytes): {r.stderr.strip()[:200]}")
else:
    print(f"segforge export skipped: no {cli}")
