#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

const char kUpSampling2DOp[] = "UpSampling2D";

OpSchema upSampling2dSchema() {
    OpSchema s;
    s.name = kUpSampling2DOp;
    s.traits.resampling = Resampling::Up;
    s.keepsValuesFinite = true;
    s.category = "Resize";
    s.description = "Repeats rows and columns (keras.layers.UpSampling2D): H×size, W×size. "
                    "Bilinear uses half-pixel centres as Keras, or with align_corners the "
                    "corner-aligned grid of PyTorch's align_corners=True.";
    s.inputs = {{"input", kFloatOnly, "N×H×W×C float32"}};
    s.outputs = {{"output", kFloatOnly, "N×H·s×W·s×C float32"}};
    s.attrs = {
        pairAttr("size", 2, 1, 64, "upsampling factor (height, width)"),
        enumAttr("interpolation", "nearest", {"nearest", "bilinear"}, "how new pixels are filled"),
        boolAttr("align_corners", false,
                 "bilinear only: source = dst·(in−1)/(out−1), the corners aligned as PyTorch's "
                 "align_corners=True; false: half-pixel centres as Keras"),
    };
    s.spatial = [](const AttrMap& a, int axis, const SizeExpr& in) {
        return in.times(attrList(a, "size").at(static_cast<std::size_t>(axis)));
    };
    s.infer = [](InferContext& ctx) -> InferResult {
        if (!requireImage(ctx, 0))
            return {std::nullopt};
        if (ctx.getBool("align_corners") && ctx.getString("interpolation") == "nearest") {
            // PyTorch refuses it too: align_corners only means something when interpolating.
            auto& d = ctx.error(codes::kBadAttribute, "",
                                strCat(ctx.label(),
                                       ": align_corners = true needs interpolation = bilinear; "
                                       "nearest copies pixels and has no corners to align "
                                       "(PyTorch raises the same error)"));
            d.fixes.push_back({"Set align_corners to false",
                               {SetAttributeEdit{ctx.node().id, "align_corners", std::nullopt}}});
            return {std::nullopt};
        }
        const auto f = ctx.getPair("size");
        TensorType out = ctx.input(0);
        const Shape& in = out.shape;
        out.shape = Shape::image(in.height() * f[0], in.width() * f[1], in.channels());
        return {out};
    };
    s.keras.forms = {
        {.classes = {"UpSampling2D"},
         .attrs = {{"size", "size", KerasValue::Pair, std::int64_t{2}},
                   {"interpolation", "interpolation", KerasValue::String, std::string("nearest")}},
         // Keras has no align_corners: a node with it has no Keras layer.
         .implies = {{"align_corners", false}},
         .channelsLast = true}};
    s.backwardReads = {.inputs = false, .outputs = false};
    s.recomputable = true;
    s.forward = kernels::upSampling2dForward;
    s.assignsFreshInputGrads = true;
    s.backward = kernels::upSampling2dBackward;
    s.pytorch.module = [](const InteropView& v) {
        const auto& size = v.getList("size");
        if (v.getBool("align_corners") && v.getString("interpolation") == "bilinear")
            return strCat("nn.Upsample(scale_factor=(", size[0], ", ", size[1],
                          "), mode=\"bilinear\", align_corners=True)");
        const bool nearest = v.getString("interpolation") == "nearest";
        return strCat("Lambda(lambda x: F.interpolate(x, scale_factor=(", size[0], ", ", size[1],
                      "), mode=", nearest ? "\"nearest\"" : "\"bilinear\", align_corners=False",
                      "))");
    };
    // Keras: nearest repeats pixels (source = floor(dst / size)); bilinear is
    // tf.image.resize with half-pixel centres; align_corners is ONNX's mode of
    // the same name (source = dst·(in−1)/(out−1)).
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) {
        const auto& size = v.getList("size");
        const std::string scales =
            b.floatConstant(v.name() + "/scales", {4},
                            {1.0f, 1.0f, static_cast<float>(size[0]), static_cast<float>(size[1])});
        std::vector<OnnxAttribute> attrs;
        if (v.getString("interpolation") == "nearest")
            attrs = {{"mode", std::string("nearest")},
                     {"coordinate_transformation_mode", std::string("asymmetric")},
                     {"nearest_mode", std::string("floor")}};
        else
            attrs = {{"mode", std::string("linear")},
                     {"coordinate_transformation_mode",
                      std::string(v.getBool("align_corners") ? "align_corners" : "half_pixel")}};
        b.node("Resize", v.name(), {b.floatInput(0), "", scales}, {b.result()}, attrs);
    };
    s.flops.freeBecause = export_reason::kElementwise;
    return s;
}

} // namespace segforge::core::ops
