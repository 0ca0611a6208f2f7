#include "templates/unet_template.hpp"

#include "layout/graph_layout.hpp"
#include "ops/builtin_ops.hpp"
#include "util/str_cat.hpp"

namespace segforge::core {
namespace {

constexpr double kColumn = 300; // node width + room for the wire's type label
constexpr double kLevel = 170;  // canvas drop per U-Net level

/// Builds the graph column by column so the saved layout reads as a U.
class UNetBuilder {
public:
    explicit UNetBuilder(const UNetOptions& o)
        : m_o(o) {}

    Project build() {
        Project p;
        p.name = strCat("U-Net depth ", m_o.depth, ", ", m_o.filters, " filters, ", m_o.size, "×",
                        m_o.size);
        const bool binary = m_o.classes == 1;
        NodeId data = add(ops::kDatasetOp, "data", 0,
                          {{"images", std::string("data/images")},
                           {"masks", std::string("data/masks")},
                           {"height", std::int64_t{m_o.size}},
                           {"width", std::int64_t{m_o.size}},
                           {"channels", std::int64_t{m_o.channels}},
                           {"mask_max", std::int64_t{binary ? 255 : m_o.classes - 1}},
                           {"batch_size", std::int64_t{8}}});
        PortRef x =
            next(ops::kRescaleOp, "scale_image", 0, {{"scale", 1.0 / 255.0}}, {data, "image"});

        std::vector<PortRef> skips;
        for (int level = 0; level < m_o.depth; ++level) {
            x = convBlock(strCat("enc", level + 1), filtersAt(level), level, x);
            skips.push_back(x);
            x = next(ops::kMaxPool2DOp, strCat("enc", level + 1, "_pool"), level + 1, {}, x);
        }
        x = convBlock("bottleneck", filtersAt(m_o.depth), m_o.depth, x);
        for (int level = m_o.depth - 1; level >= 0; --level) {
            const std::string prefix = strCat("dec", level + 1);
            if (m_o.up == UNetOptions::Up::Transpose) {
                x = next(ops::kConv2DTransposeOp, prefix + "_up", level,
                         {{"filters", std::int64_t{filtersAt(level)}},
                          {"kernel_size", std::int64_t{2}},
                          {"strides", std::int64_t{2}},
                          {"padding", std::string("same")}},
                         x);
            } else {
                x = next(ops::kUpSampling2DOp, prefix + "_up", level, {{"size", std::int64_t{2}}},
                         x);
                if (m_o.up == UNetOptions::Up::UpsampleConv)
                    x = next(ops::kConv2DOp, prefix + "_upconv", level,
                             {{"filters", std::int64_t{filtersAt(level)}},
                              {"kernel_size", std::int64_t{3}},
                              {"padding", std::string("same")},
                              {"activation", std::string("relu")},
                              {"kernel_initializer", std::string("he_normal")}},
                             x);
            }
            NodeId concat = add(ops::kConcatenateOp, prefix + "_concat", level, {});
            m_graph.connect(skips[static_cast<std::size_t>(level)], {concat, "a"});
            m_graph.connect(x, {concat, "b"});
            x = convBlock(prefix, filtersAt(level), level, {concat, "output"});
        }
        PortRef prediction = next(ops::kConv2DOp, "output", 0,
                                  {{"filters", std::int64_t{m_o.classes}},
                                   {"kernel_size", std::int64_t{1}},
                                   {"activation", std::string(binary ? "sigmoid" : "softmax")}},
                                  x);

        // Targets: 0/255 masks scaled to 0/1 for the binary losses; class indices as they are.
        PortRef target{data, "mask"};
        const double lossY = -kLevel;
        if (binary) {
            NodeId scaleMask =
                m_graph.addNode(ops::kRescaleOp, "scale_mask", {{"scale", 1.0 / 255.0}},
                                {m_column * kColumn, lossY});
            m_graph.connect({data, "mask"}, {scaleMask, "input"});
            target = {scaleMask, "output"};
        }
        ++m_column;
        auto head = [&](const std::string& op, const std::string& name, double y, AttrMap attrs) {
            NodeId id = m_graph.addNode(op, name, std::move(attrs), {m_column * kColumn, y});
            m_graph.connect(prediction, {id, "prediction"});
            m_graph.connect(target, {id, "target"});
        };
        head(binary ? ops::kBCEDiceOp : ops::kSparseCategoricalCrossentropyOp, "loss", lossY, {});
        head(ops::kDiceCoefficientOp, "dice", lossY + 110, {});
        head(ops::kIoUOp, "iou", lossY + 220, {});
        addLevelGroups();
        // The columns above are a first draft; the U comes from the types.
        (void)applyEdits(m_graph, layoutGraph(m_graph)); // moves of existing nodes cannot fail
        p.graph = std::move(m_graph);
        return p;
    }

private:
    int filtersAt(int level) const { return m_o.filters << level; }

