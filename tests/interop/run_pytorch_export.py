"""Runs a SegForge PyTorch export on SegForge weights and an NHWC input.

    run_pytorch_export.py SCRIPT WEIGHTS INPUT.f32 N,H,W,C OUTPUT.f32

INPUT/OUTPUT are raw little-endian float32, NHWC (the SegForge layout). The
exported script is imported as a module: its Net and load_weights are the
code under test.
"""

import importlib.util
import sys

import numpy as np
import torch


def main():
    script, weights, input_path, shape, output_path = sys.argv[1:]
    spec = importlib.util.spec_from_file_location("segforge_export", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.set_num_threads(1)
    model = module.Net()
    module.load_weights(model, weights)
    model.eval()
    x = np.fromfile(input_path, dtype="<f4").reshape([int(d) for d in shape.split(",")])
    with torch.no_grad():
        y = model(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous())
    if isinstance(y, (tuple, list)):
        y = y[0]
    y.permute(0, 2, 3, 1).contiguous().numpy().astype("<f4").tofile(output_path)
    print("output", tuple(y.shape), "NCHW")


if __name__ == "__main__":
    main()
