#include "ops/loss_common.hpp"

#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "ops/op_registry.hpp"
#include "util/str_cat.hpp"

#include <cmath>

namespace segforge::core::ops {
namespace {

std::string channelsText(std::int64_t c) {
    return strCat(c, c == 1 ? " channel" : " channels");
}

/// Fix that makes the prediction's producer use `activation`.
FixIt activationFix(const InferContext& ctx, const std::string& activation) {
    const Node* producer = producerOfInput(ctx, 0, /*skipPassThrough=*/true);
    if (producer && traitsOf(*producer).activation != ActivationUse::None) {
        return {strCat("Set activation='", activation, "' on '", producer->name, "'"),
                {SetAttributeEdit{producer->id, "activation", AttrValue{activation}}}};
    }
    return insertOnInputFix(
        ctx, 0, makeNode(kActivationOp, activation, {{"activation", activation}}),
        strCat("Insert Activation(", activation, ") before '", ctx.node().name, "'"));
}

void checkPredictionKind(InferContext& ctx, bool& ok) {
    const OpSchema& schema = ctx.schema();
    const bool hasLogitsFlag = schema.findAttr("from_logits") != nullptr;
    const TensorType& p = ctx.input(0);
    const ValueKind want = schema.contract->prediction;
    const Node* producer = producerOfInput(ctx, 0, true);
    const std::string from = producer ? strCat(" from '", producer->name, "'") : std::string();
    if (hasLogitsFlag && ctx.getBool("from_logits")) {
        // The loss applies the activation itself: one already applied is
        // applied twice, squashing the gradients (TensorFlow: "Do not call
        // this op with the output of softmax, as it will produce incorrect results").
        if (p.kind == ValueKind::Unknown)
            return;
        const char* applied = p.kind == ValueKind::Distribution ? "softmax" : "sigmoid";
        auto& d = ctx.warning(
            codes::kLossActivation, "prediction",
            strCat(ctx.label(), " has from_logits=true, so it applies ",
                   want == ValueKind::Distribution ? "a softmax" : "a sigmoid",
                   " itself, but the prediction", from, " is already a ", applied,
                   " output: the activation is applied twice, the gradients shrink and the loss "
                   "stalls"));
        FixIt logitsOff{"Set from_logits=false on '" + ctx.node().name + "'",
                        {SetAttributeEdit{ctx.node().id, "from_logits", AttrValue{false}}}};
        logitsOff.rank = FixRank::Cause;
        logitsOff.reason = strCat("the prediction is already probabilities; the loss must read "
                                  "them as they are");
        d.fixes.push_back(std::move(logitsOff));
        return;
    }

    auto logitsFix = [&]() {
        return FixIt{"Set from_logits=true on '" + ctx.node().name + "'",
                     {SetAttributeEdit{ctx.node().id, "from_logits", AttrValue{true}}}};
    };

    if (want == ValueKind::Probability) {
        if (p.kind == ValueKind::Distribution) {
            if (p.shape.channels() == 1) {
                ok = false;
                auto& d = ctx.error(codes::kLossChannelMismatch, "prediction",
                                    strCat(ctx.label(), ": the prediction", from,
                                           " is a softmax over 1 channel, which is always 1.0 — "
                                           "the loss cannot decrease. Use sigmoid for one class."));
                d.fixes.push_back(activationFix(ctx, "sigmoid"));
            } else if (ctx.node().op != kDiceOp) {
                // Dice reads each channel's overlap: a softmax's channels are
                // probabilities too, and for K exclusive classes the right ones
                // (a sigmoid on a K-class head would not be).
                auto& d = ctx.warning(
                    codes::kLossActivation, "prediction",
                    strCat(ctx.label(),
                           " expects independent per-channel probabilities (sigmoid), "
                           "but the prediction",
                           from, " is a softmax over ", channelsText(p.shape.channels()),
                           ", which couples the channels"));
                d.fixes.push_back(activationFix(ctx, "sigmoid"));
            }
        } else if (p.kind != ValueKind::Probability) {
            auto& d = ctx.warning(
                codes::kLossActivation, "prediction",
                strCat(ctx.label(), " expects probabilities in [0, 1], but the prediction", from,
                       " is not a sigmoid output (unbounded logits): the loss will be wrong or NaN",
                       hasLogitsFlag ? ". Add a sigmoid or set from_logits=true" : ""));
            d.fixes.push_back(activationFix(ctx, "sigmoid"));
            if (hasLogitsFlag)
                d.fixes.push_back(logitsFix());
        }
    } else if (want == ValueKind::Distribution) {
        if (p.kind == ValueKind::Distribution && p.shape.channels() == 1) {
            ok = false;
            auto& d = ctx.error(
                codes::kLossChannelMismatch, "prediction",
                strCat(ctx.label(), ": the prediction", from,
                       " is a softmax over 1 channel, which is always 1.0 — the loss cannot "
                       "decrease. A softmax needs one channel per class (2 or more); for one "
                       "foreground class use a sigmoid and a binary loss"));
            // One class: sigmoid and BinaryCrossentropy (same wires; the
            // attributes both have are kept, the others dropped).
            FixIt binary = activationFix(ctx, "sigmoid");
            binary.description +=
                strCat(" and change '", ctx.node().name, "' to ", kBinaryCrossentropyOp);
            const EditScript change = changeOpEdits(ctx.node(), kBinaryCrossentropyOp);
            binary.edits.insert(binary.edits.end(), change.begin(), change.end());
            binary.rank = FixRank::Cause;
            binary.reason = "one output channel is one class: a sigmoid scores it";
            d.fixes.push_back(std::move(binary));
        } else if (p.kind == ValueKind::Probability && p.shape.channels() > 1) {
            auto& d = ctx.warning(codes::kLossActivation, "prediction",
                                  strCat(ctx.label(),
                                         " expects a softmax over the classes, but the "
                                         "prediction",
                                         from, " is a sigmoid"));
            d.fixes.push_back(activationFix(ctx, "softmax"));
        } else if (p.kind == ValueKind::Unknown) {
            auto& d = ctx.warning(codes::kLossActivation, "prediction",
                                  strCat(ctx.label(),
                                         " expects a softmax over the classes, but the "
                                         "prediction",
                                         from, " is not a softmax output (logits)"));
            d.fixes.push_back(activationFix(ctx, "softmax"));
            if (hasLogitsFlag)
                d.fixes.push_back(logitsFix());
        }
    }
}

/// Class-index masks (values 0..K−1) reaching a loss that reads per-channel
/// values: the loss, not the head, is what does not fit the data. True when
/// reported (the prediction's activation is then part of the same repair).
bool checkClassIndexTarget(InferContext& ctx, bool& ok) {
    const OpSchema& schema = ctx.schema();
    if (schema.role != OpRole::Loss || schema.contract->layout == TargetLayout::ClassIndex ||
        !ctx.inputEdge(1))
        return false;
    const TensorType& p = ctx.input(0);
    const TensorType& t = ctx.input(1);
    if (t.shape.channels() != 1 || p.shape.channels() < 2)
        return false;
    const ClassIndexTarget target = classIndexTarget(ctx.graph(), ctx.inputEdge(1)->from, t);
    if (!target.indices)
        return false;
    ok = false;
    auto& d = ctx.error(
        codes::kLossChannelMismatch, "target",
        strCat(ctx.label(), ": the target ", t.toString(), " holds class indices",
               target.classes > 0 ? strCat(" 0..", target.classes - 1) : std::string(),
               " (one channel), but this loss compares the prediction's ",
               channelsText(p.shape.channels()), " (", p.toString(),
               ") with a target of as many channels (",
               schema.contract->layout == TargetLayout::OneHot ? "one-hot" : "per-channel values",
               "). ", kSparseCategoricalCrossentropyOp,
               " reads class indices as they are; rescaling or casting them, or a 1-channel "
               "sigmoid head, would throw the classes away"));
    d.fixes.push_back(classIndexLossFix(ctx.graph(), ctx.node(), target.classes));
    return true;
}

void checkChannels(InferContext& ctx, bool& ok) {
    const OpSchema& schema = ctx.schema();
    const Shape& p = ctx.input(0).shape;
    const Shape& t = ctx.input(1).shape;
    const TargetLayout layout = schema.contract->layout;
    std::int64_t wantTarget = p.channels();
    std::string rule;
    if (schema.role == OpRole::Metric) {
        if (p.channels() > 1 && (t.channels() == 1 || t.channels() == p.channels()))
            return;
        rule = p.channels() == 1 ? "a 1-channel prediction is compared with a 1-channel mask"
                                 : "the target must hold class indices (1 channel) or one-hot";
        wantTarget = 1;
    } else if (layout == TargetLayout::ClassIndex) {
        wantTarget = 1;
        rule = "the target must hold one class index per pixel (1 channel)";
        if (p.channels() < 2) {
            ok = false;
            auto& d = ctx.error(codes::kLossChannelMismatch, "prediction",
                                strCat(ctx.label(), ": the prediction has 1 channel, but a "
                                                    "categorical loss needs one channel per class "
                                                    "(at least 2). For one foreground class use "
                                                    "BinaryCrossentropy."));
            d.fixes.push_back({"Change '" + ctx.node().name + "' to BinaryCrossentropy",
                               changeOpEdits(ctx.node(), kBinaryCrossentropyOp)});
            return;
        }
    } else if (layout == TargetLayout::OneHot) {
        rule = "the target must be one-hot with one channel per class";
    } else {
        rule = "prediction and target must have the same channels";
    }
    if (t.channels() == wantTarget)
        return;
    ok = false;
    auto& d =
        ctx.error(codes::kLossChannelMismatch, "target",
                  strCat(ctx.label(), ": the prediction has ", channelsText(p.channels()), " (",
                         ctx.input(0).toString(), "), the target has ", channelsText(t.channels()),
                         " (", ctx.input(1).toString(), ") — ", rule));
    if (layout == TargetLayout::ClassIndex && t.channels() == p.channels()) {
        d.fixes.push_back(
            {"Change '" + ctx.node().name + "' to CategoricalCrossentropy (one-hot target)",
             changeOpEdits(ctx.node(), kCategoricalCrossentropyOp)});
        return;
    }
    // Make the network predict as many channels as the target has.
    const Node* producer = producerOfInput(ctx, 0, true);
    if (producer && traitsOf(*producer).activation == ActivationUse::Only) {
        auto up = ctx.graph().producerOf({producer->id, "input"});
        producer = up ? ctx.graph().findNode(up->node) : nullptr;
    }
    if (producer && traitsOf(*producer).filtersSetChannels && schema.role != OpRole::Metric) {
        d.fixes.push_back({strCat("Set filters=", t.channels(), " on '", producer->name, "'"),
                           {SetAttributeEdit{producer->id, "filters", AttrValue{t.channels()}}}});
    }
}

} // namespace

std::vector<PortSpec> predictionTargetPorts(const std::vector<DType>& targetDTypes) {
    return {{"prediction", kFloatOnly, "the network output"},
            {"target", targetDTypes, "the ground-truth mask"}};
}

void checkDiceEpsilon(InferContext& ctx) {
    if (ctx.getFloat("epsilon") > 0)
        return;
    auto& d = ctx.warning(codes::kDiceNoEpsilon, "",
                          strCat(ctx.label(), " has epsilon = 0: on an image whose mask and "
                                              "prediction are both empty the ratio is 0/0 and the "
                                              "loss becomes NaN"));
    d.fixes.push_back({"Set epsilon=1e-6 on '" + ctx.node().name + "'",
                       {SetAttributeEdit{ctx.node().id, "epsilon", AttrValue{1e-6}}}});
}

const Node* maskDatasetOf(const Graph& graph, const PortRef& from) {
    PortRef at = from;
    for (int guard = 0; guard < 64; ++guard) {
        const Node* node = graph.findNode(at.node);
        if (!node)
            return nullptr;
        const OpTraits& traits = traitsOf(*node);
        if (traits.readsDataset)
            return at.port == "mask" ? node : nullptr;
        if (!traits.convertsData)
            return nullptr;
        auto up = graph.producerOf({node->id, "input"});
        if (!up)
            return nullptr;
        at = *up;
    }
    return nullptr;
}

ClassIndexTarget classIndexTarget(const Graph& graph, const PortRef& from,
                                  const TensorType& target) {
    if (target.shape.rank() == 4 && target.shape.channels() != 1)
        return {};
    const bool integral = target.range && target.range->lo >= 0 &&
                          std::floor(target.range->lo) == target.range->lo &&
                          std::floor(target.range->hi) == target.range->hi;
    const double hi = target.range ? target.range->hi : 0;
    // 0/255 and 0/65535 are binary masks at full scale, not 256 or 65536 classes.
    const bool fullScale = hi == 255 || hi == 65535;
    std::string mode;
    if (const Node* dataset = maskDatasetOf(graph, from)) {
        auto v = resolvedAttr(*dataset, "mask_mode");
        mode = v && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : "";
    }
    if (mode == "binary")
        return {};
    const std::int64_t classes =
        integral && !fullScale && hi <= 65535 ? static_cast<std::int64_t>(hi) + 1 : 0;
    if (mode == "class_index" || mode == "palette")
        return {true, classes};
    if (integral && !fullScale && hi >= 2 && hi <= 4096)
        return {true, classes};
    return {};
}

FixIt classIndexLossFix(const Graph& graph, const Node& loss, std::int64_t classes,
                        std::int64_t ignoreClass) {
    FixIt fix;
    fix.rank = FixRank::Cause;
    fix.edits = changeOpEdits(loss, kSparseCategoricalCrossentropyOp);
    std::string also;
    if (ignoreClass >= 0) {
        fix.edits.push_back(SetAttributeEdit{loss.id, "ignore_class", AttrValue{ignoreClass}});
        also += strCat("; ignore_class=", ignoreClass, " (the void label)");
    }

    // The prediction: a softmax over the classes (or logits the loss softmaxes).
    auto p = graph.producerOf({loss.id, "prediction"});
    const Node* made = p ? graph.findNode(p->node) : nullptr;
    for (int guard = 0; made && guard < 64 && traitsOf(*made).passThrough; ++guard) {
        auto up = graph.producerOf({made->id, "input"});
        made = up ? graph.findNode(up->node) : nullptr;
    }
    const Node* head = made;
    if (made && traitsOf(*made).activation != ActivationUse::None) {
        auto v = resolvedAttr(*made, "activation");
        const std::string activation =
            v && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : "";
        if (activation == "linear" && traitsOf(*made).activation == ActivationUse::Fused) {
            fix.edits.push_back(SetAttributeEdit{loss.id, "from_logits", AttrValue{true}});
            also += strCat("; from_logits=true (the output of '", made->name, "' is linear)");
        } else if (activation != "softmax") {
            fix.edits.push_back(
                SetAttributeEdit{made->id, "activation", AttrValue{std::string("softmax")}});
            also += strCat("; activation='softmax' on '", made->name, "'");
        }
        if (traitsOf(*made).activation == ActivationUse::Only) {
            auto up = graph.producerOf({made->id, "input"});
            head = up ? graph.findNode(up->node) : nullptr;
        }
    } else if (made) {
        fix.edits.push_back(SetAttributeEdit{loss.id, "from_logits", AttrValue{true}});
        also += strCat("; from_logits=true ('", made->name, "' gives logits)");
    }
    if (head && traitsOf(*head).filtersSetChannels && classes > 0) {
        auto v = resolvedAttr(*head, "filters");
        if (v && std::holds_alternative<std::int64_t>(*v) && std::get<std::int64_t>(*v) < classes) {
            fix.edits.push_back(SetAttributeEdit{head->id, "filters", AttrValue{classes}});
            also += strCat("; filters=", classes, " on '", head->name, "' (one per class)");
        }
    }

    // The target: indices must reach the loss as integers, so a Cast or
    // Rescale between the Dataset's mask and the loss goes.
    if (auto t = graph.producerOf({loss.id, "target"}); t && maskDatasetOf(graph, *t)) {
        std::vector<const Node*> chain;
        PortRef origin = *t;
        while (!traitsOf(*graph.findNode(origin.node)).readsDataset && chain.size() < 64) {
            chain.push_back(graph.findNode(origin.node));
            origin = *graph.producerOf({origin.node, "input"});
        }
        if (!chain.empty()) {
            // Remove each converter that feeds nothing else; the first one that
            // does (a metric reads it too) stays and is only disconnected.
            std::string removed;
            PortRef consumer{loss.id, "target"};
            for (const Node* n : chain) {
                std::size_t uses = 0;
                for (const Edge& e : graph.edges())
                    uses += e.from.node == n->id ? 1 : 0;
                if (uses != 1) {
                    if (consumer.node == loss.id) // else the removed node took the edge along
                        fix.edits.push_back(
                            DisconnectEdit{{*graph.producerOf(consumer), consumer}});
                    break;
                }
                fix.edits.push_back(RemoveNodeEdit{n->id});
                removed += strCat(removed.empty() ? "'" : ", '", n->name, "'");
                consumer = {n->id, "input"};
            }
            fix.edits.push_back(ConnectEdit{{origin, {loss.id, "target"}}});
            const Node* data = graph.findNode(origin.node);
            also += strCat("; its target straight from '", data->name, "'.", origin.port,
                           removed.empty() ? std::string() : strCat(" (removes ", removed, ")"));
        }
    }
    fix.description = strCat("Change '", loss.name, "' to ", kSparseCategoricalCrossentropyOp,
                             ", which reads the masks' class indices as they are", also);
    fix.reason = classes > 0 ? strCat("the masks hold class indices 0..", classes - 1, " (",
                                      classes, " classes), not per-channel probabilities")
                             : std::string("the masks hold class indices, not per-channel "
                                           "probabilities");
    return fix;
}

InferResult inferPredictionTarget(InferContext& ctx) {
    if (!requireImage(ctx, 0) || !requireImage(ctx, 1))
        return {std::nullopt};
    const TensorType& p = ctx.input(0);
    const TensorType& t = ctx.input(1);
    bool ok = true;

    if (p.shape.height() != t.shape.height() || p.shape.width() != t.shape.width()) {
        ok = false;
        auto& d = ctx.error(
            codes::kLossShapeMismatch, "prediction",
            strCat(ctx.label(), ": the prediction is ", p.shape.height(), "×", p.shape.width(),
                   " (", p.toString(), ") but the target is ", t.shape.height(), "×",
                   t.shape.width(), " (", t.toString(),
                   ") — they are compared pixel by pixel, so height and width must match. "
                   "TensorFlow: \"Incompatible shapes\""));
        const bool predSmaller =
            p.shape.height() <= t.shape.height() && p.shape.width() <= t.shape.width();
        if (predSmaller && ctx.inputEdge(0)) {
            auto convs = shrinkingConvolutionsUpstream(ctx.graph(), ctx.inputEdge(0)->from.node);
            if (!convs.empty()) {
                FixIt fix;
                std::string names;
                for (const Node* c : convs) {
                    fix.edits.push_back(
                        SetAttributeEdit{c->id, "padding", AttrValue{std::string("same")}});
                    names += (names.empty() ? "'" : ", '") + c->name + "'";
                }
                fix.description = strCat("Set padding='same' on the ", convs.size(),
                                         convs.size() == 1 ? " convolution that shrinks"
                                                           : " convolutions that shrink",
                                         " the image: ", names);
                d.fixes.push_back(std::move(fix));
            }
        }
        // Otherwise crop whichever is larger (the valid-padding U-Net approach).
        if (predSmaller ||
            (p.shape.height() >= t.shape.height() && p.shape.width() >= t.shape.width())) {
            const int small = predSmaller ? 0 : 1;
            const int large = predSmaller ? 1 : 0;
            const Shape& s = ctx.input(small).shape;
            const Shape& l = ctx.input(large).shape;
            const std::int64_t dh = l.height() - s.height();
            const std::int64_t dw = l.width() - s.width();
            const std::vector<std::int64_t> crop{dh / 2, dh - dh / 2, dw / 2, dw - dw / 2};
            d.fixes.push_back(insertOnInputFix(
                ctx, large, makeNode(kCropping2DOp, "crop", {{"cropping", crop}}),
                strCat("Insert Cropping2D(", attrToString(crop), ") on the ", ctx.inputName(large),
                       " (", l.height(), "×", l.width(), " → ", s.height(), "×", s.width(), ")")));
        }
    }
    if (!checkClassIndexTarget(ctx, ok)) {
        checkChannels(ctx, ok);
        if (ctx.schema().role == OpRole::Loss)
            checkPredictionKind(ctx, ok);
    }
    if (!ok)
        return {std::nullopt};
    return {TensorType{Shape::scalar(), DType::Float32}};
}

} // namespace segforge::core::ops
