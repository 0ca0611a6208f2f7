"""A safetensors writer without the safetensors package, for the exported scripts:
float32 little-endian tensors, a JSON header (dtype, shape, data_offsets, and
string metadata under "__metadata__") after its 8-byte little-endian length,
padded with spaces to a multiple of 8 as the format recommends. Written to a
temporary file and renamed into place, so a reader never sees half a file.
"""

import json
import os
import struct

import numpy as np

# --- SegForge embeds the lines below in exported scripts ---


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: array} as float32 safetensors at `path`, atomically."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(np.asarray(tensors[name], dtype="<f4"))
        blob = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)
