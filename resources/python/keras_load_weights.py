"""Loads SegForge weights into the Keras script's model (PARAMETERS is the script's)."""

from read_safetensors import read_safetensors

PARAMETERS = {}

# --- SegForge embeds the lines below in exported scripts ---


def load_weights(model, path):
    """Copies SegForge weights into the model, layer by layer."""
    tensors = read_safetensors(path)
    for layer_name, names in PARAMETERS.items():
        layer = model.get_layer(layer_name)
        layer.set_weights([tensors[f"{layer_name}/{name}"] for name in names])
