"""The PyTorch script's data: a torch Dataset over an image/mask folder that pairs,
splits, decodes, sizes and augments exactly as SegForge's pipeline does
(core/data/dataset_index.cpp, image_pipeline.cpp, mask_codec.cpp), and the
samplers that reproduce SegForge's batches in one process or spread over
torchrun's processes.

The SEGFORGE_* names are placeholders: the exporter writes the project's
values in their place (core/export/script_common.cpp); the defaults below let
this file run on its own.
"""

import os

import numpy as np
import torch
from PIL import Image

SEGFORGE_HEIGHT, SEGFORGE_WIDTH, SEGFORGE_CHANNELS, SEGFORGE_CLASSES = 128, 128, 3, 1
SEGFORGE_MASK_SUFFIX, SEGFORGE_MASK_MODE, SEGFORGE_BATCH_SIZE = "_mask", "binary", 8
SEGFORGE_SIZE_POLICY, SEGFORGE_VALIDATION_SPLIT = "exact", 0.2
SEGFORGE_FLIPS, SEGFORGE_ROTATE90, SEGFORGE_BRIGHTNESS, SEGFORGE_CONTRAST = False, False, 0.0, 0.0
SEGFORGE_TARGET = "same_channels"  # one_hot, class_index or same_channels: what the loss reads

# --- SegForge embeds the lines below in exported scripts ---


IMAGE_SIZE = (SEGFORGE_HEIGHT, SEGFORGE_WIDTH)  # height, width
IMAGE_CHANNELS = SEGFORGE_CHANNELS
NUM_CLASSES = SEGFORGE_CLASSES  # channels of the network output
MASK_SUFFIX = SEGFORGE_MASK_SUFFIX
MASK_MODE = SEGFORGE_MASK_MODE  # binary, class_index, palette or as_stored
BATCH_SIZE = SEGFORGE_BATCH_SIZE
SIZE_POLICY = SEGFORGE_SIZE_POLICY  # exact, resize or crop_or_pad
VALIDATION_SPLIT = SEGFORGE_VALIDATION_SPLIT
AUGMENT = dict(flips=SEGFORGE_FLIPS, rotate90=SEGFORGE_ROTATE90,
               brightness=SEGFORGE_BRIGHTNESS, contrast=SEGFORGE_CONTRAST)
TARGET_LAYOUT = SEGFORGE_TARGET
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
_U64 = (1 << 64) - 1


class SplitMix:
    """SegForge's SplitMix64 (core/data/image_pipeline.cpp): same seed, same stream."""

    def __init__(self, seed):
        self.state = seed & _U64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & _U64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _U64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _U64
        return z ^ (z >> 31)

    def below(self, n):
        return 0 if n == 0 else self.next() % n

    def uniform(self, lo, hi):
        return lo + (hi - lo) * float(self.next() >> 11) * 2.0 ** -53


def mix(a, b):
    return SplitMix(((a * 0x100000001B3) & _U64) ^ b).next()


def shuffled(values, seed):
    v = list(values)
    rng = SplitMix(seed)
    for i in range(len(v), 1, -1):
        j = rng.below(i)
        v[i - 1], v[j] = v[j], v[i - 1]
    return v


def list_images(folder):
    if not os.path.isdir(folder):
        raise SystemExit(f"folder '{folder}' does not exist")
    return sorted(n for n in os.listdir(folder)
                  if os.path.splitext(n)[1].lower() in IMAGE_EXTENSIONS
                  and os.path.isfile(os.path.join(folder, n)))


