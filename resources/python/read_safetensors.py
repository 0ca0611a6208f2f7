"""A safetensors reader without the safetensors package, for the exported scripts."""

import json
import struct

import numpy as np

# --- SegForge embeds the lines below in exported scripts ---


def read_safetensors(path):
    """Returns {name: float32 numpy array} from a safetensors file (no extra package)."""
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {info['dtype']}, expected F32")
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"]).copy()
    return tensors
