"""Checks of a SegForge PyTorch export against what SegForge computes
(tests/interop/pytorch_scale_out_test.cpp). The exported script is imported as
a module: its Net, load_weights, Dataset, samplers and metrics are the code
under test.

    pytorch_script_helper.py masks SCRIPT WEIGHTS IMAGES PREDICTED
        PyTorch's masks of IMAGES with WEIGHTS (p >= 0.5, or argmax: what
        segforge-cli predict writes) against PREDICTED/<stem>_mask.png;
        prints "pixels N agree A foreground F".
    pytorch_script_helper.py data SCRIPT DATA SEED EPOCH OUT.u8 TARGETS.f32
        prints the validation stems and the stems of training batch 0 of
        EPOCH (SegForge's order) and writes batch 0's images (NHWC uint8)
        and the targets the loss reads (NCHW float32).
    pytorch_script_helper.py metrics SCRIPT PRED.f32 TARGET.f32 N,H,W,K
        prints the script's Dice and IoU of one NHWC batch.
    pytorch_script_helper.py roundtrip SCRIPT WEIGHTS OUT
        loads WEIGHTS into the script's Net and writes them back out with
        the script's own writer (segforge_tensors, write_safetensors).
"""

import importlib.util
import os
import sys

import numpy as np
import torch
from PIL import Image


def load(script):
    spec = importlib.util.spec_from_file_location("segforge_export", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def masks(m, weights, images, predicted):
    torch.set_num_threads(1)
    model = m.Net()
    m.load_weights(model, weights)
    model.eval()
    pixels = agree = foreground = 0
    for name in sorted(os.listdir(images)):
        stem = os.path.splitext(name)[0]
        x = torch.from_numpy(np.ascontiguousarray(m.read_image(os.path.join(images, name)).transpose(2, 0, 1)))
        with torch.no_grad():
            y = model(x[None].float())
        y = (y[0] if isinstance(y, (tuple, list)) else y)[0]
        mine = (y[0] >= 0.5).numpy().astype(np.uint8) if y.shape[0] == 1 else y.argmax(0).numpy().astype(np.uint8)
        theirs = np.asarray(Image.open(os.path.join(predicted, stem + "_mask.png")))
        if y.shape[0] == 1:
            theirs = (theirs > 0).astype(np.uint8)
        pixels += mine.size
        agree += int((mine == theirs).sum())
        foreground += int((mine != 0).sum())
    print(f"pixels {pixels} agree {agree} foreground {foreground}")


def data(m, data_dir, seed, epoch, out, targets_out):
    pairs = m.load_pairs(data_dir)
    train, validation = m.split_pairs(len(pairs), m.VALIDATION_SPLIT, seed)
    print("validation", " ".join(pairs[i][0] for i in validation))
    dataset = m.SegForgeDataset(pairs, train, seed, True, m.mask_palette(pairs))
    sampler = m.SegForgeSampler(dataset, m.BATCH_SIZE, seed)
    sampler.set_epoch(epoch)
    dataset.set_epoch(epoch)
    first = list(sampler)[: sampler.batch_size]
    print("batch0", " ".join(pairs[train[i]][0] for i in first))
    images = np.stack([dataset[i][0].numpy().transpose(1, 2, 0) for i in first])
    images.astype(np.uint8).tofile(out)
    np.stack([dataset[i][1].numpy() for i in first]).astype("<f4").tofile(targets_out)


def metrics(m, pred, target, shape):
    n, h, w, k = (int(d) for d in shape.split(","))
    p = torch.from_numpy(np.fromfile(pred, dtype="<f4").reshape(n, h, w, k)).permute(0, 3, 1, 2)
    t = np.fromfile(target, dtype="<f4")
    t = torch.from_numpy(t.reshape(n, h, w, t.size // (n * h * w))).permute(0, 3, 1, 2)
    dice, iou = m.dice_iou(m.class_counts(p, t), k == 1)
    print(f"dice {dice:.9f} iou {iou:.9f}")


def roundtrip(m, weights, out):
    model = m.Net()
    m.load_weights(model, weights)
    m.write_safetensors(out, m.segforge_tensors(model), {"format": "segforge"})


def main():
    command, script, *rest = sys.argv[1:]
    m = load(script)
    if command == "masks":
        masks(m, *rest)
    elif command == "data":
        data(m, rest[0], int(rest[1]), int(rest[2]), rest[3], rest[4])
    elif command == "metrics":
        metrics(m, *rest)
    elif command == "roundtrip":
        roundtrip(m, *rest)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