def load_pairs(data_dir):
    """(stem, image path, mask path), sorted by stem: DATA/images paired with DATA/masks by
    file stem, a mask named like its image or with MASK_SUFFIX (core/data/dataset_index.cpp)."""
    image_dir, mask_dir = os.path.join(data_dir, "images"), os.path.join(data_dir, "masks")
    images, masks = {}, {}
    for name in list_images(image_dir):
        images.setdefault(os.path.splitext(name)[0], os.path.join(image_dir, name))
    for name in list_images(mask_dir):
        masks.setdefault(os.path.splitext(name)[0], os.path.join(mask_dir, name))
    mask_for = {}
    for stem in sorted(masks):
        key = stem[: -len(MASK_SUFFIX)] if MASK_SUFFIX and len(stem) > len(MASK_SUFFIX) \
            and stem.endswith(MASK_SUFFIX) else stem
        if key not in mask_for or key == stem:
            mask_for[key] = masks[stem]
    pairs = [(stem, images[stem], mask_for[stem]) for stem in sorted(images) if stem in mask_for]
    if not pairs:
        raise SystemExit(f"no image/mask pairs in '{image_dir}' and '{mask_dir}'")
    return pairs


def split_pairs(count, fraction, seed):
    """SegForge's train/validation split: (train indices, validation indices), each sorted."""
    order = shuffled(range(count), mix(seed, 0x5EED5EED))
    n_val = int(np.floor(fraction * count + 0.5))  # std::lround, non-negative
    if fraction > 0 and n_val == 0 and count >= 2:
        n_val = 1
    n_val = min(n_val, count - 1)
    return sorted(order[n_val:]), sorted(order[:n_val])


def epoch_order(train, seed, epoch):
    """The training samples of one epoch, in SegForge's order."""
    return shuffled(sorted(train), mix(seed, 0xE90C0000 + epoch))


def read_image(path):
    """The image as stored (RGB order, its own bit depth), in IMAGE_CHANNELS channels."""
    image = Image.open(path)
    if image.mode == "P":  # OpenCV decodes a palette PNG to its colours
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    a = np.asarray(image)
    if a.ndim == 2:
        a = a[..., None]
    c = a.shape[2]
    if c != IMAGE_CHANNELS:  # as SegForge's batches: grey to RGB(A), RGBA to RGB, RGB to RGBA
        if c == 1 and IMAGE_CHANNELS >= 3:
            a = np.repeat(a, 3, axis=2)
            if IMAGE_CHANNELS == 4:
                a = np.concatenate([a, np.full_like(a[..., :1], 255)], axis=2)
        elif c == 4 and IMAGE_CHANNELS == 3:
            a = a[..., :3]
        elif c == 3 and IMAGE_CHANNELS == 4:
            a = np.concatenate([a, np.full_like(a[..., :1], 255)], axis=2)
        else:
            raise SystemExit(f"image {os.path.basename(path)}: {c} channels, the network reads {IMAGE_CHANNELS}")
    return a


def read_mask(path, palette):
    """The mask as class labels (H, W, 1) by MASK_MODE (core/data/mask_codec.cpp)."""
    image = Image.open(path)
    stored = np.asarray(image)
    if stored.ndim == 2:
        stored = stored[..., None]
    if MASK_MODE == "as_stored":
        return stored
    first = stored[..., :1]
    if MASK_MODE == "palette":
        if stored.shape[2] == 1:
            if not palette:  # no colour masks in the data: the indices (or grey levels) are classes
                return first
            # a palette PNG's indices become its colours; grey level v is the colour (v, v, v)
            colours = np.asarray(image.convert("RGB")) if image.mode == "P" else np.repeat(first, 3, axis=2)
        else:
            if stored.dtype != np.uint8:
                raise SystemExit(f"mask {os.path.basename(path)}: palette masks must be 8-bit")
            colours = stored[..., :3] if stored.shape[2] >= 3 else np.repeat(first, 3, axis=2)
        keys = (colours[..., 0].astype(np.int64) << 16) | (colours[..., 1].astype(np.int64) << 8) | colours[..., 2]
        lookup = {(r << 16) | (g << 8) | b: k for k, (r, g, b) in enumerate(palette)}
        out = np.zeros(keys.shape, dtype=np.uint8)
        for key in np.unique(keys):
            if int(key) not in lookup:
                raise SystemExit(f"mask {os.path.basename(path)}: colour #{int(key):06x} is not in the palette")
            out[keys == key] = lookup[int(key)]
        return out[..., None]
    if MASK_MODE == "class_index":
        return first
    # binary: any of the first three channels non-zero is foreground
    return (stored[..., :3] != 0).any(axis=2, keepdims=True).astype(np.uint8)


