#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

const char kDatasetOp[] = "Dataset";

OpSchema datasetSchema() {
    OpSchema s;
    s.name = kDatasetOp;
    s.traits.readsDataset = true;
    s.category = "Input";
    s.role = OpRole::Source;
    s.description = "Image/mask pairs read from folders. Its outputs carry the true dtype and "
                    "shape of the data; until data is attached they follow these attributes.";
    s.outputs = {{"image", kAnyDType, "the images, as stored (usually uint8)"},
                 {"mask", kAnyDType, "the masks, as stored (uint8 0/255, or class indices)"}};
    s.attrs = {
        folderAttr("images", "folder of images (relative to the project file)"),
        folderAttr("masks", "folder of masks, paired with images by file name"),
        intAttr("height", 128, 1, 65536, "image height in pixels"),
        intAttr("width", 128, 1, 65536, "image width in pixels"),
        variableSizeAttr(),
        intAttr("channels", 3, 1, 4, "image channels (1 grey, 3 RGB, 4 RGBA)"),
        enumAttr("image_dtype", "uint8", {"uint8", "uint16", "float32"},
                 "element type of the images"),
        intAttr("mask_channels", 1, 1, 4, "mask channels"),
        enumAttr("mask_dtype", "uint8", {"uint8", "uint16", "int32", "float32"},
                 "element type of the masks"),
        intAttr("mask_max", 255, 0, 65535,
                "largest mask value (255 for 0/255 masks, K-1 for class-index masks)"),
        intAttr("batch_size", 8, 1, 65536, "samples per training batch"),
        enumAttr("mask_mode", "as_stored", {"as_stored", "binary", "class_index", "palette"},
                 "how mask pixels become targets: as stored; binary (non-zero → 1); class "
                 "index (first channel); palette (RGB colour → class index; a palette PNG "
                 "keeps its own indices)"),
        enumAttr("size_policy", "exact", {"exact", "resize", "crop_or_pad"},
                 "samples must already be height×width (exact), or are resized / centre-cropped "
                 "and zero-padded to it — never silently"),
        enumAttr("on_error", "skip", {"skip", "stop"},
                 "an unreadable file is skipped and reported, or stops training"),
        stringAttr("mask_suffix", "_mask",
                   "when masks share the images folder: x.png is paired with x<suffix>.png"),
        // Training batches only, seeded: the same seed gives the same augmented samples.
        boolAttr("augment_flips", false,
                 "training: flip image and mask horizontally and vertically, each p = 0.5"),
        boolAttr("augment_rotate90", false,
                 "training: rotate image and mask by k·90° (square samples)"),
        floatAttr("augment_brightness", 0.0, 0.0, 1.0,
                  "training: shift the image by U(−b, b) of its full range (0 = off)"),
        floatAttr("augment_contrast", 0.0, 0.0, 1.0,
                  "training: scale the image about its mean by U(1−c, 1+c) (0 = off)"),
    };
    s.spatial = sourceSpatial;
    s.infer = [](InferContext& ctx) -> InferResult {
        const auto h = ctx.getInt("height");
        const auto w = ctx.getInt("width");
        TensorType image{Shape::image(h, w, ctx.getInt("channels")),
                         *parseDType(ctx.getString("image_dtype"))};
        if (image.dtype == DType::UInt8 || image.dtype == DType::UInt16)
            image.range = ValueRange{0, unsignedMax(image.dtype)};
        TensorType mask{Shape::image(h, w, ctx.getInt("mask_channels")),
                        *parseDType(ctx.getString("mask_dtype"))};
        mask.range = ValueRange{0, static_cast<double>(ctx.getInt("mask_max"))};
        if (ctx.getString("mask_mode") == "binary") {
            mask = TensorType{Shape::image(h, w, 1), DType::UInt8, ValueKind::Unknown,
                              ValueRange{0, 1}};
        } else if (ctx.getString("mask_mode") != "as_stored") {
            mask.shape = Shape::image(h, w, 1);
        }
        return {image, mask};
    };
    s.pytorch.notExportable = export_reason::kSourcePyTorch;
    s.onnx.notExportable = export_reason::kSourceOnnx;
    s.flops.freeBecause = export_reason::kNoArithmetic;
    s.keras.input =
        KerasInput{.dtypeAttr = "image_dtype",
                   .exportNote = "is exported as an InputLayer for its images; the data "
                                 "pipeline is not part of the model"};
    return s;
}

} // namespace segforge::core::ops
