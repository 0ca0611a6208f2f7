#include "ops/loss_common.hpp"

#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

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
    if (hasLogitsFlag && ctx.getBool("from_logits"))
        return;
    const TensorType& p = ctx.input(0);
    const ValueKind want = schema.contract->prediction;
    const Node* producer = producerOfInput(ctx, 0, true);
    const std::string from = producer ? strCat(" from '", producer->name, "'") : std::string();

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
            } else {
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
        if (p.kind == ValueKind::Probability && p.shape.channels() > 1) {
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
                               {SetOpEdit{ctx.node().id, kBinaryCrossentropyOp}}});
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
             {SetOpEdit{ctx.node().id, kCategoricalCrossentropyOp}}});
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
    checkChannels(ctx, ok);
    if (ctx.schema().role == OpRole::Loss)
        checkPredictionKind(ctx, ok);
    if (!ok)
        return {std::nullopt};
    return {TensorType{Shape::scalar(), DType::Float32}};
}

} // namespace segforge::core::ops
