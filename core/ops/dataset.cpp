#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

OpSchema datasetSchema() {
    OpSchema s;
    s.name = "Dataset";
    s.category = "Input";
    s.role = OpRole::Source;
    s.description = "Image/mask pairs read from folders. Its outputs carry the true dtype and "
                    "shape of the data; until data is attached they follow these attributes.";
    s.outputs = {{"image", kAnyDType, "the images, as stored (usually uint8)"},
                 {"mask", kAnyDType, "the masks, as stored (uint8 0/255, or class indices)"}};
    s.attrs = {
        stringAttr("images", "", "folder of images (relative to the project file)"),
        stringAttr("masks", "", "folder of masks, paired with images by file name"),
        intAttr("height", 128, 1, 65536, "image height in pixels"),
        intAttr("width", 128, 1, 65536, "image width in pixels"),
        intAttr("channels", 3, 1, 4, "image channels (1 grey, 3 RGB, 4 RGBA)"),
        enumAttr("image_dtype", "uint8", {"uint8", "float32"}, "element type of the images"),
        intAttr("mask_channels", 1, 1, 4, "mask channels"),
        enumAttr("mask_dtype", "uint8", {"uint8", "int32", "float32"}, "element type of the masks"),
        intAttr("mask_max", 255, 0, 65535,
                "largest mask value (255 for 0/255 masks, K-1 for class-index masks)"),
        intAttr("batch_size", 8, 1, 65536, "samples per training batch"),
    };
    s.infer = [](InferContext& ctx) -> InferResult {
        const auto h = ctx.getInt("height");
        const auto w = ctx.getInt("width");
        TensorType image{Shape::image(h, w, ctx.getInt("channels")),
                         *parseDType(ctx.getString("image_dtype"))};
        if (image.dtype == DType::UInt8)
            image.range = ValueRange{0, 255};
        TensorType mask{Shape::image(h, w, ctx.getInt("mask_channels")),
                        *parseDType(ctx.getString("mask_dtype"))};
        mask.range = ValueRange{0, static_cast<double>(ctx.getInt("mask_max"))};
        return {image, mask};
    };
    return s;
}

} // namespace segforge::core::ops
