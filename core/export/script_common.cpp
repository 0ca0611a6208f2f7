#include "export/script_common.hpp"

#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"
#include "util/version.hpp"

namespace segforge::core::interop {

std::string optimizerCall(const TrainingSettings& t, const std::string& module, const std::string& leadingArgs) {
    if (t.optimizer == "sgd")
        return strCat(module, "SGD(", leadingArgs, ", momentum=", pyFloat(t.momentum), ")");
    if (t.optimizer == "adamw")
        return strCat(module, "AdamW(", leadingArgs, ", weight_decay=", pyFloat(t.weightDecay), ")");
    return strCat(module, "Adam(", leadingArgs, ")");
}

ScriptData scriptDataOf(const Project& project, const ExportGraph& graph) {
    ScriptData d;
    for (const ExportLayer& l : graph.layers) {
        const AttrMap& a = l.attrs;
        if (l.node->op == "Dataset") {
            d.images = std::get<std::string>(a.at("images"));
            d.masks = std::get<std::string>(a.at("masks"));
            d.maskSuffix = std::get<std::string>(a.at("mask_suffix"));
            d.maskMode = std::get<std::string>(a.at("mask_mode"));
            d.batchSize = std::get<std::int64_t>(a.at("batch_size"));
        }
        if (l.isInput()) {
            d.height = std::get<std::int64_t>(a.at("height"));
            d.width = std::get<std::int64_t>(a.at("width"));
            d.channels = std::get<std::int64_t>(a.at("channels"));
        }
    }
    if (!graph.outputs.empty()) {
        for (const ExportLayer& l : graph.layers) {
            if (l.node->name == graph.outputs.front() && l.output && l.output->shape.rank() == 4)
                d.classes = l.output->shape.channels();
        }
    }
    d.oneHot = graph.lossOp == "CategoricalCrossentropy";
    d.sparse = graph.lossOp == "SparseCategoricalCrossentropy";
    if (d.images.empty())
        d.images = "images";
    if (d.masks.empty())
        d.masks = "masks";
    (void)project;
    return d;
}

std::string scriptHeader(const Project& project, const std::string& framework) {
    const bool keras = framework == "keras";
    std::string s = strCat("#!/usr/bin/env python3\n\"\"\"", project.name, " — exported by SegForge ", kVersion, " for ",
                           keras ? "Keras 3" : "PyTorch", ".\n\n",
                           "Builds the network of the SegForge project with the same layer names,\n"
                           "loads SegForge weights (safetensors, '<layer>/<param>') when given, and\n"
                           "trains on image/mask folders paired by file name.\n\n"
                           "    python3 this_script.py --data DATASET_DIR [--weights W] [--epochs N]\n\"\"\"\n\n"
                           "import argparse\nimport json\nimport os\nimport struct\n\n"
                           "import numpy as np\nfrom PIL import Image\n");
    s += keras ? "import keras\nfrom keras import layers, ops\n"
               : "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n";
    s += R"(

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
)";
    return s;
}

std::string scriptDataReader(const ScriptData& d) {
    std::string s = strCat(R"(

IMAGE_SIZE = ()", d.height, ", ", d.width, R"()  # height, width
IMAGE_CHANNELS = )", d.channels, R"(
NUM_CLASSES = )", d.classes, R"(  # channels of the network output
MASK_SUFFIX = )", pythonString(d.maskSuffix), R"(
MASK_MODE = )", pythonString(d.maskMode), R"(
BATCH_SIZE = )", d.batchSize, R"(
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def load_pairs(data_dir, images=)", pythonString(d.images), R"(, masks=)", pythonString(d.masks), R"():
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
    if MASK_MODE == "binary" or (MASK_MODE == "as_stored" and NUM_CLASSES == 1 and mask.max() > 1))",
                           R"(:
        mask = (mask > 0).astype("float32")
)",
                           d.oneHot ? R"(    target = np.eye(NUM_CLASSES, dtype="float32")[mask.astype("int64")]
)"
                           : d.sparse ? R"(    target = mask.astype("float32")[..., None]  # class indices
)"
                                      : R"(    target = np.repeat(mask.astype("float32")[..., None], NUM_CLASSES, axis=-1)
)",
                           R"(    return image, target


def batches(pairs, batch_size, shuffle=True, seed=0):
    """Yields (images, targets) numpy batches, NHWC."""
    order = np.random.default_rng(seed).permutation(len(pairs)) if shuffle else np.arange(len(pairs))
    for start in range(0, len(order), batch_size):
        samples = [load_sample(*pairs[i]) for i in order[start : start + batch_size]]
        yield np.stack([s[0] for s in samples]), np.stack([s[1] for s in samples])
)");
    return s;
}

std::string scriptMain(const Project& project, const std::string& weights, const std::string& body) {
    return strCat(R"(

def main():
    parser = argparse.ArgumentParser(description=)", pythonString("Train " + project.name), R"()
    parser.add_argument("--data", required=True, help="folder holding the image and mask folders")
    parser.add_argument("--weights", default=)", weights.empty() ? std::string("None") : pythonString(weights),
                  R"(, help="SegForge weights, a .safetensors file")
    parser.add_argument("--epochs", type=int, default=)", project.training.epochs, R"()
    parser.add_argument("--lr", type=float, default=)", pyFloat(project.training.learningRate), R"()
    parser.add_argument("--seed", type=int, default=)", project.training.seed, R"()
    args = parser.parse_args()
)", body, R"(

if __name__ == "__main__":
    main()
)");
}

} // namespace segforge::core::interop
