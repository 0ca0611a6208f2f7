"""Reads image/mask folders as NHWC numpy batches, for the exported scripts.

The SEGFORGE_* names are placeholders: the exporter writes the project's values
in their place (core/export/script_common.cpp); the defaults below let this
file run on its own.
"""

import os

import numpy as np
from PIL import Image

SEGFORGE_HEIGHT, SEGFORGE_WIDTH, SEGFORGE_CHANNELS, SEGFORGE_CLASSES = 128, 128, 3, 1
SEGFORGE_MASK_SUFFIX, SEGFORGE_MASK_MODE, SEGFORGE_BATCH_SIZE = "_mask", "binary", 8
SEGFORGE_IMAGES, SEGFORGE_MASKS = "images", "masks"
SEGFORGE_TARGET = None  # the target computed from `mask`, by the loss's target layout

# --- SegForge embeds the lines below in exported scripts ---


IMAGE_SIZE = (SEGFORGE_HEIGHT, SEGFORGE_WIDTH)  # height, width
IMAGE_CHANNELS = SEGFORGE_CHANNELS
NUM_CLASSES = SEGFORGE_CLASSES  # channels of the network output
MASK_SUFFIX = SEGFORGE_MASK_SUFFIX
MASK_MODE = SEGFORGE_MASK_MODE
BATCH_SIZE = SEGFORGE_BATCH_SIZE
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def load_pairs(data_dir, images=SEGFORGE_IMAGES, masks=SEGFORGE_MASKS):
    """(image path, mask path) pairs, matched by file stem (a mask may end in MASK_SUFFIX)."""
    image_dir = os.path.join(data_dir, images)
    mask_dir = os.path.join(data_dir, masks)
    masks_by_stem = {}
    for name in os.listdir(mask_dir):
        stem, ext = os.path.splitext(name)
        if ext.lower() in IMAGE_EXTENSIONS:
            if MASK_SUFFIX and stem.endswith(MASK_SUFFIX):
                stem = stem[: -len(MASK_SUFFIX)]
            masks_by_stem[stem] = os.path.join(mask_dir, name)
    pairs = []
    for name in sorted(os.listdir(image_dir)):
        stem, ext = os.path.splitext(name)
        if ext.lower() in IMAGE_EXTENSIONS and stem in masks_by_stem:
            pairs.append((os.path.join(image_dir, name), masks_by_stem[stem]))
    if not pairs:
        raise SystemExit(f"no image/mask pairs in {image_dir} and {mask_dir}")
    return pairs


def load_sample(image_path, mask_path):
    """One (image, target) pair as NHWC-ready arrays: image as stored (uint8), target float32."""
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[IMAGE_CHANNELS]
    image = np.asarray(Image.open(image_path).convert(mode).resize(IMAGE_SIZE[::-1]))
    image = image.reshape(IMAGE_SIZE + (IMAGE_CHANNELS,))
    mask = np.asarray(Image.open(mask_path).resize(IMAGE_SIZE[::-1], Image.NEAREST))
    if mask.ndim == 3:
        mask = mask[..., 0]
    if MASK_MODE == "binary" or (MASK_MODE == "as_stored" and NUM_CLASSES == 1 and mask.max() > 1):
        mask = (mask > 0).astype("float32")
    target = SEGFORGE_TARGET
    return image, target


def batches(pairs, batch_size, shuffle=True, seed=0):
    """Yields (images, targets) numpy batches, NHWC."""
    order = np.random.default_rng(seed).permutation(len(pairs)) if shuffle else np.arange(len(pairs))
    for start in range(0, len(order), batch_size):
        samples = [load_sample(*pairs[i]) for i in order[start : start + batch_size]]
        yield np.stack([s[0] for s in samples]), np.stack([s[1] for s in samples])
