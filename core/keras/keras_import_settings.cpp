#include "check/valid_input_sizes.hpp"
#include "keras/keras_importer.hpp"
#include "keras/keras_layer_map.hpp"
#include "util/str_cat.hpp"

#include <cmath>
#include <cstdio>

// Decisions the importer takes about the model as a whole, once every layer
// is read: the layout (channels_first is converted), the example size of an
// input whose size Keras leaves free, and what the model says about training
// rather than about the network (a Keras L2 kernel regularizer is a term of
// the loss, which SegForge's training settings can only approximate, as
// weight decay).

namespace segforge::core::interop {

namespace {

/// The optimizer that takes a weight decay in SegForge (SGD and Adam take none).
constexpr const char* kDecayOptimizer = "adamw";
/// "Most" layers: the share of kernels that must carry the one factor.
constexpr double kMostLayers = 0.75;
/// The attribute of the input op that marks its height and width as free.
constexpr const char* kVariableSizeAttr = "variable_size";
/// Deeper than any real model's nesting (each level is a few JSON objects).
constexpr int kMaxScanDepth = 256;

std::string shortNumber(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

} // namespace

bool Importer::usesChannelsFirst(const nlohmann::json& doc, int depth) {
    if (depth > kMaxScanDepth)
        return false;
    if (doc.is_object()) {
        if (auto f = doc.find("data_format"); f != doc.end() && *f == "channels_first")
            return true;
        for (const auto& item : doc.items()) {
            if (item.value().is_structured() && usesChannelsFirst(item.value(), depth + 1))
                return true;
        }
    } else if (doc.is_array()) {
        for (const auto& item : doc) {
            if (item.is_structured() && usesChannelsFirst(item, depth + 1))
                return true;
        }
    }
    return false;
}

void Importer::sizeFreeInputs() {
    if (m_freeSizeInputs.empty())
        return;
    const OpSchema& inputOp = kerasInputOp();
    const bool variable = inputOp.findAttr(kVariableSizeAttr) != nullptr;
    // The example size: the smallest that works from kDefaultImageSize on, per axis.
    std::int64_t height = kDefaultImageSize, width = kDefaultImageSize;
    bool derived = false;
    const InputSizeReport report = validInputSizes(m_graph);
    if (report.applicable) {
        auto h = report.height.sizes.atLeast(kDefaultImageSize);
        auto w = report.width.sizes.atLeast(kDefaultImageSize);
        if (h && w) {
            height = *h;
            width = *w;
            derived = true;
        }
    }
    std::string names;
    for (const FreeSizeInput& in : m_freeSizeInputs) {
        Node* node = m_graph.findNode(in.node);
        if (!node)
            continue;
        if (variable)
            setNonDefaultAttr(*node, kVariableSizeAttr, true);
        // Only the free axes take the example size; a fixed one keeps its value.
        if (in.height)
            setNonDefaultAttr(*node, "height", height);
        if (in.width)
            setNonDefaultAttr(*node, "width", width);
        names += (names.empty() ? "'" : ", '") + node->name + "'";
    }
    const std::string example =
        derived
            ? strCat(height, "×", width, ", the smallest size from ", kDefaultImageSize,
                     " on that the network carries: ", report.height.rule, "; ", report.width.rule)
            : strCat(height, "×", width, " (no working size could be derived)");
    if (variable)
        m_log.note(strCat("input ", names,
                          " has a free height and width (None): the size is kept variable "
                          "(variable_size), wires show it symbolically and any size that "
                          "works may be fed; the example size used for numbers is ",
                          example));
    else
        m_log.warning("", strCat("input ", names,
                                 " has a free height and width (None); SegForge checks concrete "
                                 "sizes and uses ",
                                 example, " — set the real size"));
}

void Importer::mapRegularizers(TrainingSettings& training) {
    std::size_t withL2 = 0;
    std::optional<double> factor;
    bool sameFactor = true;
    std::string warning;
    for (const Regularizable& r : m_regularizable) {
        if (!r.l2)
            continue;
        ++withL2;
        if (!factor) {
            factor = r.l2;
            warning = r.warning;
        } else if (std::abs(*r.l2 - *factor) > 1e-6 * std::abs(*factor)) {
            sameFactor = false;
        }
    }
    if (withL2 == 0)
        return;
    const std::size_t total = m_regularizable.size();
    const std::string counted = strCat(withL2, " of ", total, " layers with kernels");
    if (!sameFactor || static_cast<double>(withL2) < kMostLayers * static_cast<double>(total)) {
        m_log.note(strCat("L2 kernel regularizers on ", counted,
                          sameFactor ? " (too few to stand for the whole network)"
                                     : " with different factors",
                          " are not mapped to weight decay: one decay applies to every "
                          "parameter. Training runs without them"));
        return;
    }
    // Keras adds l2·Σw² to the loss: its gradient is 2·l2·w, which plain SGD
    // applies as a shrink of lr·2·l2 per step. Decoupled decay (AdamW) with
    // weight_decay = 2·l2 shrinks by the same lr·2·l2, but outside the adaptive
    // step and on every parameter.
    const double decay = 2 * *factor;
    training.optimizer = kDecayOptimizer;
    training.weightDecay = decay;
    // The warnings that said the regularizers were ignored no longer hold.
    for (const Regularizable& r : m_regularizable) {
        if (r.l2)
            m_log.drop(r.warning);
    }
    m_log.note(strCat(
        "kernel_regularizer L2(l2=", shortNumber(*factor), ") on ", counted,
        " is mapped to weight decay: the optimizer is set to ", kDecayOptimizer,
        " with weight_decay = 2·l2 = ", shortNumber(decay),
        " (Keras adds l2·Σw² to the loss, whose gradient is 2·l2·w). This is not the same "
        "training: AdamW shrinks every parameter — biases, BatchNorm",
        withL2 < total ? " and the unregularized kernels" : "",
        " too — by lr·weight_decay per step, decoupled from the adaptive step, while Keras' "
        "penalty gradient goes through the optimizer (the two agree only for plain SGD, which "
        "has no weight decay in SegForge). Set the optimizer back to adam to train without it"));
}

} // namespace segforge::core::interop