def mask_palette(pairs):
    """Palette mode's colours: every colour of every 8-bit colour mask, sorted (SegForge's full
    probe, core/data/data_probe.cpp; grey and palette-PNG masks hold indices and add none)."""
    if MASK_MODE != "palette":
        return []
    colours = set()
    for _, _, mask_path in pairs:
        image = Image.open(mask_path)
        if image.mode not in ("RGB", "RGBA"):
            continue
        a = np.asarray(image)[..., :3].reshape(-1, 3)
        colours.update(map(tuple, np.unique(a, axis=0).tolist()))
        if len(colours) > 256:
            raise SystemExit("palette masks with more than 256 colours")
    return sorted(colours)


def nearest_resize(a, height, width):
    """cv::resize INTER_NEAREST: source pixel floor(dst · src / dst)."""
    ys = np.minimum((np.arange(height) * (a.shape[0] / height)).astype(np.int64), a.shape[0] - 1)
    xs = np.minimum((np.arange(width) * (a.shape[1] / width)).astype(np.int64), a.shape[1] - 1)
    return a[ys][:, xs]


def centre_fit(a, height, width):
    """Centre crop, then zero-pad, to height × width."""
    ch, cw = min(height, a.shape[0]), min(width, a.shape[1])
    y0, x0 = (a.shape[0] - ch) // 2, (a.shape[1] - cw) // 2
    out = np.zeros((height, width) + a.shape[2:], dtype=a.dtype)
    top, left = (height - ch) // 2, (width - cw) // 2
    out[top : top + ch, left : left + cw] = a[y0 : y0 + ch, x0 : x0 + cw]
    return out


def bring_to_size(image, mask, name):
    h, w = IMAGE_SIZE
    if SIZE_POLICY == "resize":
        if image.shape[:2] != (h, w):  # INTER_AREA ≈ PIL's box filter
            resized = [np.asarray(Image.fromarray(image[..., c]).resize((w, h), Image.BOX))
                       for c in range(image.shape[2])]
            image = np.stack(resized, axis=2)
        if mask.shape[:2] != (h, w):
            mask = nearest_resize(mask, h, w)
    elif SIZE_POLICY == "crop_or_pad":
        image, mask = centre_fit(image, h, w), centre_fit(mask, h, w)
    elif image.shape[:2] != (h, w) or mask.shape[:2] != (h, w):
        raise SystemExit(f"image {name}: image {image.shape[0]}×{image.shape[1]}, mask "
                         f"{mask.shape[0]}×{mask.shape[1]}, but every sample must be {h}×{w} "
                         "(size_policy 'exact')")
    return image, mask


def augment(image, mask, rng):
    """SegForge's augmentations with its random stream (image_pipeline.cpp, augment())."""
    if AUGMENT["flips"]:
        h, v = rng.next() & 1, rng.next() & 1
        if h:
            image, mask = image[:, ::-1], mask[:, ::-1]
        if v:
            image, mask = image[::-1], mask[::-1]
    if AUGMENT["rotate90"] and image.shape[0] == image.shape[1]:
        k = rng.below(4)  # 1: 90° clockwise, 2: 180°, 3: 90° counter-clockwise
        if k:
            image, mask = np.rot90(image, -k), np.rot90(mask, -k)
    if AUGMENT["brightness"] > 0 or AUGMENT["contrast"] > 0:
        c, b = AUGMENT["contrast"], AUGMENT["brightness"]
        gain = rng.uniform(1 - c, 1 + c) if c > 0 else 1.0
        full = 255.0 if image.dtype == np.uint8 else (65535.0 if image.dtype == np.uint16 else 1.0)
        shift = rng.uniform(-b, b) * full if b > 0 else 0.0
        means = image.reshape(-1, image.shape[2]).mean(axis=0, dtype=np.float64)
        centre = float(means[:3].sum()) / min(3, image.shape[2])
        out = image.astype(np.float64) * gain + ((1 - gain) * centre + shift)
        if image.dtype != np.float32:
            info = np.iinfo(image.dtype)
            out = np.clip(np.rint(out), info.min, info.max)
        image = out.astype(image.dtype)
    return np.ascontiguousarray(image), np.ascontiguousarray(mask)