    NodeId add(const std::string& op, const std::string& name, int level, AttrMap attrs) {
        return m_graph.addNode(op, name, std::move(attrs), {m_column++ * kColumn, level * kLevel});
    }

    PortRef next(const std::string& op, const std::string& name, int level, AttrMap attrs,
                 const PortRef& from) {
        NodeId id = add(op, name, level, std::move(attrs));
        m_graph.connect(from, {id, "input"});
        return {id, "output"};
    }

    /// Two 3×3 'same' convolutions, with BatchNorm + ReLU after each when asked.
    PortRef convBlock(const std::string& prefix, int filters, int level, PortRef x) {
        for (int i = 1; i <= 2; ++i) {
            AttrMap conv{{"filters", std::int64_t{filters}},
                         {"kernel_size", std::int64_t{3}},
                         {"padding", std::string("same")},
                         {"kernel_initializer", std::string("he_normal")}};
            if (m_o.batchnorm) {
                conv["use_bias"] = false; // BatchNorm's beta replaces the bias
                x = next(ops::kConv2DOp, strCat(prefix, "_conv", i), level, conv, x);
                x = next(ops::kBatchNormalizationOp, strCat(prefix, "_bn", i), level, {}, x);
                x = next(ops::kActivationOp, strCat(prefix, "_relu", i), level,
                         {{"activation", std::string("relu")}}, x);
            } else {
                conv["activation"] = std::string("relu");
                x = next(ops::kConv2DOp, strCat(prefix, "_conv", i), level, conv, x);
            }
        }
        return x;
    }

    /// One group per level, named like its nodes' prefix (enc1 holds enc1_conv1,
    /// enc1_conv2, enc1_pool…), in reading order: enc1…encN, bottleneck, decN…dec1.
    void addLevelGroups() {
        std::vector<std::string> names;
        for (int level = 1; level <= m_o.depth; ++level)
            names.push_back(strCat("enc", level));
        names.push_back("bottleneck");
        for (int level = m_o.depth; level >= 1; --level)
            names.push_back(strCat("dec", level));
        for (const std::string& name : names) {
            Group group;
            group.name = name;
            const std::string prefix = name + "_";
            for (const auto& [id, node] : m_graph.nodes())
                if (node.name.starts_with(prefix))
                    group.members.insert(id);
            m_graph.addGroup(std::move(group));
        }
    }

    const UNetOptions& m_o;
    Graph m_graph;
    int m_column = 0;
};

} // namespace

std::string_view upModeName(UNetOptions::Up up) {
    switch (up) {
    case UNetOptions::Up::Upsample:
        return "upsample";
    case UNetOptions::Up::Transpose:
        return "transpose";
    case UNetOptions::Up::UpsampleConv:
        return "upsample_conv";
    }
    return "transpose";
}

std::optional<UNetOptions::Up> parseUpMode(std::string_view text) {
    for (auto up :
         {UNetOptions::Up::Upsample, UNetOptions::Up::Transpose, UNetOptions::Up::UpsampleConv})
        if (upModeName(up) == text)
            return up;
    return std::nullopt;
}

std::variant<Project, std::string> makeUNetProject(const UNetOptions& o) {
    if (o.depth < 1 || o.depth > 6)
        return strCat("depth ", o.depth, " is out of range [1, 6]");
    if (o.filters < 1 || o.filters > 1024)
        return strCat("filters ", o.filters, " is out of range [1, 1024]");
    if (o.channels < 1 || o.channels > 4)
        return strCat("channels ", o.channels, " is out of range [1, 4]");
    if (o.classes < 1 || o.classes > 256)
        return strCat("classes ", o.classes, " is out of range [1, 256]");
    const int multiple = 1 << o.depth;
    if (o.size < multiple || o.size > 8192 || o.size % multiple != 0) {
        const int below = std::max(multiple, o.size / multiple * multiple);
        return strCat("size ", o.size, " cannot pass through ", o.depth,
                      " poolings and back: it must be a multiple of 2^", o.depth, " = ", multiple,
                      " (try ", below, " or ", below + multiple, ")");
    }
    return UNetBuilder(o).build();
}

} // namespace segforge::core
