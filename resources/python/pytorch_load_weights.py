"""Loads SegForge weights into the PyTorch script's Net, and names its weights as SegForge does."""

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


def segforge_tensors(model):
    """The model's parameters and statistics as SegForge names them ('<layer>/<param>', Keras
    layouts: the reverse of load_weights), as float32 numpy arrays."""
    out = {}
    put = lambda layer, param, t: out.__setitem__(f"{layer}/{param}", t.detach().float().cpu().numpy())
    for name, module in model.layers.items():
        if isinstance(module, (KerasConv2d, KerasConvTranspose2d)):
            put(name, "kernel", module.weight.permute(2, 3, 1, 0))
            if module.bias is not None:
                put(name, "bias", module.bias)
        elif isinstance(module, KerasBatchNorm):
            if module.weight is not None:
                put(name, "gamma", module.weight)
            if module.bias is not None:
                put(name, "beta", module.bias)
            put(name, "moving_mean", module.running_mean)
            put(name, "moving_variance", module.running_var)
        elif hasattr(module, "save_keras"):  # the module writes its own Keras parameters
            module.save_keras(lambda param, t, layer=name: put(layer, param, t))
    return out
