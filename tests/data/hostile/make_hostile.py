#!/usr/bin/env python3
"""Writes the hostile fixtures in this folder: files shaped like an attack or
an accident (deep nesting, bombs declared in headers, invalid UTF-8, absurd
numbers), each small. tests/cli/hostile_inputs_cli_test.cpp reads every file
named in expected.json and demands exactly the located message given there.

Run from anywhere: python3 tests/data/hostile/make_hostile.py
"""
import json
import os
import struct
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def project(body):
    return '{"format": "segforge-project", "version": 1, "name": "hostile",\n' + body + "}\n"


NODES = '"graph": {"nodes": [{"id": 1, "op": "Input", "name": "image"}]}'

# Stack exhaustion: 5,000 levels overflowed the stack under ASan when an
# error message quoted the value; 100,000 without.
write("deep_view.segforge", project(NODES + ',\n"view": ' + "[" * 5000 + "]" * 5000 + "\n"))
write("deep_attr.segforge", project(
    '"graph": {"nodes": [{"id": 1, "op": "Input", "name": "image",\n"attrs": {"height": '
    + "[" * 600 + "1" + "]" * 600 + "}}]}\n"))
# Shallow enough to parse, wrong type: the message quotes an excerpt of it.
write("long_position.segforge", project(
    '"graph": {"nodes": [{"id": 1, "op": "Input", "name": "image",\n"position": '
    + json.dumps({"x": list(range(400)), "y": "\u00e9" * 100}) + "}]}\n"))
# Invalid UTF-8 inside a string and in a syntax error's excerpt.
write("invalid_utf8.segforge", project(NODES[:-3] + ', "note": "\xff\xfe"}]}\n').encode("latin-1"))
write("huge_number.segforge", project(NODES[:-2] + '], "edges": 1e99999}\n'))

keras = {"class_name": "Functional", "config": {"name": "m", "layers": [
    {"class_name": "InputLayer", "name": "in", "config": {"batch_input_shape": [None, 64, 64, 3]},
     "inbound_nodes": []}], "input_layers": [["in", 0, 0]], "output_layers": [["in", 0, 0]]}}
text = json.dumps(keras)
write("deep_keras.json", text.replace('"inbound_nodes": []', '"inbound_nodes": ' + "[" * 3000 + "]" * 3000))
bad_type = json.loads(text)
bad_type["config"]["layers"].append({"class_name": "Conv2D", "name": "conv", "config": {
    "filters": 8, "kernel_size": 3, "activation": ["relu"]}, "inbound_nodes": [[["in", 0, 0, {}]]]})
bad_type["config"]["output_layers"] = [["conv", 0, 0]]
write("activation_list_keras.json", json.dumps(bad_type))


def zip_with(name, entry, payload, declared=None):
    path = os.path.join(HERE, name)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(entry, payload)
    if declared is not None:  # forge the sizes the archive declares for the entry
        data = bytearray(open(path, "rb").read())
        real = struct.pack("<I", len(payload))
        for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            at = data.find(sig)
            assert data[at + offset:at + offset + 4] == real
            data[at + offset:at + offset + 4] = struct.pack("<I", declared)
        open(path, "wb").write(bytes(data))


# A zip bomb: 4 MiB of spaces deflate ~1000:1; a model config deflates ~10:1.
zip_with("bomb_ratio.keras", "config.json", b" " * (4 << 20))
# An entry that declares 2 GiB before anything is inflated.
zip_with("bomb_declared.keras", "config.json", text.encode(), declared=0x7FFFFFFF)


def safetensors(name, header_text):
    header = header_text.encode()
    header += b" " * (-len(header) % 8)
    write(name, struct.pack("<Q", len(header)) + header)


# Weights whose header declares 2^64 elements, and one nested past the limit:
# refused before anything is allocated.
safetensors("huge_shape.safetensors",
            '{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}}')
safetensors("deep_header.safetensors", '{"__metadata__": {"a": ' + "[" * 600 + "]" * 600 + "}}")


def png_declaring(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    idat = zlib.compress(b"\0" * 64)  # far too little for what IHDR declares
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# A data folder whose only pair declares 30000x30000 pixels: named from its
# header, never decoded (it used to cost 5.3 GB and 50 s in check).
for side in ("images", "masks"):
    os.makedirs(os.path.join(HERE, "bomb_data", side), exist_ok=True)
    write(os.path.join("bomb_data", side, "huge.png"), png_declaring(30000, 30000))
