#include "check/training_rules.hpp"

#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <unordered_map>
#include <vector>

namespace segforge::core {
namespace {

std::string nodeRef(const Node& n) {
    return strCat(n.op, " '", n.name, "'");
}

Diagnostic& add(CheckResult& r, Severity sev, std::string_view code, NodeId node, std::string port,
                std::string message) {
    r.diagnostics.push_back(
        {sev, std::string(code), node, std::move(port), std::move(message), {}});
    return r.diagnostics.back();
}

std::int64_t intAttr(const Node& node, std::string_view name) {
    auto v = ops::resolvedAttr(node, name);
    return v && std::holds_alternative<std::int64_t>(*v) ? std::get<std::int64_t>(*v) : 0;
}

bool hasError(const CheckResult& r, NodeId node) {
    return std::any_of(r.diagnostics.begin(), r.diagnostics.end(), [&](const Diagnostic& d) {
        return d.node == node && d.severity == Severity::Error;
    });
}

// ---- dice-only-loss ------------------------------------------------------

/// `dice`: the graph's Dice node when it has exactly one loss and that is it.
void checkDiceOnly(const Graph& graph, const Node* dice, CheckResult& r) {
    // A loss with an error is repaired first (class-index masks change the loss anyway).
    if (!dice || hasError(r, dice->id))
        return;
    auto producer = graph.producerOf({dice->id, "prediction"});
    auto prediction = producer ? r.typeOf(*producer) : std::nullopt;
    const bool softmax = prediction && prediction->kind == ValueKind::Distribution &&
                         prediction->shape.rank() == 4 && prediction->shape.channels() > 1;
    const std::string why =
        strCat(nodeRef(*dice),
               " is the graph's only loss. Dice alone trains poorly on small structures (a few "
               "pixels swing the ratio) and is unstable early, while predictions are near 0; "
               "nnU-Net's maintainers pair it with cross-entropy for that reason");
    auto& d = add(
        r, Severity::Info, codes::kDiceOnlyLoss, dice->id, "",
        softmax ? strCat(why, ". For this ", prediction->shape.channels(),
                         "-class softmax prediction add a ", ops::kCategoricalCrossentropyOp,
                         " on the same prediction and one-hot target (or a ",
                         ops::kSparseCategoricalCrossentropyOp,
                         " on class-index masks); SegForge's trainer sums the losses, "
                         "the exported scripts train with one")
                : strCat(why, ": ", ops::kBCEDiceOp, " is cross-entropy plus Dice in one loss"));
    if (softmax)
        return;
    d.fixes.push_back({strCat("Change '", dice->name, "' to ", ops::kBCEDiceOp,
                              " (bce_weight=1 · cross-entropy + dice_weight=1 · Dice, same "
                              "epsilon and wiring)"),
                       ops::changeOpEdits(*dice, ops::kBCEDiceOp), FixRank::Direct,
                       "the combined loss keeps Dice and adds cross-entropy's stable gradients"});
}

// ---- batch sizes -----------------------------------------------------------

/// Each node's batch source (the first upstream source in dependency order).
std::unordered_map<NodeId, NodeId> batchSources(const Graph& graph, const CheckResult& r) {
    std::unordered_map<NodeId, std::vector<NodeId>> successors;
    for (const Edge& e : graph.edges())
        successors[e.from.node].push_back(e.to.node);
    std::unordered_map<NodeId, NodeId> source;
    for (NodeId id : r.order) {
        const Node& node = *graph.findNode(id);
        const OpSchema* s = OpRegistry::builtin().find(node.op);
        if (s && s->role == OpRole::Source)
            source.emplace(id, id);
        auto it = source.find(id);
        if (it == source.end())
            continue;
        for (NodeId next : successors[id])
            source.emplace(next, it->second);
    }
    return source;
}

/// The batch size nearest `e.batchSize` (smaller first on a tie) whose last
/// batch over all pairs is not a single sample; nullopt when none is.
std::optional<std::int64_t> batchWithoutLoneSample(const EpochBatches& e) {
    for (std::int64_t d = 1; d <= e.pairs; ++d) {
        for (std::int64_t c : {e.batchSize - d, e.batchSize + d}) {
            if (c >= 2 && c <= e.pairs && e.pairs % c != 1)
                return c;
        }
    }
    return std::nullopt;
}

FixIt batchSizeFix(const Node& source, std::int64_t size, const EpochBatches* e) {
    std::string detail;
    if (e) {
        const std::int64_t full = e->pairs / size;
        const std::int64_t rest = e->pairs % size;
        detail = strCat(" (", e->pairs, " pairs = ", full, "×", size,
                        rest ? strCat(" + ", rest) : std::string(), ")");
    }
    return {strCat("Set batch_size=", size, " on '", source.name, "'", detail),
            {SetAttributeEdit{source.id, "batch_size", AttrValue{size}}},
            FixRank::Direct,
            "no training batch then holds a single sample"};
}

struct SourceBatches {
    const Node* node = nullptr;
    std::int64_t batch = 0; ///< 0: not fixed (an Input without batch_size)
    std::optional<EpochBatches> epoch;
};

SourceBatches sourceBatches(const Node& source, const CheckOptions& options) {
    SourceBatches s{&source, intAttr(source, "batch_size"), std::nullopt};
    if (!ops::traitsOf(source).readsDataset || s.batch <= 0)
        return s;
    auto it = options.dataProbes.find(source.id);
    if (it == options.dataProbes.end())
        return s;
    const DataProbe& p = it->second;
    if (!p.folderError.empty() || p.pairCount == 0 || p.badPairs >= p.pairCount)
        return s;
    // on_error='skip' leaves unreadable pairs out before the split; 'stop' keeps them.
    auto onError = ops::resolvedAttr(source, "on_error");
    const bool stop = onError && std::get<std::string>(*onError) == "stop";
    const auto pairs = static_cast<std::int64_t>(p.pairCount);
    const auto readable = static_cast<std::int64_t>(stop ? p.pairCount : p.pairCount - p.badPairs);
    s.epoch = epochBatches(pairs, readable, options.validationSplit, s.batch);
    return s;
}

/// The producer of `bn`'s input when it is a pooling that makes the map 1×1
/// from a larger one and feeds nothing else: BatchNorm can move before it.
std::optional<FixIt> moveBeforePooling(const Graph& graph, const CheckResult& r, const Node& bn) {
    auto in = graph.producerOf({bn.id, "input"});
    const Node* pool = in ? graph.findNode(in->node) : nullptr;
    if (!pool || ops::traitsOf(*pool).resampling != Resampling::Down)
        return std::nullopt;
    auto poolIn = graph.producerOf({pool->id, "input"});
    auto before = poolIn ? r.typeOf(*poolIn) : std::nullopt;
    if (!before || before->shape.rank() != 4 || before->shape.height() * before->shape.width() < 2)
        return std::nullopt;
    std::vector<Edge> bnOut;
    for (const Edge& e : graph.edges()) {
        if (e.from.node == pool->id && e.to.node != bn.id)
            return std::nullopt; // another consumer would see normalised values
        if (e.from.node == bn.id)
            bnOut.push_back(e);
    }
    const Edge intoPool{*poolIn, {pool->id, "input"}};
    const Edge poolToBn{*in, {bn.id, "input"}};
    EditScript edits{DisconnectEdit{intoPool}, DisconnectEdit{poolToBn}};
    for (const Edge& e : bnOut)
        edits.push_back(DisconnectEdit{e});
    edits.push_back(ConnectEdit{{*poolIn, {bn.id, "input"}}});
    edits.push_back(ConnectEdit{{{bn.id, "output"}, {pool->id, "input"}}});
    for (const Edge& e : bnOut)
        edits.push_back(ConnectEdit{{*in, e.to}});
    return FixIt{strCat("Move '", bn.name, "' before '", pool->name, "' (it then normalises the ",
                        before->shape.height(), "×", before->shape.width(), " map)"),
                 std::move(edits), FixRank::Cause,
                 strCat("'", pool->name, "' makes the map 1×1; before it there are ",
                        before->shape.height() * before->shape.width(),
                        " values per channel and image")};
}

/// batchnorm-single-value for every BatchNormalization on a 1×1 map that some
/// training batch of one sample reaches. Returns the sources whose lone last
/// batch it reported, so batchnorm-partial-batch does not say it again.
std::vector<NodeId> checkSingleValue(const Graph& graph, const CheckOptions& options,
                                     const std::unordered_map<NodeId, NodeId>& sources,
                                     CheckResult& r) {
    std::vector<NodeId> covered;
    for (NodeId id : r.order) {
        const Node& bn = *graph.findNode(id);
        if (!ops::traitsOf(bn).batchStatistics)
            continue;
        auto in = graph.producerOf({id, "input"});
        auto t = in ? r.typeOf(*in) : std::nullopt;
        auto src = sources.find(id);
        if (!t || t->shape.rank() != 4 || t->shape.height() != 1 || t->shape.width() != 1 ||
            src == sources.end())
            continue;
        const Node& sourceNode = *graph.findNode(src->second);
        const SourceBatches s = sourceBatches(sourceNode, options);
        std::string when;
        bool byData = false;
        bool scriptsOnly = false; // SegForge's own training never sees the batch of one
        if (s.batch == 1) {
            when = strCat("batch_size 1 ('", sourceNode.name, "'.batch_size)");
        } else if (s.epoch && s.epoch->smallest == 1) {
            when = strCat("a training split of one sample (", s.epoch->pairs,
                          " pairs, validation_split ", formatNumber(options.validationSplit),
                          ") every training batch is one sample, and");
            byData = true;
        } else if (s.epoch && s.epoch->scriptLast == 1) {
            when = strCat(s.epoch->pairs, " pairs in batches of ", s.batch,
                          " the exported Keras training script's last batch of each epoch is one "
                          "sample (SegForge's trainer and the exported PyTorch script drop it), "
                          "and");
            byData = true;
            scriptsOnly = true;
        } else {
            continue;
        }
        if (byData)
            covered.push_back(sourceNode.id);
        auto& d = add(r, scriptsOnly ? Severity::Warning : Severity::Error,
                      codes::kBatchNormSingleValue, id, "input",
                      strCat(nodeRef(bn), " normalises a ", t->toString(), " map: with ", when,
                             " it sees N·H·W = 1 value per channel while training. The batch "
                             "variance is then 0 and its output is beta whatever the input "
                             "(Keras; SegForge computes the same), so nothing before it learns "
                             "through it; PyTorch refuses the batch: \"Expected more than 1 "
                             "value per channel when training\""));
        if (auto move = moveBeforePooling(graph, r, bn))
            d.fixes.push_back(std::move(*move));
        if (s.batch == 1 || (s.epoch && s.epoch->scriptLast == 1 && s.epoch->smallest != 1)) {
            std::optional<EpochBatches> e = s.epoch;
            if (e && s.batch == 1)
                e->batchSize = 8;
            std::optional<std::int64_t> size =
                e ? batchWithoutLoneSample(*e) : std::optional<std::int64_t>(8);
            if (size)
                d.fixes.push_back(batchSizeFix(sourceNode, *size, e ? &*e : nullptr));
        }
    }
    return covered;
}

void checkPartialBatch(const Graph& graph, const CheckOptions& options,
                       const std::unordered_map<NodeId, NodeId>& sources,
                       const std::vector<NodeId>& covered, CheckResult& r) {
    std::unordered_map<NodeId, std::vector<const Node*>> batchNorms; // by source
    for (NodeId id : r.order) {
        const Node& node = *graph.findNode(id);
        auto src = sources.find(id);
        if (ops::traitsOf(node).batchStatistics && src != sources.end())
            batchNorms[src->second].push_back(&node);
    }
    for (const auto& [sourceId, bns] : batchNorms) {
        if (std::find(covered.begin(), covered.end(), sourceId) != covered.end())
            continue;
        const Node& source = *graph.findNode(sourceId);
        const SourceBatches s = sourceBatches(source, options);
        // Batch size 1 is batchnorm-small-batch's; without data the count is unknown.
        if (!s.epoch || s.batch < 2)
            continue;
        const EpochBatches& e = *s.epoch;
        std::string names = strCat("'", bns.front()->name, "'");
        if (bns.size() > 1)
            names += strCat(" and ", bns.size() - 1, " more");
        const std::string stats =
            strCat(": BatchNormalization then normalises with one image's statistics, which "
                   "are noisy and pull its moving averages away from what inference uses (",
                   names, ")");
        if (e.smallest == 1) {
            add(r, Severity::Warning, codes::kBatchNormPartialBatch, source.id, "",
                strCat("Dataset '", source.name, "': its training split holds one sample (",
                       e.pairs, " pairs, validation_split ", formatNumber(options.validationSplit),
                       " keeps the rest for validation), so every training batch is that one "
                       "sample",
                       stats,
                       ". No batch size changes that: lower validation_split in the training "
                       "settings or add data"));
            continue;
        }
        if (e.scriptLast != 1)
            continue; // SegForge's trainer drops its own partial batch
        const std::int64_t dropped = e.train >= e.batchSize ? e.train % e.batchSize : 0;
        auto& d = add(
            r, Severity::Warning, codes::kBatchNormPartialBatch, source.id, "",
            strCat("Dataset '", source.name, "': ", e.pairs, " pairs in batches of ", e.batchSize,
                   " leave a last batch of 1 sample in each epoch of the exported Keras "
                   "training script, which batches every pair and keeps the last batch",
                   stats,
                   ". SegForge's own trainer and the exported PyTorch script drop an epoch's "
                   "last partial batch (of its ",
                   e.train, "-sample training split, ", dropped,
                   dropped == 1 ? " sample sits out each epoch, a different one each time"
                                : " samples sit out each epoch, different ones each time",
                   "), so they are not affected"));
        if (auto size = batchWithoutLoneSample(e))
            d.fixes.push_back(batchSizeFix(source, *size, &e));
    }
}

} // namespace

EpochBatches epochBatches(std::int64_t pairs, std::int64_t readable, double validationSplit,
                          std::int64_t batchSize) {
    // As ImageFolderSource splits and batches.
    EpochBatches e;
    e.pairs = pairs;
    e.batchSize = std::max<std::int64_t>(1, batchSize);
    if (readable <= 0)
        return e;
    auto validation =
        static_cast<std::int64_t>(std::lround(validationSplit * static_cast<double>(readable)));
    if (validationSplit > 0 && validation == 0 && readable >= 2)
        validation = 1;
    validation = std::min(validation, readable - 1);
    e.train = readable - validation;
    e.smallest = std::min(e.train, e.batchSize);
    e.scriptLast = pairs % e.batchSize == 0 ? std::min(pairs, e.batchSize) : pairs % e.batchSize;
    return e;
}

void checkTrainingRules(const Graph& graph, const CheckOptions& options, CheckResult& result) {
    // One pass over the nodes (a schema lookup each): this runs on every re-check.
    const Node* dice = nullptr;
    int losses = 0;
    std::vector<NodeId> batchNorms;
    for (const auto& [id, node] : graph.nodes()) {
        const OpSchema* s = OpRegistry::builtin().find(node.op);
        if (!s)
            continue;
        if (s->role == OpRole::Loss) {
            ++losses;
            if (node.op == ops::kDiceOp)
                dice = &node;
        }
        if (s->traits.batchStatistics)
            batchNorms.push_back(id);
    }
    checkDiceOnly(graph, losses == 1 ? dice : nullptr, result);
    if (batchNorms.empty())
        return;
    // Without probed data only a BatchNorm on a 1×1 map can be a finding.
    if (options.dataProbes.empty()) {
        std::sort(batchNorms.begin(), batchNorms.end());
        const bool oneByOne =
            std::any_of(graph.edges().begin(), graph.edges().end(), [&](const Edge& e) {
                if (e.to.port != "input" ||
                    !std::binary_search(batchNorms.begin(), batchNorms.end(), e.to.node))
                    return false;
                auto t = result.typeOf(e.from);
                return t && t->shape.rank() == 4 && t->shape.height() == 1 && t->shape.width() == 1;
            });
        if (!oneByOne)
            return;
    }
    const auto sources = batchSources(graph, result);
    const std::vector<NodeId> covered = checkSingleValue(graph, options, sources, result);
    checkPartialBatch(graph, options, sources, covered, result);
}

} // namespace segforge::core
