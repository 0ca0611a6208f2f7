"""Loads SegForge weights into the PyTorch script's Net."""

import torch

from pytorch_modules import KerasBatchNorm, KerasConv2d, KerasConvTranspose2d
from read_safetensors import read_safetensors

# --- SegForge embeds the lines below in exported scripts ---


def load_weights(model, path):
    """Copies SegForge weights ('<layer>/<param>', Keras layouts) into the model."""
    tensors = read_safetensors(path)
    get = lambda layer, param: torch.from_numpy(tensors[f"{layer}/{param}"])
    with torch.no_grad():
        for name, module in model.layers.items():
            if isinstance(module, (KerasConv2d, KerasConvTranspose2d)):
                module.weight.copy_(get(name, "kernel").permute(3, 2, 0, 1))
                if module.bias is not None:
                    module.bias.copy_(get(name, "bias"))
            elif isinstance(module, KerasBatchNorm):
                if module.weight is not None:
                    module.weight.copy_(get(name, "gamma"))
                if module.bias is not None:
                    module.bias.copy_(get(name, "beta"))
                module.running_mean.copy_(get(name, "moving_mean"))
                module.running_var.copy_(get(name, "moving_variance"))
            elif hasattr(module, "load_keras"):  # the module reads its own Keras parameters
                module.load_keras(lambda param, layer=name: get(layer, param))
