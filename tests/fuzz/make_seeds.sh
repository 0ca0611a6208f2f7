#!/usr/bin/env bash
# Regenerates the seed corpora of the safetensors and checkpoint fuzz targets
# (tests/fuzz/safetensors/ and tests/fuzz/checkpoint/): files the program
# itself writes (a weights file and checkpoints of the small U-Net that
# checkpoint_fuzz.cpp loads into: depth 1, 2 filters, 16×16, 2 batches per
# epoch) plus hand-made hostile variants of each. Inputs a fuzzer found (crash-*,
# named by what they found) are kept beside them and not touched here.
#
# usage: tests/fuzz/make_seeds.sh [SEGFORGE_CLI]   (default: build/test/app/segforge-cli)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cli=$(realpath "${1:-$here/../../build/test/app/segforge-cli}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$cli" sample-data --count 5 --size 16 --seed 4 -o "$tmp/data" >/dev/null
"$cli" template unet --depth 1 --filters 2 --size 16 -o "$tmp/tiny.segforge" >/dev/null
"$cli" train "$tmp/tiny.segforge" --epochs 2 --batch 2 --threads 1 --out "$tmp/run" >/dev/null

python3 - "$tmp" "$here" <<'EOF'
import json, math, struct, sys
from pathlib import Path

tmp, here = Path(sys.argv[1]), Path(sys.argv[2])

def split(blob):
    n = struct.unpack('<Q', blob[:8])[0]
    return json.loads(blob[8:8 + n]), blob[8 + n:]

def join(header, data=b''):
    text = header if isinstance(header, str) else json.dumps(header, separators=(',', ':'))
    raw = text.encode()
    raw += b' ' * (-len(raw) % 8)
    return struct.pack('<Q', len(raw)) + raw + data

def write(folder, name, blob):
    (here / folder).mkdir(exist_ok=True)
    (here / folder / name).write_bytes(blob)

# --- safetensors ---------------------------------------------------------
weights = (tmp / 'run' / 'weights.safetensors').read_bytes()
write('safetensors', 'valid_unet_weights.safetensors', weights)
f32 = lambda *v: struct.pack('<%df' % len(v), *v)
t = lambda shape, b, e: {'dtype': 'F32', 'shape': shape, 'data_offsets': [b, e]}
write('safetensors', 'valid_two_tensors.safetensors',
      join({'__metadata__': {'format': 'segforge'}, 'a': t([2, 2], 0, 16), 'b': t([1], 16, 20)},
           f32(1, 2, 3, 4, 5)))
write('safetensors', 'valid_empty.safetensors', join('{}'))
write('safetensors', 'valid_zero_size.safetensors', join({'e': t([0, 3], 0, 0), 'x': t([], 0, 4)}, f32(1)))
write('safetensors', 'bad_huge_shape.safetensors', join({'a': t([10**12], 0, 4)}, f32(0)))
write('safetensors', 'bad_overflowing_shape.safetensors', join({'a': t([2**32, 2**32], 0, 0)}))
write('safetensors', 'bad_overflow_before_zero.safetensors', join({'a': t([2**62, 2**62, 0], 0, 0)}))
write('safetensors', 'bad_negative_dim.safetensors', join({'a': t([2, -3], 0, 0)}))
write('safetensors', 'bad_offsets_out_of_range.safetensors', join({'a': t([2], 0, 4000)}, f32(1, 2)))
write('safetensors', 'bad_overlap.safetensors', join({'a': t([2], 0, 8), 'b': t([2], 4, 12)}, f32(1, 2, 3)))
write('safetensors', 'bad_hole.safetensors', join({'a': t([1], 0, 4), 'b': t([1], 8, 12)}, f32(1, 2, 3)))
write('safetensors', 'bad_byte_count.safetensors', join({'a': t([2, 3], 0, 20)}, f32(1, 2, 3, 4, 5)))
write('safetensors', 'bad_not_object.safetensors', join('[1,2,3]'))
write('safetensors', 'bad_deep_nesting.safetensors', join('{"a":' + '[' * 600 + ']' * 600 + '}'))
write('safetensors', 'bad_metadata_number.safetensors', join({'__metadata__': {'format': 3}}))
write('safetensors', 'bad_dtype_f16.safetensors', join({'a': {'dtype': 'F16', 'shape': [2], 'data_offsets': [0, 4]}}, b'\0' * 4))
write('safetensors', 'bad_header_length.safetensors', struct.pack('<Q', 2**63) + b'{}')

# --- checkpoints ---------------------------------------------------------
ckpt = (tmp / 'run' / 'checkpoint.safetensors').read_bytes()
header, data = split(ckpt)
write('checkpoint', 'valid_finished_epoch2.safetensors', ckpt)

def variant(name, meta=None, drop=None, patch=None):
    h = json.loads(json.dumps(header))
    d = bytearray(data)
    for k, v in (meta or {}).items():
        h['__metadata__'][k] = v
    for k in drop or []:
        del h['__metadata__'][k]
    if patch:
        patch(h, d)
    write('checkpoint', name, join(h, bytes(d)))

# A valid mid-epoch position: epoch 1, batch 1 (step 3), with the sums of one batch.
project = json.loads((tmp / 'tiny.segforge').read_text())
metrics = [n['name'] for n in project['graph']['nodes'] if n['op'] in ('DiceCoefficient', 'IoU')]
mid = {'epoch': '1', 'batch': '1', 'step': '3', 'optimizer_iterations': '3', 'batches': '1',
       'loss_sum': '0x1.8p-1', 'ms_sum': '0x1p+2', 'seconds': '0x1p-3'}
mid.update({'metric_sum/' + m: '0x1p-2' for m in metrics})
variant('valid_mid_epoch.safetensors', mid)
variant('bad_epoch_nan.safetensors', {'epoch': 'nan'})
variant('bad_epoch_int_overflow.safetensors', {'epoch': '2147483648'})
variant('bad_epoch_negative.safetensors', {'epoch': '-5'})
variant('bad_epoch_beyond_run.safetensors', {'epoch': '99'})
variant('bad_batch_negative.safetensors', {'batch': '-1'})
variant('bad_step_mismatch.safetensors', {'step': '5'})
variant('bad_iterations_nan.safetensors', {'optimizer_iterations': 'nan'})
variant('bad_loss_sum_inf.safetensors', {'loss_sum': 'inf'})
variant('bad_missing_epoch.safetensors', drop=['epoch'])
variant('bad_metadata_not_string.safetensors', {'epoch': 2})

def nan_in_first(h, d):
    name = min(k for k in h if k != '__metadata__' and not k.startswith('optimizer/'))
    b = h[name]['data_offsets'][0]
    d[b:b + 4] = struct.pack('<f', math.nan)
variant('bad_parameter_nan.safetensors', patch=nan_in_first)

def negative_v(h, d):
    b = h['optimizer/v/0']['data_offsets'][0]
    d[b:b + 4] = struct.pack('<f', -1.0)
variant('bad_negative_second_moment.safetensors', patch=negative_v)
EOF
ls "$here/safetensors" "$here/checkpoint" | wc -l
