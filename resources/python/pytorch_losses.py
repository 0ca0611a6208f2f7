"""The SegForge losses in PyTorch, for the PyTorch script export."""

import torch
import torch.nn.functional as F

# --- SegForge embeds the lines below in exported scripts ---


def make_loss(kind, **a):
    """The SegForge loss on NCHW tensors; predictions are probabilities unless from_logits."""
    eps = 1e-7

    def dice(pred, target, epsilon):
        inter = (pred * target).sum(dim=(1, 2, 3))
        total = pred.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3))
        return (1.0 - (2.0 * inter + epsilon) / (total + epsilon)).mean()

    def loss(pred, target):
        if kind == "BinaryCrossentropy":
            t = target * (1.0 - a["label_smoothing"]) + 0.5 * a["label_smoothing"]
            if a["from_logits"]:
                return F.binary_cross_entropy_with_logits(pred, t)
            return F.binary_cross_entropy(pred.clamp(eps, 1 - eps), t)
        if kind == "CategoricalCrossentropy":
            t = target * (1.0 - a["label_smoothing"]) + a["label_smoothing"] / pred.shape[1]
            logp = torch.log_softmax(pred, dim=1) if a["from_logits"] else torch.log(pred.clamp(eps, 1.0))
            return -(t * logp).sum(dim=1).mean()
        if kind == "SparseCategoricalCrossentropy":
            logp = torch.log_softmax(pred, dim=1) if a["from_logits"] else torch.log(pred.clamp(eps, 1.0))
            return F.nll_loss(logp, target[:, 0].long(), ignore_index=a["ignore_class"])
        if kind == "Dice":
            return dice(pred, target, a["epsilon"])
        if kind == "BCEDice":
            bce = F.binary_cross_entropy(pred.clamp(eps, 1 - eps), target)
            return a["bce_weight"] * bce + a["dice_weight"] * dice(pred, target, a["epsilon"])
        if kind == "Focal":
            p = torch.sigmoid(pred) if a["from_logits"] else pred.clamp(eps, 1 - eps)
            pt = target * p + (1 - target) * (1 - p)
            w = (1 - pt) ** a["gamma"]
            if a["apply_class_balancing"]:
                w = w * (target * a["alpha"] + (1 - target) * (1 - a["alpha"]))
            return -(w * torch.log(pt.clamp(eps, 1.0))).mean()
        raise ValueError(kind)
    return loss
