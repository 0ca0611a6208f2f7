"""Dice and IoU in the PyTorch script with SegForge's definitions
(core/kernels/mask_metrics.cpp, metric_kernels.cpp): one output channel is
binary (p > threshold; the target's foreground is > 0.5) and scores the
foreground only; K > 1 channels take the argmax (the target's argmax when it
is one-hot, else its class index) and average all K classes, background
included. Each class scores (num + ε) / (den + ε) over the pixels of the
whole batch (not per image); validation weights each batch's score by its
samples, as SegForge's trainer does.
"""

import math

import torch

SEGFORGE_THRESHOLD, SEGFORGE_METRIC_EPSILON = 0.5, 1e-6

# --- SegForge embeds the lines below in exported scripts ---


METRIC_THRESHOLD = SEGFORGE_THRESHOLD
METRIC_EPSILON = SEGFORGE_METRIC_EPSILON


def class_counts(pred, target, threshold=METRIC_THRESHOLD):
    """(intersection, predicted, truth) pixel counts per class of one NCHW batch."""
    k = pred.shape[1]
    if k == 1:
        p = (pred[:, 0] > threshold).long()
        t = (target[:, 0] > 0.5).long()
        classes = 2
    else:
        p = pred.argmax(dim=1)
        t = target.argmax(dim=1) if target.shape[1] > 1 else torch.round(target[:, 0]).long()
        classes = k
    p, t = p.reshape(-1), t.reshape(-1)
    vp, vt = (p >= 0) & (p < classes), (t >= 0) & (t < classes)
    count = lambda labels: torch.bincount(labels, minlength=classes)[:classes].double()
    return torch.stack([count(p[vp & (p == t)]), count(p[vp]), count(t[vt])])


def dice_iou(counts, binary, epsilon=METRIC_EPSILON):
    """Mean Dice and IoU over the scored classes: the foreground alone when `binary` (one
    output channel), else every class. A class absent from both maps with ε = 0 is NaN, as
    SegForge's training metric (its checker warns about ε = 0)."""
    inter, predicted, truth = counts.tolist()
    first = 1 if binary else 0
    dice = iou = 0.0
    for c in range(first, len(inter)):
        i, p, t = inter[c], predicted[c], truth[c]
        dice += (2 * i + epsilon) / (p + t + epsilon) if p + t + epsilon > 0 else math.nan
        iou += (i + epsilon) / (p + t - i + epsilon) if p + t - i + epsilon > 0 else math.nan
    n = len(inter) - first
    return dice / n, iou / n