def target_of(labels):
    """What the loss reads, NCHW-ready (C, H, W) float32, from the label map (H, W, 1)."""
    mask = labels[..., 0]
    if MASK_MODE == "as_stored" and NUM_CLASSES == 1 and mask.max() > 1:
        mask = mask > 0  # 0/255 masks as 0/1 (the project's Rescale of the mask)
    if TARGET_LAYOUT == "one_hot":
        t = np.eye(NUM_CLASSES, dtype=np.float32)[mask.astype(np.int64)]
        return torch.from_numpy(np.ascontiguousarray(t.transpose(2, 0, 1)))
    if TARGET_LAYOUT == "class_index":
        return torch.from_numpy(mask.astype(np.float32)[None])
    t = np.repeat(mask.astype(np.float32)[None], NUM_CLASSES, axis=0)
    return torch.from_numpy(np.ascontiguousarray(t))


class SegForgeDataset(torch.utils.data.Dataset):
    """Samples of one split: (image uint8 CHW tensor, target float32 CHW tensor).

    Item i is pair `indices[i]`. A training dataset augments with the stream
    SegForge seeds from (seed, epoch, pair); set_epoch() picks the epoch.
    """

    def __init__(self, pairs, indices, seed, train, palette=()):
        self.pairs, self.indices, self.seed, self.train = pairs, list(indices), seed, train
        self.palette, self.epoch = list(palette), 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        pair = self.indices[i]
        stem, image_path, mask_path = self.pairs[pair]
        image, mask = bring_to_size(read_image(image_path), read_mask(mask_path, self.palette),
                                    os.path.basename(image_path))
        if self.train:
            image, mask = augment(image, mask, SplitMix(mix(mix(self.seed, self.epoch), pair)))
        image = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
        return image, target_of(mask)


class SegForgeSampler(torch.utils.data.distributed.DistributedSampler):
    """A DistributedSampler whose epoch order is SegForge's (seed, epoch): global batch k is
    order[k·B : (k+1)·B] with B = batch_size, and process r of W takes the r-th of its W
    equal slices, so W processes see together what one process sees alone. The last partial
    batch is dropped, as SegForge's trainer drops it."""

    def __init__(self, dataset, batch_size, seed, num_replicas=1, rank=0):
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=False, seed=seed)
        # Fewer samples than a batch: SegForge trains on one smaller batch.
        self.batch_size = min(batch_size, len(dataset))
        if self.batch_size % num_replicas:
            raise SystemExit(f"a batch of {self.batch_size} does not split over {num_replicas} "
                             f"processes; give --batch-size a multiple of {num_replicas}")
        self.local = self.batch_size // num_replicas
        self.batches = len(dataset) // self.batch_size
        self.num_samples = self.batches * self.local
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        order = epoch_order(range(len(self.dataset)), self.seed, self.epoch)
        for k in range(self.batches):
            start = k * self.batch_size + self.rank * self.local
            yield from order[start : start + self.local]

    def __len__(self):
        return self.num_samples


def validation_batches(count, batch_size, rank=0, world=1):
    """SegForge's validation batches (its order, the last one may be smaller), whole batches
    dealt to the processes in turn: each batch's metrics are what SegForge computes for it."""
    batches = [list(range(s, min(s + batch_size, count))) for s in range(0, count, batch_size)]
    return batches[rank::world]
